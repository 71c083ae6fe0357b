//! Key import (JWK, SPKI PEM, HMAC secrets) and key-set selection.

use super::set::MAX_KEYS;
use super::*;
use crate::error::ErrorCode::{
    JoseAlgNotAllowed, JoseNotSupported, JwkInvalid, JwksInvalid, JwksMultipleMatchingKeys, JwksNoMatchingKey,
};
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use jsonwebtoken::{Algorithm as JwtAlg, EncodingKey};
use serde_json::json;

const RSA_A_JWK: &str = include_str!("../../tests/vectors/keys/rsa-2048-a.pub.jwk");
const RSA_B_JWK: &str = include_str!("../../tests/vectors/keys/rsa-2048-b.pub.jwk");
const P256_JWK: &str = include_str!("../../tests/vectors/keys/ec-p256.pub.jwk");
const P384_JWK: &str = include_str!("../../tests/vectors/keys/ec-p384.pub.jwk");
const ED25519_JWK: &str = include_str!("../../tests/vectors/keys/ed25519.pub.jwk");

const RSA_A_PEM: &str = include_str!("../../tests/vectors/keys/rsa-2048-a.pub.pem");
const P256_PEM: &str = include_str!("../../tests/vectors/keys/ec-p256.pub.pem");
const P384_PEM: &str = include_str!("../../tests/vectors/keys/ec-p384.pub.pem");
const ED25519_PEM: &str = include_str!("../../tests/vectors/keys/ed25519.pub.pem");

const RSA_A_PRIVATE: &str = include_str!("../../tests/vectors/keys/rsa-2048-a.key.pem");
const P256_PRIVATE: &str = include_str!("../../tests/vectors/keys/ec-p256.key.pem");
const P384_PRIVATE: &str = include_str!("../../tests/vectors/keys/ec-p384.key.pem");
const ED25519_PRIVATE: &str = include_str!("../../tests/vectors/keys/ed25519.key.pem");

const MESSAGE: &[u8] = b"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ0ZXN0In0";

// ---------------------------------------------------------------- helpers

/// A JWK document: `base` (a JSON object) with `edits` applied; a `null`
/// value removes the member.
fn edited(base: &str, edits: Value) -> String {
    let mut jwk: Map<String, Value> = serde_json::from_str(base).unwrap();
    for (name, value) in edits.as_object().unwrap() {
        if value.is_null() {
            jwk.remove(name);
        } else {
            jwk.insert(name.clone(), value.clone());
        }
    }
    serde_json::to_string(&jwk).unwrap()
}

fn import(jwk: &str) -> Result<VerifyingKey> {
    VerifyingKey::from_jwk_json(jwk.as_bytes())
}

fn code<T: core::fmt::Debug>(result: Result<T>) -> ErrorCode {
    result.expect_err("expected an error").code()
}

fn b64(bytes: &[u8]) -> String {
    base64url::encode(bytes)
}

fn member_bytes(jwk: &str, name: &str) -> Vec<u8> {
    let jwk: Value = serde_json::from_str(jwk).unwrap();
    base64url::decode(jwk[name].as_str().unwrap().as_bytes()).unwrap()
}

fn algs(names: &[&str]) -> AlgorithmSet {
    names.iter().map(|n| Algorithm::from_name(n).unwrap()).collect()
}

/// Signs `MESSAGE` with jsonwebtoken (an independent implementation), with
/// the fixture key of `alg`'s family (`SECRET_64` for HMAC).
fn sign(alg: Algorithm) -> Vec<u8> {
    // RSA signing is slow in debug builds: sign once per algorithm.
    static SIGNATURES: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
    let all = SIGNATURES.get_or_init(|| Algorithm::ALL.iter().map(|a| sign_with_secret(*a, &SECRET_64)).collect());
    all[Algorithm::ALL.iter().position(|a| *a == alg).unwrap()].clone()
}

fn sign_with_secret(alg: Algorithm, secret: &[u8]) -> Vec<u8> {
    let key = match alg.key_family() {
        KeyFamily::Rsa => EncodingKey::from_rsa_pem(RSA_A_PRIVATE.as_bytes()).unwrap(),
        KeyFamily::Ec(Curve::P256) => EncodingKey::from_ec_pem(P256_PRIVATE.as_bytes()).unwrap(),
        KeyFamily::Ec(Curve::P384) => EncodingKey::from_ec_pem(P384_PRIVATE.as_bytes()).unwrap(),
        KeyFamily::Ed25519 => EncodingKey::from_ed_pem(ED25519_PRIVATE.as_bytes()).unwrap(),
        KeyFamily::Hmac => EncodingKey::from_secret(secret),
    };
    let alg: JwtAlg = alg.name().parse().unwrap();
    let signature = jsonwebtoken::crypto::sign(MESSAGE, &key, alg).unwrap();
    base64url::decode(signature.as_bytes()).unwrap()
}

