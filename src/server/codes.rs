//! One-time codes for binding by phone or email: six digits, five minutes,
//! single use, only the latest code per recipient counts, five wrong tries
//! kill it, at most one new code per recipient per minute. Codes are stored
//! as salted hashes and compared in constant time; the plain code goes only
//! to the [`Sender`].

use super::clock::Millis;
use super::error::AppError;
use super::phone::PhoneNumber;
use super::secrets::{constant_time_eq, new_six_digit_code, random_bytes, salted_hash};
use crate::protocol::{ApiErrorCode, Channel};
use sqlx::SqlitePool;
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

/// How long a code lives.
pub const CODE_TTL_MS: Millis = 5 * 60_000;
/// The least time between two codes for one recipient.
pub const RESEND_AFTER_MS: Millis = 60_000;
/// Wrong tries after which a code is dead.
pub const MAX_ATTEMPTS: i64 = 5;

/// A code to deliver, handed to the [`Sender`]; its `Debug` leaves the
/// code out.
#[derive(Clone)]
pub struct Message {
    /// How to deliver it.
    pub channel: Channel,
    /// The normalised phone number or email address.
    pub to: String,
    /// The six digits in plain text (the database keeps only a salted
    /// hash).
    pub code: String,
}

impl std::fmt::Debug for Message {
    // The code is a secret: never in a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Message").field("channel", &self.channel).field("to", &self.to).finish_non_exhaustive()
    }
}

/// Delivers codes: the simulator's outbox, or SMS, email, a chat bot…
pub trait Sender: Send + Sync + 'static {
    /// Sends `message`; an error means the code did not go out.
    fn send<'a>(&'a self, message: &'a Message) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;
}

/// The built-in sender: keeps the latest messages per recipient in memory
/// for `/sim/outbox`, as a phone or mailbox would show them.
#[derive(Default)]
pub struct Outbox {
    messages: Mutex<HashMap<String, VecDeque<(Message, Millis)>>>,
}

/// Messages kept per recipient, and recipients kept in all.
const OUTBOX_PER_RECIPIENT: usize = 10;
const OUTBOX_RECIPIENTS: usize = 10_000;

impl Outbox {
    /// An empty outbox. It keeps the last 10 messages per recipient, and
    /// forgets everyone when a 10,001st recipient arrives.
    pub fn new() -> Self {
        Self::default()
    }

    /// What was sent to `to` (normalised), newest first, with send times.
    pub fn for_recipient(&self, to: &str) -> Vec<(Message, Millis)> {
        let messages = self.messages.lock().unwrap_or_else(|e| e.into_inner());
        messages.get(to).map(|q| q.iter().rev().cloned().collect()).unwrap_or_default()
    }

    /// Records a message as sent at `at`.
    pub fn record(&self, message: Message, at: Millis) {
        let mut messages = self.messages.lock().unwrap_or_else(|e| e.into_inner());
        if messages.len() >= OUTBOX_RECIPIENTS && !messages.contains_key(&message.to) {
            messages.clear();
        }
        let queue = messages.entry(message.to.clone()).or_default();
        if queue.len() == OUTBOX_PER_RECIPIENT {
            queue.pop_front();
        }
        queue.push_back((message, at));
    }
}

/// The outbox as a [`Sender`], stamping messages with the server's clock.
pub struct OutboxSender {
    /// Where messages go.
    pub outbox: std::sync::Arc<Outbox>,
    /// The server's clock.
    pub clock: std::sync::Arc<dyn super::clock::Clock>,
}

impl Sender for OutboxSender {
    fn send<'a>(&'a self, message: &'a Message) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>> {
        Box::pin(async move {
            self.outbox.record(message.clone(), self.clock.now());
            Ok(())
        })
    }
}

/// Delivers codes by POSTing `{"channel", "to", "code"}` as JSON to a URL:
/// the bridge to an SMS gateway, a mail service or a chat bot. Any 2xx
/// answer counts as delivered.
pub struct WebhookSender {
    url: String,
    http: Result<reqwest::Client, String>,
}

impl WebhookSender {
    /// A sender posting to `url`, giving up after five seconds.
    pub fn new(url: String) -> Self {
        Self { url, http: super::http_client(std::time::Duration::from_secs(5)) }
    }
}

impl Sender for WebhookSender {
    fn send<'a>(&'a self, message: &'a Message) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>> {
        Box::pin(async move {
            let body = serde_json::json!({ "channel": message.channel, "to": message.to, "code": message.code });
            let http = self.http.as_ref().map_err(Clone::clone)?;
            let response = http
                .post(&self.url)
                .json(&body)
                .send()
                .await
                .map_err(|e| format!("webhook unreachable: {}", e.without_url()))?;
            if response.status().is_success() {
                Ok(())
            } else {
                Err(format!("webhook answered {}", response.status()))
            }
        })
    }
}

