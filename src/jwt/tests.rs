//! Claim validation, rule by rule, with jose's codes, claims and reasons.

use super::*;
use crate::algorithm::Algorithm;
use crate::error::ErrorCode::{JwtClaimValidationFailed, JwtExpired, JwtInvalid, JwtNotYetValid};
use alloc::format;
use alloc::string::ToString;
use serde_json::json;

const NOW: f64 = 1_700_000_000.0;

fn header(typ: Option<&str>) -> Header {
    Header { alg: Algorithm::HS256, kid: None, typ: typ.map(ToString::to_string), b64: true, members: Map::new() }
}

fn claims(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("claims must be an object, not {other}"),
    }
}

fn check(claims_json: Value, rules: &ClaimRules) -> Result<()> {
    validate(&header(None), &claims(claims_json), rules, NOW).map(drop)
}

/// Asserts an error with this code, claim and reason.
fn assert_claim_error(result: Result<()>, code: ErrorCode, claim: &str, reason: ClaimFailure) {
    let error = result.expect_err("expected a claim error");
    assert_eq!((error.code(), error.claim_name(), error.claim_reason()), (code, Some(claim), Some(reason)), "{error}");
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(ToString::to_string).collect()
}

fn with_tolerance(seconds: f64) -> ClaimRules {
    ClaimRules { clock_tolerance: seconds, ..ClaimRules::default() }
}

fn with_max_age(seconds: f64, tolerance: f64) -> ClaimRules {
    ClaimRules { max_token_age: Some(seconds), clock_tolerance: tolerance, ..ClaimRules::default() }
}

#[test]
fn no_rules_accept_any_claims() {
    check(json!({}), &ClaimRules::default()).unwrap();
    check(json!({"iss": 1, "aud": {}, "sub": null, "jti": [1]}), &ClaimRules::default()).unwrap();
}

// ---------------------------------------------------------------- exp

#[test]
fn exp_expires_when_it_is_at_or_before_now() {
    let rules = ClaimRules::default();
    check(json!({"exp": NOW + 1.0}), &rules).unwrap();
    check(json!({"exp": NOW + 0.5}), &rules).unwrap();
    assert_claim_error(check(json!({"exp": NOW}), &rules), JwtExpired, "exp", ClaimFailure::CheckFailed);
    assert_claim_error(check(json!({"exp": NOW - 1.0}), &rules), JwtExpired, "exp", ClaimFailure::CheckFailed);
    assert_claim_error(check(json!({"exp": 0}), &rules), JwtExpired, "exp", ClaimFailure::CheckFailed);
    assert_claim_error(check(json!({"exp": -1}), &rules), JwtExpired, "exp", ClaimFailure::CheckFailed);
}

#[test]
fn exp_boundary_moves_with_the_clock_tolerance() {
    // Expired when exp <= now - tolerance.
    let rules = with_tolerance(30.0);
    check(json!({"exp": NOW - 29.0}), &rules).unwrap();
    assert_claim_error(check(json!({"exp": NOW - 30.0}), &rules), JwtExpired, "exp", ClaimFailure::CheckFailed);
    check(json!({"exp": NOW - 29.5}), &rules).unwrap();
}

// ---------------------------------------------------------------- nbf

#[test]
fn nbf_in_the_future_is_not_yet_valid() {
    let rules = ClaimRules::default();
    check(json!({"nbf": NOW}), &rules).unwrap();
    check(json!({"nbf": NOW - 100.0}), &rules).unwrap();
    assert_claim_error(check(json!({"nbf": NOW + 1.0}), &rules), JwtNotYetValid, "nbf", ClaimFailure::CheckFailed);
    assert_claim_error(check(json!({"nbf": NOW + 0.5}), &rules), JwtNotYetValid, "nbf", ClaimFailure::CheckFailed);
}

#[test]
fn nbf_boundary_moves_with_the_clock_tolerance() {
    // Not yet valid when nbf > now + tolerance.
    let rules = with_tolerance(5.0);
    check(json!({"nbf": NOW + 5.0}), &rules).unwrap();
    assert_claim_error(check(json!({"nbf": NOW + 6.0}), &rules), JwtNotYetValid, "nbf", ClaimFailure::CheckFailed);
}

