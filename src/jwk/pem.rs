//! SPKI public keys in PEM form (RFC 7468 `PUBLIC KEY`).

use super::der::{self, Reader};
use super::{Invalid, VerifyingKey};
use crate::algorithm::{AlgorithmSet, Curve, KeyFamily};
use crate::error::{Error, ErrorCode, Result};
use alloc::vec::Vec;
use base64::Engine;

/// The largest PEM text accepted (an 8192-bit RSA key is about 1.5 KiB).
const MAX_PEM_LEN: usize = 16 * 1024;

const BEGIN: &str = "-----BEGIN PUBLIC KEY-----";
const END: &str = "-----END PUBLIC KEY-----";

// DER contents of the object identifiers involved.
const OID_RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const OID_P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];

pub(super) fn import_spki(pem: &str) -> Result<VerifyingKey> {
    if pem.len() > MAX_PEM_LEN {
        return Err(Invalid("PEM text exceeds 16 KiB").into());
    }
    let der = pem_body(pem)?;
    let mut outer = Reader::new(&der);
    let mut spki = Reader::new(outer.read(der::SEQUENCE)?);
    outer.finish()?;
    let mut algorithm = Reader::new(spki.read(der::SEQUENCE)?);
    let oid = algorithm.read(der::OID)?;
    let key_bits = bit_string_bytes(spki.read(der::BIT_STRING)?)?;
    spki.finish()?;

    match oid {
        OID_RSA_ENCRYPTION => {
            if !algorithm.is_empty() {
                algorithm.read(der::NULL)?;
            }
            algorithm.finish()?;
            let mut outer = Reader::new(key_bits);
            let mut rsa = Reader::new(outer.read(der::SEQUENCE)?);
            outer.finish()?;
            let n = rsa.read_unsigned()?;
            let e = rsa.read_unsigned()?;
            rsa.finish()?;
            VerifyingKey::rsa(None, n, e, AlgorithmSet::of_family(KeyFamily::Rsa))
        }
        OID_EC_PUBLIC_KEY => {
            let curve = match algorithm.read(der::OID)? {
                OID_P256 => Curve::P256,
                OID_P384 => Curve::P384,
                _ => return Err(Error::new(ErrorCode::JoseNotSupported, "unsupported EC curve")),
            };
            algorithm.finish()?;
            let len = curve.coordinate_len();
            match key_bits {
                [0x04, coordinates @ ..] if coordinates.len() == 2 * len => {
                    let (x, y) = coordinates.split_at(len);
                    VerifyingKey::ec(None, curve, x, y, AlgorithmSet::of_family(KeyFamily::Ec(curve)))
                }
                _ => Err(Invalid("EC public keys must be uncompressed points").into()),
            }
        }
        OID_ED25519 => {
            algorithm.finish()?;
            VerifyingKey::ed25519(None, key_bits, AlgorithmSet::of_family(KeyFamily::Ed25519))
        }
        _ => Err(Error::new(ErrorCode::JoseNotSupported, "unsupported public key algorithm")),
    }
}

/// The DER inside one `PUBLIC KEY` block. Other labels (a private key, a
/// certificate) are refused rather than guessed at.
fn pem_body(pem: &str) -> Result<Vec<u8>> {
    let text = pem.trim();
    let body = text
        .strip_prefix(BEGIN)
        .and_then(|rest| rest.strip_suffix(END))
        .ok_or(Invalid("expected one \"-----BEGIN PUBLIC KEY-----\" PEM block (SPKI)"))?;
    let compact: Vec<u8> = body.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|_| Invalid("PEM body is not valid base64").into())
}

/// A BIT STRING's bytes, which must have no unused bits.
fn bit_string_bytes(contents: &[u8]) -> core::result::Result<&[u8], Invalid> {
    match contents {
        [0, bytes @ ..] => Ok(bytes),
        _ => Err(Invalid("public key BIT STRING has unused bits")),
    }
}
