// TaskStatus is #[non_exhaustive]: a match must keep a wildcard arm, so a
// status PiAPI adds later cannot break the caller's build.
use piapi_kling::TaskStatus;

fn label(status: &TaskStatus) -> &'static str {
    match status {
        TaskStatus::Pending => "pending",
        TaskStatus::Staged => "staged",
        TaskStatus::Processing => "processing",
        TaskStatus::Completed => "completed",
        TaskStatus::Failed => "failed",
        TaskStatus::Unknown(_) => "unknown",
    }
}

fn main() {
    let _ = label(&TaskStatus::Pending);
}
