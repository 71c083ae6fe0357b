//! `POST /v1/session/refresh`, `POST /v1/logout`, and `GET` and `PATCH /v1/userinfo`.

use crate::protocol::{ApiErrorCode, ErrorBody, ProfileUpdate, SessionRequest, Tokens, UserInfo};
use crate::server::app::AppState;
use crate::server::chat::rooms;
use crate::server::error::{AppError, AppResult};
use crate::server::extract::{ApiJson, Bearer, ClientIp};
use crate::server::ratelimit::Scope;
use crate::server::{profile, users};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

/// Refreshes the id_token and rotates the session_token.
#[utoipa::path(
    post, path = "/v1/session/refresh", tag = "session",
    request_body = SessionRequest,
    responses(
        (status = 200, description = "a new id_token and a rotated session_token", body = Tokens),
        (status = 400, description = "invalid_request", body = ErrorBody),
        (status = 401, description = "invalid_session: unknown, expired, revoked or replayed", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody),
    )
)]
pub async fn refresh(
    State(app): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(request): ApiJson<SessionRequest>,
) -> AppResult<Json<Tokens>> {
    app.limits.check_ip(Scope::Refresh, &ip.to_string())?;
    let tokens =
        app.sessions.refresh(&app.db, &app.keys(), &app.limits, &request.session_token, app.clock.now()).await?;
    Ok(Json(tokens))
}

/// Signs out: revokes the session family.
#[utoipa::path(
    post, path = "/v1/logout", tag = "session",
    request_body = SessionRequest,
    responses(
        (status = 204, description = "the session is over"),
        (status = 400, description = "invalid_request", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody),
    )
)]
pub async fn logout(
    State(app): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(request): ApiJson<SessionRequest>,
) -> AppResult<StatusCode> {
    app.limits.check_ip(Scope::Refresh, &ip.to_string())?;
    app.sessions.logout(&app.db.write, &request.session_token, app.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in user's profile, for a valid id_token.
#[utoipa::path(
    get, path = "/v1/userinfo", tag = "session",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "the user's profile", body = UserInfo),
        (status = 401, description = "unauthorized", body = ErrorBody),
    )
)]
pub async fn userinfo(State(app): State<AppState>, Bearer(id_token): Bearer) -> AppResult<Json<UserInfo>> {
    let user = signed_in_user(&app, &id_token).await?;
    Ok(Json(rooms::profile(&app.db.read, &user).await?))
}

/// Updates the signed-in user's editable profile fields and answers the
/// profile. The id_token carries the change from its next refresh. POST
/// takes the same update as PATCH, for clients that cannot send PATCH
/// (`wx.request` knows GET, POST, PUT, DELETE and a few others only).
#[utoipa::path(
    method(patch, post), path = "/v1/userinfo", tag = "session",
    security(("bearer" = [])),
    request_body = ProfileUpdate,
    responses(
        (status = 200, description = "the updated profile", body = UserInfo),
        (status = 400, description = "invalid_request: a field is malformed, or not editable here", body = ErrorBody),
        (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody),
    )
)]
pub async fn update_userinfo(
    State(app): State<AppState>,
    Bearer(id_token): Bearer,
    ApiJson(mut update): ApiJson<ProfileUpdate>,
) -> AppResult<Json<UserInfo>> {
    let user = signed_in_user(&app, &id_token).await?;
    app.limits.check_account(Scope::Profile, &user.id)?;
    profile::check(&mut update)?;
    let updated =
        users::update_profile(&app.db.write, &user.id, &update).await?.ok_or_else(|| unauthorized("unknown user"))?;
    Ok(Json(rooms::profile(&app.db.read, &updated).await?))
}

/// The user an id_token names, once it verifies. The server checks its own
/// tokens with the miniauth core, as any backend would.
pub(super) async fn signed_in_user(app: &AppState, id_token: &str) -> AppResult<users::User> {
    let verified = app
        .id_token_validation
        .verify(&app.keys().verify_keys, id_token, app.clock.now() as f64)
        .map_err(|e| unauthorized(e.code().as_str()))?;
    let sub = verified.claims.get("sub").and_then(|s| s.as_str()).ok_or_else(|| unauthorized("no sub"))?;
    users::by_id(&app.db.read, sub).await?.ok_or_else(|| unauthorized("unknown user"))
}

fn unauthorized(why: &str) -> AppError {
    AppError::new(ApiErrorCode::Unauthorized, format!("the id_token does not verify: {why}"))
}
