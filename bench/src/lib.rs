//! Shared helpers of the benchmark binaries in `src/bin/`.
#![deny(missing_docs)]

use std::time::Duration;

use serde_json::Value;

/// A value of `/proc/self/status` in KiB (e.g. `VmRSS`, `VmHWM`); 0 elsewhere.
pub fn proc_status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Open sockets of this process (entries of /proc/self/fd that are sockets).
pub fn open_sockets() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|dir| {
            dir.filter_map(Result::ok)
                .filter(|e| {
                    std::fs::read_link(e.path())
                        .map(|t| t.to_string_lossy().starts_with("socket:"))
                        .unwrap_or(false)
                })
                .count()
        })
        .unwrap_or(0)
}

/// The median of some durations.
pub fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// A value from `--name value` on the command line.
pub fn arg<T: std::str::FromStr>(name: &str, default: T) -> T {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The baseline of the overhead benchmarks: a create then a get of the
/// created task with raw reqwest and `serde_json::Value`, sending `body`
/// with `key` to the task API at `base`. `before_each` runs before each of
/// the two requests (user work between them, for one experiment). Returns
/// the task as read.
pub async fn raw_round_trip(
    http: &reqwest::Client,
    base: &str,
    key: &str,
    body: &Value,
    before_each: impl Fn(),
) -> Value {
    before_each();
    let created: Value = http
        .post(format!("{base}/api/v1/task"))
        .header("x-api-key", key)
        .json(body)
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("create body");
    let id = created["data"]["task_id"].as_str().expect("task id");
    before_each();
    http.get(format!("{base}/api/v1/task/{id}"))
        .header("x-api-key", key)
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("get body")
}
