//! `POST /sim/chat/say` (simulator mode only): what a person would send the
//! server's simulated bot in WeChat, so that chat sign-in runs without a
//! real bot (the playground). It takes the same path as a real bot's
//! `POST /v1/bot/challenges`.

use crate::protocol::{ChatChallengeAnswer, ChatChallengeRequest};
use crate::server::app::AppState;
use crate::server::chat::{bots, logins};
use crate::server::error::{AppError, AppResult};
use crate::server::extract::ApiJson;
use axum::extract::State;
use axum::Json;

/// The simulated bot's name; [`crate::server::start`] adds it in simulator
/// mode.
pub const SIMULATED_BOT: &str = "simulator";

pub(crate) async fn say(
    State(app): State<AppState>,
    ApiJson(request): ApiJson<ChatChallengeRequest>,
) -> AppResult<Json<ChatChallengeAnswer>> {
    let bot = bots::named(&app.db.read, SIMULATED_BOT)
        .await?
        .ok_or_else(|| AppError::internal("the simulated bot is missing"))?;
    let matched = logins::answer(&app, &bot, &request.contact_id, &request.text, app.clock.now()).await?;
    Ok(Json(ChatChallengeAnswer { matched }))
}
