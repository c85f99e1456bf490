//! Orders as CSV for Excel in Russian: UTF-8 with a BOM (without it Excel reads the bytes as
//! the system's ANSI code page, windows-1251, and Cyrillic turns to mojibake), fields
//! separated by `;` (Excel splits a double-clicked .csv by the system list separator, which
//! is `;` wherever the decimal separator is a comma, as in the Russian locale; with `,` every
//! row lands in one column), sums with a decimal comma, dates as `DD.MM.YYYY HH:MM` in the
//! shop's time zone, CRLF line ends (RFC 4180). A field with `;`, `"` or a line break is
//! quoted with its quotes doubled (a comma is an ordinary character with `;` between fields,
//! so sums like `1234,50` stay numbers); a text field starting with `=`, `+`, `-`, `@` or a tab is
//! prefixed with `'` so Excel never runs a customer's name as a formula (OWASP's CSV
//! injection advice). `GET /api/v1/staff/orders.csv` and `vitrina orders export` write the
//! same bytes.

use sqlx::Row;

use super::Day;
use crate::config::Config;
use crate::store::{Store, StoreError};

const HEADER: [&str; 14] = [
    "Номер",
    "Дата",
    "Статус",
    "Оплата",
    "Способ оплаты",
    "Доставка",
    "Адрес",
    "Покупатель",
    "Телефон",
    "E-mail",
    "Товаров",
    "Сумма",
    "Валюта",
    "Комментарий",
];

const PAGE: i64 = 500;

