//! The WebAssembly binding of [`crate::boundary`]: each item wraps its
//! boundary counterpart one to one, and a failure is thrown as the error's
//! JSON text (a string). serde-wasm-bindgen needs `std`, which this MVP
//! module cannot have, so values cross as JSON text.
#![allow(unsafe_code)] // #[wasm_bindgen] expands to FFI glue.

use crate::boundary::{self, Thrown};
use alloc::string::String;
use wasm_bindgen::prelude::*;

#[global_allocator]
static ALLOCATOR: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

#[cfg(not(feature = "std"))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}

/// See [`boundary::KeyStore`].
#[wasm_bindgen]
pub struct KeyStore(boundary::KeyStore);

#[wasm_bindgen]
impl KeyStore {
    /// See [`boundary::KeyStore::from_jwks`].
    pub fn from_jwks(json: &str) -> Result<KeyStore, Thrown> {
        boundary::KeyStore::from_jwks(json).map(Self)
    }

    /// See [`boundary::KeyStore::from_jwk`].
    pub fn from_jwk(json: &str) -> Result<KeyStore, Thrown> {
        boundary::KeyStore::from_jwk(json).map(Self)
    }

    /// See [`boundary::KeyStore::from_pem`].
    pub fn from_pem(pem: &str) -> Result<KeyStore, Thrown> {
        boundary::KeyStore::from_pem(pem).map(Self)
    }

    /// See [`boundary::KeyStore::from_secret`].
    pub fn from_secret(secret: &[u8]) -> Result<KeyStore, Thrown> {
        boundary::KeyStore::from_secret(secret).map(Self)
    }

    /// See [`boundary::KeyStore::remote`].
    pub fn remote(cache_max_age_ms: Option<f64>, cooldown_ms: Option<f64>) -> KeyStore {
        Self(boundary::KeyStore::remote(cache_max_age_ms, cooldown_ms))
    }

    /// See [`boundary::KeyStore::is_fresh`].
    pub fn is_fresh(&self, now_ms: f64) -> bool {
        self.0.is_fresh(now_ms)
    }

    /// See [`boundary::KeyStore::may_refetch`].
    pub fn may_refetch(&self, now_ms: f64) -> bool {
        self.0.may_refetch(now_ms)
    }

    /// See [`boundary::KeyStore::store_jwks`].
    pub fn store_jwks(&mut self, json: &str, now_ms: f64) -> Result<(), Thrown> {
        self.0.store_jwks(json, now_ms)
    }
}

/// See [`boundary::Policy`].
#[wasm_bindgen]
pub struct Policy(boundary::Policy);

#[wasm_bindgen]
impl Policy {
    /// See [`boundary::Policy::parse`].
    pub fn parse(options_json: &str) -> Result<Policy, Thrown> {
        boundary::Policy::parse(options_json).map(Self)
    }

    /// See [`boundary::Policy::caches`].
    pub fn caches(&self) -> bool {
        self.0.caches()
    }

    /// See [`boundary::Policy::verify`].
    pub fn verify(&self, keys: &KeyStore, token: &str, now_ms: f64) -> Result<String, Thrown> {
        self.0.verify(&keys.0, token, now_ms)
    }

    /// See [`boundary::Policy::verify_cached`].
    pub fn verify_cached(&mut self, keys: &KeyStore, token: &str, now_ms: f64) -> Result<f64, Thrown> {
        self.0.verify_cached(&keys.0, token, now_ms)
    }

    /// See [`boundary::Policy::take_stored`].
    pub fn take_stored(&mut self) -> String {
        self.0.take_stored()
    }

    /// See [`boundary::Policy::cached`].
    pub fn cached(&self) -> usize {
        self.0.cached()
    }
}

/// See [`boundary::decode_jwt`].
#[wasm_bindgen]
pub fn decode_jwt(token: &str) -> Result<String, Thrown> {
    boundary::decode_jwt(token)
}

/// See [`boundary::decode_protected_header`].
#[wasm_bindgen]
pub fn decode_protected_header(token: &str) -> Result<String, Thrown> {
    boundary::decode_protected_header(token)
}

/// See [`boundary::storage_key`].
#[wasm_bindgen]
pub fn storage_key() -> String {
    boundary::storage_key()
}

/// See [`boundary::contract`].
#[wasm_bindgen]
pub fn contract() -> String {
    boundary::contract()
}

/// See [`boundary::SessionCore`].
#[wasm_bindgen]
pub struct SessionCore(boundary::SessionCore);

#[wasm_bindgen]
impl SessionCore {
    /// See [`boundary::SessionCore::create`].
    pub fn create(options_json: &str) -> Result<SessionCore, Thrown> {
        boundary::SessionCore::create(options_json).map(Self)
    }

    /// See [`boundary::SessionCore::bearer_allowed`].
    pub fn bearer_allowed(&self, url: &str) -> bool {
        self.0.bearer_allowed(url)
    }

    /// See [`boundary::SessionCore::profile_updated`].
    pub fn profile_updated(&mut self) -> String {
        self.0.profile_updated()
    }

    /// See [`boundary::SessionCore::restore`].
    pub fn restore(&mut self, stored: Option<String>, now: f64) -> String {
        self.0.restore(stored.as_deref(), now)
    }

    /// See [`boundary::SessionCore::login_answer`].
    pub fn login_answer(&mut self, body: &str, now: f64) -> Result<String, Thrown> {
        self.0.login_answer(body, now)
    }

    /// See [`boundary::SessionCore::wake`].
    pub fn wake(&mut self, now: f64) -> String {
        self.0.wake(now)
    }

    /// See [`boundary::SessionCore::refresh_now`].
    pub fn refresh_now(&mut self) -> String {
        self.0.refresh_now()
    }

    /// See [`boundary::SessionCore::refresh_answer`].
    pub fn refresh_answer(&mut self, body: &str, now: f64, jitter: f64) -> String {
        self.0.refresh_answer(body, now, jitter)
    }

    /// See [`boundary::SessionCore::refresh_refused`].
    pub fn refresh_refused(&mut self, status: u16, error: Option<String>, now: f64, jitter: f64) -> String {
        self.0.refresh_refused(status, error.as_deref(), now, jitter)
    }

    /// See [`boundary::SessionCore::refresh_failed`].
    pub fn refresh_failed(&mut self, now: f64, jitter: f64) -> String {
        self.0.refresh_failed(now, jitter)
    }

    /// See [`boundary::SessionCore::sign_out`].
    pub fn sign_out(&mut self) -> String {
        self.0.sign_out()
    }

    /// See [`boundary::SessionCore::fresh_id_token`].
    pub fn fresh_id_token(&self, now: f64) -> Option<String> {
        self.0.fresh_id_token(now)
    }

    /// See [`boundary::SessionCore::unexpired_id_token`].
    pub fn unexpired_id_token(&self, now: f64) -> Option<String> {
        self.0.unexpired_id_token(now)
    }

    /// See [`boundary::SessionCore::id_token`].
    pub fn id_token(&self) -> Option<String> {
        self.0.id_token()
    }

    /// See [`boundary::SessionCore::state_token`].
    pub fn state_token(&self) -> Option<String> {
        self.0.state_token()
    }
}
