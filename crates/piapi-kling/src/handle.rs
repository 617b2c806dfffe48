//! [`TaskHandle`]: a created (or resumed) task.

use piapi_kling_models::{TaskData, Violation};
use tokio::time::Instant;

use crate::core::Core;
use crate::error::Result;
use crate::result::TaskResult;
use crate::wait::{Poller, StatusStream};
use crate::wait_policy::WaitPolicy;
use std::sync::Arc;

/// A task on PiAPI: read it, cancel it, wait for its result, or follow its
/// status. The id is always at hand ([`TaskHandle::id`]), so a task is never
/// lost even when waiting fails.
#[derive(Clone, Debug)]
pub struct TaskHandle {
    client: Arc<Core>,
    id: String,
    /// When this client created the task (the polling schedule starts there).
    created_at: Option<Instant>,
    /// The task as the create request answered, and the warnings of the
    /// local check (boxed: handles are held by every waiting task, most of
    /// which never read them).
    created: Option<Box<Created>>,
}

#[derive(Clone, Debug)]
struct Created {
    task: TaskData,
    warnings: Vec<Violation>,
}

impl TaskHandle {
    pub(crate) fn created(
        client: Arc<Core>,
        task: TaskData,
        warnings: Vec<Violation>,
        at: Instant,
    ) -> Self {
        TaskHandle {
            client,
            id: task.task_id.clone(),
            created_at: Some(at),
            created: Some(Box::new(Created { task, warnings })),
        }
    }

    pub(crate) fn resumed(client: Arc<Core>, id: String) -> Self {
        TaskHandle {
            client,
            id,
            created_at: None,
            created: None,
        }
    }

    /// The task id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The task as the create request answered (`None` for a handle made
    /// with [`Client::task`](crate::Client::task)).
    pub fn created_task(&self) -> Option<&TaskData> {
        self.created.as_deref().map(|c| &c.task)
    }

    /// What the local check warned about when this handle's task was created:
    /// values the spec does not list (a newer version, a new task type), sent
    /// as given. Empty for a handle made with [`Client::task`](crate::Client::task).
    pub fn warnings(&self) -> &[Violation] {
        self.created
            .as_deref()
            .map_or(&[], |c| c.warnings.as_slice())
    }

    /// Reads the task now.
    pub async fn get(&self) -> Result<TaskData> {
        self.client.get_task(&self.id).await
    }

    /// Cancels the task; only a pending task can be cancelled. A cancelled
    /// task reads back as `failed` with error code 10001.
    pub async fn cancel(&self) -> Result<()> {
        self.client.cancel_task(&self.id).await
    }

    /// Waits for the task with the client's [`WaitPolicy`]: its typed result,
    /// [`Error::TaskFailed`](crate::Error::TaskFailed) or
    /// [`Error::Timeout`](crate::Error::Timeout).
    pub async fn wait(&self) -> Result<TaskResult> {
        self.wait_with(self.client.wait_policy().clone()).await
    }

    /// [`wait`](Self::wait) with another policy.
    pub async fn wait_with(&self, policy: WaitPolicy) -> Result<TaskResult> {
        self.poller(policy, None).follow(|_| {}).await
    }

    /// Waits like [`wait`](Self::wait), calling `on_status` with each status
    /// change on the way (starting with the status the create answered, the
    /// final one included): progress and the result from one poll loop, with
    /// no request more than `wait()` makes.
    ///
    /// ```no_run
    /// # async fn run(handle: piapi_kling::TaskHandle) -> Result<(), piapi_kling::Error> {
    /// let result = handle
    ///     .follow(|task| eprintln!("{}: {}", task.task_id, task.status))
    ///     .await?;
    /// println!("{}", result.video_url().unwrap_or_default());
    /// # Ok(()) }
    /// ```
    pub async fn follow(&self, on_status: impl FnMut(&TaskData)) -> Result<TaskResult> {
        self.follow_with(self.client.wait_policy().clone(), on_status)
            .await
    }

    /// [`follow`](Self::follow) with another policy.
    pub async fn follow_with(
        &self,
        policy: WaitPolicy,
        on_status: impl FnMut(&TaskData),
    ) -> Result<TaskResult> {
        self.poller(policy, self.created_task().cloned())
            .follow(on_status)
            .await
    }

    /// The task's status changes as a stream: each distinct status once
    /// (starting with the status the create answered), ending after
    /// `completed` or `failed`, or with an error. To show progress and get the
    /// result, [`follow`](Self::follow) does both in one loop.
    pub fn status_stream(&self) -> StatusStream {
        self.status_stream_with(self.client.wait_policy().clone())
    }

    /// [`status_stream`](Self::status_stream) with another policy.
    pub fn status_stream_with(&self, policy: WaitPolicy) -> StatusStream {
        self.poller(policy, self.created_task().cloned())
            .into_stream()
    }

    fn poller(&self, policy: WaitPolicy, initial: Option<TaskData>) -> Poller {
        Poller::new(
            self.client.clone(),
            self.id.clone(),
            self.created_at,
            initial,
            policy,
        )
    }
}
