//! Verification keys: imported from a JWK, a JWK Set, an SPKI PEM or an HMAC
//! secret, and each bound to its key type and the algorithms it may verify.
//!
//! Import is where keys are judged: RSA moduli under 2048 bits, EC points off
//! their curve, HMAC secrets shorter than their hash, and parameters that
//! contradict the key's own `alg` are all rejected here, with
//! `ERR_JWK_INVALID`, rather than surfacing later as a failed signature.

mod der;
mod ec;
mod ed25519;
mod pem;
mod set;

pub use set::KeySet;

use crate::algorithm::{Algorithm, AlgorithmSet, Curve, KeyFamily};
use crate::base64url;
use crate::error::{Error, ErrorCode, Result};
use crate::strict_json::{self, JsonError};
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use ring::{hmac, signature};
use serde_json::{Map, Value};

/// The largest JWK or JWKS document accepted, in bytes.
pub const MAX_KEY_DOCUMENT_LEN: usize = 256 * 1024;

const MIN_RSA_BITS: usize = 2048;
// ring verifies RSA moduli of up to 8192 bits.
const MAX_RSA_BITS: usize = 8192;

/// A key-level failure, turned into `ERR_JWK_INVALID` with its message.
#[derive(Debug)]
struct Invalid(&'static str);

impl From<Invalid> for Error {
    fn from(Invalid(message): Invalid) -> Self {
        Error::new(ErrorCode::JwkInvalid, message)
    }
}

/// A public key (or HMAC secret) ready to verify signatures.
pub struct VerifyingKey {
    kid: Option<String>,
    algorithms: AlgorithmSet,
    material: Material,
}

enum Material {
    Rsa {
        n: Vec<u8>,
        e: Vec<u8>,
    },
    /// An EC point (uncompressed), which ring parses itself; the key's
    /// algorithm binding says which curve.
    Point(Vec<u8>),
    Ed25519(ed25519::PublicKey),
    /// One precomputed key per HMAC algorithm the secret may verify.
    Hmac(Vec<(Algorithm, hmac::Key)>),
}

impl core::fmt::Debug for VerifyingKey {
    // Never prints key material: an HMAC secret must not reach a log.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("kid", &self.kid)
            .field("algorithms", &self.algorithms)
            .finish_non_exhaustive()
    }
}

impl VerifyingKey {
    /// Imports one JWK (RFC 7517) from its JSON text.
    pub fn from_jwk_json(json: &[u8]) -> Result<Self> {
        let jwk = parse_key_document(json, ErrorCode::JwkInvalid)?;
        let params = JwkParams::read(&jwk)?;
        params.check_usable()?;
        params.import(&jwk)
    }

    /// Imports an SPKI public key in PEM form (`-----BEGIN PUBLIC KEY-----`):
    /// RSA, EC P-256/P-384 or Ed25519. It may verify every algorithm of its
    /// family; narrow that with the `algorithms` option.
    pub fn from_spki_pem(pem: &str) -> Result<Self> {
        pem::import_spki(pem)
    }

    /// Uses raw bytes as an HMAC secret. It may verify each HS algorithm whose
    /// hash is no longer than the secret (RFC 7518 §3.2).
    pub fn from_hmac_secret(secret: &[u8]) -> Result<Self> {
        let algorithms = AlgorithmSet::of_family(KeyFamily::Hmac)
            .iter()
            .filter(|alg| secret.len() >= alg.min_hmac_key_len())
            .collect();
        Self::hmac(None, secret, algorithms)
    }

    /// The key's `kid`, if it has one.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The algorithms this key may verify.
    pub fn algorithms(&self) -> AlgorithmSet {
        self.algorithms
    }

