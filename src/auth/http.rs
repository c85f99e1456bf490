//! Sign-in and profile endpoints.

use axum::Json;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::customer::{self, CustomerProfile};
use super::{Auth, Customer, DevUser, SessionToken, SignInError};
use crate::error::{ApiError, AuthErrors, BodyErrors, FieldError};
use crate::extract::ApiJson;
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
pub struct AuthRequest {
    /// `Telegram.WebApp.initData` exactly as the client received it.
    pub init_data: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuthResponse {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    /// Unix seconds.
    pub expires_at: u64,
    pub customer: CustomerProfile,
}

/// Exchange initData for a short-lived session token.
#[utoipa::path(post, path = "/api/v1/auth", tag = "auth", request_body = AuthRequest, responses(
    (status = 200, body = AuthResponse), AuthErrors, BodyErrors,
))]
pub async fn auth(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<AuthRequest>,
) -> Result<Json<AuthResponse>, ApiError> {
    let customer = state.auth.sign_in(&body.init_data).await?;
    state.limits.sign_in(customer.telegram_id)?;
    // The Mini App opened: the funnel's first step.
    let (store, funnel) = (&state.store, &state.funnel);
    funnel
        .note(store, crate::desk::funnel::Kind::AppOpen, customer.id, "")
        .await;
    let SessionToken { token, expires_at } = state.auth.issue_token(&customer)?;
    let profile = load_profile(&state, &customer).await?;
    Ok(Json(AuthResponse {
        token,
        expires_at,
        customer: profile,
    }))
}

async fn load_profile(state: &AppState, customer: &Customer) -> Result<CustomerProfile, ApiError> {
    customer::profile(&state.store, customer.id)
        .await?
        .ok_or_else(|| ApiError::not_found("customer"))
}

/// The signed-in customer's profile.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("tma" = []), ("bearer" = [])), responses(
    (status = 200, body = CustomerProfile), AuthErrors,
))]
pub async fn me(
    State(state): State<AppState>,
    customer: Customer,
) -> Result<Json<CustomerProfile>, ApiError> {
    Ok(Json(load_profile(&state, &customer).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeUpdate {
    /// 10 to 15 digits with an optional `+` and separators, e.g. `+7 (999) 123-45-67`;
    /// stored as `+79991234567`. An empty string removes it.
    #[schema(pattern = r"^$|^\s*\+?(?:[ ()\-.]*[0-9]){10,15}[ ()\-.]*$")]
    pub phone: Option<String>,
    /// Interface language.
    #[schema(pattern = "^(ru|en)$")]
    pub language_code: Option<String>,
}

/// Update the contact phone or the interface language.
#[utoipa::path(patch, path = "/api/v1/me", tag = "auth", security(("tma" = []), ("bearer" = [])), request_body = MeUpdate, responses(
    (status = 200, body = CustomerProfile), AuthErrors, BodyErrors,
))]
pub async fn update_me(
    State(state): State<AppState>,
    customer: Customer,
    ApiJson(update): ApiJson<MeUpdate>,
) -> Result<Json<CustomerProfile>, ApiError> {
    let mut errors = Vec::new();
    let phone = match update.phone.as_deref().map(str::trim) {
        None => None,
        Some("") => Some(None),
        Some(p) => match crate::phone::Phone::parse(p) {
            Ok(p) => Some(Some(p.into_string())),
            Err(_) => {
                errors.push(FieldError {
                    field: "phone".into(),
                    code: "invalid_phone".into(),
                    message: "expected a phone number with country code, e.g. +79991234567".into(),
                });
                None
            }
        },
    };
    if let Some(lang) = update.language_code.as_deref()
        && !matches!(lang, "ru" | "en")
    {
        errors.push(FieldError {
            field: "language_code".into(),
            code: "unsupported_language".into(),
            message: "expected ru or en".into(),
        });
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    if let Some(phone) = phone {
        customer::set_phone(&state.store, customer.id, phone.as_deref()).await?;
    }
    if let Some(lang) = update.language_code.as_deref() {
        customer::set_language(&state.store, customer.id, lang).await?;
    }
    Ok(Json(load_profile(&state, &customer).await?))
}

#[derive(Debug, Serialize)]
pub struct DevInitData {
    pub init_data: String,
    /// Ready to paste into curl: `-H "Authorization: tma …"`.
    pub authorization: String,
}

/// How the dev sign-in's client signs: `?signature=false` leaves out the Ed25519
/// `signature` field, as Telegram clients before Bot API 8.0 do (the HMAC still holds).
#[derive(Debug, Deserialize)]
pub struct DevClient {
    #[serde(default)]
    pub signature: Option<bool>,
}

/// Dev sign-in: initData signed with the demo bot token, so the Mini App and curl work
/// without Telegram. Mounted only with `dev.enabled`.
pub async fn dev_init_data(
    Query(user): Query<DevUser>,
    Query(client): Query<DevClient>,
) -> Json<DevInitData> {
    let now = std::time::SystemTime::now();
    let init_data = Auth::dev_init_data_as(&user, now, client.signature.unwrap_or(true));
    Json(DevInitData {
        authorization: format!("tma {init_data}"),
        init_data,
    })
}

impl From<SignInError> for ApiError {
    fn from(e: SignInError) -> Self {
        match e {
            SignInError::NotConfigured => {
                ApiError::unavailable("auth_not_configured", e.to_string())
            }
            SignInError::Refused(f) => f.into(),
            SignInError::NoUser => ApiError::unauthorized("auth_malformed", e.to_string()),
            SignInError::Store(e) => e.into(),
        }
    }
}

#[cfg(test)]
mod sign_in_error_tests {
    use super::*;
    use crate::auth::AuthFailure;
    use axum::http::StatusCode;

    #[test]
    fn sign_in_errors_keep_their_codes() {
        let cases = [
            (
                SignInError::NotConfigured,
                StatusCode::SERVICE_UNAVAILABLE,
                "auth_not_configured",
            ),
            (
                SignInError::NoUser,
                StatusCode::UNAUTHORIZED,
                "auth_malformed",
            ),
            (
                AuthFailure::Expired.into(),
                StatusCode::UNAUTHORIZED,
                "auth_expired",
            ),
            (
                AuthFailure::BadSignature.into(),
                StatusCode::UNAUTHORIZED,
                "auth_bad_signature",
            ),
            (
                SignInError::Store(sqlx::Error::PoolTimedOut.into()),
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
            ),
        ];
        for (e, status, code) in cases {
            let api = ApiError::from(e);
            assert_eq!((api.status, api.code), (status, code));
        }
    }
}
