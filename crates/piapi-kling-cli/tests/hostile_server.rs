//! `kling get/wait/batch --download` against a hostile server of this test
//! (SECURITY.md): a task id that walks out of the directory, files larger
//! than allowed or without end, redirects to other schemes, oversized or
//! malformed API bodies, and plain HTTP to a remote host. Nothing may escape
//! the directory, nothing is left half-written, and every failure is a clear
//! error that keeps the task id.

mod common;

#[path = "../../piapi-kling/tests/common/hostile.rs"]
mod hostile;

use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use common::{KEY, KLING, stdout_json, text};
use hostile::{Hostile, Reply, envelope, task};
use serde_json::json;
use tokio::runtime::Runtime;

const ID: &str = "6e269e8c-2091-46c4-b4a5-40a4704a766a";

/// A few bytes that look like an MP4.
const MP4: &[u8] = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom";

/// A hostile server on its own runtime (the tests stay synchronous).
struct Server {
    server: Hostile,
    _rt: Runtime,
}

impl Server {
    fn start<F>(reply: F) -> Server
    where
        F: Fn(&hostile::Seen, &str) -> Reply + Send + Sync + 'static,
    {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let server = rt.block_on(Hostile::start(reply));
        Server { server, _rt: rt }
    }

    /// A server whose tasks are all completed with id `task_id` and one
    /// video at `/media/<video>`; the media routes answer as `media` says.
    fn tasks<M>(task_id: &'static str, video: &'static str, media: M) -> Server
    where
        M: Fn(&str, &str) -> Reply + Send + Sync + 'static,
    {
        Server::start(move |seen, base| {
            if seen.path.starts_with("/api/v1/task") {
                let url = format!("{base}/media/{video}");
                let status = if seen.method == "POST" {
                    "pending"
                } else {
                    "completed"
                };
                Reply::json(envelope(&task(task_id, status, &url)))
            } else {
                media(&seen.path, base)
            }
        })
    }

    /// `kling` pointed at this server, run in `dir`, with a time limit so a
    /// regression that hangs fails instead.
    fn kling(&self, dir: &Path) -> Command {
        let mut cmd = Command::new(KLING);
        cmd.current_dir(dir)
            .env("PIAPI_BASE_URL", &self.server.url)
            .env("PIAPI_API_KEY", KEY)
            .env_remove("PIAPI_UPLOAD_BASE_URL")
            .env_remove("RUST_LOG")
            .args(["--poll-interval", "10ms", "--timeout", "20s"])
            .timeout(Duration::from_secs(60));
        cmd
    }

    fn media_requests(&self) -> Vec<hostile::Seen> {
        self.server
            .seen()
            .into_iter()
            .filter(|s| s.path.starts_with("/media/"))
            .collect()
    }
}

/// Every file under `dir`, recursively.
fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(next) = stack.pop() {
        for entry in std::fs::read_dir(&next).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn mp4(_: &str, _: &str) -> Reply {
    Reply::bytes("video/mp4", MP4.to_vec())
}

// ------------------------------------------------------------ file names

#[test]
fn a_traversal_task_id_writes_nothing_outside_the_directory() {
    let server = Server::tasks("../../escaped", "v.mp4", mp4);
    let tmp = tempfile::tempdir().unwrap();
    // The download directory is two levels down; `../../` would land in
    // `dl/` and more `../` anywhere.
    for command in ["get", "wait"] {
        let out = server
            .kling(tmp.path())
            .args([command, ID, "--download", "dl/a/b"])
            .output()
            .unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(4), "{command}: {stderr}");
        assert!(stderr.contains("refusing to name files"), "{stderr}");
        assert!(stderr.contains("task ../../escaped"), "{stderr}");
    }
    assert_eq!(all_files(tmp.path()), Vec::<PathBuf>::new());
    assert!(server.media_requests().is_empty(), "nothing was fetched");
}

