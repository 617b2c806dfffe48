//! The end-of-batch summary, computed from the journal so that it covers the
//! lines finished by earlier runs too.

use serde_json::{Value, json};

use std::collections::{BTreeMap, HashMap};

use super::input::{Invalid, Line};
use crate::exit::Exit;
use crate::output::dollars;
use piapi_kling_ledger::{Row, State};

/// Counts over the lines of one file; they add up to `total`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Every non-blank line of the file.
    pub total: usize,
    /// Tasks that completed.
    pub completed: usize,
    /// Tasks that failed.
    pub failed: usize,
    /// Creates whose outcome is unknown: to reconcile.
    pub unknown: usize,
    /// Creates refused or never delivered (no task exists); retried next run.
    pub create_errors: usize,
    /// Tasks created and not seen finished (timed out or interrupted waits).
    pub running: usize,
    /// Lines not attempted yet.
    pub pending: usize,
    /// Invalid lines skipped with --skip-invalid.
    pub invalid: usize,
    /// Sum of `meta.usage.consume`, in units of 1e-7 USD.
    pub consume: i64,
}

impl Summary {
    /// Counts `rows` (the journal's rows of the file's valid lines) and the
    /// skipped `invalid` lines.
    pub fn of(rows: &[Row], invalid: usize) -> Summary {
        let mut summary = Summary {
            total: rows.len() + invalid,
            invalid,
            ..Summary::default()
        };
        for row in rows {
            match row.state {
                State::Completed => summary.completed += 1,
                State::Failed => summary.failed += 1,
                State::Unknown | State::Intent => summary.unknown += 1,
                State::CreateFailed => summary.create_errors += 1,
                State::Created => summary.running += 1,
                State::Pending => summary.pending += 1,
            }
            summary.consume += row.consume.unwrap_or(0);
        }
        summary
    }

    /// The exit code: what most needs the user's attention decides.
    pub fn exit(&self) -> Exit {
        if self.unknown > 0 {
            Exit::Ambiguous
        } else if self.failed > 0 {
            Exit::TaskFailed
        } else if self.create_errors > 0 {
            Exit::Api
        } else if self.running > 0 || self.pending > 0 {
            Exit::Timeout
        } else {
            Exit::Success
        }
    }

    /// The cost in dollars.
    pub fn cost_usd(&self) -> f64 {
        self.consume as f64 / 1e7
    }
}

/// What the lines of one task type were estimated to cost and were charged.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cost {
    /// The task type.
    pub task_type: String,
    /// Lines sent (with an estimate recorded or a task).
    pub lines: usize,
    /// Sum of the estimates recorded when the creates were sent (1e-7 USD).
    pub estimated: i64,
    /// Lines sent whose price the table did not know.
    pub unpriced: usize,
    /// Sum of `meta.usage.consume` of the finished tasks (1e-7 USD).
    pub charged: i64,
}

/// Estimated vs charged, per task type, over the lines that were sent.
pub fn costs(rows: &[Row], lines: &[Line]) -> Vec<Cost> {
    let task_types: HashMap<&str, &str> = lines
        .iter()
        .map(|l| (l.id.as_str(), l.request.task_type()))
        .collect();
    let mut by_type: BTreeMap<&str, Cost> = BTreeMap::new();
    for row in rows {
        let sent = row.estimate.is_some() || row.task_id.is_some() || row.consume.is_some();
        if !sent {
            continue;
        }
        let task_type = task_types.get(row.id.as_str()).copied().unwrap_or("?");
        let cost = by_type.entry(task_type).or_insert_with(|| Cost {
            task_type: task_type.to_owned(),
            ..Cost::default()
        });
        cost.lines += 1;
        match row.estimate {
            Some(units) => cost.estimated += units,
            None => cost.unpriced += 1,
        }
        cost.charged += row.consume.unwrap_or(0);
    }
    by_type.into_values().collect()
}

/// The `--json` object: totals, every line, and the skipped invalid lines.
pub fn to_json(summary: &Summary, rows: &[Row], invalid: &[Invalid], costs: &[Cost]) -> Value {
    json!({
        "costs": costs.iter().map(|c| json!({
            "task_type": c.task_type,
            "lines": c.lines,
            "estimated_usd": c.estimated as f64 / 1e7,
            "unpriced_lines": c.unpriced,
            "charged_usd": c.charged as f64 / 1e7,
        })).collect::<Vec<_>>(),
        "summary": {
            "total": summary.total,
            "completed": summary.completed,
            "failed": summary.failed,
            "unknown": summary.unknown,
            "create_errors": summary.create_errors,
            "running": summary.running,
            "pending": summary.pending,
            "invalid": summary.invalid,
            "consume": summary.consume,
            "cost_usd": summary.cost_usd(),
            "exit_code": summary.exit().code(),
        },
        "lines": rows.iter().map(|r| json!({
            "id": r.id,
            "line": r.line,
            "state": r.state.as_str(),
            "task_id": r.task_id,
            "attempts": r.attempts,
            "error": r.error,
            "consume": r.consume,
            "estimate": r.estimate,
            "files": r.files,
            "task": r.task,
        })).collect::<Vec<_>>(),
        "invalid": invalid.iter().map(|i| json!({
            "line": i.number,
            "id": i.id,
            "problems": i.problems,
        })).collect::<Vec<_>>(),
    })
}

