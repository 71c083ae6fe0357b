//! Recipients of codes: one normal form per phone number or email address,
//! and which phone numbers codes may go to at all.

use super::super::error::AppError;
use super::super::phone::PhoneNumber;
use crate::protocol::{ApiErrorCode, Channel};

/// Normalises a recipient: phone numbers to E.164 (mainland China numbers
/// may omit +86), email addresses to lower case after a strict syntax check
/// (a dot-atom local part and a host name; see the source for the rules).
/// For `wechat` the recipient names an account
/// ([`crate::server::users::by_account`]).
pub fn normalize_recipient(channel: Channel, to: &str) -> Result<String, AppError> {
    let invalid = |what| AppError::new(ApiErrorCode::InvalidRecipient, what);
    let to = to.trim();
    match channel {
        Channel::Sms => PhoneNumber::parse(to).map(|n| n.e164()).ok_or_else(|| invalid("not a valid phone number")),
        Channel::Email => normalize_email(to).ok_or_else(|| invalid("not a valid email address")),
        // No account has a name with control characters (nor may one reach
        // the database: PostgreSQL refuses a NUL in text).
        Channel::Wechat if to.is_empty() || to.chars().any(char::is_control) => {
            Err(invalid("name the account by username, phone number or email"))
        }
        Channel::Wechat => Ok(to.to_owned()),
    }
}

/// An address of the form mailboxes are really reached by, in lower case:
/// a dot-atom local part (RFC 5322 `atext`, no leading, trailing or double
/// dot, at most 64 characters) and a host name of at least two labels
/// (letters, digits, inner hyphens; at most 63 each) whose last label is
/// not all digits; 254 characters in all. Quoted local parts, address
/// literals, comments and non-ASCII are refused: each would give one
/// mailbox several spellings, or none a gateway accepts.
fn normalize_email(address: &str) -> Option<String> {
    let lower = address.to_ascii_lowercase();
    let (local, domain) = lower.split_once('@')?;
    let atext = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~-".contains(&b);
    let local_ok = local.len() <= 64 && local.split('.').all(|atom| !atom.is_empty() && atom.bytes().all(atext));
    let label_ok = |label: &str| {
        (1..=63).contains(&label.len())
            && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|label| label_ok(label))
        && labels.last().is_some_and(|top| !top.bytes().all(|b| b.is_ascii_digit()));
    (lower.len() <= 254 && local_ok && domain_ok).then_some(lower)
}

/// The country calling codes SMS codes may go to (`--sms-countries`).
/// Sending abroad costs more and is where SMS fraud pays, so only the
/// operator's own markets are open: +86 unless set otherwise.
#[derive(Clone, Debug)]
pub struct SmsCountries(Vec<String>);

impl SmsCountries {
    /// The calling codes given, with or without `+`.
    pub fn new(codes: &[String]) -> Self {
        Self(codes.iter().map(|c| c.trim().trim_start_matches('+').to_owned()).collect())
    }

    /// Refuses `to` (normalised) unless its country calling code is listed.
    /// Email addresses are not restricted.
    pub fn check(&self, channel: Channel, to: &str) -> Result<(), AppError> {
        let Channel::Sms = channel else { return Ok(()) };
        match PhoneNumber::parse(to) {
            Some(number) if self.0.iter().any(|c| c == number.country_code()) => Ok(()),
            _ => Err(AppError::new(
                ApiErrorCode::RecipientNotAllowed,
                "codes are not sent to phone numbers of this country",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_have_one_normal_form_and_nothing_else_passes() {
        assert_eq!(normalize_recipient(Channel::Email, " Li.Lei@Example.COM ").unwrap(), "li.lei@example.com");
        for good in ["a+tag@mail.example.com", "o'neil@x-y.cn", "a@b.co", "1@xn--fiqs8s.xn--fiqz9s"] {
            assert!(normalize_recipient(Channel::Email, good).is_ok(), "{good}");
        }
        let long_local = format!("{}@example.com", "a".repeat(65));
        let long_label = format!("a@{}.com", "b".repeat(64));
        for bad in [
            "",
            "a",
            "a@b",
            "@b.c",
            "a@.c",
            "a@b.",
            "a b@c.d",
            "a@b@c.d",
            "x@example.com\"<script>",
            "a@x..com",
            ".a@x.com",
            "a.@x.com",
            "a..b@x.com",
            "\"a\"@x.com",
            "a@[127.0.0.1]",
            "a@1.2.3.4",
            "a@-x.com",
            "a@x-.com",
            "a@x_y.com",
            "李@例子.中国",
            "a@x.com\0",
            long_local.as_str(),
            long_label.as_str(),
        ] {
            assert!(normalize_recipient(Channel::Email, bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn sms_goes_only_to_listed_countries() {
        let mainland = SmsCountries::new(&["86".into()]);
        assert!(mainland.check(Channel::Sms, "+8613800138000").is_ok());
        let refused = mainland.check(Channel::Sms, "+447911123456").unwrap_err();
        assert_eq!(refused.code(), ApiErrorCode::RecipientNotAllowed);
        assert!(mainland.check(Channel::Email, "a@example.com").is_ok());
        let more = SmsCountries::new(&["+86".into(), "44".into()]);
        assert!(more.check(Channel::Sms, "+447911123456").is_ok());
        assert!(more.check(Channel::Sms, "+12025550123").is_err());
        assert!(mainland.check(Channel::Wechat, "+447911123456").is_ok());
    }

    #[test]
    fn an_account_name_is_trimmed_and_has_no_control_characters() {
        assert_eq!(normalize_recipient(Channel::Wechat, " lin ").unwrap(), "lin");
        for blank_or_control in ["  ", "li\0n", "li\nn"] {
            let refused = normalize_recipient(Channel::Wechat, blank_or_control).unwrap_err();
            assert_eq!(refused.code(), ApiErrorCode::InvalidRecipient);
        }
    }
}
