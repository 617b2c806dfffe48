//! Progress displays (indicatif): a spinner with a task's status and elapsed
//! time, and byte bars for downloads. Hidden bars cost nothing, so callers
//! create them unconditionally and pass `visible`.

use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use piapi_kling::models::TaskStatus;

/// How often a spinner redraws: the elapsed time must tick even while the
/// status does not change.
const TICK: Duration = Duration::from_millis(120);

/// A spinner following one task.
#[derive(Debug)]
pub struct WaitProgress {
    bar: ProgressBar,
    task_id: String,
}

impl WaitProgress {
    /// A spinner for `task_id`, drawn only when `visible`.
    pub fn new(visible: bool, task_id: &str) -> Self {
        let bar = if visible {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(TICK);
            bar
        } else {
            ProgressBar::hidden()
        };
        bar.set_message(format!("{task_id} waiting"));
        WaitProgress {
            bar,
            task_id: task_id.to_owned(),
        }
    }

    /// Shows a new status.
    pub fn status(&self, status: &TaskStatus) {
        self.bar
            .set_message(format!("{} {}", self.task_id, status.as_str()));
    }

    /// Removes the spinner.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Drop for WaitProgress {
    fn drop(&mut self) {
        // An early return (an error) must not leave a spinner ticking over
        // the error message.
        self.bar.finish_and_clear();
    }
}

/// A byte bar for one download of `len` bytes (a spinner when the length
/// is unknown).
pub fn download_bar(visible: bool, len: Option<u64>, name: &str) -> ProgressBar {
    if !visible {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(len, ProgressDrawTarget::stderr());
    let template = if len.is_some() {
        "{msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec})"
    } else {
        "{spinner} {msg} {bytes} ({bytes_per_sec})"
    };
    bar.set_style(
        ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(name.to_owned());
    bar
}

/// The overall bar of a batch: lines finished out of all, with a
/// [`MultiProgress`] so that printed lines do not tear it.
pub fn batch_bar(visible: bool, total: u64) -> (MultiProgress, ProgressBar) {
    let multi = if visible {
        MultiProgress::with_draw_target(ProgressDrawTarget::stderr())
    } else {
        MultiProgress::with_draw_target(ProgressDrawTarget::hidden())
    };
    let bar = multi.add(ProgressBar::new(total));
    bar.set_style(
        ProgressStyle::with_template("[{elapsed}] [{bar:30}] {pos}/{len} lines {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    if visible {
        bar.enable_steady_tick(TICK);
    }
    (multi, bar)
}