    /// Verifies `signature` over `message` with `alg`.
    ///
    /// Fails with `ERR_JOSE_ALG_NOT_ALLOWED` when the key is not bound to
    /// `alg` (an HMAC token against an RSA key never reaches HMAC), and with
    /// `ERR_JWS_SIGNATURE_VERIFICATION_FAILED` when the signature is wrong.
    pub fn verify(&self, alg: Algorithm, message: &[u8], sig: &[u8]) -> Result<()> {
        if !self.algorithms.contains(alg) {
            return Err(Error::with_message(
                ErrorCode::JoseAlgNotAllowed,
                alloc::format!("this key may not verify {alg}"),
            ));
        }
        let verified = match &self.material {
            Material::Rsa { n, e } => signature::RsaPublicKeyComponents { n, e }.verify(rsa_params(alg), message, sig),
            // Bound to `alg` above, so `alg` names this key's curve.
            Material::Point(key) => public_key_algorithm(alg).map_or(Err(ring::error::Unspecified), |params| {
                signature::UnparsedPublicKey::new(params, key).verify(message, sig)
            }),
            Material::Ed25519(key) => key.verify(message, sig),
            Material::Hmac(keys) => keys
                .iter()
                .find(|(a, _)| *a == alg)
                .map_or(Err(ring::error::Unspecified), |(_, key)| hmac::verify(key, message, sig)),
        };
        verified.map_err(|_| Error::new(ErrorCode::JwsSignatureVerificationFailed, "signature verification failed"))
    }

    fn rsa(kid: Option<String>, n: &[u8], e: &[u8], algorithms: AlgorithmSet) -> Result<Self> {
        let n = strip_leading_zeros(n);
        let e = strip_leading_zeros(e);
        // A zero modulus strips to nothing and has no bits (it must not underflow).
        let bits = n.len() * 8 - n.first().map_or(0, |b| b.leading_zeros() as usize);
        if bits < MIN_RSA_BITS {
            return Err(Invalid("RSA keys must be at least 2048 bits").into());
        }
        if bits > MAX_RSA_BITS {
            return Err(Error::new(ErrorCode::JoseNotSupported, "RSA keys over 8192 bits"));
        }
        // ring accepts odd exponents from 3 up to 2^33 - 1.
        let odd = e.last().is_some_and(|b| b & 1 == 1);
        let small_enough = e.len() < 5 || (e.len() == 5 && e[0] < 2);
        if !odd || e == [1] || !small_enough {
            return Err(Invalid("RSA public exponent must be odd, at least 3 and below 2^33").into());
        }
        Ok(Self { kid, algorithms, material: Material::Rsa { n: n.to_vec(), e: e.to_vec() } })
    }

    fn ec(kid: Option<String>, curve: Curve, x: &[u8], y: &[u8], algorithms: AlgorithmSet) -> Result<Self> {
        let len = curve.coordinate_len();
        if x.len() != len || y.len() != len {
            return Err(Invalid("EC coordinates have the wrong length for the curve").into());
        }
        if !ec::is_on_curve(curve, x, y) {
            return Err(Invalid("EC point is not on the curve").into());
        }
        let mut point = Vec::with_capacity(1 + 2 * len);
        point.push(0x04);
        point.extend_from_slice(x);
        point.extend_from_slice(y);
        Ok(Self { kid, algorithms, material: Material::Point(point) })
    }

    fn ed25519(kid: Option<String>, x: &[u8], algorithms: AlgorithmSet) -> Result<Self> {
        let key = ed25519::PublicKey::from_bytes(x).ok_or(Invalid("Ed25519 public keys are 32 bytes"))?;
        Ok(Self { kid, algorithms, material: Material::Ed25519(key) })
    }

    fn hmac(kid: Option<String>, secret: &[u8], algorithms: AlgorithmSet) -> Result<Self> {
        if algorithms.is_empty() {
            return Err(Invalid("HMAC secrets must be at least as long as the hash (32 bytes for HS256)").into());
        }
        let keys = algorithms
            .iter()
            .map(|alg| {
                let hash = match alg {
                    Algorithm::HS384 => hmac::HMAC_SHA384,
                    Algorithm::HS512 => hmac::HMAC_SHA512,
                    _ => hmac::HMAC_SHA256,
                };
                (alg, hmac::Key::new(hash, secret))
            })
            .collect();
        Ok(Self { kid, algorithms, material: Material::Hmac(keys) })
    }
}

