//! The periodic purge: rows that no rule reads any more are deleted, so
//! that storage follows the live state and not the server's history.
//!
//! - state tokens, one-time codes, login-card tickets and chat sign-ins a
//!   day after they
//!   expired, and the chat texts that carried codes once undeliverable;
//! - the sends and failed guesses the budgets and ceilings count, once out
//!   of their one-day window;
//! - the tombstones of rooms a bot left, a day after it left;
//! - session families a day after they ended (revoked, past their absolute
//!   lifetime, or with a current token past its idle lifetime), with all of
//!   their tokens.
//!
//! A live family keeps its rotated tokens: reuse detection needs them for
//! as long as someone may replay one (refresh is limited per family, which
//! bounds the chain). A token of a purged family is unknown, which answers
//! `invalid_session` exactly as the ended family did.

use super::clock::Millis;
use super::error::AppResult;
use sqlx::AnyPool;

/// How long ended rows are kept before they go, and the window of the
/// budgets and ceilings.
pub const RETAIN_MS: Millis = 24 * 60 * 60_000;
/// Rows deleted per statement: the write connection is shared, so a large
/// purge goes in slices that let requests in between.
const BATCH: i64 = 5_000;

/// Each statement deletes up to `BATCH` rows of a table, by its key, that
/// the condition (given `$1` = the cut-off) selects; the condition is asked
/// again of each row as it is deleted, so that one changed meanwhile (a
/// room joined again) stays.
const PURGES: [(&str, &str, &str); 10] = [
    ("state_tokens", "token_hash", "expires_at <= $1"),
    ("verify_codes", "state_token_hash", "expires_at <= $1"),
    ("link_tickets", "ticket_hash", "expires_at <= $1"),
    ("chat_logins", "state_token_hash", "expires_at <= $1"),
    ("deliveries", "id", "expires_at <= $1"),
    ("code_sends", "id", "sent_at <= $1"),
    ("failed_guesses", "id", "failed_at <= $1"),
    ("rooms", "room_key", "left_at <= $1"),
    (
        "session_tokens",
        "token_hash",
        "family_id IN (SELECT id FROM session_families f WHERE f.revoked_at <= $1 OR f.expires_at <= $1
            OR NOT EXISTS (SELECT 1 FROM session_tokens c
                           WHERE c.family_id = f.id AND c.rotated_at IS NULL AND c.idle_expires_at > $1))",
    ),
    (
        "session_families",
        "id",
        "NOT EXISTS (SELECT 1 FROM session_tokens t WHERE t.family_id = session_families.id) AND created_at <= $1",
    ),
];

/// Deletes what has been dead for [`RETAIN_MS`] at `now`, and answers how
/// many rows went.
pub async fn run(pool: &AnyPool, now: Millis) -> AppResult<u64> {
    let cutoff = now - RETAIN_MS;
    let mut removed = 0;
    for (table, key, condition) in PURGES {
        let statement =
            format!("DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM {table} WHERE {condition} LIMIT {BATCH}) AND {condition}");
        loop {
            let deleted = sqlx::query(&statement).bind(cutoff).execute(pool).await?.rows_affected();
            removed += deleted;
            if deleted < u64::try_from(BATCH).unwrap_or(u64::MAX) {
                break;
            }
        }
    }
    Ok(removed)
}
