//! `kling batch`: local validation before anything is sent, the journal's
//! unknown creates, and the crash test: a batch killed with SIGKILL and
//! restarted creates no line twice and loses none.

mod common;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{KEY, KLING, Sim, files_in, media_kind, stdout_json, text};
use piapi_kling::models::TaskStatus;
use piapi_kling_sim::{Faults, Simulator};
use rusqlite::{Connection, OpenFlags};
use serde_json::{Value, json};

/// A text-to-video request line, named `id`.
fn video_line(id: &str, prompt: &str) -> String {
    json!({
        "id": id,
        "model": "kling",
        "task_type": "video_generation",
        "input": {"prompt": prompt, "aspect_ratio": "16:9"},
    })
    .to_string()
}

fn write_file(dir: &Path, lines: &[String]) -> PathBuf {
    let path = dir.join("batch.jsonl");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

/// One row of the journal, read the way the README documents it.
#[derive(Debug)]
struct Row {
    id: String,
    state: String,
    task_id: Option<String>,
    consume: Option<i64>,
}

/// Reads the journal read-only, as another process may while a batch runs.
fn read_journal(path: &Path) -> rusqlite::Result<Vec<Row>> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let mut statement =
        conn.prepare("SELECT line_id, state, task_id, consume FROM lines ORDER BY line_no")?;
    let rows = statement.query_map([], |row| {
        Ok(Row {
            id: row.get(0)?,
            state: row.get(1)?,
            task_id: row.get(2)?,
            consume: row.get(3)?,
        })
    })?;
    rows.collect()
}

#[test]
fn invalid_lines_are_all_reported_and_nothing_is_created() {
    let sim = Sim::fast();
    let dir = tempfile::tempdir().unwrap();
    let lines = [
        video_line("ok", "a fox"),
        video_line("too-long", &"x".repeat(2501)),
        "{not json".to_owned(),
        json!({"model": "kling", "task_type": "effects", "input": {"image_url": "https://e.com/c.png", "effect": "birthday"}}).to_string(),
    ];
    let file = write_file(dir.path(), &lines);
    let journal = dir.path().join("journal.sqlite");
    let out = sim
        .kling()
        .arg("batch")
        .arg(&file)
        .arg("--journal")
        .arg(&journal)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("line 2 (id too-long): input.prompt:"),
        "{stderr}"
    );
    assert!(stderr.contains("line 3: not valid JSON"), "{stderr}");
    assert!(stderr.contains("line 4: input.prompt:"), "{stderr}");
    assert!(
        !stderr.contains("  line 1"),
        "the valid line is not listed: {stderr}"
    );
    assert_eq!(sim.creates(), 0);
    assert!(
        !journal.exists(),
        "no journal for a batch that did not start"
    );

    // With --skip-invalid the valid line runs and the summary counts the rest.
    let out_dir = dir.path().join("out");
    let skipped = sim
        .kling()
        .args(["--json", "batch"])
        .arg(&file)
        .arg("--journal")
        .arg(&journal)
        .arg("--download")
        .arg(&out_dir)
        .arg("--skip-invalid")
        .output()
        .unwrap();
    assert!(skipped.status.success(), "{}", text(&skipped.stderr));
    let report = stdout_json(&skipped.stdout);
    assert_eq!(report["summary"]["completed"], 1);
    assert_eq!(report["summary"]["invalid"], 3);
    assert_eq!(report["summary"]["total"], 4);
    assert_eq!(report["summary"]["cost_usd"], 0.26);
    assert_eq!(report["invalid"][0]["line"], 2);
    let files = files_in(&out_dir);
    assert_eq!(files.len(), 1);
    assert_eq!(media_kind(&files[0]), "mp4");
    assert_eq!(sim.creates(), 1);
}