#[test]
fn nbf_is_checked_before_exp() {
    let result = check(json!({"nbf": NOW + 10.0, "exp": NOW - 10.0}), &ClaimRules::default());
    assert_claim_error(result, JwtNotYetValid, "nbf", ClaimFailure::CheckFailed);
}

// ---------------------------------------------------------------- iat and maxTokenAge

#[test]
fn iat_alone_is_not_checked_against_the_clock() {
    // As in jose: without maxTokenAge, any numeric iat (even in the future) passes.
    check(json!({"iat": NOW + 3600.0}), &ClaimRules::default()).unwrap();
    check(json!({"iat": 0}), &ClaimRules::default()).unwrap();
}

#[test]
fn max_token_age_requires_iat() {
    let result = check(json!({"exp": NOW + 10.0}), &with_max_age(60.0, 0.0));
    assert_claim_error(result, JwtClaimValidationFailed, "iat", ClaimFailure::Missing);
}

#[test]
fn max_token_age_expires_old_tokens() {
    let rules = with_max_age(60.0, 0.0);
    check(json!({"iat": NOW - 60.0}), &rules).unwrap();
    check(json!({"iat": NOW}), &rules).unwrap();
    assert_claim_error(check(json!({"iat": NOW - 61.0}), &rules), JwtExpired, "iat", ClaimFailure::CheckFailed);

    let rules = with_max_age(60.0, 5.0);
    check(json!({"iat": NOW - 65.0}), &rules).unwrap();
    assert_claim_error(check(json!({"iat": NOW - 66.0}), &rules), JwtExpired, "iat", ClaimFailure::CheckFailed);
}

#[test]
fn max_token_age_of_zero_still_applies() {
    let rules = with_max_age(0.0, 0.0);
    check(json!({"iat": NOW}), &rules).unwrap();
    assert_claim_error(check(json!({"iat": NOW - 1.0}), &rules), JwtExpired, "iat", ClaimFailure::CheckFailed);
    assert_claim_error(check(json!({}), &rules), JwtClaimValidationFailed, "iat", ClaimFailure::Missing);
}

#[test]
fn max_token_age_refuses_iat_in_the_future() {
    let rules = with_max_age(60.0, 0.0);
    let result = check(json!({"iat": NOW + 1.0}), &rules);
    assert_claim_error(result, JwtClaimValidationFailed, "iat", ClaimFailure::CheckFailed);

    let rules = with_max_age(60.0, 5.0);
    check(json!({"iat": NOW + 5.0}), &rules).unwrap();
    let result = check(json!({"iat": NOW + 6.0}), &rules);
    assert_claim_error(result, JwtClaimValidationFailed, "iat", ClaimFailure::CheckFailed);
}

#[test]
fn max_token_age_runs_after_nbf_and_exp() {
    let rules = with_max_age(60.0, 0.0);
    let result = check(json!({"iat": NOW - 1000.0, "exp": NOW - 1.0}), &rules);
    assert_claim_error(result, JwtExpired, "exp", ClaimFailure::CheckFailed);
}

// ---------------------------------------------------------------- NumericDate types

#[test]
fn time_claims_that_are_not_numbers_are_invalid() {
    for claim in ["exp", "nbf", "iat"] {
        for value in [json!("0"), json!("1700000000"), json!(null), json!(true), json!([1]), json!({"$date": 1})] {
            let mut claims_json = json!({});
            claims_json[claim] = value.clone();
            let result = check(claims_json, &ClaimRules::default());
            assert_claim_error(result, JwtClaimValidationFailed, claim, ClaimFailure::Invalid);
        }
    }
}

#[test]
fn a_string_exp_cannot_disable_expiry_even_with_other_checks_passing() {
    let result = check(json!({"exp": "0", "nbf": NOW - 1.0}), &ClaimRules::default());
    assert_claim_error(result, JwtClaimValidationFailed, "exp", ClaimFailure::Invalid);
}

