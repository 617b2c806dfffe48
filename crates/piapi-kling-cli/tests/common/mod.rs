//! Shared by the end-to-end tests: a simulator on its own runtime, the
//! `kling` binary pointed at it, and checks on media files.
#![allow(dead_code)] // each test binary uses a part of these helpers

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use piapi_kling_sim::{RunningSimulator, Simulator, SimulatorBuilder};
use serde_json::Value;
use tokio::runtime::Runtime;

/// A key distinctive enough to search the output for leaks.
pub const KEY: &str = "cli-test-key-7f3a9c51e2";

/// The path of the `kling` binary under test.
pub const KLING: &str = env!("CARGO_BIN_EXE_kling");

/// A running simulator. Its runtime is its own, so the tests themselves
/// stay synchronous and may block on the `kling` process.
pub struct Sim {
    // Dropped before the runtime that serves it.
    pub sim: RunningSimulator,
    rt: Runtime,
}

impl Sim {
    /// A simulator from `builder`, with the test key.
    pub fn start(builder: SimulatorBuilder) -> Sim {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        let sim = rt
            .block_on(builder.api_key(KEY).start())
            .expect("the simulator starts");
        Sim { sim, rt }
    }

    /// Tasks finish in tens of milliseconds.
    pub fn fast() -> Sim {
        Sim::start(Simulator::builder().speed(2000.0))
    }

    /// `kling` pointed at this simulator, polling every 10 ms.
    pub fn kling(&self) -> Command {
        let mut cmd = Command::new(KLING);
        cmd.env("PIAPI_BASE_URL", self.sim.base_url())
            .env("PIAPI_API_KEY", KEY)
            .env_remove("PIAPI_UPLOAD_BASE_URL")
            .env_remove("RUST_LOG")
            .args(["--poll-interval", "10ms", "--timeout", "30s"]);
        cmd
    }

    /// How many creates reached the simulator.
    pub fn creates(&self) -> usize {
        self.sim.count_requests("POST", "/api/v1/task")
    }

    /// Creates a video with `kling video --wait` and returns its task id.
    pub fn completed_video(&self) -> String {
        let out = self
            .kling()
            .args(["--json", "video", "a heron over rice fields", "--wait"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        let task = stdout_json(&out.stdout);
        assert_eq!(task["task"]["status"], "completed");
        task["task"]["task_id"].as_str().unwrap().to_owned()
    }
}

/// The one JSON object `--json` prints on stdout.
pub fn stdout_json(stdout: &[u8]) -> Value {
    let text = text(stdout);
    assert_eq!(
        text.trim().lines().count(),
        1,
        "one object on stdout: {text}"
    );
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// Output bytes as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A valid 320×320 grey PNG: large enough for the spec's `min-side: 300`.
pub static PNG: std::sync::LazyLock<Vec<u8>> =
    std::sync::LazyLock::new(|| piapi_kling_sim::encode_png(320, 320, |_, _| [128, 128, 128]));

/// Writes the PNG into `dir` under `name`.
pub fn png_file(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, &*PNG).unwrap();
    path
}

/// The media format of a file, told by its first bytes.
pub fn media_kind(path: &Path) -> &'static str {
    let bytes = std::fs::read(path).unwrap();
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        "png"
    } else if bytes.len() >= 8 && &bytes[4..8] == b"ftyp" {
        "mp4"
    } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WAVE" {
        "wav"
    } else {
        "unknown"
    }
}

/// The files in `dir`, sorted by name.
pub fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}
