//! The native Node addon: the napi-rs binding of `miniauth::boundary`, with
//! the same names and shapes as the WebAssembly module's binding
//! (`src/wasm.rs`), so `js/core/` runs on either unchanged.
//!
//! Like the module, a failure is thrown as the error's JSON text (a string,
//! not an `Error`), and an absent value is `undefined`, never `null`.
//! Names stay snake_case, as wasm-bindgen leaves them.

use miniauth::boundary::{self, Thrown};
use napi::bindgen_prelude::{Either, Uint8Array, Undefined};
use napi::{Env, Error, Result, Status};
use napi_derive::napi;

/// Throws `thrown` (the JSON text of a core error) as a string, as the
/// WebAssembly module does.
fn throwing<T>(env: &Env, result: core::result::Result<T, Thrown>) -> Result<T> {
    result.or_else(|json| {
        env.throw(json)?;
        Err(Error::from_status(Status::PendingException))
    })
}

/// `undefined` for `None`, as wasm-bindgen answers.
type Maybe<T> = Either<T, Undefined>;

fn maybe<T>(value: Option<T>) -> Maybe<T> {
    value.map_or(Either::B(()), Either::A)
}

/// A boundary object that `free()` releases at once, as the module's
/// objects are; using it afterwards is an error.
struct Held<T>(Option<T>);

impl<T> Held<T> {
    fn get(&self) -> Result<&T> {
        self.0.as_ref().ok_or_else(freed)
    }

    fn get_mut(&mut self) -> Result<&mut T> {
        self.0.as_mut().ok_or_else(freed)
    }
}

fn freed() -> Error {
    Error::new(Status::InvalidArg, "miniauth: this object was freed (free() was called)")
}

/// See `boundary::KeyStore`.
#[napi]
pub struct KeyStore(Held<boundary::KeyStore>);

impl KeyStore {
    fn new(env: &Env, store: core::result::Result<boundary::KeyStore, Thrown>) -> Result<Self> {
        throwing(env, store).map(|store| Self(Held(Some(store))))
    }
}

#[napi]
impl KeyStore {
    /// See `boundary::KeyStore::from_jwks`.
    #[napi(factory, js_name = "from_jwks")]
    pub fn from_jwks(env: Env, json: String) -> Result<Self> {
        Self::new(&env, boundary::KeyStore::from_jwks(&json))
    }

    /// See `boundary::KeyStore::from_jwk`.
    #[napi(factory, js_name = "from_jwk")]
    pub fn from_jwk(env: Env, json: String) -> Result<Self> {
        Self::new(&env, boundary::KeyStore::from_jwk(&json))
    }

    /// See `boundary::KeyStore::from_pem`.
    #[napi(factory, js_name = "from_pem")]
    pub fn from_pem(env: Env, pem: String) -> Result<Self> {
        Self::new(&env, boundary::KeyStore::from_pem(&pem))
    }

    /// See `boundary::KeyStore::from_secret`.
    #[napi(factory, js_name = "from_secret")]
    pub fn from_secret(env: Env, secret: Uint8Array) -> Result<Self> {
        Self::new(&env, boundary::KeyStore::from_secret(&secret))
    }

    /// See `boundary::KeyStore::remote`.
    #[napi(factory)]
    pub fn remote(cache_max_age_ms: Option<f64>, cooldown_ms: Option<f64>) -> Self {
        Self(Held(Some(boundary::KeyStore::remote(cache_max_age_ms, cooldown_ms))))
    }

    /// See `boundary::KeyStore::is_fresh`.
    #[napi(js_name = "is_fresh")]
    pub fn is_fresh(&self, now_ms: f64) -> Result<bool> {
        Ok(self.0.get()?.is_fresh(now_ms))
    }

    /// See `boundary::KeyStore::may_refetch`.
    #[napi(js_name = "may_refetch")]
    pub fn may_refetch(&self, now_ms: f64) -> Result<bool> {
        Ok(self.0.get()?.may_refetch(now_ms))
    }

    /// See `boundary::KeyStore::store_jwks`.
    #[napi(js_name = "store_jwks")]
    pub fn store_jwks(&mut self, env: Env, json: String, now_ms: f64) -> Result<()> {
        let stored = self.0.get_mut()?.store_jwks(&json, now_ms);
        throwing(&env, stored)
    }

    /// Releases the keys now rather than when garbage-collected.
    #[napi]
    pub fn free(&mut self) {
        self.0 .0 = None;
    }
}

/// See `boundary::Policy`.
#[napi]
pub struct Policy(Held<boundary::Policy>);

#[napi]
impl Policy {
    /// See `boundary::Policy::parse`.
    #[napi(factory)]
    pub fn parse(env: Env, options_json: String) -> Result<Self> {
        throwing(&env, boundary::Policy::parse(&options_json)).map(|policy| Self(Held(Some(policy))))
    }

    /// See `boundary::Policy::caches`.
    #[napi]
    pub fn caches(&self) -> Result<bool> {
        Ok(self.0.get()?.caches())
    }

    /// See `boundary::Policy::verify`.
    #[napi]
    pub fn verify(&self, env: Env, keys: &KeyStore, token: String, now_ms: f64) -> Result<String> {
        let verified = self.0.get()?.verify(keys.0.get()?, &token, now_ms);
        throwing(&env, verified)
    }

