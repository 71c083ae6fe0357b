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
//!   remains, but not in the first half of its life; one refresh in flight
//!   at a time;
//! * a network failure or a 5xx keeps the session and retries with
//!   exponential backoff and jitter, from 200 ms, capped at one minute;
//! * an answer that the session is invalid signs out and clears storage.

use crate::error::{Error, ErrorCode};
use crate::protocol::{BindChallenge, BindFlow, LoginResponse, Tokens};
use alloc::string::String;
use alloc::vec::Vec;
use serde::Serialize;
use serde_json::{Map, Value};

/// The version of the stored record; any other version means signed out.
pub const RECORD_VERSION: u32 = 1;
/// The storage key the platform layers keep the record under.
pub const STORAGE_KEY: &str = "miniauth.session";
/// The largest stored record read back; anything longer is corrupt.
pub const MAX_RECORD_LEN: usize = 64 * 1024;

/// When to refresh and how to retry.
#[derive(Clone, Copy, Debug)]
pub struct RefreshPolicy {
    /// Refresh at least this long before the id_token expires (ms).
    pub min_margin_ms: i64,
    /// ... or this fraction of its lifetime, whichever is longer.
    pub margin_fraction: f64,
    /// The first retry delay after a failed refresh (ms).
    pub first_retry_ms: i64,
    /// The longest retry delay (ms).
    pub max_retry_ms: i64,
}

impl Default for RefreshPolicy {
    fn default() -> Self {
        Self { min_margin_ms: 60_000, margin_fraction: 0.1, first_retry_ms: 200, max_retry_ms: 60_000 }
    }
}

/// What the platform layer must do. Serialised for JavaScript as
/// `{"type": "store", "record": …}`, `{"type": "refresh", "session_token": …}`,
/// `{"type": "wake_at", "at": …}`, `{"type": "emit", "event": "SIGNED_IN"}`, …
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Action {
    /// Persist this record under [`STORAGE_KEY`].
    Store {
        /// The record's text.
        record: String,
    },
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
    WakeAt {
        /// The platform clock's time, in milliseconds.
        at: i64,
    },
    /// Tell `onAuthStateChange` listeners.
    Emit {
        /// The event to pass to every listener.
        event: Event,
    },
}

/// Events for `onAuthStateChange`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Event {
    /// A login or bind succeeded.
    SignedIn,
    /// A refresh stored a new id_token (and a rotated session_token).
    TokenRefreshed,
    /// The session ended (logout, or the server refused it).
    SignedOut,
    /// The WeChat identity must be bound first.
    BindRequired,
    /// The id_token now carries the profile the user updated.
    UserUpdated,
    /// A refresh failed and will be retried.
    RefreshFailed,
}

impl Event {
    /// Every event, in the order the package documents them.
    pub const ALL: [Self; 6] = [
        Self::SignedIn,
        Self::TokenRefreshed,
        Self::SignedOut,
        Self::BindRequired,
        Self::RefreshFailed,
        Self::UserUpdated,
    ];
}

/// How a refresh request ended, as the platform layer saw it.
#[derive(Clone, Debug)]
pub enum RefreshOutcome<'a> {
    /// HTTP 200 with this body.
    Answer(&'a str),
    /// An HTTP error status with the server's `error` code, if it sent one.
    Refused {
        /// The HTTP status: 401, or 400/403 with `invalid_session`, ends the
        /// session; any other is retried.
        status: u16,
        /// The body's `error` member, if the body had one.
        error: Option<&'a str>,
    },
    /// No answer: the network failed or timed out.
    NetworkError,
}

/// How a refresh ended, for whoever asked for it, and what to do next.
#[derive(Clone, Debug, PartialEq)]
pub struct RefreshEnd {
    /// Whether the session now holds the new tokens.
    pub refreshed: bool,
    /// Why not, where the core knows better than the platform (which has its
    /// own error for a refusal or a network failure): an unusable 200 answer
    /// (`ERR_SERVER`), or a sign-out while the request was in flight
    /// (`ERR_SIGNED_OUT`).
    pub error: Option<Error>,
    /// What the platform layer must do.
    pub actions: Vec<Action>,
}

impl RefreshEnd {
    fn refreshed(actions: Vec<Action>) -> Self {
        Self { refreshed: true, error: None, actions }
    }

