//! Money in the CLI: `--dry-run` prints the exact request and its estimate
//! and sends nothing; `kling batch` states its estimate and the balance,
//! refuses a batch the balance cannot cover, and `--budget` stops creating
//! at the right line — across a SIGKILL and two resumes, no line is created
//! twice and the budget is never exceeded; a line the price table cannot
//! price is reported, never counted as free.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{KEY, KLING, Sim, stdout_json, text};
use piapi_kling_sim::Simulator;
use rusqlite::{Connection, OpenFlags};
use serde_json::{Value, json};

/// A squish effect line ($0.26 by the spec's table), named `id`.
fn effect_line(id: &str) -> String {
    json!({"id": id, "model": "kling", "task_type": "effects",
           "input": {"image_url": "https://example.com/cat.png", "effect": "squish",
                     "prompt": id}})
    .to_string()
}

type JournalRow = (String, Option<i64>, Option<i64>);

/// `(state, estimate, consume)` of each line of the journal.
fn journal(path: &Path) -> Vec<JournalRow> {
    try_journal(path).unwrap()
}

/// [`journal`], or the error while the batch is still creating it.
fn try_journal(path: &Path) -> rusqlite::Result<Vec<JournalRow>> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let mut statement =
        conn.prepare("SELECT state, estimate, consume FROM lines ORDER BY line_no")?;
    statement
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect()
}

/// What the journal has committed: charges of finished tasks, estimates of
/// the others sent (as the ledger counts against a budget).
fn committed(path: &Path) -> i64 {
    journal(path)
        .iter()
        .map(|(state, estimate, consume)| match state.as_str() {
            "completed" => consume.or(*estimate).unwrap_or(0),
            "failed" => consume.unwrap_or(0),
            "intent" | "created" | "unknown" => estimate.unwrap_or(0),
            _ => 0,
        })
        .sum()
}

/// How many creates reached the simulator for each line (by its prompt).
fn creates_per_line(sim: &Sim) -> HashMap<String, usize> {
    let mut per_line = HashMap::new();
    for entry in sim.sim.request_log() {
        if entry.method != "POST" || entry.path != "/api/v1/task" {
            continue;
        }
        if let Some(task) = entry.task_id.as_deref().and_then(|id| sim.sim.task(id)) {
            let prompt = task.input["prompt"].as_str().unwrap_or_default().to_owned();
            *per_line.entry(prompt).or_insert(0) += 1;
        }
    }
    per_line
}

