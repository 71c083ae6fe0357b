//! Phone numbers: the one rule for every place that reads one (one-time
//! codes, the WeChat client's `getPhoneNumber` answer, the simulator), so
//! that a number one of them accepts is never refused by another.
//!
//! A number is an ITU country calling code and a national number, at most
//! 15 digits together (E.164). Mainland China (+86) numbers must be mobile
//! numbers (11 digits, `1[3-9]…`), the only kind that receives the codes and
//! that WeChat reports; and they may be written without `+86`.

use super::wechat::PhoneInfo;

/// A phone number that passed the rules above; made only by
/// [`PhoneNumber::parse`] and [`PhoneNumber::from_parts`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhoneNumber {
    country_code: String,
    national: String,
}

impl PhoneNumber {
    /// Reads what a person types: `+<country code><number>` or a mainland
    /// mobile number, spaces and hyphens allowed (`+86 138-0013-8000`).
    pub fn parse(input: &str) -> Option<Self> {
        if input.len() > 32 {
            return None;
        }
        let compact: String = input.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        match compact.strip_prefix('+') {
            // Digits only before slicing: a multi-byte character must not be cut.
            Some(digits) if digits.bytes().all(|b| b.is_ascii_digit()) => {
                let length = country_code_length(digits)?;
                Self::from_parts(&digits[..length], &digits[length..])
            }
            Some(_) => None,
            None => Self::from_parts("86", &compact),
        }
    }

    /// A number given in parts, as WeChat gives them (`countryCode` with or
    /// without `+`, `purePhoneNumber`).
    pub fn from_parts(country_code: &str, national: &str) -> Option<Self> {
        let country_code = country_code.strip_prefix('+').unwrap_or(country_code);
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(country_code) || !digits(national) || country_code_length(country_code)? != country_code.len() {
            return None;
        }
        let valid = if country_code == "86" {
            national.len() == 11 && national.starts_with('1') && matches!(national.as_bytes()[1], b'3'..=b'9')
        } else {
            national.len() >= 4 && (8..=15).contains(&(country_code.len() + national.len()))
        };
        valid.then(|| Self { country_code: country_code.to_owned(), national: national.to_owned() })
    }

    /// E.164: `+8613800138000`. The form numbers are stored and compared in.
    pub fn e164(&self) -> String {
        format!("+{}{}", self.country_code, self.national)
    }

    /// The country calling code without `+`, e.g. `86`.
    pub fn country_code(&self) -> &str {
        &self.country_code
    }

    /// The number without its country code, e.g. `13800138000`.
    pub fn national(&self) -> &str {
        &self.national
    }
}

impl From<PhoneNumber> for PhoneInfo {
    fn from(number: PhoneNumber) -> Self {
        Self { phone_number: number.e164(), pure_phone_number: number.national, country_code: number.country_code }
    }
}

/// The length of the country calling code at the start of `digits` (the
/// codes are prefix-free: 1, 7, the two-digit ones below, else three), or
/// `None` when nothing follows it or it starts with 0.
fn country_code_length(digits: &str) -> Option<usize> {
    const TWO_DIGIT: [&str; 44] = [
        "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46", "47", "48", "49",
        "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63", "64", "65", "66", "81", "82", "84",
        "86", "90", "91", "92", "93", "94", "95", "98",
    ];
    let length = match digits.as_bytes().first()? {
        b'0' => return None,
        b'1' | b'7' => 1,
        _ if TWO_DIGIT.iter().any(|code| digits.starts_with(code)) => 2,
        _ => 3,
    };
    (digits.len() >= length).then_some(length)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(input: &str) -> Option<(String, String)> {
        PhoneNumber::parse(input).map(|n| (n.country_code, n.national))
    }

    #[test]
    fn typed_numbers() {
        let ok = |cc: &str, national: &str| Some((cc.to_owned(), national.to_owned()));
        assert_eq!(parts("13800138000"), ok("86", "13800138000"));
        assert_eq!(parts("+8613800138000"), ok("86", "13800138000"));
        assert_eq!(parts("+86 138-0013-8000"), ok("86", "13800138000"));
        assert_eq!(parts("+14155550123"), ok("1", "4155550123"));
        assert_eq!(parts("+79161234567"), ok("7", "9161234567"));
        assert_eq!(parts("+85291234567"), ok("852", "91234567"));
        assert_eq!(parts("+886912345678"), ok("886", "912345678"));
        assert_eq!(PhoneNumber::parse("138 0013 8000").unwrap().e164(), "+8613800138000");
    }

    #[test]
    fn refused_everywhere() {
        for bad in [
            "",
            "+",
            "abc",
            "+86123",
            "1380013800",
            "138001380001",
            "12800138000",
            "+8612800138000",
            "23800138000",
            "+86138001380001",
            "+0123456",
            "+1234",
            "+1415555012345678",
            "+1234567890123456",
            "+1 415 555 0123 x",
        ] {
            assert_eq!(parts(bad), None, "{bad}");
        }
        assert_eq!(PhoneNumber::parse(&"1".repeat(33)), None, "longer than any number");
        // Found by schemathesis: a multi-byte character where the country code ends.
        for bad in ["+21\u{80}", "+2\u{80}1", "+86\u{4e2d}13800138000", "+\u{80}"] {
            assert_eq!(parts(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn wechat_parts() {
        let info: PhoneInfo = PhoneNumber::from_parts("+86", "13800138000").unwrap().into();
        assert_eq!(info.phone_number, "+8613800138000");
        assert_eq!(info.country_code, "86");
        assert_eq!(info.pure_phone_number, "13800138000");
        assert!(PhoneNumber::from_parts("86", "12800138000").is_none(), "not a mobile number");
        assert!(PhoneNumber::from_parts("861", "3800138000").is_none(), "not a country code");
        assert!(PhoneNumber::from_parts("", "13800138000").is_none());
        assert!(PhoneNumber::from_parts("1", "4155550123").is_some());
    }
}
