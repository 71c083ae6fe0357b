//! Interoperability: tokens minted by `jsonwebtoken` (an independent
//! implementation, RustCrypto inside) for every algorithm miniauth supports,
//! verified by miniauth's `Verifier` with keys given as JWK, SPKI PEM, JWKS
//! and raw HMAC secrets, with issuer and audience checks; and any change to
//! header, payload or signature refused with the precise code.

mod common;

use common::*;
use jsonwebtoken::{encode, Header};
use miniauth::{Algorithm, ErrorCode, KeySet, Keys, Verifier, VerifyingKey};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::OnceLock;

const ISSUER: &str = "https://id.miniauth.example";
const AUDIENCE: &str = "wx-app-1";
const OPTIONS: &str = r#"{"issuer":"https://id.miniauth.example","audience":"wx-app-1","typ":"JWT"}"#;

fn claims() -> Value {
    json!({
        "iss": ISSUER,
        "aud": [AUDIENCE, "another-app"],
        "sub": "user-42",
        "iat": NOW - 10,
        "nbf": NOW - 10,
        "exp": NOW + 600,
        "openid": "o6_bmjrPTlm6_2sgVt7hMZOPfL2M",
        "nested": {"roles": ["reader"], "n": 1.5},
    })
}

/// A kid per algorithm family, for the key sets.
fn kid(alg: Algorithm) -> &'static str {
    key_stem(alg).unwrap_or("hmac")
}

fn mint(alg: Algorithm, claims: &Value) -> String {
    let mut header = Header::new(jwt_alg(alg));
    header.kid = Some(kid(alg).into());
    encode(&header, claims, &encoding_key(alg)).unwrap()
}

/// One token per algorithm with the standard claims, minted once (RSA
/// signing is slow in debug builds).
fn token(alg: Algorithm) -> &'static str {
    static TOKENS: OnceLock<HashMap<&'static str, String>> = OnceLock::new();
    TOKENS.get_or_init(|| Algorithm::ALL.iter().map(|a| (a.name(), mint(*a, &claims()))).collect())[alg.name()].as_str()
}

fn options_for(alg: Algorithm) -> String {
    jwk_with(OPTIONS, json!({"algorithms": [alg.name()]}))
}

fn assert_verifies(verifier: &Verifier, alg: Algorithm, how: &str) {
    let verified = verifier.verify(token(alg), NOW_MS).unwrap_or_else(|e| panic!("{alg} via {how}: {e}"));
    assert_eq!(verified.header.alg, alg);
    assert_eq!(verified.header.kid.as_deref(), Some(kid(alg)));
    assert_eq!(Value::Object(verified.claims.clone()), claims(), "{alg} via {how}");
    let json: Value = serde_json::from_str(&verified.to_json()).unwrap();
    assert_eq!(json["claims"], claims());
    assert_eq!(json["header"]["typ"], "JWT");
}

/// The public keys of every asymmetric algorithm family, each with its kid.
fn public_jwks() -> String {
    let keys: Vec<Value> = ["rsa-2048-a", "rsa-2048-b", "ec-p256", "ec-p384", "ed25519"]
        .iter()
        .map(|stem| {
            let mut jwk: Value = serde_json::from_str(&key_file(&format!("{stem}.pub.jwk"))).unwrap();
            jwk["kid"] = json!(stem);
            jwk["use"] = json!("sig");
            jwk
        })
        .collect();
    json!({ "keys": keys }).to_string()
}

// ---------------------------------------------------------------- every algorithm, every way of giving the key

#[test]
fn every_algorithm_verifies_with_a_jwk() {
    for alg in Algorithm::ALL {
        assert_verifies(&verifier(jwk_key(&public_jwk(alg)), OPTIONS), alg, "JWK");
        assert_verifies(&verifier(jwk_key(&public_jwk(alg)), &options_for(alg)), alg, "JWK, algorithms");
        let bound = jwk_with(&public_jwk(alg), json!({"alg": alg.name(), "use": "sig", "key_ops": ["verify"]}));
        assert_verifies(&verifier(jwk_key(&bound), OPTIONS), alg, "JWK with alg");
    }
}

#[test]
fn every_asymmetric_algorithm_verifies_with_an_spki_pem() {
    for alg in Algorithm::ALL {
        if let Some(pem) = public_pem(alg) {
            assert_verifies(&verifier(pem_key(&pem), OPTIONS), alg, "PEM");
            assert_verifies(&verifier(pem_key(&pem), &options_for(alg)), alg, "PEM, algorithms");
        }
    }
}

