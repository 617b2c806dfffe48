// Error is #[non_exhaustive] too: new failure kinds can be added.
fn describe(err: &piapi_kling::Error) -> &'static str {
    match err {
        piapi_kling::Error::Validation(_) => "validation",
        piapi_kling::Error::Api { .. } => "api",
        piapi_kling::Error::TaskFailed { .. } => "failed",
        piapi_kling::Error::Timeout { .. } => "timeout",
        piapi_kling::Error::Transport(_) => "transport",
        piapi_kling::Error::Decode { .. } => "decode",
        piapi_kling::Error::AmbiguousCreate { .. } => "ambiguous",
        piapi_kling::Error::Pipeline { .. } => "pipeline",
        piapi_kling::Error::Config(_) => "config",
        piapi_kling::Error::File { .. } => "file",
    }
}

fn main() {
    let _ = describe;
}
