//! Strict base64url (RFC 7515 §2): the URL-safe alphabet, no padding, no
//! white space, and unused trailing bits that must be zero, so that every
//! byte string has exactly one accepted encoding.

use alloc::vec::Vec;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;

const STRICT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(false),
);

/// Decodes strict base64url, or `None` if `input` is not canonical.
pub(crate) fn decode(input: &[u8]) -> Option<Vec<u8>> {
    STRICT.decode(input).ok()
}

/// Encodes without padding.
#[cfg(test)]
pub(crate) fn encode(input: &[u8]) -> alloc::string::String {
    STRICT.encode(input)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for len in 0..40 {
            let bytes: Vec<u8> = (0..len as u8).map(|b| b.wrapping_mul(37)).collect();
            assert_eq!(decode(encode(&bytes).as_bytes()).unwrap(), bytes);
        }
    }

    #[test]
    fn rejects_non_canonical_forms() {
        assert_eq!(decode(b"VGVzdA").unwrap(), b"Test");
        assert!(decode(b"VGVzdA==").is_none(), "padding");
        assert!(decode(b"VGVzdB").is_none(), "non-zero trailing bits");
        assert!(decode(b"VGV zdA").is_none(), "white space");
        assert!(decode(b"VGVzd+").is_none(), "standard alphabet");
        assert!(decode(b"VGVzd/").is_none(), "standard alphabet");
        assert!(decode(b"A").is_none(), "impossible length");
    }
}
