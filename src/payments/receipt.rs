//! Fiscal receipts (54-FZ) for provider invoices. A Russian shop paid by card must register a
//! receipt with an online cash register; with Telegram Payments the provider does it from the
//! invoice's `provider_data.receipt` (ЮKassa's format: items with description, quantity, unit
//! amount, VAT code, payment subject and mode; the shop's tax system) and from the e-mail or
//! phone Telegram passes on (`need_email` + `send_email_to_provider`).
//!
//! The provider refuses a receipt whose items do not add up to the payment to the kopeck. An
//! order's lines always do (price × quantity); when the invoice total differs from them (an
//! order-level discount from the backend), the difference is spread over the lines in
//! proportion and a line whose new total does not divide by its quantity is split in two
//! items (units at the lower price, the rest one kopeck dearer), as providers ask. A receipt
//! that still cannot match is refused, never sent wrong.

use serde_json::{Value, json};

use crate::config::{ReceiptConfig, ReceiptContact};

/// ЮKassa's `payment_subject` values.
pub const PAYMENT_SUBJECTS: &[&str] = &[
    "commodity",
    "excise",
    "job",
    "service",
    "gambling_bet",
    "gambling_prize",
    "lottery",
    "lottery_prize",
    "intellectual_activity",
    "payment",
    "agent_commission",
    "composite",
    "another",
];

/// ЮKassa's `payment_mode` values.
pub const PAYMENT_MODES: &[&str] = &[
    "full_prepayment",
    "partial_prepayment",
    "advance",
    "full_payment",
    "partial_payment",
    "credit",
    "credit_payment",
];

/// Items a receipt may hold (ЮKassa: 100; a provider with a lower limit refuses more).
pub const MAX_ITEMS: usize = 100;
/// Characters of an item's description (ЮKassa: 128).
const MAX_DESCRIPTION: usize = 128;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReceiptError {
    #[error("the receipt cannot match the invoice: lines total {lines}, invoice {invoice}")]
    Mismatch { lines: i64, invoice: i64 },
    #[error("the receipt would have {0} items; providers take at most {MAX_ITEMS}")]
    TooManyItems(usize),
    #[error("the order has no lines to put on a receipt")]
    Empty,
}

/// One order line as the receipt sees it.
#[derive(Debug, Clone)]
pub struct Line {
    pub description: String,
    /// Minor units.
    pub unit_price: i64,
    pub quantity: i64,
    /// ЮKassa's VAT code.
    pub vat_code: u8,
}

/// A receipt item: `quantity` units at `unit_price` minor units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub description: String,
    pub unit_price: i64,
    pub quantity: i64,
    pub vat_code: u8,
    pub service: bool,
}

/// ЮKassa's VAT code for a rate as the catalog states it (`none`, `0`, `5`, `7`, `10`, `20`,
/// `22`); None for anything else (the configured code is used).
pub fn vat_code_of(rate: &str) -> Option<u8> {
    match rate.trim().trim_end_matches('%') {
        "none" | "" => Some(1),
        "0" => Some(2),
        "10" => Some(3),
        "20" => Some(4),
        "5" => Some(7),
        "7" => Some(8),
        "22" => Some(11),
        _ => None,
    }
}