#[test]
fn an_invalid_iat_is_reported_before_nbf_and_exp() {
    let result = check(json!({"iat": "now", "nbf": NOW + 100.0, "exp": NOW - 100.0}), &ClaimRules::default());
    assert_claim_error(result, JwtClaimValidationFailed, "iat", ClaimFailure::Invalid);
    let result = check(json!({"nbf": "soon", "exp": NOW - 100.0}), &ClaimRules::default());
    assert_claim_error(result, JwtClaimValidationFailed, "nbf", ClaimFailure::Invalid);
    let result = check(json!({"nbf": NOW + 100.0, "exp": "never"}), &ClaimRules::default());
    assert_claim_error(result, JwtNotYetValid, "nbf", ClaimFailure::CheckFailed);
}

#[test]
fn integer_and_float_numeric_dates_both_work() {
    let rules = ClaimRules::default();
    check(json!({"exp": 1_700_000_001_u64}), &rules).unwrap();
    check(json!({"exp": 1_700_000_000.25_f64}), &rules).unwrap();
    check(json!({"exp": 1e10}), &rules).unwrap();
    assert_claim_error(check(json!({"exp": i64::MIN}), &rules), JwtExpired, "exp", ClaimFailure::CheckFailed);
}

// ---------------------------------------------------------------- iss

#[test]
fn issuer_must_be_present_and_one_of_the_accepted() {
    let one = ClaimRules { issuer: Some(strings(&["https://id.example"])), ..ClaimRules::default() };
    check(json!({"iss": "https://id.example"}), &one).unwrap();
    for iss in [
        json!("https://id.example/"),
        json!("HTTPS://ID.EXAMPLE"),
        json!(""),
        json!(1),
        json!(null),
        json!(["https://id.example"]),
    ] {
        assert_claim_error(
            check(json!({"iss": iss}), &one),
            JwtClaimValidationFailed,
            "iss",
            ClaimFailure::CheckFailed,
        );
    }
    assert_claim_error(check(json!({}), &one), JwtClaimValidationFailed, "iss", ClaimFailure::Missing);

    let list = ClaimRules { issuer: Some(strings(&["a", "b"])), ..ClaimRules::default() };
    check(json!({"iss": "a"}), &list).unwrap();
    check(json!({"iss": "b"}), &list).unwrap();
    assert_claim_error(check(json!({"iss": "c"}), &list), JwtClaimValidationFailed, "iss", ClaimFailure::CheckFailed);
}

// ---------------------------------------------------------------- aud

#[test]
fn audience_matches_a_string_or_any_member_of_an_array() {
    let rules = ClaimRules { audience: Some(strings(&["app"])), ..ClaimRules::default() };
    check(json!({"aud": "app"}), &rules).unwrap();
    check(json!({"aud": ["other", "app"]}), &rules).unwrap();
    check(json!({"aud": [1, null, "app"]}), &rules).unwrap();
    for aud in [json!("App"), json!("other"), json!([]), json!(["other"]), json!(1), json!(null), json!({"app": true})]
    {
        assert_claim_error(
            check(json!({"aud": aud}), &rules),
            JwtClaimValidationFailed,
            "aud",
            ClaimFailure::CheckFailed,
        );
    }
    assert_claim_error(check(json!({}), &rules), JwtClaimValidationFailed, "aud", ClaimFailure::Missing);

    let several = ClaimRules { audience: Some(strings(&["web", "app"])), ..ClaimRules::default() };
    check(json!({"aud": "app"}), &several).unwrap();
    check(json!({"aud": ["x", "web"]}), &several).unwrap();
    assert_claim_error(
        check(json!({"aud": ["x", "y"]}), &several),
        JwtClaimValidationFailed,
        "aud",
        ClaimFailure::CheckFailed,
    );
}

// ---------------------------------------------------------------- sub

#[test]
fn subject_must_match_exactly() {
    let rules = ClaimRules { subject: Some("user-1".into()), ..ClaimRules::default() };
    check(json!({"sub": "user-1"}), &rules).unwrap();
    for sub in [json!("user-2"), json!("USER-1"), json!(1), json!(null), json!(["user-1"])] {
        assert_claim_error(
            check(json!({"sub": sub}), &rules),
            JwtClaimValidationFailed,
            "sub",
            ClaimFailure::CheckFailed,
        );
    }
    assert_claim_error(check(json!({}), &rules), JwtClaimValidationFailed, "sub", ClaimFailure::Missing);
}

// ---------------------------------------------------------------- typ

