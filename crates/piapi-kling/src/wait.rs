//! Waiting for a task: the poll loop shared by `wait()` and the status
//! stream, on the schedule of a [`WaitPolicy`].
//!
//! Transient poll errors (connection problems, 429, 5xx) keep the wait going
//! until the deadline; a 429's `Retry-After` pushes the next poll back. A body
//! that cannot be decoded is tolerated twice in a row (a proxy hiccup should not
//! end a ten-minute wait; a changed API should not hang it).

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures_util::Stream;
use piapi_kling_models::{TaskData, TaskStatus};
use tokio::time::Instant;

use crate::core::Core;
use crate::error::{Error, Result};
use crate::result::TaskResult;
use crate::wait_policy::WaitPolicy;
use crate::webhook::Subscription;

/// A stream of a task's status changes: each distinct status once, in order,
/// ending after a terminal status (`completed` or `failed`) or an error.
pub type StatusStream = Pin<Box<dyn Stream<Item = Result<TaskData>> + Send>>;

/// The poll loop behind `wait()` and the status stream.
pub(crate) struct Poller {
    client: Arc<Core>,
    id: String,
    /// When the task was created, if this client created it.
    created: Option<Instant>,
    started: Instant,
    policy: WaitPolicy,
    /// The task as the create answered, reported before the first poll.
    /// Boxed: a waiter usually has none, and an inline `TaskData` would cost
    /// every sleeping waiter its size.
    pending: Option<Box<TaskData>>,
    polls: u32,
    last: Option<TaskStatus>,
    warned: HashSet<String>,
    decode_failures: u32,
    retry_after: Option<Duration>,
    final_poll: bool,
    done: bool,
    /// Webhook deliveries for this task, when the client has a receiver.
    webhook: Option<Subscription>,
}

impl Poller {
    pub(crate) fn new(
        client: Arc<Core>,
        id: String,
        created: Option<Instant>,
        initial: Option<TaskData>,
        policy: WaitPolicy,
    ) -> Self {
        let webhook = client
            .webhooks
            .as_ref()
            .map(|receiver| receiver.subscribe(&id));
        Poller {
            client,
            id,
            created,
            started: Instant::now(),
            policy,
            pending: initial.map(Box::new),
            polls: 0,
            last: None,
            warned: HashSet::new(),
            decode_failures: 0,
            retry_after: None,
            final_poll: false,
            done: false,
            webhook,
        }
    }

    /// The next status change, `None` once the task ended or an error was
    /// reported.
    pub(crate) async fn next_change(&mut self) -> Option<Result<TaskData>> {
        if self.done {
            return None;
        }
        if let Some(task) = self.pending.take()
            && let Some(change) = self.observe(*task)
        {
            return Some(change);
        }
        loop {
            if self.final_poll {
                self.done = true;
                return Some(Err(Error::Timeout {
                    task_id: self.id.clone(),
                    elapsed: self.started.elapsed(),
                    last_status: self.last.clone(),
                }));
            }
            let deadline = self.started + self.policy.deadline;
            let wake = (Instant::now() + self.next_delay()).min(deadline);
            let delivered = match &self.webhook {
                Some(webhook) => tokio::select! {
                    _ = tokio::time::sleep_until(wake) => false,
                    _ = webhook.delivered() => true,
                },
                None => {
                    tokio::time::sleep_until(wake).await;
                    false
                }
            };
            // A delivery is only a hint: the GET below is what counts.
            if !delivered && wake >= deadline {
                self.final_poll = true;
            }
            self.polls += 1;
            // Boxed: the request's state exists only while it runs, instead
            // of being reserved in every waiting task (BENCHMARKS.md, scale).
            let read = Box::pin(self.client.get_task(&self.id));
            match read.await {
                Ok(task) => {
                    self.decode_failures = 0;
                    if let Some(change) = self.observe(task) {
                        return Some(change);
                    }
                }
                Err(e) if e.is_retryable() => {
                    tracing::debug!(task_id = %self.id, error = %e, "poll failed, still waiting");
                    self.retry_after = e.retry_after();
                }
                Err(e @ Error::Decode { .. }) if self.decode_failures < 2 => {
                    self.decode_failures += 1;
                    tracing::warn!(task_id = %self.id, error = %e, "undecodable poll response, still waiting");
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
    }

    /// How long to sleep before the next poll.
    fn next_delay(&mut self) -> Duration {
        let scheduled = match self.created {
            // A task this client created: follow the schedule from creation.
            Some(created) if self.polls == 0 => {
                self.policy.initial_delay.saturating_sub(created.elapsed())
            }
            Some(created) => self.policy.interval_after(created.elapsed()),
            // A resumed task may have ended long ago: look at once.
            None if self.polls == 0 => Duration::ZERO,
            None => self.policy.interval_after(self.started.elapsed()),
        };
        // With webhooks, polling is the fallback for a lost delivery; a
        // resumed task is still looked at once.
        let scheduled = match &self.webhook {
            Some(webhook) if !(self.created.is_none() && self.polls == 0) => {
                scheduled.max(webhook.fallback_interval())
            }
            _ => scheduled,
        };
        scheduled.max(self.retry_after.take().unwrap_or_default())
    }

    /// Reports `task` if its status is new; ends the stream on a terminal one.
    fn observe(&mut self, task: TaskData) -> Option<Result<TaskData>> {
        if let TaskStatus::Unknown(value) = &task.status
            && self.warned.insert(value.clone())
        {
            tracing::warn!(task_id = %self.id, status = %value, "unknown task status, still waiting");
        }
        if task.status.is_terminal() {
            self.done = true;
            return Some(Ok(task));
        }
        if self.last.as_ref() == Some(&task.status) {
            return None;
        }
        self.last = Some(task.status.clone());
        Some(Ok(task))
    }

    /// Polls until the task ends: its result, or why there is none; calls
    /// `on_status` with each status change on the way (the last one too).
    // Not an `async fn`: its state would hold the poller twice (the argument
    // and the moved-in local), in every waiting task (BENCHMARKS.md, scale).
    #[allow(clippy::manual_async_fn)]
    pub(crate) fn follow(
        mut self,
        mut on_status: impl FnMut(&TaskData),
    ) -> impl Future<Output = Result<TaskResult>> {
        async move {
            while let Some(change) = self.next_change().await {
                let task = change?;
                on_status(&task);
                match task.status {
                    TaskStatus::Completed => return Ok(TaskResult::from(task)),
                    TaskStatus::Failed => return Err(Error::from_failed_task(task)),
                    _ => {}
                }
            }
            // next_change ends only after a terminal status or an error, both
            // returned above; kept total rather than panicking.
            Err(Error::Timeout {
                task_id: self.id.clone(),
                elapsed: self.started.elapsed(),
                last_status: self.last.clone(),
            })
        }
    }

    pub(crate) fn into_stream(self) -> StatusStream {
        Box::pin(futures_util::stream::unfold(
            self,
            |mut poller| async move { poller.next_change().await.map(|change| (change, poller)) },
        ))
    }
}
