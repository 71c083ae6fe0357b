//! A `jsonwebtoken` crypto provider backed by ring, so that the server signs
//! with the same library the core verifies with. Parsed key pairs are cached
//! by the hash of their DER: `jsonwebtoken` asks for a signer on every
//! `encode`, and parsing an RSA private key costs more than signing with it.

use crate::algorithm::KeyFamily;
use crate::jwk::{public_key_algorithm, rsa_params};
use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{Error, ErrorKind};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, Ed25519KeyPair, RsaKeyPair};
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

/// The provider: install once per process with [`install`].
pub static RING_PROVIDER: CryptoProvider = CryptoProvider {
    signer_factory: new_signer,
    verifier_factory: new_verifier,
    key_utils: KeyUtils::new_unimplemented(),
};

/// Makes [`RING_PROVIDER`] the process's provider. Calling it again is fine.
pub fn install() {
    // Only the first call can succeed; later ones find it installed.
    let _ = RING_PROVIDER.install_default();
}

enum Pair {
    Rsa(RsaKeyPair),
    Ecdsa(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

static PAIRS: LazyLock<Mutex<HashMap<Vec<u8>, Arc<Pair>>>> = LazyLock::new(Default::default);
/// Signing keys are few (the active one and a rotation's new one).
const MAX_CACHED_PAIRS: usize = 16;

fn parse_pair(alg: Algorithm, der: &[u8]) -> Result<Arc<Pair>, Error> {
    let id = ring::digest::digest(&ring::digest::SHA256, der).as_ref().to_vec();
    if let Some(pair) = PAIRS.lock().unwrap_or_else(|e| e.into_inner()).get(&id) {
        return Ok(pair.clone());
    }
    let rng = SystemRandom::new();
    let invalid = |_| Error::from(ErrorKind::InvalidKeyFormat);
    let pair = Arc::new(match alg {
        Algorithm::RS256
        | Algorithm::RS384
        | Algorithm::RS512
        | Algorithm::PS256
        | Algorithm::PS384
        | Algorithm::PS512 => Pair::Rsa(RsaKeyPair::from_der(der).map_err(invalid)?),
        Algorithm::ES256 => Pair::Ecdsa(
            EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, der, &rng).map_err(invalid)?,
        ),
        Algorithm::ES384 => Pair::Ecdsa(
            EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P384_SHA384_FIXED_SIGNING, der, &rng).map_err(invalid)?,
        ),
        Algorithm::EdDSA => Pair::Ed25519(Ed25519KeyPair::from_pkcs8_maybe_unchecked(der).map_err(invalid)?),
        _ => return Err(ErrorKind::InvalidAlgorithm.into()),
    });
    let mut cache = PAIRS.lock().unwrap_or_else(|e| e.into_inner());
    if cache.len() >= MAX_CACHED_PAIRS {
        cache.clear();
    }
    cache.insert(id, pair.clone());
    Ok(pair)
}

struct Signer {
    alg: Algorithm,
    pair: Arc<Pair>,
}

impl jsonwebtoken::signature::Signer<Vec<u8>> for Signer {
    fn try_sign(&self, message: &[u8]) -> Result<Vec<u8>, jsonwebtoken::signature::Error> {
        let rng = SystemRandom::new();
        match &*self.pair {
            Pair::Rsa(pair) => {
                let padding: &dyn signature::RsaEncoding = match self.alg {
                    Algorithm::RS384 => &signature::RSA_PKCS1_SHA384,
                    Algorithm::RS512 => &signature::RSA_PKCS1_SHA512,
                    Algorithm::PS256 => &signature::RSA_PSS_SHA256,
                    Algorithm::PS384 => &signature::RSA_PSS_SHA384,
                    Algorithm::PS512 => &signature::RSA_PSS_SHA512,
                    _ => &signature::RSA_PKCS1_SHA256,
                };
                let mut out = vec![0; pair.public().modulus_len()];
                pair.sign(padding, &rng, message, &mut out).map_err(|_| jsonwebtoken::signature::Error::new())?;
                Ok(out)
            }
            Pair::Ecdsa(pair) => {
                Ok(pair.sign(&rng, message).map_err(|_| jsonwebtoken::signature::Error::new())?.as_ref().to_vec())
            }
            Pair::Ed25519(pair) => Ok(pair.sign(message).as_ref().to_vec()),
        }
    }
}

