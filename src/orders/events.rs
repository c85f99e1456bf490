//! Order events fan out to the integrations that care about them.
//!
//! Placing an order or changing its status writes one domain job (`order.created`,
//! `order.status_changed`) in the same transaction as the change. The handlers here turn
//! each into one job per subscriber (`telegram.order_created`, `bitrix.status_changed`, ...),
//! so a Telegram outage never delays the Bitrix order and each side retries on its own.
//! The per-subscriber job is deduplicated by the domain job's id, so running the fan-out
//! twice after a crash enqueues nothing twice.
//!
//! The payloads ([`OrderCreated`], [`StatusChanged`]) are the same for the domain job and
//! each subscriber's job; the field names are the stored wire format of existing rows.

use serde::{Deserialize, Serialize};

use crate::outbox::{Handlers, Job, JobError, NewJob, Outbox};

use super::master::Changes;
use super::{JOB_ORDER_CREATED, JOB_STATUS_CHANGED};

/// The payload of `order.created` and its subscribers' jobs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderCreated {
    pub order_id: i64,
}

/// The payload of `order.status_changed` and its subscribers' jobs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChanged {
    pub order_id: i64,
    pub from: String,
    pub to: String,
    /// Who changed it, when it was a master system (`bitrix`, `1c`): the change is not sent
    /// back to it. Absent for changes made in vitrina.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// Everything a master system changed at once, for the customer's one message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changes: Option<Changes>,
}

/// A domain event on orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderEvent {
    Created,
    StatusChanged,
}

impl OrderEvent {
    pub const ALL: [OrderEvent; 2] = [OrderEvent::Created, OrderEvent::StatusChanged];

    /// The domain job's kind.
    pub fn kind(self) -> &'static str {
        match self {
            OrderEvent::Created => JOB_ORDER_CREATED,
            OrderEvent::StatusChanged => JOB_STATUS_CHANGED,
        }
    }
}

/// An integration that gets its own job for each order event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subscriber {
    Telegram,
    Bitrix,
}

impl Subscriber {
    pub fn name(self) -> &'static str {
        match self {
            Subscriber::Telegram => "telegram",
            Subscriber::Bitrix => "bitrix",
        }
    }

    /// The job kind this subscriber handles for a domain event (stored in existing rows:
    /// never rename).
    pub fn kind(self, event: OrderEvent) -> &'static str {
        match (self, event) {
            (Subscriber::Telegram, OrderEvent::Created) => "telegram.order_created",
            (Subscriber::Telegram, OrderEvent::StatusChanged) => "telegram.status_changed",
            (Subscriber::Bitrix, OrderEvent::Created) => "bitrix.order_created",
            (Subscriber::Bitrix, OrderEvent::StatusChanged) => "bitrix.status_changed",
        }
    }
}

/// One subscriber's copy of a domain job, its payload parsed (a domain job that does not
/// parse is dead here, before any subscriber sees it).
fn subscriber_job(
    job: &Job,
    event: OrderEvent,
    subscriber: Subscriber,
) -> Result<NewJob, JobError> {
    let kind = subscriber.kind(event);
    let new = match event {
        OrderEvent::Created => NewJob::typed(kind, &job.parse::<OrderCreated>()?),
        OrderEvent::StatusChanged => NewJob::typed(kind, &job.parse::<StatusChanged>()?),
    }
    .map_err(|e| JobError::Permanent(format!("job {}: {e}", job.id)))?;
    Ok(new.dedupe(format!("{}:job:{}", subscriber.name(), job.id)))
}

