//! Time as the server sees it, injected so that tests move it forward
//! instead of sleeping.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch.
pub type Millis = i64;

/// `ms` in whole seconds, rounded down: what is left of a lifetime, as
/// answers give it (`expires_in`); 0 once it is over.
pub fn secs(ms: Millis) -> u64 {
    u64::try_from(ms.max(0) / 1000).unwrap_or(0)
}

/// `ms` in whole seconds, rounded up and at least 1: how long to wait, as
/// `Retry-After` gives it (waiting less would be refused again).
pub fn secs_to_wait(ms: Millis) -> u64 {
    u64::try_from((ms + 999) / 1000).unwrap_or(1).max(1)
}

/// The source of "now" for every rule that involves time: token lifetimes,
/// code expiry, rate limits, the WeChat simulator's code lifetime.
pub trait Clock: Send + Sync + 'static {
    /// Now, in milliseconds since the Unix epoch.
    fn now(&self) -> Millis;

    /// Now, in whole seconds since the Unix epoch.
    fn now_secs(&self) -> i64 {
        self.now().div_euclid(1000)
    }
}

/// The operating system's wall clock; it may step back or forward when the
/// system time is set.
#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Millis {
        let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
    }
}

/// A clock that only moves when told to: for tests.
#[derive(Debug)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    /// A clock stopped at `start` (milliseconds since the epoch) until
    /// [`ManualClock::advance`] moves it.
    pub fn new(start: Millis) -> Self {
        Self(AtomicI64::new(start))
    }

    /// A clock stopped at the current system time.
    pub fn starting_now() -> Self {
        Self::new(SystemClock.now())
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let by = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.0.fetch_add(by, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Millis {
        self.0.load(Ordering::SeqCst)
    }
}