impl JwtSigner for Signer {
    fn algorithm(&self) -> Algorithm {
        self.alg
    }
}

fn new_signer(alg: &Algorithm, key: &EncodingKey) -> jsonwebtoken::errors::Result<Box<dyn JwtSigner>> {
    if matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512) {
        return Ok(Box::new(HmacSigner { alg: *alg, key: hmac_key(*alg, key.as_bytes()) }));
    }
    Ok(Box::new(Signer { alg: *alg, pair: parse_pair(*alg, key.as_bytes())? }))
}

struct HmacSigner {
    alg: Algorithm,
    key: ring::hmac::Key,
}

fn hmac_key(alg: Algorithm, secret: &[u8]) -> ring::hmac::Key {
    let hash = match alg {
        Algorithm::HS384 => ring::hmac::HMAC_SHA384,
        Algorithm::HS512 => ring::hmac::HMAC_SHA512,
        _ => ring::hmac::HMAC_SHA256,
    };
    ring::hmac::Key::new(hash, secret)
}

impl jsonwebtoken::signature::Signer<Vec<u8>> for HmacSigner {
    fn try_sign(&self, message: &[u8]) -> Result<Vec<u8>, jsonwebtoken::signature::Error> {
        Ok(ring::hmac::sign(&self.key, message).as_ref().to_vec())
    }
}

impl JwtSigner for HmacSigner {
    fn algorithm(&self) -> Algorithm {
        self.alg
    }
}

impl jsonwebtoken::signature::Verifier<Vec<u8>> for HmacSigner {
    fn verify(&self, message: &[u8], tag: &Vec<u8>) -> Result<(), jsonwebtoken::signature::Error> {
        ring::hmac::verify(&self.key, message, tag).map_err(|_| jsonwebtoken::signature::Error::new())
    }
}

impl JwtVerifier for HmacSigner {
    fn algorithm(&self) -> Algorithm {
        self.alg
    }
}

/// Public-key verification, for completeness of the provider: the server
/// itself verifies with the miniauth core.
struct PublicVerifier {
    alg: Algorithm,
    key: PublicKey,
}

enum PublicKey {
    Der(Vec<u8>),
    RsaComponents { n: Vec<u8>, e: Vec<u8> },
}

impl jsonwebtoken::signature::Verifier<Vec<u8>> for PublicVerifier {
    fn verify(&self, message: &[u8], sig: &Vec<u8>) -> Result<(), jsonwebtoken::signature::Error> {
        // The core's table of ring algorithms, so both sides agree.
        let alg =
            crate::Algorithm::from_name(&format!("{:?}", self.alg)).ok_or_else(jsonwebtoken::signature::Error::new)?;
        let verified = match &self.key {
            PublicKey::Der(der) => public_key_algorithm(alg).map_or(Err(ring::error::Unspecified), |params| {
                signature::UnparsedPublicKey::new(params, der).verify(message, sig)
            }),
            PublicKey::RsaComponents { n, e } if alg.key_family() == KeyFamily::Rsa => {
                signature::RsaPublicKeyComponents { n, e }.verify(rsa_params(alg), message, sig)
            }
            PublicKey::RsaComponents { .. } => Err(ring::error::Unspecified),
        };
        verified.map_err(|_| jsonwebtoken::signature::Error::new())
    }
}

impl JwtVerifier for PublicVerifier {
    fn algorithm(&self) -> Algorithm {
        self.alg
    }
}

fn new_verifier(alg: &Algorithm, key: &DecodingKey) -> jsonwebtoken::errors::Result<Box<dyn JwtVerifier>> {
    use jsonwebtoken::DecodingKeyKind;
    let alg = *alg;
    if matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512) {
        return Ok(Box::new(HmacSigner { alg, key: hmac_key(alg, key.try_get_as_bytes()?) }));
    }
    let key = match key.kind() {
        DecodingKeyKind::SecretOrDer(der) => PublicKey::Der(der.clone()),
        DecodingKeyKind::RsaModulusExponent { n, e } => PublicKey::RsaComponents { n: n.clone(), e: e.clone() },
    };
    Ok(Box::new(PublicVerifier { alg, key }))
}
