//! The simulator's memory: tasks in a sharded map (reads take one shard's
//! read lock, nothing global), plus one mutex for what must be decided in
//! order: creation order and eviction, and the concurrency cap.
//!
//! Lock order, everywhere: `control`, then a task's shard. Reads of a task
//! take only the shard.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Instant, SystemTime};

use dashmap::DashMap;
use parking_lot::Mutex;
use piapi_kling_models::{ServiceMode, TaskConfig, TaskData};
use serde_json::Value;
use tokio::sync::watch;
use uuid::Uuid;

use crate::admission::Admission;
use crate::error::ApiError;
use crate::faults::FaultInjector;
use crate::files::FileStore;
use crate::lifecycle::{Origin, Phase, Plan, Task};
use crate::output;
use crate::reqlog::RequestLog;
use crate::scheduler::{Job, Scheduler};
use crate::time::Clock;
use crate::webhook::Webhooks;

/// Settings fixed at start.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    pub api_key: String,
    pub speed: f64,
    pub max_tasks: usize,
    pub base_url: String,
    pub initial_credits: i64,
    pub account_id: String,
    pub accept_unknown_task_types: bool,
}

pub(crate) struct AppState {
    pub settings: Settings,
    pub clock: Clock,
    tasks: DashMap<Uuid, Task>,
    control: Mutex<Control>,
    /// What evicted completed tasks consumed, so account credits stay right.
    evicted_consumed: AtomicI64,
    pub scheduler: Scheduler,
    pub webhooks: Webhooks,
    pub files: FileStore,
    pub faults: FaultInjector,
    pub log: RequestLog,
}

struct Control {
    /// Every stored task, oldest first.
    order: VecDeque<Uuid>,
    admission: Admission,
}

/// Why a task could not be cancelled.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum CancelError {
    NotFound,
    NotPending,
}

/// A webhook to send once the locks are released.
struct Notification {
    endpoint: String,
    secret: Option<String>,
    data: TaskData,
}

impl AppState {
    pub(crate) fn new(
        settings: Settings,
        cap: Option<usize>,
        faults: FaultInjector,
        log: RequestLog,
        files: FileStore,
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        AppState {
            webhooks: Webhooks::new(settings.speed, shutdown),
            settings,
            clock: Clock::new(),
            tasks: DashMap::new(),
            control: Mutex::new(Control {
                order: VecDeque::new(),
                admission: Admission::new(cap),
            }),
            evicted_consumed: AtomicI64::new(0),
            scheduler: Scheduler::default(),
            files,
            faults,
            log,
        }
    }

    fn render(&self, task: &Task, now: Instant) -> TaskData {
        output::render(task, now, &self.clock, &self.settings.base_url)
    }

    /// The task as a client would read it now.
    pub(crate) fn task(&self, id: &Uuid, now: Instant) -> Option<TaskData> {
        self.tasks.get(id).map(|task| self.render(&task, now))
    }

    /// Reads a task with `f` (for the media routes).
    pub(crate) fn with_task<R>(&self, id: &Uuid, f: impl FnOnce(&Task) -> R) -> Option<R> {
        self.tasks.get(id).map(|task| f(&task))
    }

    pub(crate) fn task_count(&self) -> usize {
        self.control.lock().order.len()
    }

    /// The completed video task an extend/lip-sync/sound task builds on.
    pub(crate) fn origin(&self, raw_id: &str, now: Instant) -> Result<Origin, String> {
        let not_found = || format!("input.origin_task_id: task {raw_id} not found (origin-task)");
        let id = Uuid::parse_str(raw_id).map_err(|_| not_found())?;
        let task = self.tasks.get(&id).ok_or_else(not_found)?;
        task.as_origin(now)
            .map_err(|why| format!("input.origin_task_id: {why} (origin-task)"))
    }

