//! The on-curve check for imported EC public keys.
//!
//! ring validates a point only when it verifies, and reports a bad point as a
//! bad signature. Checking `y² = x³ - 3x + b (mod p)` at import turns an
//! invalid key into a clear `ERR_JWK_INVALID` where it is configured. Only
//! public values are involved, so plain (not constant-time) arithmetic is
//! fine; it runs once per key.

use crate::algorithm::Curve;
use alloc::vec;
use alloc::vec::Vec;
use core::cmp::Ordering;

const P256_P: &str = "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff";
const P256_B: &str = "5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b";
const P384_P: &str = "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff";
const P384_B: &str = "b3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aef";

/// Whether the affine point (x, y), big-endian coordinates of the curve's
/// length, lies on `curve`.
pub(super) fn is_on_curve(curve: Curve, x: &[u8], y: &[u8]) -> bool {
    let (p, b) = match curve {
        Curve::P256 => (P256_P, P256_B),
        Curve::P384 => (P384_P, P384_B),
    };
    let (p, b) = (from_hex(p), from_hex(b));
    let (x, y) = (from_be_bytes(x), from_be_bytes(y));
    if cmp(&x, &p) != Ordering::Less || cmp(&y, &p) != Ordering::Less {
        return false;
    }
    let lhs = mul_mod(&y, &y, &p);
    // x³ - 3x + b = (x² - 3)·x + b, with x² - 3 computed as x² + p - 3.
    let mut t = add(&mul_mod(&x, &x, &p), &p);
    sub_assign(&mut t, &[3]);
    let t = reduce(&t, &p);
    let rhs = reduce(&add(&mul_mod(&t, &x, &p), &b), &p);
    cmp(&lhs, &rhs) == Ordering::Equal
}

/// Little-endian 32-bit limbs, trimmed of high zero limbs.
type Big = Vec<u32>;

fn trim(mut n: Big) -> Big {
    while n.last() == Some(&0) {
        n.pop();
    }
    n
}

fn from_be_bytes(bytes: &[u8]) -> Big {
    let limbs = bytes.rchunks(4).map(|chunk| chunk.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b))).collect();
    trim(limbs)
}

fn from_hex(hex: &str) -> Big {
    let bytes: Vec<u8> = hex
        .as_bytes()
        .chunks(2)
        .map(|pair| {
            let digit = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
            (digit(pair[0]) << 4) | digit(pair[1])
        })
        .collect();
    from_be_bytes(&bytes)
}

fn cmp(a: &[u32], b: &[u32]) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.iter().rev().cmp(b.iter().rev()))
}

fn add(a: &[u32], b: &[u32]) -> Big {
    let mut out = Vec::with_capacity(a.len().max(b.len()) + 1);
    let mut carry = 0u64;
    for i in 0..a.len().max(b.len()) {
        let sum = u64::from(*a.get(i).unwrap_or(&0)) + u64::from(*b.get(i).unwrap_or(&0)) + carry;
        out.push(sum as u32);
        carry = sum >> 32;
    }
    out.push(carry as u32);
    trim(out)
}

/// `a -= b`, for `a >= b`.
fn sub_assign(a: &mut Big, b: &[u32]) {
    let mut borrow = 0i64;
    for (i, limb) in a.iter_mut().enumerate() {
        let diff = i64::from(*limb) - i64::from(*b.get(i).unwrap_or(&0)) - borrow;
        *limb = diff as u32;
        borrow = i64::from(diff < 0);
    }
    let trimmed = trim(core::mem::take(a));
    *a = trimmed;
}

fn mul(a: &[u32], b: &[u32]) -> Big {
    let mut out = vec![0u32; a.len() + b.len()];
    for (i, &ai) in a.iter().enumerate() {
        let mut carry = 0u64;
        for (j, &bj) in b.iter().enumerate() {
            let t = u64::from(ai) * u64::from(bj) + u64::from(out[i + j]) + carry;
            out[i + j] = t as u32;
            carry = t >> 32;
        }
        out[i + b.len()] = carry as u32;
    }
    trim(out)
}

/// `n mod m` by binary long division: at most a few hundred shift-subtract
/// steps for these sizes.
fn reduce(n: &[u32], m: &[u32]) -> Big {
    let mut rem: Big = Vec::new();
    for bit in (0..n.len() * 32).rev() {
        rem = shl1(&rem, (n[bit / 32] >> (bit % 32)) & 1);
        if cmp(&rem, m) != Ordering::Less {
            sub_assign(&mut rem, m);
        }
    }
    rem
}

fn shl1(n: &[u32], low_bit: u32) -> Big {
    let mut out = Vec::with_capacity(n.len() + 1);
    let mut carry = low_bit;
    for &limb in n {
        out.push((limb << 1) | carry);
        carry = limb >> 31;
    }
    out.push(carry);
    trim(out)
}

fn mul_mod(a: &[u32], b: &[u32], m: &[u32]) -> Big {
    reduce(&mul(a, b), m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    #[test]
    fn generators_are_on_their_curves() {
        let gx = hex("6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296");
        let gy = hex("4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5");
        assert!(is_on_curve(Curve::P256, &gx, &gy));
        let mut bad = gy.clone();
        bad[31] ^= 1;
        assert!(!is_on_curve(Curve::P256, &gx, &bad));
        assert!(!is_on_curve(Curve::P384, &gx, &gy));

        let gx =
            hex("aa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7");
        let gy =
            hex("3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5f");
        assert!(is_on_curve(Curve::P384, &gx, &gy));
    }

    #[test]
    fn coordinates_must_be_reduced() {
        let p = hex(P256_P);
        assert!(!is_on_curve(Curve::P256, &p, &p));
    }
}
