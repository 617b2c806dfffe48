//! [`WaitPolicy`]: when to poll a task and for how long.
//!
//! The default schedule and the reasoning behind it (the 10 % delay goal
//! versus the CLI's request budget, which no schedule meets for every task
//! length at once) are in the [guide](crate::guide); the unit tests below
//! check its figures against the CLI's schedule.

use std::time::Duration;

/// When to poll a task and for how long.
///
/// Polls happen at `initial_delay` after the task was created, then every
/// `clamp(elapsed_fraction × elapsed, min_interval, max_interval)` where
/// `elapsed` is the time since creation, until `deadline` after the wait
/// started (one last poll happens at the deadline).
///
/// The default polls 4 s after creation, then every
/// `clamp(0.22 × elapsed, 10 s, 30 s)`, for up to 15 minutes: for tasks of
/// 30 s to 10 min it never makes more requests than PiAPI's CLI (1 s, ×1.5 up
/// to 30 s) and notices the end after 6–8.5 % of the task's duration on
/// average (the CLI: 7–13 %), 29 % at worst (the CLI: 53 %). The
/// [guide](crate::guide) explains the choice, and why a hard 10 % bound needs
/// more requests (`with_elapsed_fraction(0.1)`).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct WaitPolicy {
    /// The first poll after creation (a resumed task is polled at once).
    pub initial_delay: Duration,
    /// The shortest interval between polls.
    pub min_interval: Duration,
    /// The longest interval between polls.
    pub max_interval: Duration,
    /// The interval as a fraction of the time since creation.
    pub elapsed_fraction: f64,
    /// How long a wait lasts before [`Error::Timeout`](crate::Error::Timeout).
    pub deadline: Duration,
}

impl Default for WaitPolicy {
    fn default() -> Self {
        WaitPolicy {
            initial_delay: Duration::from_secs(4),
            min_interval: Duration::from_secs(10),
            max_interval: Duration::from_secs(30),
            elapsed_fraction: 0.22,
            deadline: Duration::from_secs(15 * 60),
        }
    }
}

impl WaitPolicy {
    /// Polls every `interval` (first poll after `interval`), with the default
    /// deadline. Handy for tests against the simulator.
    pub fn fixed(interval: Duration) -> Self {
        WaitPolicy {
            initial_delay: interval,
            min_interval: interval,
            max_interval: interval,
            elapsed_fraction: 0.0,
            ..WaitPolicy::default()
        }
    }

    /// The same policy with another deadline.
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// The same policy with another first-poll delay.
    pub fn with_initial_delay(mut self, delay: Duration) -> Self {
        self.initial_delay = delay;
        self
    }

    /// The same policy with other interval bounds.
    pub fn with_interval_bounds(mut self, min: Duration, max: Duration) -> Self {
        self.min_interval = min;
        self.max_interval = max;
        self
    }

    /// The same policy with another fraction of the elapsed time.
    pub fn with_elapsed_fraction(mut self, fraction: f64) -> Self {
        self.elapsed_fraction = fraction;
        self
    }

    /// The interval after a poll made `elapsed` after the task's creation.
    pub fn interval_after(&self, elapsed: Duration) -> Duration {
        let fraction = if self.elapsed_fraction.is_finite() {
            self.elapsed_fraction.max(0.0)
        } else {
            0.0
        };
        let proportional = elapsed.mul_f64(fraction);
        proportional.min(self.max_interval).max(self.min_interval)
    }