    /// See `boundary::Policy::verify_cached`.
    #[napi(js_name = "verify_cached")]
    pub fn verify_cached(&mut self, env: Env, keys: &KeyStore, token: String, now_ms: f64) -> Result<f64> {
        let lookup = self.0.get_mut()?.verify_cached(keys.0.get()?, &token, now_ms);
        throwing(&env, lookup)
    }

    /// See `boundary::Policy::take_stored`.
    #[napi(js_name = "take_stored")]
    pub fn take_stored(&mut self) -> Result<String> {
        Ok(self.0.get_mut()?.take_stored())
    }

    /// See `boundary::Policy::cached`.
    #[napi]
    pub fn cached(&self) -> Result<u32> {
        Ok(self.0.get()?.cached() as u32)
    }

    /// Releases the options and the token cache now rather than when
    /// garbage-collected.
    #[napi]
    pub fn free(&mut self) {
        self.0 .0 = None;
    }
}

/// See `boundary::decode_jwt`.
#[napi(js_name = "decode_jwt")]
pub fn decode_jwt(env: Env, token: String) -> Result<String> {
    throwing(&env, boundary::decode_jwt(&token))
}

/// See `boundary::decode_protected_header`.
#[napi(js_name = "decode_protected_header")]
pub fn decode_protected_header(env: Env, token: String) -> Result<String> {
    throwing(&env, boundary::decode_protected_header(&token))
}

/// See `boundary::storage_key`.
#[napi(js_name = "storage_key")]
pub fn storage_key() -> String {
    boundary::storage_key()
}

/// See `boundary::contract`.
#[napi(js_name = "contract")]
pub fn contract() -> String {
    boundary::contract()
}

/// See `boundary::SessionCore`.
#[napi]
pub struct SessionCore(boundary::SessionCore);

#[napi]
impl SessionCore {
    /// See `boundary::SessionCore::create`.
    #[napi(factory)]
    pub fn create(env: Env, options_json: String) -> Result<Self> {
        throwing(&env, boundary::SessionCore::create(&options_json)).map(Self)
    }

    /// See `boundary::SessionCore::bearer_allowed`.
    #[napi(js_name = "bearer_allowed")]
    pub fn bearer_allowed(&self, url: String) -> bool {
        self.0.bearer_allowed(&url)
    }

    /// See `boundary::SessionCore::profile_updated`.
    #[napi(js_name = "profile_updated")]
    pub fn profile_updated(&mut self) -> String {
        self.0.profile_updated()
    }

    /// See `boundary::SessionCore::restore`.
    #[napi]
    pub fn restore(&mut self, stored: Option<String>, now: f64) -> String {
        self.0.restore(stored.as_deref(), now)
    }

    /// See `boundary::SessionCore::login_answer`.
    #[napi(js_name = "login_answer")]
    pub fn login_answer(&mut self, env: Env, body: String, now: f64) -> Result<String> {
        let answer = self.0.login_answer(&body, now);
        throwing(&env, answer)
    }

    /// See `boundary::SessionCore::wake`.
    #[napi]
    pub fn wake(&mut self, now: f64) -> String {
        self.0.wake(now)
    }

    /// See `boundary::SessionCore::refresh_now`.
    #[napi(js_name = "refresh_now")]
    pub fn refresh_now(&mut self) -> String {
        self.0.refresh_now()
    }

    /// See `boundary::SessionCore::refresh_answer`.
    #[napi(js_name = "refresh_answer")]
    pub fn refresh_answer(&mut self, body: String, now: f64, jitter: f64) -> String {
        self.0.refresh_answer(&body, now, jitter)
    }

    /// See `boundary::SessionCore::refresh_refused`.
    #[napi(js_name = "refresh_refused")]
    pub fn refresh_refused(&mut self, status: u16, error: Option<String>, now: f64, jitter: f64) -> String {
        self.0.refresh_refused(status, error.as_deref(), now, jitter)
    }

    /// See `boundary::SessionCore::refresh_failed`.
    #[napi(js_name = "refresh_failed")]
    pub fn refresh_failed(&mut self, now: f64, jitter: f64) -> String {
        self.0.refresh_failed(now, jitter)
    }

    /// See `boundary::SessionCore::sign_out`.
    #[napi(js_name = "sign_out")]
    pub fn sign_out(&mut self) -> String {
        self.0.sign_out()
    }

    /// See `boundary::SessionCore::fresh_id_token`.
    #[napi(js_name = "fresh_id_token")]
    pub fn fresh_id_token(&self, now: f64) -> Maybe<String> {
        maybe(self.0.fresh_id_token(now))
    }

    /// See `boundary::SessionCore::unexpired_id_token`.
    #[napi(js_name = "unexpired_id_token")]
    pub fn unexpired_id_token(&self, now: f64) -> Maybe<String> {
        maybe(self.0.unexpired_id_token(now))
    }

    /// See `boundary::SessionCore::id_token`.
    #[napi(js_name = "id_token")]
    pub fn id_token(&self) -> Maybe<String> {
        maybe(self.0.id_token())
    }

    /// See `boundary::SessionCore::state_token`.
    #[napi(js_name = "state_token")]
    pub fn state_token(&self) -> Maybe<String> {
        maybe(self.0.state_token())
    }
}
