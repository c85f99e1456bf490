//! What the bot says, in Russian (default) and English by the user's `language_code`.

use crate::orders::Order;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Ru,
    En,
}

impl Lang {
    pub fn of(code: Option<&str>) -> Self {
        match code {
            Some(c) if c.to_ascii_lowercase().starts_with("en") => Lang::En,
            _ => Lang::Ru,
        }
    }
}

pub fn status(lang: Lang, status: &str) -> String {
    let (ru, en) = match status {
        "new" => ("принят", "received"),
        "confirmed" => ("подтверждён", "confirmed"),
        "paid" => ("оплачен", "paid"),
        "shipped" => ("отправлен", "shipped"),
        "delivered" => ("доставлен", "delivered"),
        "cancelled" => ("отменён", "cancelled"),
        other => (other, other),
    };
    match lang {
        Lang::Ru => ru.to_string(),
        Lang::En => en.to_string(),
    }
}

/// Minor units as a price: 2768000 RUB → «27 680 ₽».
pub fn money(minor: i64, currency: &str) -> String {
    if currency == "XTR" {
        // Stars have no fractional part.
        return format!("{minor}\u{a0}⭐");
    }
    let units = minor / 100;
    let cents = (minor % 100).abs();
    let digits = units.abs().to_string();
    let mut grouped = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push('\u{a0}');
        }
        grouped.push(ch);
    }
    let sign = if minor < 0 { "-" } else { "" };
    let amount = if cents == 0 {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped},{cents:02}")
    };
    match currency {
        "RUB" => format!("{amount}\u{a0}₽"),
        other => format!("{amount}\u{a0}{other}"),
    }
}

/// The order's status as the customer should read it: the shop's own wording for a status
/// vitrina has no mapping for (as the shop wrote it, in its one language), else ours.
pub fn status_of(lang: Lang, order: &Order) -> String {
    match &order.status_name {
        Some(name) => name.clone(),
        None => status(lang, &order.status),
    }
}

pub fn order_status_message(lang: Lang, order: &Order) -> String {
    let s = status_of(lang, order);
    let total = money(order.total.amount, &order.total.currency);
    let mut text = match lang {
        Lang::Ru => format!("Заказ {}: {s}.\nСумма: {total}", order.number),
        Lang::En => format!("Order {}: {s}.\nTotal: {total}", order.number),
    };
    text.push_str(&order_details(lang, order));
    // Why, when vitrina itself made the change (the note is a stable code).
    if let Some(why) = order
        .timeline
        .iter()
        .rfind(|e| e.kind == "status")
        .and_then(|e| e.note.as_deref())
        .and_then(|note| system_note(lang, note))
    {
        text.push('\n');
        text.push_str(why);
    }
    text
}

/// A note vitrina writes in the timeline, in the customer's words.
pub fn system_note(lang: Lang, note: &str) -> Option<&'static str> {
    Some(match (note, lang) {
        (crate::orders::holds::NOTE_EXPIRED, Lang::Ru) => {
            "Заказ не оплачен вовремя, товары вернулись в каталог. Если он ещё нужен, оформите его заново."
        }
        (crate::orders::holds::NOTE_EXPIRED, Lang::En) => {
            "The order was not paid in time and its goods are back in the catalog. Place it again if you still want it."
        }
        (crate::orders::NOTE_PAYMENT_AFTER_CANCEL, Lang::Ru) => {
            "Оплата пришла после отмены заказа. Магазин вернёт деньги или свяжется с вами."
        }
        (crate::orders::NOTE_PAYMENT_AFTER_CANCEL, Lang::En) => {
            "The payment arrived after the order was cancelled. The shop will refund it or contact you."
        }
        _ => return None,
    })
}

/// The staff chat's alert about a payment for an order that is already cancelled.
pub fn late_payment_alert(order: &Order, currency: &str, amount: i64) -> String {
    let refund = if currency == "XTR" {
        format!("верните Stars: vitrina payments refund {}", order.id)
    } else {
        "верните деньги в кабинете платёжного провайдера".to_string()
    };
    format!(
        "⚠️ Оплата после отмены: заказ {} ({}) оплачен на {}, но он уже отменён, а товары вернулись в продажу.\n\
         Решите, что делать: {refund}, или свяжитесь с покупателем: {}, {}.",
        order.number,
        status(Lang::Ru, &order.status),
        money(amount, currency),
        order.contact.name,
        order.contact.phone
    )
}

