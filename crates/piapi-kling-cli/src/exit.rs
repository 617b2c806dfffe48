//! Exit codes, and the one error type of the commands that decides them.

use piapi_kling::Error;

/// How `kling` ends; the numbers are documented in `--help` and the README.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// 0: success.
    Success = 0,
    /// 1: a local failure (writing a file, the batch journal).
    Local = 1,
    /// 2: invalid input or configuration.
    Invalid = 2,
    /// 3: the task failed.
    TaskFailed = 3,
    /// 4: a transport or API error.
    Api = 4,
    /// 5: timed out waiting for a task.
    Timeout = 5,
    /// 6: a create whose outcome is unknown.
    Ambiguous = 6,
}

impl Exit {
    /// The process exit code.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// A short name for JSON error objects.
    pub fn kind(self) -> &'static str {
        match self {
            Exit::Success => "success",
            Exit::Local => "local",
            Exit::Invalid => "invalid_input",
            Exit::TaskFailed => "task_failed",
            Exit::Api => "api",
            Exit::Timeout => "timeout",
            Exit::Ambiguous => "ambiguous_create",
        }
    }
}

/// Why a command failed.
#[derive(Debug)]
pub enum CliError {
    /// An error of the SDK.
    Sdk(Error),
    /// Input the CLI itself rejects; one message per problem.
    Invalid(Vec<String>),
    /// A download or other HTTP exchange of the CLI's own failed.
    Network(String),
    /// A local failure: a file that could not be written, the journal.
    Local(String),
    /// A completed task whose output holds no media to save; the message
    /// carries the raw output, so nothing PiAPI sent is hidden.
    NoMedia(String),
    /// The command already printed its own report (the batch summary); only
    /// the exit code is left to give.
    Reported(Exit),
}

impl CliError {
    /// One invalid-input problem.
    pub fn invalid(message: impl Into<String>) -> Self {
        CliError::Invalid(vec![message.into()])
    }

    /// The exit code this error ends the process with.
    pub fn exit(&self) -> Exit {
        match self {
            CliError::Sdk(e) => sdk_exit(e),
            CliError::Invalid(_) => Exit::Invalid,
            CliError::Network(_) | CliError::NoMedia(_) => Exit::Api,
            CliError::Local(_) => Exit::Local,
            CliError::Reported(exit) => *exit,
        }
    }
}

/// The exit code of an SDK error.
pub fn sdk_exit(error: &Error) -> Exit {
    match error {
        // A missing key or a bad URL is the user's input too.
        Error::Validation(_) | Error::Config(_) | Error::File { .. } | Error::OverBudget { .. } => {
            Exit::Invalid
        }
        Error::TaskFailed { .. } => Exit::TaskFailed,
        Error::Timeout { .. } => Exit::Timeout,
        Error::AmbiguousCreate { .. } => Exit::Ambiguous,
        Error::Pipeline { source, .. } => sdk_exit(source),
        // The process is shutting its client down: a local condition.
        Error::Closed(_) => Exit::Local,
        _ => Exit::Api,
    }
}

impl From<Error> for CliError {
    fn from(error: Error) -> Self {
        CliError::Sdk(error)
    }
}

impl From<std::io::Error> for CliError {
    fn from(error: std::io::Error) -> Self {
        CliError::Local(error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn sdk_errors_map_to_their_codes() {
        let timeout = Error::Timeout {
            task_id: "t".into(),
            elapsed: Duration::from_millis(10),
            last_status: None,
        };
        assert_eq!(sdk_exit(&timeout), Exit::Timeout);
        assert_eq!(sdk_exit(&Error::Config("no key".into())), Exit::Invalid);
        let api = Error::Api {
            status: 401,
            code: None,
            message: "unauthorized".into(),
            retry_after: None,
        };
        assert_eq!(sdk_exit(&api), Exit::Api);
        let ambiguous = Error::AmbiguousCreate {
            task_id: None,
            source: Box::new(api),
            raw_body: None,
        };
        assert_eq!(sdk_exit(&ambiguous), Exit::Ambiguous);
        let pipeline = Error::Pipeline {
            video_task_id: "v".into(),
            video: None,
            source: Box::new(timeout),
        };
        assert_eq!(CliError::Sdk(pipeline).exit().code(), 5);
        assert_eq!(CliError::Reported(Exit::TaskFailed).exit().code(), 3);
        assert_eq!(sdk_exit(&Error::Closed("request")), Exit::Local);
    }
}
