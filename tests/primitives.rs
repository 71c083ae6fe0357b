//! Wycheproof's primitive signature and MAC vectors, driven through
//! `VerifyingKey::verify` with keys built by miniauth's own import (from the
//! group's JWK and from its SPKI PEM; both must agree).
//!
//! * ECDSA P-256/SHA-256 and P-384/SHA-384, IEEE P1363 (`r || s`) signatures:
//!   ES256 and ES384;
//! * RSASSA-PKCS1-v1_5 2048-bit SHA-256: RS256;
//! * RSASSA-PSS 2048-bit SHA-256, MGF1-SHA-256, 32-byte salt: PS256;
//! * Ed25519: EdDSA;
//! * HMAC-SHA-256: HS256, where the vector can apply to JWS at all (see
//!   `hmac_sha256`).
//!
//! `valid` must verify and `invalid` must not. `acceptable` vectors are
//! decided case by case below.

mod common;

use common::{hex, read_json};
use miniauth::{Algorithm, ErrorCode, VerifyingKey};
use serde_json::Value;

/// Verifies every vector of `file` with `alg` and each key `keys_of(group)`
/// returns; `acceptable` vectors must be listed in `acceptable` with the
/// decision and its reason. Returns how many vectors were decided.
fn run_signatures(
    file: &str,
    alg: Algorithm,
    keys_of: impl Fn(&Value) -> Vec<VerifyingKey>,
    acceptable: &[(u64, bool, &str)],
) -> usize {
    let doc = read_json(&format!("wycheproof/{file}"));
    let mut decided = 0;
    let mut failures = Vec::new();
    for group in doc["testGroups"].as_array().unwrap() {
        let keys = keys_of(group);
        assert!(!keys.is_empty());
        for test in group["tests"].as_array().unwrap() {
            let tc_id = test["tcId"].as_u64().unwrap();
            let message = hex(test["msg"].as_str().unwrap());
            let signature = hex(test["sig"].as_str().unwrap());
            let expected = match test["result"].as_str().unwrap() {
                "valid" => true,
                "invalid" => false,
                _ => match acceptable.iter().find(|(id, _, _)| *id == tc_id) {
                    Some((_, accept, _)) => *accept,
                    None => panic!("{file}: tcId {tc_id} is \"acceptable\" and needs a decision"),
                },
            };
            for key in &keys {
                let outcome = key.verify(alg, &message, &signature);
                if let Err(error) = &outcome {
                    assert_eq!(error.code(), ErrorCode::JwsSignatureVerificationFailed, "tcId {tc_id}");
                }
                if outcome.is_ok() != expected {
                    failures.push(format!("tcId {tc_id} ({}): {outcome:?}", test["comment"]));
                }
            }
            decided += 1;
        }
    }
    assert!(failures.is_empty(), "{file}: {} failures:\n{}", failures.len(), failures.join("\n"));
    assert_eq!(decided, doc["numberOfTests"].as_u64().unwrap() as usize, "{file}");
    decided
}

fn from_jwk(jwk: &Value) -> VerifyingKey {
    VerifyingKey::from_jwk_json(jwk.to_string().as_bytes()).unwrap_or_else(|e| panic!("{e}: {jwk}"))
}

fn from_pem(pem: &Value) -> VerifyingKey {
    VerifyingKey::from_spki_pem(pem.as_str().unwrap()).unwrap_or_else(|e| panic!("{e}: {pem}"))
}

/// The group's `publicKeyJwk` (when it has one) and `publicKeyPem`.
fn jwk_and_pem(group: &Value, jwk_member: &str) -> Vec<VerifyingKey> {
    let mut keys = vec![from_pem(&group["publicKeyPem"])];
    if !group[jwk_member].is_null() {
        keys.push(from_jwk(&group[jwk_member]));
    }
    keys
}

#[test]
fn ecdsa_p256_sha256_p1363() {
    let decided = run_signatures(
        "ecdsa_secp256r1_sha256_p1363_test.json",
        Algorithm::ES256,
        |group| jwk_and_pem(group, "publicKeyJwk"),
        &[],
    );
    assert_eq!(decided, 262);
}

#[test]
fn ecdsa_p384_sha384_p1363() {
    let decided = run_signatures(
        "ecdsa_secp384r1_sha384_p1363_test.json",
        Algorithm::ES384,
        |group| jwk_and_pem(group, "publicKeyJwk"),
        &[],
    );
    assert_eq!(decided, 280);
}

#[test]
fn ecdsa_groups_without_a_jwk_are_still_decided_through_pem() {
    // Nine groups per curve carry only PEM/DER keys; they are not skipped.
    for file in ["ecdsa_secp256r1_sha256_p1363_test.json", "ecdsa_secp384r1_sha384_p1363_test.json"] {
        let doc = read_json(&format!("wycheproof/{file}"));
        let pem_only = doc["testGroups"].as_array().unwrap().iter().filter(|g| g["publicKeyJwk"].is_null()).count();
        assert_eq!(pem_only, 9, "{file}");
    }
}

