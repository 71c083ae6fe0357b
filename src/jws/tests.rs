//! Compact JWS parsing, the protected header's rules, and verification.

use super::*;
use crate::algorithm::AlgorithmSet;
use crate::error::ErrorCode::{
    JoseAlgNotAllowed, JoseNotSupported, JwksMultipleMatchingKeys, JwksNoMatchingKey, JwsInvalid,
    JwsSignatureVerificationFailed,
};
use alloc::format;
use alloc::string::ToString;
use alloc::vec;
use ring::hmac;

const SECRET: &[u8; 32] = b"an HS256 secret of 32 bytes, ok!";

fn b64(bytes: &[u8]) -> String {
    base64url::encode(bytes)
}

/// `header_json` and `payload` encoded and signed with HS256 and `SECRET`.
fn hs256(header_json: &str, payload: &[u8]) -> String {
    let signing_input = format!("{}.{}", b64(header_json.as_bytes()), b64(payload));
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, SECRET), signing_input.as_bytes());
    format!("{signing_input}.{}", b64(tag.as_ref()))
}

fn single_key() -> Keys {
    Keys::Single(VerifyingKey::from_hmac_secret(SECRET).unwrap())
}

fn parse_code(token: &str) -> ErrorCode {
    CompactJws::parse(token).expect_err("expected a parse error").code()
}

fn verify(token: &str) -> Result<()> {
    CompactJws::parse(token)?.verify(&single_key(), None)
}

const HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

// ---------------------------------------------------------------- structure