fn check_typ(header_typ: Option<&str>, expected: &str) -> Result<()> {
    let rules = ClaimRules { typ: Some(expected.into()), ..ClaimRules::default() };
    validate(&header(header_typ), &Map::new(), &rules, NOW).map(drop)
}

#[test]
fn typ_is_compared_as_a_media_type() {
    for (header_typ, expected) in [
        ("JWT", "JWT"),
        ("jwt", "JWT"),
        ("JWT", "application/jwt"),
        ("application/JWT", "jwt"),
        ("APPLICATION/JWT", "JWT"),
        ("at+jwt", "application/at+JWT"),
        ("text/plain", "TEXT/PLAIN"),
    ] {
        check_typ(Some(header_typ), expected).unwrap_or_else(|e| panic!("{header_typ} vs {expected}: {e}"));
    }
    for (header_typ, expected) in [
        ("JWT", "at+jwt"),
        ("application/jwt", "text/jwt"),
        ("jwt", "text/jwt"),
        ("JWT ", "JWT"),
        ("", "JWT"),
        // "application/" is implied only when the value holds no "/" (RFC 7515 §4.1.9),
        // so "application/foo/bar" and "foo/bar" are different types.
        ("application/foo/bar", "foo/bar"),
        ("foo/bar", "application/foo/bar"),
    ] {
        let result = check_typ(Some(header_typ), expected);
        assert_claim_error(result, JwtClaimValidationFailed, "typ", ClaimFailure::CheckFailed);
    }
}

#[test]
fn a_required_typ_must_be_present() {
    assert_claim_error(check_typ(None, "JWT"), JwtClaimValidationFailed, "typ", ClaimFailure::CheckFailed);
}

#[test]
fn typ_is_checked_before_the_claims() {
    let rules = ClaimRules { typ: Some("JWT".into()), issuer: Some(strings(&["i"])), ..ClaimRules::default() };
    let result = validate(&header(Some("at+jwt")), &claims(json!({"exp": 0})), &rules, NOW).map(drop);
    assert_claim_error(result, JwtClaimValidationFailed, "typ", ClaimFailure::CheckFailed);
}

// ---------------------------------------------------------------- requiredClaims and order

#[test]
fn required_claims_must_be_present_whatever_their_value() {
    let rules = ClaimRules { required_claims: strings(&["jti", "email"]), ..ClaimRules::default() };
    check(json!({"jti": null, "email": ""}), &rules).unwrap();
    assert_claim_error(check(json!({"jti": "1"}), &rules), JwtClaimValidationFailed, "email", ClaimFailure::Missing);
    assert_claim_error(check(json!({"email": "1"}), &rules), JwtClaimValidationFailed, "jti", ClaimFailure::Missing);
}

#[test]
fn required_time_claims_are_still_type_checked() {
    let rules = ClaimRules { required_claims: strings(&["exp"]), ..ClaimRules::default() };
    assert_claim_error(check(json!({}), &rules), JwtClaimValidationFailed, "exp", ClaimFailure::Missing);
    assert_claim_error(check(json!({"exp": "x"}), &rules), JwtClaimValidationFailed, "exp", ClaimFailure::Invalid);
}

