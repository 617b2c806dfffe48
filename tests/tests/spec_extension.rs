//! Proves spec/README.md's "Adding a task type or a field": a copy of the
//! workspace whose spec gains one task type (`hologram`) and one field on an
//! existing type (`sound`'s `mood`) is regenerated and built, with no
//! hand-written line changed. A small program then, against the fixture's
//! own simulator:
//! - creates a `hologram` task through the SDK's generic builder and its
//!   generated setters (a local file in its media field is uploaded), waits
//!   for it and downloads the video;
//! - sets `mood` through its generated setter and finds it in the simulator;
//! - runs the fixture's `kling create hologram --prompt … --download DIR`.
//!
//! The build shares this workspace's target directory (only the fixture's
//! own crates compile); the fixture sits one directory deeper so its
//! artifacts never overwrite this workspace's.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The crates the fixture copies: everything between the spec and the CLI.
const CRATES: &[&str] = &[
    "piapi-kling-models",
    "piapi-kling-client",
    "piapi-kling",
    "piapi-kling-sim",
    "piapi-kling-ledger",
    "piapi-kling-cli",
];

/// Copies `from` into `to`, following symlinks (the crates' licence links).
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        if src.is_dir() {
            copy_dir(&src, &dst);
        } else if src.exists() {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}

/// Inserts `text` after the first line equal to `anchor` that follows the
/// line `after` (both compared trimmed of trailing spaces).
fn insert_after(spec: &str, after: &str, anchor: &str, text: &str) -> String {
    let start = spec
        .find(after)
        .unwrap_or_else(|| panic!("`{after}` not in the spec"));
    let offset = spec[start..]
        .find(anchor)
        .unwrap_or_else(|| panic!("`{anchor}` not after `{after}`"));
    let at = start + offset + anchor.len();
    format!("{}{}{}", &spec[..at], text, &spec[at..])
}

/// The spec edits a maintainer makes: a new task type and a new field.
fn extend_spec(spec: &str) -> String {
    let spec = insert_after(spec, "    TaskType:\n", "enum: [", "\"hologram\", ");
    let spec = insert_after(
        &spec,
        "    SoundInput:\n",
        "      properties:\n",
        "        mood:\n          type: string\n          maxLength: 40\n          description: The mood of the sound.\n",
    );
    let spec = insert_after(
        &spec,
        "    CreateTaskRequest:\n",
        "      oneOf:\n",
        r##"        - title: HologramRequest
          type: object
          description: A hologram from a prompt.
          required: [model, task_type, input]
          x-simulate:
            output: video
            kling-type: m2v_hologram
            pending-seconds: 1
            processing-seconds: 30
            seconds: [depth]
            default-seconds: 3
          x-price:
            read: 2026-11-30
            rules:
              - usd: 0.50
                per: task
                source: "[I] fixture"
          properties:
            model:
              $ref: "#/components/schemas/Model"
            task_type:
              type: string
              enum: ["hologram"]
            input:
              $ref: "#/components/schemas/HologramInput"
            config:
              $ref: "#/components/schemas/TaskConfig"
"##,
    );
    insert_after(
        &spec,
        "  schemas:\n",
        "\n",
        r##"    HologramInput:
      type: object
      description: A hologram of what the prompt describes.
      required: [prompt]
      properties:
        prompt:
          type: string
          maxLength: 500
          description: What the hologram shows.
        depth:
          type: integer
          minimum: 1
          maximum: 5
          description: Layers of depth.
        reference_image:
          type: string
          format: uri
          description: An image to start from.
          x-media:
            kind: image
            extensions: [png, jpg]
            max-bytes: 10485760
"##,
    )
}

/// The program run against the fixture: only the SDK, the simulator and the
/// generated types, as a user would write it.
const PROBE: &str = r##"
use piapi_kling::models::{HologramInput, TaskStatus};
use piapi_kling_sim::Simulator;

