//! One-time codes for binding by phone or email: six digits, five minutes,
//! single use. A code belongs to the bind (the state token) that asked for
//! it: only that bind's latest code counts, one new code a minute, five
//! wrong tries kill it, and nobody else's sends or guesses touch it. Codes
//! are stored as salted hashes and compared in constant time; the plain
//! code goes only to the [`Sender`]. How many codes go out is bounded by
//! [`Budgets`], and guessing by [`super::guesses`].

mod budget;
mod delivery;
mod recipient;

pub use budget::{Budgets, PER_PAIR_PER_DAY, PER_STATE_TOKEN};
pub use delivery::{Message, NoSender, Outbox, OutboxSender, Sender, Sending, Undelivered, WebhookSender};
pub use recipient::{normalize_recipient, SmsCountries};

use super::app::App;
use super::binding::Pending;
use super::clock::Millis;
use super::db::take_turn;
use super::error::AppError;
use super::guesses::{self, Guess};
use super::secrets::{constant_time_eq, new_six_digit_code, random_bytes, salted_hash};
use super::telemetry::CodeSendOutcome;
use crate::protocol::{ApiErrorCode, Channel};
use sqlx::AnyPool;

/// How long a code lives.
pub const CODE_TTL_MS: Millis = 5 * 60_000;
/// The least time between two codes for one bind.
pub const RESEND_AFTER_MS: Millis = 60_000;
/// Wrong tries after which a code is dead.
pub const MAX_ATTEMPTS: i64 = 5;

fn channel_name(channel: Channel) -> &'static str {
    match channel {
        Channel::Sms => "sms",
        Channel::Email => "email",
    }
}

/// A recipient as the budgets and guess ceilings count it: `sms:+86…`.
pub fn recipient_key(channel: Channel, to: &str) -> String {
    format!("{}:{to}", channel_name(channel))
}

