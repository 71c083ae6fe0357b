//! Where the client may send the id_token: the origins of the app's own API,
//! as the app lists them (`tokenOrigins`). A request anywhere else goes out
//! without the token.
//!
//! The check fails closed: a URL is matched only when its scheme and
//! authority are plainly `http(s)://host[:port]`. Anything a URL parser
//! might read differently (user info, backslashes, percent-escapes or
//! control characters before the path, an unknown scheme, a relative URL)
//! gets no token.

use crate::error::{Error, ErrorCode, Result};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// The longest origin accepted, and the most origins in a list.
const MAX_ORIGIN_LEN: usize = 256;
const MAX_ORIGINS: usize = 64;

/// The origins the id_token may be sent to, normalised
/// (`scheme://host[:port]`, lower case, default ports left out).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TokenOrigins(Vec<String>);

impl TokenOrigins {
    /// Reads a list such as `["https://api.example.com", "http://127.0.0.1:8080"]`.
    pub fn new<'a>(origins: impl IntoIterator<Item = &'a str>) -> Result<Self> {
        let mut list = Vec::new();
        for origin in origins {
            let invalid = || {
                Error::with_message(
                    ErrorCode::InvalidArgument,
                    format!("\"tokenOrigins\": {origin:?} is not an origin such as \"https://api.example.com\""),
                )
            };
            let (normalised, rest) = split_origin(origin).ok_or_else(invalid)?;
            if origin.len() > MAX_ORIGIN_LEN || !(rest.is_empty() || rest == "/") {
                return Err(invalid());
            }
            list.push(normalised);
        }
        if list.len() > MAX_ORIGINS {
            return Err(Error::new(ErrorCode::InvalidArgument, "\"tokenOrigins\" lists more than 64 origins"));
        }
        Ok(Self(list))
    }

    /// Whether a request to `url` may carry the id_token.
    pub fn allow(&self, url: &str) -> bool {
        split_origin(url).is_some_and(|(origin, _)| self.0.contains(&origin))
    }
}

/// The normalised origin of an absolute `http(s)` URL and what follows it,
/// or `None` when the URL is not plainly of that form.
fn split_origin(url: &str) -> Option<(String, &str)> {
    if url.bytes().any(|b| b.is_ascii_control() || b == b' ') {
        return None;
    }
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => 443,
        "http" => 80,
        _ => return None,
    };
    let end = rest.find(['/', '\\', '?', '#']).unwrap_or(rest.len());
    if rest[end..].starts_with('\\') {
        return None;
    }
    let (authority, after) = rest.split_at(end);
    let (host, port) = split_port(authority)?;
    let host_ok = if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        !inner.is_empty() && inner.bytes().all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
    } else {
        !host.is_empty() && host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    };
    if !host_ok {
        return None;
    }
    let host = host.to_ascii_lowercase();
    let origin = match port {
        Some(port) if port != default_port => format!("{scheme}://{host}:{port}"),
        _ => format!("{scheme}://{host}"),
    };
    Some((origin, after))
}

/// `host[:port]`, the port a number up to 65535 (an empty one is none).
fn split_port(authority: &str) -> Option<(&str, Option<u32>)> {
    let colon = match authority.rfind(':') {
        // A colon inside an IPv6 literal is not a port separator.
        Some(i) if !authority[i..].contains(']') => i,
        _ => return Some((authority, None)),
    };
    let (host, digits) = (&authority[..colon], &authority[colon + 1..]);
    if digits.is_empty() {
        return Some((host, None));
    }
    if digits.len() > 5 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let port: u32 = digits.parse().ok()?;
    (port <= 65_535).then_some((host, Some(port)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origins(list: &[&str]) -> TokenOrigins {
        TokenOrigins::new(list.iter().copied()).expect("valid origins")
    }

    #[test]
    fn listed_origins_get_the_token_and_nothing_else_does() {
        let o = origins(&["https://api.example.com", "http://127.0.0.1:8080/"]);
        for url in [
            "https://api.example.com",
            "https://api.example.com/",
            "https://api.example.com/v1/me?x=1#f",
            "HTTPS://API.Example.COM:443/v1",
            "https://api.example.com:/v1",
            "http://127.0.0.1:8080/api",
            "https://api.example.com/路径?名=值",
        ] {
            assert!(o.allow(url), "{url}");
        }
        for url in [
            "http://api.example.com/",
            "https://api.example.com:8443/",
            "https://api.example.com.evil.com/",
            "https://evil.com/https://api.example.com",
            "https://api.example.com@evil.com/",
            "https://evil.com@api.example.com/",
            "https://evil.com\\@api.example.com/",
            "https://api.example.com\\@evil.com/",
            "https://api%2Eexample.com/",
            "https://api.example.com./",
            "https://api.exa\nmple.com/",
            " https://api.example.com/",
            "//api.example.com/",
            "/v1/me",
            "wss://api.example.com/",
            "https://api.example.com:99999/",
            "http://127.0.0.1:80/",
            "",
        ] {
            assert!(!o.allow(url), "{url:?}");
        }
    }

    #[test]
    fn ipv6_literals_and_default_ports() {
        let o = origins(&["http://[::1]:8080", "https://example.com:443"]);
        assert!(o.allow("http://[::1]:8080/x"));
        assert!(!o.allow("http://[::1]/x"));
        assert!(o.allow("https://example.com/"));
        assert_eq!(o.0, ["http://[::1]:8080", "https://example.com"]);
    }

    #[test]
    fn a_list_entry_must_be_an_origin() {
        for bad in [
            "api.example.com",
            "https://api.example.com/v1",
            "https://",
            "ftp://example.com",
            "https://u@example.com",
            "*",
        ] {
            assert_eq!(TokenOrigins::new([bad]).unwrap_err().code(), ErrorCode::InvalidArgument, "{bad}");
        }
        assert_eq!(TokenOrigins::new([]).unwrap(), TokenOrigins::default());
        assert!(!TokenOrigins::default().allow("https://api.example.com/"), "none by default");
    }
}
