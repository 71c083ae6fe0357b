//! One-time codes: six digits, five minutes, single use. A code belongs to
//! the flow that asked for it (a bind's state token, a chat link's ticket):
//! only that flow's latest code counts, one new code a minute, five wrong
//! tries kill it, and nobody else's sends or guesses touch it. Codes are
//! stored as salted hashes and compared in constant time; the plain code
//! goes only to its recipient, by the [`Sender`] or in chat. How many codes
//! go out is bounded by [`Budgets`], and guessing by [`super::guesses`].

mod budget;
mod delivery;
mod recipient;

pub use budget::{Budgets, PER_PAIR_PER_DAY, PER_STATE_TOKEN};
pub use delivery::{Message, NoSender, Outbox, OutboxSender, Sender, Sending, Undelivered, WebhookSender};
pub use recipient::{normalize_recipient, SmsCountries};

use super::app::App;
use super::chat::deliveries;
use super::clock::{secs, secs_to_wait, Millis};
use super::db::take_turn;
use super::error::AppError;
use super::guesses::{self, Guess};
use super::secrets::{constant_time_eq, new_six_digit_code, random_bytes, salted_hash};
use super::telemetry::CodeSendOutcome;
use crate::protocol::{ApiErrorCode, Channel, VerifyCodeSent};
use sqlx::AnyPool;

/// How long a code lives.
pub const CODE_TTL_MS: Millis = 5 * 60_000;
/// The least time between two codes for one flow.
pub const RESEND_AFTER_MS: Millis = 60_000;
/// Wrong tries after which a code is dead.
pub const MAX_ATTEMPTS: i64 = 5;

/// The answer to a request that sent a code.
pub fn sent() -> VerifyCodeSent {
    VerifyCodeSent { expires_in: secs(CODE_TTL_MS), resend_after: secs(RESEND_AFTER_MS) }
}

/// The flow a code is for: only it can spend the code, and the budgets
/// count its sends.
pub struct Owner<'a> {
    /// The hash of the flow's secret: a bind's state token, a chat link's
    /// ticket.
    pub token_hash: &'a [u8],
    /// Who asks, as the budgets count them: `appid:openid` of a bind,
    /// `user:<id>` of a signed-in user.
    pub identity: String,
    /// What the code is for, which the message in chat says.
    pub purpose: Purpose,
}

/// What a code is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// Signing in: binding a login to an existing user.
    Bind,
    /// Linking a chat contact to the signed-in user.
    ChatLink,
}

/// Where a code goes.
#[derive(Clone, Copy)]
pub enum Destination<'a> {
    /// A phone number or email address (normalised), by the app's
    /// [`Sender`].
    Address(Channel, &'a str),
    /// A chat contact, through the bot it talks to.
    Chat {
        /// The bot's id.
        bot_id: &'a str,
        /// The contact's id at that bot.
        contact_id: &'a str,
    },
    /// Nobody: the account named for a code in chat has no linked contact
    /// (or does not exist). The code is recorded and counted like any
    /// other and sent nowhere, so the answers do not tell who has one.
    Nobody {
        /// The account as it was named.
        account: &'a str,
    },
}

impl Destination<'_> {
    /// How it travels, as codes and metrics name it.
    pub fn medium(&self) -> &'static str {
        match self {
            Self::Address(channel, _) => channel.as_str(),
            Self::Chat { .. } | Self::Nobody { .. } => Channel::Wechat.as_str(),
        }
    }

    /// The recipient as a code records it.
    fn address(&self) -> String {
        match self {
            Self::Address(_, to) => (*to).to_owned(),
            Self::Chat { bot_id, contact_id } => format!("{bot_id}/{contact_id}"),
            // No bot's id is `nobody`.
            Self::Nobody { account } => format!("nobody/{account}"),
        }
    }

    /// The recipient as the budgets and guess ceilings count it:
    /// `sms:+86…`, `wechat:<bot>/<contact>`.
    pub fn key(&self) -> String {
        format!("{}:{}", self.medium(), self.address())
    }
}

