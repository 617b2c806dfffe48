//! Shared helpers of the benchmark binaries in `src/bin/`.
#![deny(missing_docs)]

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde::de::DeserializeOwned;
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
    let created: Value = raw_create(http, base, key, body).await;
    let id = created["data"]["task_id"].as_str().expect("task id");
    before_each();
    raw_get(http, base, key, id).await
}

/// A create with raw reqwest, its answer decoded into `T`.
pub async fn raw_create<T: DeserializeOwned>(
    http: &reqwest::Client,
    base: &str,
    key: &str,
    body: &Value,
) -> T {
    http.post(format!("{base}/api/v1/task"))
        .header("x-api-key", key)
        .json(body)
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("create body")
}

/// A get of task `id` with raw reqwest, its answer decoded into `T`.
pub async fn raw_get<T: DeserializeOwned>(
    http: &reqwest::Client,
    base: &str,
    key: &str,
    id: &str,
) -> T {
    http.get(format!("{base}/api/v1/task/{id}"))
        .header("x-api-key", key)
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("get body")
}

/// CPU time of the calling thread.
pub fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec to write into; the clock id is a
    // constant every Linux supports.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// A simulator process (`piapi-kling-sim`), stopped when dropped.
pub struct SimProcess(Child);

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `piapi-kling-sim`, found next to the running binary, on a free
/// port with API key `key`, at speed 1, holding up to `max_tasks` tasks;
/// returns it with its base URL.
pub fn start_simulator(key: &str, max_tasks: usize) -> (SimProcess, String) {
    let sim = std::env::current_exe()
        .expect("own path")
        .with_file_name("piapi-kling-sim");
    assert!(
        sim.exists(),
        "{} not found: build it with `cargo build --release -p piapi-kling-sim`",
        sim.display()
    );
    let mut child = Command::new(&sim)
        .args(["--port", "0", "--api-key", key, "--speed", "1"])
        .args(["--max-tasks", &max_tasks.to_string()])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the simulator");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)
        .expect("the simulator's base URL");
    (SimProcess(child), line.trim().to_owned())
}
