//! Options parsing and the order of checks in `Validation::verify`.

use super::*;
use crate::base64url;
use crate::error::ClaimFailure;
use crate::error::ErrorCode::{
    InvalidArgument, JoseAlgNotAllowed, JwsInvalid, JwsSignatureVerificationFailed, JwtClaimValidationFailed,
    JwtExpired, JwtInvalid,
};
use crate::jwk::VerifyingKey;
use alloc::format;
use alloc::string::ToString;
use ring::hmac;

const SECRET: &[u8; 64] = b"a 64-byte secret, long enough for HS256, HS384 and HS512 as well";
const NOW_MS: f64 = 1_700_000_000_000.0;
const NOW: f64 = 1_700_000_000.0;

fn options(json: &str) -> Result<Validation> {
    Validation::from_json(json.as_bytes())
}

fn option_code(json: &str) -> ErrorCode {
    options(json).expect_err("expected the options to be refused").code()
}

fn token(alg: &str, header_extra: &str, payload: &[u8]) -> String {
    let hash = match alg {
        "HS384" => hmac::HMAC_SHA384,
        "HS512" => hmac::HMAC_SHA512,
        _ => hmac::HMAC_SHA256,
    };
    let header = format!(r#"{{"alg":"{alg}"{header_extra}}}"#);
    let input = format!("{}.{}", base64url::encode(header.as_bytes()), base64url::encode(payload));
    let tag = hmac::sign(&hmac::Key::new(hash, SECRET), input.as_bytes());
    format!("{input}.{}", base64url::encode(tag.as_ref()))
}

fn verifier(options_json: &str) -> Verifier {
    let keys = Keys::Single(VerifyingKey::from_hmac_secret(SECRET).unwrap());
    Verifier::new(keys, options(options_json).unwrap())
}

fn verify_code(verifier: &Verifier, token: &str) -> ErrorCode {
    verifier.verify(token, NOW_MS).expect_err("expected verification to fail").code()
}

// ---------------------------------------------------------------- parsing

#[test]
fn empty_options_are_fine() {
    let validation = options("{}").unwrap();
    assert!(validation.algorithms.is_none());
    assert_eq!(validation.claims.clock_tolerance, 0.0);
    assert!(validation.claims.max_token_age.is_none());
    assert!(validation.current_date_ms.is_none());
}

#[test]
fn unknown_options_are_refused() {
    for json in
        [r#"{"audiance":"app"}"#, r#"{"Issuer":"i"}"#, r#"{"clock_tolerance":5}"#, r#"{"algorithms":null,"x":1}"#]
    {
        assert_eq!(option_code(json), InvalidArgument, "{json}");
    }
}

#[test]
fn options_must_be_a_json_object_of_the_right_types() {
    for json in [
        "",
        "[]",
        "null",
        "{",
        r#"{"issuer":5}"#,
        r#"{"issuer":[5]}"#,
        r#"{"audience":{"a":1}}"#,
        r#"{"subject":["s"]}"#,
        r#"{"algorithms":"RS256"}"#,
        r#"{"requiredClaims":"exp"}"#,
        r#"{"typ":1}"#,
        r#"{"currentDate":"2024-01-01"}"#,
        r#"{"clockTolerance":true}"#,
        r#"{"maxTokenAge":[60]}"#,
    ] {
        assert_eq!(option_code(json), InvalidArgument, "{json}");
    }
}

#[test]
fn option_values_are_converted() {
    let validation = options(
        r#"{"algorithms":["RS256","Ed25519"],"issuer":"i","audience":["a","b"],"subject":"s",
            "clockTolerance":30,"maxTokenAge":"2h","requiredClaims":["jti"],"typ":"JWT","currentDate":1e12}"#,
    )
    .unwrap();
    let algorithms = validation.algorithms.unwrap();
    assert!(algorithms.contains(Algorithm::RS256) && algorithms.contains(Algorithm::EdDSA));
    assert_eq!(algorithms.iter().count(), 2);
    let claims = &validation.claims;
    assert_eq!(claims.issuer.as_deref(), Some(&["i".to_string()][..]));
    assert_eq!(claims.audience.as_deref(), Some(&["a".to_string(), "b".to_string()][..]));
    assert_eq!(claims.subject.as_deref(), Some("s"));
    assert_eq!(claims.clock_tolerance, 30.0);
    assert_eq!(claims.max_token_age, Some(7200.0));
    assert_eq!(claims.required_claims, ["jti"]);
    assert_eq!(claims.typ.as_deref(), Some("JWT"));
    assert_eq!(validation.current_date_ms, Some(1e12));
}

#[test]
fn durations_accept_seconds_or_jose_style_text() {
    let cases = [
        ("0", 0.0),
        ("30", 30.0),
        ("1.5", 1.5),
        (r#""30s""#, 30.0),
        (r#""30""#, 30.0),
        (r#""90 seconds""#, 90.0),
        (r#""1 sec""#, 1.0),
        (r#""5m""#, 300.0),
        (r#""5 minutes""#, 300.0),
        (r#""2h""#, 7200.0),
        (r#""2 hours""#, 7200.0),
        (r#""1.5h""#, 5400.0),
        (r#""1d""#, 86_400.0),
        (r#""2 days""#, 172_800.0),
        (r#""1w""#, 604_800.0),
        (r#"" 10s ""#, 10.0),
    ];
    for (value, seconds) in cases {
        let validation = options(&format!(r#"{{"clockTolerance":{value},"maxTokenAge":{value}}}"#))
            .unwrap_or_else(|e| panic!("{value}: {e}"));
        assert_eq!(validation.claims.clock_tolerance, seconds, "{value}");
        assert_eq!(validation.claims.max_token_age, Some(seconds), "{value}");
    }
}

#[test]
fn bad_durations_are_refused() {
    for value in
        ["-1", r#""-5s""#, r#""""#, r#""s""#, r#""abc""#, r#""10 parsecs""#, r#""1.2.3s""#, r#""5 s s""#, r#""1e3s""#]
    {
        assert_eq!(option_code(&format!(r#"{{"clockTolerance":{value}}}"#)), InvalidArgument, "{value}");
        assert_eq!(option_code(&format!(r#"{{"maxTokenAge":{value}}}"#)), InvalidArgument, "{value}");
    }
}

#[test]
fn algorithms_must_be_a_non_empty_list_of_supported_names() {
    assert_eq!(option_code(r#"{"algorithms":[]}"#), InvalidArgument);
    for name in ["none", "rs256", "ES512", "HS", ""] {
        assert_eq!(option_code(&format!(r#"{{"algorithms":["{name}"]}}"#)), InvalidArgument, "{name}");
        assert_eq!(option_code(&format!(r#"{{"algorithms":["HS256","{name}"]}}"#)), InvalidArgument, "{name}");
    }
}

#[test]
fn issuer_and_audience_lists_must_not_be_empty() {
    assert_eq!(option_code(r#"{"issuer":[]}"#), InvalidArgument);
    assert_eq!(option_code(r#"{"audience":[]}"#), InvalidArgument);
}

#[test]
fn current_date_is_in_milliseconds_and_floored_to_seconds() {
    let exp = format!(r#"{{"exp":{NOW}}}"#);
    let t = token("HS256", "", exp.as_bytes());
    // The `currentDate` option wins over the time passed to `verify`.
    let just_before = verifier(&format!(r#"{{"currentDate":{}}}"#, NOW_MS - 1.0));
    just_before.verify(&t, 0.0).unwrap();
    let at = verifier(&format!(r#"{{"currentDate":{NOW_MS}}}"#));
    assert_eq!(at.verify(&t, 0.0).unwrap_err().code(), JwtExpired);
    // Without it, the time given to `verify` is used: 999 ms into the second is still that second.
    let plain = verifier("{}");
    plain.verify(&t, NOW_MS - 1.0).unwrap();
    assert_eq!(verify_code(&plain, &t), JwtExpired);
    assert_eq!(plain.verify(&t, NOW_MS + 999.0).unwrap_err().code(), JwtExpired);
}

#[test]
fn floor_matches_f64_floor() {
    for x in [0.0, 0.5, 1.0, 1.999, -0.5, -1.0, -1.5, 1.7e9, 1_700_000_000.999] {
        assert_eq!(libm_floor(x), x.floor(), "{x}");
    }
}

// ---------------------------------------------------------------- verify

#[test]
fn a_valid_token_yields_its_header_and_claims() {
    let payload = br#"{"iss":"https://id.example","aud":"app","sub":"u1","exp":1700000600,"n":[1,2]}"#;
    let t = token("HS256", r#","typ":"JWT","kid":"k""#, payload);
    let v = verifier(
        r#"{"issuer":"https://id.example","audience":"app","subject":"u1","algorithms":["HS256"],"typ":"JWT"}"#,
    );
    let verified = v.verify(&t, NOW_MS).unwrap();
    assert_eq!(verified.header.kid.as_deref(), Some("k"));
    assert_eq!(verified.claims["sub"], "u1");
    let json: Value = serde_json::from_str(&verified.to_json()).unwrap();
    assert_eq!(json["header"]["alg"], "HS256");
    assert_eq!(json["claims"]["n"][1], 2);
    assert_eq!(
        verified.to_json(),
        format!(
            r#"{{"header":{{"alg":"HS256","typ":"JWT","kid":"k"}},"claims":{}}}"#,
            core::str::from_utf8(payload).unwrap()
        )
    );
}

#[test]
fn every_hs_algorithm_verifies_with_a_long_secret() {
    let v = verifier("{}");
    for alg in ["HS256", "HS384", "HS512"] {
        v.verify(&token(alg, "", b"{}"), NOW_MS).unwrap_or_else(|e| panic!("{alg}: {e}"));
    }
}

#[test]
fn the_algorithms_option_restricts_what_the_key_allows() {
    let v = verifier(r#"{"algorithms":["HS512"]}"#);
    assert_eq!(verify_code(&v, &token("HS256", "", b"{}")), JoseAlgNotAllowed);
    v.verify(&token("HS512", "", b"{}"), NOW_MS).unwrap();
}

#[test]
fn the_signature_is_checked_before_the_claims() {
    let mut t = token("HS256", "", br#"{"exp":0}"#);
    assert_eq!(verify_code(&verifier("{}"), &t), JwtExpired);
    // Break the signature: now the signature is what fails, not the expiry.
    t.replace_range(t.len() - 2.., "AA");
    assert_eq!(verify_code(&verifier("{}"), &t), JwsSignatureVerificationFailed);
}

#[test]
fn the_payload_is_parsed_only_after_the_signature() {
    let v = verifier("{}");
    let not_json = token("HS256", "", b"not json");
    assert_eq!(verify_code(&v, &not_json), JwtInvalid);
    let array = token("HS256", "", b"[1,2]");
    assert_eq!(verify_code(&v, &array), JwtInvalid);
    let other_key =
        Verifier::new(Keys::Single(VerifyingKey::from_hmac_secret(&[1; 32]).unwrap()), options("{}").unwrap());
    assert_eq!(verify_code(&other_key, &not_json), JwsSignatureVerificationFailed);
}

#[test]
fn unencoded_payloads_are_not_jwts() {
    let t = token("HS256", r#","crit":["b64"],"b64":false"#, b"{}");
    assert_eq!(verify_code(&verifier("{}"), &t), JwtInvalid);
}

#[test]
fn structure_errors_come_first() {
    assert_eq!(verify_code(&verifier("{}"), "not a token"), JwsInvalid);
    assert_eq!(verify_code(&verifier("{}"), &"a".repeat(20_000)), JwsInvalid);
}

#[test]
fn claim_rules_apply_with_their_claim_and_reason() {
    let v = verifier(r#"{"issuer":["a","b"],"clockTolerance":"1m"}"#);
    let t = token("HS256", "", format!(r#"{{"iss":"b","exp":{}}}"#, NOW - 59.0).as_bytes());
    v.verify(&t, NOW_MS).unwrap();
    let t = token("HS256", "", format!(r#"{{"iss":"b","exp":{}}}"#, NOW - 60.0).as_bytes());
    assert_eq!(verify_code(&v, &t), JwtExpired);
    let t = token("HS256", "", br#"{"iss":"c"}"#);
    let error = v.verify(&t, NOW_MS).unwrap_err();
    assert_eq!(error.code(), JwtClaimValidationFailed);
    assert_eq!((error.claim_name(), error.claim_reason()), (Some("iss"), Some(ClaimFailure::CheckFailed)));
}

#[test]
fn repeated_options_are_refused() {
    assert_eq!(option_code(r#"{"issuer":"a","issuer":"b"}"#), InvalidArgument);
    assert_eq!(option_code(r#"{"audience":"a","clockTolerance":1,"audience":"b"}"#), InvalidArgument);
}

#[test]
fn null_options_are_refused_not_ignored() {
    // `{"issuer": null}` must not quietly switch the issuer check off (jose fails closed too).
    for name in [
        "algorithms",
        "issuer",
        "audience",
        "subject",
        "clockTolerance",
        "maxTokenAge",
        "requiredClaims",
        "typ",
        "currentDate",
    ] {
        assert_eq!(option_code(&format!(r#"{{"{name}":null}}"#)), InvalidArgument, "{name}");
    }
}

// ---------------------------------------------------------------- the cache option

#[test]
fn the_cache_option_takes_true_false_or_max_and_ttl() {
    use crate::token_cache::CacheSettings;
    let settings = |json: &str| options(json).unwrap().cache_settings();
    assert_eq!(settings("{}"), None);
    assert_eq!(settings(r#"{"cache":false}"#), None);
    assert_eq!(settings(r#"{"cache":true}"#), Some(CacheSettings { max_entries: 1000, ttl_ms: 600_000.0 }));
    assert_eq!(settings(r#"{"cache":{}}"#), Some(CacheSettings::default()));
    assert_eq!(
        settings(r#"{"cache":{"max":5,"ttl":"2m"}}"#),
        Some(CacheSettings { max_entries: 5, ttl_ms: 120_000.0 })
    );
    assert_eq!(settings(r#"{"cache":{"ttl":1.5}}"#), Some(CacheSettings { max_entries: 1000, ttl_ms: 1500.0 }));
}

#[test]
fn a_malformed_cache_option_is_refused() {
    for json in [
        r#"{"cache":null}"#,
        r#"{"cache":"yes"}"#,
        r#"{"cache":1}"#,
        r#"{"cache":{"max":0}}"#,
        r#"{"cache":{"max":1.5}}"#,
        r#"{"cache":{"max":-1}}"#,
        r#"{"cache":{"max":1e9}}"#,
        r#"{"cache":{"max":"10"}}"#,
        r#"{"cache":{"ttl":0}}"#,
        r#"{"cache":{"ttl":-5}}"#,
        r#"{"cache":{"ttl":"soon"}}"#,
        r#"{"cache":{"maxAge":5}}"#,
    ] {
        assert_eq!(option_code(json), InvalidArgument, "{json}");
    }
}