/// Checks that `key` verifies exactly `allowed`: a good signature verifies, a
/// flipped bit does not, and every other algorithm is refused up front.
fn assert_verifies_exactly(key: &VerifyingKey, allowed: &[&str]) {
    assert_verifies_exactly_with_secret(key, allowed, &SECRET_64);
}

/// As [`assert_verifies_exactly`], for an HMAC key holding `secret`.
fn assert_verifies_exactly_with_secret(key: &VerifyingKey, allowed: &[&str], secret: &[u8]) {
    let allowed = algs(allowed);
    assert_eq!(key.algorithms(), allowed);
    for alg in Algorithm::ALL {
        let mut signature = if alg.key_family() == KeyFamily::Hmac { sign_with_secret(alg, secret) } else { sign(alg) };
        if allowed.contains(alg) {
            key.verify(alg, MESSAGE, &signature).unwrap_or_else(|e| panic!("{alg}: {e}"));
            let failed = ErrorCode::JwsSignatureVerificationFailed;
            assert_eq!(code(key.verify(alg, b"other message", &signature)), failed);
            signature[0] ^= 1;
            assert_eq!(code(key.verify(alg, MESSAGE, &signature)), failed);
        } else {
            assert_eq!(code(key.verify(alg, MESSAGE, &signature)), JoseAlgNotAllowed, "{alg}");
        }
    }
}

const SECRET_64: [u8; 64] = {
    let mut secret = [0u8; 64];
    let mut i = 0;
    while i < 64 {
        secret[i] = (i as u8).wrapping_mul(7).wrapping_add(1);
        i += 1;
    }
    secret
};

fn oct(len: usize) -> String {
    json!({"kty": "oct", "k": b64(&SECRET_64[..len])}).to_string()
}

const RSA_FAMILY: &[&str] = &["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"];

// ---------------------------------------------------------------- RSA JWK

#[test]
fn rsa_jwk_verifies_every_rsa_algorithm() {
    let key = import(RSA_A_JWK).unwrap();
    assert_eq!(key.kid(), None);
    assert_verifies_exactly(&key, RSA_FAMILY);
}

#[test]
fn rsa_jwk_alg_binds_the_key_to_that_algorithm() {
    for alg in RSA_FAMILY {
        let key = import(&edited(RSA_A_JWK, json!({"alg": alg, "kid": "k1"}))).unwrap();
        assert_eq!(key.kid(), Some("k1"));
        assert_verifies_exactly(&key, &[alg]);
    }
}

#[test]
fn rsa_modulus_must_be_at_least_2048_bits() {
    let n = member_bytes(RSA_A_JWK, "n");
    assert_eq!(n.len(), 256);
    assert!(n[0] & 0x80 != 0, "fixture is exactly 2048 bits");

    // 2047 bits: clear the top bit.
    let mut short = n.clone();
    short[0] &= 0x7f;
    assert_eq!(code(import(&edited(RSA_A_JWK, json!({"n": b64(&short)})))), JwkInvalid);
    // 1024 bits.
    assert_eq!(code(import(&edited(RSA_A_JWK, json!({"n": b64(&n[128..])})))), JwkInvalid);
    // Leading zero bytes do not count as bits, and do not make a key invalid.
    let mut padded = vec![0, 0];
    padded.extend_from_slice(&n);
    assert!(import(&edited(RSA_A_JWK, json!({"n": b64(&padded)}))).is_ok());
    let mut padded_short = vec![0];
    padded_short.extend_from_slice(&short);
    assert_eq!(code(import(&edited(RSA_A_JWK, json!({"n": b64(&padded_short)})))), JwkInvalid);
}

#[test]
fn rsa_modulus_of_zero_or_nothing_is_invalid() {
    for n in [&[][..], &[0], &[0, 0, 0]] {
        assert_eq!(code(import(&edited(RSA_A_JWK, json!({"n": b64(n)})))), JwkInvalid, "n = {n:?}");
    }
}

#[test]
fn rsa_modulus_over_8192_bits_is_not_supported() {
    let mut n = vec![0x01];
    n.extend([0xff; 1024]); // 8193 bits
    assert_eq!(code(import(&edited(RSA_A_JWK, json!({"n": b64(&n)})))), JoseNotSupported);
}

#[test]
fn rsa_exponent_must_be_odd_at_least_3_and_below_2_pow_33() {
    let with_e = |e: &[u8]| import(&edited(RSA_A_JWK, json!({"e": b64(e)})));
    for bad in [&[][..], &[0], &[1], &[0, 1], &[2], &[1, 0, 0], &[2, 0, 0, 0, 1], &[1, 0, 0, 0, 0, 1]] {
        assert_eq!(code(with_e(bad)), JwkInvalid, "e = {bad:?}");
    }
    for good in [&[3][..], &[1, 0, 1], &[0, 1, 0, 1], &[1, 0xff, 0xff, 0xff, 0xff]] {
        assert!(with_e(good).is_ok(), "e = {good:?}");
    }
}