    /// Stores a new task; returns it as the create answer shows it.
    pub(crate) fn create(
        &self,
        plan: Plan,
        input: &Value,
        config: Option<&TaskConfig>,
        now: Instant,
    ) -> Result<TaskData, ApiError> {
        let config = resolve_config(config);
        let input = input.to_string().into_boxed_str();
        let mut control = self.control.lock();
        control.admission.release(now);
        self.promote(&mut control, now);
        if control.order.len() >= self.settings.max_tasks && !self.evict_one(&mut control, now) {
            return Err(ApiError::too_many_requests(
                format!(
                    "too many tasks: {} stored (max_tasks) and none has finished",
                    self.settings.max_tasks
                ),
                1,
            ));
        }
        let id = Uuid::new_v4();
        let admitted = control.admission.admits_now();
        let task = Task {
            id,
            task_type: plan.task_type,
            input,
            private_pool: matches!(config.service_mode, Some(ServiceMode::Private)),
            config: Box::new(config),
            created: now,
            pending_at: admitted.then_some(now),
            queue: plan.queue,
            processing: plan.processing,
            failure: plan.failure,
            canceled_at: None,
            frozen: plan.frozen,
            billing: plan.billing,
            model: plan.model,
            kling_type: plan.kling_type,
            media: plan.media,
            shape: plan.shape,
            terminal_notified: false,
        };
        match task.end_at() {
            Some(end) => self.schedule_admitted(&mut control, &task, end),
            None => control.admission.stage(id),
        }
        let data = self.render(&task, now);
        let notification = Notification::of(&task, || data.clone());
        self.tasks.insert(id, task);
        control.order.push_back(id);
        drop(control);
        if let Some(n) = notification {
            self.send(n);
        }
        Ok(data)
    }

    /// Takes a cap slot for an admitted task and queues what its end triggers.
    fn schedule_admitted(&self, control: &mut Control, task: &Task, end: Instant) {
        control.admission.admit(task.id, end);
        if control.admission.is_capped() {
            self.scheduler.push(end, Job::Release);
        }
        if task.webhook().is_some() {
            self.scheduler.push(end, Job::Terminal(task.id));
        }
    }

    /// Moves staged tasks to pending while the cap allows.
    fn promote(&self, control: &mut Control, now: Instant) {
        while let Some(id) = control.admission.next_staged() {
            let Some(mut task) = self.tasks.get_mut(&id) else {
                continue;
            };
            task.pending_at = Some(now);
            if let Some(end) = task.end_at() {
                self.schedule_admitted(control, &task, end);
            }
        }
    }

    /// Drops the oldest finished task; false when no task has finished.
    fn evict_one(&self, control: &mut Control, now: Instant) -> bool {
        let position = control.order.iter().position(|id| {
            self.tasks
                .get(id)
                .is_none_or(|task| task.phase(now).is_terminal())
        });
        let Some(position) = position else {
            return false;
        };
        if let Some(id) = control.order.remove(position)
            && let Some((_, task)) = self.tasks.remove(&id)
            && matches!(task.phase(now), Phase::Completed { .. })
        {
            self.evicted_consumed
                .fetch_add(task.frozen, Ordering::Relaxed);
        }
        true
    }

    /// Cancels a staged or pending task.
    pub(crate) fn cancel(&self, id: &Uuid, now: Instant) -> Result<(), CancelError> {
        let mut control = self.control.lock();
        control.admission.release(now);
        let notification = self.cancel_locked(&mut control, id, now)?;
        self.promote(&mut control, now);
        drop(control);
        if let Some(n) = notification {
            self.send(n);
        }
        Ok(())
    }

    fn cancel_locked(
        &self,
        control: &mut Control,
        id: &Uuid,
        now: Instant,
    ) -> Result<Option<Notification>, CancelError> {
        let mut task = self.tasks.get_mut(id).ok_or(CancelError::NotFound)?;
        match task.phase(now) {
            Phase::Staged => control.admission.cancel_staged(*id),
            Phase::Pending => control.admission.cancel_admitted(*id),
            _ => return Err(CancelError::NotPending),
        }
        task.canceled_at = Some(now);
        if task.terminal_notified {
            return Ok(None);
        }
        let Some(notification) = Notification::of(&task, || self.render(&task, now)) else {
            return Ok(None);
        };
        task.terminal_notified = true;
        Ok(Some(notification))
    }

