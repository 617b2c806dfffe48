//! `kling batch` on a shared ledger, against the real PostgreSQL server (a
//! scratch schema per test; skipped with a message when it is unreachable,
//! a failure under `CI=true`) and the simulator: three runners with SIGKILL
//! at random points, lease expiry and takeover, `kling webhook serve` with
//! duplicated and out-of-order deliveries, and lost create answers linked
//! by their webhooks. Creates are counted in the simulator's request log.

mod common;

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{KEY, KLING, Sim, text};
use piapi_kling_ledger::testing::PgTest;
use piapi_kling_ledger::{Row, State};
use piapi_kling_sim::{Faults, Simulator};
use serde_json::{Value, json};

const SECRET_VAR: &str = "KLING_TEST_WEBHOOK_SECRET";
const SECRET: &str = "whsec-ledger-test-4f9e2b71";

fn line(id: &str, prompt: &str) -> String {
    json!({
        "id": id,
        "model": "kling",
        "task_type": "video_generation",
        "input": {"prompt": prompt, "aspect_ratio": "16:9"},
    })
    .to_string()
}

fn batch_file(dir: &Path, total: usize, failing: Option<usize>) -> PathBuf {
    let lines: Vec<String> = (0..total)
        .map(|i| {
            let prompt = if Some(i) == failing {
                format!("clip {i} [sim:content-filter]")
            } else {
                format!("clip {i}")
            };
            line(&format!("clip-{i}"), &prompt)
        })
        .collect();
    let path = dir.join("batch.jsonl");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

/// `kling … batch FILE --journal JOURNAL` against `sim`.
fn batch(sim: &Sim, file: &Path, journal: &str, extra: &[&str]) -> Command {
    let mut cmd = Command::new(KLING);
    cmd.env("PIAPI_BASE_URL", sim.sim.base_url())
        .env("PIAPI_API_KEY", KEY)
        .env(SECRET_VAR, SECRET)
        .env_remove("PIAPI_UPLOAD_BASE_URL")
        .env_remove("RUST_LOG")
        .args([
            "--json",
            "--poll-interval",
            "20ms",
            "--timeout",
            "60s",
            "batch",
        ])
        .arg(file)
        .args(["--journal", journal])
        .args(extra);
    cmd
}

fn rows(journal: &str) -> Vec<Row> {
    let journal = journal.to_owned();
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(async move {
            piapi_kling_ledger::open(&journal)
                .await
                .unwrap()
                .rows()
                .await
                .unwrap()
        })
}

/// The tasks the simulator made, by the prompt that made them.
fn tasks_by_prompt(sim: &Sim) -> HashMap<String, Vec<String>> {
    let mut by_prompt: HashMap<String, Vec<String>> = HashMap::new();
    let made: HashSet<String> = sim
        .sim
        .request_log()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == "/api/v1/task")
        .filter_map(|r| r.task_id)
        .collect();
    for id in made {
        let task = sim.sim.task(&id).expect("a made task is stored");
        let input = serde_json::to_value(&task.input).unwrap();
        let prompt = input["prompt"].as_str().unwrap_or_default().to_owned();
        by_prompt.entry(prompt).or_default().push(id);
    }
    by_prompt
}

/// The books: no line created twice, no task id lost, every recorded task
/// exists and ended as the ledger says.
fn check_books(sim: &Sim, rows: &[Row], total: usize) {
    assert_eq!(rows.len(), total);
    let by_prompt = tasks_by_prompt(sim);
    for (prompt, tasks) in &by_prompt {
        assert_eq!(tasks.len(), 1, "{prompt} created {} times", tasks.len());
    }
    let recorded: Vec<&str> = rows.iter().filter_map(|r| r.task_id.as_deref()).collect();
    let distinct: HashSet<&str> = recorded.iter().copied().collect();
    assert_eq!(distinct.len(), recorded.len(), "no task id recorded twice");
    for row in rows {
        match row.state {
            State::Completed | State::Failed => {
                let id = row.task_id.as_deref().expect("a finished line has its id");
                let task = sim.sim.task(id).unwrap();
                assert!(task.status.is_terminal(), "{row:?}");
                assert_eq!(
                    row.state == State::Completed,
                    task.status == piapi_kling::models::TaskStatus::Completed
                );
            }
            State::Unknown => {}
            other => panic!("line {} left {other:?}", row.id),
        }
    }
    // Every task made is recorded, except those of unknown lines.
    let unknown = rows.iter().filter(|r| r.state == State::Unknown).count();
    let made: usize = by_prompt.values().map(Vec::len).sum();
    let unrecorded = by_prompt
        .values()
        .flatten()
        .filter(|id| !distinct.contains(id.as_str()))
        .count();
    assert!(
        unrecorded <= unknown,
        "{unrecorded} tasks unrecorded, {unknown} unknown"
    );
    assert!(made <= total);
}