#[test]
fn an_absolute_or_control_character_id_is_refused_with_the_id_escaped() {
    let server = Server::tasks("/tmp/kling-escape\u{1b}[2J", "v.mp4", mp4);
    let tmp = tempfile::tempdir().unwrap();
    let out = server
        .kling(tmp.path())
        .args(["--json", "get", ID, "--download", "dl"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    let error = stdout_json(&out.stdout)["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        error.contains(r"task /tmp/kling-escape\u{1b}[2J"),
        "{error}"
    );
    assert_eq!(all_files(tmp.path()), Vec::<PathBuf>::new());
}

#[test]
fn batch_downloads_refuse_a_traversal_id_and_keep_it() {
    let server = Server::tasks("../../escaped", "v.mp4", mp4);
    let tmp = tempfile::tempdir().unwrap();
    let line = json!({
        "id": "heron",
        "model": "kling",
        "task_type": "video_generation",
        "input": {"prompt": "a heron", "aspect_ratio": "16:9"},
    });
    std::fs::write(tmp.path().join("jobs.jsonl"), format!("{line}\n")).unwrap();
    let out = server
        .kling(tmp.path())
        .args([
            "--json",
            "batch",
            "jobs.jsonl",
            "--journal",
            "jobs.db",
            "--download",
            "dl/a/b",
        ])
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert!(stderr.contains("download_failed"), "{stderr}");
    assert!(stderr.contains("refusing to name files"), "{stderr}");
    // The task id stays in the summary (and the journal) for the user.
    let summary = stdout_json(&out.stdout).to_string();
    assert!(summary.contains("../../escaped"), "{summary}");
    let written: Vec<PathBuf> = all_files(tmp.path())
        .into_iter()
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with("jobs"))
        .collect();
    assert_eq!(written, Vec::<PathBuf>::new());
    assert!(server.media_requests().is_empty());
}

// ------------------------------------------------------------ file sizes

#[test]
fn a_download_past_the_limit_is_refused_and_nothing_is_left() {
    let server = Server::start(|seen, base| {
        let video = seen.path.rsplit('/').next().unwrap_or("");
        match seen.path.as_str() {
            p if p.starts_with("/api/v1/task/") => Reply::json(envelope(&task(
                video,
                "completed",
                &format!("{base}/media/{video}.mp4"),
            ))),
            // Announced: refused before a byte is written.
            "/media/announced.mp4" => Reply::bytes("video/mp4", vec![0; 3 << 20]),
            // Not announced: stopped while streaming.
            _ => Reply::Endless {
                status: 200,
                chunk: vec![0; 64 * 1024],
            },
        }
    });
    let tmp = tempfile::tempdir().unwrap();
    for id in ["announced", "endless"] {
        let out = server
            .kling(tmp.path())
            .args([
                "get",
                id,
                "--download",
                "dl",
                "--max-download-bytes",
                "1MiB",
            ])
            .output()
            .unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(4), "{id}: {stderr}");
        assert!(stderr.contains("limit of 1048576 bytes"), "{stderr}");
        assert!(stderr.contains("--max-download-bytes"), "{stderr}");
        assert!(stderr.contains(&format!("task {id}:")), "{stderr}");
        assert_eq!(all_files(tmp.path()), Vec::<PathBuf>::new(), "{id}");
    }
}

#[test]
fn a_file_within_the_limit_is_saved() {
    let server = Server::tasks(ID, "v.mp4", mp4);
    let tmp = tempfile::tempdir().unwrap();
    let limit = MP4.len().to_string();
    let out = server
        .kling(tmp.path())
        .args([
            "get",
            ID,
            "--download",
            "dl",
            "--max-download-bytes",
            &limit,
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let saved = tmp.path().join("dl").join(format!("{ID}-1.mp4"));
    assert_eq!(std::fs::read(saved).unwrap(), MP4);
}

// ------------------------------------------------------------- redirects

#[test]
fn a_redirect_to_another_scheme_is_not_followed() {
    // reqwest itself stops at a `file:` location; an `ftp:` one reaches the
    // downloader's redirect policy. Both end in the same clear refusal.
    let server = Server::start(|seen, base| {
        let name = seen.path.rsplit('/').next().unwrap_or("");
        if seen.path.starts_with("/api/") {
            let url = format!("{base}/media/{name}.mp4");
            Reply::json(envelope(&task(name, "completed", &url)))
        } else if name == "file.mp4" {
            Reply::redirect("file:///etc/passwd")
        } else {
            Reply::redirect("ftp://127.0.0.1:1/v.mp4")
        }
    });
    let tmp = tempfile::tempdir().unwrap();
    for id in ["file", "ftp"] {
        let out = server
            .kling(tmp.path())
            .args(["get", id, "--download", "dl"])
            .output()
            .unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(4), "{stderr}");
        assert!(stderr.contains("only http and https"), "{id}: {stderr}");
        assert!(stderr.contains(&format!("task {id}:")), "{stderr}");
    }
    assert_eq!(all_files(tmp.path()), Vec::<PathBuf>::new());
}

#[test]
fn a_redirect_to_a_cdn_on_another_host_is_followed_without_the_key() {
    let server = Server::tasks(ID, "v.mp4", |path, base| {
        if path == "/media/v.mp4" {
            // The same server under another name: another host.
            let port = base.rsplit(':').next().unwrap();
            Reply::redirect(&format!("http://localhost:{port}/media/cdn.mp4"))
        } else {
            Reply::bytes("video/mp4", MP4.to_vec())
        }
    });
    let tmp = tempfile::tempdir().unwrap();
    let out = server
        .kling(tmp.path())
        .args(["get", ID, "--download", "dl"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let media = server.media_requests();
    assert_eq!(media.len(), 2, "{media:?}");
    assert!(media.iter().all(|s| s.header("x-api-key").is_none()));
    assert!(
        server
            .server
            .seen()
            .iter()
            .filter(|s| s.path.starts_with("/api/"))
            .all(|s| s.header("x-api-key") == Some(KEY))
    );
}

// ------------------------------------------------------------- API bodies

#[test]
fn hostile_api_bodies_are_clear_errors() {
    let deep = format!(
        r#"{{"code":200,"message":"x","data":{{"task_id":"{ID}","input":{}{}}}}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let server = Server::start(move |seen, _| match seen.path.rsplit('/').next() {
        Some("endless") => Reply::Endless {
            status: 200,
            chunk: vec![b' '; 64 * 1024],
        },
        Some("deep") => Reply::json(deep.clone()),
        _ => Reply::bytes(
            "application/json",
            b"{\"code\":200,\"data\":\"\xff\xfe\"}".to_vec(),
        ),
    });
    let tmp = tempfile::tempdir().unwrap();
    for (id, expected) in [
        ("endless", "larger than the limit of 16777216 bytes"),
        ("deep", "could not decode"),
        ("badutf8", "could not decode"),
    ] {
        let out = server
            .kling(tmp.path())
            .args(["wait", id, "--download", "dl"])
            .output()
            .unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(4), "{id}: {stderr}");
        assert!(stderr.contains(expected), "{id}: {stderr}");
        assert!(!stderr.contains(KEY));
    }
    assert_eq!(all_files(tmp.path()), Vec::<PathBuf>::new());
}

// ------------------------------------------------------------ plain HTTP

#[test]
fn plain_http_to_a_remote_host_needs_the_opt_in() {
    let tmp = tempfile::tempdir().unwrap();
    let kling = || {
        let mut cmd = Command::new(KLING);
        cmd.current_dir(tmp.path())
            .env("PIAPI_BASE_URL", "http://api.example.invalid")
            .env("PIAPI_API_KEY", KEY)
            .env_remove("PIAPI_UPLOAD_BASE_URL");
        cmd
    };
    // An empty task id fails locally after the client is built: no request
    // is made either way.
    let out = kling().args(["get", " "]).output().unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("clear text"), "{stderr}");
    assert!(stderr.contains("--allow-insecure-http"), "{stderr}");
    assert!(!stderr.contains(KEY));

    let out = kling()
        .args(["--allow-insecure-http", "get", " "])
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("warning: the API key is sent in clear text to http://api.example.invalid"),
        "{stderr}"
    );
    assert!(stderr.contains("task_id"), "{stderr}");
}
