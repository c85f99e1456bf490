//! The staff desk: the Mini App's second face for the shop's staff. Orders (list, search,
//! detail, status changes, messages to the customer), the day at a glance (orders, revenue,
//! top products, the funnel), and the CSV export. Every route takes [`Staff`], which checks
//! the caller's role (`telegram.staff_roles`, `telegram.staff_user_ids`) on the server.

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;

use crate::auth::Customer;
use crate::config::StaffRole;
use crate::error::ApiError;
use crate::state::AppState;

pub mod csv;
pub mod day;
pub mod funnel;
pub mod http;
mod store;
pub mod summary;

pub use day::Day;

/// A signed-in staff member: the customer behind the Telegram user, and their role.
#[derive(Debug, Clone)]
pub struct Staff {
    pub customer: Customer,
    pub role: StaffRole,
}

impl Staff {
    /// Refuses an action to a viewer (403 `forbidden`).
    pub fn manager(&self) -> Result<(), ApiError> {
        match self.role {
            StaffRole::Manager => Ok(()),
            StaffRole::Viewer => Err(forbidden("viewers read only; ask a manager to act")),
        }
    }
}

pub fn forbidden(detail: &str) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "forbidden", detail)
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let customer = Customer::from_request_parts(parts, state).await?;
        match state.config.telegram.staff_role(customer.telegram_id) {
            Some(role) => Ok(Staff { customer, role }),
            None => Err(forbidden("the staff desk is for the shop's staff")),
        }
    }
}

/// The timeline's actor for a staff member: `staff:<username>`, or `staff:<telegram id>`
/// without one (as the staff buttons write it).
pub fn actor(username: Option<&str>, telegram_id: i64) -> String {
    match username.filter(|u| !u.is_empty()) {
        Some(u) => format!("staff:{u}"),
        None => format!("staff:{telegram_id}"),
    }
}
