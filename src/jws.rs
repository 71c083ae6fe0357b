//! Compact JWS (RFC 7515 §7.1): parsing with the size limit checked before
//! any decoding, the protected header's rules, and signature verification.

use crate::algorithm::Algorithm;
use crate::base64url;
use crate::error::{Error, ErrorCode, Result};
use crate::jwk::{KeySet, VerifyingKey};
use crate::strict_json::{self, JsonError};
use alloc::string::String;
use alloc::vec::Vec;
use serde_json::{Map, Value};

/// The longest compact JWS accepted, in bytes. ID tokens are a few KiB; the
/// limit is checked before anything is decoded.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

/// Where the verification key comes from.
#[derive(Debug)]
pub enum Keys {
    /// One key; the token's `kid` is not consulted.
    Single(VerifyingKey),
    /// A key set; one key is selected by the token's `alg` and `kid`.
    Set(KeySet),
}

impl Keys {
    fn select(&self, alg: Algorithm, kid: Option<&str>) -> Result<&VerifyingKey> {
        match self {
            Self::Single(key) => Ok(key),
            Self::Set(set) => set.select(alg, kid),
        }
    }
}

/// The protected header of a JWS.
#[derive(Clone, Debug)]
pub struct Header {
    /// The algorithm the token claims to be signed with.
    pub alg: Algorithm,
    /// The key id, if any.
    pub kid: Option<String>,
    /// The `typ` header, if any.
    pub typ: Option<String>,
    /// `false` when the header says the payload is not base64url-encoded
    /// (RFC 7797), which this library never verifies.
    pub b64: bool,
    /// Every member of the header, unknown ones included; beyond `alg`,
    /// `kid`, `typ`, `b64` and `crit` nothing in it was checked or acted on.
    pub members: Map<String, Value>,
}

/// A compact JWS split and decoded, not yet verified.
#[derive(Debug)]
pub struct CompactJws<'a> {
    /// The protected header, checked (`alg` supported and not `none`,
    /// `crit` understood); the signature is not.
    pub header: Header,
    /// The header's JSON text, exactly as decoded from the token.
    pub header_json: Vec<u8>,
    /// The payload, base64url-decoded and not parsed: unauthenticated until
    /// [`CompactJws::verify`] succeeds.
    pub payload: Vec<u8>,
    signing_input: &'a [u8],
    signature: Vec<u8>,
}

impl<'a> CompactJws<'a> {
    /// Splits and decodes a compact JWS and checks its header, without
    /// verifying the signature.
    pub fn parse(token: &'a str) -> Result<Self> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(Error::new(ErrorCode::JwsInvalid, "token exceeds 16 KiB"));
        }
        let mut parts = token.split('.');
        let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Error::new(ErrorCode::JwsInvalid, "a compact JWS has exactly three parts"));
        };
        let decode = |part: &str, what: &'static str| {
            base64url::decode(part.as_bytes()).ok_or(Error::new(ErrorCode::JwsInvalid, what))
        };
        let header_json = decode(header_b64, "header is not canonical base64url")?;
        let payload = decode(payload_b64, "payload is not canonical base64url")?;
        let signature = decode(signature_b64, "signature is not canonical base64url")?;
        let header = parse_header(&header_json)?;
        let signing_input = &token.as_bytes()[..header_b64.len() + 1 + payload_b64.len()];
        Ok(Self { header, header_json, payload, signing_input, signature })
    }

    /// Checks the signature with the key `keys` selects, after making sure
    /// the algorithm is one of `allowed` (when given).
    pub fn verify(&self, keys: &Keys, allowed: Option<crate::algorithm::AlgorithmSet>) -> Result<()> {
        if !self.header.b64 {
            return Err(Error::new(ErrorCode::JoseNotSupported, "unencoded payloads (b64: false)"));
        }
        let alg = self.header.alg;
        if allowed.is_some_and(|set| !set.contains(alg)) {
            return Err(Error::with_message(
                ErrorCode::JoseAlgNotAllowed,
                alloc::format!("\"alg\" {alg} is not allowed"),
            ));
        }
        let key = keys.select(alg, self.header.kid.as_deref())?;
        key.verify(alg, self.signing_input, &self.signature)
    }
}

