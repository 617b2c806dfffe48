//! `cargo xtask generate | check | lint`: the maintainers' commands for the
//! generated code. See the README's "Regenerating" section.

use anyhow::{Context, Result, bail};
use piapi_kling_codegen as codegen;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

const USAGE: &str = "usage: cargo xtask <generate|check|lint>
  generate  rewrite every generated file from spec/piapi-kling.yaml (only files that changed)
  check     regenerate in memory; print a diff and fail when a committed file is stale
  lint      run the spec linter";

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn workspace_root() -> PathBuf {
    // xtask lives one level below the workspace root.
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask has a parent directory")
        .to_path_buf()
}

fn run() -> Result<ExitCode> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = workspace_root();
    match args.first().map(String::as_str) {
        Some("generate") => generate(&root),
        Some("check") => check(&root),
        Some("lint") => {
            let spec = codegen::Spec::load(&root.join(codegen::SPEC_PATH), codegen::SPEC_PATH)?;
            codegen::lint_spec(&spec)?;
            println!("{}: no problems", codegen::SPEC_PATH);
            Ok(ExitCode::SUCCESS)
        }
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        _ => bail!("{USAGE}"),
    }
}

fn generate(root: &std::path::Path) -> Result<ExitCode> {
    let started = Instant::now();
    let files = codegen::generate_workspace(root)?;
    let elapsed = started.elapsed();
    let written = codegen::write_changed(root, &files).context("writing generated files")?;
    for f in &files {
        let lines = f.contents.lines().count();
        let state = if written.contains(&f.path) {
            "written"
        } else {
            "unchanged"
        };
        println!("{:<55} {:>6} lines  {state}", f.path.display(), lines);
    }
    println!(
        "generated {} files in {:.0} ms",
        files.len(),
        elapsed.as_secs_f64() * 1e3
    );
    Ok(ExitCode::SUCCESS)
}

fn check(root: &std::path::Path) -> Result<ExitCode> {
    let files = codegen::generate_workspace(root)?;
    let stale = codegen::stale_files(root, &files);
    if stale.is_empty() {
        println!("generated code is up to date with {}", codegen::SPEC_PATH);
        return Ok(ExitCode::SUCCESS);
    }
    for s in &stale {
        let path = s.path.display().to_string();
        let diff = similar::TextDiff::from_lines(&s.committed, &s.expected);
        print!(
            "{}",
            diff.unified_diff().context_radius(3).header(
                &format!("a/{path} (committed)"),
                &format!("b/{path} (from spec)")
            )
        );
    }
    eprintln!(
        "error: {} generated file(s) are out of date relative to {}; run `cargo xtask generate`",
        stale.len(),
        codegen::SPEC_PATH
    );
    Ok(ExitCode::FAILURE)
}
