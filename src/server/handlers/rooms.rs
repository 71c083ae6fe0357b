//! Rooms as groups: the bot's sync (`/v1/bot/rooms/…`) and the reads
//! (`/v1/rooms/…`) by the bot, by API clients with `rooms:read`, and by
//! signed-in users whose linked contact is a member. A room a caller may not
//! read is answered as one that does not exist.

use super::signed_in::signed_in_user;
use crate::protocol::{ApiErrorCode, ErrorBody, Room, RoomMember, RoomSnapshot, RoomSynced};
use crate::server::app::AppState;
use crate::server::chat::bots;
use crate::server::chat::rooms::{self, Reader};
use crate::server::clients::{self, Scope};
use crate::server::error::{AppError, AppResult};
use crate::server::extract::{ApiJson, ApiPath, ApiQuery, Bearer, BotKey};
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;

/// The body limit of a room snapshot: a room of 500 members, each with
/// every field at its longest (in four-byte characters), fits: about 2.3 MB.
pub const MAX_SNAPSHOT_BYTES: usize = 4 * 1024 * 1024;

/// Stores the bot's snapshot of a room, whole, unless the server holds a
/// newer one.
#[utoipa::path(
    put, path = "/v1/bot/rooms/{id}", tag = "rooms",
    security(("bot_key" = [])),
    params(("id" = String, Path, description = "the room's id at this bot")),
    request_body = RoomSnapshot,
    responses(
        (status = 200, description = "whether the snapshot changed the server's copy", body = RoomSynced),
        (status = 400, description = "invalid_request: a malformed id or field, too many members, one twice, or syncedAt too far ahead", body = ErrorBody),
        (status = 401, description = "unauthorized", body = ErrorBody),
    )
)]
pub async fn sync(
    State(app): State<AppState>,
    BotKey(bot): BotKey,
    ApiPath(id): ApiPath<String>,
    ApiJson(snapshot): ApiJson<RoomSnapshot>,
) -> AppResult<Json<RoomSynced>> {
    let applied = rooms::sync(&app.db.write, &bot, &id, snapshot, app.clock.now()).await?;
    Ok(Json(RoomSynced { applied }))
}

/// `?syncedAt=`: when the bot left, by its clock.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LeaveQuery {
    /// ms since the epoch; the server's clock when left out.
    synced_at: Option<u64>,
}

/// The bot left a room: the server's copy goes, and snapshots taken before
/// then change nothing.
#[utoipa::path(
    delete, path = "/v1/bot/rooms/{id}", tag = "rooms",
    security(("bot_key" = [])),
    params(("id" = String, Path, description = "the room's id at this bot"), LeaveQuery),
    responses(
        (status = 204, description = "left (also when the server held no such room)"),
        (status = 400, description = "invalid_request: a malformed id, or syncedAt too far ahead", body = ErrorBody),
        (status = 401, description = "unauthorized", body = ErrorBody),
    )
)]
pub async fn leave(
    State(app): State<AppState>,
    BotKey(bot): BotKey,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<LeaveQuery>,
) -> AppResult<StatusCode> {
    rooms::leave(&app.db.write, &bot, &id, query.synced_at, app.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The ids of the rooms the server holds for this bot: a full sync leaves
/// those the bot is no longer in.
#[utoipa::path(
    get, path = "/v1/bot/rooms", tag = "rooms",
    security(("bot_key" = [])),
    responses(
        (status = 200, description = "room ids, sorted", body = [String]),
        (status = 401, description = "unauthorized", body = ErrorBody),
    )
)]
pub async fn of_bot(State(app): State<AppState>, BotKey(bot): BotKey) -> AppResult<Json<Vec<String>>> {
    Ok(Json(rooms::of_bot(&app.db.read, &bot).await?))
}

/// A room and who is in it.
#[utoipa::path(
    get, path = "/v1/rooms/{id}", tag = "rooms",
    security(("bot_key" = []), ("client_secret" = []), ("bearer" = [])),
    params(("id" = String, Path, description = "the room's id")),
    responses(
        (status = 200, description = "the room", body = Room),
        (status = 401, description = "unauthorized: no current bot key, client secret or id_token", body = ErrorBody),
        (status = 403, description = "insufficient_scope: a client without rooms:read", body = ErrorBody),
        (status = 404, description = "not_found: no such room, or not one this caller may read", body = ErrorBody),
    )
)]
pub async fn room(
    State(app): State<AppState>,
    RoomReader(reader): RoomReader,
    ApiPath(id): ApiPath<String>,
) -> AppResult<Json<Room>> {
    rooms::room(&app.db.read, &reader, &id).await?.map(Json).ok_or_else(no_such_room)
}

/// One member of a room.
#[utoipa::path(
    get, path = "/v1/rooms/{id}/members/{memberId}", tag = "rooms",
    security(("bot_key" = []), ("client_secret" = []), ("bearer" = [])),
    params(("id" = String, Path, description = "the room's id"), ("memberId" = String, Path, description = "the member's id")),
    responses(
        (status = 200, description = "the member", body = RoomMember),
        (status = 401, description = "unauthorized: no current bot key, client secret or id_token", body = ErrorBody),
        (status = 403, description = "insufficient_scope: a client without rooms:read", body = ErrorBody),
        (status = 404, description = "not_found: no such room or member, or not one this caller may read", body = ErrorBody),
    )
)]
pub async fn member(
    State(app): State<AppState>,
    RoomReader(reader): RoomReader,
    ApiPath((id, member_id)): ApiPath<(String, String)>,
) -> AppResult<Json<RoomMember>> {
    let member = rooms::member(&app.db.read, &reader, &id, &member_id).await?;
    member.map(Json).ok_or_else(|| AppError::new(ApiErrorCode::NotFound, "no such room member"))
}

fn no_such_room() -> AppError {
    AppError::new(ApiErrorCode::NotFound, "no such room")
}

/// Who reads, from `Authorization: Bearer`: a bot key (`mab_…`), an API
/// client secret (`mac_…`, with `rooms:read`), or else a user's id_token.
pub struct RoomReader(Reader);

impl FromRequestParts<AppState> for RoomReader {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Self::Rejection> {
        let Bearer(token) = Bearer::from_request_parts(parts, app).await.map_err(|_| {
            AppError::new(ApiErrorCode::Unauthorized, "a bot key, an API client secret or an id_token is required")
        })?;
        if bots::KIND.claims(&token) {
            return Ok(Self(Reader::Bot(bots::authenticate(&app.db.read, &token).await?)));
        }
        if clients::KIND.claims(&token) {
            let client = clients::authenticate(&app.db.read, &token)
                .await?
                .ok_or_else(|| AppError::new(ApiErrorCode::Unauthorized, "a current API client secret is required"))?;
            if !client.may(Scope::RoomsRead) {
                return Err(AppError::new(
                    ApiErrorCode::InsufficientScope,
                    format!("the client {} lacks the scope {}", client.name, Scope::RoomsRead.as_str()),
                ));
            }
            return Ok(Self(Reader::Client));
        }
        Ok(Self(Reader::User(signed_in_user(app, &token).await?)))
    }
}
