//! Retries of single HTTP requests: the policy and its backoff. Which
//! failures are retried is documented once, on [`RetryPolicy`].

use std::time::Duration;

/// How often and how long a failed request is retried.
///
/// The default is 4 attempts in all, 250 ms doubling up to 8 s between them
/// (with jitter), and no retry that would start more than 30 s after the
/// first attempt.
///
/// What is retried:
/// - reads (GET), cancels (DELETE) and uploads: connection errors, timeouts, a
///   body cut short, HTTP 429 (after its `Retry-After`, when longer than the
///   backoff) and 500/502/503/504. A second copy of an upload costs nothing.
/// - a create (`POST /api/v1/task`): only when the connection could not be
///   opened (the request provably never reached PiAPI) or on HTTP 429, which
///   PiAPI answers before doing any work. PiAPI has no idempotency key, so a
///   create is never re-sent after it may have reached PiAPI (timeout,
///   connection reset, 5xx, an unreadable answer): that is
///   [`Error::AmbiguousCreate`](crate::Error::AmbiguousCreate), which says how
///   to find out whether the task exists before sending it again.
///
/// Backoff is exponential with jitter (uniform in the upper half of the
/// step), so that many clients failing together do not come back together;
/// a `Retry-After` longer than the step is honoured.
///
/// Build one from [`RetryPolicy::default`] or [`RetryPolicy::none`] and the
/// `with_*` methods (fields may be added in a minor release).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 means no retry).
    pub max_attempts: u32,
    /// The delay before the first retry (before jitter).
    pub initial_backoff: Duration,
    /// The largest delay between attempts (before a longer `Retry-After`).
    pub max_backoff: Duration,
    /// No retry starts later than this after the first attempt.
    pub max_elapsed: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(8),
            max_elapsed: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// Never retry: every request is sent once.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// Attempts in all, the first included (1 means no retry).
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts;
        self
    }

    /// The delay before the first retry (before jitter).
    pub fn with_initial_backoff(mut self, backoff: Duration) -> Self {
        self.initial_backoff = backoff;
        self
    }

    /// The largest delay between attempts (before a longer `Retry-After`).
    pub fn with_max_backoff(mut self, backoff: Duration) -> Self {
        self.max_backoff = backoff;
        self
    }

    /// No retry starts later than `elapsed` after the first attempt.
    pub fn with_max_elapsed(mut self, elapsed: Duration) -> Self {
        self.max_elapsed = elapsed;
        self
    }

    /// The delay after failed attempt number `attempt` (1-based): the
    /// exponential step with jitter, or `retry_after` when that is longer.
    pub(crate) fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let step = self.step(attempt);
        // Jitter in [step/2, step]: spreads clients out without ever retrying
        // sooner than half the step.
        let jittered = if step.is_zero() {
            step
        } else {
            let half = step / 2;
            half + Duration::from_nanos(fastrand::u64(0..=duration_nanos(step - half)))
        };
        match retry_after {
            Some(wait) if wait > jittered => wait,
            _ => jittered,
        }
    }

    /// `initial_backoff * 2^(attempt-1)`, capped at `max_backoff`.
    fn step(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.initial_backoff
            .checked_mul(factor)
            .unwrap_or(self.max_backoff)
            .min(self.max_backoff)
    }
}

/// How a request failed, as far as sending it again is concerned: the one
/// classification behind both the SDK's own retries and
/// [`Error::is_retryable`](crate::Error::is_retryable).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FailureKind {
    /// The connection could not be opened: nothing reached the server.
    NotConnected,
    /// The request may have reached the server (a timeout, a reset, a body
    /// cut short).
    MaybeReceived,
    /// The server answered with this error status.
    Status(u16),
    /// Sending it again would fail the same way (a request that cannot be
    /// built, a refused redirect, an undecodable or oversized body).
    Permanent,
}

/// The rules documented on [`RetryPolicy`], in code: may a request that
/// failed as `kind` be sent again? `bills` is true for a create, which is
/// never re-sent once it may have reached PiAPI.
pub(crate) fn may_retry(kind: FailureKind, bills: bool) -> bool {
    match kind {
        FailureKind::NotConnected | FailureKind::Status(429) => true,
        FailureKind::MaybeReceived => !bills,
        FailureKind::Status(status) => !bills && matches!(status, 500 | 502 | 503 | 504),
        FailureKind::Permanent => false,
    }
}

fn duration_nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Parses `Retry-After` given in seconds (PiAPI's form). An HTTP date is not
/// used by PiAPI and is ignored.
pub(crate) fn parse_retry_after(value: Option<&reqwest::header::HeaderValue>) -> Option<Duration> {
    let text = value?.to_str().ok()?.trim();
    let secs: f64 = text.parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(3600.0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn the_rules_of_the_policy_in_one_table() {
        use FailureKind::*;
        for bills in [false, true] {
            assert!(may_retry(NotConnected, bills));
            assert!(may_retry(Status(429), bills));
            assert!(!may_retry(Permanent, bills));
            assert!(!may_retry(Status(400), bills));
            assert!(!may_retry(Status(501), bills));
        }
        // A create that may have reached PiAPI is never sent again.
        assert!(may_retry(MaybeReceived, false));
        assert!(!may_retry(MaybeReceived, true));
        for status in [500, 502, 503, 504] {
            assert!(may_retry(Status(status), false), "{status}");
            assert!(!may_retry(Status(status), true), "{status}");
        }
    }

    #[test]
    fn backoff_doubles_is_capped_and_jittered_into_the_upper_half() {
        let policy = RetryPolicy {
            max_attempts: 10,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(350),
            max_elapsed: Duration::from_secs(10),
        };
        for _ in 0..200 {
            let d1 = policy.delay(1, None);
            assert!((50..=100).contains(&d1.as_millis()), "{d1:?}");
            let d2 = policy.delay(2, None);
            assert!((100..=200).contains(&d2.as_millis()), "{d2:?}");
            let d5 = policy.delay(5, None);
            assert!((175..=350).contains(&d5.as_millis()), "{d5:?}");
        }
        let spread: std::collections::HashSet<_> = (0..50).map(|_| policy.delay(3, None)).collect();
        assert!(spread.len() > 1, "jitter must vary the delay");
    }

    #[test]
    fn a_longer_retry_after_wins() {
        let policy = RetryPolicy::default();
        assert_eq!(
            policy.delay(1, Some(Duration::from_secs(2))),
            Duration::from_secs(2)
        );
        assert!(policy.delay(1, Some(Duration::from_millis(1))) >= Duration::from_millis(125));
    }

    #[test]
    fn huge_attempt_numbers_do_not_overflow() {
        let policy = RetryPolicy::default();
        assert!(policy.delay(u32::MAX, None) <= policy.max_backoff);
    }

    #[test]
    fn retry_after_seconds_are_parsed() {
        let v = HeaderValue::from_static("3");
        assert_eq!(parse_retry_after(Some(&v)), Some(Duration::from_secs(3)));
        let v = HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT");
        assert_eq!(parse_retry_after(Some(&v)), None);
        let v = HeaderValue::from_static("-1");
        assert_eq!(parse_retry_after(Some(&v)), None);
        assert_eq!(parse_retry_after(None), None);
    }
}
