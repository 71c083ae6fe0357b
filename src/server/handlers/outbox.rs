//! `GET /sim/outbox?to=…` (simulator mode only): the one-time codes "sent"
//! to a phone number or email address, as its owner would read them.

use crate::protocol::Channel;
use crate::server::app::AppState;
use crate::server::codes::normalize_recipient;
use crate::server::error::{AppError, AppResult};
use crate::server::extract::ApiQuery;
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};

/// `?to=`: a phone number or email address, in any form
/// [`normalize_recipient`] accepts.
#[derive(Deserialize)]
pub(crate) struct OutboxQuery {
    to: String,
}

/// One delivered message: the code, the text a user would read, and when
/// it was sent (seconds since the epoch).
#[derive(Serialize)]
pub(crate) struct OutboxMessage {
    channel: Channel,
    to: String,
    code: String,
    text: String,
    sent_at: i64,
}

/// The messages for one recipient, newest first.
pub(crate) async fn outbox(
    State(app): State<AppState>,
    ApiQuery(query): ApiQuery<OutboxQuery>,
) -> AppResult<Json<Vec<OutboxMessage>>> {
    let outbox = app.outbox.as_ref().ok_or_else(|| AppError::internal("outbox requested outside simulator mode"))?;
    let channel = if query.to.contains('@') { Channel::Email } else { Channel::Sms };
    let to = normalize_recipient(channel, &query.to)?;
    let messages = outbox
        .for_recipient(&to)
        .into_iter()
        .map(|(message, sent_at)| OutboxMessage {
            channel: message.channel,
            text: format!("Your miniauth verification code is {}. It expires in 5 minutes.", message.code),
            to: message.to,
            code: message.code,
            sent_at: sent_at / 1000,
        })
        .collect();
    Ok(Json(messages))
}