/// The reason of a cancellation and the tracking number, when the shop gave them.
fn order_details(lang: Lang, order: &Order) -> String {
    let mut out = String::new();
    if order.status == "cancelled"
        && let Some(reason) = &order.cancel_reason
    {
        out.push_str(&match lang {
            Lang::Ru => format!("\nПричина: {reason}"),
            Lang::En => format!("\nReason: {reason}"),
        });
    }
    if let Some(t) = &order.tracking_number {
        out.push_str(&match lang {
            Lang::Ru => format!("\nТрек-номер: {t}"),
            Lang::En => format!("\nTracking number: {t}"),
        });
    }
    out
}

/// One message about everything the shop changed in an order at once:
/// «Заказ V-000042: принят. «Чайник» убран из заказа, сумма 4 500 ₽ вместо 5 200 ₽.»
pub fn master_change_message(
    lang: Lang,
    order: &Order,
    changes: &crate::orders::master::Changes,
) -> String {
    let cur = &order.total.currency;
    let m = |minor: i64| money(minor, cur);
    let ru = lang == Lang::Ru;
    let mut parts: Vec<String> = Vec::new();
    for name in &changes.removed {
        parts.push(if ru {
            format!("«{name}» убран из заказа")
        } else {
            format!("«{name}» was removed from the order")
        });
    }
    for c in &changes.lines {
        if c.quantity.0 != c.quantity.1 {
            parts.push(if ru {
                format!("«{}»: {} шт. вместо {}", c.name, c.quantity.1, c.quantity.0)
            } else {
                format!("«{}»: {} instead of {}", c.name, c.quantity.1, c.quantity.0)
            });
        }
        if c.price.0 != c.price.1 {
            parts.push(if ru {
                format!("«{}»: {} вместо {}", c.name, m(c.price.1), m(c.price.0))
            } else {
                format!("«{}»: {} instead of {}", c.name, m(c.price.1), m(c.price.0))
            });
        }
    }
    for name in &changes.added {
        parts.push(if ru {
            format!("добавлен «{name}»")
        } else {
            format!("«{name}» was added")
        });
    }
    if let Some((from, to)) = changes.delivery_price {
        parts.push(if ru {
            format!("доставка {} вместо {}", m(to), m(from))
        } else {
            format!("delivery {} instead of {}", m(to), m(from))
        });
    }
    if let Some((from, to)) = changes.total {
        parts.push(if ru {
            format!("сумма {} вместо {}", m(to), m(from))
        } else {
            format!("total {} instead of {}", m(to), m(from))
        });
    }
    if changes.paid {
        parts.push(
            if ru {
                "оплата получена"
            } else {
                "payment received"
            }
            .to_string(),
        );
    }
    if let Some(r) = changes.refund_due {
        parts.push(if ru {
            format!("{} вернём вам", m(r))
        } else {
            format!("we will refund {}", m(r))
        });
    }
    let status = status_of(lang, order);
    let mut text = match lang {
        Lang::Ru => format!("Заказ {}: {status}", order.number),
        Lang::En => format!("Order {}: {status}", order.number),
    };
    if parts.is_empty() {
        text.push('.');
    } else {
        text.push_str(". ");
        let joined = parts.join(", ");
        let mut chars = joined.chars();
        if let Some(first) = chars.next() {
            text.extend(first.to_uppercase());
            text.push_str(chars.as_str());
        }
        text.push('.');
    }
    let total = m(order.total.amount);
    text.push_str(&match lang {
        Lang::Ru => format!("\nСумма: {total}"),
        Lang::En => format!("\nTotal: {total}"),
    });
    text.push_str(&order_details(lang, order));
    text
}

/// The staff chat's alert for a paid order the shop made cheaper.
pub fn staff_refund_alert(order: &Order, changes: &crate::orders::master::Changes) -> String {
    let cur = &order.total.currency;
    let (from, to) = changes
        .total
        .unwrap_or((order.total.amount, order.total.amount));
    format!(
        "⚠️ Возврат: заказ {} оплачен, а сумма в {} снижена: {} вместо {}. Вернуть покупателю {}.",
        order.number,
        match changes.master {
            Some(crate::orders::master::Master::OneC) => "1С",
            _ => "Bitrix",
        },
        money(to, cur),
        money(from, cur),
        money(order.refund_due, cur)
    )
}

pub fn open_order(lang: Lang) -> &'static str {
    match lang {
        Lang::Ru => "Открыть заказ",
        Lang::En => "Open the order",
    }
}

