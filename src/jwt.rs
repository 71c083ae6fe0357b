//! JWT claim validation (RFC 7519 §4.1), run only after the signature has
//! been verified. The rules and their order follow jose, so errors carry the
//! same `code`, `claim` and `reason`.

use crate::base64url;
use crate::error::{ClaimFailure, Error, ErrorCode, Result};
use crate::jws::{Header, MAX_TOKEN_LEN};
use crate::strict_json;
use alloc::string::String;
use alloc::vec::Vec;
use serde_json::{Map, Value};

/// What the claims of a verified token must satisfy.
#[derive(Clone, Debug, Default)]
pub struct ClaimRules {
    /// Accepted `iss` values; `iss` is required when set.
    pub issuer: Option<Vec<String>>,
    /// Accepted audiences; the token's `aud` must name at least one.
    pub audience: Option<Vec<String>>,
    /// The exact `sub` required; `sub` must be present when set.
    pub subject: Option<String>,
    /// The required `typ` header, compared as media types (case-insensitive,
    /// `application/` optional).
    pub typ: Option<String>,
    /// Seconds of clock skew allowed on `exp`, `nbf` and `iat`.
    pub clock_tolerance: f64,
    /// The oldest `iat` accepted, in seconds; `iat` is required when set.
    pub max_token_age: Option<f64>,
    /// Claims that must be present.
    pub required_claims: Vec<String>,
}

/// Checks `claims` (and the header's `typ`) against `rules` at `now`
/// (seconds since the epoch), and returns the time claims it checked.
pub fn validate(header: &Header, claims: &Map<String, Value>, rules: &ClaimRules, now: f64) -> Result<TimeClaims> {
    if let Some(expected) = &rules.typ {
        let matches = header.typ.as_deref().is_some_and(|typ| normalize_typ(typ) == normalize_typ(expected));
        if !matches {
            return Err(check_failed("typ", "unexpected \"typ\" JWT header value"));
        }
    }

    let implied = [
        (rules.issuer.is_some(), "iss"),
        (rules.subject.is_some(), "sub"),
        (rules.audience.is_some(), "aud"),
        (rules.max_token_age.is_some(), "iat"),
    ];
    // jose checks requiredClaims last to first (it reverses the list).
    let required = rules.required_claims.iter().rev().map(String::as_str);
    for name in implied.iter().filter(|(on, _)| *on).map(|(_, name)| *name).chain(required) {
        if !claims.contains_key(name) {
            return Err(Error::claim(
                ErrorCode::JwtClaimValidationFailed,
                String::from(name),
                ClaimFailure::Missing,
                alloc::format!("missing required \"{name}\" claim"),
            ));
        }
    }

    if let Some(issuers) = &rules.issuer {
        let iss = claims.get("iss").and_then(Value::as_str);
        if !iss.is_some_and(|iss| issuers.iter().any(|i| i == iss)) {
            return Err(check_failed("iss", "unexpected \"iss\" claim value"));
        }
    }
    if let Some(subject) = &rules.subject {
        if claims.get("sub").and_then(Value::as_str) != Some(subject.as_str()) {
            return Err(check_failed("sub", "unexpected \"sub\" claim value"));
        }
    }
    if let Some(audiences) = &rules.audience {
        let accepted = |aud: &str| audiences.iter().any(|a| a == aud);
        let ok = match claims.get("aud") {
            Some(Value::String(aud)) => accepted(aud),
            Some(Value::Array(auds)) => auds.iter().filter_map(Value::as_str).any(accepted),
            _ => false,
        };
        if !ok {
            return Err(check_failed("aud", "unexpected \"aud\" claim value"));
        }
    }

    let times = TimeClaims::read(claims, rules, now)?;
    times.check(rules, now)?;
    Ok(times)
}

/// A verified token's NumericDate claims, kept so that a cached
/// verification can be checked against the time again without the claims.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TimeClaims {
    iat: Option<f64>,
    nbf: Option<f64>,
    exp: Option<f64>,
}

