//! Timestamps as PiAPI writes them: RFC 3339, UTC, nanoseconds, and Go's zero
//! time for "not yet". Hand-written because it is a dozen lines and the
//! simulator formats a few per request.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Maps the monotonic clock that drives task lifecycles to wall-clock time.
///
/// Lifecycles use [`Instant`] so that a clock jump cannot reorder a task's
/// phases; responses show wall time, anchored once at start.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Clock {
    anchor: Instant,
    anchor_wall: SystemTime,
}

impl Clock {
    pub(crate) fn new() -> Self {
        Clock {
            anchor: Instant::now(),
            anchor_wall: SystemTime::now(),
        }
    }

    /// The wall-clock time of `at`.
    pub(crate) fn wall(&self, at: Instant) -> SystemTime {
        match at.checked_duration_since(self.anchor) {
            Some(after) => self.anchor_wall + after,
            None => self.anchor_wall - self.anchor.duration_since(at),
        }
    }
}

/// `2025-07-10T08:15:02.118273641Z`.
pub(crate) fn rfc3339(t: SystemTime) -> String {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    let secs = since.as_secs();
    let (year, month, day) = civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:09}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since.subsec_nanos()
    )
}

/// Seconds since the Unix epoch (what webhook `timestamp` carries).
pub(crate) fn unix_secs(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 to (y, m, d).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64, nanos: u32) -> SystemTime {
        UNIX_EPOCH + Duration::new(secs, nanos)
    }

    #[test]
    fn formats_like_piapi() {
        assert_eq!(rfc3339(at(0, 0)), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(
            rfc3339(at(1_752_135_302, 118_273_641)),
            "2025-07-10T08:15:02.118273641Z"
        );
        assert_eq!(
            rfc3339(at(951_782_400, 5)),
            "2000-02-29T00:00:00.000000005Z"
        );
        assert_eq!(
            rfc3339(at(4_107_542_399, 0)),
            "2100-02-28T23:59:59.000000000Z"
        );
    }

    #[test]
    fn clock_maps_instants_both_ways() {
        let clock = Clock::new();
        let later = clock.anchor + Duration::from_secs(5);
        assert_eq!(
            clock.wall(later),
            clock.anchor_wall + Duration::from_secs(5)
        );
        if let Some(earlier) = clock.anchor.checked_sub(Duration::from_secs(1)) {
            assert_eq!(
                clock.wall(earlier),
                clock.anchor_wall - Duration::from_secs(1)
            );
        }
        assert_eq!(unix_secs(at(1_752_135_302, 999_999_999)), 1_752_135_302);
    }
}
