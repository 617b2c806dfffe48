//! [`WebhookReceiver`]: webhook deliveries that end waits early.
//!
//! Attached to a client ([`ClientBuilder::webhook_receiver`]), it makes
//! [`TaskHandle::wait`] and the status streams poll only on a slow fallback
//! schedule (a delivery can be lost) and read the task as soon as a delivery
//! names it. A delivery is only a hint: the task is always read from PiAPI
//! before anything is returned, so a forged delivery (a leaked secret)
//! cannot plant a result URL.
//!
//! [`ClientBuilder::webhook_receiver`]: crate::ClientBuilder::webhook_receiver
//! [`TaskHandle::wait`]: crate::TaskHandle::wait

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use piapi_kling_models::WebhookEvent;
use tokio::sync::Notify;

/// How long a wait with a receiver attached sleeps between fallback polls.
pub const DEFAULT_FALLBACK_INTERVAL: Duration = Duration::from_secs(60);

/// Deliveries kept for tasks nobody waits for yet (the oldest are dropped).
const UNCLAIMED_CAPACITY: usize = 16_384;

/// Routes webhook deliveries to the waits of their tasks. Cheap to clone.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use piapi_kling::webhook::WebhookReceiver;
///
/// let receiver = WebhookReceiver::new();
/// let client = piapi_kling::Client::builder()
///     .webhook_receiver(receiver.clone())
///     .build()?;
/// // In your endpoint, after `verify_and_parse`: `receiver.deliver(&event)`.
/// let video = client
///     .text_to_video("a heron")
///     .webhook("https://example.com/hooks/piapi", "s3cr3t")
///     .send()
///     .await?
///     .wait() // ends on the delivery, confirmed with one GET
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct WebhookReceiver {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    fallback: Duration,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Tasks being waited for, each with its wake-up and its waiter count.
    waiting: HashMap<String, (Arc<Notify>, usize)>,
    /// Tasks delivered before anyone waited for them.
    unclaimed: HashSet<String>,
    order: VecDeque<String>,
}

impl Default for WebhookReceiver {
    fn default() -> Self {
        WebhookReceiver::new()
    }
}

impl WebhookReceiver {
    /// A receiver whose waits poll every [`DEFAULT_FALLBACK_INTERVAL`].
    pub fn new() -> Self {
        WebhookReceiver::with_fallback_interval(DEFAULT_FALLBACK_INTERVAL)
    }

    /// A receiver whose waits poll every `interval` when no delivery comes
    /// (at least the wait policy's own interval).
    pub fn with_fallback_interval(interval: Duration) -> Self {
        WebhookReceiver {
            shared: Arc::new(Shared {
                fallback: interval,
                state: Mutex::new(State::default()),
            }),
        }
    }

    /// The fallback poll interval.
    pub fn fallback_interval(&self) -> Duration {
        self.shared.fallback
    }

    /// A verified delivery: wakes the waits of its task.
    pub fn deliver(&self, event: &WebhookEvent) {
        self.notify(&event.data.task_id);
    }

    /// Something happened to `task_id` (a delivery, or a record of one in a
    /// shared ledger): its waits read the task now.
    pub fn notify(&self, task_id: &str) {
        let mut state = self.lock();
        if let Some((notify, _)) = state.waiting.get(task_id) {
            // Stores a permit when the waiter is between two sleeps.
            notify.notify_one();
            return;
        }
        if state.unclaimed.insert(task_id.to_owned()) {
            state.order.push_back(task_id.to_owned());
            if state.order.len() > UNCLAIMED_CAPACITY
                && let Some(oldest) = state.order.pop_front()
            {
                state.unclaimed.remove(&oldest);
            }
        }
    }

    /// Registers a wait for `task_id`; a delivery that came first wakes it
    /// at once.
    pub(crate) fn subscribe(&self, task_id: &str) -> Subscription {
        let mut state = self.lock();
        let entry = state
            .waiting
            .entry(task_id.to_owned())
            .or_insert_with(|| (Arc::new(Notify::new()), 0));
        entry.1 += 1;
        let notify = entry.0.clone();
        if state.unclaimed.remove(task_id) {
            state.order.retain(|t| t != task_id);
            notify.notify_one();
        }
        Subscription {
            receiver: self.clone(),
            task_id: task_id.to_owned(),
            notify,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// One wait's registration; dropping it unregisters.
#[derive(Debug)]
pub(crate) struct Subscription {
    receiver: WebhookReceiver,
    task_id: String,
    notify: Arc<Notify>,
}

impl Subscription {
    /// Resolves at the next delivery for the task.
    pub(crate) async fn delivered(&self) {
        self.notify.notified().await;
    }

    pub(crate) fn fallback_interval(&self) -> Duration {
        self.receiver.fallback_interval()
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut state = self.receiver.lock();
        if let Some(entry) = state.waiting.get_mut(&self.task_id) {
            entry.1 -= 1;
            if entry.1 == 0 {
                state.waiting.remove(&self.task_id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_delivery_before_the_wait_is_not_lost_and_memory_is_freed() {
        let receiver = WebhookReceiver::with_fallback_interval(Duration::from_secs(1));
        receiver.notify("early");
        let sub = receiver.subscribe("early");
        tokio::time::timeout(Duration::from_secs(1), sub.delivered())
            .await
            .expect("woken by the earlier delivery");
        let late = receiver.subscribe("late");
        let waiting = tokio::spawn(async move {
            late.delivered().await;
        });
        tokio::task::yield_now().await;
        receiver.notify("late");
        tokio::time::timeout(Duration::from_secs(1), waiting)
            .await
            .expect("woken")
            .unwrap();
        drop(sub);
        let state = receiver.lock();
        assert!(state.waiting.is_empty() && state.unclaimed.is_empty());
    }
}
