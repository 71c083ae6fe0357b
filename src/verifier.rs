//! Verification as callers use it: a key source, options, a token and the
//! current time in; the verified header and claims, or one error, out.
//!
//! Order matters and is fixed: size limit, structure, header rules,
//! algorithm allow-list, key selection, signature, then claims. Nothing in
//! the payload is looked at before the signature has verified.

use crate::algorithm::{Algorithm, AlgorithmSet};
use crate::error::{Error, ErrorCode, Result};
use crate::jws::{CompactJws, Header, Keys};
use crate::jwt::{self, ClaimRules, TimeClaims};
use crate::token_cache::CacheSettings;
use alloc::string::String;
use alloc::vec::Vec;
use serde_json::{Map, Value};

/// Verification options as the JS API names them (`camelCase`), read from
/// JSON by [`Validation::from_json`]. Unknown options are an error, so a
/// misspelt `audience` cannot silently switch a check off, and so is `null`,
/// so `{"issuer": null}` cannot either.
#[derive(Debug, Default)]
pub struct VerifyOptions {
    /// Accepted `alg` values; default: every algorithm the key allows.
    pub algorithms: Option<Vec<String>>,
    /// Accepted issuer, or list of issuers.
    pub issuer: Option<OneOrMany>,
    /// Accepted audience, or list of audiences.
    pub audience: Option<OneOrMany>,
    /// Required subject.
    pub subject: Option<String>,
    /// Allowed clock skew: seconds, or a duration such as `"30s"`.
    pub clock_tolerance: Option<Duration>,
    /// Oldest acceptable `iat`: seconds, or a duration such as `"2h"`.
    pub max_token_age: Option<Duration>,
    /// Claims that must be present.
    pub required_claims: Option<Vec<String>>,
    /// Required `typ` header.
    pub typ: Option<String>,
    /// The time to verify at, in milliseconds since the epoch, instead of now.
    pub current_date: Option<f64>,
    /// Keep verified tokens (`true`, or `{ "max": entries, "ttl": seconds
    /// or a duration }`); `false` or absent: verify every time.
    pub cache: Option<CacheOption>,
}

/// The `cache` option as read, before [`Validation::from_options`] checks
/// its limits.
#[derive(Debug)]
pub enum CacheOption {
    /// `true` or `false`.
    Enabled(bool),
    /// `{ "max"?, "ttl"? }`: the defaults for what is left out.
    Settings {
        /// `max`: the most entries kept, a whole number from 1 to
        /// [`MAX_CACHE_ENTRIES`]; default 1000.
        max: Option<f64>,
        /// `ttl`: the longest an entry is used after it was stored, more than
        /// 0 seconds; default 10 minutes.
        ttl: Option<Duration>,
    },
}

/// A string or a list of strings.
#[derive(Debug)]
pub enum OneOrMany {
    /// One value.
    One(String),
    /// Several values.
    Many(Vec<String>),
}

impl VerifyOptions {
    /// Reads the options from a JSON object's members. Each option has one
    /// JSON type (or two, as documented); anything else, `null` included, is
    /// `ERR_INVALID_ARGUMENT` naming the option.
    fn from_members(members: Map<String, Value>) -> Result<Self> {
        let mut options = Self::default();
        for (name, value) in members {
            let invalid = |expected: &str| {
                Error::with_message(ErrorCode::InvalidArgument, alloc::format!("\"{name}\" must be {expected}"))
            };
            let list = "a list of strings";
            let one_or_many = "a string or a list of strings";
            let duration = "a number of seconds or a duration like \"30s\"";
            match name.as_str() {
                "algorithms" => options.algorithms = Some(strings(value).ok_or_else(|| invalid(list))?),
                "issuer" => options.issuer = Some(OneOrMany::read(value).ok_or_else(|| invalid(one_or_many))?),
                "audience" => options.audience = Some(OneOrMany::read(value).ok_or_else(|| invalid(one_or_many))?),
                "subject" => options.subject = Some(string(value).ok_or_else(|| invalid("a string"))?),
                "clockTolerance" => {
                    options.clock_tolerance = Some(Duration::read(value).ok_or_else(|| invalid(duration))?)
                }
                "maxTokenAge" => options.max_token_age = Some(Duration::read(value).ok_or_else(|| invalid(duration))?),
                "requiredClaims" => options.required_claims = Some(strings(value).ok_or_else(|| invalid(list))?),
                "typ" => options.typ = Some(string(value).ok_or_else(|| invalid("a string"))?),
                "currentDate" => options.current_date = Some(value.as_f64().ok_or_else(|| invalid("a date"))?),
                "cache" => options.cache = Some(CacheOption::read(value).ok_or_else(|| invalid(CACHE_SHAPE))?),
                _ => {
                    return Err(Error::with_message(
                        ErrorCode::InvalidArgument,
                        alloc::format!("unknown verify option \"{name}\""),
                    ))
                }
            }
        }
        Ok(options)
    }
}

const CACHE_SHAPE: &str = "true, false or { max, ttl } (entries, seconds)";

