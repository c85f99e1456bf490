//! What can go wrong in each order operation, as the domain sees it. The HTTP layer maps these
//! to problem+json (`orders/http.rs`), the bot to a reply, the outbox to retry or dead letter.

use crate::error::FieldError;
use crate::outbox::JobError;
use crate::store::StoreError;

use super::limits::LimitError;

/// Why a checkout request is refused before anything is read or written.
#[derive(Debug, thiserror::Error)]
pub enum ValidateError {
    /// One or more fields are wrong; each says which and why.
    #[error("some fields are invalid: {}", fields_text(.0))]
    Fields(Vec<FieldError>),
    /// A coupon in a shop that is not on Bitrix.
    #[error("this shop takes no coupons; remove the coupon and order again")]
    CouponsUnsupported,
}

fn fields_text(fields: &[FieldError]) -> String {
    fields
        .iter()
        .map(|f| format!("{} ({})", f.field, f.code))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Why an order was not placed.
#[derive(Debug, thiserror::Error)]
pub enum PlaceOrderError {
    #[error(transparent)]
    Invalid(#[from] ValidateError),
    #[error("this Idempotency-Key was used for a different checkout; use a new key")]
    IdempotencyKeyReused,
    #[error("the cart is empty")]
    CartEmpty,
    /// Per-line problems: stock, lines no longer sold, the per-line cap.
    #[error("some items cannot be ordered as they are: {}", fields_text(.0))]
    CartUnavailable(Vec<FieldError>),
    /// The customer holds too many unpaid orders.
    #[error(transparent)]
    Limit(LimitError),
    /// The order was placed (or replayed) but could not be read back.
    #[error("order {0} not found after it was placed")]
    Vanished(i64),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for PlaceOrderError {
    fn from(e: sqlx::Error) -> Self {
        PlaceOrderError::Store(e.into())
    }
}

impl From<LimitError> for PlaceOrderError {
    fn from(e: LimitError) -> Self {
        match e {
            LimitError::Store(e) => PlaceOrderError::Store(e),
            e => PlaceOrderError::Limit(e),
        }
    }
}

/// Why an order's status was not changed.
#[derive(Debug, thiserror::Error)]
pub enum SetStatusError {
    #[error("unknown status {to:?}; statuses are {known}")]
    UnknownStatus { to: String, known: String },
    #[error("order not found")]
    NotFound(i64),
    /// The configured flow ([`super::can_move`]) does not lead from `from` to `to`.
    #[error("an order in status {from:?} cannot become {to:?}")]
    TransitionNotAllowed { from: String, to: String },
    /// Another change won the race between the read and the write.
    #[error("the order changed meanwhile; reload it")]
    StatusChanged,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for SetStatusError {
    fn from(e: sqlx::Error) -> Self {
        SetStatusError::Store(e.into())
    }
}

impl SetStatusError {
    /// Worth trying again: the database failed, or the order changed under us. The rest
    /// (an unknown status, a missing order, a move the flow forbids) fail the same way again.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            SetStatusError::Store(_) | SetStatusError::StatusChanged
        )
    }
}

impl From<SetStatusError> for JobError {
    fn from(e: SetStatusError) -> Self {
        if e.is_transient() {
            JobError::retry(e.to_string())
        } else {
            JobError::Permanent(e.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_database_and_races_are_retried() {
        let store = SetStatusError::Store(StoreError::Query(sqlx::Error::PoolTimedOut));
        assert!(matches!(JobError::from(store), JobError::Retry { .. }));
        assert!(matches!(
            JobError::from(SetStatusError::StatusChanged),
            JobError::Retry { .. }
        ));
        let refused = SetStatusError::TransitionNotAllowed {
            from: "shipped".into(),
            to: "paid".into(),
        };
        match JobError::from(refused) {
            JobError::Permanent(m) => {
                assert_eq!(m, "an order in status \"shipped\" cannot become \"paid\"")
            }
            other => panic!("a refused transition must not be retried: {other:?}"),
        }
        assert!(matches!(
            JobError::from(SetStatusError::NotFound(7)),
            JobError::Permanent(_)
        ));
    }

    #[test]
    fn the_database_cause_is_kept_in_the_message() {
        let e = PlaceOrderError::from(sqlx::Error::PoolTimedOut);
        assert!(e.to_string().contains("pool timed out"), "{e}");
        let e = SetStatusError::from(sqlx::Error::PoolTimedOut);
        assert!(e.to_string().contains("pool timed out"), "{e}");
    }

    #[test]
    fn limit_database_errors_stay_database_errors() {
        let e = PlaceOrderError::from(LimitError::Store(StoreError::Query(
            sqlx::Error::PoolTimedOut,
        )));
        assert!(matches!(e, PlaceOrderError::Store(_)));
        let e = PlaceOrderError::from(LimitError::TooManyUnpaid { open: 3, max: 3 });
        assert!(matches!(e, PlaceOrderError::Limit(_)));
    }
}