    /// Cancels every staged or pending task created before `before`; returns
    /// their ids, oldest first.
    pub(crate) fn cancel_created_before(&self, before: SystemTime, now: Instant) -> Vec<String> {
        let mut control = self.control.lock();
        control.admission.release(now);
        let candidates: Vec<Uuid> = control
            .order
            .iter()
            .copied()
            .filter(|id| {
                self.tasks.get(id).is_some_and(|task| {
                    self.clock.wall(task.created) < before && task.phase(now).is_cancellable()
                })
            })
            .collect();
        let mut cancelled = Vec::with_capacity(candidates.len());
        let mut notifications = Vec::new();
        for id in candidates {
            if let Ok(notification) = self.cancel_locked(&mut control, &id, now) {
                cancelled.push(id.to_string());
                notifications.extend(notification);
            }
        }
        self.promote(&mut control, now);
        drop(control);
        for n in notifications {
            self.send(n);
        }
        cancelled
    }

    /// Credits consumed so far: completed tasks, stored or evicted.
    pub(crate) fn consumed(&self, now: Instant) -> i64 {
        let stored: i64 = self
            .tasks
            .iter()
            .filter(|task| matches!(task.phase(now), Phase::Completed { .. }))
            .map(|task| task.frozen)
            .sum();
        stored + self.evicted_consumed.load(Ordering::Relaxed)
    }

    /// How many stored tasks are staged, pending and processing at `now`.
    pub(crate) fn active_counts(&self, now: Instant) -> [i64; 3] {
        let mut counts = [0; 3];
        for task in self.tasks.iter() {
            match task.phase(now) {
                Phase::Staged => counts[0] += 1,
                Phase::Pending => counts[1] += 1,
                Phase::Processing { .. } => counts[2] += 1,
                _ => {}
            }
        }
        counts
    }

    /// Scheduler: a task with a webhook has reached its end instant.
    pub(crate) fn on_terminal(&self, id: Uuid) {
        let now = Instant::now();
        let notification = {
            let Some(mut task) = self.tasks.get_mut(&id) else {
                return;
            };
            if task.terminal_notified {
                return;
            }
            if !task.phase(now).is_terminal() {
                // Cannot happen (the entry was queued at the end instant);
                // retry then rather than lose the webhook.
                if let Some(end) = task.end_at() {
                    self.scheduler.push(end, Job::Terminal(id));
                }
                return;
            }
            task.terminal_notified = true;
            Notification::of(&task, || self.render(&task, now))
        };
        if let Some(n) = notification {
            self.send(n);
        }
    }

    /// Scheduler: a capped slot may have freed.
    pub(crate) fn on_release(&self) {
        let now = Instant::now();
        let mut control = self.control.lock();
        control.admission.release(now);
        self.promote(&mut control, now);
    }

    fn send(&self, n: Notification) {
        self.webhooks.deliver(n.endpoint, n.secret, n.data);
    }

    /// Runs the scheduler's jobs as they come due, until `shutdown`.
    pub(crate) async fn run_scheduler(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        while let Some(job) = self.scheduler.next_due(&mut shutdown).await {
            match job {
                Job::Terminal(id) => self.on_terminal(id),
                Job::Release => self.on_release(),
            }
        }
    }
}

impl Notification {
    /// The webhook of `task`, if it has one, carrying `data`.
    fn of(task: &Task, data: impl FnOnce() -> TaskData) -> Option<Notification> {
        let (endpoint, secret) = task.webhook()?;
        Some(Notification {
            endpoint: endpoint.to_owned(),
            secret: secret.map(str::to_owned),
            data: data(),
        })
    }
}

/// The config as PiAPI echoes it: the service mode resolved (an empty one
/// means the workspace default, pay-as-you-go) and an empty webhook spelled out.
fn resolve_config(config: Option<&TaskConfig>) -> TaskConfig {
    let mut config = config.cloned().unwrap_or_default();
    if !matches!(config.service_mode, Some(ServiceMode::Private)) {
        config.service_mode = Some(ServiceMode::Public);
    }
    let hook = config.webhook_config.get_or_insert_with(Default::default);
    hook.endpoint.get_or_insert_with(String::new);
    hook.secret.get_or_insert_with(String::new);
    config
}
