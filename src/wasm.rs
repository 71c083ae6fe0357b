//! The WebAssembly boundary: a handful of functions and two classes that the
//! platform layers in `js/` call. Values cross as JSON text and strings
//! (serde-wasm-bindgen needs `std`, which this MVP module cannot have), and
//! failures are thrown as the JSON text of the error, which `js/` turns into
//! `MiniAuthError`. The JavaScript side supplies the time; the module has
//! no clock and needs no randomness to verify.
#![allow(unsafe_code)] // #[wasm_bindgen] expands to FFI glue.

use crate::error::Error;
use crate::jwk::{KeySet, VerifyingKey};
use crate::jwks_cache::JwksCache;
use crate::jws::{self, Keys};
use crate::jwt;
use crate::session::{self, Action, LoginOutcome, RefreshOutcome, Session};
use crate::verifier::Validation;
use alloc::string::String;
use alloc::vec::Vec;
use serde::Serialize;
use wasm_bindgen::prelude::*;

#[global_allocator]
static ALLOCATOR: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

#[cfg(not(feature = "std"))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}

/// The thrown form of an [`Error`].
#[derive(Serialize)]
struct Thrown<'a> {
    code: &'static str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    claim: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
}

fn thrown(error: Error) -> String {
    let thrown = Thrown {
        code: error.code().as_str(),
        message: error.message(),
        claim: error.claim_name(),
        reason: error.claim_reason().map(|r| r.as_str()),
    };
    serde_json::to_string(&thrown).unwrap_or_default()
}

fn utf8(bytes: Vec<u8>) -> String {
    // Callers pass bytes that strict JSON parsing has already accepted.
    String::from_utf8(bytes).unwrap_or_default()
}

/// Where verification keys come from: fixed at creation, or a remote JWKS
/// whose cache policy lives in [`JwksCache`].
#[wasm_bindgen]
pub struct KeyStore(Source);

enum Source {
    Fixed(Keys),
    Remote(JwksCache),
}

#[wasm_bindgen]
impl KeyStore {
    /// A JWK Set document.
    pub fn from_jwks(json: &str) -> Result<KeyStore, String> {
        let set = KeySet::from_jwks_json(json.as_bytes()).map_err(thrown)?;
        Ok(Self(Source::Fixed(Keys::Set(set))))
    }

    /// One JWK.
    pub fn from_jwk(json: &str) -> Result<KeyStore, String> {
        let key = VerifyingKey::from_jwk_json(json.as_bytes()).map_err(thrown)?;
        Ok(Self(Source::Fixed(Keys::Single(key))))
    }

    /// An SPKI public key in PEM form.
    pub fn from_pem(pem: &str) -> Result<KeyStore, String> {
        let key = VerifyingKey::from_spki_pem(pem).map_err(thrown)?;
        Ok(Self(Source::Fixed(Keys::Single(key))))
    }

    /// An HMAC secret.
    pub fn from_secret(secret: &[u8]) -> Result<KeyStore, String> {
        let key = VerifyingKey::from_hmac_secret(secret).map_err(thrown)?;
        Ok(Self(Source::Fixed(Keys::Single(key))))
    }

    /// An empty remote key set with its cache lifetimes in milliseconds.
    pub fn remote(cache_max_age_ms: f64, cooldown_ms: f64) -> KeyStore {
        Self(Source::Remote(JwksCache::new(cache_max_age_ms, cooldown_ms)))
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
    pub fn store_jwks(&mut self, json: &str, now_ms: f64) -> Result<(), String> {
        match &mut self.0 {
            Source::Fixed(_) => Ok(()),
            Source::Remote(cache) => cache.store(json.as_bytes(), now_ms).map_err(thrown),
        }
    }
}

/// Verification options, parsed and checked once.
#[wasm_bindgen]
pub struct Policy(Validation);

#[wasm_bindgen]
impl Policy {
    /// Options as JSON text (`{}` for none).
    pub fn parse(options_json: &str) -> Result<Policy, String> {
        Validation::from_json(options_json.as_bytes()).map(Policy).map_err(thrown)
    }
}

/// Verifies a compact JWT and returns `{"header":…,"claims":…}` as JSON text.
#[wasm_bindgen]
pub fn verify(keys: &KeyStore, policy: &Policy, token: &str, now_ms: f64) -> Result<String, String> {
    let keys = match &keys.0 {
        Source::Fixed(keys) => keys,
        Source::Remote(cache) => cache.keys().ok_or_else(|| {
            thrown(Error::new(crate::ErrorCode::JwksNoMatchingKey, "the remote JWKS has not been fetched"))
        })?,
    };
    policy.0.verify(keys, token, now_ms).map(|v| v.to_json()).map_err(thrown)
}

/// The claims of a JWT as JSON text, without verification.
#[wasm_bindgen]
pub fn decode_jwt(token: &str) -> Result<String, String> {
    jwt::decode_jwt(token).map(utf8).map_err(thrown)
}

/// The protected header of a JWS as JSON text, without verification.
#[wasm_bindgen]
pub fn decode_protected_header(token: &str) -> Result<String, String> {
    jws::decode_protected_header(token).map(utf8).map_err(thrown)
}

/// The key the session record is stored under.
#[wasm_bindgen]
pub fn storage_key() -> String {
    crate::session::STORAGE_KEY.into()
}

/// The client session state machine (see [`crate::session`]). Every method
/// returns the actions for the platform layer as a JSON array.
#[wasm_bindgen]
pub struct SessionCore(Session);

fn actions_json(actions: &[Action]) -> String {
    serde_json::to_string(actions).unwrap_or_default()
}

#[derive(Serialize)]
struct LoginResult<'a> {
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    flows: Option<&'a [crate::protocol::BindFlow]>,
    actions: &'a [Action],
}

