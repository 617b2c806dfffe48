//! What `kling` prints: concise human lines, or JSON with `--json`.
//!
//! In JSON mode stdout carries exactly one object (the result, or
//! `{"error": {...}}`), so `kling --json ... | jq` always parses; progress
//! events such as a task's creation go to stderr as JSON lines.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use piapi_kling::DryRun;
use piapi_kling::models::catalog::Estimate;
use piapi_kling::models::{TaskData, Violation};
use piapi_kling::{Error, TaskResult};
use serde_json::{Value, json};

use crate::exit::CliError;

/// The output mode of one run.
#[derive(Clone, Copy, Debug)]
pub struct Output {
    json: bool,
    quiet: bool,
}

impl Output {
    /// Output as `--json` and `--quiet` say.
    pub fn new(json: bool, quiet: bool) -> Self {
        Output { json, quiet }
    }

    /// True with `--json`.
    pub fn is_json(&self) -> bool {
        self.json
    }

    /// True when progress bars may be drawn: a terminal, and neither
    /// `--json` nor `--quiet`.
    pub fn show_progress(&self) -> bool {
        !self.json && !self.quiet && std::io::stdout().is_terminal()
    }

    /// Prints a line of the result (stdout, human mode only).
    pub fn line(&self, text: impl AsRef<str>) {
        if !self.json {
            out_line(text.as_ref());
        }
    }

    /// A note for people (stderr, not with `--json` or `--quiet`).
    pub fn note(&self, text: impl AsRef<str>) {
        if !self.json && !self.quiet {
            err_line(text.as_ref());
        }
    }

    /// Warnings of the local check (values the spec does not list, sent as
    /// given): `warning: …` lines on stderr, or `{"event":"warning",…}` JSON
    /// lines with `--json`; not with `--quiet`.
    pub fn warnings(&self, warnings: &[Violation]) {
        for warning in warnings {
            if self.json {
                self.event(json!({
                    "event": "warning",
                    "path": warning.path,
                    "rule": warning.rule.name(),
                    "message": warning.message,
                }));
            } else if !self.quiet {
                err_line(&warning.to_string());
            }
        }
    }

    /// A progress event: a JSON line on stderr with `--json`, else nothing
    /// (human mode prints its own line).
    pub fn event(&self, event: Value) {
        if self.json {
            let mut err = std::io::stderr().lock();
            let _ = writeln!(err, "{event}");
        }
    }

    /// The one JSON object of the run (stdout, JSON mode only).
    pub fn object(&self, value: &Value) {
        if self.json {
            out_line(&value.to_string());
        }
    }

    /// The estimate of a create about to be sent: a note on stderr, or an
    /// `{"event":"estimate",…}` line with `--json`.
    pub fn estimate(&self, estimate: &Estimate) {
        if self.json {
            self.event(json!({
                "event": "estimate",
                "usd": estimate.usd(),
                "units": estimate.units(),
                "estimate": estimate.to_string(),
            }));
        } else {
            self.note(format!("estimate {estimate}"));
        }
    }

    /// What `--dry-run` found: the request (webhook secret masked), its
    /// estimate, the local files it would upload and the warnings.
    pub fn dry_run(&self, dry: &DryRun) {
        let mut request = serde_json::to_value(&dry.request).unwrap_or(Value::Null);
        if let Some(secret) = request.pointer_mut("/config/webhook_config/secret")
            && secret.as_str().is_some_and(|s| !s.is_empty())
        {
            *secret = json!("<redacted>");
        }
        let uploads: Vec<Value> = dry
            .uploads
            .iter()
            .map(|(field, file)| json!({"field": field, "file": file}))
            .collect();
        self.warnings(&dry.warnings);
        if self.json {
            self.object(&json!({
                "dry_run": true,
                "request": request,
                "estimate": {
                    "usd": dry.estimate.usd(),
                    "units": dry.estimate.units(),
                    "text": dry.estimate.to_string(),
                },
                "uploads": uploads,
            }));
            return;
        }
        out_line(&serde_json::to_string_pretty(&request).unwrap_or_default());
        out_line(&format!("estimate {}", dry.estimate));
        for (field, file) in &dry.uploads {
            out_line(&format!("upload  {} -> {field}", file.display()));
        }
        out_line("dry run: nothing was uploaded or created");
    }

    /// Announces a task the moment it exists, so its id survives whatever
    /// happens next.
    pub fn created(&self, task: &TaskData) {
        if self.json {
            self.event(json!({
                "event": "created",
                "task_id": task.task_id,
                "task_type": task.task_type.as_str(),
                "status": task.status.as_str(),
            }));
        } else {
            out_line(&format!(
                "created {} ({}, {})",
                task.task_id,
                task.task_type.as_str(),
                task.status.as_str()
            ));
        }
    }

