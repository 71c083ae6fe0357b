//! RFC 7520 ("Examples of Protecting Content Using JOSE"), section 4:
//! signatures over the same non-JSON payload, from the jose-cookbook files.
//!
//! * 4.1 RSA v1.5 (RS256) and 4.2 RSA-PSS (PS384; the RFC uses PS384, not
//!   PS256) verify with the public half of the example key;
//! * 4.3 ECDSA (ES512 on P-521) is not supported: ring has no P-521;
//! * 4.4 HMAC-SHA2 (HS256) verifies with the example secret.
//!
//! The payload is text, not a claims set, so these are checked at JWS level.

mod common;

use common::{expect_code, read_json, unb64, with_signature};
use miniauth::jws::CompactJws;
use miniauth::{Algorithm, ErrorCode, KeySet, Keys, VerifyingKey};
use serde_json::{json, Value};

const PRIVATE_MEMBERS: &[&str] = &["d", "p", "q", "dp", "dq", "qi", "oth"];

fn example(file: &str) -> Value {
    read_json(&format!("jose-cookbook/{file}"))
}

/// The example's key with its private members removed: what a verifier
/// would be given. (`oct` keys have no public half and are used as they are.)
fn public_key(example: &Value) -> String {
    let mut key = example["input"]["key"].clone();
    if key["kty"] != "oct" {
        for member in PRIVATE_MEMBERS {
            key.as_object_mut().unwrap().remove(*member);
        }
    }
    key.to_string()
}

/// Verifies the example's compact output with its key, given alone and in a
/// key set (selected by `kid`), and checks what was signed.
fn assert_example_verifies(file: &str, alg: Algorithm) {
    let example = example(file);
    assert_eq!(example["input"]["alg"], alg.name());
    let compact = example["output"]["compact"].as_str().unwrap();
    let jws = CompactJws::parse(compact).unwrap();

    assert_eq!(jws.header.alg, alg);
    assert_eq!(jws.header.kid.as_deref(), example["input"]["key"]["kid"].as_str());
    assert_eq!(jws.header_json, unb64(example["signing"]["protected_b64u"].as_str().unwrap()));
    assert_eq!(jws.payload, example["input"]["payload"].as_str().unwrap().as_bytes());
    assert!(compact.starts_with(example["signing"]["sig-input"].as_str().unwrap()));

    let key = VerifyingKey::from_jwk_json(public_key(&example).as_bytes()).unwrap();
    jws.verify(&Keys::Single(key), None).unwrap();
    let set = json!({"keys": [serde_json::from_str::<Value>(&public_key(&example)).unwrap()]}).to_string();
    jws.verify(&Keys::Set(KeySet::from_jwks_json(set.as_bytes()).unwrap()), None).unwrap();
    jws.verify(&Keys::Set(KeySet::from_jwks_json(set.as_bytes()).unwrap()), Some([alg].into_iter().collect())).unwrap();

    // A changed payload or signature no longer verifies.
    let key = || Keys::Single(VerifyingKey::from_jwk_json(public_key(&example).as_bytes()).unwrap());
    let [header, _, signature] = common::parts(compact);
    let other_payload = format!("{header}.{}.{signature}", common::b64("It's a dangerous business."));
    expect_code(
        CompactJws::parse(&other_payload).unwrap().verify(&key(), None),
        ErrorCode::JwsSignatureVerificationFailed,
    );
    let mut bad_signature = unb64(signature);
    bad_signature[0] ^= 1;
    let tampered = with_signature(compact, &bad_signature);
    expect_code(CompactJws::parse(&tampered).unwrap().verify(&key(), None), ErrorCode::JwsSignatureVerificationFailed);
}

#[test]
fn section_4_1_rsa_v1_5_signature() {
    assert_example_verifies("4_1.rsa_v15_signature.json", Algorithm::RS256);
}

#[test]
fn section_4_1_signature_is_reproducible() {
    // RS256 is deterministic: the example's signature is exactly the compact one.
    let example = example("4_1.rsa_v15_signature.json");
    let compact = example["output"]["compact"].as_str().unwrap();
    assert_eq!(common::parts(compact)[2], example["signing"]["sig"].as_str().unwrap());
}

#[test]
fn section_4_2_rsa_pss_signature() {
    assert_example_verifies("4_2.rsa-pss_signature.json", Algorithm::PS384);
}

#[test]
fn section_4_3_ecdsa_p521_is_not_supported() {
    let example = example("4_3.ecdsa_signature.json");
    assert_eq!(example["input"]["alg"], "ES512");
    assert_eq!(example["input"]["key"]["crv"], "P-521");
    // The key cannot be imported...
    expect_code(VerifyingKey::from_jwk_json(public_key(&example).as_bytes()), ErrorCode::JoseNotSupported);
    // ... a key set skips it (RFC 7517 §5), so it holds nothing to verify with...
    let set = json!({"keys": [serde_json::from_str::<Value>(&public_key(&example)).unwrap()]}).to_string();
    assert!(KeySet::from_jwks_json(set.as_bytes()).unwrap().is_empty());
    // ... and the token's "alg" is refused as soon as it is parsed.
    let compact = example["output"]["compact"].as_str().unwrap();
    expect_code(CompactJws::parse(compact), ErrorCode::JoseNotSupported);
}

#[test]
fn section_4_4_hmac_sha2_integrity_protection() {
    assert_example_verifies("4_4.hmac-sha2_integrity_protection.json", Algorithm::HS256);

    // The same secret given as raw bytes.
    let example = example("4_4.hmac-sha2_integrity_protection.json");
    let secret = unb64(example["input"]["key"]["k"].as_str().unwrap());
    assert_eq!(secret.len(), 32);
    let key = VerifyingKey::from_hmac_secret(&secret).unwrap();
    let compact = example["output"]["compact"].as_str().unwrap();
    CompactJws::parse(compact).unwrap().verify(&Keys::Single(key), None).unwrap();
}

#[test]
fn json_serializations_are_not_compact_jws() {
    for file in ["4_1.rsa_v15_signature.json", "4_2.rsa-pss_signature.json", "4_4.hmac-sha2_integrity_protection.json"]
    {
        let example = example(file);
        for form in ["json", "json_flat"] {
            let text = example["output"][form].to_string();
            expect_code(CompactJws::parse(&text), ErrorCode::JwsInvalid);
        }
    }
}
