//! Fixed-window rate limits per client address and per account, kept in
//! memory. Each limit answers 429 with `Retry-After` when exceeded.

use super::clock::{secs_to_wait, Clock, Millis};
use super::error::AppError;
use crate::protocol::ApiErrorCode;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The window every limit counts over.
const WINDOW_MS: Millis = 60_000;
/// Entries kept before stale windows are swept (at most once a second, so
/// a full map does not cost a sweep per request).
const SWEEP_AT: usize = 100_000;
const SWEEP_EVERY_MS: Millis = 1_000;

/// What a limit applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    /// WeChat and phone logins.
    Login,
    /// Bind and register calls.
    Bind,
    /// Sending one-time codes.
    VerifyCode,
    /// Session refresh and logout.
    Refresh,
    /// Profile updates.
    Profile,
}

/// Requests allowed per minute, per client address and per account.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Per client address, per scope.
    pub per_ip: u32,
    /// Per client address, for [`Scope::Refresh`].
    pub per_ip_refresh: u32,
    /// Per account (a WeChat identity, a recipient, a session), per scope.
    pub per_account: u32,
}

/// One-minute windows of request counts by scope and key, in memory (a
/// restart resets them); stale windows are swept past 100,000 keys.
pub struct RateLimiter {
    limits: Limits,
    clock: Arc<dyn Clock>,
    windows: Mutex<Windows>,
}

#[derive(Default)]
struct Windows {
    counts: HashMap<(Scope, String), (Millis, u32)>,
    last_sweep: Millis,
}

impl RateLimiter {
    /// Limits counted on `clock`.
    pub fn new(limits: Limits, clock: Arc<dyn Clock>) -> Self {
        Self { limits, clock, windows: Mutex::new(Windows::default()) }
    }

    /// Counts a request from client address `ip`.
    pub fn check_ip(&self, scope: Scope, ip: &str) -> Result<(), AppError> {
        let limit = if scope == Scope::Refresh { self.limits.per_ip_refresh } else { self.limits.per_ip };
        self.check(scope, format!("ip:{ip}"), limit)
    }

    /// Counts a request for `account` (any stable key for the account).
    pub fn check_account(&self, scope: Scope, account: &str) -> Result<(), AppError> {
        self.check(scope, format!("acct:{account}"), self.limits.per_account)
    }

    fn check(&self, scope: Scope, key: String, limit: u32) -> Result<(), AppError> {
        let now = self.clock.now();
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if windows.counts.len() >= SWEEP_AT && now - windows.last_sweep >= SWEEP_EVERY_MS {
            windows.counts.retain(|_, (start, _)| now - *start < WINDOW_MS);
            windows.last_sweep = now;
        }
        let (start, count) = windows.counts.entry((scope, key)).or_insert((now, 0));
        if now - *start >= WINDOW_MS {
            *start = now;
            *count = 0;
        }
        if *count >= limit {
            let retry_after = secs_to_wait(*start + WINDOW_MS - now);
            return Err(AppError::too_many(
                ApiErrorCode::RateLimited,
                "too many requests; try again later",
                retry_after,
            ));
        }
        *count += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::clock::ManualClock;
    use std::time::Duration;

    #[test]
    fn counts_per_key_and_resets_after_the_window() {
        let clock = Arc::new(ManualClock::new(1_000_000));
        let limiter = RateLimiter::new(Limits { per_ip: 2, per_ip_refresh: 3, per_account: 1 }, clock.clone());
        assert!(limiter.check_ip(Scope::Login, "1.2.3.4").is_ok());
        assert!(limiter.check_ip(Scope::Login, "1.2.3.4").is_ok());
        let refused = limiter.check_ip(Scope::Login, "1.2.3.4").unwrap_err();
        assert_eq!(refused.code(), ApiErrorCode::RateLimited);
        assert!(limiter.check_ip(Scope::Login, "5.6.7.8").is_ok(), "other addresses are unaffected");
        assert!(limiter.check_ip(Scope::Bind, "1.2.3.4").is_ok(), "other scopes are unaffected");
        for _ in 0..3 {
            assert!(limiter.check_ip(Scope::Refresh, "1.2.3.4").is_ok(), "refresh has its own per-address limit");
        }
        assert!(limiter.check_ip(Scope::Refresh, "1.2.3.4").is_err());
        assert!(limiter.check_account(Scope::Refresh, "s").is_ok());
        assert!(limiter.check_account(Scope::Refresh, "s").is_err());
        clock.advance(Duration::from_secs(60));
        assert!(limiter.check_ip(Scope::Login, "1.2.3.4").is_ok());
        assert!(limiter.check_account(Scope::Refresh, "s").is_ok());
    }
}