    /// The poll times of a wait started when the task was created, as offsets
    /// from creation: the schedule a benchmark or a cost estimate can read
    /// without running a task. Ends with the poll at the deadline.
    pub fn poll_times(&self) -> impl Iterator<Item = Duration> + '_ {
        let mut next = Some(self.initial_delay.min(self.deadline));
        std::iter::from_fn(move || {
            let now = next?;
            next = if now >= self.deadline {
                None
            } else {
                let step = self.interval_after(now).max(Duration::from_millis(1));
                Some((now + step).min(self.deadline))
            };
            Some(now)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// PiAPI's CLI: first poll after 1 s, interval ×1.5 up to 30 s.
    fn cli_schedule(until: f64) -> Vec<f64> {
        let (mut t, mut interval, mut out) = (0.0, 1.0, Vec::new());
        while t < until {
            t += interval;
            out.push(t);
            interval = f64::min(interval * 1.5, 30.0);
        }
        out
    }

    /// (requests until the end is noticed, delay) for a task ending at `t`.
    fn notice(schedule: &[f64], t: f64) -> (usize, f64) {
        let i = schedule.partition_point(|&p| p < t);
        (i + 1, schedule[i] - t)
    }

    fn default_schedule() -> Vec<f64> {
        let policy = WaitPolicy::default().with_deadline(Duration::from_secs(3600));
        policy.poll_times().map(|d| d.as_secs_f64()).collect()
    }

    #[test]
    fn default_never_uses_more_requests_than_the_cli_policy() {
        let ours = default_schedule();
        let cli = cli_schedule(3600.0);
        for i in 0..=5700 {
            let t = 30.0 + i as f64 * 0.1;
            let (n_ours, _) = notice(&ours, t);
            let (n_cli, _) = notice(&cli, t);
            assert!(
                n_ours <= n_cli,
                "T = {t}: {n_ours} requests > CLI's {n_cli}"
            );
        }
    }

    #[test]
    fn default_delay_is_within_ten_percent_on_average_and_bounded() {
        let ours = default_schedule();
        let cli = cli_schedule(3600.0);
        let uniform: Vec<f64> = (0..=5700).map(|i| 30.0 + i as f64 * 0.1).collect();
        let log: Vec<f64> = (0..=5000)
            .map(|i| 30.0 * (20f64.ln() * i as f64 / 5000.0).exp())
            .collect();
        for ts in [&uniform, &log] {
            let ratios: Vec<f64> = ts.iter().map(|&t| notice(&ours, t).1 / t).collect();
            let mean = ratios.iter().sum::<f64>() / ratios.len() as f64;
            let worst = ratios.iter().cloned().fold(0.0, f64::max);
            let cli_mean = ts.iter().map(|&t| notice(&cli, t).1 / t).sum::<f64>() / ts.len() as f64;
            assert!(mean <= 0.10, "mean delay {mean}");
            assert!(
                mean < cli_mean,
                "mean delay {mean} not below the CLI's {cli_mean}"
            );
            assert!(worst <= 0.30, "worst delay {worst}");
        }
    }

    #[test]
    fn a_pure_proportional_policy_bounds_every_delay() {
        let policy = WaitPolicy::default()
            .with_elapsed_fraction(0.1)
            .with_interval_bounds(Duration::from_secs(3), Duration::from_secs(60))
            .with_deadline(Duration::from_secs(3600));
        let schedule: Vec<f64> = policy.poll_times().map(|d| d.as_secs_f64()).collect();
        for i in 0..=5700 {
            let t = 30.0 + i as f64 * 0.1;
            let (_, delay) = notice(&schedule, t);
            assert!(delay <= 0.1 * t + 1e-9, "T = {t}: delay {delay}");
        }
    }

    #[test]
    fn poll_times_end_with_a_poll_at_the_deadline() {
        let policy =
            WaitPolicy::fixed(Duration::from_secs(4)).with_deadline(Duration::from_secs(10));
        let times: Vec<u64> = policy.poll_times().map(|d| d.as_secs()).collect();
        assert_eq!(times, vec![4, 8, 10]);
        let policy = WaitPolicy::default().with_deadline(Duration::ZERO);
        assert_eq!(policy.poll_times().count(), 1);
    }

    #[test]
    fn interval_is_clamped() {
        let policy = WaitPolicy::default();
        assert_eq!(
            policy.interval_after(Duration::ZERO),
            Duration::from_secs(10)
        );
        assert_eq!(
            policy.interval_after(Duration::from_secs(100)),
            Duration::from_secs(22)
        );
        assert_eq!(
            policy.interval_after(Duration::from_secs(1000)),
            Duration::from_secs(30)
        );
        let odd = WaitPolicy::default().with_elapsed_fraction(f64::NAN);
        assert_eq!(
            odd.interval_after(Duration::from_secs(100)),
            odd.min_interval
        );
    }
}