/// A tiny seeded generator (the seed is printed, to replay a failure).
struct Rng(u64);

impl Rng {
    fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below
    }
}

#[test]
fn three_runners_killed_at_random_create_each_line_once_and_agree() {
    let Some(pg) = PgTest::new("three_runners") else {
        return;
    };
    let journal = pg.url();
    let sim = Sim::start(Simulator::builder().speed(400.0));
    let dir = tempfile::tempdir().unwrap();
    let total = 60;
    let file = batch_file(dir.path(), total, Some(7));
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    eprintln!("kill seed {seed}");
    let mut rng = Rng(seed);
    let spawn = |n: usize, round: usize| -> Child {
        let out =
            std::fs::File::create(dir.path().join(format!("runner-{n}-{round}.json"))).unwrap();
        batch(
            &sim,
            &file,
            &journal,
            &["--concurrency", "4", "--lease", "3s"],
        )
        .stdout(out)
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
    };
    let mut runners: Vec<(Child, usize)> = (0..3).map(|n| (spawn(n, 0), 0)).collect();
    let mut kills = 0;
    for _ in 0..6 {
        std::thread::sleep(Duration::from_millis(100 + rng.next(400)));
        let victim = rng.next(3) as usize;
        let (child, round) = &mut runners[victim];
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            kills += 1;
        }
        child.wait().unwrap();
        *round += 1;
        *child = spawn(victim, *round);
    }
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut summaries = Vec::new();
    for (n, (child, round)) in runners.iter_mut().enumerate() {
        while child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "runner {n} never ended");
            std::thread::sleep(Duration::from_millis(50));
        }
        let out = std::fs::read(dir.path().join(format!("runner-{n}-{round}.json"))).unwrap();
        let report: Value = serde_json::from_slice(&out)
            .unwrap_or_else(|e| panic!("runner {n}: {e}: {}", text(&out)));
        summaries.push(report);
    }
    assert!(kills >= 1, "at least one runner was killed while running");
    let rows = rows(&journal);
    check_books(&sim, &rows, total);
    // Every runner ends with the same summary and lines.
    for report in &summaries[1..] {
        assert_eq!(report["summary"], summaries[0]["summary"]);
        assert_eq!(report["lines"], summaries[0]["lines"]);
    }
    let completed = rows.iter().filter(|r| r.state == State::Completed).count();
    let unknown = rows.iter().filter(|r| r.state == State::Unknown).count();
    assert_eq!(summaries[0]["summary"]["completed"], completed);
    assert_eq!(summaries[0]["summary"]["unknown"], unknown);
    eprintln!(
        "three runners: {kills} kills, {completed} completed, {unknown} unknown, {} creates",
        sim.creates()
    );
    // `kling batch status` tells the same from "another machine".
    let status = Command::new(KLING)
        .args(["--json", "batch", "status", "--journal", &journal])
        .output()
        .unwrap();
    assert!(status.status.success(), "{}", text(&status.stderr));
    let status: Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["summary"], summaries[0]["summary"]);
    assert_eq!(status["runners"]["active"], 0);
}