#[test]
fn ambiguous_creates_are_recorded_as_unknown_and_resent_only_when_asked() {
    let sim = Sim::fast();
    let dir = tempfile::tempdir().unwrap();
    let lines: Vec<String> = (0..3)
        .map(|i| video_line(&format!("v{i}"), "a fox"))
        .collect();
    let file = write_file(dir.path(), &lines);
    let journal = dir.path().join("journal.sqlite");
    let batch = |extra: &[&str]| {
        sim.kling()
            .args(["--json", "batch"])
            .arg(&file)
            .arg("--journal")
            .arg(&journal)
            .args(extra)
            .output()
            .unwrap()
    };

    // Every create's answer is cut short: the tasks exist, their ids are unread.
    sim.sim.set_faults(Faults {
        truncated_body_rate: 1.0,
        methods: Some(vec!["POST".into()]),
        ..Faults::default()
    });
    let first = batch(&[]);
    assert_eq!(first.status.code(), Some(6));
    assert_eq!(stdout_json(&first.stdout)["summary"]["unknown"], 3);
    assert!(
        read_journal(&journal)
            .unwrap()
            .iter()
            .all(|r| r.state == "unknown")
    );
    assert_eq!(sim.creates(), 3);

    // A plain rerun reports them and sends nothing.
    sim.sim.set_faults(Faults::default());
    let second = batch(&[]);
    assert_eq!(second.status.code(), Some(6));
    let report = stdout_json(&second.stdout);
    assert_eq!(report["summary"]["unknown"], 3);
    assert_eq!(sim.creates(), 3, "unknown lines are never re-sent silently");

    // --resend-unknown sends them again (the documented duplicate risk).
    let third = batch(&["--resend-unknown"]);
    assert!(third.status.success(), "{}", text(&third.stderr));
    assert_eq!(stdout_json(&third.stdout)["summary"]["completed"], 3);
    assert_eq!(sim.creates(), 6);
}

#[test]
fn a_batch_killed_while_waiting_resumes_without_duplicates_or_losses() {
    // The kill may also catch a create in flight; the checks hold either way.
    let (waiting, _) = kill_and_resume(false);
    assert!(waiting > 0, "the kill came while tasks were waited for");
}

#[test]
fn a_batch_killed_during_a_create_reports_it_unknown_and_never_resends_it() {
    let (_, interrupted) = kill_and_resume(true);
    assert!(
        interrupted >= 1,
        "the kill came while a create was in flight"
    );
}