/// The delivered-order message's second button: the order's items back into the cart.
pub fn repeat_order(lang: Lang) -> &'static str {
    match lang {
        Lang::Ru => "Повторить",
        Lang::En => "Order again",
    }
}

pub fn open_shop(lang: Lang) -> &'static str {
    match lang {
        Lang::Ru => "Открыть магазин",
        Lang::En => "Open the shop",
    }
}

pub fn greeting(lang: Lang, name: &str) -> String {
    match lang {
        Lang::Ru => format!(
            "Здравствуйте, {name}! Каталог, корзина и ваши заказы — в магазине по кнопке ниже. \
             Здесь мы сообщим, когда статус заказа изменится."
        ),
        Lang::En => format!(
            "Hello, {name}! The catalog, your cart and orders are in the shop: tap the button \
             below. We will tell you here when an order's status changes."
        ),
    }
}

pub fn help(lang: Lang) -> &'static str {
    match lang {
        Lang::Ru => "/start — открыть магазин\n/orders — мои заказы\n/help — помощь",
        Lang::En => "/start — open the shop\n/orders — my orders\n/help — help",
    }
}

pub fn no_orders(lang: Lang) -> &'static str {
    match lang {
        Lang::Ru => "Заказов пока нет.",
        Lang::En => "No orders yet.",
    }
}

pub fn your_orders(lang: Lang) -> &'static str {
    match lang {
        Lang::Ru => "Ваши заказы:",
        Lang::En => "Your orders:",
    }
}

pub fn open_desk(lang: Lang) -> &'static str {
    match lang {
        Lang::Ru => "Открыть пульт",
        Lang::En => "Open the desk",
    }
}

pub fn desk_intro(lang: Lang) -> &'static str {
    match lang {
        Lang::Ru => "Пульт магазина: заказы, статусы, сообщения покупателям и продажи за день.",
        Lang::En => "The shop's desk: orders, statuses, messages to customers and the day's sales.",
    }
}

/// The staff alert's button that opens the order on the desk.
pub const OPEN_IN_DESK: &str = "Открыть в пульте";

pub fn not_staff(lang: Lang) -> &'static str {
    match lang {
        Lang::Ru => "Эти кнопки — для сотрудников магазина.",
        Lang::En => "These buttons are for the shop's staff.",
    }
}

/// The staff chat's message about an order (always Russian: the shop's working language).
pub fn staff_alert(order: &Order) -> String {
    let mut text = format!(
        "🛒 Новый заказ {} — {}\nСтатус: {}\n",
        order.number,
        money(order.total.amount, &order.total.currency),
        status_of(Lang::Ru, order)
    );
    if order.refund_due > 0 {
        text.push_str(&format!(
            "⚠️ К возврату: {}\n\n",
            money(order.refund_due, &order.total.currency)
        ));
    } else {
        text.push('\n');
    }
    for item in &order.items {
        let variant = item
            .variant
            .as_deref()
            .map(|v| format!(" ({v})"))
            .unwrap_or_default();
        text.push_str(&format!(
            "• {}{variant} × {} = {}\n",
            item.name,
            item.quantity,
            money(item.total, &order.total.currency)
        ));
    }
    let delivery = order
        .delivery
        .address
        .as_deref()
        .or(order.delivery.pickup_point.as_deref())
        .unwrap_or("");
    text.push_str(&format!(
        "\nДоставка: {} ({}) {delivery}\nПокупатель: {}, {}",
        order.delivery.method,
        money(order.delivery.price, &order.total.currency),
        order.contact.name,
        order.contact.phone
    ));
    if let Some(c) = &order.comment {
        text.push_str(&format!("\nКомментарий: {c}"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_grouped() {
        assert_eq!(money(2_768_000, "RUB"), "27\u{a0}680\u{a0}₽");
        assert_eq!(money(12_345, "RUB"), "123,45\u{a0}₽");
        assert_eq!(money(100_000_000, "RUB"), "1\u{a0}000\u{a0}000\u{a0}₽");
        assert_eq!(money(50, "XTR"), "50\u{a0}⭐");
    }

    #[test]
    fn language() {
        assert_eq!(Lang::of(Some("en-GB")), Lang::En);
        assert_eq!(Lang::of(Some("uk")), Lang::Ru);
        assert_eq!(Lang::of(None), Lang::Ru);
        assert_eq!(status(Lang::En, "shipped"), "shipped");
        assert_eq!(status(Lang::Ru, "custom"), "custom");
    }
}
