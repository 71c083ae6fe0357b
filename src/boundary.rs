//! What the JavaScript layer calls, whichever binding carries it: the
//! WebAssembly module (`wasm`) and the native Node addon
//! (`bindings/node`) each wrap these types and functions one to one and add
//! nothing, so `js/core/` cannot tell them apart.
//!
//! Values cross as JSON text and strings, and a failure is the JSON text of
//! the error (`{"code","message","claim"?,"reason"?}`), which the bindings
//! throw as a string and `js/core/errors.js` turns into `MiniAuthError`.
//! The JavaScript side supplies the time; nothing here reads a clock.

use crate::error::{Error, ErrorCode};
use crate::jwk::{KeySet, VerifyingKey};
use crate::jwks_cache::{JwksCache, DEFAULT_CACHE_MAX_AGE_MS, DEFAULT_COOLDOWN_MS};
use crate::jws::{self, Keys};
use crate::jwt;
use crate::protocol::BindFlow;
use crate::session::{self, Action, LoginOutcome, RefreshOutcome, Session};
use crate::token_cache::{Lookup, TokenCache};
use crate::token_origins::TokenOrigins;
use crate::verifier::Validation;
use alloc::string::String;
use alloc::vec::Vec;
use serde::Serialize;

/// A failure as it crosses: the JSON text of the error.
pub type Thrown = String;

/// The JSON text of `error`, as the bindings throw it.
pub fn thrown(error: Error) -> Thrown {
    serde_json::to_string(&ErrorFields::of(&error)).unwrap_or_default()
}

/// An error as it crosses: `{"code","message","claim"?,"reason"?}`.
#[derive(Serialize)]
struct ErrorFields<'a> {
    code: &'static str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    claim: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
}

impl<'a> ErrorFields<'a> {
    fn of(error: &'a Error) -> Self {
        Self {
            code: error.code().as_str(),
            message: error.message(),
            claim: error.claim_name(),
            reason: error.claim_reason().map(|r| r.as_str()),
        }
    }
}

fn utf8(bytes: Vec<u8>) -> String {
    // Callers pass bytes that strict JSON parsing has already accepted.
    String::from_utf8(bytes).unwrap_or_default()
}

/// The lists and limits the JavaScript layer shares with the core, as JSON:
/// `{"errorCodes", "events", "channels", "maxResponseBytes"}`. The platform
/// layers read them from here instead of keeping copies, and the package's
/// tests check `index.d.ts` and its README against them.
pub fn contract() -> String {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Contract {
        error_codes: Vec<&'static str>,
        events: &'static [session::Event],
        channels: &'static [crate::protocol::Channel],
        max_response_bytes: usize,
    }
    let contract = Contract {
        error_codes: ErrorCode::ALL.iter().map(|code| code.as_str()).collect(),
        events: &session::Event::ALL,
        channels: &crate::protocol::Channel::ALL,
        max_response_bytes: crate::jwk::MAX_KEY_DOCUMENT_LEN,
    };
    serde_json::to_string(&contract).unwrap_or_default()
}

/// Where verification keys come from: fixed at creation, or a remote JWKS
/// whose cache policy lives in [`JwksCache`].
pub struct KeyStore(Source);

enum Source {
    Fixed(Keys),
    Remote(JwksCache),
}

impl KeyStore {
    /// Fixed keys from a JWK Set's JSON text; each token's key is chosen by
    /// `kid` and `alg` ([`KeySet::select`]).
    pub fn from_jwks(json: &str) -> Result<Self, Thrown> {
        let set = KeySet::from_jwks_json(json.as_bytes()).map_err(thrown)?;
        Ok(Self(Source::Fixed(Keys::Set(set))))
    }

    /// One JWK.
    pub fn from_jwk(json: &str) -> Result<Self, Thrown> {
        let key = VerifyingKey::from_jwk_json(json.as_bytes()).map_err(thrown)?;
        Ok(Self(Source::Fixed(Keys::Single(key))))
    }

