//! JWK Sets (RFC 7517 §5) and the choice of one key for one token.

use super::{parse_key_document, JwkParams, VerifyingKey};
use crate::algorithm::{Algorithm, KeyFamily};
use crate::error::{Error, ErrorCode, Result};
use alloc::vec::Vec;
use serde_json::Value;

/// The most keys a set may hold. Real sets hold a handful; the limit keeps
/// a hostile document from costing unbounded import work.
pub const MAX_KEYS: usize = 100;

/// A JWK Set, imported once. Keys of a type this library does not implement
/// are skipped (RFC 7517 §5). A key whose material is malformed is kept as
/// its error, reported only if a token selects it, so one bad key cannot take
/// down the others; a key whose metadata (`kty`, `kid`, `use`, ...) is
/// malformed makes the whole document invalid, since it cannot be matched.
pub struct KeySet {
    entries: Vec<Entry>,
}

struct Entry {
    params: JwkParams,
    key: Result<VerifyingKey>,
}

impl KeySet {
    /// Imports a JWKS document: `{"keys": [ ... ]}`.
    ///
    /// A set that mixes HMAC secrets with public keys is refused: a published
    /// key set must never carry a secret, and mixing the two invites key
    /// confusion.
    pub fn from_jwks_json(json: &[u8]) -> Result<Self> {
        let document = parse_key_document(json, ErrorCode::JwksInvalid)?;
        let Some(Value::Array(keys)) = document.get("keys") else {
            return Err(Error::new(ErrorCode::JwksInvalid, "JWKS must have a \"keys\" array"));
        };
        if keys.len() > MAX_KEYS {
            return Err(Error::new(ErrorCode::JwksInvalid, "JWKS holds more than 100 keys"));
        }
        let mut entries = Vec::with_capacity(keys.len());
        for key in keys {
            let Value::Object(jwk) = key else {
                return Err(Error::new(ErrorCode::JwksInvalid, "every JWKS entry must be an object"));
            };
            let params = match JwkParams::read(jwk) {
                Ok(params) if params.family.is_some() => params,
                Ok(_) => continue,
                Err(e) => return Err(Error::with_message(ErrorCode::JwksInvalid, e.message().into())),
            };
            let key = params.import(jwk);
            entries.push(Entry { params, key });
        }
        let secrets = entries.iter().filter(|e| e.params.family == Some(KeyFamily::Hmac)).count();
        if secrets > 0 && secrets < entries.len() {
            return Err(Error::new(ErrorCode::JwksInvalid, "JWKS mixes HMAC secrets with public keys"));
        }
        Ok(Self { entries })
    }

    /// How many usable or malformed keys of supported types the set holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the set holds no key of a supported type.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The one key that may verify a token with this `alg` and `kid`:
    /// matching `kid` (when the token names one), key type, curve, `alg`,
    /// `use` and `key_ops`. None is `ERR_JWKS_NO_MATCHING_KEY`; more than one
    /// is `ERR_JWKS_MULTIPLE_MATCHING_KEYS`, since guessing between keys
    /// would make the outcome depend on the order of the set.
    pub fn select(&self, alg: Algorithm, kid: Option<&str>) -> Result<&VerifyingKey> {
        let mut candidates = self.entries.iter().filter(|entry| {
            entry.params.may_verify(alg) && kid.is_none_or(|kid| entry.params.kid.as_deref() == Some(kid))
        });
        let Some(first) = candidates.next() else {
            return Err(Error::new(ErrorCode::JwksNoMatchingKey, "no key in the JWKS matches the token"));
        };
        if candidates.next().is_some() {
            return Err(Error::new(
                ErrorCode::JwksMultipleMatchingKeys,
                "more than one key in the JWKS matches the token",
            ));
        }
        first.key.as_ref().map_err(Clone::clone)
    }
}

impl core::fmt::Debug for KeySet {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("KeySet").field("keys", &self.entries.len()).finish()
    }
}