#[test]
fn a_well_formed_token_parses_and_verifies() {
    let token = hs256(r#"{"alg":"HS256","kid":"k1","typ":"JWT","x-custom":[1,2]}"#, b"payload bytes");
    let jws = CompactJws::parse(&token).unwrap();
    assert_eq!(jws.header.alg, Algorithm::HS256);
    assert_eq!(jws.header.kid.as_deref(), Some("k1"));
    assert_eq!(jws.header.typ.as_deref(), Some("JWT"));
    assert!(jws.header.b64);
    assert_eq!(jws.header.members["x-custom"], serde_json::json!([1, 2]));
    assert_eq!(jws.header_json, br#"{"alg":"HS256","kid":"k1","typ":"JWT","x-custom":[1,2]}"#);
    assert_eq!(jws.payload, b"payload bytes");
    jws.verify(&single_key(), None).unwrap();
}

#[test]
fn the_signature_covers_the_header_text_as_sent() {
    // White space in the header is legal JSON and part of the signing input.
    let token = hs256("{ \"alg\" :\n\t\"HS256\" }", b"");
    verify(&token).unwrap();
    assert!(CompactJws::parse(&token).unwrap().payload.is_empty());
}

#[test]
fn exactly_three_parts() {
    let token = hs256(HEADER, b"{}");
    let parts: Vec<&str> = token.split('.').collect();
    let cases = [
        String::new(),
        ".".into(),
        "..".into(),
        "...".into(),
        parts[0].into(),
        format!("{}.{}", parts[0], parts[1]),
        format!("{token}."),
        format!("{token}.{}", parts[2]),
        format!(".{token}"),
        format!("{}..{}.{}", parts[0], parts[1], parts[2]),
    ];
    for case in &cases {
        assert_eq!(parse_code(case), JwsInvalid, "{case:?}");
    }
}

#[test]
fn every_part_must_be_canonical_base64url() {
    let token = hs256(HEADER, b"{\"a\":1}");
    let parts: Vec<&str> = token.split('.').collect();
    for index in 0..3 {
        for bad in ["=", "+", "/", " ", "\n", "!", "\u{e9}"] {
            let mut altered: Vec<String> = parts.iter().map(|p| p.to_string()).collect();
            altered[index].push_str(bad);
            let case = altered.join(".");
            assert_eq!(parse_code(&case), JwsInvalid, "part {index} + {bad:?}");
        }
    }
    // Padding on a part whose length needs it.
    let padded = format!("{}.{}=.{}", parts[0], b64(b"ab"), parts[2]);
    assert_eq!(parse_code(&padded), JwsInvalid);
    // Non-zero trailing bits: "QR" decodes like "QQ" in lax decoders.
    let lax = format!("{}.QR.{}", parts[0], parts[2]);
    assert_eq!(parse_code(&lax), JwsInvalid);
    // An impossible length.
    let short = format!("{}.A.{}", parts[0], parts[2]);
    assert_eq!(parse_code(&short), JwsInvalid);
}

#[test]
fn tokens_over_16_kib_are_refused_before_decoding() {
    // Find a payload that makes the token exactly MAX_TOKEN_LEN bytes.
    let at_limit = (MAX_TOKEN_LEN * 3 / 4 - 200..MAX_TOKEN_LEN * 3 / 4)
        .map(|len| hs256(HEADER, &vec![b'a'; len]))
        .find(|token| token.len() == MAX_TOKEN_LEN)
        .expect("some payload length hits the limit exactly");
    verify(&at_limit).unwrap();
    let over = format!("{at_limit}A");
    let error = CompactJws::parse(&over).unwrap_err();
    assert_eq!(error.code(), JwsInvalid);
    assert!(error.message().contains("16 KiB"), "{error}");
    // Not even structure is looked at.
    assert!(CompactJws::parse(&"x".repeat(MAX_TOKEN_LEN + 1)).unwrap_err().message().contains("16 KiB"));
}

// ---------------------------------------------------------------- header JSON

#[test]
fn the_header_must_be_one_strict_json_object() {
    for header in
        ["", "null", "[]", "[{\"alg\":\"HS256\"}]", "\"HS256\"", "{", "{\"alg\":\"HS256\"}x", "{'alg':'HS256'}"]
    {
        assert_eq!(parse_code(&hs256(header, b"{}")), JwsInvalid, "{header:?}");
    }
    let not_utf8 = format!("{}.{}.{}", b64(b"{\"alg\":\"HS256\",\"x\":\"\xff\"}"), b64(b"{}"), b64(b"sig"));
    assert_eq!(parse_code(&not_utf8), JwsInvalid);
}

#[test]
fn repeated_header_members_are_refused_at_any_depth() {
    for header in [
        r#"{"alg":"HS256","alg":"none"}"#,
        r#"{"alg":"none","alg":"HS256"}"#,
        r#"{"alg":"HS256","alg":"HS256"}"#,
        r#"{"alg":"HS256","kid":"a","kid":"b"}"#,
        r#"{"alg":"HS256","jwk":{"kty":"oct","kty":"RSA"}}"#,
        r#"{"alg":"HS256","x":[{"a":1,"a":1}]}"#,
    ] {
        assert_eq!(parse_code(&hs256(header, b"{}")), JwsInvalid, "{header}");
    }
}

#[test]
fn deeply_nested_headers_fail_cleanly() {
    let depth = 5000;
    let header = format!(r#"{{"alg":"HS256","x":{}{}}}"#, "[".repeat(depth), "]".repeat(depth));
    assert_eq!(parse_code(&hs256(&header, b"{}")), JwsInvalid);
    let objects = format!(r#"{{"alg":"HS256","x":{}1{}}}"#, r#"{"a":"#.repeat(1000), "}".repeat(1000));
    assert_eq!(parse_code(&hs256(&objects, b"{}")), JwsInvalid);
}

// ---------------------------------------------------------------- alg

#[test]
fn alg_is_required_and_must_be_a_string() {
    for header in [r#"{}"#, r#"{"typ":"JWT"}"#, r#"{"alg":null}"#, r#"{"alg":256}"#, r#"{"alg":["HS256"]}"#] {
        assert_eq!(parse_code(&hs256(header, b"{}")), JwsInvalid, "{header}");
    }
}

#[test]
fn alg_none_in_any_case_is_never_allowed() {
    for alg in ["none", "None", "NONE", "nOnE", "NoNe"] {
        let header = format!(r#"{{"alg":"{alg}"}}"#);
        let unsigned = format!("{}.{}.", b64(header.as_bytes()), b64(b"{}"));
        assert_eq!(parse_code(&unsigned), JoseAlgNotAllowed, "{alg}");
        assert_eq!(parse_code(&hs256(&header, b"{}")), JoseAlgNotAllowed, "{alg} with a signature");
    }
}

#[test]
fn unknown_or_miscased_alg_is_not_supported() {
    for alg in ["hs256", "Hs256", "ES512", "ES256K", "RS1", "HS1", "PS256 ", " HS256", "EDDSA", "Ed448", "dir", ""] {
        let header = format!(r#"{{"alg":"{alg}"}}"#);
        assert_eq!(parse_code(&hs256(&header, b"{}")), JoseNotSupported, "{alg:?}");
    }
}

#[test]
fn ed25519_is_accepted_as_eddsa() {
    let token = hs256(r#"{"alg":"Ed25519"}"#, b"{}");
    let jws = CompactJws::parse(&token).unwrap();
    assert_eq!(jws.header.alg, Algorithm::EdDSA);
}

// ---------------------------------------------------------------- kid, typ

#[test]
fn kid_and_typ_must_be_strings_when_present() {
    for header in [
        r#"{"alg":"HS256","kid":1}"#,
        r#"{"alg":"HS256","kid":null}"#,
        r#"{"alg":"HS256","kid":["a"]}"#,
        r#"{"alg":"HS256","typ":true}"#,
        r#"{"alg":"HS256","typ":{}}"#,
    ] {
        assert_eq!(parse_code(&hs256(header, b"{}")), JwsInvalid, "{header}");
    }
}

// ---------------------------------------------------------------- crit and b64

#[test]
fn crit_must_be_a_non_empty_array_of_unregistered_present_names() {
    for header in [
        r#"{"alg":"HS256","crit":"b64","b64":true}"#,
        r#"{"alg":"HS256","crit":[]}"#,
        r#"{"alg":"HS256","crit":[1]}"#,
        r#"{"alg":"HS256","crit":null}"#,
        r#"{"alg":"HS256","crit":["alg"]}"#,
        r#"{"alg":"HS256","crit":["kid"],"kid":"k"}"#,
        r#"{"alg":"HS256","crit":["b64","b64"],"b64":true}"#,
        r#"{"alg":"HS256","crit":["b64"]}"#,
        r#"{"alg":"HS256","crit":["exp"]}"#,
    ] {
        assert_eq!(parse_code(&hs256(header, b"{}")), JwsInvalid, "{header}");
    }
}

#[test]
fn crit_naming_an_unknown_extension_is_not_supported() {
    for header in [
        r#"{"alg":"HS256","crit":["exp"],"exp":1}"#,
        r#"{"alg":"HS256","crit":["http://example.invalid/ext"],"http://example.invalid/ext":true}"#,
        r#"{"alg":"HS256","crit":["b64","x"],"b64":true,"x":1}"#,
    ] {
        assert_eq!(parse_code(&hs256(header, b"{}")), JoseNotSupported, "{header}");
    }
}

#[test]
fn b64_must_be_a_boolean_listed_in_crit() {
    assert_eq!(parse_code(&hs256(r#"{"alg":"HS256","b64":false}"#, b"{}")), JwsInvalid);
    assert_eq!(parse_code(&hs256(r#"{"alg":"HS256","b64":true}"#, b"{}")), JwsInvalid);
    assert_eq!(parse_code(&hs256(r#"{"alg":"HS256","crit":["b64"],"b64":"false"}"#, b"{}")), JwsInvalid);

    let encoded = hs256(r#"{"alg":"HS256","crit":["b64"],"b64":true}"#, b"{}");
    assert!(CompactJws::parse(&encoded).unwrap().header.b64);
    verify(&encoded).unwrap();
}

#[test]
fn unencoded_payloads_parse_but_never_verify() {
    let token = hs256(r#"{"alg":"HS256","crit":["b64"],"b64":false}"#, b"{}");
    let jws = CompactJws::parse(&token).unwrap();
    assert!(!jws.header.b64);
    assert_eq!(jws.verify(&single_key(), None).unwrap_err().code(), JoseNotSupported);
}

// ---------------------------------------------------------------- verification

#[test]
fn any_change_breaks_the_signature() {
    let token = hs256(r#"{"alg":"HS256","kid":"k"}"#, b"{\"sub\":\"alice\"}");
    let parts: Vec<&str> = token.split('.').collect();
    let other_header = b64(br#"{"alg":"HS256","kid":"j"}"#);
    let other_payload = b64(b"{\"sub\":\"mallory\"}");
    let mut signature = base64url::decode(parts[2].as_bytes()).unwrap();
    signature[31] ^= 0x80;
    let cases = [
        format!("{other_header}.{}.{}", parts[1], parts[2]),
        format!("{}.{other_payload}.{}", parts[0], parts[2]),
        format!("{}.{}.{}", parts[0], parts[1], b64(&signature)),
        format!("{}.{}.{}", parts[0], parts[1], b64(&signature[..31])),
        format!("{}.{}.", parts[0], parts[1]),
    ];
    for case in &cases {
        assert_eq!(verify(case).unwrap_err().code(), JwsSignatureVerificationFailed, "{case}");
    }
}

#[test]
fn the_allow_list_is_checked_before_any_key_is_looked_up() {
    let token = hs256(HEADER, b"{}");
    let jws = CompactJws::parse(&token).unwrap();
    let only_rs256: AlgorithmSet = [Algorithm::RS256].into_iter().collect();
    let empty_set = Keys::Set(KeySet::from_jwks_json(br#"{"keys":[]}"#).unwrap());
    assert_eq!(jws.verify(&empty_set, Some(only_rs256)).unwrap_err().code(), JoseAlgNotAllowed);
    assert_eq!(jws.verify(&empty_set, None).unwrap_err().code(), JwksNoMatchingKey);
    let hs256_only: AlgorithmSet = [Algorithm::HS256].into_iter().collect();
    jws.verify(&single_key(), Some(hs256_only)).unwrap();
    assert_eq!(jws.verify(&single_key(), Some(AlgorithmSet::EMPTY)).unwrap_err().code(), JoseAlgNotAllowed);
}

#[test]
fn a_single_key_ignores_kid_and_refuses_other_algorithms() {
    verify(&hs256(r#"{"alg":"HS256","kid":"anything"}"#, b"{}")).unwrap();
    // The 32-byte secret may not verify HS384 or HS512, nor any RSA algorithm.
    for alg in ["HS384", "HS512", "RS256", "ES256", "EdDSA"] {
        let token = hs256(&format!(r#"{{"alg":"{alg}"}}"#), b"{}");
        assert_eq!(verify(&token).unwrap_err().code(), JoseAlgNotAllowed, "{alg}");
    }
}

#[test]
fn a_key_set_selects_by_kid() {
    let k = b64(SECRET);
    let other = b64(b"another HS256 secret of 32 bytes");
    let jwks =
        format!(r#"{{"keys":[{{"kty":"oct","kid":"right","k":"{k}"}},{{"kty":"oct","kid":"wrong","k":"{other}"}}]}}"#);
    let keys = Keys::Set(KeySet::from_jwks_json(jwks.as_bytes()).unwrap());
    let check = |header: &str| CompactJws::parse(&hs256(header, b"{}")).unwrap().verify(&keys, None);
    check(r#"{"alg":"HS256","kid":"right"}"#).unwrap();
    assert_eq!(check(r#"{"alg":"HS256","kid":"wrong"}"#).unwrap_err().code(), JwsSignatureVerificationFailed);
    assert_eq!(check(r#"{"alg":"HS256","kid":"missing"}"#).unwrap_err().code(), JwksNoMatchingKey);
    assert_eq!(check(r#"{"alg":"HS256"}"#).unwrap_err().code(), JwksMultipleMatchingKeys);
}

#[test]
fn key_url_and_embedded_key_headers_are_never_used() {
    // The header names other keys; verification still uses only the caller's.
    let header = r#"{"alg":"HS256","jku":"https://attacker.invalid/jwks","x5u":"https://attacker.invalid/cert","jwk":{"kty":"oct","k":"AAAA"},"x5c":["AAAA"]}"#;
    let token = hs256(header, b"{}");
    let jws = CompactJws::parse(&token).unwrap();
    assert!(jws.header.members.contains_key("jku"));
    jws.verify(&single_key(), None).unwrap();
    let other = Keys::Single(VerifyingKey::from_hmac_secret(&[7; 32]).unwrap());
    assert_eq!(jws.verify(&other, None).unwrap_err().code(), JwsSignatureVerificationFailed);
}

// ---------------------------------------------------------------- decode_protected_header

#[test]
fn decode_protected_header_checks_only_the_header() {
    let token = hs256(r#"{"alg":"HS256","kid":"k"}"#, b"not json");
    assert_eq!(decode_protected_header(&token).unwrap(), br#"{"alg":"HS256","kid":"k"}"#);
    let unsigned_garbage = format!("{}.!!!.???", b64(br#"{"alg":"whatever"}"#));
    assert_eq!(decode_protected_header(&unsigned_garbage).unwrap(), br#"{"alg":"whatever"}"#);
    for bad in [String::new(), "!!!".into(), format!("{}.x.y", b64(b"[]")), format!("{}.x.y", b64(br#"{"a":1,"a":2}"#))]
    {
        assert_eq!(decode_protected_header(&bad).unwrap_err().code(), JwsInvalid, "{bad:?}");
    }
    assert_eq!(decode_protected_header(&"a".repeat(MAX_TOKEN_LEN + 1)).unwrap_err().code(), JwsInvalid);
}
