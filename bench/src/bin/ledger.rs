//! The shared ledger (issue #14): `kling batch` runners (real processes)
//! against an in-process simulator, on SQLite and on PostgreSQL.
//!
//! - `--mode scale`: LINES lines over 1, 2 and 4 runners on each backend:
//!   wall time, creates/s, ledger round trips per line, creates per line.
//! - `--mode webhooks`: GETs per task, polling vs webhook-first completion.
//! - `--mode soak`: the fault soak's mix (20 % 5xx, 5 % 429, 2 % dropped
//!   connections, on every request) plus answers lost after the create ran,
//!   with webhooks: how many unknown creates correlation resolves.
//!
//! `cargo build --release -p piapi-kling-cli -p piapi-kling-bench &&
//!  target/release/ledger --mode scale --lines 10000`
//! (PostgreSQL at `KLING_TEST_POSTGRES` or 127.0.0.1:5432; its runs are
//! skipped when it is unreachable.)

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use piapi_kling_bench::arg;
use piapi_kling_ledger::testing::PgTest;
use piapi_kling_sim::{Faults, RunningSimulator, Simulator};
use serde_json::Value;

const KEY: &str = "bench-key";
const SECRET_VAR: &str = "KLING_BENCH_WEBHOOK_SECRET";

struct Run {
    wall: Duration,
    reports: Vec<Value>,
    round_trips: u64,
}

fn kling() -> PathBuf {
    let default = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join("kling")))
        .unwrap_or_else(|| PathBuf::from("target/release/kling"));
    PathBuf::from(arg("--kling", default.display().to_string()))
}

fn write_lines(dir: &Path, n: usize) -> PathBuf {
    let text: String = (0..n)
        .map(|i| {
            format!(
                "{{\"id\":\"l{i}\",\"model\":\"kling\",\"task_type\":\"sound\",\"input\":{{\"prompt\":\"rain {i}\"}}}}\n"
            )
        })
        .collect();
    let path = dir.join("lines.jsonl");
    std::fs::write(&path, text).expect("write the batch file");
    path
}

/// `kling webhook serve`, killed on drop.
struct Serve(Child, String);

impl Serve {
    fn start(journal: &str) -> Serve {
        use std::io::BufRead;
        let mut child = Command::new(kling())
            .args([
                "webhook",
                "serve",
                "--journal",
                journal,
                "--secret-env",
                SECRET_VAR,
            ])
            .args(["--listen", "127.0.0.1:0"])
            .env(SECRET_VAR, "bench-secret")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("kling webhook serve starts");
        let mut first = String::new();
        std::io::BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut first)
            .expect("its address");
        Serve(child, format!("{}/hook", first.trim()))
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs `runners` batch processes on one journal and waits for them all.
fn run(
    sim: &RunningSimulator,
    journal: &str,
    file: &Path,
    runners: usize,
    global: &[&str],
    extra: &[String],
) -> Run {
    let dir = tempfile::tempdir().expect("a temp dir");
    let started = Instant::now();
    let children: Vec<(Child, PathBuf, PathBuf)> = (0..runners)
        .map(|n| {
            let out = dir.path().join(format!("out-{n}.json"));
            let err = dir.path().join(format!("err-{n}.jsonl"));
            let child = Command::new(kling())
                .env("PIAPI_BASE_URL", sim.base_url())
                .env("PIAPI_API_KEY", KEY)
                .env(SECRET_VAR, "bench-secret")
                .args(["--json", "--timeout", "10m"])
                .args(global)
                .arg("batch")
                .arg(file)
                .args(["--journal", journal])
                .args(extra)
                .stdout(std::fs::File::create(&out).expect("out file"))
                .stderr(std::fs::File::create(&err).expect("err file"))
                .spawn()
                .expect("kling batch starts");
            (child, out, err)
        })
        .collect();
    let mut reports = Vec::new();
    let mut round_trips = 0;
    for (mut child, out, err) in children {
        child.wait().expect("a runner ends");
        let report: Value =
            serde_json::from_slice(&std::fs::read(&out).unwrap_or_default()).unwrap_or(Value::Null);
        reports.push(report);
        let events = std::fs::read_to_string(&err).unwrap_or_default();
        round_trips += events
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|e| e["event"] == "ledger")
            .map(|e| e["round_trips"].as_u64().unwrap_or(0))
            .sum::<u64>();
    }
    Run {
        wall: started.elapsed(),
        reports,
        round_trips,
    }
}

async fn sim(speed: f64, lines: usize, faults: Faults) -> RunningSimulator {
    Simulator::builder()
        .api_key(KEY)
        .speed(speed)
        .max_tasks(lines * 2 + 16)
        .request_log_capacity(lines * 20 + 1024)
        .faults(faults)
        .start()
        .await
        .expect("the simulator starts")
}

fn gets(sim: &RunningSimulator) -> usize {
    sim.request_log()
        .iter()
        .filter(|r| r.method == "GET" && r.path.starts_with("/api/v1/task/"))
        .count()
}

/// A SQLite journal and, when reachable, a PostgreSQL one.
fn journals(dir: &Path, label: &str) -> Vec<(&'static str, String, Option<PgTest>)> {
    let mut out = vec![(
        "SQLite",
        dir.join(format!("{label}.sqlite")).display().to_string(),
        None,
    )];
    if let Some(pg) = PgTest::new(label) {
        out.push(("PostgreSQL", pg.url(), Some(pg)));
    }
    out
}

