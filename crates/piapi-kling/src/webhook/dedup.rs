//! Dropping redelivered webhook events with bounded memory.

use std::collections::{HashSet, VecDeque};

use piapi_kling_models::WebhookEvent;

/// Remembers the last `capacity` events and tells a redelivery from a new
/// event.
///
/// A task reaches each terminal status (`completed`, `failed`) once, so a
/// second terminal event for the same task and status is a redelivery
/// whatever its timestamp. Other statuses can be reported more than once
/// (progress updates while processing), so for them the timestamp is part of
/// the key: the same `(task_id, status, timestamp)` is a redelivery.
#[derive(Debug)]
pub struct Deduplicator {
    capacity: usize,
    seen: HashSet<Key>,
    order: VecDeque<Key>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq)]
struct Key {
    task_id: String,
    status: String,
    timestamp: Option<i64>,
}

impl Key {
    fn of(event: &WebhookEvent) -> Key {
        let status = event.data.status.as_str().to_ascii_lowercase();
        let timestamp = (!event.data.status.is_terminal()).then_some(event.timestamp);
        Key {
            task_id: event.data.task_id.clone(),
            status,
            timestamp,
        }
    }
}

impl Deduplicator {
    /// Remembers up to `capacity` events (at least 1).
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Deduplicator {
            capacity,
            seen: HashSet::with_capacity(capacity),
            order: VecDeque::with_capacity(capacity),
        }
    }

    /// True the first time an event is seen (and remembers it); false for a
    /// redelivery.
    pub fn is_new(&mut self, event: &WebhookEvent) -> bool {
        let key = Key::of(event);
        if self.seen.contains(&key) {
            return false;
        }
        if self.order.len() == self.capacity
            && let Some(oldest) = self.order.pop_front()
        {
            self.seen.remove(&oldest);
        }
        self.seen.insert(key.clone());
        self.order.push_back(key);
        true
    }

    /// Forgets an event, so that its redelivery counts as new (for a receiver
    /// that could not take it this time).
    pub fn forget(&mut self, event: &WebhookEvent) {
        let key = Key::of(event);
        if self.seen.remove(&key) {
            self.order.retain(|k| *k != key);
        }
    }

    /// How many events are remembered.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// True when nothing is remembered yet.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(task: &str, status: &str, timestamp: i64) -> WebhookEvent {
        serde_json::from_value(serde_json::json!({
            "timestamp": timestamp,
            "data": {"task_id": task, "model": "kling", "task_type": "sound", "status": status,
                     "input": {}, "output": null, "meta": {}, "detail": null, "logs": null,
                     "error": {"code": 0, "message": ""}}
        }))
        .unwrap()
    }

    #[test]
    fn terminal_redeliveries_are_dropped_whatever_their_timestamp() {
        let mut dedup = Deduplicator::new(10);
        assert!(dedup.is_new(&event("a", "completed", 1)));
        assert!(!dedup.is_new(&event("a", "completed", 1)));
        assert!(!dedup.is_new(&event("a", "Completed", 9)));
        assert!(dedup.is_new(&event("b", "completed", 1)));
    }

    #[test]
    fn progress_updates_with_new_timestamps_pass() {
        let mut dedup = Deduplicator::new(10);
        assert!(dedup.is_new(&event("a", "processing", 1)));
        assert!(dedup.is_new(&event("a", "processing", 2)));
        assert!(!dedup.is_new(&event("a", "processing", 2)));
    }

    #[test]
    fn memory_is_bounded_and_forget_works() {
        let mut dedup = Deduplicator::new(2);
        assert!(dedup.is_new(&event("a", "completed", 1)));
        assert!(dedup.is_new(&event("b", "completed", 1)));
        assert!(dedup.is_new(&event("c", "completed", 1)));
        assert_eq!(dedup.len(), 2);
        // "a" was evicted, so it counts as new again.
        assert!(dedup.is_new(&event("a", "completed", 1)));
        dedup.forget(&event("a", "completed", 1));
        assert!(dedup.is_new(&event("a", "completed", 1)));
    }
}