#[test]
fn rsa_members_must_be_present_strings_in_canonical_base64url() {
    assert_eq!(code(import(&edited(RSA_A_JWK, json!({"n": null})))), JwkInvalid);
    assert_eq!(code(import(&edited(RSA_A_JWK, json!({"e": null})))), JwkInvalid);
    assert_eq!(code(import(&edited(RSA_A_JWK, json!({"e": 65537})))), JwkInvalid);
    assert_eq!(code(import(&edited(RSA_A_JWK, json!({"e": "AQAB=="})))), JwkInvalid, "padding");
    assert_eq!(code(import(&edited(RSA_A_JWK, json!({"e": "AQAB "})))), JwkInvalid, "white space");
    // The fixture's n uses both URL-safe characters; the standard alphabet is refused.
    let n = b64(&member_bytes(RSA_A_JWK, "n"));
    assert!(n.contains('-') && n.contains('_'));
    let standard = n.replace('-', "+").replace('_', "/");
    assert_eq!(code(import(&edited(RSA_A_JWK, json!({"n": standard})))), JwkInvalid);
}

// ---------------------------------------------------------------- EC JWK

#[test]
fn ec_jwks_verify_their_curve_only() {
    assert_verifies_exactly(&import(P256_JWK).unwrap(), &["ES256"]);
    assert_verifies_exactly(&import(P384_JWK).unwrap(), &["ES384"]);
    let bound = import(&edited(P256_JWK, json!({"alg": "ES256"}))).unwrap();
    assert_verifies_exactly(&bound, &["ES256"]);
}

#[test]
fn ec_point_off_the_curve_is_invalid() {
    for base in [P256_JWK, P384_JWK] {
        let mut y = member_bytes(base, "y");
        *y.last_mut().unwrap() ^= 1;
        assert_eq!(code(import(&edited(base, json!({"y": b64(&y)})))), JwkInvalid);
        let mut x = member_bytes(base, "x");
        x[3] ^= 0x10;
        assert_eq!(code(import(&edited(base, json!({"x": b64(&x)})))), JwkInvalid);
    }
    // (0, 0) is not on P-256.
    let zero = b64(&[0; 32]);
    assert_eq!(code(import(&edited(P256_JWK, json!({"x": zero, "y": zero})))), JwkInvalid);
    // Coordinates equal to p are not reduced, hence refused.
    let p = b64(&[
        0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    ]);
    assert_eq!(code(import(&edited(P256_JWK, json!({"x": p, "y": p})))), JwkInvalid);
}

#[test]
fn ec_coordinates_must_have_the_curve_length() {
    let x = member_bytes(P256_JWK, "x");
    let y = member_bytes(P256_JWK, "y");
    // One byte short, one byte long (a leading zero), and swapped curves.
    assert_eq!(code(import(&edited(P256_JWK, json!({"x": b64(&x[1..])})))), JwkInvalid);
    let mut long = vec![0];
    long.extend_from_slice(&y);
    assert_eq!(code(import(&edited(P256_JWK, json!({"y": b64(&long)})))), JwkInvalid);
    assert_eq!(code(import(&edited(P256_JWK, json!({"crv": "P-384"})))), JwkInvalid);
    assert_eq!(code(import(&edited(P384_JWK, json!({"crv": "P-256"})))), JwkInvalid);
    assert_eq!(code(import(&edited(P256_JWK, json!({"y": null})))), JwkInvalid);
}

#[test]
fn ec_curve_must_be_named_and_supported() {
    assert_eq!(code(import(&edited(P256_JWK, json!({"crv": null})))), JwkInvalid);
    assert_eq!(code(import(&edited(P256_JWK, json!({"crv": 256})))), JwkInvalid);
    for crv in ["P-521", "secp256k1", "p-256", "Ed25519"] {
        assert_eq!(code(import(&edited(P256_JWK, json!({"crv": crv})))), JoseNotSupported, "{crv}");
    }
}

// ---------------------------------------------------------------- OKP JWK

#[test]
fn ed25519_jwk_verifies_eddsa_only() {
    assert_verifies_exactly(&import(ED25519_JWK).unwrap(), &["EdDSA"]);
    for alg in ["EdDSA", "Ed25519"] {
        assert_verifies_exactly(&import(&edited(ED25519_JWK, json!({"alg": alg}))).unwrap(), &["EdDSA"]);
    }
}

#[test]
fn ed25519_key_must_be_32_bytes() {
    let x = member_bytes(ED25519_JWK, "x");
    assert_eq!(code(import(&edited(ED25519_JWK, json!({"x": b64(&x[1..])})))), JwkInvalid);
    let mut long = x.clone();
    long.push(0);
    assert_eq!(code(import(&edited(ED25519_JWK, json!({"x": b64(&long)})))), JwkInvalid);
    assert_eq!(code(import(&edited(ED25519_JWK, json!({"x": null})))), JwkInvalid);
}