    fn failed(error: Option<Error>, actions: Vec<Action>) -> Self {
        Self { refreshed: false, error, actions }
    }
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

#[derive(Clone, Debug, Serialize, PartialEq)]
struct Record {
    v: u32,
    id_token: String,
    session_token: String,
    /// Local time at which the id_token expires.
    expires_at: i64,
    /// The id_token's lifetime as the server gave it.
    lifetime_ms: i64,
    /// Local time at which the session token expires if unused.
    session_expires_at: i64,
}

impl Record {
    /// A stored record, or `None` if it is corrupt or of another version.
    fn parse(text: &str) -> Option<Self> {
        if text.len() > MAX_RECORD_LEN {
            return None;
        }
        let mut fields = crate::strict_json::parse_object(text.as_bytes()).ok()?;
        let mut text = |name: &str| match fields.remove(name) {
            Some(Value::String(text)) => Some(text),
            _ => None,
        };
        let (id_token, session_token) = (text("id_token")?, text("session_token")?);
        let int = |name: &str| fields.get(name).and_then(Value::as_i64);
        (int("v")? == i64::from(RECORD_VERSION)).then_some(())?;
        Some(Self {
            v: RECORD_VERSION,
            id_token,
            session_token,
            expires_at: int("expires_at")?,
            lifetime_ms: int("lifetime_ms")?,
            session_expires_at: int("session_expires_at")?,
        })
    }
}

#[derive(Debug)]
enum State {
    SignedOut,
    BindRequired(BindChallenge),
    SignedIn { record: Record, refreshing: bool, failures: u32, retry_at: i64, profile: ProfileSync },
}

/// Whether the id_token carries the user's latest profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ProfileSync {
    Current,
    /// The profile changed on the server; `covered` once a refresh started
    /// after the change (one in flight before it may answer the old one).
    Changed {
        covered: bool,
    },
}

/// One client's session.
#[derive(Debug)]
pub struct Session {
    policy: RefreshPolicy,
    state: State,
}

impl Session {
    /// A signed-out session.
    pub fn new(policy: RefreshPolicy) -> Self {
        Self { policy, state: State::SignedOut }
    }