/// The sender when none is configured outside simulator mode: every code
/// fails to go out, with a clear error, rather than vanishing.
pub struct NoSender;

impl Sender for NoSender {
    fn send<'a>(&'a self, _: &'a Message) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>> {
        Box::pin(async { Err("no code sender is configured (--code-webhook)".to_string()) })
    }
}

/// Normalises a recipient: phone numbers to E.164 (mainland China numbers
/// may omit +86), email addresses to lower case.
pub fn normalize_recipient(channel: Channel, to: &str) -> Result<String, AppError> {
    let invalid = |what| AppError::new(ApiErrorCode::InvalidRecipient, what);
    let to = to.trim();
    match channel {
        Channel::Sms => PhoneNumber::parse(to).map(|n| n.e164()).ok_or_else(|| invalid("not a valid phone number")),
        Channel::Email => {
            let lower = to.to_ascii_lowercase();
            let valid = lower.len() <= 254
                && lower.split_once('@').is_some_and(|(local, domain)| {
                    !local.is_empty()
                        && domain.contains('.')
                        && !domain.starts_with('.')
                        && !domain.ends_with('.')
                        && !domain.contains('@')
                })
                && lower.bytes().all(|b| b.is_ascii_graphic());
            if valid {
                Ok(lower)
            } else {
                Err(invalid("not a valid email address"))
            }
        }
    }
}

fn channel_name(channel: Channel) -> &'static str {
    match channel {
        Channel::Sms => "sms",
        Channel::Email => "email",
    }
}

/// Issues a new code for `to` (normalised) and hands it to `sender`. The
/// new code replaces any earlier one.
pub async fn issue(
    pool: &SqlitePool,
    sender: &dyn Sender,
    channel: Channel,
    to: &str,
    now: Millis,
) -> Result<(), AppError> {
    let last: Option<(i64,)> =
        sqlx::query_as("SELECT created_at FROM verify_codes WHERE channel = ? AND recipient = ?")
            .bind(channel_name(channel))
            .bind(to)
            .fetch_optional(pool)
            .await?;
    let too_frequent = |created_at: i64| {
        let wait = (created_at + RESEND_AFTER_MS - now).max(1);
        let secs = u64::try_from((wait + 999) / 1000).unwrap_or(1);
        AppError::too_many(
            ApiErrorCode::VerifyCodeTooFrequent,
            "a code was sent to this recipient less than a minute ago",
            secs,
        )
    };
    if let Some((created_at,)) = last.filter(|(created_at,)| created_at + RESEND_AFTER_MS > now) {
        return Err(too_frequent(created_at));
    }
    let code = new_six_digit_code();
    let salt = random_bytes::<16>();
    // The resend rule is checked again inside the write, so that concurrent
    // requests cannot all pass the check above and each send a code.
    let stored = sqlx::query(
        "INSERT INTO verify_codes (channel, recipient, code_hash, salt, created_at, expires_at, attempts, used_at)
         VALUES (?, ?, ?, ?, ?, ?, 0, NULL)
         ON CONFLICT (channel, recipient) DO UPDATE SET
           code_hash = excluded.code_hash, salt = excluded.salt, created_at = excluded.created_at,
           expires_at = excluded.expires_at, attempts = 0, used_at = NULL
         WHERE verify_codes.created_at + ? <= excluded.created_at",
    )
    .bind(channel_name(channel))
    .bind(to)
    .bind(salted_hash(&salt, &code))
    .bind(salt.as_slice())
    .bind(now)
    .bind(now + CODE_TTL_MS)
    .bind(RESEND_AFTER_MS)
    .execute(pool)
    .await?;
    if stored.rows_affected() == 0 {
        // A concurrent request stored its code a moment ago.
        return Err(too_frequent(now));
    }
    let message = Message { channel, to: to.to_string(), code };
    let Err(why) = sender.send(&message).await else { return Ok(()) };
    tracing::warn!(channel = channel_name(channel), %why, "could not deliver a one-time code");
    // Nothing went out: forget the code, so that the once-a-minute limit
    // does not refuse the retry with "a code was sent".
    sqlx::query("DELETE FROM verify_codes WHERE channel = ? AND recipient = ? AND code_hash = ?")
        .bind(channel_name(channel))
        .bind(to)
        .bind(salted_hash(&salt, &message.code))
        .execute(pool)
        .await?;
    Err(AppError::new(ApiErrorCode::CodeDeliveryFailed, "the code could not be delivered"))
}