    /// An SPKI public key in PEM form.
    pub fn from_pem(pem: &str) -> Result<Self, Thrown> {
        let key = VerifyingKey::from_spki_pem(pem).map_err(thrown)?;
        Ok(Self(Source::Fixed(Keys::Single(key))))
    }

    /// A fixed HMAC key from the secret's raw bytes; it verifies only the HS
    /// algorithms whose hash is no longer than the secret.
    pub fn from_secret(secret: &[u8]) -> Result<Self, Thrown> {
        let key = VerifyingKey::from_hmac_secret(secret).map_err(thrown)?;
        Ok(Self(Source::Fixed(Keys::Single(key))))
    }

    /// An empty remote key set with its cache lifetimes in milliseconds
    /// (`None`: the core's defaults, [`DEFAULT_CACHE_MAX_AGE_MS`] and
    /// [`DEFAULT_COOLDOWN_MS`]).
    pub fn remote(cache_max_age_ms: Option<f64>, cooldown_ms: Option<f64>) -> Self {
        Self(Source::Remote(JwksCache::new(
            cache_max_age_ms.unwrap_or(DEFAULT_CACHE_MAX_AGE_MS),
            cooldown_ms.unwrap_or(DEFAULT_COOLDOWN_MS),
        )))
    }

    /// Whether the keys may be used now without fetching first.
    pub fn is_fresh(&self, now_ms: f64) -> bool {
        match &self.0 {
            Source::Fixed(_) => true,
            Source::Remote(cache) => cache.is_fresh(now_ms),
        }
    }

    /// Whether an unknown `kid` may trigger a refetch now.
    pub fn may_refetch(&self, now_ms: f64) -> bool {
        match &self.0 {
            Source::Fixed(_) => false,
            Source::Remote(cache) => cache.may_refetch(now_ms),
        }
    }

    /// Stores a fetched JWKS document in a remote key set.
    pub fn store_jwks(&mut self, json: &str, now_ms: f64) -> Result<(), Thrown> {
        match &mut self.0 {
            Source::Fixed(_) => Ok(()),
            Source::Remote(cache) => cache.store(json.as_bytes(), now_ms).map_err(thrown),
        }
    }

    fn keys(&self) -> Result<&Keys, Error> {
        match &self.0 {
            Source::Fixed(keys) => Ok(keys),
            Source::Remote(cache) => {
                cache.keys().ok_or(Error::new(ErrorCode::JwksNoMatchingKey, "the remote JWKS has not been fetched"))
            }
        }
    }
}

/// Verification options, parsed and checked once, with the verified-token
/// cache they ask for.
pub struct Policy {
    validation: Validation,
    cache: Option<TokenCache>,
    /// The result of the last verification [`Policy::verify_cached`] stored.
    stored_json: String,
}

impl Policy {
    /// Options as JSON text (`{}` for none).
    pub fn parse(options_json: &str) -> Result<Self, Thrown> {
        let validation = Validation::from_json(options_json.as_bytes()).map_err(thrown)?;
        let cache = validation.cache_settings().map(TokenCache::new);
        Ok(Self { validation, cache, stored_json: String::new() })
    }

    /// Whether the options ask for a cache: verify with
    /// [`Policy::verify_cached`] then.
    pub fn caches(&self) -> bool {
        self.cache.is_some()
    }

    /// Verifies a compact JWT with `keys` at `now_ms`, in full, and returns
    /// `{"header":…,"claims":…}` as JSON text.
    pub fn verify(&self, keys: &KeyStore, token: &str, now_ms: f64) -> Result<String, Thrown> {
        let keys = keys.keys().map_err(thrown)?;
        self.validation.verify(keys, token, now_ms).map(|verified| verified.to_json()).map_err(thrown)
    }

