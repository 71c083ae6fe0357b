//! Getting a code to its recipient: the [`Sender`] trait and the senders
//! the server ships (the simulator's outbox, a webhook, none).

use super::super::clock::{Clock, Millis};
use crate::protocol::Channel;
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

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

/// Why a [`Sender`] could not confirm a delivery. The two cases are kept
/// apart because the resend rule depends on them: a code that surely did
/// not go out may be replaced at once, one that may have gone out may not.
#[derive(Debug, PartialEq, Eq)]
pub enum Undelivered {
    /// The code surely did not go out (no sender, gateway unreachable, a
    /// refusal).
    NotSent(String),
    /// The outcome is unknown: the gateway took the request and did not
    /// answer in time.
    Unknown(String),
}

/// The future a [`Sender`] returns.
pub type Sending<'a> = Pin<Box<dyn Future<Output = Result<(), Undelivered>> + Send + 'a>>;

/// Delivers codes: the simulator's outbox, or SMS, email, a chat bot…
pub trait Sender: Send + Sync + 'static {
    /// Sends `message`.
    fn send<'a>(&'a self, message: &'a Message) -> Sending<'a>;
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
    pub outbox: Arc<Outbox>,
    /// The server's clock.
    pub clock: Arc<dyn Clock>,
}

impl Sender for OutboxSender {
    fn send<'a>(&'a self, message: &'a Message) -> Sending<'a> {
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
    /// A sender posting to `url`, giving up on an answer after `timeout`.
    pub fn new(url: String, timeout: Duration) -> Self {
        Self { url, http: super::super::http_client(timeout) }
    }
}

impl Sender for WebhookSender {
    fn send<'a>(&'a self, message: &'a Message) -> Sending<'a> {
        Box::pin(async move {
            let body = serde_json::json!({ "channel": message.channel, "to": message.to, "code": message.code });
            let http = self.http.as_ref().map_err(|e| Undelivered::NotSent(e.clone()))?;
            let response = http.post(&self.url).json(&body).send().await.map_err(|e| {
                // Refused or unreachable before the request went out: not
                // sent. Anything later (a timeout while waiting for the
                // answer, a broken answer) leaves the outcome open.
                let not_sent = e.is_connect() || e.is_builder();
                let why = e.without_url().to_string();
                if not_sent {
                    Undelivered::NotSent(format!("webhook unreachable: {why}"))
                } else {
                    Undelivered::Unknown(format!("webhook did not answer: {why}"))
                }
            })?;
            if response.status().is_success() {
                Ok(())
            } else {
                Err(Undelivered::NotSent(format!("webhook answered {}", response.status())))
            }
        })
    }
}

/// The sender when none is configured outside simulator mode: every code
/// fails to go out, with a clear error, rather than vanishing.
pub struct NoSender;

impl Sender for NoSender {
    fn send<'a>(&'a self, _: &'a Message) -> Sending<'a> {
        Box::pin(async { Err(Undelivered::NotSent("no code sender is configured (--code-webhook)".to_string())) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_webhook_sender_posts_the_message_and_tells_failures_from_unknown_outcomes() {
        use axum::{extract::State, http::StatusCode, routing::post, Json, Router};
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
                .route(
                    "/slow",
                    post(|| async {
                        tokio::time::sleep(Duration::from_secs(5)).await;
                        StatusCode::NO_CONTENT
                    }),
                )
                .with_state(received.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move { axum::serve(listener, router).await });
        let sender = |path: &str| WebhookSender::new(format!("http://{addr}{path}"), Duration::from_millis(300));

        let message = Message { channel: Channel::Email, to: "a@example.com".into(), code: "123456".into() };
        sender("/ok").send(&message).await.unwrap();
        assert_eq!(
            received.lock().unwrap()[0],
            serde_json::json!({"channel": "email", "to": "a@example.com", "code": "123456"})
        );
        match sender("/fail").send(&message).await {
            Err(Undelivered::NotSent(why)) => assert!(why.contains("500") && !why.contains("123456"), "{why}"),
            other => panic!("a 500 is a definite failure: {other:?}"),
        }
        assert!(matches!(sender("/slow").send(&message).await, Err(Undelivered::Unknown(_))));
        server.abort();
        let _ = server.await;
        // Nobody listens any more: the request never went out.
        assert!(matches!(sender("/ok").send(&message).await, Err(Undelivered::NotSent(_))));
        assert!(matches!(NoSender.send(&message).await, Err(Undelivered::NotSent(_))));
    }

    #[test]
    fn messages_do_not_print_their_code() {
        let message = Message { channel: Channel::Sms, to: "+8613800138000".into(), code: "424242".into() };
        assert!(!format!("{message:?}").contains("424242"));
    }
}
