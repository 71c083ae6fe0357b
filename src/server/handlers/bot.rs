//! The bot API (`/v1/bot/…`), for the Wechaty plugin: every call needs a
//! current bot key (`Authorization: Bearer mab_…`), and a bot sees only its
//! own tickets, contacts and deliveries.

use crate::protocol::{
    ApiErrorCode, ChatChallengeAnswer, ChatChallengeRequest, Delivery, ErrorBody, LinkTicket, LinkTicketRequest,
    UserInfo,
};
use crate::server::app::AppState;
use crate::server::chat::{deliveries, links, logins};
use crate::server::error::{AppError, AppResult};
use crate::server::extract::{ApiJson, ApiPath, ApiQuery, BotKey};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use std::time::Duration;

/// A ticket for a login card to a contact.
#[utoipa::path(
    post, path = "/v1/bot/link-tickets", tag = "bot",
    security(("bot_key" = [])),
    request_body = LinkTicketRequest,
    responses(
        (status = 200, description = "a single-use ticket for the card's pagePath", body = LinkTicket),
        (status = 400, description = "invalid_request: a malformed contact, or one without a stable id", body = ErrorBody),
        (status = 401, description = "unauthorized", body = ErrorBody),
    )
)]
pub async fn link_ticket(
    State(app): State<AppState>,
    BotKey(bot): BotKey,
    ApiJson(request): ApiJson<LinkTicketRequest>,
) -> AppResult<Json<LinkTicket>> {
    Ok(Json(links::issue_ticket(&app.db.write, &bot, &request.contact, app.clock.now()).await?))
}

/// The profile of the user a contact is linked to.
#[utoipa::path(
    get, path = "/v1/bot/contacts/{contactId}", tag = "bot",
    security(("bot_key" = [])),
    params(("contactId" = String, Path, description = "the contact's id at this bot")),
    responses(
        (status = 200, description = "the linked user's profile", body = UserInfo),
        (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 404, description = "not_found: the contact is linked to nobody (at this bot)", body = ErrorBody),
    )
)]
pub async fn contact(
    State(app): State<AppState>,
    BotKey(bot): BotKey,
    ApiPath(contact_id): ApiPath<String>,
) -> AppResult<Json<UserInfo>> {
    let profile = links::profile_of(&app.db.read, &bot, &contact_id).await?;
    profile.map(Json).ok_or_else(|| AppError::new(ApiErrorCode::NotFound, "this contact is linked to nobody"))
}

/// A text a contact sent the bot that may be a chat sign-in challenge.
#[utoipa::path(
    post, path = "/v1/bot/challenges", tag = "bot",
    security(("bot_key" = [])),
    request_body = ChatChallengeRequest,
    responses(
        (status = 200, description = "whether it was a live challenge, which the contact took", body = ChatChallengeAnswer),
        (status = 400, description = "invalid_request", body = ErrorBody),
        (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 429, description = "rate_limited: this contact sent too many", body = ErrorBody),
    )
)]
pub async fn challenge(
    State(app): State<AppState>,
    BotKey(bot): BotKey,
    ApiJson(request): ApiJson<ChatChallengeRequest>,
) -> AppResult<Json<ChatChallengeAnswer>> {
    let matched = logins::answer(&app, &bot, &request.contact_id, &request.text, app.clock.now()).await?;
    Ok(Json(ChatChallengeAnswer { matched }))
}

/// `?wait=`: seconds to wait for a delivery when none is due.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DeliveriesQuery {
    /// 0 to 25; 0 (the default) answers at once.
    #[serde(default)]
    wait: u32,
}

/// What this bot is to deliver, oldest first: a long-poll. Each delivery
/// handed out is leased for 60 s; one not acknowledged by then comes again.
#[utoipa::path(
    get, path = "/v1/bot/deliveries", tag = "bot",
    security(("bot_key" = [])),
    params(DeliveriesQuery),
    responses(
        (status = 200, description = "up to 50 deliveries; empty when none came within the wait", body = [Delivery]),
        (status = 400, description = "invalid_request: wait is not 0 to 25", body = ErrorBody),
        (status = 401, description = "unauthorized", body = ErrorBody),
    )
)]
pub async fn deliveries(
    State(app): State<AppState>,
    BotKey(bot): BotKey,
    ApiQuery(query): ApiQuery<DeliveriesQuery>,
) -> AppResult<Json<Vec<Delivery>>> {
    if query.wait > deliveries::MAX_WAIT_SECS {
        return Err(AppError::invalid_request("\"wait\" must be 0 to 25 seconds"));
    }
    let wait = Duration::from_secs(query.wait.into());
    Ok(Json(app.deliveries.next(&app.db.write, app.clock.as_ref(), &bot.id, wait).await?))
}

/// Acknowledges a delivery: it is done, and will not come again.
#[utoipa::path(
    post, path = "/v1/bot/deliveries/{id}/ack", tag = "bot",
    security(("bot_key" = [])),
    params(("id" = String, Path, description = "the delivery's id")),
    responses(
        (status = 204, description = "acknowledged (also when it was already)"),
        (status = 401, description = "unauthorized", body = ErrorBody),
    )
)]
pub async fn ack(
    State(app): State<AppState>,
    BotKey(bot): BotKey,
    ApiPath(id): ApiPath<String>,
) -> AppResult<StatusCode> {
    deliveries::ack(&app.db.write, &bot.id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