/// The human summary: totals, costs per task type, then every line that
/// needs attention.
pub fn to_lines(summary: &Summary, rows: &[Row], costs: &[Cost]) -> Vec<String> {
    let mut lines = vec![
        format!(
            "batch: {} lines: {} completed, {} failed, {} unknown, {} create errors, {} running, {} pending, {} invalid",
            summary.total,
            summary.completed,
            summary.failed,
            summary.unknown,
            summary.create_errors,
            summary.running,
            summary.pending,
            summary.invalid
        ),
        format!("cost: {}", dollars(summary.consume)),
    ];
    for c in costs {
        let unpriced = if c.unpriced > 0 {
            format!(" (+{} unpriced)", c.unpriced)
        } else {
            String::new()
        };
        lines.push(format!(
            "  {:<22} {} line{}: estimated {}{unpriced}, charged {}",
            c.task_type,
            c.lines,
            if c.lines == 1 { "" } else { "s" },
            dollars(c.estimated),
            dollars(c.charged)
        ));
    }
    let label = |r: &Row| format!("  line {} (id {})", r.line, r.id);
    let unknown: Vec<&Row> = rows
        .iter()
        .filter(|r| matches!(r.state, State::Unknown | State::Intent))
        .collect();
    if !unknown.is_empty() {
        lines.push(
            "unknown (a task may exist: check the PiAPI dashboard or your webhooks; \
             --resend-unknown re-sends them and may create duplicates):"
                .to_owned(),
        );
        for r in unknown {
            let mut line = label(r);
            if let Some(id) = &r.task_id {
                line.push_str(&format!(": salvaged task id {id} (kling get {id})"));
            }
            lines.push(line);
        }
    }
    for (state, title) in [
        (State::Failed, "failed:"),
        (
            State::CreateFailed,
            "create errors (no task exists; the next run retries them):",
        ),
        (State::Created, "running (the next run resumes waiting):"),
    ] {
        let matching: Vec<&Row> = rows.iter().filter(|r| r.state == state).collect();
        if matching.is_empty() {
            continue;
        }
        lines.push(title.to_owned());
        for r in matching {
            let mut line = label(r);
            if let Some(id) = &r.task_id {
                line.push_str(&format!(" task {id}"));
            }
            if let Some(error) = &r.error {
                line.push_str(&format!(": {error}"));
            }
            lines.push(line);
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(state: State, consume: Option<i64>) -> Row {
        Row {
            id: "x".into(),
            line: 1,
            state,
            task_id: Some("t".into()),
            attempts: 1,
            error: None,
            consume,
            files: None,
            lease_owner: None,
            lease_until: None,
            token: None,
            updated_at: 0,
            task: None,
            estimate: Some(2_600_000),
        }
    }

    #[test]
    fn totals_add_up_and_the_worst_outcome_decides_the_exit_code() {
        let rows = [
            row(State::Completed, Some(2_600_000)),
            row(State::Completed, Some(2_600_000)),
            row(State::Failed, Some(0)),
            row(State::Created, None),
        ];
        let summary = Summary::of(&rows, 2);
        assert_eq!(summary.total, 6);
        assert_eq!(
            summary.completed
                + summary.failed
                + summary.unknown
                + summary.create_errors
                + summary.running
                + summary.pending
                + summary.invalid,
            summary.total
        );
        assert_eq!(summary.consume, 5_200_000);
        assert!((summary.cost_usd() - 0.52).abs() < 1e-9);
        assert_eq!(summary.exit(), Exit::TaskFailed);
        assert_eq!(
            Summary::of(&[row(State::Unknown, None)], 0).exit(),
            Exit::Ambiguous
        );
        assert_eq!(
            Summary::of(&[row(State::Created, None)], 0).exit(),
            Exit::Timeout
        );
        assert_eq!(Summary::of(&rows[..2], 1).exit(), Exit::Success);
        let costs = vec![Cost {
            task_type: "effects".into(),
            lines: 4,
            estimated: 10_400_000,
            unpriced: 0,
            charged: 5_200_000,
        }];
        let text = to_lines(&summary, &rows, &costs).join("\n");
        assert!(
            text.contains("effects                4 lines: estimated $1.04, charged $0.52"),
            "{text}"
        );
        assert!(
            text.contains("2 completed, 1 failed") && text.contains("$0.52"),
            "{text}"
        );
    }
}
