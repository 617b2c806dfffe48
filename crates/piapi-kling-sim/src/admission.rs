//! The concurrency cap: at most `cap` tasks pending or processing at once;
//! the others wait, `staged`, in arrival order.
//!
//! Slots are freed lazily: each admitted task's end instant sits in a heap
//! and is popped once it has passed (on the next create, cancel or scheduler
//! tick), so no timer runs per task.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet, VecDeque};
use std::time::Instant;

use uuid::Uuid;

#[derive(Debug)]
pub(crate) struct Admission {
    cap: Option<usize>,
    active: usize,
    ends: BinaryHeap<Reverse<(Instant, Uuid)>>,
    /// Admitted tasks cancelled before their end: their slot is already
    /// free, so their heap entry must not free it again.
    cancelled: HashSet<Uuid>,
    staged: VecDeque<Uuid>,
}

impl Admission {
    pub(crate) fn new(cap: Option<usize>) -> Self {
        Admission {
            cap,
            active: 0,
            ends: BinaryHeap::new(),
            cancelled: HashSet::new(),
            staged: VecDeque::new(),
        }
    }

    pub(crate) fn is_capped(&self) -> bool {
        self.cap.is_some()
    }

    /// Frees the slots of the tasks that ended by `now`.
    pub(crate) fn release(&mut self, now: Instant) {
        while let Some(Reverse((end, id))) = self.ends.peek().copied() {
            if end > now {
                break;
            }
            self.ends.pop();
            if !self.cancelled.remove(&id) {
                self.active -= 1;
            }
        }
    }

    /// Whether a new task may start now (nobody is waiting and a slot is free).
    pub(crate) fn admits_now(&self) -> bool {
        self.cap
            .is_none_or(|cap| self.staged.is_empty() && self.active < cap)
    }

    /// Takes a slot for `id` until `end`.
    pub(crate) fn admit(&mut self, id: Uuid, end: Instant) {
        if self.cap.is_some() {
            self.active += 1;
            self.ends.push(Reverse((end, id)));
        }
    }

    pub(crate) fn stage(&mut self, id: Uuid) {
        self.staged.push_back(id);
    }

    /// The next staged task, if a slot is free for it.
    pub(crate) fn next_staged(&mut self) -> Option<Uuid> {
        match self.cap {
            Some(cap) if self.active < cap => self.staged.pop_front(),
            _ => None,
        }
    }

    /// A pending task was cancelled: its slot is free now.
    pub(crate) fn cancel_admitted(&mut self, id: Uuid) {
        if self.cap.is_some() {
            self.active -= 1;
            self.cancelled.insert(id);
        }
    }

    /// A staged task was cancelled: it no longer waits.
    pub(crate) fn cancel_staged(&mut self, id: Uuid) {
        self.staged.retain(|staged| *staged != id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn cap_stages_then_releases_in_order() {
        let t0 = Instant::now();
        let (a, b, c) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let mut adm = Admission::new(Some(1));
        assert!(adm.admits_now());
        adm.admit(a, t0 + Duration::from_secs(1));
        assert!(!adm.admits_now());
        adm.stage(b);
        adm.stage(c);
        assert_eq!(adm.next_staged(), None);
        adm.release(t0);
        assert_eq!(adm.next_staged(), None);
        adm.release(t0 + Duration::from_secs(1));
        assert_eq!(adm.next_staged(), Some(b));
        adm.admit(b, t0 + Duration::from_secs(5));
        // Cancelling b frees its slot at once, and its heap entry later frees nothing.
        adm.cancel_admitted(b);
        assert_eq!(adm.next_staged(), Some(c));
        adm.admit(c, t0 + Duration::from_secs(9));
        adm.release(t0 + Duration::from_secs(6));
        assert!(!adm.admits_now());
        adm.release(t0 + Duration::from_secs(9));
        assert!(adm.admits_now());
    }

    #[test]
    fn uncapped_admits_everything() {
        let mut adm = Admission::new(None);
        for _ in 0..3 {
            adm.admit(Uuid::new_v4(), Instant::now());
        }
        assert!(adm.admits_now() && !adm.is_capped());
        adm.stage(Uuid::new_v4());
        assert_eq!(adm.next_staged(), None);
    }
}
