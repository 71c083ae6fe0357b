//! Chat links, from the signed-in user's side: `POST /v1/chat-links` (a
//! login card was opened), `POST /v1/chat-links/confirm` (with the code the
//! contact got in chat), `GET /v1/chat-links` and `DELETE
//! /v1/chat-links/{contactId}`.

use super::signed_in::signed_in_user;
use crate::protocol::ApiErrorCode;
use crate::protocol::{ChatLink, ChatLinkConfirm, ChatLinkRequest, ErrorBody, VerifyCodeSent};
use crate::server::app::AppState;
use crate::server::chat::links;
use crate::server::codes;
use crate::server::error::{AppError, AppResult};
use crate::server::extract::{ApiJson, ApiPath, Bearer, ClientIp};
use crate::server::ratelimit::Scope;
use crate::server::users::User;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use std::net::IpAddr;

/// Opens a login card: the signed-in user holds its ticket, and the
/// contact it was sent to gets a code in chat.
#[utoipa::path(
    post, path = "/v1/chat-links", tag = "chat",
    security(("bearer" = [])),
    request_body = ChatLinkRequest,
    responses(
        (status = 202, description = "the contact is being sent a code in chat", body = VerifyCodeSent),
        (status = 400, description = "invalid_request, invalid_ticket", body = ErrorBody),
        (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 429, description = "rate_limited, verify_code_too_frequent, verify_code_limit_reached", body = ErrorBody),
    )
)]
pub async fn open(
    State(app): State<AppState>,
    ClientIp(ip): ClientIp,
    Bearer(id_token): Bearer,
    ApiJson(request): ApiJson<ChatLinkRequest>,
) -> AppResult<(StatusCode, Json<VerifyCodeSent>)> {
    let user = linking_user(&app, ip, &id_token).await?;
    links::open(&app, &user, &request.ticket, app.clock.now()).await?;
    Ok((StatusCode::ACCEPTED, Json(codes::sent())))
}

/// Links the card's contact to the signed-in user, with the code the
/// contact got in chat.
#[utoipa::path(
    post, path = "/v1/chat-links/confirm", tag = "chat",
    security(("bearer" = [])),
    request_body = ChatLinkConfirm,
    responses(
        (status = 200, description = "the contact is linked", body = ChatLink),
        (status = 400, description = "invalid_request, invalid_ticket, invalid_verify_code, verify_code_expired, verify_code_exhausted", body = ErrorBody),
        (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 429, description = "rate_limited, too_many_failures", body = ErrorBody),
    )
)]
pub async fn confirm(
    State(app): State<AppState>,
    ClientIp(ip): ClientIp,
    Bearer(id_token): Bearer,
    ApiJson(request): ApiJson<ChatLinkConfirm>,
) -> AppResult<Json<ChatLink>> {
    let user = linking_user(&app, ip, &id_token).await?;
    Ok(Json(links::confirm(&app, &user, &request.ticket, &request.code, ip, app.clock.now()).await?))
}

/// The signed-in user of a linking request, within the limits of binds
/// (per address and per user).
async fn linking_user(app: &AppState, ip: IpAddr, id_token: &str) -> AppResult<User> {
    app.limits.check_ip(Scope::Bind, &ip.to_string())?;
    let user = signed_in_user(app, id_token).await?;
    app.limits.check_account(Scope::Bind, &user.id)?;
    Ok(user)
}

/// The chat contacts linked to the signed-in user.
#[utoipa::path(
    get, path = "/v1/chat-links", tag = "chat",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "the user's linked contacts, oldest link first", body = [ChatLink]),
        (status = 401, description = "unauthorized", body = ErrorBody),
    )
)]
pub async fn list(State(app): State<AppState>, Bearer(id_token): Bearer) -> AppResult<Json<Vec<ChatLink>>> {
    let user = signed_in_user(&app, &id_token).await?;
    Ok(Json(links::of_user(&app.db.read, &user).await?))
}

/// Unlinks one of the signed-in user's chat contacts.
#[utoipa::path(
    delete, path = "/v1/chat-links/{contactId}", tag = "chat",
    security(("bearer" = [])),
    params(("contactId" = String, Path, description = "the contact's id at its bot")),
    responses(
        (status = 204, description = "unlinked; its bot hears of it"),
        (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 404, description = "not_found: no such contact is linked to this user", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody),
    )
)]
pub async fn unlink(
    State(app): State<AppState>,
    Bearer(id_token): Bearer,
    ApiPath(contact_id): ApiPath<String>,
) -> AppResult<StatusCode> {
    let user = signed_in_user(&app, &id_token).await?;
    app.limits.check_account(Scope::Profile, &user.id)?;
    if !links::unlink(&app, &user, &contact_id, app.clock.now()).await? {
        return Err(AppError::new(ApiErrorCode::NotFound, "no such contact is linked to this user"));
    }
    Ok(StatusCode::NO_CONTENT)
}
