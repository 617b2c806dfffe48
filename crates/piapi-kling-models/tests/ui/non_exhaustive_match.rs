// Every TaskStatus variant is listed, yet the match is rejected: the enum is
// #[non_exhaustive], so a status PiAPI adds later must have a wildcard arm.
use piapi_kling_models::TaskStatus;

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