#[test]
fn every_asymmetric_algorithm_verifies_with_a_jwks_by_kid() {
    let set = || Keys::Set(KeySet::from_jwks_json(public_jwks().as_bytes()).unwrap());
    let verifier = verifier_for(set(), OPTIONS);
    for alg in Algorithm::ALL {
        if key_stem(alg).is_some() {
            assert_verifies(&verifier, alg, "JWKS");
        }
    }
}

#[test]
fn every_hmac_algorithm_verifies_with_a_secret_or_an_oct_jwks() {
    let from_secret = verifier(VerifyingKey::from_hmac_secret(HMAC_SECRET).unwrap(), OPTIONS);
    let set = json!({"keys": [{"kty": "oct", "kid": "hmac", "k": b64(HMAC_SECRET)}]}).to_string();
    let from_set = verifier_for(Keys::Set(KeySet::from_jwks_json(set.as_bytes()).unwrap()), OPTIONS);
    for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
        assert_verifies(&from_secret, alg, "secret");
        assert_verifies(&from_set, alg, "oct JWKS");
    }
}

// ---------------------------------------------------------------- keys and algorithms that must not verify

#[test]
fn a_key_bound_to_one_algorithm_refuses_the_others_of_its_family() {
    let rs256_only = jwk_key(&jwk_with(&public_jwk(Algorithm::RS256), json!({"alg": "RS256"})));
    let verifier = verifier(rs256_only, OPTIONS);
    assert_verifies(&verifier, Algorithm::RS256, "RS256 key");
    for alg in [Algorithm::RS384, Algorithm::RS512, Algorithm::PS256, Algorithm::PS384, Algorithm::PS512] {
        expect_code(verifier.verify(token(alg), NOW_MS), ErrorCode::JoseAlgNotAllowed);
    }
}

#[test]
fn the_algorithms_option_refuses_other_algorithms() {
    let verifier = verifier(pem_key(&public_pem(Algorithm::PS256).unwrap()), &options_for(Algorithm::PS256));
    expect_code(verifier.verify(token(Algorithm::RS256), NOW_MS), ErrorCode::JoseAlgNotAllowed);
    expect_code(verifier.verify(token(Algorithm::PS512), NOW_MS), ErrorCode::JoseAlgNotAllowed);
}

#[test]
fn a_key_of_another_family_is_never_tried() {
    for alg in Algorithm::ALL {
        for other in Algorithm::ALL.into_iter().filter(|o| o.key_family() != alg.key_family()) {
            let verifier = verifier(jwk_key(&public_jwk(other)), OPTIONS);
            expect_code(verifier.verify(token(alg), NOW_MS), ErrorCode::JoseAlgNotAllowed);
        }
    }
}

#[test]
fn another_key_of_the_same_type_fails_the_signature() {
    let other_rsa = verifier(pem_key(&key_file("rsa-2048-b.pub.pem")), OPTIONS);
    for alg in
        [Algorithm::RS256, Algorithm::RS384, Algorithm::RS512, Algorithm::PS256, Algorithm::PS384, Algorithm::PS512]
    {
        expect_code(other_rsa.verify(token(alg), NOW_MS), ErrorCode::JwsSignatureVerificationFailed);
    }
    let other_secret = verifier(VerifyingKey::from_hmac_secret(&[0x42; 64]).unwrap(), OPTIONS);
    for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
        expect_code(other_secret.verify(token(alg), NOW_MS), ErrorCode::JwsSignatureVerificationFailed);
    }
}

#[test]
fn a_jwks_without_the_tokens_kid_has_no_matching_key() {
    let set = public_jwks().replace("\"ec-p256\"", "\"rotated-away\"");
    let verifier = verifier_for(Keys::Set(KeySet::from_jwks_json(set.as_bytes()).unwrap()), OPTIONS);
    expect_code(verifier.verify(token(Algorithm::ES256), NOW_MS), ErrorCode::JwksNoMatchingKey);
    assert_verifies(&verifier, Algorithm::ES384, "JWKS");
}

// ---------------------------------------------------------------- tampering

fn verifier_of(alg: Algorithm) -> Verifier {
    verifier(jwk_key(&public_jwk(alg)), OPTIONS)
}

#[test]
fn a_tampered_header_fails_the_signature() {
    for alg in Algorithm::ALL {
        let [header, payload, signature] = parts(token(alg));
        let mut header_json: Value = serde_json::from_slice(&unb64(header)).unwrap();
        header_json["kid"] = json!("tampered");
        let tampered = format!("{}.{payload}.{signature}", b64(header_json.to_string()));
        expect_code(verifier_of(alg).verify(&tampered, NOW_MS), ErrorCode::JwsSignatureVerificationFailed);
    }
}