    /// The final report on one task and the files saved from it.
    pub fn task(&self, task: &TaskData, files: &[PathBuf]) {
        if self.json {
            let mut object = json!({ "task": redacted(task) });
            if !files.is_empty() {
                object["files"] = json!(files);
            }
            self.object(&object);
            return;
        }
        for line in task_lines(task) {
            out_line(&line);
        }
        for file in files {
            out_line(&format!("file    {}", file.display()));
        }
    }

    /// Reports a failure: on stdout as `{"error": {...}}` with `--json`,
    /// else on stderr. A command that printed its own report prints nothing
    /// more.
    pub fn error(&self, error: &CliError) {
        if matches!(error, CliError::Reported(_)) {
            return;
        }
        if self.json {
            self.object(&json!({ "error": error_json(error) }));
        } else {
            let mut err = std::io::stderr().lock();
            for line in error_lines(error) {
                let _ = writeln!(err, "{line}");
            }
        }
    }
}

/// Writes a line to stdout. A closed pipe (`kling ... | head`) is not an
/// error worth a panic: the reader has gone, so the line is dropped.
pub fn out_line(text: &str) {
    let _ = writeln!(std::io::stdout().lock(), "{text}");
}

/// Writes a line to stderr, ignoring a closed pipe like [`out_line`].
pub fn err_line(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

/// The task with any webhook secret PiAPI echoed in its config masked: a
/// secret is never printed.
pub fn redacted(task: &TaskData) -> TaskData {
    let mut task = task.clone();
    if let Some(secret) = task
        .config
        .as_mut()
        .and_then(|c| c.webhook_config.as_mut())
        .and_then(|w| w.secret.as_mut())
        .filter(|s| !s.is_empty())
    {
        *secret = "<redacted>".to_owned();
    }
    task
}

/// The human lines describing a task: id, type, status, results, error, cost.
pub fn task_lines(task: &TaskData) -> Vec<String> {
    let mut lines = vec![
        format!("task    {}", task.task_id),
        format!("type    {}", task.task_type.as_str()),
        format!("status  {}", task.status.as_str()),
    ];
    let result = TaskResult::from(task.clone());
    for video in &result.videos {
        lines.push(format!("video   {}", video.url));
        if let Some(cover) = &video.cover_url {
            lines.push(format!("cover   {cover}"));
        }
    }
    lines.extend(result.images.iter().map(|i| format!("image   {}", i.url)));
    lines.extend(result.audio.iter().map(|a| format!("audio   {}", a.url)));
    // Found outside every documented output shape: shown, and said to be a guess.
    lines.extend(
        result
            .guessed_urls
            .iter()
            .map(|u| format!("media?  {u} (found in an undocumented place of the output)")),
    );
    if task.error.is_error() {
        let mut line = format!("error   code {}: {}", task.error.code, task.error.message);
        if let Some(raw) = task.error.raw_message.as_deref().filter(|r| !r.is_empty()) {
            line.push_str(&format!(" (raw: {raw})"));
        }
        lines.push(line);
    }
    if let Some(consume) = task.meta.usage.as_ref().and_then(|u| u.consume) {
        lines.push(format!("cost    {}", dollars(consume)));
    }
    lines
}

/// Usage units (1e-7 USD) as dollars, e.g. `$0.26`.
pub fn dollars(units: i64) -> String {
    format!("${:.2}", units as f64 / 1e7)
}

/// The human lines of an error, first line `error: ...`.
pub fn error_lines(error: &CliError) -> Vec<String> {
    match error {
        CliError::Sdk(e) => sdk_error_lines(e),
        CliError::Invalid(problems) => {
            let mut lines = vec!["error: invalid input".to_owned()];
            lines.extend(problems.iter().map(|p| format!("  {p}")));
            lines
        }
        CliError::Network(message) | CliError::Local(message) | CliError::NoMedia(message) => {
            vec![format!("error: {message}")]
        }
        CliError::Reported(_) => Vec::new(),
    }
}

fn sdk_error_lines(error: &Error) -> Vec<String> {
    match error {
        Error::Validation(violations) => {
            let mut lines = vec![format!(
                "error: invalid request ({} problem{}), nothing was sent:",
                violations.len(),
                if violations.len() == 1 { "" } else { "s" }
            )];
            lines.extend(violations.iter().map(|v| format!("  {v}")));
            lines
        }
        Error::TaskFailed {
            task_id,
            code,
            message,
            raw_message,
            ..
        } => {
            let mut lines = vec![
                format!("error: task {task_id} failed"),
                format!("  code: {code}"),
                format!("  message: {message}"),
            ];
            if let Some(raw) = raw_message {
                lines.push(format!("  raw message: {raw}"));
            }
            lines
        }
        Error::Timeout {
            task_id,
            elapsed,
            last_status,
        } => vec![
            format!(
                "error: stopped waiting for task {task_id} after {} (last status: {}); the task goes on",
                humantime::format_duration(round_ms(*elapsed)),
                last_status.as_ref().map_or("unknown", |s| s.as_str())
            ),
            format!("  task id: {task_id}"),
            format!("  resume with: kling wait {task_id}"),
        ],
        Error::AmbiguousCreate { task_id, .. } => {
            let mut lines = vec![format!("error: {error}")];
            match task_id {
                Some(id) => {
                    lines.push(format!("  salvaged task id: {id}"));
                    lines.push(format!("  check it with: kling get {id}"));
                }
                None => lines.push("  no task id could be salvaged".to_owned()),
            }
            lines
        }
        Error::Pipeline {
            video_task_id,
            source,
            ..
        } => {
            let mut lines = vec![format!(
                "error: stopped after video task {video_task_id} was created"
            )];
            lines.extend(sdk_error_lines(source));
            lines
        }
        other => {
            let mut lines = vec![format!("error: {other}")];
            let mut source = std::error::Error::source(other);
            while let Some(cause) = source {
                lines.push(format!("  caused by: {cause}"));
                source = cause.source();
            }
            lines
        }
    }
}

/// Milliseconds are enough precision for people.
fn round_ms(d: std::time::Duration) -> std::time::Duration {
    std::time::Duration::from_millis(d.as_millis() as u64)
}

/// The JSON body of `{"error": ...}`.
pub fn error_json(error: &CliError) -> Value {
    let exit = error.exit();
    let mut object = match error {
        CliError::Sdk(e) => sdk_error_json(e),
        CliError::Invalid(problems) => json!({
            "message": "invalid input",
            "problems": problems,
        }),
        CliError::Network(message) | CliError::Local(message) | CliError::NoMedia(message) => {
            json!({ "message": message })
        }
        CliError::Reported(_) => json!({ "message": "see the report above" }),
    };
    object["kind"] = json!(exit.kind());
    object["exit_code"] = json!(exit.code());
    object
}

fn sdk_error_json(error: &Error) -> Value {
    let mut object = json!({ "message": error.to_string() });
    if let Some(id) = error.task_id() {
        object["task_id"] = json!(id);
    }
    match error {
        Error::Validation(violations) => {
            object["violations"] = violations
                .iter()
                .map(|v| json!({"path": v.path, "rule": v.rule.name(), "message": v.message}))
                .collect();
        }
        Error::TaskFailed {
            code,
            message,
            raw_message,
            ..
        } => {
            object["code"] = json!(code);
            object["task_message"] = json!(message);
            object["raw_message"] = json!(raw_message);
        }
        Error::Timeout {
            task_id,
            elapsed,
            last_status,
        } => {
            object["elapsed_ms"] = json!(elapsed.as_millis() as u64);
            object["last_status"] = json!(last_status.as_ref().map(|s| s.as_str()));
            object["resume"] = json!(format!("kling wait {task_id}"));
        }
        Error::Api { status, code, .. } => {
            object["status"] = json!(status);
            object["code"] = json!(code);
        }
        Error::AmbiguousCreate { raw_body, .. } => {
            object["raw_body"] = json!(raw_body);
        }
        Error::Pipeline { source, .. } => {
            object["source"] = sdk_error_json(source);
        }
        _ => {
            if let Some(status) = error.status() {
                object["status"] = json!(status);
            }
        }
    }
    object
}

#[cfg(test)]
mod tests {
    use super::*;
    use piapi_kling::models::{Violation, Violations, validation::Rule};

    #[test]
    fn validation_errors_list_every_violation() {
        let error = CliError::Sdk(Error::Validation(Violations(vec![
            Violation::new("input.prompt", Rule::MaxLength(2500), "too long"),
            Violation::new("input.cfg_scale", Rule::Maximum(1.0), "too big"),
        ])));
        let lines = error_lines(&error);
        assert_eq!(lines.len(), 3);
        assert!(lines[1].contains("input.prompt") && lines[1].contains("maxLength"));
        let json = error_json(&error);
        assert_eq!(json["exit_code"], 2);
        assert_eq!(json["violations"][1]["rule"], "maximum");
    }

    #[test]
    fn an_echoed_webhook_secret_is_masked() {
        let task: TaskData = serde_json::from_value(serde_json::json!({
            "task_id": "t", "model": "kling", "task_type": "sound", "status": "pending",
            "config": {"webhook_config": {"endpoint": "https://h/hook", "secret": "s3cr3t"}},
            "input": {}, "meta": {}, "detail": null, "logs": [], "error": {"code": 0, "message": ""}
        }))
        .unwrap();
        let shown = serde_json::to_string(&redacted(&task)).unwrap();
        assert!(
            !shown.contains("s3cr3t") && shown.contains("<redacted>"),
            "{shown}"
        );
    }

    #[test]
    fn dollars_round_to_cents() {
        assert_eq!(dollars(2_600_000), "$0.26");
        assert_eq!(dollars(0), "$0.00");
    }
}