/// The items of a receipt for `lines` plus `delivery` (minor units, if charged) adding up to
/// exactly `invoice`.
pub fn items(
    lines: &[Line],
    delivery: Option<(String, i64, u8)>,
    invoice: i64,
) -> Result<Vec<Item>, ReceiptError> {
    let goods: Vec<&Line> = lines.iter().filter(|l| l.quantity > 0).collect();
    if goods.is_empty() {
        return Err(ReceiptError::Empty);
    }
    let delivery_amount = delivery.as_ref().map_or(0, |d| d.1);
    let totals: Vec<i64> = goods.iter().map(|l| l.unit_price * l.quantity).collect();
    let lines_total: i64 = totals.iter().sum();
    let target = invoice - delivery_amount;
    let mismatch = || ReceiptError::Mismatch {
        lines: lines_total + delivery_amount,
        invoice,
    };
    if target <= 0 || lines_total <= 0 {
        return Err(mismatch());
    }
    // Each line's share of `target`, largest remainders first, so the shares add up exactly.
    let mut shares: Vec<i64> = Vec::with_capacity(totals.len());
    let mut remainders: Vec<(i128, usize)> = Vec::with_capacity(totals.len());
    for (i, &t) in totals.iter().enumerate() {
        let exact = i128::from(t) * i128::from(target);
        let share = exact / i128::from(lines_total);
        shares.push(share as i64);
        remainders.push((exact % i128::from(lines_total), i));
    }
    let mut left = target - shares.iter().sum::<i64>();
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, i) in remainders {
        if left == 0 {
            break;
        }
        shares[i] += 1;
        left -= 1;
    }
    let mut out = Vec::new();
    for (line, total) in goods.iter().zip(shares) {
        let q = line.quantity;
        let description: String = line.description.chars().take(MAX_DESCRIPTION).collect();
        let (unit, extra) = (total / q, total % q);
        if unit <= 0 && extra == 0 {
            return Err(mismatch());
        }
        if q - extra > 0 && unit > 0 {
            out.push(Item {
                description: description.clone(),
                unit_price: unit,
                quantity: q - extra,
                vat_code: line.vat_code,
                service: false,
            });
        } else if q - extra > 0 {
            // A zero-priced unit is no receipt item.
            return Err(mismatch());
        }
        if extra > 0 {
            out.push(Item {
                description,
                unit_price: unit + 1,
                quantity: extra,
                vat_code: line.vat_code,
                service: false,
            });
        }
    }
    if let Some((name, amount, vat)) = delivery
        && amount > 0
    {
        out.push(Item {
            description: name.chars().take(MAX_DESCRIPTION).collect(),
            unit_price: amount,
            quantity: 1,
            vat_code: vat,
            service: true,
        });
    }
    if out.len() > MAX_ITEMS {
        return Err(ReceiptError::TooManyItems(out.len()));
    }
    let sum: i64 = out.iter().map(|i| i.unit_price * i.quantity).sum();
    if sum != invoice {
        return Err(mismatch());
    }
    Ok(out)
}

/// The VAT rates the catalog states for these offers (`offer_vat`), by offer id.
pub async fn vat_rates(
    store: &crate::store::Store,
    offers: &[&str],
) -> Result<std::collections::HashMap<String, String>, crate::store::StoreError> {
    let mut out = std::collections::HashMap::new();
    for id in offers {
        let row = sqlx::query("SELECT vat FROM offer_vat WHERE offer_id = $1")
            .bind(*id)
            .fetch_optional(store.pool())
            .await?;
        if let Some(r) = row {
            out.insert(id.to_string(), sqlx::Row::try_get(&r, 0)?);
        }
    }
    Ok(out)
}

/// `123.45` from 12345 minor units.
fn decimal(minor: i64) -> String {
    format!("{}.{:02}", minor / 100, minor % 100)
}

/// The invoice's `provider_data` (as the object; the Bot API takes it serialized).
pub fn provider_data(config: &ReceiptConfig, items: &[Item], currency: &str) -> Value {
    let items: Vec<Value> = items
        .iter()
        .map(|i| {
            json!({
                "description": i.description,
                "quantity": format!("{}.00", i.quantity),
                "amount": {"value": decimal(i.unit_price), "currency": currency},
                "vat_code": i.vat_code,
                "payment_mode": config.payment_mode,
                "payment_subject": if i.service { "service" } else { config.payment_subject.as_str() },
            })
        })
        .collect();
    let mut receipt = json!({ "items": items });
    if let Some(code) = config.tax_system_code {
        receipt["tax_system_code"] = code.into();
    }
    json!({ "receipt": receipt })
}