/// ring's verification algorithm for a public-key `alg` (`None` for HMAC);
/// the server checks its own signatures with it, Ed25519 included.
pub(crate) fn public_key_algorithm(alg: Algorithm) -> Option<&'static dyn signature::VerificationAlgorithm> {
    match alg.key_family() {
        KeyFamily::Rsa => Some(rsa_params(alg)),
        KeyFamily::Ec(Curve::P256) => Some(&signature::ECDSA_P256_SHA256_FIXED),
        KeyFamily::Ec(Curve::P384) => Some(&signature::ECDSA_P384_SHA384_FIXED),
        KeyFamily::Ed25519 => Some(&signature::ED25519),
        KeyFamily::Hmac => None,
    }
}

/// ring's RSA parameters for an RSA `alg`.
pub(crate) fn rsa_params(alg: Algorithm) -> &'static signature::RsaParameters {
    match alg {
        Algorithm::RS384 => &signature::RSA_PKCS1_2048_8192_SHA384,
        Algorithm::RS512 => &signature::RSA_PKCS1_2048_8192_SHA512,
        Algorithm::PS256 => &signature::RSA_PSS_2048_8192_SHA256,
        Algorithm::PS384 => &signature::RSA_PSS_2048_8192_SHA384,
        Algorithm::PS512 => &signature::RSA_PSS_2048_8192_SHA512,
        _ => &signature::RSA_PKCS1_2048_8192_SHA256,
    }
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[first..]
}

/// Parses a JWK or JWKS document with the size limit and strict JSON.
fn parse_key_document(json: &[u8], code: ErrorCode) -> Result<Map<String, Value>> {
    if json.len() > MAX_KEY_DOCUMENT_LEN {
        return Err(Error::new(code, "key document exceeds 256 KiB"));
    }
    strict_json::parse_object(json).map_err(|e| match e {
        JsonError::Malformed => Error::new(code, "key document is not valid JSON (or repeats a member)"),
        JsonError::NotAnObject => Error::new(code, "key document must be a JSON object"),
    })
}

/// Members that only a private RSA, EC or OKP key has (RFC 7518 §6).
const PRIVATE_MEMBERS: &[&str] = &["d", "p", "q", "dp", "dq", "qi", "oth"];

/// The metadata of one JWK: what it is and what it may be used for, read
/// without importing the key so that a key set can be searched.
struct JwkParams {
    kid: Option<String>,
    family: Option<KeyFamily>,
    /// The `alg` member, parsed. `Some(None)` is an `alg` this library does not
    /// implement.
    alg: Option<Option<Algorithm>>,
    for_signatures: bool,
}

impl JwkParams {
    fn read(jwk: &Map<String, Value>) -> Result<Self> {
        let kty = string_member(jwk, "kty")?.ok_or(Invalid("JWK has no \"kty\""))?;
        let crv = string_member(jwk, "crv")?;
        let family = match (kty, crv) {
            ("RSA", _) => Some(KeyFamily::Rsa),
            ("EC", Some("P-256")) => Some(KeyFamily::Ec(Curve::P256)),
            ("EC", Some("P-384")) => Some(KeyFamily::Ec(Curve::P384)),
            ("EC", None) => return Err(Invalid("EC JWK has no \"crv\"").into()),
            ("OKP", Some("Ed25519")) => Some(KeyFamily::Ed25519),
            ("OKP", None) => return Err(Invalid("OKP JWK has no \"crv\"").into()),
            ("oct", _) => Some(KeyFamily::Hmac),
            _ => None,
        };
        let alg = string_member(jwk, "alg")?.map(Algorithm::from_name);
        let use_is_sig = string_member(jwk, "use")?.is_none_or(|u| u == "sig");
        let ops_allow_verify = match jwk.get("key_ops") {
            None => true,
            Some(Value::Array(ops)) => {
                let mut names = Vec::with_capacity(ops.len());
                for op in ops {
                    let name = op.as_str().ok_or(Invalid("\"key_ops\" must hold strings"))?;
                    if names.contains(&name) {
                        return Err(Invalid("\"key_ops\" repeats an operation").into());
                    }
                    names.push(name);
                }
                names.contains(&"verify")
            }
            Some(_) => return Err(Invalid("\"key_ops\" must be an array").into()),
        };
        Ok(Self {
            kid: string_member(jwk, "kid")?.map(ToString::to_string),
            family,
            alg,
            for_signatures: use_is_sig && ops_allow_verify,
        })
    }