/// Issues a new code for `owner` and sends it to `to`, counting what the
/// sending said. The new code replaces the owner's earlier one.
pub async fn issue(app: &App, owner: &Owner<'_>, to: Destination<'_>, now: Millis) -> Result<(), AppError> {
    let (pool, budgets) = (&app.db.write, &app.code_budgets);
    let recipient = to.key();
    let code = new_six_digit_code();
    let salt = random_bytes::<16>();
    let code_hash = salted_hash(&salt, &code);
    // The resend rule, the budgets and the write in one transaction on the
    // one write connection, so that concurrent requests cannot all pass.
    let mut tx = pool.begin().await?;
    // One sender at a time: the server-wide budgets count every send.
    take_turn(&mut tx, "code-sends").await?;
    let last: Option<(i64,)> = sqlx::query_as("SELECT created_at FROM verify_codes WHERE state_token_hash = $1")
        .bind(owner.token_hash)
        .fetch_optional(&mut *tx)
        .await?;
    if let Some((created_at,)) = last.filter(|(created_at,)| created_at + RESEND_AFTER_MS > now) {
        let secs = secs_to_wait(created_at + RESEND_AFTER_MS - now);
        let message = "a code was sent for this less than a minute ago";
        return Err(AppError::too_many(ApiErrorCode::VerifyCodeTooFrequent, message, secs));
    }
    let request =
        budget::Request { state_token_hash: owner.token_hash, recipient: &recipient, identity: &owner.identity };
    budgets.check(&mut tx, &request, now).await?;
    sqlx::query(
        "INSERT INTO verify_codes (state_token_hash, channel, recipient, code_hash, salt, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (state_token_hash) DO UPDATE SET
           channel = excluded.channel, recipient = excluded.recipient, code_hash = excluded.code_hash,
           salt = excluded.salt, created_at = excluded.created_at, expires_at = excluded.expires_at,
           attempts = 0, used_at = NULL",
    )
    .bind(owner.token_hash)
    .bind(to.medium())
    .bind(to.address())
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
    .bind(&owner.identity)
    .bind(owner.token_hash)
    .fetch_one(&mut *tx)
    .await?;
    let channel = match to {
        Destination::Address(channel, _) => channel,
        Destination::Chat { bot_id, contact_id } => {
            // In chat the code is queued for the bot in the same
            // transaction: it is delivered, or it does not exist.
            let text = chat_text(owner.purpose, &code);
            deliveries::enqueue_text(&mut tx, bot_id, contact_id, &text, now + CODE_TTL_MS, now).await?;
            tx.commit().await?;
            app.deliveries.wake();
            app.metrics.code_sent(to.medium(), CodeSendOutcome::Sent);
            return Ok(());
        }
        Destination::Nobody { .. } => {
            tx.commit().await?;
            return Ok(());
        }
    };
    tx.commit().await?;

    let message = Message { channel, to: to.address(), code };
    let sent = app.sender.send(&message).await;
    let outcome = match &sent {
        Ok(()) => CodeSendOutcome::Sent,
        Err(Undelivered::Unknown(_)) => CodeSendOutcome::Unknown,
        Err(Undelivered::NotSent(_)) => CodeSendOutcome::NotSent,
    };
    app.metrics.code_sent(to.medium(), outcome);
    match sent {
        Ok(()) => Ok(()),
        Err(Undelivered::Unknown(why)) => {
            // It may have gone out: keep the code and the resend rule, so a
            // slow gateway cannot be made to send one code after another.
            tracing::warn!(channel = to.medium(), %why, "a one-time code may not have been delivered");
            Ok(())
        }
        Err(Undelivered::NotSent(why)) => {
            tracing::warn!(channel = to.medium(), %why, "could not deliver a one-time code");
            // Nothing went out: forget the code and uncount the send, so the
            // retry is neither refused as too frequent nor charged.
            sqlx::query("DELETE FROM verify_codes WHERE state_token_hash = $1 AND code_hash = $2")
                .bind(owner.token_hash)
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

/// Spends the code of the flow whose secret hashes to `owner` if it was
/// sent to `to` and `code` is right. Each wrong try counts against the code
/// (the fifth kills it) and, through `guess`, against the guessing
/// ceilings.
pub async fn redeem(
    pool: &AnyPool,
    owner: &[u8],
    to: Destination<'_>,
    code: &str,
    guess: &Guess,
    now: Millis,
) -> Result<(), AppError> {
    let attempt = guesses::begin(pool, guess, now).await?;
    match compare(pool, owner, to, code, now).await? {
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
    owner: &[u8],
    to: Destination<'_>,
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
    .bind(owner)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row.filter(|row| row.channel == to.medium() && row.recipient == to.address()) else {
        // No code was sent to this recipient for this flow: nothing to guess.
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
        .bind(owner)
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
    .bind(owner)
    .bind(&row.code_hash)
    .fetch_optional(pool)
    .await?;
    Ok(Err(Refusal::Wrong(match counted {
        Some((attempts,)) if attempts >= MAX_ATTEMPTS => exhausted(),
        _ => wrong(),
    })))
}

/// The chat message that carries `code`: the person who gets it may not
/// have asked, so it says what to do then.
fn chat_text(purpose: Purpose, code: &str) -> String {
    let (what, where_) = match purpose {
        Purpose::Bind => ("sign in to your account", "the Mini Program or page where you are signing in"),
        Purpose::ChatLink => ("link this chat to your account", "the Mini Program you opened from this chat"),
    };
    format!(
        "{code} is your code to {what}. It expires in {} minutes. \
         Enter it only in {where_}; if you did not ask for it, ignore this message.",
        CODE_TTL_MS / 60_000
    )
}