/// Issues a new code for the bind `pending` to `to` (normalised) and hands
/// it to the app's sender, counting what the sender said. The new code
/// replaces the bind's earlier one.
pub async fn issue(app: &App, pending: &Pending, channel: Channel, to: &str, now: Millis) -> Result<(), AppError> {
    let (pool, sender, budgets) = (&app.db.write, app.sender.as_ref(), &app.code_budgets);
    let recipient = recipient_key(channel, to);
    let code = new_six_digit_code();
    let salt = random_bytes::<16>();
    let code_hash = salted_hash(&salt, &code);
    // The resend rule, the budgets and the write in one transaction on the
    // one write connection, so that concurrent requests cannot all pass.
    let mut tx = pool.begin().await?;
    // One sender at a time: the server-wide budgets count every send.
    take_turn(&mut tx, "code-sends").await?;
    let last: Option<(i64,)> = sqlx::query_as("SELECT created_at FROM verify_codes WHERE state_token_hash = $1")
        .bind(&pending.token_hash)
        .fetch_optional(&mut *tx)
        .await?;
    if let Some((created_at,)) = last.filter(|(created_at,)| created_at + RESEND_AFTER_MS > now) {
        let secs = u64::try_from((created_at + RESEND_AFTER_MS - now + 999) / 1000).unwrap_or(1);
        let message = "this sign-in was sent a code less than a minute ago";
        return Err(AppError::too_many(ApiErrorCode::VerifyCodeTooFrequent, message, secs));
    }
    let identity = pending.identity.key();
    let request = budget::Request { state_token_hash: &pending.token_hash, recipient: &recipient, identity: &identity };
    budgets.check(&mut tx, &request, now).await?;
    sqlx::query(
        "INSERT INTO verify_codes (state_token_hash, channel, recipient, code_hash, salt, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (state_token_hash) DO UPDATE SET
           channel = excluded.channel, recipient = excluded.recipient, code_hash = excluded.code_hash,
           salt = excluded.salt, created_at = excluded.created_at, expires_at = excluded.expires_at,
           attempts = 0, used_at = NULL",
    )
    .bind(&pending.token_hash)
    .bind(channel_name(channel))
    .bind(to)
    .bind(&code_hash)
    .bind(salt.as_slice())
    .bind(now)
    .bind(now + CODE_TTL_MS)
    .execute(&mut *tx)
    .await?;
    let (send_id,): (i64,) = sqlx::query_as(
        "INSERT INTO code_sends (sent_at, recipient, identity, state_token_hash) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(now)
    .bind(&recipient)
    .bind(&identity)
    .bind(&pending.token_hash)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;

    let message = Message { channel, to: to.to_string(), code };
    let sent = sender.send(&message).await;
    let outcome = match &sent {
        Ok(()) => CodeSendOutcome::Sent,
        Err(Undelivered::Unknown(_)) => CodeSendOutcome::Unknown,
        Err(Undelivered::NotSent(_)) => CodeSendOutcome::NotSent,
    };
    app.metrics.code_sent(channel, outcome);
    match sent {
        Ok(()) => Ok(()),
        Err(Undelivered::Unknown(why)) => {
            // It may have gone out: keep the code and the resend rule, so a
            // slow gateway cannot be made to send one code after another.
            tracing::warn!(channel = channel_name(channel), %why, "a one-time code may not have been delivered");
            Ok(())
        }
        Err(Undelivered::NotSent(why)) => {
            tracing::warn!(channel = channel_name(channel), %why, "could not deliver a one-time code");
            // Nothing went out: forget the code and uncount the send, so the
            // retry is neither refused as too frequent nor charged.
            sqlx::query("DELETE FROM verify_codes WHERE state_token_hash = $1 AND code_hash = $2")
                .bind(&pending.token_hash)
                .bind(&code_hash)
                .execute(pool)
                .await?;
            sqlx::query("DELETE FROM code_sends WHERE id = $1").bind(send_id).execute(pool).await?;
            Err(AppError::new(ApiErrorCode::CodeDeliveryFailed, "the code could not be delivered"))
        }
    }
}

#[derive(sqlx::FromRow)]
struct CodeRow {
    channel: String,
    recipient: String,
    code_hash: Vec<u8>,
    salt: Vec<u8>,
    expires_at: i64,
    attempts: i64,
    used_at: Option<i64>,
}

/// Why a code was not spent: a wrong guess stays counted by
/// [`guesses`], anything else was no guess.
enum Refusal {
    Wrong(AppError),
    NoGuess(AppError),
}

/// Spends the bind's code if it was sent to `to` (normalised) and `code`
/// is right. Each wrong try counts against the code (the fifth kills it)
/// and, through `guess`, against the guessing ceilings.
pub async fn redeem(
    pool: &AnyPool,
    pending: &Pending,
    channel: Channel,
    to: &str,
    code: &str,
    guess: &Guess,
    now: Millis,
) -> Result<(), AppError> {
    let attempt = guesses::begin(pool, guess, now).await?;
    match compare(pool, pending, channel, to, code, now).await? {
        Ok(()) => attempt.forgive(pool).await,
        Err(Refusal::NoGuess(error)) => {
            attempt.forgive(pool).await?;
            Err(error)
        }
        Err(Refusal::Wrong(error)) => Err(error),
    }
}

async fn compare(
    pool: &AnyPool,
    pending: &Pending,
    channel: Channel,
    to: &str,
    code: &str,
    now: Millis,
) -> Result<Result<(), Refusal>, AppError> {
    let expired = || {
        AppError::new(ApiErrorCode::VerifyCodeExpired, "the code has expired or was already used; ask for a new one")
    };
    let exhausted = || AppError::new(ApiErrorCode::VerifyCodeExhausted, "too many wrong codes; ask for a new one");
    let wrong = || AppError::new(ApiErrorCode::InvalidVerifyCode, "the code is wrong");
    let row: Option<CodeRow> = sqlx::query_as(
        "SELECT channel, recipient, code_hash, salt, expires_at, attempts, used_at
         FROM verify_codes WHERE state_token_hash = $1",
    )
    .bind(&pending.token_hash)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row.filter(|row| row.channel == channel_name(channel) && row.recipient == to) else {
        // No code was sent to this recipient for this bind: nothing to guess.
        return Ok(Err(Refusal::NoGuess(wrong())));
    };
    if row.attempts >= MAX_ATTEMPTS {
        return Ok(Err(Refusal::NoGuess(exhausted())));
    }
    if row.used_at.is_some() || now >= row.expires_at {
        return Ok(Err(Refusal::NoGuess(expired())));
    }
    if constant_time_eq(&row.code_hash, &salted_hash(&row.salt, code)) {
        // Spent only if nobody spent or exhausted it in the meantime.
        let spent = sqlx::query(
            "UPDATE verify_codes SET used_at = $1 WHERE state_token_hash = $2 AND code_hash = $3
             AND used_at IS NULL AND attempts < $4",
        )
        .bind(now)
        .bind(&pending.token_hash)
        .bind(&row.code_hash)
        .bind(MAX_ATTEMPTS)
        .execute(pool)
        .await?;
        return Ok(if spent.rows_affected() == 1 { Ok(()) } else { Err(Refusal::NoGuess(expired())) });
    }
    let counted: Option<(i64,)> = sqlx::query_as(
        "UPDATE verify_codes SET attempts = attempts + 1 WHERE state_token_hash = $1 AND code_hash = $2
         RETURNING attempts",
    )
    .bind(&pending.token_hash)
    .bind(&row.code_hash)
    .fetch_optional(pool)
    .await?;
    Ok(Err(Refusal::Wrong(match counted {
        Some((attempts,)) if attempts >= MAX_ATTEMPTS => exhausted(),
        _ => wrong(),
    })))
}
