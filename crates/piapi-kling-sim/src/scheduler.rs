//! A time-ordered queue of jobs: terminal webhooks to send when tasks end,
//! staged tasks to release when slots free up. Tasks without a webhook under
//! no cap never enter it. The simulator's state runs the jobs; this module
//! knows nothing of it.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::time::Instant;

use parking_lot::Mutex;
use tokio::sync::{Notify, watch};
use uuid::Uuid;

/// What to do when an entry comes due.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Job {
    /// The task has ended: send its terminal webhook.
    Terminal(Uuid),
    /// A slot has freed: admit staged tasks.
    Release,
}

#[derive(Debug, PartialEq, Eq)]
struct Entry {
    at: Instant,
    seq: u64,
    job: Job,
}

impl Ord for Entry {
    /// Reversed, so that `BinaryHeap` (a max-heap) pops the earliest first;
    /// `seq` keeps equal instants in insertion order.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[derive(Default)]
pub(crate) struct Scheduler {
    queue: Mutex<BinaryHeap<Entry>>,
    seq: AtomicU64,
    wake: Notify,
}

impl Scheduler {
    pub(crate) fn push(&self, at: Instant, job: Job) {
        let seq = self.seq.fetch_add(1, AtomicOrdering::Relaxed);
        let earliest = {
            let mut queue = self.queue.lock();
            queue.push(Entry { at, seq, job });
            queue.peek().is_some_and(|e| e.seq == seq)
        };
        // Only a new earliest entry changes how long the loop must sleep.
        if earliest {
            self.wake.notify_one();
        }
    }

    fn pop_due(&self, now: Instant) -> Result<Job, Option<Instant>> {
        let mut queue = self.queue.lock();
        match queue.peek() {
            Some(entry) if entry.at <= now => {
                Ok(queue.pop().map(|e| e.job).unwrap_or(Job::Release))
            }
            Some(entry) => Err(Some(entry.at)),
            None => Err(None),
        }
    }

    /// The next job, once it is due; `None` once `shutdown` turns true.
    pub(crate) async fn next_due(&self, shutdown: &mut watch::Receiver<bool>) -> Option<Job> {
        loop {
            if *shutdown.borrow() {
                return None;
            }
            match self.pop_due(Instant::now()) {
                Ok(job) => return Some(job),
                Err(next) => {
                    let sleep = async {
                        match next {
                            Some(at) => tokio::time::sleep_until(at.into()).await,
                            None => std::future::pending().await,
                        }
                    };
                    tokio::select! {
                        _ = sleep => {}
                        _ = self.wake.notified() => {}
                        changed = shutdown.changed() => {
                            if changed.is_err() {
                                return None;
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn pops_earliest_first_and_reports_next() {
        let s = Scheduler::default();
        let t0 = Instant::now();
        let id = Uuid::new_v4();
        s.push(t0 + Duration::from_secs(2), Job::Release);
        s.push(t0 + Duration::from_secs(1), Job::Terminal(id));
        assert_eq!(s.pop_due(t0), Err(Some(t0 + Duration::from_secs(1))));
        let later = t0 + Duration::from_secs(3);
        assert_eq!(s.pop_due(later), Ok(Job::Terminal(id)));
        assert_eq!(s.pop_due(later), Ok(Job::Release));
        assert_eq!(s.pop_due(later), Err(None));
    }
}