#[wasm_bindgen]
impl SessionCore {
    /// A signed-out session refreshing at least `min_margin_ms` before the
    /// id_token expires (`undefined`: the core's default, 60 s).
    pub fn create(min_margin_ms: Option<f64>) -> SessionCore {
        let defaults = session::Policy::default();
        let min_margin_ms = min_margin_ms.map_or(defaults.min_margin_ms, |ms| ms as i64);
        Self(Session::new(session::Policy { min_margin_ms, ..defaults }))
    }

    /// What storage held at start-up (`undefined` for nothing).
    pub fn restore(&mut self, stored: Option<String>, now: f64) -> String {
        actions_json(&self.0.restore(stored.as_deref(), now as i64))
    }

    /// A login, bind or register answer's body (HTTP 200): returns
    /// `{"status", "flows"?, "actions"}`.
    pub fn login_answer(&mut self, body: &str, now: f64) -> Result<String, String> {
        let (outcome, actions) = self
            .0
            .on_login_answer(body, now as i64)
            .map_err(|e| thrown(Error::new(crate::ErrorCode::Server, e.0)))?;
        let (status, flows) = match &outcome {
            LoginOutcome::Success => ("SUCCESS", None),
            LoginOutcome::SocialBind(c) => ("SOCIAL_BIND", Some(c.flows.as_slice())),
            LoginOutcome::UserRegister(c) => ("USER_REGISTER", Some(c.flows.as_slice())),
        };
        Ok(serde_json::to_string(&LoginResult { status, flows, actions: &actions }).unwrap_or_default())
    }

    /// A timer fired, the app came to the foreground, or a token is needed.
    pub fn wake(&mut self, now: f64) -> String {
        actions_json(&self.0.wake(now as i64))
    }

    /// Refresh now, whatever the token's age.
    pub fn refresh_now(&mut self) -> String {
        actions_json(&self.0.refresh_now())
    }

    /// The refresh answered 200 with `body`.
    pub fn refresh_answer(&mut self, body: &str, now: f64, jitter: f64) -> String {
        actions_json(&self.0.on_refresh(RefreshOutcome::Answer(body), now as i64, jitter))
    }

    /// The refresh answered an error status, with the body's `error`.
    pub fn refresh_refused(&mut self, status: u16, error: Option<String>, now: f64, jitter: f64) -> String {
        actions_json(&self.0.on_refresh(RefreshOutcome::Refused { status, error: error.as_deref() }, now as i64, jitter))
    }

    /// The refresh got no answer.
    pub fn refresh_failed(&mut self, now: f64, jitter: f64) -> String {
        actions_json(&self.0.on_refresh(RefreshOutcome::NetworkError, now as i64, jitter))
    }

    /// Signs out.
    pub fn sign_out(&mut self) -> String {
        actions_json(&self.0.sign_out())
    }

    /// The id_token if no refresh is due.
    pub fn fresh_id_token(&self, now: f64) -> Option<String> {
        self.0.fresh_id_token(now as i64).map(Into::into)
    }

    /// The id_token while it has not expired.
    pub fn unexpired_id_token(&self, now: f64) -> Option<String> {
        self.0.unexpired_id_token(now as i64).map(Into::into)
    }

    /// The id_token, whatever its age.
    pub fn id_token(&self) -> Option<String> {
        self.0.id_token().map(Into::into)
    }

    /// The pending bind's state token.
    pub fn state_token(&self) -> Option<String> {
        self.0.state_token().map(Into::into)
    }
}