#[test]
fn a_tampered_payload_fails_the_signature() {
    for alg in Algorithm::ALL {
        let [header, _, signature] = parts(token(alg));
        let mut forged = claims();
        forged["sub"] = json!("admin");
        let tampered = format!("{header}.{}.{signature}", b64(forged.to_string()));
        expect_code(verifier_of(alg).verify(&tampered, NOW_MS), ErrorCode::JwsSignatureVerificationFailed);
    }
}

#[test]
fn a_tampered_signature_fails() {
    for alg in Algorithm::ALL {
        let token = token(alg);
        let signature = unb64(parts(token)[2]);
        let verifier = verifier_of(alg);
        for (what, forged) in [
            ("first bit", {
                let mut s = signature.clone();
                s[0] ^= 0x01;
                s
            }),
            ("last bit", {
                let mut s = signature.clone();
                *s.last_mut().unwrap() ^= 0x80;
                s
            }),
            ("truncated", signature[..signature.len() - 1].to_vec()),
            ("extended", {
                let mut s = signature.clone();
                s.push(0);
                s
            }),
            ("empty", Vec::new()),
        ] {
            let result = verifier.verify(&with_signature(token, &forged), NOW_MS);
            let error = expect_code(result, ErrorCode::JwsSignatureVerificationFailed);
            assert!(!error.message().is_empty(), "{alg} {what}");
        }
    }
}

#[test]
fn re_encoding_a_part_non_canonically_is_a_malformed_token() {
    let token = token(Algorithm::ES256);
    let padded = format!("{token}=");
    expect_code(verifier_of(Algorithm::ES256).verify(&padded, NOW_MS), ErrorCode::JwsInvalid);
    let standard_alphabet = token.replace('-', "+").replace('_', "/");
    if standard_alphabet != token {
        expect_code(verifier_of(Algorithm::ES256).verify(&standard_alphabet, NOW_MS), ErrorCode::JwsInvalid);
    }
}

// ---------------------------------------------------------------- claims

#[test]
fn issuer_and_audience_are_enforced() {
    let key = || jwk_key(&public_jwk(Algorithm::ES256));
    let t = token(Algorithm::ES256);
    let wrong_issuer = verifier(key(), r#"{"issuer":"https://evil.example"}"#);
    let error = expect_code(wrong_issuer.verify(t, NOW_MS), ErrorCode::JwtClaimValidationFailed);
    assert_eq!(error.claim_name(), Some("iss"));
    let wrong_audience = verifier(key(), r#"{"audience":["web","admin"]}"#);
    let error = expect_code(wrong_audience.verify(t, NOW_MS), ErrorCode::JwtClaimValidationFailed);
    assert_eq!(error.claim_name(), Some("aud"));
    let wrong_subject = verifier(key(), r#"{"subject":"user-43"}"#);
    let error = expect_code(wrong_subject.verify(t, NOW_MS), ErrorCode::JwtClaimValidationFailed);
    assert_eq!(error.claim_name(), Some("sub"));
    verifier(key(), r#"{"issuer":["x","https://id.miniauth.example"],"audience":"another-app","subject":"user-42"}"#)
        .verify(t, NOW_MS)
        .unwrap();
}

#[test]
fn time_claims_are_enforced_at_the_given_time() {
    let verifier = verifier_of(Algorithm::EdDSA);
    let t = token(Algorithm::EdDSA);
    let exp_ms = (NOW + 600) as f64 * 1000.0;
    verifier.verify(t, exp_ms - 1.0).unwrap();
    let error = expect_code(verifier.verify(t, exp_ms), ErrorCode::JwtExpired);
    assert_eq!(error.claim_name(), Some("exp"));
    let nbf_ms = (NOW - 10) as f64 * 1000.0;
    verifier.verify(t, nbf_ms).unwrap();
    let error = expect_code(verifier.verify(t, nbf_ms - 1000.0), ErrorCode::JwtNotYetValid);
    assert_eq!(error.claim_name(), Some("nbf"));
    let old = common::verifier(jwk_key(&public_jwk(Algorithm::EdDSA)), r#"{"maxTokenAge":"5s"}"#);
    expect_code(old.verify(t, NOW_MS), ErrorCode::JwtExpired);
}

#[test]
fn jsonwebtoken_and_miniauth_agree_on_a_token_minted_with_other_claims() {
    // A small claims set, as the identity server issues it, in every algorithm.
    let id_token = json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "u", "exp": NOW + 7200, "iat": NOW});
    for alg in [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA, Algorithm::HS256] {
        let token = mint(alg, &id_token);
        let verified = verifier(jwk_key(&public_jwk(alg)), r#"{"issuer":"https://id.miniauth.example","audience":"wx-app-1","maxTokenAge":"2h","requiredClaims":["sub"]}"#)
            .verify(&token, NOW_MS)
            .unwrap();
        assert_eq!(Value::Object(verified.claims), id_token);
    }
}
