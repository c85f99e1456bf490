//! The CommerceML document 1C reads in `mode=query`: one `<Документ>` per order, in the
//! shape 1C-Bitrix writes it, since that is the shape 1C's exchange module expects.

use crate::orders::Order;

pub(super) fn esc(s: &str) -> String {
    quick_xml::escape::escape(s).into_owned()
}

/// Minor units as 1C writes sums: `1234.50`.
pub(super) fn amount(minor: i64) -> String {
    format!("{}.{:02}", minor / 100, (minor % 100).abs())
}

pub(super) fn datetime(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
pub(super) fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

pub(super) fn requisite(out: &mut String, name: &str, value: &str) {
    out.push_str(&format!(
        "      <ЗначениеРеквизита><Наименование>{}</Наименование><Значение>{}</Значение></ЗначениеРеквизита>\n",
        esc(name),
        esc(value)
    ));
}

pub(super) fn item(out: &mut String, id: &str, name: &str, price: i64, quantity: i64, kind: &str) {
    out.push_str(&format!(
        "      <Товар>\n        <Ид>{}</Ид>\n        <Наименование>{}</Наименование>\n\
         \x20       <БазоваяЕдиница Код=\"796\" НаименованиеПолное=\"Штука\" МеждународноеСокращение=\"PCE\">шт</БазоваяЕдиница>\n\
         \x20       <ЦенаЗаЕдиницу>{}</ЦенаЗаЕдиницу>\n        <Количество>{quantity}</Количество>\n        <Сумма>{}</Сумма>\n\
         \x20       <ЗначенияРеквизитов>\n\
         \x20         <ЗначениеРеквизита><Наименование>ВидНоменклатуры</Наименование><Значение>{kind}</Значение></ЗначениеРеквизита>\n\
         \x20         <ЗначениеРеквизита><Наименование>ТипНоменклатуры</Наименование><Значение>{kind}</Значение></ЗначениеРеквизита>\n\
         \x20       </ЗначенияРеквизитов>\n      </Товар>\n",
        esc(id),
        esc(name),
        amount(price),
        amount(price * quantity),
    ));
}

/// One order as the Документ 1C's standard exchange loads (the shape 1C-Bitrix sends).
pub(super) fn document(out: &mut String, order: &Order, customer: i64, currency: &str) {
    let created = datetime(order.created_at);
    let (date, time) = created.split_once('T').unwrap_or((&created, "00:00:00"));
    let currency_1c = if currency == "RUB" {
        "руб"
    } else {
        currency
    };
    out.push_str(&format!(
        "  <Документ>\n    <Ид>{}</Ид>\n    <Номер>{}</Номер>\n    <Дата>{date}</Дата>\n    <Время>{time}</Время>\n\
         \x20   <ХозОперация>Заказ товара</ХозОперация>\n    <Роль>Продавец</Роль>\n    <Валюта>{}</Валюта>\n    <Курс>1</Курс>\n\
         \x20   <Сумма>{}</Сумма>\n",
        order.id,
        esc(&order.number),
        esc(currency_1c),
        amount(order.total.amount),
    ));
    out.push_str(&format!(
        "    <Контрагенты>\n      <Контрагент>\n        <Ид>vitrina-customer-{customer}</Ид>\n        <Наименование>{name}</Наименование>\n\
         \x20       <ПолноеНаименование>{name}</ПолноеНаименование>\n        <Роль>Покупатель</Роль>\n\
         \x20       <Контакты><Контакт><Тип>Телефон рабочий</Тип><Значение>{}</Значение></Контакт></Контакты>\n\
         \x20     </Контрагент>\n    </Контрагенты>\n",
        esc(&order.contact.phone),
        name = esc(&order.contact.name),
    ));
    if let Some(comment) = &order.comment {
        out.push_str(&format!(
            "    <Комментарий>{}</Комментарий>\n",
            esc(comment)
        ));
    }
    out.push_str("    <Товары>\n");
    for line in &order.items {
        let name = match &line.variant {
            Some(v) => format!("{} ({v})", line.name),
            None => line.name.clone(),
        };
        item(
            out,
            &line.offer_id,
            &name,
            line.price,
            line.quantity,
            "Товар",
        );
    }
    if order.delivery.price > 0 {
        item(
            out,
            "ORDER_DELIVERY",
            "Доставка заказа",
            order.delivery.price,
            1,
            "Услуга",
        );
    }
    out.push_str("    </Товары>\n    <ЗначенияРеквизитов>\n");
    let mut address = order.delivery.address.clone().unwrap_or_default();
    if let Some(point) = &order.delivery.pickup_point {
        address = format!("Пункт выдачи: {point}");
    }
    requisite(out, "Метод оплаты", &order.payment_method);
    requisite(out, "Способ доставки", &order.delivery.method);
    requisite(out, "Адрес доставки", &address);
    requisite(
        out,
        "Заказ оплачен",
        if order.payment_state == "paid" {
            "true"
        } else {
            "false"
        },
    );
    requisite(
        out,
        "Отменен",
        if order.status == "cancelled" {
            "true"
        } else {
            "false"
        },
    );
    requisite(out, "Статус заказа", &order.status);
    if let Some(last) = order.timeline.iter().rfind(|e| e.kind == "status") {
        requisite(
            out,
            "Дата изменения статуса",
            &datetime(last.at).replace('T', " "),
        );
    }
    requisite(out, "Сайт", "vitrina");
    out.push_str("    </ЗначенияРеквизитов>\n  </Документ>\n");
}