/// One field, quoted when it must be; `text` fields are guarded against formulas.
fn field(out: &mut String, value: &str, text: bool) {
    let guard = text
        && value
            .chars()
            .next()
            .is_some_and(|c| matches!(c, '=' | '+' | '-' | '@' | '\t' | '\r'));
    let value = if guard {
        format!("'{value}")
    } else {
        value.to_string()
    };
    if value.contains([';', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&value.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(&value);
    }
}

/// Minor units as a number Excel reads in Russian: `1234,50` (`XTR` has no fraction).
fn amount(minor: i64, currency: &str) -> String {
    if currency == "XTR" {
        return minor.to_string();
    }
    let sign = if minor < 0 { "-" } else { "" };
    format!("{sign}{},{:02}", (minor / 100).abs(), (minor % 100).abs())
}

fn datetime(ms: i64, offset_ms: i64) -> String {
    let day = Day::of(ms, offset_ms);
    let (y, m, d) = day.civil();
    let in_day = (ms + offset_ms) - day.0 * 86_400_000;
    let minutes = in_day / 60_000;
    format!(
        "{d:02}.{m:02}.{y:04} {:02}:{:02}",
        minutes / 60,
        minutes % 60
    )
}

fn payment_state_ru(s: &str) -> &str {
    match s {
        "paid" => "оплачен",
        "unpaid" => "не оплачен",
        "refunded" => "возвращён",
        other => other,
    }
}

fn payment_method_ru(s: &str) -> &str {
    match s {
        "on_receipt" => "при получении",
        "telegram" => "онлайн",
        "stars" => "Telegram Stars",
        other => other,
    }
}

/// The orders placed on days `from..=to`, oldest first, as CSV bytes.
pub async fn export(
    config: &Config,
    store: &Store,
    from: Day,
    to: Day,
) -> Result<Vec<u8>, StoreError> {
    let offset = config.shop.utc_offset_ms();
    let (start, end) = (from.start_ms(offset), to.next().start_ms(offset));
    let delivery_name = |id: &str| {
        config
            .checkout
            .delivery
            .iter()
            .find(|d| d.id == id)
            .map_or_else(|| id.to_string(), |d| d.name.clone())
    };
    let mut out = String::from("\u{feff}");
    let line = |out: &mut String, fields: &[(&str, bool)]| {
        for (i, (v, text)) in fields.iter().enumerate() {
            if i > 0 {
                out.push(';');
            }
            field(out, v, *text);
        }
        out.push_str("\r\n");
    };
    line(
        &mut out,
        &HEADER.iter().map(|h| (*h, false)).collect::<Vec<_>>(),
    );
    let mut after = 0i64;
    loop {
        let rows = sqlx::query(
            "SELECT o.id, o.number, o.created_at, o.status, o.master_status_name, o.payment_state, \
                 o.payment_method, o.delivery_method, o.pickup_point, o.address, o.contact_name, \
                 o.contact_phone, o.contact_email, o.total, o.currency, o.comment, \
                 (SELECT CAST(COALESCE(SUM(i.quantity), 0) AS BIGINT) FROM order_items i WHERE i.order_id = o.id) AS items \
             FROM orders o WHERE o.created_at >= $1 AND o.created_at < $2 AND o.id > $3 ORDER BY o.id LIMIT $4",
        )
        .bind(start)
        .bind(end)
        .bind(after)
        .bind(PAGE)
        .fetch_all(store.pool())
        .await?;
        for r in &rows {
            after = r.try_get("id")?;
            let status: String = r.try_get("status")?;
            let status = r
                .try_get::<Option<String>, _>("master_status_name")?
                .unwrap_or_else(|| {
                    crate::telegram::texts::status(crate::telegram::texts::Lang::Ru, &status)
                });
            let currency: String = r.try_get("currency")?;
            let address = r
                .try_get::<Option<String>, _>("address")?
                .or(r.try_get::<Option<String>, _>("pickup_point")?)
                .unwrap_or_default();
            let get = |c: &str| r.try_get::<String, _>(c);
            let opt = |c: &str| {
                r.try_get::<Option<String>, _>(c)
                    .map(Option::unwrap_or_default)
            };
            line(
                &mut out,
                &[
                    (&get("number")?, true),
                    (&datetime(r.try_get("created_at")?, offset), false),
                    (&status, true),
                    (payment_state_ru(&get("payment_state")?), false),
                    (payment_method_ru(&get("payment_method")?), false),
                    (&delivery_name(&get("delivery_method")?), true),
                    (&address, true),
                    (&get("contact_name")?, true),
                    (&get("contact_phone")?, true),
                    (&opt("contact_email")?, true),
                    (&r.try_get::<i64, _>("items")?.to_string(), false),
                    (&amount(r.try_get("total")?, &currency), false),
                    (&currency, false),
                    (&opt("comment")?, true),
                ],
            );
        }
        if (rows.len() as i64) < PAGE {
            break;
        }
    }
    Ok(out.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_quote_and_guard() {
        let mut s = String::new();
        field(&mut s, "Иванов, \"Ромашка\"", true);
        assert_eq!(s, "\"Иванов, \"\"Ромашка\"\"\"");
        let mut s = String::new();
        field(&mut s, "=HYPERLINK(\"x\")", true);
        assert_eq!(s, "\"'=HYPERLINK(\"\"x\"\")\"");
        let mut s = String::new();
        field(&mut s, "+79991234567", true);
        assert_eq!(s, "'+79991234567");
        let mut s = String::new();
        field(&mut s, "Москва, ул. Примерная; 1", true);
        assert_eq!(s, "\"Москва, ул. Примерная; 1\"");
        let mut s = String::new();
        field(&mut s, "Москва, 1", true);
        assert_eq!(s, "Москва, 1");
        let mut s = String::new();
        field(&mut s, "-5", false);
        assert_eq!(s, "-5");
        assert_eq!(amount(123450, "RUB"), "1234,50");
        assert_eq!(amount(-5, "RUB"), "-0,05");
        assert_eq!(amount(70, "XTR"), "70");
        let msk = 3 * 3600 * 1000;
        let noon = Day::parse("2026-12-01").unwrap().start_ms(msk) + 12 * 3600 * 1000 + 5 * 60_000;
        assert_eq!(datetime(noon, msk), "01.12.2026 12:05");
    }
}