    /// Errors for a key that cannot verify anything here.
    fn check_usable(&self) -> Result<()> {
        if self.family.is_none() {
            return Err(Error::new(ErrorCode::JoseNotSupported, "unsupported key type or curve"));
        }
        if matches!(self.alg, Some(None)) {
            return Err(Error::new(ErrorCode::JoseNotSupported, "unsupported \"alg\" on the key"));
        }
        if !self.for_signatures {
            return Err(Invalid("key is not for signature verification (\"use\" or \"key_ops\")").into());
        }
        Ok(())
    }

    /// Whether this key is a candidate to verify a token signed with `alg`.
    fn may_verify(&self, alg: Algorithm) -> bool {
        self.for_signatures && self.family == Some(alg.key_family()) && self.alg.is_none_or(|own| own == Some(alg))
    }

    /// Imports the key material, binding it to its `alg` or, without one, to
    /// every algorithm of its family.
    fn import(&self, jwk: &Map<String, Value>) -> Result<VerifyingKey> {
        let family = self.family.ok_or(Error::new(ErrorCode::JoseNotSupported, "unsupported key type"))?;
        let algorithms = match self.alg {
            Some(Some(alg)) if alg.key_family() != family => {
                return Err(Invalid("the key's \"alg\" does not fit its key type or curve").into())
            }
            Some(Some(alg)) => [alg].into_iter().collect(),
            Some(None) => return Err(Error::new(ErrorCode::JoseNotSupported, "unsupported \"alg\" on the key")),
            None => AlgorithmSet::of_family(family),
        };
        // A verifier never needs a private key, and one handed over here (or
        // published in a key set) has already leaked: refuse it rather than
        // quietly using its public half.
        if family != KeyFamily::Hmac && PRIVATE_MEMBERS.iter().any(|m| jwk.contains_key(*m)) {
            return Err(Invalid("JWK holds private key material: give the verifier the public key only").into());
        }
        let kid = self.kid.clone();
        match family {
            KeyFamily::Rsa => VerifyingKey::rsa(kid, &bytes_member(jwk, "n")?, &bytes_member(jwk, "e")?, algorithms),
            KeyFamily::Ec(curve) => {
                VerifyingKey::ec(kid, curve, &bytes_member(jwk, "x")?, &bytes_member(jwk, "y")?, algorithms)
            }
            KeyFamily::Ed25519 => VerifyingKey::ed25519(kid, &bytes_member(jwk, "x")?, algorithms),
            KeyFamily::Hmac => {
                let secret = bytes_member(jwk, "k")?;
                let long_enough = algorithms.iter().filter(|a| secret.len() >= a.min_hmac_key_len()).collect();
                VerifyingKey::hmac(kid, &secret, long_enough)
            }
        }
    }
}

fn string_member<'a>(jwk: &'a Map<String, Value>, name: &'static str) -> Result<Option<&'a str>> {
    match jwk.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(Error::with_message(ErrorCode::JwkInvalid, alloc::format!("\"{name}\" must be a string"))),
    }
}

fn bytes_member(jwk: &Map<String, Value>, name: &'static str) -> Result<Vec<u8>> {
    let text = string_member(jwk, name)?
        .ok_or_else(|| Error::with_message(ErrorCode::JwkInvalid, alloc::format!("JWK has no \"{name}\"")))?;
    base64url::decode(text.as_bytes()).ok_or_else(|| {
        Error::with_message(ErrorCode::JwkInvalid, alloc::format!("\"{name}\" is not canonical base64url"))
    })
}

#[cfg(test)]
mod tests;
