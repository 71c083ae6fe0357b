//! `GET /healthz` and `GET /readyz`, for load balancers and orchestrators.
//! Neither is rate limited nor says more than up or not: they are public.

use crate::protocol::{ApiErrorCode, ErrorBody};
use crate::server::app::AppState;
use crate::server::error::{AppError, AppResult};
use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

/// The answer of a health check that passed.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthStatus {
    /// Always `ok`.
    #[schema(example = "ok")]
    pub status: &'static str,
}

const OK: HealthStatus = HealthStatus { status: "ok" };

/// Liveness: the process is up and answers HTTP. Checks nothing else, so
/// that a slow database never gets a live server restarted.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "the process is up", body = HealthStatus)))]
pub async fn healthz() -> Json<HealthStatus> {
    Json(OK)
}

/// Readiness: the database answers and the active signing key signs, so
/// logins and refreshes can succeed.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses(
        (status = 200, description = "ready to serve", body = HealthStatus),
        (status = 503, description = "not_ready: the database does not answer or the signing key cannot sign", body = ErrorBody),
    ))]
pub async fn readyz(State(app): State<AppState>) -> AppResult<Json<HealthStatus>> {
    if let Err(error) = sqlx::query("SELECT 1").execute(&app.db.read).await {
        // The cause is for the operator; the answer says only what is wrong.
        tracing::warn!(%error, "not ready: the database does not answer");
        return Err(AppError::new(ApiErrorCode::NotReady, "the database does not answer"));
    }
    if !app.keys().can_sign() {
        tracing::warn!("not ready: the active signing key cannot sign");
        return Err(AppError::new(ApiErrorCode::NotReady, "the signing key cannot sign"));
    }
    Ok(Json(OK))
}
