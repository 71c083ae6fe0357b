//! Ceilings on guessing: one-time codes and passwords. Every guess counts
//! against three subjects over a rolling day:
//!
//! - the guesser (the WeChat identity of a bind's state token, or the
//!   signed-in user linking a chat contact): 5 free failures, then waits
//!   that double from 2 s (capped at 15 minutes), and at most 20;
//! - the source address (an IPv6 address by its /64): 20 free, then the same
//!   waits, and at most 100;
//! - the target (the recipient, chat contact or username guessed at): at
//!   most 50, no waits.
//!
//! The waits fall on whoever failed, so a stranger's failures never delay
//! the owner's own attempt; only the target's ceiling is shared, and
//! reaching it takes several WeChat identities. It bounds a takeover by
//! guessing to 50 tries in 10⁶ a day.
//!
//! A guess is counted as failed when it starts and forgiven when it turns
//! out right (or was no guess at all), so that concurrent guesses cannot
//! all pass the check before any of them is counted.

use super::clock::{secs_to_wait, Millis};
use super::db::take_turn;
use super::error::{AppError, AppResult};
use crate::protocol::ApiErrorCode;
use sqlx::AnyPool;
use std::net::IpAddr;

/// The window every ceiling counts over.
pub const WINDOW_MS: Millis = 24 * 60 * 60_000;
/// The longest wait between two failures.
const MAX_WAIT_MS: Millis = 15 * 60_000;

struct Rule {
    /// Failures before waits begin.
    free: i64,
    /// Failures after which nothing more is tried until the oldest leaves
    /// the window.
    ceiling: i64,
    /// Who is refused, for the message.
    whose: &'static str,
}

const GUESSER: Rule = Rule { free: 5, ceiling: 20, whose: "this account" };
const SOURCE: Rule = Rule { free: 20, ceiling: 100, whose: "this network address" };
const TARGET: Rule = Rule { free: i64::MAX, ceiling: 50, whose: "this recipient or username" };

/// One guess: at what, by whom, from where.
#[derive(Debug)]
pub struct Guess {
    /// The recipient (`sms:+86…`, `email:…`, `wechat:<bot>/<contact>`) or
    /// `username:…` guessed at; `None` for a guess at whatever is live (a
    /// chat sign-in's challenge may be anyone's).
    pub target: Option<String>,
    /// The guessing WeChat identity (`appid:openid`) or signed-in user
    /// (`user:<id>`).
    pub guesser: String,
    /// The client's address; `None` for a guess a bot relays, whose address
    /// is every contact's.
    pub source: Option<IpAddr>,
}

impl Guess {
    fn subjects(&self) -> Vec<(&'static Rule, String)> {
        let mut subjects = vec![(&GUESSER, format!("guesser:{}", self.guesser))];
        subjects.extend(self.source.map(|source| (&SOURCE, format!("source:{}", network_of(source)))));
        subjects.extend(self.target.as_ref().map(|target| (&TARGET, format!("target:{target}"))));
        subjects
    }
}

/// An address as a source of guesses: IPv4 as it is, IPv6 by its /64 (one
/// subscriber usually holds a whole /64).
fn network_of(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// A guess counted as failed until [`Attempt::forgive`] says otherwise.
#[must_use = "a right guess must be forgiven"]
pub struct Attempt {
    rows: Vec<i64>,
}

/// Refuses `guess` if a ceiling is reached or a wait is running, and
/// otherwise counts it as failed. Check and count happen in one write
/// transaction.
pub async fn begin(pool: &AnyPool, guess: &Guess, now: Millis) -> AppResult<Attempt> {
    let mut tx = pool.begin().await?;
    let subjects = guess.subjects();
    let mut keys: Vec<&str> = subjects.iter().map(|(_, subject)| subject.as_str()).collect();
    keys.sort_unstable();
    for key in keys {
        take_turn(&mut tx, key).await?;
    }
    for (rule, subject) in &subjects {
        let (count, oldest, newest): (i64, Option<i64>, Option<i64>) = sqlx::query_as(
            "SELECT COUNT(*), MIN(failed_at), MAX(failed_at) FROM failed_guesses WHERE subject = $1 AND failed_at > $2",
        )
        .bind(subject)
        .bind(now - WINDOW_MS)
        .fetch_one(&mut *tx)
        .await?;
        let retry_at = if count >= rule.ceiling {
            oldest.map(|oldest| oldest + WINDOW_MS)
        } else if count >= rule.free {
            newest.map(|newest| newest + wait_after(count - rule.free))
        } else {
            None
        };
        if let Some(retry_at) = retry_at.filter(|at| *at > now) {
            let secs = secs_to_wait(retry_at - now);
            let message = format!("too many wrong codes or passwords from or for {}; try again later", rule.whose);
            return Err(AppError::too_many(ApiErrorCode::TooManyFailures, message, secs));
        }
    }
    let mut rows = Vec::with_capacity(subjects.len());
    for (_, subject) in &subjects {
        let (id,): (i64,) =
            sqlx::query_as("INSERT INTO failed_guesses (subject, failed_at) VALUES ($1, $2) RETURNING id")
                .bind(subject)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
        rows.push(id);
    }
    tx.commit().await?;
    Ok(Attempt { rows })
}

/// The wait after the `n`th failure past the free ones: 2 s, 4 s, 8 s… up
/// to 15 minutes.
fn wait_after(n: i64) -> Millis {
    let exponent = u32::try_from(n.clamp(0, 20)).unwrap_or(20);
    (2_000i64 << exponent).min(MAX_WAIT_MS)
}

impl Attempt {
    /// Uncounts the guess: it was right, or never compared (no code, an
    /// expired one).
    pub async fn forgive(self, pool: &AnyPool) -> AppResult<()> {
        for row in &self.rows {
            sqlx::query("DELETE FROM failed_guesses WHERE id = $1").bind(row).execute(pool).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_a_cap() {
        assert_eq!(wait_after(0), 2_000);
        assert_eq!(wait_after(1), 4_000);
        assert_eq!(wait_after(8), 512_000);
        assert_eq!(wait_after(9), MAX_WAIT_MS);
        assert_eq!(wait_after(1_000), MAX_WAIT_MS);
    }

    #[test]
    fn ipv6_sources_count_by_their_64_prefix() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(network_of(a), network_of(b));
        assert_ne!(network_of(a), network_of(c));
        assert_eq!(network_of("::ffff:1.2.3.4".parse().unwrap()), "1.2.3.4");
    }
}