    /// Verifies through the cache (see [`crate::token_cache`]): answers the
    /// slot `n` of a hit, or `-(n + 1)` when the result was verified now and
    /// stored in slot `n`, its JSON text left for [`Policy::take_stored`].
    pub fn verify_cached(&mut self, keys: &KeyStore, token: &str, now_ms: f64) -> Result<f64, Thrown> {
        let keys = keys.keys().map_err(thrown)?;
        let Some(cache) = &mut self.cache else {
            return Err(thrown(Error::new(ErrorCode::InvalidArgument, "these verify options ask for no cache")));
        };
        match cache.verify(&self.validation, keys, token, now_ms).map_err(thrown)? {
            Lookup::Hit(slot) => Ok(f64::from(slot)),
            Lookup::Stored { slot, verified_json } => {
                self.stored_json = verified_json;
                Ok(-f64::from(slot) - 1.0)
            }
        }
    }

    /// The JSON text of the result [`Policy::verify_cached`] stored last.
    pub fn take_stored(&mut self) -> String {
        core::mem::take(&mut self.stored_json)
    }

    /// How many verified tokens the cache holds (0 without a cache).
    pub fn cached(&self) -> usize {
        self.cache.as_ref().map_or(0, TokenCache::len)
    }
}

/// The claims of a JWT as JSON text, without verification.
pub fn decode_jwt(token: &str) -> Result<String, Thrown> {
    jwt::decode_jwt(token).map(utf8).map_err(thrown)
}

/// The protected header of a JWS as JSON text, without verification.
pub fn decode_protected_header(token: &str) -> Result<String, Thrown> {
    jws::decode_protected_header(token).map(utf8).map_err(thrown)
}

/// The key the session record is stored under.
pub fn storage_key() -> String {
    session::STORAGE_KEY.into()
}

/// The client session state machine (see [`crate::session`]) and where its
/// id_token may be sent ([`TokenOrigins`]). Every method that changes it
/// returns the actions for the platform layer as a JSON array. Times are
/// the platform clock's milliseconds.
pub struct SessionCore {
    session: Session,
    token_origins: TokenOrigins,
}

const MARGIN: &str = "\"refreshMargin\" must be a number of milliseconds";
const ORIGINS: &str = "\"tokenOrigins\" must be a list of origins such as \"https://api.example.com\"";

fn actions_json(actions: &[Action]) -> String {
    serde_json::to_string(actions).unwrap_or_default()
}

impl SessionCore {
    /// A signed-out session, from the client's options as JSON text:
    /// `refreshMargin` (refresh at least this many ms before the id_token
    /// expires; default the core's) and `tokenOrigins` (where the id_token
    /// may be sent; default nowhere).
    pub fn create(options_json: &str) -> Result<Self, Thrown> {
        let invalid = |message| thrown(Error::new(ErrorCode::InvalidArgument, message));
        let options = crate::strict_json::parse_object(options_json.as_bytes())
            .map_err(|_| invalid("the client options must be a JSON object"))?;
        let mut policy = session::RefreshPolicy::default();
        let mut token_origins = TokenOrigins::default();
        for (name, value) in &options {
            match (name.as_str(), value) {
                ("refreshMargin", serde_json::Value::Number(ms)) => {
                    policy.min_margin_ms =
                        ms.as_f64().filter(|ms| *ms >= 0.0).map(|ms| ms as i64).ok_or_else(|| invalid(MARGIN))?;
                }
                ("refreshMargin", _) => return Err(invalid(MARGIN)),
                ("tokenOrigins", serde_json::Value::Array(list)) => {
                    let names: Option<Vec<&str>> = list.iter().map(serde_json::Value::as_str).collect();
                    token_origins = TokenOrigins::new(names.ok_or_else(|| invalid(ORIGINS))?).map_err(thrown)?;
                }
                ("tokenOrigins", _) => return Err(invalid(ORIGINS)),
                _ => return Err(invalid("unknown client option")),
            }
        }
        Ok(Self { session: Session::new(policy), token_origins })
    }

    /// Whether a request to `url` may carry the id_token.
    pub fn bearer_allowed(&self, url: &str) -> bool {
        self.token_origins.allow(url)
    }

    /// The user's profile changed on the server (see
    /// [`Session::on_profile_updated`]).
    pub fn profile_updated(&mut self) -> String {
        actions_json(&self.session.on_profile_updated())
    }

