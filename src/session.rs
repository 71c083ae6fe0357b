//! The client's sign-in state as a sans-I/O state machine.
//!
//! It never performs I/O and never reads a clock: the platform layer (Mini
//! Program, web, Node) feeds it what happened — a server answer, a network
//! failure, what storage held, the time — and carries out the [`Action`]s
//! it returns: send a refresh, store or clear the record, wake it at a
//! time, emit an event. So every rule below is written once, here.
//!
//! Times are the platform's own clock in milliseconds. Expiry is computed
//! from the server's `expires_in` and the moment the answer arrived, so a
//! device clock that is hours off changes nothing.
//!
//! Refresh rules:
//! * refresh when less than max(60 s, 10 % of the id_token's lifetime)
//!   remains; one refresh in flight at a time;
//! * a network failure or a 5xx keeps the session and retries with
//!   exponential backoff and jitter, from 200 ms, capped at one minute;
//! * an answer that the session is invalid signs out and clears storage.

use crate::protocol::{BindChallenge, LoginResponse, Tokens};
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The version of the stored record; any other version means signed out.
pub const RECORD_VERSION: u32 = 1;
/// The storage key the platform layers keep the record under.
pub const STORAGE_KEY: &str = "miniauth.session";
/// The largest stored record read back; anything longer is corrupt.
pub const MAX_RECORD_LEN: usize = 64 * 1024;

/// When to refresh and how to retry.
#[derive(Clone, Copy, Debug)]
pub struct Policy {
    /// Refresh at least this long before the id_token expires (ms).
    pub min_margin_ms: f64,
    /// ... or this fraction of its lifetime, whichever is longer.
    pub margin_fraction: f64,
    /// The first retry delay after a failed refresh (ms).
    pub first_retry_ms: f64,
    /// The longest retry delay (ms).
    pub max_retry_ms: f64,
}

impl Default for Policy {
    fn default() -> Self {
        Self { min_margin_ms: 60_000.0, margin_fraction: 0.1, first_retry_ms: 200.0, max_retry_ms: 60_000.0 }
    }
}

/// What the platform layer must do.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Persist this record under [`STORAGE_KEY`].
    Store(String),
    /// Remove the record.
    ClearStorage,
    /// Send `POST /v1/session/refresh` with this token and report the
    /// outcome with [`Session::on_refresh`].
    Refresh {
        /// The session token to spend.
        session_token: String,
    },
    /// Send `POST /v1/logout` with this token (best effort, no answer needed).
    Logout {
        /// The session token of the family to revoke.
        session_token: String,
    },
    /// Call [`Session::wake`] at this time (replaces any earlier wake-up).
    WakeAt(f64),
    /// Tell `onAuthStateChange` listeners.
    Emit(Event),
}

/// Events for `onAuthStateChange`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Event {
    /// A login or bind succeeded.
    SignedIn,
    /// The id_token was refreshed.
    TokenRefreshed,
    /// The session ended (logout, or the server refused it).
    SignedOut,
    /// The WeChat identity must be bound first.
    BindRequired,
    /// A refresh failed and will be retried.
    RefreshFailed,
}

/// How a refresh request ended, as the platform layer saw it.
#[derive(Clone, Debug)]
pub enum RefreshOutcome<'a> {
    /// HTTP 200 with this body.
    Answer(&'a str),
    /// An HTTP error status with the server's `error` code, if it sent one.
    Refused {
        /// The HTTP status.
        status: u16,
        /// The `error` of the body.
        error: Option<&'a str>,
    },
    /// No answer: the network failed or timed out.
    NetworkError,
}

/// What a login or bind answer meant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoginOutcome {
    /// Signed in.
    Success,
    /// Bind to an existing user first.
    SocialBind(BindChallenge),
    /// Bind or register first.
    UserRegister(BindChallenge),
}

/// Why an answer could not be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnswerError(pub &'static str);

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
struct Record {
    v: u32,
    id_token: String,
    session_token: String,
    /// Local time at which the id_token expires.
    expires_at: f64,
    /// The id_token's lifetime as the server gave it.
    lifetime_ms: f64,
    /// Local time at which the session token expires if unused.
    session_expires_at: f64,
}

#[derive(Debug)]
enum State {
    SignedOut,
    BindRequired(BindChallenge),
    SignedIn { record: Record, refreshing: bool, failures: u32, retry_at: f64 },
}

/// One client's session.
#[derive(Debug)]
pub struct Session {
    policy: Policy,
    state: State,
}

impl Session {
    /// A signed-out session.
    pub fn new(policy: Policy) -> Self {
        Self { policy, state: State::SignedOut }
    }

