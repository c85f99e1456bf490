//! Telegram updates as types: the kinds the bot handles, each with the fields it needs. An
//! update missing one of them is refused whole (and logged with its `update_id`), never read
//! with a made-up 0 or "". Fields the bot does not use are ignored, so Telegram may add more.

use serde::Deserialize;
use serde_json::Value;

/// One update, as stored by the webhook or the poller.
#[derive(Debug, Clone, Deserialize)]
pub struct Update {
    pub update_id: i64,
    #[serde(flatten)]
    pub kind: UpdateKind,
}

/// What an update carries. Kinds the bot does not ask for (`allowed_updates`) are `Other`.
#[derive(Debug, Clone)]
pub enum UpdateKind {
    Message(Message),
    CallbackQuery(CallbackQuery),
    PreCheckoutQuery(PreCheckoutQuery),
    InlineQuery(InlineQuery),
    Other,
}

impl<'de> Deserialize<'de> for UpdateKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        #[derive(Deserialize)]
        struct Raw {
            message: Option<Value>,
            callback_query: Option<Value>,
            pre_checkout_query: Option<Value>,
            inline_query: Option<Value>,
        }
        fn field<T: serde::de::DeserializeOwned, E: Error>(name: &str, v: Value) -> Result<T, E> {
            serde_json::from_value(v).map_err(|e| E::custom(format!("{name}: {e}")))
        }
        let raw = Raw::deserialize(d)?;
        Ok(
            match (raw.message, raw.callback_query, raw.pre_checkout_query) {
                (Some(m), _, _) => UpdateKind::Message(field::<_, D::Error>("message", m)?),
                (_, Some(q), _) => {
                    UpdateKind::CallbackQuery(field::<_, D::Error>("callback_query", q)?)
                }
                (_, _, Some(q)) => {
                    UpdateKind::PreCheckoutQuery(field::<_, D::Error>("pre_checkout_query", q)?)
                }
                (None, None, None) => match raw.inline_query {
                    Some(q) => UpdateKind::InlineQuery(field::<_, D::Error>("inline_query", q)?),
                    None => UpdateKind::Other,
                },
            },
        )
    }
}

/// What a user typed after the bot's username in any chat (inline mode).
#[derive(Debug, Clone, Deserialize)]
pub struct InlineQuery {
    pub id: String,
    pub from: User,
    pub query: String,
    /// The `next_offset` of the previous answer; empty for the first page.
    pub offset: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct User {
    pub id: i64,
    pub first_name: String,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub language_code: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Chat {
    pub id: i64,
    /// `private`, `group`, `supergroup` or `channel`.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Message {
    pub message_id: i64,
    pub chat: Chat,
    /// Absent in channels.
    #[serde(default)]
    pub from: Option<User>,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub contact: Option<Contact>,
    #[serde(default)]
    pub successful_payment: Option<SuccessfulPayment>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Contact {
    pub phone_number: String,
    /// Set when the contact is a Telegram user (their own, when it equals the sender's id).
    #[serde(default)]
    pub user_id: Option<i64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CallbackQuery {
    pub id: String,
    pub from: User,
    #[serde(default)]
    pub data: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PreCheckoutQuery {
    pub id: String,
    pub from: User,
    pub currency: String,
    pub total_amount: i64,
    pub invoice_payload: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SuccessfulPayment {
    pub currency: String,
    pub total_amount: i64,
    pub invoice_payload: String,
    pub telegram_payment_charge_id: String,
    /// Empty for Stars.
    #[serde(default)]
    pub provider_payment_charge_id: Option<String>,
}

/// An update the bot cannot read: the field that is missing or wrong, and its id if it has one.
#[derive(Debug, thiserror::Error)]
#[error("Telegram update {}: {reason}", update_id.map_or_else(|| "without update_id".to_string(), |i| i.to_string()))]
pub struct UpdateError {
    pub update_id: Option<i64>,
    pub reason: String,
}

impl Update {
    /// Reads a stored update; an update the bot cannot act on as sent is an error.
    pub fn parse(value: Value) -> Result<Self, UpdateError> {
        let update_id = value.get("update_id").and_then(Value::as_i64);
        serde_json::from_value(value).map_err(|e| UpdateError {
            update_id,
            reason: e.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_the_kinds_the_bot_handles() {
        let u = Update::parse(
            json!({"update_id": 5, "message": {"message_id": 1, "date": 0,
            "chat": {"id": 9, "type": "private"}, "text": "/start",
            "from": {"id": 9, "is_bot": false, "first_name": "A", "language_code": "ru"}}}),
        )
        .unwrap();
        assert_eq!(u.update_id, 5);
        let UpdateKind::Message(m) = u.kind else {
            panic!("a message")
        };
        assert_eq!((m.chat.id, m.text.as_deref()), (9, Some("/start")));
        let u = Update::parse(json!({"update_id": 6, "pre_checkout_query": {"id": "q",
            "from": {"id": 9, "first_name": "A"}, "currency": "XTR", "total_amount": 10,
            "invoice_payload": "v1.1.x"}}))
        .unwrap();
        assert!(matches!(u.kind, UpdateKind::PreCheckoutQuery(q) if q.total_amount == 10));
        let u = Update::parse(json!({"update_id": 7, "callback_query": {"id": "c",
            "from": {"id": 9, "first_name": "A"}, "data": "st:1:confirmed"}}))
        .unwrap();
        assert!(
            matches!(u.kind, UpdateKind::CallbackQuery(q) if q.data.as_deref() == Some("st:1:confirmed"))
        );
        let u = Update::parse(json!({"update_id": 8, "my_chat_member": {"x": 1}})).unwrap();
        assert!(matches!(u.kind, UpdateKind::Other));
    }

    #[test]
    fn refuses_an_update_missing_a_required_field() {
        let e =
            Update::parse(json!({"message": {"message_id": 1, "chat": {"id": 1}}})).unwrap_err();
        assert_eq!(e.update_id, None);
        assert!(e.reason.contains("update_id"), "{e}");
        let e =
            Update::parse(json!({"update_id": 3, "message": {"message_id": 1, "text": "/start"}}))
                .unwrap_err();
        assert_eq!(e.update_id, Some(3));
        assert!(e.reason.contains("chat"), "{e}");
        // A payment without its amount is not recorded as 0.
        let e = Update::parse(
            json!({"update_id": 4, "message": {"message_id": 1, "chat": {"id": 1},
            "from": {"id": 1, "first_name": "A"},
            "successful_payment": {"currency": "XTR", "invoice_payload": "v1.1.x",
                "telegram_payment_charge_id": "c"}}}),
        )
        .unwrap_err();
        assert!(e.reason.contains("total_amount"), "{e}");
        let e = Update::parse(json!({"update_id": 5, "pre_checkout_query": {"id": "q",
            "from": {"id": 9, "first_name": "A"}, "total_amount": 10, "invoice_payload": "p"}}))
        .unwrap_err();
        assert!(e.reason.contains("currency"), "{e}");
        assert!(e.to_string().starts_with("Telegram update 5:"), "{e}");
    }
}