async fn scale(lines: usize) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let file = write_lines(dir.path(), lines);
    println!(
        "| backend | runners | wall | creates/s | ledger round trips / line | creates / line | completed |"
    );
    println!("|---|---|---|---|---|---|---|");
    for runners in [1, 2, 4] {
        for (backend, journal, _pg) in journals(dir.path(), &format!("scale{runners}")) {
            let sim = sim(2000.0, lines, Faults::default()).await;
            let extra = vec!["--concurrency".to_string(), "64".to_string()];
            let result = tokio::task::block_in_place(|| {
                run(
                    &sim,
                    &journal,
                    &file,
                    runners,
                    &["--poll-interval", "20ms"],
                    &extra,
                )
            });
            let completed = result.reports[0]["summary"]["completed"]
                .as_u64()
                .unwrap_or(0);
            let creates = sim.count_requests("POST", "/api/v1/task");
            println!(
                "| {backend} | {runners} | {:.1} s | {:.0} | {:.2} | {:.3} | {completed} |",
                result.wall.as_secs_f64(),
                lines as f64 / result.wall.as_secs_f64(),
                result.round_trips as f64 / lines as f64,
                creates as f64 / lines as f64,
            );
            sim.shutdown().await;
        }
    }
}

async fn webhooks(lines: usize) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let file = write_lines(dir.path(), lines);
    println!("| backend | completion | GETs / task | wall | completed |");
    println!("|---|---|---|---|---|");
    for webhook in [false, true] {
        for (backend, journal, _pg) in journals(dir.path(), &format!("webhooks_{webhook}")) {
            // A sound task takes ~160 ms at ×200: polling every 50 ms is
            // the time-compressed analogue of a few-second poll.
            let sim = sim(200.0, lines, Faults::default()).await;
            let serve = webhook.then(|| Serve::start(&journal));
            let mut extra = vec!["--concurrency".to_string(), "64".to_string()];
            if let Some(serve) = &serve {
                extra.extend(
                    [
                        "--webhook-url",
                        &serve.1,
                        "--webhook-secret-env",
                        SECRET_VAR,
                    ]
                    .iter()
                    .map(|s| s.to_string()),
                );
            }
            let result = tokio::task::block_in_place(|| {
                run(
                    &sim,
                    &journal,
                    &file,
                    1,
                    &["--poll-interval", "50ms"],
                    &extra,
                )
            });
            let completed = result.reports[0]["summary"]["completed"]
                .as_u64()
                .unwrap_or(0);
            println!(
                "| {backend} | {} | {:.2} | {:.1} s | {completed} |",
                if webhook {
                    "webhooks (fallback poll 60 s)"
                } else {
                    "polling every 50 ms"
                },
                gets(&sim) as f64 / lines as f64,
                result.wall.as_secs_f64(),
            );
            drop(serve);
            sim.shutdown().await;
        }
    }
}

async fn soak(lines: usize) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let file = write_lines(dir.path(), lines);
    for (backend, journal, _pg) in journals(dir.path(), "soak") {
        let faults = Faults {
            server_error_rate: 0.20,
            too_many_requests_rate: 0.05,
            retry_after_secs: 1,
            drop_connection_rate: 0.02,
            dropped_answer_rate: 0.05,
            latency: Some((Duration::ZERO, Duration::from_millis(20))),
            seed: 7,
            ..Faults::default()
        };
        let sim = sim(2000.0, lines, faults).await;
        let serve = Serve::start(&journal);
        let extra: Vec<String> = [
            "--concurrency",
            "64",
            "--webhook-url",
            &serve.1,
            "--webhook-secret-env",
            SECRET_VAR,
            "--fallback-poll",
            "5s",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let result = tokio::task::block_in_place(|| {
            run(
                &sim,
                &journal,
                &file,
                2,
                &["--poll-interval", "50ms"],
                &extra,
            )
        });
        let log = sim.request_log();
        let creates: Vec<_> = log
            .iter()
            .filter(|r| r.method == "POST" && r.path == "/api/v1/task")
            .collect();
        let answered = creates.iter().filter(|r| r.status == 200).count();
        let lost_with_task: std::collections::HashSet<String> = creates
            .iter()
            .filter(|r| r.status == 0)
            .filter_map(|r| r.task_id.clone())
            .collect();
        let rows = {
            let ledger = piapi_kling_ledger::open(&journal).await.expect("ledger");
            ledger.rows().await.expect("rows")
        };
        let linked = rows
            .iter()
            .filter(|r| {
                r.task_id
                    .as_deref()
                    .is_some_and(|t| lost_with_task.contains(t))
            })
            .count();
        let summary = &result.reports[0]["summary"];
        let unknown = summary["unknown"].as_u64().unwrap_or(0);
        // Unknown outcomes: the lines still unknown plus those linked.
        let outcomes = unknown as usize + linked;
        println!(
            "{backend}: {lines} lines, {} create calls, {} not answered 200 (5xx, 429s retried, drops); \
             {outcomes} creates with an unknown outcome, {} of them had made their task: {linked} linked by \
             their webhook ({:.1} %); {unknown} lines stay unknown (no task made, not re-sent); \
             {} tasks in the simulator, {} lines with a task id; wall {:.1} s",
            creates.len(),
            creates.len() - answered,
            lost_with_task.len(),
            if lost_with_task.is_empty() {
                100.0
            } else {
                100.0 * linked as f64 / lost_with_task.len() as f64
            },
            sim.task_count(),
            rows.iter().filter(|r| r.task_id.is_some()).count(),
            result.wall.as_secs_f64(),
        );
        drop(serve);
        sim.shutdown().await;
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mode: String = arg("--mode", "scale".to_string());
    let lines: usize = arg("--lines", 10_000);
    match mode.as_str() {
        "scale" => scale(lines).await,
        "webhooks" => webhooks(lines).await,
        "soak" => soak(lines).await,
        other => eprintln!("unknown --mode {other}: scale, webhooks or soak"),
    }
}