    /// Restores what storage held at start-up. A missing, corrupt or
    /// old-format record, or one whose session has expired, means signed out
    /// (and the record is cleared), never an error.
    pub fn restore(&mut self, stored: Option<&str>, now: f64) -> Vec<Action> {
        let record = stored
            .filter(|text| text.len() <= MAX_RECORD_LEN)
            .and_then(|text| serde_json::from_str::<Record>(text).ok())
            .filter(|r| r.v == RECORD_VERSION && r.expires_at.is_finite() && r.session_expires_at.is_finite());
        match record {
            Some(record) if now < record.session_expires_at => {
                self.state = State::SignedIn { record, refreshing: false, failures: 0, retry_at: 0.0 };
                let mut actions = alloc::vec![Action::Emit(Event::SignedIn)];
                actions.extend(self.schedule(now));
                actions
            }
            Some(_) => alloc::vec![Action::ClearStorage],
            None if stored.is_some() => alloc::vec![Action::ClearStorage],
            None => Vec::new(),
        }
    }

    /// Takes the body of a login, bind or register answer (HTTP 200) that
    /// arrived at `now`.
    pub fn on_login_answer(&mut self, body: &str, now: f64) -> Result<(LoginOutcome, Vec<Action>), AnswerError> {
        match parse_login_answer(body)? {
            LoginResponse::Success(tokens) => Ok((LoginOutcome::Success, self.sign_in(tokens, now))),
            LoginResponse::SocialBind(challenge) => {
                self.state = State::BindRequired(challenge.clone());
                Ok((LoginOutcome::SocialBind(challenge), alloc::vec![Action::Emit(Event::BindRequired)]))
            }
            LoginResponse::UserRegister(challenge) => {
                self.state = State::BindRequired(challenge.clone());
                Ok((LoginOutcome::UserRegister(challenge), alloc::vec![Action::Emit(Event::BindRequired)]))
            }
        }
    }

    /// The pending bind's state token, if a bind is required.
    pub fn state_token(&self) -> Option<&str> {
        match &self.state {
            State::BindRequired(challenge) => Some(&challenge.state_token),
            _ => None,
        }
    }

    /// The id_token if it is usable at `now` without refreshing first.
    pub fn fresh_id_token(&self, now: f64) -> Option<&str> {
        match &self.state {
            State::SignedIn { record, .. } if now < self.refresh_due_at(record) => Some(&record.id_token),
            _ => None,
        }
    }

    /// The id_token while it has not expired, even if a refresh is due: what
    /// a caller may still use when a refresh fails.
    pub fn unexpired_id_token(&self, now: f64) -> Option<&str> {
        match &self.state {
            State::SignedIn { record, .. } if now < record.expires_at => Some(&record.id_token),
            _ => None,
        }
    }

    /// The id_token whatever its age (for reading claims).
    pub fn id_token(&self) -> Option<&str> {
        match &self.state {
            State::SignedIn { record, .. } => Some(&record.id_token),
            _ => None,
        }
    }

    /// Whether a session exists.
    pub fn is_signed_in(&self) -> bool {
        matches!(self.state, State::SignedIn { .. })
    }

    /// A timer fired, the app came back to the foreground, or a caller needs
    /// a fresh token: starts a refresh if one is due and none is in flight.
    pub fn wake(&mut self, now: f64) -> Vec<Action> {
        self.schedule(now)
    }

    /// Asks for a refresh now, whatever the token's age (unless one is in
    /// flight already).
    pub fn refresh_now(&mut self) -> Vec<Action> {
        match &mut self.state {
            State::SignedIn { record, refreshing, .. } if !*refreshing => {
                *refreshing = true;
                alloc::vec![Action::Refresh { session_token: record.session_token.clone() }]
            }
            _ => Vec::new(),
        }
    }

    /// Reports how the refresh ended. `jitter` is a random number in [0, 1)
    /// from the platform, used to spread retries.
    pub fn on_refresh(&mut self, outcome: RefreshOutcome<'_>, now: f64, jitter: f64) -> Vec<Action> {
        let State::SignedIn { refreshing, failures, .. } = &mut self.state else {
            // Signed out while the refresh was in flight: nothing to update.
            return Vec::new();
        };
        *refreshing = false;
        match outcome {
            RefreshOutcome::Answer(body) => match serde_json::from_str::<Tokens>(body) {
                Ok(tokens) => {
                    let mut actions = self.store_tokens(tokens, now);
                    actions.push(Action::Emit(Event::TokenRefreshed));
                    actions.extend(self.schedule(now));
                    actions
                }
                // A 200 that is not tokens: a broken proxy, treated like a 5xx.
                Err(_) => self.retry_later(now, jitter),
            },
            RefreshOutcome::Refused { status, error } if session_is_gone(status, error) => {
                self.state = State::SignedOut;
                alloc::vec![Action::ClearStorage, Action::Emit(Event::SignedOut)]
            }
            RefreshOutcome::Refused { .. } | RefreshOutcome::NetworkError => {
                *failures += 1;
                self.retry_later(now, jitter)
            }
        }
    }

