//! What a user may write into their own profile (`PATCH /v1/userinfo`):
//! short text without control or bidirectional-override characters (which
//! would let a name rewrite how the text around it reads), an `https:`
//! picture URL, an OpenID Connect birthdate, a BCP 47 locale.

use super::error::AppError;
use crate::protocol::{ProfileUpdate, Text};

/// Checks every field given (a `null` clears a field and is always fine)
/// and trims the text fields.
pub fn check(update: &mut ProfileUpdate) -> Result<(), AppError> {
    text(&mut update.name, "name")?;
    text(&mut update.nickname, "nickname")?;
    text(&mut update.gender, "gender")?;
    field(&update.picture, "picture", "an https: URL", picture)?;
    field(&update.birthdate, "birthdate", "YYYY-MM-DD, 0000-MM-DD or YYYY", birthdate)?;
    field(&update.locale, "locale", "a BCP 47 language tag such as zh-CN", locale)?;
    Ok(())
}

fn text<const MIN: usize, const MAX: usize>(
    value: &mut Option<Option<Text<MIN, MAX>>>,
    name: &str,
) -> Result<(), AppError> {
    if let Some(Some(text)) = value {
        *text = display_text(text, name)?;
    }
    Ok(())
}

/// A name shown to people (a profile's text fields, the name given at
/// registration): trimmed, still within its type's length (checked before
/// trimming), and free of control and bidirectional-override characters.
pub fn display_text<const MIN: usize, const MAX: usize>(
    text: &Text<MIN, MAX>,
    name: &str,
) -> Result<Text<MIN, MAX>, AppError> {
    Text::new(text.trim()).filter(|trimmed| !trimmed.chars().any(is_forbidden)).ok_or_else(|| {
        AppError::invalid_request(format!(
            "\"{name}\" must be {MIN} to {MAX} characters, with no control or bidirectional-override characters"
        ))
    })
}

/// `text` without the characters [`display_text`] refuses, trimmed: for
/// names that come from elsewhere (WeChat), which nobody here can correct.
pub fn fit_to_show(text: &str) -> String {
    text.chars().filter(|c| !is_forbidden(*c)).collect::<String>().trim().to_owned()
}

/// Control characters, bidirectional overrides and marks, line and
/// paragraph separators, and the invisible spaces (zero-width space, word
/// joiner, BOM). The zero-width joiners stay: scripts and emoji need them.
fn is_forbidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{061C}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{200B}'
                | '\u{2060}'
                | '\u{FEFF}'
        )
}

fn field<const MIN: usize, const MAX: usize>(
    value: &Option<Option<Text<MIN, MAX>>>,
    name: &str,
    expected: &str,
    valid: fn(&str) -> bool,
) -> Result<(), AppError> {
    match value {
        Some(Some(text)) if !valid(text) => {
            Err(AppError::invalid_request(format!("\"{name}\" must be {expected} (null clears it)")))
        }
        _ => Ok(()),
    }
}

/// An `https:` URL with a host, printable ASCII only, naming no user.
pub fn picture(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("https://") else { return false };
    let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    host_end > 0 && url.bytes().all(|b| b.is_ascii_graphic()) && !rest[..host_end].contains(['@', '\\'])
}

fn birthdate(date: &str) -> bool {
    let digits = |part: &str, len: usize| part.len() == len && part.bytes().all(|b| b.is_ascii_digit());
    if digits(date, 4) {
        return date != "0000";
    }
    let mut parts = date.split('-');
    let (Some(year), Some(month), Some(day), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    if !(digits(year, 4) && digits(month, 2) && digits(day, 2)) {
        return false;
    }
    let (year, month, day): (u32, u32, u32) =
        (year.parse().unwrap_or(0), month.parse().unwrap_or(0), day.parse().unwrap_or(0));
    let leap = year == 0 || (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0));
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

fn locale(tag: &str) -> bool {
    let mut subtags = tag.split(['-', '_']);
    let language = subtags.next().unwrap_or("");
    tag.len() <= 35
        && (2..=3).contains(&language.len())
        && language.bytes().all(|b| b.is_ascii_alphabetic())
        && subtags.all(|s| (1..=8).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(json: &str) -> ProfileUpdate {
        serde_json::from_str(json).expect("a well-formed update")
    }

    /// Whether `{"<field>": value}` is taken: by its type (the lengths),
    /// then by `check`.
    fn accepted(field: &str, value: &str) -> bool {
        let json = serde_json::json!({ field: value }).to_string();
        serde_json::from_str::<ProfileUpdate>(&json).is_ok_and(|mut update| check(&mut update).is_ok())
    }

    #[test]
    fn absent_fields_stay_null_fields_clear() {
        let mut u = update(r#"{"nickname":null,"name":"  Alice  "}"#);
        check(&mut u).unwrap();
        assert_eq!(u.nickname, Some(None));
        assert_eq!(u.name.as_ref().map(|name| name.as_deref()), Some(Some("Alice")), "trimmed");
        assert_eq!(u.locale, None);
    }

    #[test]
    fn identifiers_and_unknown_fields_are_not_editable() {
        for json in
            [r#"{"phone_number":"+8613800000000"}"#, r#"{"email":"a@example.com"}"#, r#"{"sub":"usr_x"}"#, r#""x""#]
        {
            assert!(serde_json::from_str::<ProfileUpdate>(json).is_err(), "{json}");
        }
    }

    #[test]
    fn text_is_bounded_and_free_of_control_and_bidi_characters() {
        for bad in ["", "   ", "a\u{0}b", "line\nbreak", "evil\u{202E}txt", "\u{2066}x", &"长".repeat(65)] {
            assert!(!accepted("nickname", bad), "{bad:?}");
        }
        assert!(accepted("nickname", &"微信用户 😀".repeat(8)));
        assert!(accepted("nickname", &"长".repeat(64)));
    }

    #[test]
    fn picture_birthdate_and_locale_have_their_syntax() {
        assert!(accepted("picture", "https://cdn.example.com/a.png?s=64"));
        assert!(!accepted("picture", &format!("https://cdn.example.com/{}", "a".repeat(2048))), "too long");
        for bad in [
            "http://cdn.example.com/a.png",
            "https://",
            "https:///x",
            "javascript:alert(1)",
            "https://a b",
            "https://u@evil.com/",
        ] {
            assert!(!accepted("picture", bad), "{bad}");
        }
        for good in ["1990-02-28", "2000-02-29", "0000-02-29", "1990"] {
            assert!(accepted("birthdate", good), "{good}");
        }
        for bad in ["1990-02-30", "1900-02-29", "1990-13-01", "1990-1-01", "90", "0000", "1990-02-28T00:00"] {
            assert!(!accepted("birthdate", bad), "{bad}");
        }
        for good in ["zh-CN", "en", "zh_Hans_CN", "yue-HK"] {
            assert!(accepted("locale", good), "{good}");
        }
        for bad in ["c", "zh-", "zh--CN", "中文", "en-US-toolongsubtag", "1a"] {
            assert!(!accepted("locale", bad), "{bad}");
        }
    }
}