/// Header parameters this library understands when listed in `crit`.
const UNDERSTOOD_CRITICAL: &[&str] = &["b64"];

/// Header parameters defined by RFC 7515/7518, which `crit` must not list.
const REGISTERED: &[&str] =
    &["alg", "jku", "jwk", "kid", "x5u", "x5c", "x5t", "x5t#S256", "typ", "cty", "crit", "enc", "zip"];

fn parse_header(json: &[u8]) -> Result<Header> {
    let members = strict_json::parse_object(json).map_err(|e| match e {
        JsonError::Malformed => Error::new(ErrorCode::JwsInvalid, "header is not valid JSON (or repeats a member)"),
        JsonError::NotAnObject => Error::new(ErrorCode::JwsInvalid, "header must be a JSON object"),
    })?;
    let alg = match members.get("alg") {
        Some(Value::String(name)) if name.eq_ignore_ascii_case("none") => {
            return Err(Error::new(ErrorCode::JoseAlgNotAllowed, "unsecured JWS (alg: none) is never accepted"))
        }
        Some(Value::String(name)) => {
            Algorithm::from_name(name).ok_or_else(|| Error::new(ErrorCode::JoseNotSupported, "unsupported \"alg\""))?
        }
        Some(_) => return Err(Error::new(ErrorCode::JwsInvalid, "\"alg\" must be a string")),
        None => return Err(Error::new(ErrorCode::JwsInvalid, "header has no \"alg\"")),
    };
    let optional_string = |name: &'static str| match members.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(Error::with_message(ErrorCode::JwsInvalid, alloc::format!("\"{name}\" must be a string"))),
    };
    let kid = optional_string("kid")?;
    let typ = optional_string("typ")?;
    let critical = check_crit(&members)?;
    let b64 = match members.get("b64") {
        None => true,
        Some(Value::Bool(b64)) if critical.contains(&"b64") => *b64,
        Some(Value::Bool(_)) => return Err(Error::new(ErrorCode::JwsInvalid, "\"b64\" must be listed in \"crit\"")),
        Some(_) => return Err(Error::new(ErrorCode::JwsInvalid, "\"b64\" must be a boolean")),
    };
    Ok(Header { alg, kid, typ, b64, members })
}

/// Validates `crit` (RFC 7515 §4.1.11) and returns the names it lists.
fn check_crit(members: &Map<String, Value>) -> Result<Vec<&str>> {
    let Some(crit) = members.get("crit") else {
        return Ok(Vec::new());
    };
    let invalid = |message| Err(Error::new(ErrorCode::JwsInvalid, message));
    let Value::Array(names) = crit else {
        return invalid("\"crit\" must be an array");
    };
    if names.is_empty() {
        return invalid("\"crit\" must not be empty");
    }
    let mut listed = Vec::with_capacity(names.len());
    for name in names {
        let Value::String(name) = name else {
            return invalid("\"crit\" must hold strings");
        };
        if REGISTERED.contains(&name.as_str()) || listed.contains(&name.as_str()) {
            return invalid("\"crit\" lists a registered or repeated parameter");
        }
        if !members.contains_key(name) {
            return invalid("\"crit\" lists a parameter the header lacks");
        }
        if !UNDERSTOOD_CRITICAL.contains(&name.as_str()) {
            return Err(Error::with_message(
                ErrorCode::JoseNotSupported,
                alloc::format!("critical header parameter \"{name}\" is not understood"),
            ));
        }
        listed.push(name.as_str());
    }
    Ok(listed)
}

/// Decodes the protected header of a compact JWS without verifying
/// anything, returning its JSON text (a strict JSON object).
pub fn decode_protected_header(token: &str) -> Result<Vec<u8>> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(Error::new(ErrorCode::JwsInvalid, "token exceeds 16 KiB"));
    }
    let header_b64 = token.split('.').next().unwrap_or_default();
    let json = base64url::decode(header_b64.as_bytes())
        .ok_or(Error::new(ErrorCode::JwsInvalid, "header is not canonical base64url"))?;
    strict_json::parse_object(&json)
        .map_err(|_| Error::new(ErrorCode::JwsInvalid, "header is not a JSON object (or repeats a member)"))?;
    Ok(json)
}

#[cfg(test)]
mod tests;