impl CacheOption {
    fn read(value: Value) -> Option<Self> {
        let members = match value {
            Value::Bool(on) => return Some(Self::Enabled(on)),
            Value::Object(members) => members,
            _ => return None,
        };
        let (mut max, mut ttl) = (None, None);
        for (name, value) in members {
            match name.as_str() {
                "max" => max = Some(value.as_f64()?),
                "ttl" => ttl = Some(Duration::read(value)?),
                _ => return None,
            }
        }
        Some(Self::Settings { max, ttl })
    }

    fn settings(self) -> Result<Option<CacheSettings>> {
        let defaults = CacheSettings::default();
        let (max, ttl) = match self {
            Self::Enabled(false) => return Ok(None),
            Self::Enabled(true) => return Ok(Some(defaults)),
            Self::Settings { max, ttl } => (max, ttl),
        };
        let max_entries = match max {
            None => defaults.max_entries,
            Some(max) if max >= 1.0 && max <= MAX_CACHE_ENTRIES as f64 && max as usize as f64 == max => max as usize,
            Some(_) => {
                return Err(Error::with_message(
                    ErrorCode::InvalidArgument,
                    alloc::format!("\"cache.max\" must be a whole number of entries from 1 to {MAX_CACHE_ENTRIES}"),
                ))
            }
        };
        let ttl_ms = match ttl {
            None => defaults.ttl_ms,
            Some(ttl) => {
                let seconds = ttl.seconds("cache.ttl")?;
                if seconds == 0.0 {
                    return Err(Error::new(ErrorCode::InvalidArgument, "\"cache.ttl\" must be more than 0 seconds"));
                }
                seconds * 1000.0
            }
        };
        Ok(Some(CacheSettings { max_entries, ttl_ms }))
    }
}

/// The largest `cache.max`: bounds what one verifier may hold (an entry is
/// about as large as the token's header and claims).
pub const MAX_CACHE_ENTRIES: usize = 1_000_000;

fn string(value: Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text),
        _ => None,
    }
}

fn strings(value: Value) -> Option<Vec<String>> {
    match value {
        Value::Array(items) => items.into_iter().map(string).collect(),
        _ => None,
    }
}

impl OneOrMany {
    fn read(value: Value) -> Option<Self> {
        match value {
            Value::String(one) => Some(Self::One(one)),
            many => strings(many).map(Self::Many),
        }
    }

    fn into_vec(self) -> Vec<String> {
        match self {
            Self::One(one) => alloc::vec![one],
            Self::Many(many) => many,
        }
    }
}

/// A duration in seconds, given as a number or as jose-style text
/// (`"90s"`, `"5 minutes"`, `"2h"`, `"1d"`).
#[derive(Debug)]
pub enum Duration {
    /// Seconds.
    Seconds(f64),
    /// Text with a unit.
    Text(String),
}

impl Duration {
    fn read(value: Value) -> Option<Self> {
        match value {
            Value::Number(n) => n.as_f64().map(Self::Seconds),
            Value::String(text) => Some(Self::Text(text)),
            _ => None,
        }
    }

    fn seconds(&self, option: &'static str) -> Result<f64> {
        let seconds = match self {
            Self::Seconds(s) => Some(*s),
            Self::Text(text) => parse_duration(text),
        };
        seconds.filter(|s| s.is_finite() && *s >= 0.0).ok_or_else(|| {
            Error::with_message(
                ErrorCode::InvalidArgument,
                alloc::format!("\"{option}\" must be a non-negative number of seconds or a duration like \"30s\""),
            )
        })
    }
}

fn parse_duration(text: &str) -> Option<f64> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let value: f64 = text[..split].parse().ok()?;
    let unit = match text[split..].trim() {
        "" | "s" | "sec" | "secs" | "second" | "seconds" => 1.0,
        "m" | "min" | "mins" | "minute" | "minutes" => 60.0,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3600.0,
        "d" | "day" | "days" => 86_400.0,
        "w" | "week" | "weeks" => 604_800.0,
        _ => return None,
    };
    Some(value * unit)
}

/// Validated options, ready to apply to many tokens.
#[derive(Clone, Debug, Default)]
pub struct Validation {
    algorithms: Option<AlgorithmSet>,
    claims: ClaimRules,
    current_date_ms: Option<f64>,
    cache: Option<CacheSettings>,
}

impl Validation {
    /// Parses options from their JSON text (`{}` for none).
    pub fn from_json(json: &[u8]) -> Result<Self> {
        let options = crate::strict_json::parse_object(json).map_err(|_| {
            Error::new(ErrorCode::InvalidArgument, "verify options must be a JSON object (with no repeated member)")
        })?;
        Self::from_options(VerifyOptions::from_members(options)?)
    }