/// Adds the receipt and the contact request to `createInvoiceLink` parameters.
pub fn attach(params: &mut Value, config: &ReceiptConfig, items: &[Item], currency: &str) {
    params["provider_data"] = provider_data(config, items, currency).to_string().into();
    match config.customer_contact {
        ReceiptContact::Email => {
            params["need_email"] = true.into();
            params["send_email_to_provider"] = true.into();
        }
        ReceiptContact::Phone => {
            params["need_phone_number"] = true.into();
            params["send_phone_number_to_provider"] = true.into();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(price: i64, q: i64) -> Line {
        Line {
            description: format!("item {price}"),
            unit_price: price,
            quantity: q,
            vat_code: 1,
        }
    }

    fn sum(items: &[Item]) -> i64 {
        items.iter().map(|i| i.unit_price * i.quantity).sum()
    }

    #[test]
    fn one_item_a_line_when_the_lines_add_up() {
        let items = items(
            &[line(10_000, 2), line(5_050, 1)],
            Some(("Доставка".into(), 39_000, 1)),
            64_050,
        )
        .unwrap();
        assert_eq!(items.len(), 3);
        assert_eq!(items[0].quantity, 2);
        assert_eq!(items[0].unit_price, 10_000);
        assert!(items[2].service);
        assert_eq!(sum(&items), 64_050);
    }

    #[test]
    fn a_discount_is_spread_and_lines_split_to_the_kopeck() {
        // 3 × 100.00 + 1 × 50.00, paid 333.33: no unit price gives 3 equal units.
        let items = items(&[line(10_000, 3), line(5_000, 1)], None, 33_333).unwrap();
        assert_eq!(sum(&items), 33_333);
        assert!(items.len() >= 3, "{items:?}");
        for i in &items {
            assert!(i.unit_price > 0 && i.quantity > 0);
        }
    }

    #[test]
    fn a_receipt_that_cannot_match_is_refused() {
        assert!(matches!(
            items(&[line(100, 1)], Some(("d".into(), 500, 1)), 400),
            Err(ReceiptError::Mismatch { .. })
        ));
        // 3 units cannot share 2 kopecks.
        assert!(matches!(
            items(&[line(100, 3)], None, 2),
            Err(ReceiptError::Mismatch { .. })
        ));
        assert_eq!(items(&[], None, 100), Err(ReceiptError::Empty));
    }

    #[test]
    fn random_totals_always_add_up_or_are_refused() {
        let mut seed = 7u64;
        let mut next = |m: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % m
        };
        for _ in 0..2000 {
            let lines: Vec<Line> = (0..1 + next(5))
                .map(|_| line(1 + next(100_000) as i64, 1 + next(7) as i64))
                .collect();
            let full: i64 = lines.iter().map(|l| l.unit_price * l.quantity).sum();
            let invoice = full - next(full as u64 / 2 + 1) as i64;
            match items(&lines, Some(("d".into(), 300, 1)), invoice + 300) {
                Ok(items) => assert_eq!(sum(&items), invoice + 300),
                Err(ReceiptError::Mismatch { .. }) => {}
                Err(e) => panic!("{e}"),
            }
        }
    }

    #[test]
    fn provider_data_is_yookassas_format() {
        let config = ReceiptConfig {
            enabled: true,
            tax_system_code: Some(2),
            ..ReceiptConfig::default()
        };
        let items = items(
            &[line(12_345, 2)],
            Some(("Доставка".into(), 100, 1)),
            24_790,
        )
        .unwrap();
        let data = provider_data(&config, &items, "RUB");
        assert_eq!(data["receipt"]["tax_system_code"], 2);
        let first = &data["receipt"]["items"][0];
        assert_eq!(first["amount"]["value"], "123.45");
        assert_eq!(first["quantity"], "2.00");
        assert_eq!(first["payment_subject"], "commodity");
        assert_eq!(first["payment_mode"], "full_payment");
        assert_eq!(data["receipt"]["items"][1]["payment_subject"], "service");
        assert_eq!(vat_code_of("20"), Some(4));
        assert_eq!(vat_code_of("none"), Some(1));
        assert_eq!(vat_code_of("18"), None);
    }
}
