//! Just enough DER to read an SPKI public key and an RSAPublicKey: definite,
//! minimally encoded lengths only, so that one key has one encoding.

use super::Invalid;

pub(super) const SEQUENCE: u8 = 0x30;
pub(super) const INTEGER: u8 = 0x02;
pub(super) const BIT_STRING: u8 = 0x03;
pub(super) const OID: u8 = 0x06;
pub(super) const NULL: u8 = 0x05;

/// A cursor over DER bytes.
pub(super) struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    pub(super) fn new(bytes: &'a [u8]) -> Self {
        Self(bytes)
    }

    pub(super) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Reads one element with the expected tag and returns its contents.
    pub(super) fn read(&mut self, tag: u8) -> Result<&'a [u8], Invalid> {
        let (&found, rest) = self.0.split_first().ok_or(Invalid("truncated DER"))?;
        if found != tag {
            return Err(Invalid("unexpected DER tag"));
        }
        let (&first, mut rest) = rest.split_first().ok_or(Invalid("truncated DER"))?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let count = usize::from(first & 0x7f);
            if count == 0 || count > 2 || rest.len() < count {
                return Err(Invalid("unsupported DER length"));
            }
            let len = rest[..count].iter().fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
            // Minimal encoding: long form only for lengths >= 128, no leading zero.
            if len < 0x80 || rest[0] == 0 {
                return Err(Invalid("non-minimal DER length"));
            }
            rest = &rest[count..];
            len
        };
        if rest.len() < len {
            return Err(Invalid("truncated DER"));
        }
        let (value, rest) = rest.split_at(len);
        self.0 = rest;
        Ok(value)
    }

    /// Reads a non-negative INTEGER and returns its magnitude without the
    /// sign byte.
    pub(super) fn read_unsigned(&mut self) -> Result<&'a [u8], Invalid> {
        let value = self.read(INTEGER)?;
        match value {
            [] => Err(Invalid("empty DER integer")),
            [first, ..] if first & 0x80 != 0 => Err(Invalid("negative DER integer")),
            [0, second, ..] if second & 0x80 == 0 => Err(Invalid("non-minimal DER integer")),
            [0, rest @ ..] if !rest.is_empty() => Ok(rest),
            _ => Ok(value),
        }
    }

    /// Requires that nothing follows.
    pub(super) fn finish(self) -> Result<(), Invalid> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Invalid("trailing data after DER element"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_short_and_long_lengths() {
        let mut r = Reader::new(&[0x05, 0x00, 0x02, 0x01, 0x07]);
        assert_eq!(r.read(NULL).unwrap(), &[] as &[u8]);
        assert_eq!(r.read_unsigned().unwrap(), &[7]);
        r.finish().unwrap();

        let mut long = alloc::vec![0x04, 0x81, 0x80];
        long.extend([0xaa; 0x80]);
        assert_eq!(Reader::new(&long).read(0x04).unwrap().len(), 0x80);
    }

    #[test]
    fn rejects_non_canonical_encodings() {
        assert!(Reader::new(&[0x04, 0x81, 0x05, 1, 2, 3, 4, 5]).read(0x04).is_err());
        assert!(Reader::new(&[0x04, 0x80]).read(0x04).is_err());
        assert!(Reader::new(&[0x02, 0x02, 0x00, 0x01]).read_unsigned().is_err());
        assert!(Reader::new(&[0x02, 0x01, 0x80]).read_unsigned().is_err());
        assert!(Reader::new(&[0x02, 0x05, 0x01]).read_unsigned().is_err());
        assert!(Reader::new(&[0x30, 0x00, 0x00]).finish().is_err());
    }
}