    /// Checks and converts options.
    pub fn from_options(options: VerifyOptions) -> Result<Self> {
        let invalid = |message| Error::new(ErrorCode::InvalidArgument, message);
        let algorithms = match options.algorithms {
            None => None,
            Some(names) if names.is_empty() => return Err(invalid("\"algorithms\" must not be empty")),
            Some(names) => Some(
                names
                    .iter()
                    .map(|name| {
                        Algorithm::from_name(name).ok_or_else(|| {
                            Error::with_message(
                                ErrorCode::InvalidArgument,
                                alloc::format!("\"algorithms\" names an unsupported algorithm: {name:?}"),
                            )
                        })
                    })
                    .collect::<Result<AlgorithmSet>>()?,
            ),
        };
        let issuer = options.issuer.map(OneOrMany::into_vec);
        let audience = options.audience.map(OneOrMany::into_vec);
        if issuer.as_ref().is_some_and(Vec::is_empty) || audience.as_ref().is_some_and(Vec::is_empty) {
            return Err(invalid("\"issuer\" and \"audience\" lists must not be empty"));
        }
        let claims = ClaimRules {
            issuer,
            audience,
            subject: options.subject,
            typ: options.typ,
            clock_tolerance: options.clock_tolerance.map_or(Ok(0.0), |d| d.seconds("clockTolerance"))?,
            max_token_age: options.max_token_age.map(|d| d.seconds("maxTokenAge")).transpose()?,
            required_claims: options.required_claims.unwrap_or_default(),
        };
        if options.current_date.is_some_and(|ms| !ms.is_finite()) {
            return Err(invalid("\"currentDate\" must be a valid date"));
        }
        let cache = options.cache.map_or(Ok(None), CacheOption::settings)?;
        Ok(Self { algorithms, claims, current_date_ms: options.current_date, cache })
    }

    /// The verified-token cache asked for by the `cache` option, if any.
    pub fn cache_settings(&self) -> Option<CacheSettings> {
        self.cache
    }

    /// What the claims must satisfy.
    pub fn claim_rules(&self) -> &ClaimRules {
        &self.claims
    }

    /// The time, in seconds since the epoch, at which tokens are checked when
    /// the clock reads `now_ms`: the `currentDate` option takes precedence.
    pub fn verification_time(&self, now_ms: f64) -> f64 {
        libm_floor(self.current_date_ms.unwrap_or(now_ms) / 1000.0)
    }

    /// Verifies `token` with `keys` at `now_ms` (milliseconds since the
    /// epoch; the `currentDate` option takes precedence).
    pub fn verify(&self, keys: &Keys, token: &str, now_ms: f64) -> Result<Verified> {
        let jws = CompactJws::parse(token)?;
        if !jws.header.b64 {
            return Err(Error::new(ErrorCode::JwtInvalid, "JWTs must not use unencoded payloads (b64: false)"));
        }
        jws.verify(keys, self.algorithms)?;
        let claims = jwt::parse_claims(&jws.payload)?;
        let times = jwt::validate(&jws.header, &claims, &self.claims, self.verification_time(now_ms))?;
        Ok(Verified { header: jws.header, header_json: jws.header_json, claims, claims_json: jws.payload, times })
    }
}

/// `f64::floor` lives in std; NumericDates are far inside i64's range.
fn libm_floor(x: f64) -> f64 {
    let truncated = x as i64 as f64;
    if truncated > x {
        truncated - 1.0
    } else {
        truncated
    }
}

/// A token whose signature and claims have been verified.
#[derive(Debug)]
pub struct Verified {
    /// The protected header; its `alg` is the one the signature was checked
    /// with.
    pub header: Header,
    /// Every claim of the payload: those the [`Validation`] checked, and the
    /// rest as the token carries them, unchecked.
    pub claims: Map<String, Value>,
    header_json: Vec<u8>,
    claims_json: Vec<u8>,
    times: TimeClaims,
}

impl Verified {
    /// The time claims that were checked.
    pub fn times(&self) -> TimeClaims {
        self.times
    }

    /// `{"header":{...},"claims":{...}}`, built from the token's own JSON text
    /// (already validated), which is how results cross into JavaScript.
    pub fn to_json(&self) -> String {
        let mut out = Vec::with_capacity(self.header_json.len() + self.claims_json.len() + 24);
        out.extend_from_slice(b"{\"header\":");
        out.extend_from_slice(&self.header_json);
        out.extend_from_slice(b",\"claims\":");
        out.extend_from_slice(&self.claims_json);
        out.push(b'}');
        // Both parts were parsed from UTF-8 JSON, so this cannot fail.
        String::from_utf8(out).unwrap_or_default()
    }
}

/// Keys and options together: the common case of one issuer's tokens.
#[derive(Debug)]
pub struct Verifier {
    keys: Keys,
    validation: Validation,
}

impl Verifier {
    /// A verifier for `keys` with `validation`.
    pub fn new(keys: Keys, validation: Validation) -> Self {
        Self { keys, validation }
    }

    /// Verifies `token` at `now_ms` (milliseconds since the epoch).
    pub fn verify(&self, token: &str, now_ms: f64) -> Result<Verified> {
        self.validation.verify(&self.keys, token, now_ms)
    }
}

#[cfg(test)]
mod tests;
