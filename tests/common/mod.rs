//! Helpers shared by the integration tests: fixture files, encodings, an
//! independent signer (jsonwebtoken), verifier construction, error
//! assertions and a deterministic PRNG.
//!
//! Each test file compiles its own copy and uses only part of it.
#![allow(dead_code)]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm as JwtAlg, EncodingKey};
use miniauth::{Algorithm, Error, ErrorCode, Keys, Validation, Verifier, VerifyingKey};
use serde_json::Value;
use std::fmt::Debug;
use std::path::PathBuf;

/// The time every interop and attack test runs at (2023-11-14T22:13:20Z).
pub const NOW: i64 = 1_700_000_000;
/// [`NOW`] in milliseconds, as `Verifier::verify` takes it.
pub const NOW_MS: f64 = NOW as f64 * 1000.0;

/// A 64-byte HMAC secret: long enough for HS256, HS384 and HS512.
pub const HMAC_SECRET: &[u8; 64] = b"miniauth test secret: 64 bytes, enough for every HS algorithm!!!";

// ---------------------------------------------------------------- files

/// `tests/vectors/<relative>`.
pub fn vector_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors").join(relative)
}

pub fn read_text(relative: &str) -> String {
    let path = vector_path(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn read_json(relative: &str) -> Value {
    serde_json::from_str(&read_text(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

/// The text of `tests/vectors/keys/<name>`.
pub fn key_file(name: &str) -> String {
    read_text(&format!("keys/{name}"))
}

// ---------------------------------------------------------------- encodings

pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn unb64(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
}

pub fn hex(text: &str) -> Vec<u8> {
    assert!(text.len() % 2 == 0, "odd-length hex {text:?}");
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap()).collect()
}

// ---------------------------------------------------------------- fixture keys and signing

/// The jsonwebtoken name of a miniauth algorithm.
pub fn jwt_alg(alg: Algorithm) -> JwtAlg {
    alg.name().parse().unwrap()
}

/// The fixture file stem of the key that signs `alg` (HMAC: none).
pub fn key_stem(alg: Algorithm) -> Option<&'static str> {
    match alg.name() {
        "RS256" | "RS384" | "RS512" | "PS256" | "PS384" | "PS512" => Some("rsa-2048-a"),
        "ES256" => Some("ec-p256"),
        "ES384" => Some("ec-p384"),
        "EdDSA" => Some("ed25519"),
        _ => None,
    }
}

/// The private key jsonwebtoken signs `alg` with.
pub fn encoding_key(alg: Algorithm) -> EncodingKey {
    let Some(stem) = key_stem(alg) else {
        return EncodingKey::from_secret(HMAC_SECRET);
    };
    let pem = key_file(&format!("{stem}.key.pem"));
    match alg.name() {
        "ES256" | "ES384" => EncodingKey::from_ec_pem(pem.as_bytes()),
        "EdDSA" => EncodingKey::from_ed_pem(pem.as_bytes()),
        _ => EncodingKey::from_rsa_pem(pem.as_bytes()),
    }
    .unwrap()
}

/// The public JWK (JSON text) that verifies `alg`; for HMAC an `oct` JWK of
/// [`HMAC_SECRET`].
pub fn public_jwk(alg: Algorithm) -> String {
    match key_stem(alg) {
        Some(stem) => key_file(&format!("{stem}.pub.jwk")),
        None => format!(r#"{{"kty":"oct","k":"{}"}}"#, b64(HMAC_SECRET)),
    }
}

/// The SPKI PEM that verifies `alg` (none for HMAC).
pub fn public_pem(alg: Algorithm) -> Option<String> {
    key_stem(alg).map(|stem| key_file(&format!("{stem}.pub.pem")))
}

/// A JWK (JSON text) with extra members merged in.
pub fn jwk_with(jwk: &str, extra: Value) -> String {
    let mut jwk: Value = serde_json::from_str(jwk).unwrap();
    for (name, value) in extra.as_object().unwrap() {
        jwk[name] = value.clone();
    }
    jwk.to_string()
}

/// The raw signature of `message` made by jsonwebtoken with the fixture key.
pub fn raw_signature(alg: Algorithm, message: &[u8]) -> Vec<u8> {
    unb64(&jsonwebtoken::crypto::sign(message, &encoding_key(alg), jwt_alg(alg)).unwrap())
}

/// A compact JWS of exactly this header text and payload, signed by
/// jsonwebtoken with the fixture key of `alg` (which need not be the
/// header's `alg`: attacks sign what they like).
pub fn sign_compact(header_json: &str, payload: &[u8], alg: Algorithm) -> String {
    sign_compact_with(header_json, payload, alg, &encoding_key(alg))
}

pub fn sign_compact_with(header_json: &str, payload: &[u8], alg: Algorithm, key: &EncodingKey) -> String {
    let signing_input = format!("{}.{}", b64(header_json), b64(payload));
    let signature = jsonwebtoken::crypto::sign(signing_input.as_bytes(), key, jwt_alg(alg)).unwrap();
    format!("{signing_input}.{signature}")
}

/// `token` with its signature replaced by `signature`.
pub fn with_signature(token: &str, signature: &[u8]) -> String {
    let cut = token.rfind('.').unwrap();
    format!("{}.{}", &token[..cut], b64(signature))
}

/// The three parts of a compact token.
pub fn parts(token: &str) -> [&str; 3] {
    let parts: Vec<&str> = token.split('.').collect();
    parts.try_into().unwrap_or_else(|p: Vec<&str>| panic!("{} parts", p.len()))
}

// ---------------------------------------------------------------- miniauth

pub fn jwk_key(jwk: &str) -> VerifyingKey {
    VerifyingKey::from_jwk_json(jwk.as_bytes()).unwrap_or_else(|e| panic!("{e}: {jwk}"))
}

pub fn pem_key(pem: &str) -> VerifyingKey {
    VerifyingKey::from_spki_pem(pem).unwrap_or_else(|e| panic!("{e}: {pem}"))
}

/// A verifier for one key with options given as JSON.
pub fn verifier(key: VerifyingKey, options_json: &str) -> Verifier {
    verifier_for(Keys::Single(key), options_json)
}

pub fn verifier_for(keys: Keys, options_json: &str) -> Verifier {
    let validation = Validation::from_json(options_json.as_bytes()).unwrap_or_else(|e| panic!("{e}: {options_json}"));
    Verifier::new(keys, validation)
}

/// Asserts that `result` failed with `code` and returns the error.
#[track_caller]
pub fn expect_code<T: Debug>(result: Result<T, Error>, code: ErrorCode) -> Error {
    match result {
        Ok(value) => panic!("expected {code}, got Ok({value:?})"),
        Err(error) => {
            assert_eq!(error.code(), code, "{error}");
            error
        }
    }
}

// ---------------------------------------------------------------- deterministic randomness

/// SplitMix64: small, fast and reproducible, so a failure can be replayed
/// from its seed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }

    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64() as u8).collect()
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}
