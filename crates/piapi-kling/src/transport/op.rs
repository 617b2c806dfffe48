//! What a request is: the API operation, and what the retry rules, the span
//! and the scrubbing of errors need to know about it.

use piapi_kling_client::ResponseValue;
use piapi_kling_models::ErrorResponse;

/// What one operation of the generated client returns.
pub(crate) type ApiResult<T> =
    std::result::Result<ResponseValue<T>, piapi_kling_client::Error<ErrorResponse>>;

/// The API operations, with what the retry rules need to know about them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    CreateTask,
    GetTask,
    CancelTask,
    CancelTasks,
    Upload,
    AccountInfo,
    ActiveTasks,
}

impl Op {
    /// The operation's id in the generated client (its `OperationInfo`).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Op::CreateTask => "create_task",
            Op::GetTask => "get_task",
            Op::CancelTask => "cancel_task",
            Op::CancelTasks => "cancel_tasks",
            Op::Upload => "upload_file",
            Op::AccountInfo => "get_account_info",
            Op::ActiveTasks => "get_active_tasks",
        }
    }

    /// A create bills a task; everything else is safe to repeat.
    pub(crate) fn is_create(self) -> bool {
        self == Op::CreateTask
    }
}

/// What a request is, for the retry rules, the span and the scrubbing of
/// errors.
pub(crate) struct Call<'a> {
    pub(crate) op: Op,
    pub(crate) task_id: Option<&'a str>,
    /// Secrets of this request (a webhook secret) to scrub from errors.
    pub(crate) secrets: &'a [&'a str],
}

impl<'a> Call<'a> {
    /// A request of `op`, about `task_id` when it names one, with no secret
    /// of its own to scrub.
    pub(crate) fn new(op: Op, task_id: Option<&'a str>) -> Self {
        Call {
            op,
            task_id,
            secrets: &[],
        }
    }
}