/// Handlers for the domain jobs that enqueue one job per subscriber.
pub fn fanout(outbox: Outbox, subscribers: Vec<Subscriber>) -> Handlers {
    let mut handlers = Handlers::new();
    for event in OrderEvent::ALL {
        let outbox = outbox.clone();
        let subscribers = subscribers.clone();
        handlers = handlers.on(event.kind(), move |job| {
            let outbox = outbox.clone();
            let subscribers = subscribers.clone();
            async move {
                for subscriber in &subscribers {
                    let new = subscriber_job(&job, event, *subscriber)?;
                    outbox
                        .enqueue_now(new)
                        .await
                        .map_err(|e| JobError::retry(e.to_string()))?;
                }
                Ok(())
            }
        });
    }
    handlers
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbox::testing::{assert_refused, claimed, job};
    use serde_json::json;

    /// Writes `value` as the enqueuing code does and parses it back as the handler does.
    fn round_trip<T: Serialize + serde::de::DeserializeOwned>(kind: &str, value: &T) -> T {
        let new = NewJob::typed(kind, value).expect("serializes");
        claimed(new).parse().expect("parses back")
    }

    #[test]
    fn kinds_are_named_after_subscriber_and_event() {
        assert_eq!(
            Subscriber::Telegram.kind(OrderEvent::Created),
            "telegram.order_created"
        );
        assert_eq!(
            Subscriber::Telegram.kind(OrderEvent::StatusChanged),
            "telegram.status_changed"
        );
        assert_eq!(
            Subscriber::Bitrix.kind(OrderEvent::Created),
            crate::bitrix::JOB_ORDER_CREATED
        );
        assert_eq!(
            Subscriber::Bitrix.kind(OrderEvent::StatusChanged),
            crate::bitrix::JOB_STATUS_CHANGED
        );
        assert_eq!(OrderEvent::Created.kind(), "order.created");
        assert_eq!(OrderEvent::StatusChanged.kind(), "order.status_changed");
    }

    #[test]
    fn order_payloads_parse_from_what_is_enqueued() {
        let created = OrderCreated { order_id: 42 };
        assert_eq!(round_trip(JOB_ORDER_CREATED, &created), created);
        let plain = StatusChanged {
            order_id: 42,
            from: "new".into(),
            to: "cancelled".into(),
            actor: None,
            changes: None,
        };
        assert_eq!(round_trip(JOB_STATUS_CHANGED, &plain), plain);
        let by_master = StatusChanged {
            actor: Some("bitrix".into()),
            changes: Some(Changes {
                status: Some(("new".into(), "shipped".into())),
                tracking_number: Some("RA1".into()),
                refund_due: Some(500),
                ..Changes::default()
            }),
            ..plain.clone()
        };
        assert_eq!(round_trip(JOB_STATUS_CHANGED, &by_master), by_master);
        // Rows written before the payload types had exactly these fields.
        let old = job(
            JOB_STATUS_CHANGED,
            json!({"order_id": 42, "from": "new", "to": "cancelled"}),
        );
        assert_eq!(old.parse::<StatusChanged>().expect("old row"), plain);
    }

    #[test]
    fn a_payload_missing_a_field_is_a_dead_letter_naming_job_and_field() {
        // Bitrix used to push the status "" for this one.
        assert_refused::<StatusChanged>(
            "bitrix.status_changed",
            json!({"order_id": 42, "from": "new"}),
            "to",
        );
        assert_refused::<StatusChanged>(
            "telegram.status_changed",
            json!({"from": "new", "to": "paid"}),
            "order_id",
        );
        let wrong_type = job("order.created", json!({"order_id": "42"}));
        assert!(matches!(
            wrong_type.parse::<OrderCreated>(),
            Err(JobError::Permanent(_))
        ));
        assert_refused::<OrderCreated>("order.created", json!({}), "order_id");
    }

    #[test]
    fn the_fan_out_refuses_an_unreadable_domain_job() {
        let bad = job(JOB_ORDER_CREATED, json!({"order": 1}));
        assert!(matches!(
            subscriber_job(&bad, OrderEvent::Created, Subscriber::Bitrix),
            Err(JobError::Permanent(_))
        ));
        let good = job(JOB_ORDER_CREATED, json!({"order_id": 1}));
        let new = subscriber_job(&good, OrderEvent::Created, Subscriber::Bitrix).expect("parses");
        assert_eq!(new.kind, "bitrix.order_created");
        assert_eq!(new.payload, json!({"order_id": 1}));
        assert_eq!(new.dedupe_key.as_deref(), Some("bitrix:job:7"));
    }
}