/// Runs a 30-line batch, kills it (SIGKILL) once the journal holds 3 task
/// ids, restarts it, and checks that no line was created twice and none was
/// lost. With `hang_creates`, the creates sent after that point hang and
/// the kill waits for one of them to be journaled as an intent, so it lands
/// mid-create. Returns how many lines were waiting for their task and how
/// many creates were in flight at the kill.
fn kill_and_resume(hang_creates: bool) -> (usize, usize) {
    // A video takes about 300 ms at this speed: the batch runs ~3 s.
    let sim = Sim::start(Simulator::builder().speed(400.0));
    let dir = tempfile::tempdir().unwrap();
    let total = 30;
    let lines: Vec<String> = (0..total)
        .map(|i| {
            // One line fails, to check failed lines are counted, not lost.
            let prompt = if i == 7 {
                format!("clip {i} [sim:content-filter]")
            } else {
                format!("clip {i}")
            };
            video_line(&format!("clip-{i}"), &prompt)
        })
        .collect();
    let file = write_file(dir.path(), &lines);
    let journal = dir.path().join("journal.sqlite");
    let args = |cmd: &mut Command| {
        cmd.env("PIAPI_BASE_URL", sim.sim.base_url())
            .env("PIAPI_API_KEY", KEY)
            .env_remove("PIAPI_UPLOAD_BASE_URL")
            .args(["--json", "--poll-interval", "20ms", "batch"])
            .arg(&file)
            .args(["--concurrency", "4", "--journal"])
            .arg(&journal);
    };

    let mut first = Command::new(KLING);
    args(&mut first);
    let mut child = first
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let hung_creates = Faults {
        latency: Some((Duration::from_secs(10), Duration::from_secs(10))),
        methods: Some(vec!["POST".into()]),
        ..Faults::default()
    };
    let mut armed: Option<HashSet<String>> = None;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let rows = read_journal(&journal).unwrap_or_default();
        let ids = rows.iter().filter(|r| r.task_id.is_some()).count();
        if ids >= 3 && !hang_creates {
            break;
        }
        if ids >= 3 && armed.is_none() {
            // From now on a create answers only after 10 s: far longer than
            // the milliseconds between seeing its intent and the kill.
            sim.sim.set_faults(hung_creates.clone());
            // Lines still pending after that can only send hanging creates.
            let pending = read_journal(&journal).unwrap_or_default();
            armed = Some(
                pending
                    .into_iter()
                    .filter(|r| r.state == "pending")
                    .map(|r| r.id)
                    .collect::<HashSet<String>>(),
            );
        }
        if let Some(pending) = &armed
            && rows
                .iter()
                .any(|r| r.state == "intent" && pending.contains(&r.id))
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the batch never reached the kill point"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the batch ended before the kill"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap(); // SIGKILL: no cleanup of any kind
    sim.sim.set_faults(Faults::default());
    child.wait().unwrap();

    let at_kill = read_journal(&journal).unwrap();
    let waiting_at_kill = at_kill.iter().filter(|r| r.state == "created").count();
    let interrupted_at_kill = at_kill.iter().filter(|r| r.state == "intent").count();
    assert!(
        at_kill.iter().filter(|r| r.state == "completed").count() < total,
        "the kill left work to resume"
    );

    let mut second = Command::new(KLING);
    args(&mut second);
    let out = second.output().unwrap();
    let report = stdout_json(&out.stdout);
    let events: Vec<Value> = text(&out.stderr)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let resumed = events.iter().filter(|e| e["event"] == "resumed").count();
    assert_eq!(
        resumed, waiting_at_kill,
        "every task waited for at the kill is resumed"
    );

    let rows = read_journal(&journal).unwrap();
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let expected_ids: Vec<String> = (0..total).map(|i| format!("clip-{i}")).collect();
    assert_eq!(ids, expected_ids, "one row per line, named by its id");
    // Nothing lost: every line ended, or is reported unknown for the user.
    for row in &rows {
        assert!(
            matches!(row.state.as_str(), "completed" | "failed" | "unknown"),
            "{row:?}"
        );
    }
    let unknown = rows.iter().filter(|r| r.state == "unknown").count();
    assert_eq!(
        unknown, interrupted_at_kill,
        "exactly the interrupted creates are unknown"
    );
    let journaled: Vec<&str> = rows
        .iter()
        .filter(|r| r.state != "unknown")
        .map(|r| {
            r.task_id
                .as_deref()
                .expect("a finished line has its task id")
        })
        .collect();
    let distinct: HashSet<&str> = journaled.iter().copied().collect();
    assert_eq!(distinct.len(), journaled.len(), "no task id recorded twice");

    // Every journaled task exists and ended as the journal says.
    for row in rows.iter().filter(|r| r.state != "unknown") {
        let task = sim.sim.task(row.task_id.as_deref().unwrap()).unwrap();
        let expected = if row.state == "completed" {
            TaskStatus::Completed
        } else {
            TaskStatus::Failed
        };
        assert_eq!(task.status, expected, "{row:?}");
        assert_eq!(
            row.consume,
            task.meta.usage.as_ref().and_then(|u| u.consume)
        );
    }
    // The content-filtered line failed, unless the kill left it unknown.
    let filtered = rows.iter().find(|r| r.id == "clip-7").unwrap();
    let failed = usize::from(filtered.state != "unknown");
    assert_eq!(rows.iter().filter(|r| r.state == "failed").count(), failed);

    // No line created twice: the simulator saw one create per journaled
    // task, plus at most one per unknown line.
    let created: HashSet<String> = sim
        .sim
        .request_log()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == "/api/v1/task")
        .filter_map(|r| r.task_id)
        .collect();
    assert!(distinct.iter().all(|id| created.contains(*id)));
    let posts = sim.creates();
    if unknown == 0 {
        assert_eq!(posts, journaled.len());
        assert_eq!(created.len(), journaled.len());
    } else {
        assert!(
            posts >= journaled.len() && posts <= journaled.len() + unknown,
            "{posts}"
        );
        assert!(created.len() <= journaled.len() + unknown);
    }

    // The summary adds up and matches the journal.
    let summary = &report["summary"];
    let count = |key: &str| summary[key].as_u64().unwrap() as usize;
    assert_eq!(count("total"), total);
    assert_eq!(
        count("completed"),
        rows.iter().filter(|r| r.state == "completed").count()
    );
    assert_eq!(count("failed"), failed);
    assert_eq!(count("unknown"), unknown);
    assert_eq!(
        count("completed")
            + count("failed")
            + count("unknown")
            + count("create_errors")
            + count("running")
            + count("pending")
            + count("invalid"),
        total
    );
    let consume: i64 = rows.iter().filter_map(|r| r.consume).sum();
    assert_eq!(summary["consume"], consume);
    assert!((summary["cost_usd"].as_f64().unwrap() - consume as f64 / 1e7).abs() < 1e-9);
    let expected_exit = if unknown > 0 {
        6
    } else if failed > 0 {
        3
    } else {
        0
    };
    assert_eq!(out.status.code(), Some(expected_exit));
    eprintln!(
        "crash test: at the kill {waiting_at_kill} waiting, {interrupted_at_kill} interrupted; \
         {posts} creates for {} journaled tasks and {unknown} unknown",
        journaled.len()
    );
    (waiting_at_kill, interrupted_at_kill)
}