#[derive(sqlx::FromRow)]
struct CodeRow {
    code_hash: Vec<u8>,
    salt: Vec<u8>,
    expires_at: i64,
    attempts: i64,
    used_at: Option<i64>,
}

/// Spends the code for `to` (normalised) if `code` is right. Each wrong try
/// counts; the fifth kills the code.
pub async fn redeem(pool: &SqlitePool, channel: Channel, to: &str, code: &str, now: Millis) -> Result<(), AppError> {
    let expired = || {
        AppError::new(ApiErrorCode::VerifyCodeExpired, "the code has expired or was already used; ask for a new one")
    };
    let exhausted = || AppError::new(ApiErrorCode::VerifyCodeExhausted, "too many wrong codes; ask for a new one");
    let wrong = || AppError::new(ApiErrorCode::InvalidVerifyCode, "the code is wrong");
    let row: Option<CodeRow> = sqlx::query_as(
        "SELECT code_hash, salt, expires_at, attempts, used_at FROM verify_codes WHERE channel = ? AND recipient = ?",
    )
    .bind(channel_name(channel))
    .bind(to)
    .fetch_optional(pool)
    .await?;
    let Some(CodeRow { code_hash: stored, salt, expires_at, attempts, used_at }) = row else {
        return Err(wrong());
    };
    if attempts >= MAX_ATTEMPTS {
        return Err(exhausted());
    }
    if used_at.is_some() || now >= expires_at {
        return Err(expired());
    }
    if constant_time_eq(&stored, &salted_hash(&salt, code)) {
        // Spent only if nobody spent or exhausted it in the meantime.
        let spent = sqlx::query(
            "UPDATE verify_codes SET used_at = ? WHERE channel = ? AND recipient = ? AND code_hash = ?
             AND used_at IS NULL AND attempts < ?",
        )
        .bind(now)
        .bind(channel_name(channel))
        .bind(to)
        .bind(&stored)
        .bind(MAX_ATTEMPTS)
        .execute(pool)
        .await?;
        return if spent.rows_affected() == 1 { Ok(()) } else { Err(expired()) };
    }
    let counted: Option<(i64,)> = sqlx::query_as(
        "UPDATE verify_codes SET attempts = attempts + 1 WHERE channel = ? AND recipient = ? AND code_hash = ?
         RETURNING attempts",
    )
    .bind(channel_name(channel))
    .bind(to)
    .bind(&stored)
    .fetch_optional(pool)
    .await?;
    match counted {
        Some((attempts,)) if attempts >= MAX_ATTEMPTS => Err(exhausted()),
        _ => Err(wrong()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_normalise_to_lower_case() {
        assert_eq!(normalize_recipient(Channel::Email, " Li.Lei@Example.COM ").unwrap(), "li.lei@example.com");
        for bad in ["", "a", "a@b", "@b.c", "a@.c", "a@b.", "a b@c.d", "a@b@c.d"] {
            assert!(normalize_recipient(Channel::Email, bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn the_webhook_sender_posts_the_message_and_reports_failures() {
        use axum::{extract::State, http::StatusCode, routing::post, Json, Router};
        use std::sync::{Arc, Mutex};
        let received: Arc<Mutex<Vec<serde_json::Value>>> = Arc::default();
        let router =
            Router::new()
                .route(
                    "/ok",
                    post(
                        |State(seen): State<Arc<Mutex<Vec<serde_json::Value>>>>,
                         Json(body): Json<serde_json::Value>| async move {
                            seen.lock().unwrap().push(body);
                            StatusCode::NO_CONTENT
                        },
                    ),
                )
                .route("/fail", post(|| async { StatusCode::INTERNAL_SERVER_ERROR }))
                .with_state(received.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move { axum::serve(listener, router).await });

        let message = Message { channel: Channel::Email, to: "a@example.com".into(), code: "123456".into() };
        WebhookSender::new(format!("http://{addr}/ok")).send(&message).await.unwrap();
        assert_eq!(
            received.lock().unwrap()[0],
            serde_json::json!({"channel": "email", "to": "a@example.com", "code": "123456"})
        );
        let error = WebhookSender::new(format!("http://{addr}/fail")).send(&message).await.unwrap_err();
        assert!(error.contains("500") && !error.contains("123456"), "{error}");
        assert!(NoSender.send(&message).await.is_err());
        server.abort();
    }

    #[test]
    fn messages_do_not_print_their_code() {
        let message = Message { channel: Channel::Sms, to: "+8613800138000".into(), code: "424242".into() };
        assert!(!format!("{message:?}").contains("424242"));
    }
}
