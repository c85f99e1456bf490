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

pub fn order_status_message(lang: Lang, order: &Order) -> String {
    let s = status(lang, &order.status);
    let total = money(order.total.amount, &order.total.currency);
    let mut text = match lang {
        Lang::Ru => format!("Заказ {}: {s}.\nСумма: {total}", order.number),
        Lang::En => format!("Order {}: {s}.\nTotal: {total}", order.number),
    };
    // Why, when vitrina itself made the change (the note is a stable code).
    if let Some(why) = order
        .timeline
        .last()
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
        (crate::payments::late::NOTE, Lang::Ru) => {
            "Оплата пришла после отмены заказа. Магазин вернёт деньги или свяжется с вами."
        }
        (crate::payments::late::NOTE, Lang::En) => {
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

pub fn open_order(lang: Lang) -> &'static str {
    match lang {
        Lang::Ru => "Открыть заказ",
        Lang::En => "Open the order",
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

pub fn not_staff(lang: Lang) -> &'static str {
    match lang {
        Lang::Ru => "Эти кнопки — для сотрудников магазина.",
        Lang::En => "These buttons are for the shop's staff.",
    }
}

/// The staff chat's message about an order (always Russian: the shop's working language).
pub fn staff_alert(order: &Order) -> String {
    let mut text = format!(
        "🛒 Новый заказ {} — {}\nСтатус: {}\n\n",
        order.number,
        money(order.total.amount, &order.total.currency),
        status(Lang::Ru, &order.status)
    );
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