    /// Signs out: clears storage, and asks the server to revoke the session.
    pub fn sign_out(&mut self) -> Vec<Action> {
        let previous = core::mem::replace(&mut self.state, State::SignedOut);
        let mut actions = Vec::new();
        if let State::SignedIn { record, .. } = previous {
            actions.push(Action::Logout { session_token: record.session_token });
        }
        actions.push(Action::ClearStorage);
        actions.push(Action::Emit(Event::SignedOut));
        actions
    }

    fn sign_in(&mut self, tokens: Tokens, now: f64) -> Vec<Action> {
        self.state = State::SignedOut;
        let mut actions = self.store_tokens(tokens, now);
        actions.push(Action::Emit(Event::SignedIn));
        actions.extend(self.schedule(now));
        actions
    }

    fn store_tokens(&mut self, tokens: Tokens, now: f64) -> Vec<Action> {
        let lifetime_ms = tokens.expires_in as f64 * 1000.0;
        let record = Record {
            v: RECORD_VERSION,
            id_token: tokens.id_token,
            session_token: tokens.session_token,
            expires_at: now + lifetime_ms,
            lifetime_ms,
            session_expires_at: now + tokens.session_expires_in as f64 * 1000.0,
        };
        let stored = serde_json::to_string(&record).unwrap_or_default();
        self.state = State::SignedIn { record, refreshing: false, failures: 0, retry_at: 0.0 };
        alloc::vec![Action::Store(stored)]
    }

    fn refresh_due_at(&self, record: &Record) -> f64 {
        let margin = self.policy.min_margin_ms.max(record.lifetime_ms * self.policy.margin_fraction);
        record.expires_at - margin
    }

    /// Refresh now if due (and none in flight), else wake when it will be.
    /// After a failure, "due" is the end of the backoff.
    fn schedule(&mut self, now: f64) -> Vec<Action> {
        let due_at = match &self.state {
            State::SignedIn { refreshing: true, .. } | State::SignedOut | State::BindRequired(_) => return Vec::new(),
            State::SignedIn { failures: 0, record, .. } => self.refresh_due_at(record),
            State::SignedIn { retry_at, .. } => *retry_at,
        };
        if now >= due_at {
            self.refresh_now()
        } else {
            alloc::vec![Action::WakeAt(due_at)]
        }
    }

    fn retry_later(&mut self, now: f64, jitter: f64) -> Vec<Action> {
        let State::SignedIn { failures, retry_at, .. } = &mut self.state else { return Vec::new() };
        *failures = (*failures).max(1);
        let exponent = (*failures - 1).min(30) as i32;
        let base = (self.policy.first_retry_ms * powi2(exponent)).min(self.policy.max_retry_ms);
        // Jitter between half and all of the delay: spread out, never zero.
        let delay = base * (0.5 + 0.5 * jitter.clamp(0.0, 1.0));
        *retry_at = now + delay;
        alloc::vec![Action::Emit(Event::RefreshFailed), Action::WakeAt(now + delay)]
    }
}

/// 2^n for small n, without std.
fn powi2(n: i32) -> f64 {
    (0..n).fold(1.0, |acc, _| acc * 2.0)
}

/// Whether a refused refresh means the session is over (and not a passing
/// failure): 401, or a 400/403 naming the session.
fn session_is_gone(status: u16, error: Option<&str>) -> bool {
    status == 401 || (matches!(status, 400 | 403) && error == Some(crate::protocol::error_code::INVALID_SESSION))
}

/// Reads a login or bind answer leniently: the `status` may carry stray
/// white space, another case, or dashes for underscores.
pub fn parse_login_answer(body: &str) -> Result<LoginResponse, AnswerError> {
    if body.len() > MAX_RECORD_LEN {
        return Err(AnswerError("the answer is too large"));
    }
    let mut value: Value = serde_json::from_str(body).map_err(|_| AnswerError("the answer is not JSON"))?;
    let object = value.as_object_mut().ok_or(AnswerError("the answer is not a JSON object"))?;
    let status = object.get("status").and_then(Value::as_str).ok_or(AnswerError("the answer has no status"))?;
    let normalized: String = status.trim().chars().map(|c| if c == '-' || c == ' ' { '_' } else { c.to_ascii_uppercase() }).collect();
    object.insert("status".to_string(), Value::String(normalized));
    serde_json::from_value(value).map_err(|_| AnswerError("the answer does not match the login protocol"))
}

#[cfg(test)]
mod tests;
