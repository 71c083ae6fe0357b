//! What bots are to deliver in chat: texts to contacts (one-time codes) and
//! news of links and unlinks. A delivery is stored until the bot that is to
//! deliver it acknowledges it, so a restart of the server or of the bot
//! loses none. One handed out is leased for [`LEASE_MS`]: unacknowledged by
//! then, it is handed out again. A text with a code expires with the code,
//! news of a link after [`NEWS_TTL_MS`].
//!
//! Bots fetch them by long-poll ([`Deliveries::next`]). A delivery queued by
//! this instance wakes its waiting polls at once; one queued by another
//! instance is found at the next look at the database, every second.

use super::super::clock::{Clock, Millis};
use super::super::error::AppResult;
use super::super::secrets::new_id;
use crate::protocol::Delivery;
use sqlx::{AnyConnection, AnyPool};
use std::time::Duration;
use tokio::sync::Notify;

/// How long news of a link waits for its bot (one gone that long has
/// stopped polling; its profile cache expired long ago).
pub const NEWS_TTL_MS: Millis = 7 * 24 * 60 * 60_000;
/// How long a handed-out delivery waits for its acknowledgement.
pub const LEASE_MS: Millis = 60_000;
/// The longest long-poll.
pub const MAX_WAIT_SECS: u32 = 25;
/// Deliveries handed out in one answer.
const BATCH: i64 = 50;
/// How often a waiting poll looks at the database.
const POLL_EVERY: Duration = Duration::from_secs(1);

/// The long-polls of this instance.
#[derive(Default)]
pub struct Deliveries {
    queued: Notify,
}

impl Deliveries {
    /// Wakes the waiting polls: something was queued and committed.
    pub fn wake(&self) {
        self.queued.notify_waiters();
    }

    /// The deliveries of `bot_id` due now, leased to it; when there are
    /// none, waits up to `wait` for some.
    pub async fn next(
        &self,
        pool: &AnyPool,
        clock: &dyn Clock,
        bot_id: &str,
        wait: Duration,
    ) -> AppResult<Vec<Delivery>> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            // Registered before the look, so that a wake between the look
            // and the wait is not missed.
            let queued = self.queued.notified();
            let due = lease(pool, bot_id, clock.now()).await?;
            let now = tokio::time::Instant::now();
            if !due.is_empty() || now >= deadline {
                return Ok(due);
            }
            let _ = tokio::time::timeout((deadline - now).min(POLL_EVERY), queued).await;
        }
    }
}

/// Queues `text` for `bot_id` to say to `contact_id`, to be dropped
/// undelivered at `expires_at`. Run in the transaction that makes what the
/// text tells, then [`Deliveries::wake`] after the commit.
pub async fn enqueue_text(
    conn: &mut AnyConnection,
    bot_id: &str,
    contact_id: &str,
    text: &str,
    expires_at: Millis,
    now: Millis,
) -> AppResult<()> {
    enqueue(conn, bot_id, "text", contact_id, Some(text), Some(expires_at), now).await
}

/// What happened to a contact's link, for the bot to refresh what it knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkNews {
    /// Linked to a user, or to another one.
    Linked,
    /// Unlinked by its user.
    Unlinked,
}

/// Queues news of `contact_id`'s link for `bot_id`; as [`enqueue_text`].
pub async fn enqueue_news(
    conn: &mut AnyConnection,
    bot_id: &str,
    contact_id: &str,
    news: LinkNews,
    now: Millis,
) -> AppResult<()> {
    let kind = match news {
        LinkNews::Linked => "linked",
        LinkNews::Unlinked => "unlinked",
    };
    enqueue(conn, bot_id, kind, contact_id, None, Some(now + NEWS_TTL_MS), now).await
}

async fn enqueue(
    conn: &mut AnyConnection,
    bot_id: &str,
    kind: &str,
    contact_id: &str,
    text: Option<&str>,
    expires_at: Option<Millis>,
    now: Millis,
) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO deliveries (id, bot_id, kind, contact_id, text, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(new_id("dlv"))
    .bind(bot_id)
    .bind(kind)
    .bind(contact_id)
    .bind(text)
    .bind(now)
    .bind(expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    id: String,
    kind: String,
    contact_id: String,
    text: Option<String>,
    created_at: i64,
}

impl DeliveryRow {
    fn into_delivery(self) -> Option<Delivery> {
        let Self { id, kind, contact_id, text, .. } = self;
        Some(match kind.as_str() {
            "text" => Delivery::Text { id, to: contact_id, text: text? },
            "linked" => Delivery::Linked { id, contact_id },
            "unlinked" => Delivery::Unlinked { id, contact_id },
            _ => return None,
        })
    }
}

/// Leases the oldest due deliveries of `bot_id`, oldest first. Two polls
/// (on any instance) never get the same delivery within one lease: the
/// outer condition is checked again on a row another poll updated first.
async fn lease(pool: &AnyPool, bot_id: &str, now: Millis) -> AppResult<Vec<Delivery>> {
    let mut rows: Vec<DeliveryRow> = sqlx::query_as(
        "UPDATE deliveries SET leased_until = $1
         WHERE leased_until <= $2 AND id IN (
             SELECT id FROM deliveries
             WHERE bot_id = $3 AND leased_until <= $2 AND (expires_at IS NULL OR expires_at > $2)
             ORDER BY created_at, id LIMIT $4)
         RETURNING id, kind, contact_id, text, created_at",
    )
    .bind(now + LEASE_MS)
    .bind(now)
    .bind(bot_id)
    .bind(BATCH)
    .fetch_all(pool)
    .await?;
    rows.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    Ok(rows.into_iter().filter_map(DeliveryRow::into_delivery).collect())
}

/// Acknowledges delivery `id` of `bot_id`: it is done and forgotten. One
/// already acknowledged, or not this bot's, is left as it is; the answer
/// is the same, so a retried acknowledgement is harmless.
pub async fn ack(pool: &AnyPool, bot_id: &str, id: &str) -> AppResult<()> {
    // Ids are `dlv_` and base64url: anything else names no delivery (and a
    // NUL would not reach PostgreSQL as text).
    if !id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-')) {
        return Ok(());
    }
    sqlx::query("DELETE FROM deliveries WHERE id = $1 AND bot_id = $2").bind(id).bind(bot_id).execute(pool).await?;
    Ok(())
}