#[test]
fn a_budget_stops_a_batch_at_the_right_line_across_a_kill_and_resumes() {
    // An effect takes about 0.6 s at this speed: the first run is killed
    // while tasks are in flight.
    let sim = Sim::start(Simulator::builder().speed(200.0));
    let dir = tempfile::tempdir().unwrap();
    let mut lines: Vec<String> = (0..20)
        .map(|i| effect_line(&format!("fx-{i:02}")))
        .collect();
    // No version: the table cannot price it.
    lines.insert(
        3,
        json!({"id": "unpriced", "model": "kling", "task_type": "video_generation",
               "input": {"prompt": "unpriced", "aspect_ratio": "16:9"}})
        .to_string(),
    );
    let file = dir.path().join("batch.jsonl");
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let journal_path = dir.path().join("journal.sqlite");
    let batch = |budget: &str| {
        let mut cmd = Command::new(KLING);
        cmd.env("PIAPI_BASE_URL", sim.sim.base_url())
            .env("PIAPI_API_KEY", KEY)
            .env_remove("PIAPI_UPLOAD_BASE_URL")
            .args(["--json", "--poll-interval", "20ms", "batch"])
            .arg(&file)
            .args(["--concurrency", "2", "--budget", budget, "--journal"])
            .arg(&journal_path);
        cmd
    };

    // 1. Killed with SIGKILL once three tasks exist.
    let mut child = batch("2.00")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        // The journal may not exist, or have no table yet.
        let ids = try_journal(&journal_path)
            .unwrap_or_default()
            .iter()
            .filter(|(state, ..)| state == "created" || state == "completed")
            .count();
        if ids >= 3 {
            break;
        }
        assert!(Instant::now() < deadline, "the batch never created 3 tasks");
        assert!(
            child.try_wait().unwrap().is_none(),
            "the batch ended too early"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(committed(&journal_path) <= 20_000_000);

    // 2. Resumed under the same budget: it stops at the 8th effect
    //    (7 × $0.26 = $1.82; one more would be $2.08).
    let out = batch("2.00").output().unwrap();
    let stderr = text(&out.stderr);
    let events: Vec<Value> = stderr
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let estimate = events.iter().find(|e| e["event"] == "estimate").unwrap();
    assert_eq!(estimate["unpriced_lines"], 1, "{estimate}");
    assert!(
        estimate["balance_usd"].as_f64().unwrap() > 0.0,
        "{estimate}"
    );
    assert!(
        events.iter().any(|e| e["event"] == "unpriced"),
        "the unpriced line is reported: {stderr}"
    );
    let reached = events
        .iter()
        .find(|e| e["event"] == "budget_reached")
        .unwrap_or_else(|| panic!("{stderr}"));
    assert_eq!(reached["budget_usd"], 2.0);
    assert!(reached["committed_usd"].as_f64().unwrap() <= 2.0);
    let created = |path: &Path| {
        journal(path)
            .iter()
            .filter(|(state, ..)| !matches!(state.as_str(), "pending" | "create_failed"))
            .count()
    };
    assert_eq!(created(&journal_path), 7, "{:?}", journal(&journal_path));
    assert!(committed(&journal_path) <= 20_000_000);
    let report = stdout_json(&out.stdout);
    assert_eq!(report["summary"]["pending"], 13, "{report}");
    let costs = report["costs"].as_array().unwrap();
    assert!(
        costs
            .iter()
            .any(|c| c["task_type"] == "effects" && c["lines"] == 7),
        "{costs:?}"
    );

    // 3. A higher budget resumes where it stopped.
    let out = batch("4.00").output().unwrap();
    assert!(text(&out.stderr).contains("budget_reached"));
    assert_eq!(created(&journal_path), 15, "15 × $0.26 = $3.90");
    assert!(committed(&journal_path) <= 40_000_000);

    // No line was ever created twice.
    let per_line = creates_per_line(&sim);
    assert!(per_line.values().all(|n| *n == 1), "{per_line:?}");
    assert!(
        !per_line.contains_key("unpriced"),
        "never created under a budget"
    );
}

#[test]
fn a_batch_the_balance_cannot_cover_needs_yes() {
    // $0.50 of credit: less than the two effects' $0.52.
    let sim = Sim::start(
        Simulator::builder()
            .speed(2000.0)
            .initial_credits(5_000_000),
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("batch.jsonl");
    std::fs::write(
        &file,
        format!("{}\n{}\n", effect_line("a"), effect_line("b")),
    )
    .unwrap();
    let run = |extra: &[&str]| {
        sim.kling()
            .arg("batch")
            .arg(&file)
            .arg("--journal")
            .arg(dir.path().join("j.sqlite"))
            .args(extra)
            .output()
            .unwrap()
    };
    let refused = run(&[]);
    assert_eq!(refused.status.code(), Some(2));
    let stderr = text(&refused.stderr);
    assert!(
        stderr.contains("balance ($0.50) cannot cover the batch's estimate ($0.52)"),
        "{stderr}"
    );
    assert_eq!(sim.creates(), 0);
    let started = run(&["--yes"]);
    assert!(started.status.success(), "{}", text(&started.stderr));
    assert_eq!(sim.creates(), 2);
}

#[test]
fn dry_run_prints_the_request_and_estimate_and_sends_nothing() {
    let sim = Sim::fast();
    let dir = tempfile::tempdir().unwrap();
    let face = common::png_file(dir.path(), "face.png");
    let out = sim
        .kling()
        .args(["--json", "avatar"])
        .arg(&face)
        .args([
            "https://example.com/hello.mp3",
            "--mode",
            "pro",
            "--dry-run",
        ])
        .args([
            "--webhook",
            "https://example.com/hook",
            "--webhook-secret-env",
            "HOOK_SECRET",
        ])
        .env("HOOK_SECRET", "s3cr3t-value")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        !stdout.contains("s3cr3t-value"),
        "a secret is never printed"
    );
    let dry = stdout_json(&out.stdout);
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["request"]["task_type"], "avatar");
    assert_eq!(dry["request"]["input"]["image_url"], face.to_str().unwrap());
    assert_eq!(dry["uploads"][0]["field"], "input.image_url");
    // Avatar pro: $0.26 per second, 10 s assumed.
    assert_eq!(dry["estimate"]["usd"], 2.6);
    assert!(
        sim.sim.request_log().is_empty(),
        "nothing was uploaded or sent"
    );

    let human = sim
        .kling()
        .args(["create", "sound", "--prompt", "rain", "--dry-run"])
        .output()
        .unwrap();
    let text = text(&human.stdout);
    assert!(text.contains("\"task_type\": \"sound\""), "{text}");
    assert!(text.contains("estimate $0.07 ($0.07 per task"), "{text}");
    assert!(sim.sim.request_log().is_empty());
}
