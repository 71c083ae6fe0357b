//! Known attacks on JWT libraries, one test each, through the `Verifier` as
//! callers use it. Every forged token is properly encoded (and, where it
//! matters, properly signed) so that only the attacked rule can stop it.

mod common;

use common::*;
use miniauth::jws::{decode_protected_header, CompactJws};
use miniauth::jwt::decode_jwt;
use miniauth::{Algorithm, ErrorCode, KeySet, Keys, Validation, Verifier, VerifyingKey};
use ring::hmac;
use serde_json::json;
use std::time::{Duration, Instant};

const CLAIMS: &str = r#"{"iss":"https://id.miniauth.example","sub":"admin","exp":1700000600}"#;

fn rsa_verifier() -> Verifier {
    verifier(pem_key(&key_file("rsa-2048-a.pub.pem")), "{}")
}

fn hmac_verifier() -> Verifier {
    verifier(VerifyingKey::from_hmac_secret(HMAC_SECRET).unwrap(), "{}")
}

/// An HS256 token over exactly this header and payload, keyed with `secret`.
fn hs256_with(secret: &[u8], header_json: &str, payload: &[u8]) -> String {
    let input = format!("{}.{}", b64(header_json), b64(payload));
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, secret), input.as_bytes());
    format!("{input}.{}", b64(tag.as_ref()))
}

fn hs256(header_json: &str, payload: &[u8]) -> String {
    hs256_with(HMAC_SECRET, header_json, payload)
}