#[tokio::main]
async fn main() {
    let kling = std::env::args().nth(1).expect("the kling binary");
    let dir = std::path::PathBuf::from(std::env::args().nth(2).expect("a scratch directory"));
    let sim = Simulator::builder().speed(1000.0).api_key("k").start().await.unwrap();
    let client = piapi_kling::Client::builder()
        .api_key("k")
        .base_url(sim.base_url())
        .upload_base_url(sim.base_url())
        .allow_insecure_http(true)
        .build()
        .unwrap();

    // The new task type, through the generic builder and its generated setters.
    let png = dir.join("reference.png");
    std::fs::write(&png, PNG).unwrap();
    let handle = client
        .new_task(HologramInput::new("a spinning cube"))
        .depth(4)
        .reference_image(&png)
        .send()
        .await
        .unwrap();
    let stored = sim.task(handle.id()).unwrap();
    assert_eq!(stored.input["depth"], 4);
    let uploaded = stored.input["reference_image"].as_str().unwrap().to_owned();
    assert!(uploaded.starts_with("http"), "the local file was uploaded: {uploaded}");
    let done = handle.wait().await.unwrap();
    assert_eq!(done.task.status, TaskStatus::Completed);
    assert_eq!(done.task.task_type.as_str(), "hologram");
    assert!(done.task.task_type.is_known());
    let url = done.video_url().expect("a hologram makes a video").to_owned();
    let video = reqwest::get(&url).await.unwrap().bytes().await.unwrap();
    assert_eq!(&video[4..8], b"ftyp", "a real MP4");
    let usage = done.task.meta.usage.clone().unwrap();
    assert_eq!(usage.consume, Some(5_000_000), "charged by the new x-price");

    // The new field on an existing type, through its generated setter.
    let sound = client.sound().prompt("rain").mood("calm").send().await.unwrap();
    assert_eq!(sim.task(sound.id()).unwrap().input["mood"], "calm");

    // The CLI: a subcommand and flags made from the new spec.
    let out = std::process::Command::new(&kling)
        .args(["--poll-interval", "10ms", "--timeout", "30s", "create", "hologram",
               "--prompt", "a cube", "--depth", "2", "--download"])
        .arg(dir.join("downloads"))
        .env("PIAPI_BASE_URL", sim.base_url())
        .env("PIAPI_API_KEY", "k")
        .output()
        .unwrap();
    assert!(out.status.success(), "kling create: {}", String::from_utf8_lossy(&out.stderr));
    let saved: Vec<_> = std::fs::read_dir(dir.join("downloads")).unwrap().collect();
    assert!(!saved.is_empty(), "kling create --download saved the video");
    let help = std::process::Command::new(&kling)
        .args(["create", "hologram", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("--depth") && help.contains("Layers of depth"), "{help}");
    println!("probe: ok");
}

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\x0dIDATx\x9cc\x00\x01\x00\x00\x05\x00\x01\x0d\x0a\x2d\xb4\x00\x00\x00\x00IEND\xaeB`\x82";
"##;

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_task_type_and_a_field_added_to_the_spec_work_end_to_end() {
    let root = piapi_kling_tests::root();
    let target = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .to_owned();
    let ws = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("spec-extension");
    let _ = std::fs::remove_dir_all(&ws);
    let fixture = ws.join("fixture");

    // 1. The workspace as it is, its spec extended.
    for krate in CRATES {
        copy_dir(
            &root.join("crates").join(krate),
            &fixture.join("crates").join(krate),
        );
    }
    copy_dir(&root.join("spec"), &fixture.join("spec"));
    let spec_path = fixture.join("spec/piapi-kling.yaml");
    let spec = std::fs::read_to_string(&spec_path).unwrap();
    std::fs::write(&spec_path, extend_spec(&spec)).unwrap();

    // 2. `cargo xtask generate` (the generator, run on the fixture's root).
    let files = piapi_kling_codegen::generate_workspace(&fixture).unwrap();
    let written = piapi_kling_codegen::write_changed(&fixture, &files).unwrap();
    assert!(!written.is_empty(), "the new spec changes generated code");

    // 3. Build the fixture's CLI and the probe, sharing the target directory.
    let manifest = std::fs::read_to_string(root.join("Cargo.toml"))
        .unwrap()
        .replace(
            r#"members = ["codegen", "xtask", "crates/*", "tests", "bench"]"#,
            r#"members = ["fixture/crates/*", "probe"]"#,
        )
        .replace("path = \"crates/", "path = \"fixture/crates/")
        .replace("piapi-kling-codegen = { path = \"codegen\" }\n", "");
    std::fs::write(ws.join("Cargo.toml"), manifest).unwrap();
    std::fs::copy(root.join("Cargo.lock"), ws.join("Cargo.lock")).unwrap();
    std::fs::create_dir_all(ws.join("probe/src")).unwrap();
    std::fs::write(
        ws.join("probe/Cargo.toml"),
        r#"[package]
name = "probe"
version = "0.1.0"
edition = "2024"
publish = false

[dependencies]
piapi-kling = { path = "../fixture/crates/piapi-kling" }
piapi-kling-sim = { path = "../fixture/crates/piapi-kling-sim" }
reqwest.workspace = true
tokio.workspace = true
"#,
    )
    .unwrap();
    std::fs::write(ws.join("probe/src/main.rs"), PROBE).unwrap();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    run(Command::new(&cargo)
        .args([
            "build",
            "--offline",
            "--quiet",
            "-p",
            "probe",
            "-p",
            "piapi-kling-cli",
        ])
        .arg("--manifest-path")
        .arg(ws.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", &target));

    // 4. Run it.
    let scratch = ws.join("scratch");
    std::fs::create_dir_all(&scratch).unwrap();
    let bin = |name: &str| {
        target
            .join("debug")
            .join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
    };
    let out = run(Command::new(bin("probe")).arg(bin("kling")).arg(&scratch));
    assert!(out.contains("probe: ok"), "{out}");
}
