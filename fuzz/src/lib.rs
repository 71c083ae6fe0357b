//! What the fuzz targets share: keys built from the committed test vectors,
//! the verify options and the clock the seed tokens were made for, and the
//! checks every outcome must pass.

use miniauth::jws::{self, CompactJws};
use miniauth::{jwt, Error, ErrorCode, KeySet, Keys, Validation, Verified, VerifyingKey};
use serde_json::{Map, Value};
use std::sync::LazyLock;

/// When tokens are verified: one minute after the seed tokens were issued
/// (`iat` 1767225600, 2026-01-01T00:00:00Z; see `seed-corpus.mjs`).
pub const NOW_MS: f64 = 1_767_225_660_000.0;

/// The public keys of `tests/vectors/keys`, each under its file's name as
/// `kid`: two RSA keys (so a token without `kid` matches both), P-256,
/// P-384 and Ed25519.
const FIXTURE_KEYS: [(&str, &str); 5] = [
    ("rsa-2048-a", include_str!("../../tests/vectors/keys/rsa-2048-a.pub.jwk")),
    ("rsa-2048-b", include_str!("../../tests/vectors/keys/rsa-2048-b.pub.jwk")),
    ("ec-p256", include_str!("../../tests/vectors/keys/ec-p256.pub.jwk")),
    ("ec-p384", include_str!("../../tests/vectors/keys/ec-p384.pub.jwk")),
    ("ed25519", include_str!("../../tests/vectors/keys/ed25519.pub.jwk")),
];

/// RFC 7520 §4.4, whose HS256 key signs the HMAC seeds (and the `claims`
/// target's tokens).
const COOKBOOK_HMAC: &str = include_str!("../../tests/vectors/jose-cookbook/4_4.hmac-sha2_integrity_protection.json");

/// The RFC 7520 HMAC key as a JWK (`kid`, `alg` HS256, `k`).
pub fn hmac_jwk() -> Map<String, Value> {
    let example: Value = serde_json::from_str(COOKBOOK_HMAC).expect("the cookbook example is JSON");
    match &example["input"]["key"] {
        Value::Object(jwk) => jwk.clone(),
        _ => panic!("the cookbook example has no key"),
    }
}

fn jwks(keys: Vec<Value>) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({ "keys": keys })).expect("a JWKS serialises")
}

/// A JWKS holding the RFC 7520 HMAC key.
pub fn hmac_keys() -> Keys {
    Keys::Set(KeySet::from_jwks_json(&jwks(vec![Value::Object(hmac_jwk())])).expect("the cookbook key imports"))
}

/// Each way callers hold keys: a JWKS of public keys, a JWKS holding one
/// HMAC secret, and one SPKI PEM key (which ignores `kid`).
pub static KEY_SOURCES: LazyLock<[Keys; 3]> = LazyLock::new(|| {
    let public = FIXTURE_KEYS
        .iter()
        .map(|(kid, jwk)| {
            let mut jwk: Value = serde_json::from_str(jwk).expect("a fixture JWK is JSON");
            jwk["kid"] = (*kid).into();
            jwk
        })
        .collect();
    let pem = include_str!("../../tests/vectors/keys/ec-p256.pub.pem");
    [
        Keys::Set(KeySet::from_jwks_json(&jwks(public)).expect("the fixture keys import")),
        hmac_keys(),
        Keys::Single(VerifyingKey::from_spki_pem(pem).expect("the fixture PEM imports")),
    ]
});

/// Verify options: none, and every claim rule at once, matching the seed
/// tokens (so both accepting and each rejecting path are reachable).
pub static VALIDATIONS: LazyLock<[Validation; 2]> = LazyLock::new(|| {
    let strict = br#"{"issuer":"https://auth.example.com","audience":"wx_simulator_appid","subject":"u_alice",
        "typ":"JWT","maxTokenAge":"1h","clockTolerance":"30s","requiredClaims":["jti"]}"#;
    [Validation::from_json(b"{}"), Validation::from_json(strict)].map(|v| v.expect("the options parse"))
});

/// The codes verification fails with; the others belong to key import,
/// options and the client.
pub const VERIFY_ERRORS: &[ErrorCode] = &[
    ErrorCode::JwtExpired,
    ErrorCode::JwtNotYetValid,
    ErrorCode::JwtClaimValidationFailed,
    ErrorCode::JwsSignatureVerificationFailed,
    ErrorCode::JoseAlgNotAllowed,
    ErrorCode::JwsInvalid,
    ErrorCode::JwtInvalid,
    ErrorCode::JoseNotSupported,
    ErrorCode::JwksNoMatchingKey,
    ErrorCode::JwksMultipleMatchingKeys,
];

/// Checks that `error` is one of the `expected` codes (each call fails only
/// in its documented ways) and crosses to JavaScript as JSON with that code.
pub fn check_error(error: &Error, expected: &[ErrorCode]) {
    assert!(expected.contains(&error.code()), "unexpected {error:?}");
    let thrown: Value =
        serde_json::from_str(&miniauth::boundary::thrown(error.clone())).expect("a thrown error is JSON");
    assert_eq!(thrown["code"], error.code().as_str());
}

fn object(json: &[u8]) -> Map<String, Value> {
    serde_json::from_slice(json).expect("decoded JSON parses")
}

/// Verifies `token` with every key source and option set, and checks each
/// outcome: a verified token's header and claims decode again, without
/// verification, to the same values, and its JSON for JavaScript carries
/// both; a failure has one of [`VERIFY_ERRORS`]. Returns the outcomes.
pub fn verify_everywhere<'k>(keys: impl IntoIterator<Item = &'k Keys>, token: &str) -> Vec<Result<Verified, Error>> {
    let mut outcomes = Vec::new();
    for keys in keys {
        for validation in VALIDATIONS.iter() {
            let outcome = validation.verify(keys, token, NOW_MS);
            match &outcome {
                Ok(verified) => check_verified(token, verified),
                Err(error) => check_error(error, VERIFY_ERRORS),
            }
            outcomes.push(outcome);
        }
    }
    outcomes
}

fn check_verified(token: &str, verified: &Verified) {
    let jws = CompactJws::parse(token).expect("a verified token parses");
    assert_eq!(jws.header.members, verified.header.members);
    let header = jws::decode_protected_header(token).expect("a verified token's header decodes");
    assert_eq!(object(&header), verified.header.members);
    let claims = jwt::decode_jwt(token).expect("a verified token's claims decode");
    assert_eq!(object(&claims), verified.claims);
    let both = object(verified.to_json().as_bytes());
    assert_eq!(both["header"], Value::Object(verified.header.members.clone()));
    assert_eq!(both["claims"], Value::Object(verified.claims.clone()));
}