#[test]
fn alg_none_in_any_casing_is_not_allowed() {
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#);
        let unsigned = format!("{}.{}.", b64(&header), b64(CLAIMS));
        let with_signature = hs256(&header, CLAIMS.as_bytes());
        for token in [&unsigned, &with_signature] {
            for verifier in [rsa_verifier(), hmac_verifier()] {
                expect_code(verifier.verify(token, NOW_MS), ErrorCode::JoseAlgNotAllowed);
            }
            // Even when the caller lists it, "none" is not an algorithm.
            assert_eq!(
                Validation::from_json(format!(r#"{{"algorithms":["{alg}"]}}"#).as_bytes()).unwrap_err().code(),
                ErrorCode::InvalidArgument
            );
        }
    }
}

#[test]
fn hmac_keyed_with_the_rsa_public_key_is_not_allowed() {
    // The classic key confusion: sign HS256 with the server's public key
    // bytes, hoping the verifier feeds its RSA key to HMAC.
    let pem = key_file("rsa-2048-a.pub.pem");
    let der = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        pem.lines().filter(|l| !l.starts_with("-----")).collect::<String>(),
    )
    .unwrap();
    let jwk = key_file("rsa-2048-a.pub.jwk");
    let header = r#"{"alg":"HS256","typ":"JWT"}"#;
    let forgeries = [
        hs256_with(pem.as_bytes(), header, CLAIMS.as_bytes()),
        hs256_with(pem.trim_end().as_bytes(), header, CLAIMS.as_bytes()),
        hs256_with(&der, header, CLAIMS.as_bytes()),
        hs256_with(jwk.as_bytes(), header, CLAIMS.as_bytes()),
    ];
    for forged in &forgeries {
        expect_code(rsa_verifier().verify(forged, NOW_MS), ErrorCode::JoseAlgNotAllowed);
        expect_code(verifier(jwk_key(&jwk), "{}").verify(forged, NOW_MS), ErrorCode::JoseAlgNotAllowed);
        // In a public key set, no key is even a candidate for HS256.
        let set = format!(r#"{{"keys":[{jwk}]}}"#);
        let from_set = verifier_for(Keys::Set(KeySet::from_jwks_json(set.as_bytes()).unwrap()), "{}");
        expect_code(from_set.verify(forged, NOW_MS), ErrorCode::JwksNoMatchingKey);
    }
}

#[test]
fn embedded_jwk_header_with_the_attackers_key_is_ignored() {
    // The attacker signs with their own key and embeds its public half.
    let attacker_jwk: serde_json::Value = serde_json::from_str(&key_file("rsa-2048-b.pub.jwk")).unwrap();
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": "server", "jwk": attacker_jwk}).to_string();
    let attacker_key = jsonwebtoken::EncodingKey::from_rsa_pem(key_file("rsa-2048-b.key.pem").as_bytes()).unwrap();
    let forged = sign_compact_with(&header, CLAIMS.as_bytes(), Algorithm::RS256, &attacker_key);
    // It is well formed, and the embedded key really does verify it...
    assert!(CompactJws::parse(&forged).unwrap().header.members.contains_key("jwk"));
    verifier(jwk_key(&attacker_jwk.to_string()), "{}").verify(&forged, NOW_MS).unwrap();
    // ... but only the server's key is ever used.
    expect_code(rsa_verifier().verify(&forged, NOW_MS), ErrorCode::JwsSignatureVerificationFailed);
    let server_set = jwk_with(&key_file("rsa-2048-a.pub.jwk"), json!({"kid": "server"}));
    let set = Keys::Set(KeySet::from_jwks_json(format!(r#"{{"keys":[{server_set}]}}"#).as_bytes()).unwrap());
    expect_code(verifier_for(set, "{}").verify(&forged, NOW_MS), ErrorCode::JwsSignatureVerificationFailed);
    // With a kid the server does not have, there is no key at all.
    let header = json!({"alg": "RS256", "kid": "attacker", "jwk": attacker_jwk}).to_string();
    let forged = sign_compact_with(&header, CLAIMS.as_bytes(), Algorithm::RS256, &attacker_key);
    let set = Keys::Set(KeySet::from_jwks_json(format!(r#"{{"keys":[{server_set}]}}"#).as_bytes()).unwrap());
    expect_code(verifier_for(set, "{}").verify(&forged, NOW_MS), ErrorCode::JwksNoMatchingKey);
}

#[test]
fn unknown_critical_header_is_not_supported() {
    let header = r#"{"alg":"HS256","crit":["urn:example:must-understand"],"urn:example:must-understand":true}"#;
    let token = hs256(header, CLAIMS.as_bytes());
    expect_code(hmac_verifier().verify(&token, NOW_MS), ErrorCode::JoseNotSupported);
}

#[test]
fn unencoded_payload_b64_false_is_not_a_jwt() {
    // RFC 7797: with b64 false the payload is signed as is; JWTs never use it.
    let header = r#"{"alg":"HS256","crit":["b64"],"b64":false}"#;
    let input = format!("{}.{CLAIMS}", b64(header));
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, HMAC_SECRET), input.as_bytes());
    let detached = format!("{}..{}", b64(header), b64(tag.as_ref()));
    expect_code(hmac_verifier().verify(&detached, NOW_MS), ErrorCode::JwtInvalid);
    // Also with the payload base64url-encoded in the token.
    expect_code(hmac_verifier().verify(&hs256(header, CLAIMS.as_bytes()), NOW_MS), ErrorCode::JwtInvalid);
}

#[test]
fn duplicate_alg_header_member_is_malformed() {
    for header in
        [r#"{"alg":"HS256","alg":"none"}"#, r#"{"alg":"none","alg":"HS256"}"#, r#"{"alg":"RS256","alg":"HS256"}"#]
    {
        let token = hs256(header, CLAIMS.as_bytes());
        expect_code(hmac_verifier().verify(&token, NOW_MS), ErrorCode::JwsInvalid);
        expect_code(decode_protected_header(&token), ErrorCode::JwsInvalid);
    }
}

#[test]
fn duplicate_claims_are_malformed() {
    let payload = r#"{"sub":"user","exp":1700000600,"sub":"admin"}"#;
    let token = hs256(r#"{"alg":"HS256"}"#, payload.as_bytes());
    expect_code(hmac_verifier().verify(&token, NOW_MS), ErrorCode::JwtInvalid);
    expect_code(decode_jwt(&token), ErrorCode::JwtInvalid);
}

#[test]
fn string_exp_cannot_switch_expiry_off() {
    for exp in [r#""0""#, r#""1700000600""#, r#""never""#, "null", "false", "[1700000600]"] {
        let payload = format!(r#"{{"sub":"admin","exp":{exp}}}"#);
        let token = hs256(r#"{"alg":"HS256"}"#, payload.as_bytes());
        let error = expect_code(hmac_verifier().verify(&token, NOW_MS), ErrorCode::JwtClaimValidationFailed);
        assert_eq!(error.claim_name(), Some("exp"), "{exp}");
        assert_eq!(error.claim_reason(), Some(miniauth::error::ClaimFailure::Invalid), "{exp}");
    }
}

/// A DER `INTEGER` holding the unsigned big-endian `value`.
fn der_integer(value: &[u8]) -> Vec<u8> {
    let first = value.iter().position(|b| *b != 0).unwrap_or(value.len() - 1);
    let mut contents = value[first..].to_vec();
    if contents[0] & 0x80 != 0 {
        contents.insert(0, 0);
    }
    let mut out = vec![0x02, contents.len() as u8];
    out.extend(contents);
    out
}

#[test]
fn der_encoded_ecdsa_signature_fails() {
    // JWS ECDSA signatures are raw r || s (RFC 7518 §3.4); the DER form that
    // other APIs produce must not be accepted as well.
    for (alg, half) in [(Algorithm::ES256, 32), (Algorithm::ES384, 48)] {
        let token = sign_compact(r#"{"alg":"ALG"}"#.replace("ALG", alg.name()).as_str(), CLAIMS.as_bytes(), alg);
        let verifier = verifier(jwk_key(&public_jwk(alg)), "{}");
        verifier.verify(&token, NOW_MS).unwrap();
        let raw = unb64(parts(&token)[2]);
        assert_eq!(raw.len(), 2 * half);
        let mut der = der_integer(&raw[..half]);
        der.extend(der_integer(&raw[half..]));
        let mut sequence = vec![0x30];
        if der.len() >= 0x80 {
            sequence.push(0x81);
        }
        sequence.push(der.len() as u8);
        sequence.extend(der);
        expect_code(
            verifier.verify(&with_signature(&token, &sequence), NOW_MS),
            ErrorCode::JwsSignatureVerificationFailed,
        );
    }
}

#[test]
fn ecdsa_r_and_s_zero_fails() {
    // "Psychic signatures" (CVE-2022-21449): r = s = 0 must never verify.
    for (alg, len) in [(Algorithm::ES256, 64), (Algorithm::ES384, 96)] {
        let header = format!(r#"{{"alg":"{}"}}"#, alg.name());
        let token = format!("{}.{}.{}", b64(&header), b64(CLAIMS), b64(vec![0u8; len]));
        let verifier = verifier(jwk_key(&public_jwk(alg)), "{}");
        expect_code(verifier.verify(&token, NOW_MS), ErrorCode::JwsSignatureVerificationFailed);
        // r = 0 or s = 0 alone as well, with the other half taken from a real signature.
        let real = unb64(parts(&sign_compact(&header, CLAIMS.as_bytes(), alg))[2]);
        for zeroed in [0..len / 2, len / 2..len] {
            let mut signature = real.clone();
            signature[zeroed].fill(0);
            let forged = format!("{}.{}.{}", b64(&header), b64(CLAIMS), b64(&signature));
            expect_code(verifier.verify(&forged, NOW_MS), ErrorCode::JwsSignatureVerificationFailed);
        }
    }
}

#[test]
fn ten_megabyte_token_is_refused_quickly() {
    let big_payload = format!(r#"{{"sub":"{}"}}"#, "a".repeat(10 * 1024 * 1024));
    let huge = format!("{}.{}.{}", b64(r#"{"alg":"HS256"}"#), b64(&big_payload), b64([0u8; 32]));
    assert!(huge.len() > 10_000_000);
    let garbage = "x".repeat(10 * 1024 * 1024);
    let verifier = hmac_verifier();
    for token in [&huge, &garbage] {
        let started = Instant::now();
        let error = expect_code(verifier.verify(token, NOW_MS), ErrorCode::JwsInvalid);
        expect_code(CompactJws::parse(token), ErrorCode::JwsInvalid);
        expect_code(decode_protected_header(token), ErrorCode::JwsInvalid);
        expect_code(decode_jwt(token), ErrorCode::JwtInvalid);
        let elapsed = started.elapsed();
        assert!(error.message().contains("16 KiB"), "{error}");
        // The length is checked before anything is decoded: no 10 MB pass happens.
        assert!(elapsed < Duration::from_millis(100), "took {elapsed:?}");
    }
}

fn nested(depth: usize) -> String {
    format!(r#"{{"a":{}1{}}}"#, "[".repeat(depth), "]".repeat(depth))
}

#[test]
fn deeply_nested_json_header_fails_cleanly() {
    // 100k levels: over the token size limit, refused before any parsing.
    let token = hs256(&nested(100_000), CLAIMS.as_bytes());
    expect_code(hmac_verifier().verify(&token, NOW_MS), ErrorCode::JwsInvalid);
    // Deep enough to blow a naive recursive parser, small enough to be parsed.
    let header = format!(r#"{{"alg":"HS256","x":{}}}"#, nested(5000));
    let token = hs256(&header, CLAIMS.as_bytes());
    assert!(token.len() <= miniauth::jws::MAX_TOKEN_LEN);
    expect_code(hmac_verifier().verify(&token, NOW_MS), ErrorCode::JwsInvalid);
    expect_code(decode_protected_header(&token), ErrorCode::JwsInvalid);
}

#[test]
fn deeply_nested_json_payload_fails_cleanly() {
    let token = hs256(r#"{"alg":"HS256"}"#, nested(100_000).as_bytes());
    expect_code(hmac_verifier().verify(&token, NOW_MS), ErrorCode::JwsInvalid);
    // Within the size limit and properly signed: refused when the claims are parsed.
    let token = hs256(r#"{"alg":"HS256"}"#, nested(5000).as_bytes());
    assert!(token.len() <= miniauth::jws::MAX_TOKEN_LEN);
    expect_code(hmac_verifier().verify(&token, NOW_MS), ErrorCode::JwtInvalid);
    expect_code(decode_jwt(&token), ErrorCode::JwtInvalid);
}

#[test]
fn deeply_nested_json_in_keys_and_options_fails_cleanly() {
    // Key documents may be up to 256 KiB: 100k levels are parsed, and refused.
    let deep = nested(100_000);
    expect_code(VerifyingKey::from_jwk_json(deep.as_bytes()), ErrorCode::JwkInvalid);
    let jwks = format!(r#"{{"keys":[{deep}]}}"#);
    expect_code(KeySet::from_jwks_json(jwks.as_bytes()), ErrorCode::JwksInvalid);
    let objects = format!("{}{}", r#"{"a":"#.repeat(50_000), "}".repeat(50_000));
    expect_code(KeySet::from_jwks_json(objects.as_bytes()), ErrorCode::JwksInvalid);
    let options = format!(r#"{{"issuer":{}"i"{}}}"#, "[".repeat(100_000), "]".repeat(100_000));
    expect_code(Validation::from_json(options.as_bytes()), ErrorCode::InvalidArgument);
}

#[test]
fn jku_and_x5u_headers_are_never_used() {
    // The header points at the attacker's keys; the core has no way to fetch
    // and never looks: only the configured key decides.
    let header = json!({
        "alg": "RS256",
        "jku": "https://attacker.invalid/.well-known/jwks.json",
        "x5u": "https://attacker.invalid/cert.pem",
        "x5c": ["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"],
        "x5t#S256": "n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg",
    })
    .to_string();
    let attacker_key = jsonwebtoken::EncodingKey::from_rsa_pem(key_file("rsa-2048-b.key.pem").as_bytes()).unwrap();
    let forged = sign_compact_with(&header, CLAIMS.as_bytes(), Algorithm::RS256, &attacker_key);
    expect_code(rsa_verifier().verify(&forged, NOW_MS), ErrorCode::JwsSignatureVerificationFailed);
    // The same headers on a token the server did sign change nothing either.
    let genuine = sign_compact(&header, CLAIMS.as_bytes(), Algorithm::RS256);
    let verified = rsa_verifier().verify(&genuine, NOW_MS).unwrap();
    assert_eq!(verified.header.members["jku"], "https://attacker.invalid/.well-known/jwks.json");
}

#[test]
fn kid_injection_finds_no_key() {
    let set = jwk_with(&key_file("rsa-2048-a.pub.jwk"), json!({"kid": "k1"}));
    let keys = || Keys::Set(KeySet::from_jwks_json(format!(r#"{{"keys":[{set}]}}"#).as_bytes()).unwrap());
    for kid in ["../../../../dev/null", "k1' OR '1'='1", "k1\u{0000}", "K1", " k1", ""] {
        let header = json!({"alg": "RS256", "kid": kid}).to_string();
        let token = sign_compact(&header, CLAIMS.as_bytes(), Algorithm::RS256);
        expect_code(verifier_for(keys(), "{}").verify(&token, NOW_MS), ErrorCode::JwksNoMatchingKey);
    }
}

#[test]
fn algorithm_substitution_across_families_is_not_allowed() {
    // An ES256 or EdDSA token against an RSA key, an RS256 token against an EC key.
    for (token_alg, key_alg) in [
        (Algorithm::ES256, Algorithm::RS256),
        (Algorithm::EdDSA, Algorithm::PS256),
        (Algorithm::RS256, Algorithm::ES256),
    ] {
        let header = format!(r#"{{"alg":"{}"}}"#, token_alg.name());
        let token = sign_compact(&header, CLAIMS.as_bytes(), token_alg);
        let verifier = verifier(jwk_key(&public_jwk(key_alg)), "{}");
        expect_code(verifier.verify(&token, NOW_MS), ErrorCode::JoseAlgNotAllowed);
    }
}