#[test]
fn a_frozen_runners_lines_are_taken_over_when_its_lease_expires() {
    let Some(pg) = PgTest::new("takeover") else {
        return;
    };
    let journal = pg.url();
    // A video takes about 1.2 s: the frozen runner holds lines mid-task.
    let sim = Sim::start(Simulator::builder().speed(100.0));
    let dir = tempfile::tempdir().unwrap();
    let total = 12;
    let file = batch_file(dir.path(), total, None);
    let args = ["--concurrency", "4", "--lease", "1s"];
    let mut frozen = batch(&sim, &file, &journal, &args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while rows(&journal)
        .iter()
        .filter(|r| r.task_id.is_some())
        .count()
        < 3
    {
        assert!(Instant::now() < deadline, "the first runner never created");
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = frozen.id().to_string();
    let stop = |signal: &str| {
        assert!(
            Command::new("kill")
                .args([signal, &pid])
                .status()
                .unwrap()
                .success()
        );
    };
    stop("-STOP"); // alive but silent: only its lease's expiry frees its lines
    let held: Vec<String> = rows(&journal)
        .into_iter()
        .filter(|r| r.lease_owner.is_some())
        .map(|r| r.id)
        .collect();
    assert!(!held.is_empty());
    let other = batch(&sim, &file, &journal, &args).output().unwrap();
    let events: Vec<Value> = text(&other.stderr)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let resumed = events.iter().filter(|e| e["event"] == "resumed").count();
    assert!(resumed >= 1, "the second runner took over created tasks");
    let report: Value = serde_json::from_slice(&other.stdout).unwrap();
    assert_eq!(
        report["summary"]["completed"].as_u64().unwrap()
            + report["summary"]["unknown"].as_u64().unwrap(),
        total as u64
    );
    // The frozen runner wakes up: whatever it was doing, it creates nothing
    // twice (its intents are refused without its lease) and loses no id.
    stop("-CONT");
    let woke = frozen.wait().unwrap();
    assert!(woke.code().is_some(), "it ended by itself");
    let rows = rows(&journal);
    check_books(&sim, &rows, total);
}

/// `kling webhook serve` on a free port; killed on drop.
struct Serve {
    child: Child,
    url: String,
}

impl Serve {
    fn start(journal: &str) -> Serve {
        let mut child = Command::new(KLING)
            .args(["webhook", "serve", "--journal", journal])
            .args(["--secret-env", SECRET_VAR, "--listen", "127.0.0.1:0"])
            .env(SECRET_VAR, SECRET)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        assert!(first.starts_with("http://127.0.0.1:"), "{first}");
        Serve {
            child,
            url: format!("{}/hooks/piapi", first.trim()),
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn event(task_id: &str, status: &str, timestamp: i64) -> String {
    json!({
        "timestamp": timestamp,
        "data": {"task_id": task_id, "model": "kling", "task_type": "sound", "status": status,
                 "input": {}, "output": null, "meta": {}, "detail": null, "logs": [],
                 "error": {"code": 0, "message": ""}}
    })
    .to_string()
}

#[test]
fn the_endpoint_records_every_delivery_and_refuses_the_rest() {
    let Some(pg) = PgTest::new("endpoint") else {
        return;
    };
    let journal = pg.url();
    let serve = Serve::start(&journal);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let post = |url: String, secret: Option<&str>, body: String| -> u16 {
        let secret = secret.map(str::to_owned);
        rt.block_on(async move {
            let mut request = reqwest::Client::new().post(url).body(body);
            if let Some(secret) = secret {
                request = request.header("x-webhook-secret", secret);
            }
            request.send().await.unwrap().status().as_u16()
        })
    };
    // A line whose create answer was lost: its token is in the ledger.
    let token = rt.block_on(async {
        let ledger = piapi_kling_ledger::open(&journal).await.unwrap();
        ledger
            .register(&[piapi_kling_ledger::LineSpec {
                id: "a".into(),
                number: 1,
                fingerprint: "f".into(),
            }])
            .await
            .unwrap();
        let owner = piapi_kling_ledger::Owner::new();
        let start = ledger.now_ms().await.unwrap();
        ledger
            .claim(&piapi_kling_ledger::ClaimRequest {
                owner: owner.as_str().into(),
                lease: Duration::from_secs(60),
                limit: 1,
                run_started: start,
                download: false,
                resend_unknown: false,
            })
            .await
            .unwrap();
        let token = piapi_kling_ledger::new_token();
        ledger
            .record_intent(owner.as_str(), "a", &token)
            .await
            .unwrap();
        ledger.record_unknown("a", None, "lost").await.unwrap();
        token
    });
    let url = format!("{}?kling_token={token}", serve.url);
    assert_eq!(
        post(url.clone(), Some("wrong"), event("t-1", "completed", 2)),
        401
    );
    assert_eq!(post(url.clone(), None, event("t-1", "completed", 2)), 401);
    assert_eq!(post(url.clone(), Some(SECRET), "{not json".into()), 400);
    assert_eq!(post(url.clone(), Some(SECRET), "x".repeat(300 * 1024)), 413);
    let get = rt
        .block_on(reqwest::get(url.clone()))
        .unwrap()
        .status()
        .as_u16();
    assert_eq!(get, 405);
    // Out of order (the end before the creation) and duplicated.
    for (status, ts) in [
        ("completed", 2),
        ("pending", 1),
        ("completed", 2),
        ("pending", 1),
    ] {
        assert_eq!(
            post(url.clone(), Some(SECRET), event("t-1", status, ts)),
            200
        );
    }
    // A forged token links nothing.
    let forged = format!(
        "{}?kling_token={}",
        serve.url,
        piapi_kling_ledger::new_token()
    );
    assert_eq!(
        post(forged, Some(SECRET), event("t-2", "completed", 3)),
        200
    );

    let (rows, deliveries) = rt.block_on(async {
        let ledger = piapi_kling_ledger::open(&journal).await.unwrap();
        (
            ledger.rows().await.unwrap(),
            ledger.deliveries_after(0, 100).await.unwrap(),
        )
    });
    assert_eq!(
        deliveries.len(),
        5,
        "every accepted delivery, duplicates included"
    );
    let statuses: Vec<&str> = deliveries
        .iter()
        .map(|d| d.delivery.status.as_str())
        .collect();
    assert_eq!(
        statuses,
        ["completed", "pending", "completed", "pending", "completed"]
    );
    assert_eq!(deliveries[0].line_id.as_deref(), Some("a"));
    assert_eq!(rows[0].state, State::Created, "linked, no longer unknown");
    assert_eq!(rows[0].task_id.as_deref(), Some("t-1"));
}

/// Runs a webhook batch of `total` lines against `sim`, with the endpoint on
/// `journal`, and returns the report.
fn webhook_batch(
    sim: &Sim,
    journal: &str,
    total: usize,
    extra: &[&str],
) -> (Value, Vec<Value>, i32) {
    let serve = Serve::start(journal);
    let dir = tempfile::tempdir().unwrap();
    let file = batch_file(dir.path(), total, None);
    let mut args = vec![
        "--concurrency",
        "8",
        "--webhook-url",
        serve.url.as_str(),
        "--webhook-secret-env",
        SECRET_VAR,
    ];
    args.extend_from_slice(extra);
    let out = batch(sim, &file, journal, &args).output().unwrap();
    let events = text(&out.stderr)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", text(&out.stderr)));
    (report, events, out.status.code().unwrap_or(-1))
}

fn journals(label: &str) -> Vec<(String, Option<PgTest>, tempfile::TempDir)> {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = dir.path().join("ledger.sqlite").display().to_string();
    let mut out = vec![(sqlite, None, dir)];
    if let Some(pg) = PgTest::new(label) {
        out.push((pg.url(), Some(pg), tempfile::tempdir().unwrap()));
    }
    out
}

#[test]
fn runners_complete_on_deliveries_with_one_get_per_task() {
    for (journal, _pg, _dir) in journals("webhook_batch") {
        let sim = Sim::start(Simulator::builder().speed(400.0));
        let total = 10;
        // The fallback poll is an hour away: only deliveries can end waits.
        let (report, _, code) = webhook_batch(&sim, &journal, total, &["--fallback-poll", "1h"]);
        assert_eq!(code, 0, "{report}");
        assert_eq!(report["summary"]["completed"], total);
        let gets = sim
            .sim
            .request_log()
            .iter()
            .filter(|r| r.method == "GET" && r.path.starts_with("/api/v1/task/"))
            .count();
        // One GET per task, on its `completed` delivery (a few spare for races).
        assert!(
            gets <= total + 2,
            "{journal}: {gets} GETs for {total} tasks"
        );
        assert_eq!(sim.creates(), total);
    }
}

#[test]
fn lost_create_answers_are_linked_by_their_webhooks() {
    for (journal, _pg, _dir) in journals("correlation") {
        let sim = Sim::start(Simulator::builder().speed(400.0).faults(Faults {
            // A third of the creates make their task and lose the answer;
            // a tenth are dropped before anything is made.
            dropped_answer_rate: 0.3,
            drop_connection_rate: 0.1,
            methods: Some(vec!["POST".into()]),
            seed: 11,
            ..Faults::default()
        }));
        let total = 40;
        let (report, events, code) =
            webhook_batch(&sim, &journal, total, &["--fallback-poll", "2s"]);
        let log = sim.sim.request_log();
        let answers_lost: HashSet<String> = log
            .iter()
            .filter(|r| r.method == "POST" && r.status == 0)
            .filter_map(|r| r.task_id.clone())
            .collect();
        let never_made = log
            .iter()
            .filter(|r| r.method == "POST" && r.status == 0 && r.task_id.is_none())
            .count();
        assert!(
            answers_lost.len() >= 5,
            "the fault happened: {}",
            answers_lost.len()
        );
        let rows = rows(&journal);
        let recorded: HashSet<&str> = rows.iter().filter_map(|r| r.task_id.as_deref()).collect();
        // Every task whose answer was lost is linked to its line.
        for id in &answers_lost {
            assert!(
                recorded.contains(id.as_str()),
                "{journal}: task {id} not linked"
            );
        }
        let linked = events.iter().filter(|e| e["event"] == "linked").count();
        check_books(&sim, &rows, total);
        // Creates that made nothing stay unknown (not re-sent).
        let unknown = rows.iter().filter(|r| r.state == State::Unknown).count();
        assert_eq!(unknown, never_made, "{journal}");
        assert_eq!(report["summary"]["unknown"], unknown);
        assert_eq!(report["summary"]["completed"], total - unknown);
        assert_eq!(code, if unknown > 0 { 6 } else { 0 });
        eprintln!(
            "{journal}: {} answers lost, all linked ({linked} while the create was in flight); {never_made} never made, unknown",
            answers_lost.len()
        );
    }
}