impl TimeClaims {
    /// Reads the time claims in jose's order, failing on the first one that
    /// is malformed or (for `nbf` and `exp`) already decides the token, so
    /// errors are the ones jose reports.
    fn read(claims: &Map<String, Value>, rules: &ClaimRules, now: f64) -> Result<Self> {
        let iat = time_claim(claims, "iat")?;
        let nbf = time_claim(claims, "nbf")?;
        check_nbf(nbf, rules, now)?;
        let exp = time_claim(claims, "exp")?;
        Ok(Self { iat, nbf, exp })
    }

    /// Checks the claims at `now` (seconds since the epoch).
    pub fn check(&self, rules: &ClaimRules, now: f64) -> Result<()> {
        check_nbf(self.nbf, rules, now)?;
        let tolerance = rules.clock_tolerance;
        if let Some(exp) = self.exp {
            if exp <= now - tolerance {
                return Err(Error::claim(
                    ErrorCode::JwtExpired,
                    "exp",
                    ClaimFailure::CheckFailed,
                    "\"exp\" claim timestamp check failed",
                ));
            }
        }
        if let (Some(max_age), Some(iat)) = (rules.max_token_age, self.iat) {
            let age = now - iat;
            if age - tolerance > max_age {
                return Err(Error::claim(
                    ErrorCode::JwtExpired,
                    "iat",
                    ClaimFailure::CheckFailed,
                    "\"iat\" claim timestamp check failed (too far in the past)",
                ));
            }
            if age < -tolerance {
                return Err(check_failed("iat", "\"iat\" claim timestamp check failed (it should be in the past)"));
            }
        }
        Ok(())
    }
}

fn check_nbf(nbf: Option<f64>, rules: &ClaimRules, now: f64) -> Result<()> {
    match nbf {
        Some(nbf) if nbf > now + rules.clock_tolerance => Err(Error::claim(
            ErrorCode::JwtNotYetValid,
            "nbf",
            ClaimFailure::CheckFailed,
            "\"nbf\" claim timestamp check failed",
        )),
        _ => Ok(()),
    }
}

/// A NumericDate claim: absent, or a JSON number. Any other type is
/// invalid, never skipped, so `"exp": "0"` cannot disable expiry.
fn time_claim(claims: &Map<String, Value>, name: &'static str) -> Result<Option<f64>> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64()),
        Some(_) => Err(Error::claim(
            ErrorCode::JwtClaimValidationFailed,
            name,
            ClaimFailure::Invalid,
            alloc::format!("\"{name}\" claim must be a number"),
        )),
    }
}

fn check_failed(claim: &'static str, message: &'static str) -> Error {
    Error::claim(ErrorCode::JwtClaimValidationFailed, claim, ClaimFailure::CheckFailed, message)
}

/// RFC 7515 §4.1.9: a value without "/" is read as if "application/" were
/// prepended. A value that already has a "/" is taken as it is.
fn normalize_typ(typ: &str) -> String {
    let lower = typ.to_ascii_lowercase();
    if lower.contains('/') {
        lower
    } else {
        alloc::format!("application/{lower}")
    }
}

/// Parses the payload of a verified JWS as a JWT claims set.
pub(crate) fn parse_claims(payload: &[u8]) -> Result<Map<String, Value>> {
    strict_json::parse_object(payload).map_err(|_| {
        Error::new(ErrorCode::JwtInvalid, "JWT claims set must be a JSON object (with no repeated member)")
    })
}

/// Decodes a JWT's claims without verifying anything, returning their JSON
/// text (a strict JSON object).
pub fn decode_jwt(token: &str) -> Result<Vec<u8>> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(Error::new(ErrorCode::JwtInvalid, "token exceeds 16 KiB"));
    }
    let parts: Vec<&str> = token.splitn(4, '.').collect();
    if parts.len() != 3 {
        return Err(Error::new(ErrorCode::JwtInvalid, "a JWT has exactly three parts"));
    }
    let payload = base64url::decode(parts[1].as_bytes())
        .ok_or(Error::new(ErrorCode::JwtInvalid, "payload is not canonical base64url"))?;
    parse_claims(&payload)?;
    Ok(payload)
}

#[cfg(test)]
mod tests;
