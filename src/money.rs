//! An amount of money as the API shows it: minor units and an ISO 4217 currency.

use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Money {
    /// Minor units (kopecks).
    pub amount: i64,
    /// ISO 4217.
    pub currency: String,
}