    /// What storage held at start-up (`None` for nothing).
    pub fn restore(&mut self, stored: Option<&str>, now: f64) -> String {
        actions_json(&self.session.restore(stored, now as i64))
    }

    /// A login, bind or register answer's body (HTTP 200): returns
    /// `{"status", "flows"?, "actions"}`.
    pub fn login_answer(&mut self, body: &str, now: f64) -> Result<String, Thrown> {
        #[derive(Serialize)]
        struct LoginResult<'a> {
            status: &'static str,
            #[serde(skip_serializing_if = "Option::is_none")]
            flows: Option<&'a [BindFlow]>,
            actions: &'a [Action],
        }
        let (outcome, actions) = self.session.on_login_answer(body, now as i64).map_err(thrown)?;
        let (status, flows) = match &outcome {
            LoginOutcome::Success => ("SUCCESS", None),
            LoginOutcome::SocialBind(c) => ("SOCIAL_BIND", Some(c.flows.as_slice())),
            LoginOutcome::UserRegister(c) => ("USER_REGISTER", Some(c.flows.as_slice())),
        };
        Ok(serde_json::to_string(&LoginResult { status, flows, actions: &actions }).unwrap_or_default())
    }

    /// A timer fired, the app came to the foreground, or a token is needed.
    pub fn wake(&mut self, now: f64) -> String {
        actions_json(&self.session.wake(now as i64))
    }

    /// Refresh now, whatever the token's age.
    pub fn refresh_now(&mut self) -> String {
        actions_json(&self.session.refresh_now())
    }

    /// The refresh answered 200 with `body`. This and the two below answer
    /// `{"refreshed", "error"?, "actions"}` ([`session::RefreshEnd`]).
    pub fn refresh_answer(&mut self, body: &str, now: f64, jitter: f64) -> String {
        self.refresh_ended(RefreshOutcome::Answer(body), now, jitter)
    }

    /// The refresh answered an error status, with the body's `error`.
    pub fn refresh_refused(&mut self, status: u16, error: Option<&str>, now: f64, jitter: f64) -> String {
        self.refresh_ended(RefreshOutcome::Refused { status, error }, now, jitter)
    }

    /// The refresh got no answer (network error or timeout): the session is
    /// kept and the refresh retried later.
    pub fn refresh_failed(&mut self, now: f64, jitter: f64) -> String {
        self.refresh_ended(RefreshOutcome::NetworkError, now, jitter)
    }

    fn refresh_ended(&mut self, outcome: RefreshOutcome<'_>, now: f64, jitter: f64) -> String {
        #[derive(Serialize)]
        struct Ended<'a> {
            refreshed: bool,
            #[serde(skip_serializing_if = "Option::is_none")]
            error: Option<ErrorFields<'a>>,
            actions: &'a [Action],
        }
        let end = self.session.on_refresh(outcome, now as i64, jitter);
        let ended =
            Ended { refreshed: end.refreshed, error: end.error.as_ref().map(ErrorFields::of), actions: &end.actions };
        serde_json::to_string(&ended).unwrap_or_default()
    }

    /// Signs out: the actions (`logout` when signed in, `clear_storage`,
    /// `emit` `SIGNED_OUT`) as JSON text.
    pub fn sign_out(&mut self) -> String {
        actions_json(&self.session.sign_out())
    }

    /// The id_token if no refresh is due.
    pub fn fresh_id_token(&self, now: f64) -> Option<String> {
        self.session.fresh_id_token(now as i64).map(Into::into)
    }

    /// The id_token while it has not expired.
    pub fn unexpired_id_token(&self, now: f64) -> Option<String> {
        self.session.unexpired_id_token(now as i64).map(Into::into)
    }

    /// The id_token, whatever its age.
    pub fn id_token(&self) -> Option<String> {
        self.session.id_token().map(Into::into)
    }

    /// The pending bind's state token.
    pub fn state_token(&self) -> Option<String> {
        self.session.state_token().map(Into::into)
    }
}
