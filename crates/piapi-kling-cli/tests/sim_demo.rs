//! `kling sim` as a real process, `kling demo` against its embedded
//! simulator, and shell completions.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{KLING, Sim, files_in, media_kind, text};

/// A port nobody listens on right now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Kills the child when the test ends, however it ends.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn sim_serves_in_the_foreground_and_says_how_to_use_it() {
    let port = free_port();
    let mut child = KillOnDrop(
        Command::new(KLING)
            .args([
                "sim",
                "--port",
                &port.to_string(),
                "--api-key",
                "demo-key",
                "--speed",
                "1000",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut stdout = BufReader::new(child.0.stdout.take().unwrap());
    let mut banner = String::new();
    for _ in 0..3 {
        stdout.read_line(&mut banner).unwrap();
    }
    let base = format!("http://127.0.0.1:{port}");
    assert!(
        banner.contains(&format!("simulator listening at {base}")),
        "{banner}"
    );
    assert!(
        banner.contains(&format!("PIAPI_BASE_URL={base} PIAPI_API_KEY=demo-key")),
        "{banner}"
    );

    // The CLI works against it with those settings (retrying briefly in
    // case the banner raced the listener).
    let deadline = Instant::now() + Duration::from_secs(10);
    let out = loop {
        let out = Command::new(KLING)
            .env("PIAPI_BASE_URL", &base)
            .env("PIAPI_API_KEY", "demo-key")
            .args(["--poll-interval", "10ms", "video", "a fox", "--wait"])
            .output()
            .unwrap();
        if out.status.success() || Instant::now() > deadline {
            break out;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("status  completed"));

    child.0.kill().unwrap();
    child.0.wait().unwrap();
    let after = Command::new(KLING)
        .env("PIAPI_BASE_URL", &base)
        .env("PIAPI_API_KEY", "demo-key")
        .arg("account")
        .output()
        .unwrap();
    assert_eq!(after.status.code(), Some(4), "the simulator is gone");
}

#[test]
fn demo_without_a_key_runs_on_the_embedded_simulator() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("kling-output");
    let out = Command::new(KLING)
        .env_remove("PIAPI_API_KEY")
        .env_remove("PIAPI_BASE_URL")
        .env_remove("PIAPI_UPLOAD_BASE_URL")
        .arg("demo")
        .arg("--out")
        .arg(&out_dir)
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    let first = stdout.lines().next().unwrap();
    assert!(
        first.starts_with(
            "PIAPI_API_KEY is not set: running against the embedded simulator at http://127.0.0.1:"
        ) && first.ends_with("; no money is spent"),
        "{first}"
    );
    for step in ["text-to-video", "lip-sync", "effect", "kling-3.0-audio"] {
        assert!(
            stdout.contains(&format!("  {step}")),
            "{step} in the summary: {stdout}"
        );
    }
    // The task ids of the summary start in one column, however long a name.
    let id_columns: Vec<usize> = stdout
        .lines()
        .skip_while(|l| *l != "summary:")
        .filter(|l| l.starts_with("  ") && !l.starts_with("    "))
        .map(|l| l.len() - l.trim_start().split_once(' ').unwrap().1.trim_start().len())
        .collect();
    assert_eq!(id_columns.len(), 4, "{stdout}");
    assert!(
        id_columns.windows(2).all(|w| w[0] == w[1]),
        "ids not aligned: {stdout}"
    );
    // Four videos, the three classic ones with a cover (Kling 3.0 answers
    // with `output.video` alone).
    let files = files_in(&out_dir);
    let kinds: Vec<&str> = files.iter().map(|f| media_kind(f)).collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "mp4").count(),
        4,
        "{files:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| **k == "png").count(),
        3,
        "{files:?}"
    );
    for file in &files {
        assert!(
            stdout.contains(&file.display().to_string()),
            "{} listed",
            file.display()
        );
    }
}

#[test]
fn demo_with_a_key_asks_before_spending_money() {
    let sim = Sim::fast();
    let dir = tempfile::tempdir().unwrap();
    let out = sim
        .kling()
        .arg("demo")
        .arg("--out")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "stdin is not a terminal: --yes is needed"
    );
    let stderr = text(&out.stderr);
    // From the spec's price table: $0.26 + $0.10 + $0.26 + 5 s × $0.15.
    assert!(
        stderr.contains("$1.37 in all"),
        "the cost is stated: {stderr}"
    );
    assert!(
        stderr.contains("kling-3.0-audio  $0.75 (5 s × $0.15/s"),
        "each step's price and rule: {stderr}"
    );
    assert!(stderr.contains("--yes"), "{stderr}");
    assert_eq!(sim.creates(), 0);

    let yes = sim
        .kling()
        .args(["demo", "--yes", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(yes.status.success(), "{}", text(&yes.stderr));
    assert_eq!(sim.creates(), 4);
}

#[test]
fn completions_are_generated_for_each_shell() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = Command::new(KLING)
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success(), "{shell}");
        let script = text(&out.stdout);
        assert!(
            script.contains("kling") && script.contains("image-to-video"),
            "{shell}: {script}"
        );
    }
}

#[test]
fn help_lists_every_subcommand_and_the_exit_codes() {
    let out = Command::new(KLING).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = text(&out.stdout);
    for command in [
        "video",
        "image-to-video",
        "extend",
        "lip-sync",
        "effect",
        "try-on",
        "sound",
        "get",
        "cancel",
        "cancel-all",
        "wait",
        "upload",
        "account",
        "batch",
        "sim",
        "demo",
        "completions",
    ] {
        assert!(
            help.contains(&format!("  {command} ")),
            "{command} in --help"
        );
    }
    for code in 0..=6 {
        assert!(
            help.contains(&format!("\n  {code}  ")),
            "exit code {code} in --help: {help}"
        );
    }
}