#[test]
fn rsa_pkcs1_2048_sha256() {
    let decided = run_signatures(
        "rsa_signature_2048_sha256_test.json",
        Algorithm::RS256,
        |group| jwk_and_pem(group, "keyJwk"),
        // tcId 8, "Missing NULL in the ASN encoding": the DigestInfo omits the
        // NULL parameters of the hash AlgorithmIdentifier. RFC 8017 §9.2 allows
        // either form, but JWS RS256 signers emit the NULL, and ring compares
        // the whole encoded message against that one form: rejected.
        &[(8, false, "DigestInfo without NULL parameters")],
    );
    assert_eq!(decided, 259);
}

#[test]
fn rsa_pss_2048_sha256_mgf1_32() {
    let decided = run_signatures(
        "rsa_pss_2048_sha256_mgf1_32_test.json",
        Algorithm::PS256,
        |group| {
            // The JWK says "alg": "PS256"; the PEM key may verify any RSA algorithm.
            let keys = jwk_and_pem(group, "publicKeyJwk");
            assert_eq!(keys[1].algorithms().iter().collect::<Vec<_>>(), [Algorithm::PS256]);
            keys
        },
        &[],
    );
    assert_eq!(decided, 108);
}

#[test]
fn ed25519() {
    let decided =
        run_signatures("ed25519_test.json", Algorithm::EdDSA, |group| jwk_and_pem(group, "publicKeyJwk"), &[]);
    assert_eq!(decided, 151);
}

/// HMAC-SHA-256 vectors. JWS HS256 fixes two things these vectors vary:
///
/// * the tag is the full 32-byte HMAC output, never truncated, so a 128-bit
///   tag can only be refused, even where the vector calls it valid;
/// * the secret is at least 32 bytes (RFC 7518 §3.2), so a 16-byte key
///   cannot even be imported.
///
/// Vectors with a full tag and a long enough key are decided as the file
/// says.
#[test]
fn hmac_sha256() {
    let doc = read_json("wycheproof/hmac_sha256_test.json");
    let (mut decided, mut truncated_refused, mut short_keys_refused) = (0, 0, 0);
    for group in doc["testGroups"].as_array().unwrap() {
        let key_bits = group["keySize"].as_u64().unwrap() as usize;
        let tag_bits = group["tagSize"].as_u64().unwrap() as usize;
        for test in group["tests"].as_array().unwrap() {
            let tc_id = test["tcId"].as_u64().unwrap();
            let secret = hex(test["key"].as_str().unwrap());
            let message = hex(test["msg"].as_str().unwrap());
            let tag = hex(test["tag"].as_str().unwrap());
            assert_eq!((secret.len() * 8, tag.len() * 8), (key_bits, tag_bits), "tcId {tc_id}");

            if secret.len() < 32 {
                let error = VerifyingKey::from_hmac_secret(&secret).unwrap_err();
                assert_eq!(error.code(), ErrorCode::JwkInvalid, "tcId {tc_id}");
                let jwk = format!(r#"{{"kty":"oct","alg":"HS256","k":"{}"}}"#, common::b64(&secret));
                assert_eq!(VerifyingKey::from_jwk_json(jwk.as_bytes()).unwrap_err().code(), ErrorCode::JwkInvalid);
                short_keys_refused += 1;
                continue;
            }
            let key = VerifyingKey::from_hmac_secret(&secret).unwrap();
            let outcome = key.verify(Algorithm::HS256, &message, &tag);
            if tag.len() < 32 {
                let error = outcome.expect_err("a truncated tag must never verify");
                assert_eq!(error.code(), ErrorCode::JwsSignatureVerificationFailed, "tcId {tc_id}");
                truncated_refused += 1;
                continue;
            }
            let expected = match test["result"].as_str().unwrap() {
                "valid" => true,
                "invalid" => false,
                other => panic!("tcId {tc_id}: undecided result {other}"),
            };
            assert_eq!(outcome.is_ok(), expected, "tcId {tc_id} ({}): {outcome:?}", test["comment"]);
            decided += 1;
        }
    }
    assert_eq!(decided + truncated_refused + short_keys_refused, doc["numberOfTests"].as_u64().unwrap() as usize);
    // 81 vectors with a 256-bit key and tag, 3 with a 520-bit key and a 256-bit tag.
    assert_eq!(decided, 84);
    // 81 with a 256-bit key (27 of them valid as truncated HMAC) and 3 with a 520-bit key.
    assert_eq!(truncated_refused, 84);
    // 6 with a 128-bit key.
    assert_eq!(short_keys_refused, 6);
}