#[test]
fn okp_curve_must_be_ed25519() {
    assert_eq!(code(import(&edited(ED25519_JWK, json!({"crv": null})))), JwkInvalid);
    for crv in ["X25519", "Ed448", "X448", "ed25519"] {
        assert_eq!(code(import(&edited(ED25519_JWK, json!({"crv": crv})))), JoseNotSupported, "{crv}");
    }
}

// ---------------------------------------------------------------- oct JWK and raw secrets

#[test]
fn hmac_secret_length_decides_the_algorithms() {
    assert_verifies_exactly_with_secret(&import(&oct(32)).unwrap(), &["HS256"], &SECRET_64[..32]);
    assert_verifies_exactly_with_secret(&import(&oct(47)).unwrap(), &["HS256"], &SECRET_64[..47]);
    assert_verifies_exactly_with_secret(&import(&oct(48)).unwrap(), &["HS256", "HS384"], &SECRET_64[..48]);
    assert_verifies_exactly(&import(&oct(64)).unwrap(), &["HS256", "HS384", "HS512"]);
    assert_verifies_exactly(&VerifyingKey::from_hmac_secret(&SECRET_64).unwrap(), &["HS256", "HS384", "HS512"]);
    assert_eq!(VerifyingKey::from_hmac_secret(&SECRET_64[..32]).unwrap().algorithms(), algs(&["HS256"]));
}

#[test]
fn hmac_secret_shorter_than_its_hash_is_invalid() {
    assert_eq!(code(import(&oct(31))), JwkInvalid);
    assert_eq!(code(import(&oct(0))), JwkInvalid);
    assert_eq!(code(VerifyingKey::from_hmac_secret(&SECRET_64[..31])), JwkInvalid);
    assert_eq!(code(VerifyingKey::from_hmac_secret(&[])), JwkInvalid);
    for (alg, min) in [("HS256", 32), ("HS384", 48), ("HS512", 64)] {
        assert_eq!(code(import(&edited(&oct(min - 1), json!({"alg": alg})))), JwkInvalid, "{alg}");
        let key = import(&edited(&oct(min), json!({"alg": alg}))).unwrap();
        assert_verifies_exactly_with_secret(&key, &[alg], &SECRET_64[..min]);
    }
}

