//! Ed25519 public keys and their verification (RFC 8032 §5.1.7).
//!
//! ring verifies by default. With the `fast-ed25519` feature, which the
//! native Node addon turns on, ed25519-dalek does: its AVX2 backend and a
//! key decompressed once at import verify about 1.5× faster on x86-64 than
//! ring, which has no assembly for Ed25519 verification. The WebAssembly
//! module keeps ring (smaller, and no SIMD in the MVP).
//!
//! Both compute the same check, cofactorless, with `S < L` required and `R`
//! compared as bytes, so a signature one accepts the other accepts: the
//! Wycheproof vectors run on both, and a differential test below holds
//! dalek to ring on mutated signatures and keys.

use ring::error::Unspecified;

/// A 32-byte Ed25519 public key as the verifier keeps it.
pub(crate) struct PublicKey(Backend);

#[cfg(not(feature = "fast-ed25519"))]
type Backend = [u8; 32];

/// `None` for bytes that are no point: such a key imports (as with ring)
/// and verifies nothing. Boxed: the decompressed point is 200-odd bytes.
#[cfg(feature = "fast-ed25519")]
type Backend = Option<alloc::boxed::Box<ed25519_dalek::VerifyingKey>>;

impl PublicKey {
    /// The key from its encoding; `None` unless it is 32 bytes.
    pub(crate) fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let bytes: [u8; 32] = bytes.try_into().ok()?;
        #[cfg(not(feature = "fast-ed25519"))]
        return Some(Self(bytes));
        #[cfg(feature = "fast-ed25519")]
        return Some(Self(ed25519_dalek::VerifyingKey::from_bytes(&bytes).ok().map(alloc::boxed::Box::new)));
    }

    /// Checks that `sig` is a valid signature of `message` under this key.
    pub(crate) fn verify(&self, message: &[u8], sig: &[u8]) -> Result<(), Unspecified> {
        #[cfg(not(feature = "fast-ed25519"))]
        return ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, &self.0).verify(message, sig);
        #[cfg(feature = "fast-ed25519")]
        {
            use ed25519_dalek::Verifier;
            let (Some(key), Ok(sig)) = (&self.0, ed25519_dalek::Signature::from_slice(sig)) else {
                return Err(Unspecified);
            };
            key.verify(message, &sig).map_err(|_| Unspecified)
        }
    }
}

#[cfg(all(test, feature = "fast-ed25519"))]
mod tests {
    use super::*;
    use alloc::vec::Vec;
    use ring::signature::{Ed25519KeyPair, KeyPair, UnparsedPublicKey, ED25519};

    fn ring_verifies(key: &[u8], message: &[u8], sig: &[u8]) -> bool {
        UnparsedPublicKey::new(&ED25519, key).verify(message, sig).is_ok()
    }

    /// A small deterministic generator, so a failure can be replayed.
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            self.0 >> 33
        }
    }

    #[test]
    fn dalek_agrees_with_ring_on_mutated_signatures_and_keys() {
        let mut rng = Lcg(0x5eed);
        for round in 0..64u8 {
            let seed = [round; 32];
            let pair = Ed25519KeyPair::from_seed_unchecked(&seed).unwrap();
            let message: Vec<u8> = (0..(rng.next() % 200)).map(|_| rng.next() as u8).collect();
            let sig = pair.sign(&message);
            let key = pair.public_key().as_ref().to_vec();
            for case in 0..40 {
                let (mut key, mut sig) = (key.clone(), sig.as_ref().to_vec());
                match case % 5 {
                    0 => {}
                    1 => sig[(rng.next() % 64) as usize] ^= 1 << (rng.next() % 8),
                    2 => key[(rng.next() % 32) as usize] ^= 1 << (rng.next() % 8),
                    // S at or past the group order: a non-canonical S.
                    3 => sig[63] |= 0xe0,
                    // The key with the sign of x flipped: another point.
                    _ => key[31] ^= 0x80,
                }
                let dalek = PublicKey::from_bytes(&key).unwrap().verify(&message, &sig).is_ok();
                assert_eq!(dalek, ring_verifies(&key, &message, &sig), "round {round}, case {case}");
                assert!(dalek || case % 5 != 0, "round {round}: a genuine signature refused");
            }
        }
    }

    #[test]
    fn small_order_and_non_canonical_keys_are_judged_alike() {
        // The identity, points of order 2, 4 and 8, and y = p + 1 (the
        // identity's non-canonical twin), each as a key and as R.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let mut order_two = [0xffu8; 32];
        order_two[0] = 0xec;
        order_two[31] = 0x7f;
        let mut non_canonical = [0xffu8; 32];
        non_canonical[0] = 0xee;
        non_canonical[31] = 0x7f;
        let order_four = [0u8; 32];
        // Each again with the sign bit of x set: where x is 0, "-0", an
        // encoding no canonical point has.
        let mut points = vec![identity, order_two, non_canonical, order_four];
        points.extend(points.clone().into_iter().map(|mut point| {
            point[31] |= 0x80;
            point
        }));
        let message = b"miniauth";
        for key in &points {
            for r in &points {
                let mut sig = Vec::from(*r);
                sig.extend_from_slice(&[0u8; 32]);
                let dalek = PublicKey::from_bytes(key).unwrap().verify(message, &sig).is_ok();
                assert_eq!(dalek, ring_verifies(key, message, &sig), "key {key:02x?}, R {r:02x?}");
            }
        }
    }
}
