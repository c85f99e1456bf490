//! Order events fan out to the integrations that care about them.
//!
//! Placing an order or changing its status writes one domain job (`order.created`,
//! `order.status_changed`) in the same transaction as the change. The handlers here turn
//! each into one job per subscriber (`telegram.order_created`, `bitrix.status_changed`, ...),
//! so a Telegram outage never delays the Bitrix order and each side retries on its own.
//! The per-subscriber job is deduplicated by the domain job's id, so running the fan-out
//! twice after a crash enqueues nothing twice.

use crate::outbox::{Handlers, JobError, NewJob, Outbox};

use super::{JOB_ORDER_CREATED, JOB_STATUS_CHANGED};

/// The job kind a subscriber handles for a domain event: `telegram` + `order.created` →
/// `telegram.order_created`.
pub fn subscriber_kind(subscriber: &str, event: &str) -> String {
    format!("{subscriber}.{}", event.trim_start_matches("order."))
        .replace(".created", ".order_created")
}

/// Handlers for the domain jobs that enqueue one job per subscriber.
pub fn fanout(outbox: Outbox, subscribers: Vec<String>) -> Handlers {
    let mut handlers = Handlers::new();
    for event in [JOB_ORDER_CREATED, JOB_STATUS_CHANGED] {
        let outbox = outbox.clone();
        let subscribers = subscribers.clone();
        handlers = handlers.on(event, move |job| {
            let outbox = outbox.clone();
            let subscribers = subscribers.clone();
            async move {
                for subscriber in &subscribers {
                    let kind = subscriber_kind(subscriber, &job.kind);
                    outbox
                        .enqueue_now(
                            NewJob::new(kind, job.payload.clone())
                                .dedupe(format!("{subscriber}:job:{}", job.id)),
                        )
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

    #[test]
    fn kinds_are_named_after_subscriber_and_event() {
        assert_eq!(
            subscriber_kind("telegram", JOB_ORDER_CREATED),
            "telegram.order_created"
        );
        assert_eq!(
            subscriber_kind("bitrix", JOB_STATUS_CHANGED),
            "bitrix.status_changed"
        );
    }
}