#[test]
fn missing_claims_are_reported_in_joses_order() {
    // jose checks presence in the order iss, sub, aud, iat, then requiredClaims
    // from last to first.
    let rules = ClaimRules {
        issuer: Some(strings(&["i"])),
        subject: Some("s".into()),
        audience: Some(strings(&["a"])),
        max_token_age: Some(60.0),
        required_claims: strings(&["first", "second"]),
        ..ClaimRules::default()
    };
    let steps = [
        (json!({}), "iss"),
        (json!({"iss": "x"}), "sub"),
        (json!({"iss": "x", "sub": "x"}), "aud"),
        (json!({"iss": "x", "sub": "x", "aud": "x"}), "iat"),
        (json!({"iss": "x", "sub": "x", "aud": "x", "iat": "x"}), "second"),
        (json!({"iss": "x", "sub": "x", "aud": "x", "iat": "x", "second": 1}), "first"),
    ];
    for (claims_json, missing) in steps {
        assert_claim_error(check(claims_json, &rules), JwtClaimValidationFailed, missing, ClaimFailure::Missing);
    }
    // All present: values are checked next, iss first.
    let all = json!({"iss": "x", "sub": "x", "aud": "x", "iat": "x", "first": 1, "second": 1});
    assert_claim_error(check(all, &rules), JwtClaimValidationFailed, "iss", ClaimFailure::CheckFailed);
    let rest = json!({"iss": "i", "sub": "x", "aud": "x", "iat": "x", "first": 1, "second": 1});
    assert_claim_error(check(rest, &rules), JwtClaimValidationFailed, "sub", ClaimFailure::CheckFailed);
    let rest = json!({"iss": "i", "sub": "s", "aud": "x", "iat": "x", "first": 1, "second": 1});
    assert_claim_error(check(rest, &rules), JwtClaimValidationFailed, "aud", ClaimFailure::CheckFailed);
    let rest = json!({"iss": "i", "sub": "s", "aud": "a", "iat": "x", "first": 1, "second": 1});
    assert_claim_error(check(rest, &rules), JwtClaimValidationFailed, "iat", ClaimFailure::Invalid);
    let ok = json!({"iss": "i", "sub": "s", "aud": "a", "iat": NOW, "first": 1, "second": 1});
    check(ok, &rules).unwrap();
}

#[test]
fn error_codes_and_reasons_have_joses_names() {
    assert_eq!(JwtExpired.as_str(), "ERR_JWT_EXPIRED");
    assert_eq!(JwtClaimValidationFailed.as_str(), "ERR_JWT_CLAIM_VALIDATION_FAILED");
    assert_eq!(JwtNotYetValid.as_str(), "ERR_JWT_NOT_YET_VALID");
    assert_eq!(ClaimFailure::Missing.as_str(), "missing");
    assert_eq!(ClaimFailure::Invalid.as_str(), "invalid");
    assert_eq!(ClaimFailure::CheckFailed.as_str(), "check_failed");
    let error = check(json!({"exp": 0}), &ClaimRules::default()).unwrap_err();
    assert_eq!(format!("{error}"), "ERR_JWT_EXPIRED: \"exp\" claim timestamp check failed");
}

// ---------------------------------------------------------------- claims set parsing and decode_jwt

#[test]
fn the_claims_set_must_be_one_strict_json_object() {
    parse_claims(br#"{"sub":"a"}"#).unwrap();
    for payload in [&b""[..], b"[]", b"null", b"\"sub\"", b"{", b"{\"a\":1,\"a\":2}", b"\xff", b"{} {}"] {
        assert_eq!(parse_claims(payload).unwrap_err().code(), JwtInvalid, "{payload:?}");
    }
}

fn jwt_parts(header: &str, payload: &[u8], signature: &str) -> String {
    format!("{}.{}.{signature}", base64url::encode(header.as_bytes()), base64url::encode(payload))
}

#[test]
fn decode_jwt_returns_the_claims_without_verifying() {
    let token = jwt_parts(r#"{"alg":"none"}"#, br#"{"sub":"a"}"#, "not-a-signature");
    assert_eq!(decode_jwt(&token).unwrap(), br#"{"sub":"a"}"#);
}

#[test]
fn decode_jwt_rejects_what_is_not_a_jwt() {
    let good = jwt_parts(r#"{"alg":"HS256"}"#, br#"{"sub":"a"}"#, "sig");
    let cases = [
        String::new(),
        "a.b".into(),
        format!("{good}.extra"),
        jwt_parts(r#"{"alg":"HS256"}"#, b"[1]", "sig"),
        jwt_parts(r#"{"alg":"HS256"}"#, b"not json", "sig"),
        jwt_parts(r#"{"alg":"HS256"}"#, br#"{"a":1,"a":1}"#, "sig"),
        format!("x.{}=.y", base64url::encode(b"{}")),
        "a".repeat(MAX_TOKEN_LEN + 1),
    ];
    for case in &cases {
        assert_eq!(decode_jwt(case).unwrap_err().code(), JwtInvalid, "{case:?}");
    }
    let deep = jwt_parts("{}", format!("{{\"a\":{}{}}}", "[".repeat(2000), "]".repeat(2000)).as_bytes(), "s");
    assert_eq!(decode_jwt(&deep).unwrap_err().code(), JwtInvalid);
}