#[test]
fn hmac_key_needs_k() {
    assert_eq!(code(import(r#"{"kty":"oct"}"#)), JwkInvalid);
    assert_eq!(code(import(r#"{"kty":"oct","k":"AAAA="}"#)), JwkInvalid);
}

#[test]
fn hmac_key_never_prints_its_secret() {
    let key = VerifyingKey::from_hmac_secret(b"0123456789abcdef0123456789abcdef").unwrap();
    let debug = format!("{key:?}");
    assert!(!debug.contains("0123456789abcdef"), "{debug}");
    assert!(!debug.contains("48, 49, 50"), "{debug}");
}

// ---------------------------------------------------------------- alg, use, key_ops

#[test]
fn alg_contradicting_the_key_type_is_invalid() {
    let cases = [
        (RSA_A_JWK, "ES256"),
        (RSA_A_JWK, "HS256"),
        (RSA_A_JWK, "EdDSA"),
        (P256_JWK, "ES384"),
        (P256_JWK, "RS256"),
        (P384_JWK, "ES256"),
        (ED25519_JWK, "ES256"),
        (ED25519_JWK, "HS512"),
    ];
    for (base, alg) in cases {
        assert_eq!(code(import(&edited(base, json!({"alg": alg})))), JwkInvalid, "{alg} on {base}");
    }
    assert_eq!(code(import(&edited(&oct(64), json!({"alg": "RS256"})))), JwkInvalid);
}

#[test]
fn alg_this_library_does_not_implement_is_not_supported() {
    for alg in ["ES512", "RSA1_5", "A256GCM", "none", "rs256", "ES256K"] {
        assert_eq!(code(import(&edited(RSA_A_JWK, json!({"alg": alg})))), JoseNotSupported, "{alg}");
    }
    assert_eq!(code(import(&edited(RSA_A_JWK, json!({"alg": 256})))), JwkInvalid);
}

#[test]
fn use_must_be_sig_when_present() {
    assert!(import(&edited(RSA_A_JWK, json!({"use": "sig"}))).is_ok());
    assert_eq!(code(import(&edited(RSA_A_JWK, json!({"use": "enc"})))), JwkInvalid);
    assert_eq!(code(import(&edited(P256_JWK, json!({"use": "enc", "alg": "ES256"})))), JwkInvalid);
    assert_eq!(code(import(&edited(RSA_A_JWK, json!({"use": "SIG"})))), JwkInvalid);
    assert_eq!(code(import(&edited(RSA_A_JWK, json!({"use": ["sig"]})))), JwkInvalid);
}

#[test]
fn key_ops_must_allow_verify_when_present() {
    for ops in [json!(["verify"]), json!(["sign", "verify"]), json!(["verify", "sign"])] {
        assert!(import(&edited(RSA_A_JWK, json!({"key_ops": ops}))).is_ok(), "{ops}");
    }
    for ops in [json!(["sign"]), json!(["encrypt"]), json!([]), json!(["Verify"])] {
        assert_eq!(code(import(&edited(RSA_A_JWK, json!({"key_ops": ops})))), JwkInvalid, "{ops}");
    }
    for ops in [json!("verify"), json!([1]), json!(["verify", "verify"]), json!({"verify": true})] {
        assert_eq!(code(import(&edited(RSA_A_JWK, json!({"key_ops": ops})))), JwkInvalid, "{ops}");
    }
    assert_eq!(code(import(&edited(RSA_A_JWK, json!({"use": "enc", "key_ops": ["verify"]})))), JwkInvalid);
}

// ---------------------------------------------------------------- kty and the document itself

#[test]
fn unsupported_kty_is_not_supported() {
    for kty in ["foo", "rsa", "EC2", "OCT", ""] {
        assert_eq!(code(import(&edited(RSA_A_JWK, json!({"kty": kty})))), JoseNotSupported, "{kty}");
    }
}

#[test]
fn kty_and_kid_must_be_strings() {
    assert_eq!(code(import(&edited(RSA_A_JWK, json!({"kty": null})))), JwkInvalid);
    assert_eq!(code(import(&edited(RSA_A_JWK, json!({"kty": 1})))), JwkInvalid);
    assert_eq!(code(import(&edited(RSA_A_JWK, json!({"kid": 1})))), JwkInvalid);
}

#[test]
fn the_document_must_be_one_strict_json_object() {
    for doc in ["", "null", "[]", "\"RSA\"", "{", r#"{"kty":"RSA"} {}"#, "\u{feff}{}"] {
        assert_eq!(code(import(doc)), JwkInvalid, "{doc:?}");
    }
    let duplicate = r#"{"kty":"oct","k":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","k":"BBBB"}"#;
    assert_eq!(code(import(duplicate)), JwkInvalid);
    assert_eq!(code(VerifyingKey::from_jwk_json(&[0xff, 0xfe])), JwkInvalid);
}

#[test]
fn oversized_documents_are_refused() {
    let mut padding = String::new();
    padding.extend(core::iter::repeat_n('a', MAX_KEY_DOCUMENT_LEN));
    let doc = edited(RSA_A_JWK, json!({"x-padding": padding}));
    assert!(doc.len() > MAX_KEY_DOCUMENT_LEN);
    assert_eq!(code(import(&doc)), JwkInvalid);
    let jwks = format!(r#"{{"keys":[{doc}]}}"#);
    assert_eq!(code(KeySet::from_jwks_json(jwks.as_bytes())), JwksInvalid);
}

#[test]
fn unknown_members_are_ignored() {
    let key = import(&edited(RSA_A_JWK, json!({"x5c": ["MIIB"], "ext": true}))).unwrap();
    assert_eq!(key.algorithms(), algs(RSA_FAMILY));
}

#[test]
fn private_keys_are_refused_for_verification() {
    for (base, member) in [(RSA_A_JWK, "d"), (RSA_A_JWK, "p"), (P256_JWK, "d"), (ED25519_JWK, "d")] {
        let private = edited(base, json!({ member: "AQAB" }));
        assert_eq!(code(import(&private)), JwkInvalid, "{member} in {base}");
        let set = format!(r#"{{"keys":[{private}]}}"#);
        let keys = KeySet::from_jwks_json(set.as_bytes()).unwrap();
        let alg = if base == RSA_A_JWK {
            Algorithm::RS256
        } else if base == P256_JWK {
            Algorithm::ES256
        } else {
            Algorithm::EdDSA
        };
        assert_eq!(code(keys.select(alg, None).map(|_| ())), JwkInvalid, "selected from a set");
    }
}

// ---------------------------------------------------------------- SPKI PEM

#[test]
fn spki_pem_imports_each_supported_key_type() {
    assert_verifies_exactly(&VerifyingKey::from_spki_pem(RSA_A_PEM).unwrap(), RSA_FAMILY);
    assert_verifies_exactly(&VerifyingKey::from_spki_pem(P256_PEM).unwrap(), &["ES256"]);
    assert_verifies_exactly(&VerifyingKey::from_spki_pem(P384_PEM).unwrap(), &["ES384"]);
    assert_verifies_exactly(&VerifyingKey::from_spki_pem(ED25519_PEM).unwrap(), &["EdDSA"]);
    assert_eq!(VerifyingKey::from_spki_pem(RSA_A_PEM).unwrap().kid(), None);
}

#[test]
fn spki_pem_tolerates_line_endings_and_surrounding_space() {
    let crlf = RSA_A_PEM.replace('\n', "\r\n");
    let spaced = format!("\n\n  {RSA_A_PEM}  \n");
    let one_line: String = {
        let body: String = RSA_A_PEM.lines().filter(|l| !l.starts_with("-----")).collect();
        format!("-----BEGIN PUBLIC KEY-----{body}-----END PUBLIC KEY-----")
    };
    for pem in [crlf, spaced, one_line] {
        let key = VerifyingKey::from_spki_pem(&pem).unwrap_or_else(|e| panic!("{e}: {pem:?}"));
        key.verify(Algorithm::RS256, MESSAGE, &sign(Algorithm::RS256)).unwrap();
    }
}

#[test]
fn spki_pem_and_jwk_of_one_key_agree() {
    for (pem, jwk, alg) in [
        (RSA_A_PEM, RSA_A_JWK, Algorithm::PS384),
        (P256_PEM, P256_JWK, Algorithm::ES256),
        (P384_PEM, P384_JWK, Algorithm::ES384),
        (ED25519_PEM, ED25519_JWK, Algorithm::EdDSA),
    ] {
        let signature = sign(alg);
        VerifyingKey::from_spki_pem(pem).unwrap().verify(alg, MESSAGE, &signature).unwrap();
        import(jwk).unwrap().verify(alg, MESSAGE, &signature).unwrap();
    }
    // ... and a different key does not verify.
    let other = import(RSA_B_JWK).unwrap();
    assert_eq!(
        code(other.verify(Algorithm::RS256, MESSAGE, &sign(Algorithm::RS256))),
        ErrorCode::JwsSignatureVerificationFailed
    );
}

#[test]
fn spki_pem_rejects_weak_and_unsupported_keys() {
    let rsa_1024 = include_str!("../../tests/vectors/keys/rsa-1024.pub.pem");
    assert_eq!(code(VerifyingKey::from_spki_pem(rsa_1024)), JwkInvalid);
    for pem in [
        include_str!("../../tests/vectors/keys/ec-p521.pub.pem"),
        include_str!("../../tests/vectors/keys/ec-secp256k1.pub.pem"),
        include_str!("../../tests/vectors/keys/x25519.pub.pem"),
        include_str!("../../tests/vectors/keys/ed448.pub.pem"),
    ] {
        assert_eq!(code(VerifyingKey::from_spki_pem(pem)), JoseNotSupported, "{pem}");
    }
}

#[test]
fn spki_pem_rejects_other_labels() {
    for pem in [
        RSA_A_PRIVATE,
        P256_PRIVATE,
        ED25519_PRIVATE,
        include_str!("../../tests/vectors/keys/rsa-2048-a.pkcs1.pub.pem"),
        include_str!("../../tests/vectors/keys/ec-p256.cert.pem"),
    ] {
        assert_eq!(code(VerifyingKey::from_spki_pem(pem)), JwkInvalid, "{pem}");
    }
}

#[test]
fn spki_pem_rejects_garbage() {
    let body: String = P256_PEM.lines().filter(|l| !l.starts_with("-----")).collect();
    let wrap = |body: &str| format!("-----BEGIN PUBLIC KEY-----\n{body}\n-----END PUBLIC KEY-----\n");
    let mut der = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &body).unwrap();
    let std_b64 = |der: &[u8]| base64::Engine::encode(&base64::engine::general_purpose::STANDARD, der);

    let mut trailing = der.clone();
    trailing.push(0);
    let cases: Vec<String> = vec![
        String::new(),
        "hello".into(),
        P256_JWK.into(),
        wrap(""),
        wrap("!!!!"),
        wrap(&body[..body.len() - 8]),
        wrap(&std_b64(&der[..der.len() - 1])),
        wrap(&std_b64(&trailing)),
        format!("{P256_PEM}{P256_PEM}"),
        P256_PEM.replace("-----END PUBLIC KEY-----", ""),
        P256_PEM.replace("PUBLIC KEY", "public key"),
    ];
    for pem in &cases {
        assert_eq!(code(VerifyingKey::from_spki_pem(pem)), JwkInvalid, "{pem:?}");
    }

    // An uncompressed point is required: a compressed one is refused.
    let point_start = der.len() - 65;
    assert_eq!(der[point_start], 0x04);
    let mut compressed = der[..point_start].to_vec();
    compressed[1] -= 32; // outer SEQUENCE length
    let bit_string_len = compressed.len() - 2; // followed by the unused-bits byte
    compressed[bit_string_len] -= 32;
    compressed.push(0x02 | (der[der.len() - 1] & 1));
    compressed.extend_from_slice(&der[point_start + 1..point_start + 33]);
    assert_eq!(code(VerifyingKey::from_spki_pem(&wrap(&std_b64(&compressed)))), JwkInvalid);

    // The point itself must be on the curve.
    let last = der.len() - 1;
    der[last] ^= 1;
    assert_eq!(code(VerifyingKey::from_spki_pem(&wrap(&std_b64(&der)))), JwkInvalid);

    let huge = wrap(&"A".repeat(20_000));
    assert_eq!(code(VerifyingKey::from_spki_pem(&huge)), JwkInvalid);
}

#[test]
fn spki_rsa_with_zero_modulus_is_invalid() {
    // SEQUENCE { SEQUENCE { rsaEncryption, NULL }, BIT STRING { SEQUENCE { INTEGER 0, INTEGER 65537 } } }
    let rsa_key = [0x30, 0x08, 0x02, 0x01, 0x00, 0x02, 0x03, 0x01, 0x00, 0x01];
    let mut bits = vec![0x03, rsa_key.len() as u8 + 1, 0x00];
    bits.extend_from_slice(&rsa_key);
    let algorithm = [0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00];
    let mut spki = vec![0x30, (algorithm.len() + bits.len()) as u8];
    spki.extend_from_slice(&algorithm);
    spki.extend_from_slice(&bits);
    let body = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &spki);
    let pem = format!("-----BEGIN PUBLIC KEY-----\n{body}\n-----END PUBLIC KEY-----\n");
    assert_eq!(code(VerifyingKey::from_spki_pem(&pem)), JwkInvalid);
}

// ---------------------------------------------------------------- JWK Sets

fn jwks(keys: &[String]) -> Result<KeySet> {
    KeySet::from_jwks_json(format!(r#"{{"keys":[{}]}}"#, keys.join(",")).as_bytes())
}

fn selected_is(set: &KeySet, alg: &str, kid: Option<&str>, expected_kid: &str) {
    let key = set.select(Algorithm::from_name(alg).unwrap(), kid).unwrap_or_else(|e| panic!("{alg} {kid:?}: {e}"));
    assert_eq!(key.kid(), Some(expected_kid), "{alg} {kid:?}");
}

fn select_code(set: &KeySet, alg: &str, kid: Option<&str>) -> ErrorCode {
    code(set.select(Algorithm::from_name(alg).unwrap(), kid))
}

#[test]
fn jwks_selects_by_kid() {
    let set = jwks(&[edited(RSA_A_JWK, json!({"kid": "a"})), edited(RSA_B_JWK, json!({"kid": "b"}))]).unwrap();
    assert_eq!(set.len(), 2);
    selected_is(&set, "RS256", Some("a"), "a");
    selected_is(&set, "PS512", Some("b"), "b");
    assert_eq!(select_code(&set, "RS256", Some("c")), JwksNoMatchingKey);
    assert_eq!(select_code(&set, "RS256", Some("A")), JwksNoMatchingKey);
    assert_eq!(select_code(&set, "RS256", None), JwksMultipleMatchingKeys);
}

#[test]
fn jwks_token_kid_never_matches_a_key_without_kid() {
    let set = jwks(&[RSA_A_JWK.into()]).unwrap();
    assert!(set.select(Algorithm::RS256, None).is_ok());
    assert_eq!(select_code(&set, "RS256", Some("a")), JwksNoMatchingKey);
}

#[test]
fn jwks_selects_by_key_type_and_alg() {
    let set = jwks(&[
        edited(RSA_A_JWK, json!({"kid": "rsa", "alg": "RS256"})),
        edited(RSA_B_JWK, json!({"kid": "pss", "alg": "PS256"})),
        edited(P256_JWK, json!({"kid": "ec"})),
        edited(ED25519_JWK, json!({"kid": "ed"})),
    ])
    .unwrap();
    selected_is(&set, "RS256", None, "rsa");
    selected_is(&set, "PS256", None, "pss");
    selected_is(&set, "ES256", None, "ec");
    selected_is(&set, "EdDSA", None, "ed");
    for alg in ["RS384", "PS512", "ES384", "HS256"] {
        assert_eq!(select_code(&set, alg, None), JwksNoMatchingKey, "{alg}");
    }
    // The right kid with the wrong algorithm still does not match.
    assert_eq!(select_code(&set, "ES256", Some("rsa")), JwksNoMatchingKey);
}

#[test]
fn jwks_selects_by_curve() {
    let set = jwks(&[edited(P256_JWK, json!({"kid": "k"})), edited(P384_JWK, json!({"kid": "k"}))]).unwrap();
    let p256 = set.select(Algorithm::ES256, Some("k")).unwrap();
    assert_eq!(p256.algorithms(), algs(&["ES256"]));
    let p384 = set.select(Algorithm::ES384, Some("k")).unwrap();
    assert_eq!(p384.algorithms(), algs(&["ES384"]));
}

#[test]
fn jwks_selects_by_use_and_key_ops() {
    let set = jwks(&[
        edited(RSA_A_JWK, json!({"kid": "enc", "use": "enc"})),
        edited(RSA_B_JWK, json!({"kid": "sig", "use": "sig"})),
    ])
    .unwrap();
    selected_is(&set, "RS256", None, "sig");
    assert_eq!(select_code(&set, "RS256", Some("enc")), JwksNoMatchingKey);

    let set = jwks(&[
        edited(RSA_A_JWK, json!({"kid": "wrap", "key_ops": ["wrapKey"]})),
        edited(RSA_B_JWK, json!({"kid": "verify", "key_ops": ["verify"]})),
    ])
    .unwrap();
    selected_is(&set, "RS256", None, "verify");
    assert_eq!(select_code(&set, "RS256", Some("wrap")), JwksNoMatchingKey);
}

#[test]
fn jwks_with_no_candidate_or_several() {
    let empty = KeySet::from_jwks_json(br#"{"keys":[]}"#).unwrap();
    assert!(empty.is_empty());
    assert_eq!(select_code(&empty, "RS256", None), JwksNoMatchingKey);

    let same_kid = jwks(&[edited(RSA_A_JWK, json!({"kid": "k"})), edited(RSA_B_JWK, json!({"kid": "k"}))]).unwrap();
    assert_eq!(select_code(&same_kid, "RS256", Some("k")), JwksMultipleMatchingKeys);
    assert_eq!(select_code(&same_kid, "RS256", None), JwksMultipleMatchingKeys);
}

#[test]
fn jwks_mixing_hmac_secrets_and_public_keys_is_invalid() {
    assert_eq!(code(jwks(&[oct(32), RSA_A_JWK.into()])), JwksInvalid);
    assert_eq!(code(jwks(&[P256_JWK.into(), oct(64)])), JwksInvalid);
    // Secrets alone are a valid (private) set.
    let secrets = jwks(&[edited(&oct(32), json!({"kid": "1"})), edited(&oct(64), json!({"kid": "2"}))]).unwrap();
    selected_is(&secrets, "HS512", Some("2"), "2");
    // Selection looks at kty, alg, use and key_ops (as jose does), not at the
    // secret's length: both secrets are candidates for HS512.
    assert_eq!(select_code(&secrets, "HS512", None), JwksMultipleMatchingKeys);
}

#[test]
fn jwks_holds_at_most_100_keys() {
    let keys: Vec<String> = (0..MAX_KEYS).map(|i| edited(ED25519_JWK, json!({"kid": format!("k{i}")}))).collect();
    let set = jwks(&keys).unwrap();
    assert_eq!(set.len(), MAX_KEYS);
    selected_is(&set, "EdDSA", Some("k99"), "k99");
    let mut too_many = keys;
    too_many.push(ED25519_JWK.into());
    assert_eq!(code(jwks(&too_many)), JwksInvalid);
}

#[test]
fn jwks_reports_a_malformed_key_only_when_it_is_selected() {
    let mut y = member_bytes(P256_JWK, "y");
    y[0] ^= 1;
    let set = jwks(&[
        edited(RSA_A_JWK, json!({"kid": "good"})),
        edited(P256_JWK, json!({"kid": "bad", "y": b64(&y)})),
        edited(&oct(64), json!({"kty": "RSA", "kid": "no-n"})),
    ])
    .unwrap();
    assert_eq!(set.len(), 3);
    selected_is(&set, "RS256", Some("good"), "good");
    assert_eq!(select_code(&set, "ES256", Some("bad")), JwkInvalid);
    assert_eq!(select_code(&set, "ES256", None), JwkInvalid);
    assert_eq!(select_code(&set, "RS256", Some("no-n")), JwkInvalid);
}

#[test]
fn jwks_skips_keys_of_unsupported_types() {
    let set = jwks(&[
        r#"{"kty":"foo","kid":"x"}"#.into(),
        edited(P256_JWK, json!({"crv": "P-521", "kid": "x"})),
        edited(ED25519_JWK, json!({"crv": "X25519", "kid": "x"})),
        edited(RSA_A_JWK, json!({"kid": "x"})),
    ])
    .unwrap();
    assert_eq!(set.len(), 1);
    selected_is(&set, "RS256", Some("x"), "x");
    // A key with an `alg` this library lacks stays in the set, but is never chosen.
    let set = jwks(&[edited(RSA_A_JWK, json!({"alg": "RSA-OAEP"}))]).unwrap();
    assert_eq!(set.len(), 1);
    assert_eq!(select_code(&set, "RS256", None), JwksNoMatchingKey);
}

#[test]
fn jwks_with_malformed_metadata_is_invalid() {
    let docs = [
        "",
        "[]",
        "{}",
        r#"{"keys":{}}"#,
        r#"{"keys":"a"}"#,
        r#"{"keys":[1]}"#,
        r#"{"keys":[[]]}"#,
        r#"{"keys":[{"kid":"no-kty"}]}"#,
        r#"{"keys":[{"kty":"RSA","kid":7}]}"#,
        r#"{"keys":[{"kty":"RSA","use":1}]}"#,
        r#"{"keys":[{"kty":"RSA","key_ops":"verify"}]}"#,
        r#"{"keys":[{"kty":"EC","x":"AA"}]}"#,
        r#"{"keys":[],"keys":[]}"#,
        r#"{"keys":[{"kty":"oct","kty":"oct"}]}"#,
    ];
    for doc in docs {
        assert_eq!(code(KeySet::from_jwks_json(doc.as_bytes())), JwksInvalid, "{doc}");
    }
}