    /// Restores what storage held at start-up. A missing, corrupt or
    /// old-format record, or one whose session has expired, means signed out
    /// (and the record is cleared), never an error.
    pub fn restore(&mut self, stored: Option<&str>, now: i64) -> Vec<Action> {
        let record = stored.and_then(Record::parse);
        match record {
            Some(record) if now < record.session_expires_at => {
                self.state = State::SignedIn {
                    record,
                    refreshing: false,
                    failures: 0,
                    retry_at: 0,
                    profile: ProfileSync::Current,
                };
                let mut actions = alloc::vec![Action::Emit { event: Event::SignedIn }];
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
    pub fn on_login_answer(&mut self, body: &str, now: i64) -> Result<(LoginOutcome, Vec<Action>), Error> {
        match parse_login_answer(body)? {
            LoginResponse::Success(tokens) => Ok((LoginOutcome::Success, self.sign_in(tokens, now))),
            LoginResponse::SocialBind(challenge) => {
                self.state = State::BindRequired(challenge.clone());
                Ok((LoginOutcome::SocialBind(challenge), alloc::vec![Action::Emit { event: Event::BindRequired }]))
            }
            LoginResponse::UserRegister(challenge) => {
                self.state = State::BindRequired(challenge.clone());
                Ok((LoginOutcome::UserRegister(challenge), alloc::vec![Action::Emit { event: Event::BindRequired }]))
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
    pub fn fresh_id_token(&self, now: i64) -> Option<&str> {
        match &self.state {
            State::SignedIn { record, .. } if now < self.refresh_due_at(record) => Some(&record.id_token),
            _ => None,
        }
    }

    /// The id_token while it has not expired, even if a refresh is due: what
    /// a caller may still use when a refresh fails.
    pub fn unexpired_id_token(&self, now: i64) -> Option<&str> {
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
    pub fn wake(&mut self, now: i64) -> Vec<Action> {
        self.schedule(now)
    }

    /// Asks for a refresh now, whatever the token's age (unless one is in
    /// flight already).
    pub fn refresh_now(&mut self) -> Vec<Action> {
        match &mut self.state {
            State::SignedIn { record, refreshing, profile, .. } if !*refreshing => {
                *refreshing = true;
                if let ProfileSync::Changed { covered } = profile {
                    *covered = true;
                }
                alloc::vec![Action::Refresh { session_token: record.session_token.clone() }]
            }
            _ => Vec::new(),
        }
    }

    /// Reports how the refresh ended. `jitter` is a random number in [0, 1)
    /// from the platform, used to spread retries.
    pub fn on_refresh(&mut self, outcome: RefreshOutcome<'_>, now: i64, jitter: f64) -> RefreshEnd {
        let State::SignedIn { refreshing, profile, .. } = &mut self.state else {
            // Signed out while the refresh was in flight: nothing to update.
            let why = Error::new(ErrorCode::SignedOut, "signed out while the refresh was in flight");
            return RefreshEnd::failed(Some(why), Vec::new());
        };
        *refreshing = false;
        let profile = *profile;
        match outcome {
            RefreshOutcome::Answer(body) => {
                // A 200 that is not tokens (a captive portal, a proxy's page)
                // fails like a 5xx.
                let tokens = match RawAnswer::parse(body).and_then(RawAnswer::tokens) {
                    Ok(tokens) => tokens,
                    Err(why) => return RefreshEnd::failed(Some(why), self.retry_later(now, jitter)),
                };
                let mut actions = self.store_tokens(tokens, now);
                actions.push(Action::Emit { event: Event::TokenRefreshed });
                match profile {
                    ProfileSync::Current => actions.extend(self.schedule(now)),
                    ProfileSync::Changed { covered: true } => {
                        actions.push(Action::Emit { event: Event::UserUpdated });
                        actions.extend(self.schedule(now));
                    }
                    ProfileSync::Changed { covered: false } => {
                        // Asked for before the change: ask again at once.
                        self.set_profile(ProfileSync::Changed { covered: false });
                        actions.extend(self.refresh_now());
                    }
                }
                RefreshEnd::refreshed(actions)
            }
            RefreshOutcome::Refused { status, error } if session_is_gone(status, error) => {
                self.state = State::SignedOut;
                RefreshEnd::failed(None, alloc::vec![Action::ClearStorage, Action::Emit { event: Event::SignedOut }])
            }
            RefreshOutcome::Refused { .. } | RefreshOutcome::NetworkError => {
                RefreshEnd::failed(None, self.retry_later(now, jitter))
            }
        }
    }

    /// The user's profile changed on the server: refresh so that the id_token
    /// carries it, and emit [`Event::UserUpdated`] once one does.
    pub fn on_profile_updated(&mut self) -> Vec<Action> {
        self.set_profile(ProfileSync::Changed { covered: false });
        self.refresh_now()
    }

    fn set_profile(&mut self, sync: ProfileSync) {
        if let State::SignedIn { profile, .. } = &mut self.state {
            *profile = sync;
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
        actions.push(Action::Emit { event: Event::SignedOut });
        actions
    }

    fn sign_in(&mut self, tokens: Tokens, now: i64) -> Vec<Action> {
        self.state = State::SignedOut;
        let mut actions = self.store_tokens(tokens, now);
        actions.push(Action::Emit { event: Event::SignedIn });
        actions.extend(self.schedule(now));
        actions
    }

    fn store_tokens(&mut self, tokens: Tokens, now: i64) -> Vec<Action> {
        let lifetime_ms = ms(tokens.expires_in);
        let record = Record {
            v: RECORD_VERSION,
            id_token: tokens.id_token,
            session_token: tokens.session_token,
            expires_at: now.saturating_add(lifetime_ms),
            lifetime_ms,
            session_expires_at: now.saturating_add(ms(tokens.session_expires_in)),
        };
        let stored = serde_json::to_string(&record).unwrap_or_default();
        self.state =
            State::SignedIn { record, refreshing: false, failures: 0, retry_at: 0, profile: ProfileSync::Current };
        alloc::vec![Action::Store { record: stored }]
    }

    /// When the id_token should be refreshed: max(margin, 10 % of its
    /// lifetime) before it expires, but never in the first half of its life,
    /// so a margin as long as the lifetime cannot refresh in a loop.
    fn refresh_due_at(&self, record: &Record) -> i64 {
        let margin = self.policy.min_margin_ms.max((record.lifetime_ms as f64 * self.policy.margin_fraction) as i64);
        // Saturating: a record read back from storage may hold any numbers.
        record.expires_at.saturating_sub(margin.min(record.lifetime_ms / 2))
    }

    /// Refresh now if due (and none in flight), else wake when it will be.
    /// After a failure, "due" is the end of the backoff.
    fn schedule(&mut self, now: i64) -> Vec<Action> {
        let due_at = match &self.state {
            State::SignedIn { refreshing: true, .. } | State::SignedOut | State::BindRequired(_) => return Vec::new(),
            State::SignedIn { failures: 0, record, .. } => self.refresh_due_at(record),
            State::SignedIn { retry_at, .. } => *retry_at,
        };
        if now >= due_at {
            self.refresh_now()
        } else {
            alloc::vec![Action::WakeAt { at: due_at }]
        }
    }

    /// Counts a failed refresh and schedules the next try after a backoff
    /// that doubles with each failure in a row.
    fn retry_later(&mut self, now: i64, jitter: f64) -> Vec<Action> {
        let State::SignedIn { failures, retry_at, .. } = &mut self.state else { return Vec::new() };
        *failures = failures.saturating_add(1);
        let exponent = (*failures - 1).min(20);
        let base = self.policy.first_retry_ms.saturating_mul(1 << exponent).min(self.policy.max_retry_ms);
        // Jitter between half and all of the delay: spread out, never zero.
        let delay = (base as f64 * (0.5 + 0.5 * jitter.clamp(0.0, 1.0))) as i64;
        *retry_at = now + delay;
        alloc::vec![Action::Emit { event: Event::RefreshFailed }, Action::WakeAt { at: now + delay }]
    }
}

/// Seconds from the server as milliseconds.
fn ms(seconds: u64) -> i64 {
    i64::try_from(seconds).unwrap_or(i64::MAX / 1000).saturating_mul(1000)
}

/// Whether a refused refresh means the session is over (and not a passing
/// failure): 401, or a 400/403 naming the session.
fn session_is_gone(status: u16, error: Option<&str>) -> bool {
    status == 401
        || (matches!(status, 400 | 403) && error == Some(crate::protocol::ApiErrorCode::InvalidSession.as_str()))
}

/// A login, bind or refresh answer as it arrives, read field by field from
/// strict JSON, so that the status can be read leniently before the variant
/// is chosen. Lifetimes are read as numbers of any kind.
struct RawAnswer(Map<String, Value>);

impl RawAnswer {
    fn parse(body: &str) -> Result<Self, Error> {
        if body.len() > MAX_RECORD_LEN {
            return Err(Error::new(ErrorCode::Server, "the answer is too large"));
        }
        crate::strict_json::parse_object(body.as_bytes())
            .map(Self)
            .map_err(|_| Error::new(ErrorCode::Server, "the answer is not a JSON object"))
    }

    fn text(&mut self, name: &str) -> Option<String> {
        match self.0.remove(name) {
            Some(Value::String(text)) => Some(text),
            _ => None,
        }
    }

    fn seconds(&self, name: &str) -> Option<u64> {
        self.0.get(name).and_then(Value::as_f64).filter(|n| n.is_finite() && *n >= 0.0).map(|n| n as u64)
    }

    /// The tokens of a SUCCESS or refresh answer.
    fn tokens(mut self) -> Result<Tokens, Error> {
        match (
            self.text("id_token"),
            self.text("session_token"),
            self.seconds("expires_in"),
            self.seconds("session_expires_in"),
        ) {
            (Some(id_token), Some(session_token), Some(expires_in), Some(session_expires_in)) => {
                Ok(Tokens { id_token, session_token, expires_in, session_expires_in })
            }
            _ => Err(Error::new(ErrorCode::Server, "the answer lacks a field its status needs")),
        }
    }

    /// The flows of a bind answer; unknown flows are skipped, so a newer
    /// server can offer more.
    fn flows(&self) -> Option<Vec<BindFlow>> {
        let Some(Value::Array(names)) = self.0.get("flows") else { return None };
        Some(names.iter().filter_map(Value::as_str).filter_map(BindFlow::from_name).collect())
    }
}

/// Reads a login or bind answer leniently: the `status` may carry stray
/// white space, another case, or dashes or spaces for underscores.
pub fn parse_login_answer(body: &str) -> Result<LoginResponse, Error> {
    let mut raw = RawAnswer::parse(body)?;
    let status: String = raw
        .text("status")
        .ok_or(Error::new(ErrorCode::Server, "the answer has no status"))?
        .trim()
        .chars()
        .map(|c| if c == '-' || c == ' ' { '_' } else { c.to_ascii_uppercase() })
        .collect();
    if status == "SUCCESS" {
        return raw.tokens().map(LoginResponse::Success);
    }
    let (Some(flows), Some(expires_in), Some(state_token)) =
        (raw.flows(), raw.seconds("expires_in"), raw.text("state_token"))
    else {
        return Err(Error::new(ErrorCode::Server, "the answer lacks a field its status needs"));
    };
    let challenge = BindChallenge { state_token, expires_in, flows };
    match status.as_str() {
        "SOCIAL_BIND" => Ok(LoginResponse::SocialBind(challenge)),
        "USER_REGISTER" => Ok(LoginResponse::UserRegister(challenge)),
        _ => Err(Error::new(ErrorCode::Server, "the answer has an unknown status")),
    }
}

#[cfg(test)]
mod tests;
