//! Sending budgets: how many codes go out, so that nobody can spend the
//! operator's SMS money or flood a stranger's phone. Every budget counts
//! the codes sent over a rolling window, from the `code_sends` log.

use super::super::clock::{secs_to_wait, Millis};
use super::super::error::{AppError, AppResult};
use crate::protocol::ApiErrorCode;
use sqlx::AnyConnection;

const DAY_MS: Millis = 24 * 60 * 60_000;
const MINUTE_MS: Millis = 60_000;

/// Codes one bind (one state token) may ask for.
pub const PER_STATE_TOKEN: u32 = 3;
/// Codes one WeChat identity may have sent to one recipient in a day. Below
/// the recipient's budget, so that one stranger cannot spend it alone.
pub const PER_PAIR_PER_DAY: u32 = 5;

/// The settable budgets (`--codes-per-*`).
#[derive(Clone, Copy, Debug)]
pub struct Budgets {
    /// Codes to one recipient in a day, whoever asks.
    pub per_recipient_per_day: u32,
    /// Codes one WeChat identity may ask for in a day, to anyone.
    pub per_identity_per_day: u32,
    /// Codes the whole server sends in a minute.
    pub per_minute: u32,
    /// Codes the whole server sends in a day.
    pub per_day: u32,
}

/// Who asks for a code, and for whom.
pub struct Request<'a> {
    /// The hash of the state token of the bind.
    pub state_token_hash: &'a [u8],
    /// `channel:address`, as `code_sends` keeps it.
    pub recipient: &'a str,
    /// `appid:openid`.
    pub identity: &'a str,
}

enum Scope<'a> {
    StateToken(&'a [u8]),
    Pair(&'a str, &'a str),
    Identity(&'a str),
    Recipient(&'a str),
    Everyone,
}

impl Budgets {
    /// Refuses the send if any budget is spent, with `Retry-After` set to
    /// when the oldest send it counts leaves the window. Run it in the
    /// transaction that records the send.
    pub async fn check(&self, conn: &mut AnyConnection, request: &Request<'_>, now: Millis) -> AppResult<()> {
        let rules = [
            (
                Scope::StateToken(request.state_token_hash),
                PER_STATE_TOKEN,
                DAY_MS,
                "for this sign-in; start again (log in, or ask the bot for a new card)",
            ),
            (
                Scope::Pair(request.recipient, request.identity),
                PER_PAIR_PER_DAY,
                DAY_MS,
                "for this recipient from this account today",
            ),
            (Scope::Identity(request.identity), self.per_identity_per_day, DAY_MS, "for this account today"),
            (Scope::Recipient(request.recipient), self.per_recipient_per_day, DAY_MS, "for this recipient today"),
            (Scope::Everyone, self.per_minute, MINUTE_MS, "by this server this minute"),
            (Scope::Everyone, self.per_day, DAY_MS, "by this server today"),
        ];
        for (scope, limit, window, what) in rules {
            // A flow's own budget never frees up while it lives; a new flow
            // (a new login, a new card) may start at once.
            let start_again = matches!(scope, Scope::StateToken(_));
            let since = now - window;
            let query = match scope {
                Scope::StateToken(hash) => sqlx::query_as(
                    "SELECT COUNT(*), MIN(sent_at) FROM code_sends WHERE state_token_hash = $1 AND sent_at > $2",
                )
                .bind(hash),
                Scope::Pair(recipient, identity) => sqlx::query_as(
                    "SELECT COUNT(*), MIN(sent_at) FROM code_sends WHERE recipient = $1 AND identity = $2 AND sent_at > $3",
                )
                .bind(recipient)
                .bind(identity),
                Scope::Identity(identity) => {
                    sqlx::query_as("SELECT COUNT(*), MIN(sent_at) FROM code_sends WHERE identity = $1 AND sent_at > $2")
                        .bind(identity)
                }
                Scope::Recipient(recipient) => {
                    sqlx::query_as("SELECT COUNT(*), MIN(sent_at) FROM code_sends WHERE recipient = $1 AND sent_at > $2")
                        .bind(recipient)
                }
                Scope::Everyone => sqlx::query_as("SELECT COUNT(*), MIN(sent_at) FROM code_sends WHERE sent_at > $1"),
            };
            let (count, oldest): (i64, Option<i64>) = query.bind(since).fetch_one(&mut *conn).await?;
            if count >= i64::from(limit) {
                let retry_at = oldest.map_or(now + window, |oldest| oldest + window);
                let secs = if start_again { 1 } else { secs_to_wait(retry_at - now) };
                let message = format!("no more codes can be sent {what}");
                return Err(AppError::too_many(ApiErrorCode::VerifyCodeLimitReached, message, secs));
            }
        }
        Ok(())
    }
}
