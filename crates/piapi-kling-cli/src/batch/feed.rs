//! Runners learn of webhook deliveries from the ledger (PostgreSQL
//! notifications, or polling a SQLite file): an end (`completed`, `failed`)
//! wakes the wait of its task (which then reads the task from PiAPI), and
//! any delivery wakes the claim loop (a line linked by its webhook may need
//! a runner).

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use piapi_kling::webhook::WebhookReceiver;
use piapi_kling_ledger::{Ledger, StoredDelivery};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// The longest a runner goes without looking for deliveries.
const MAX_QUIET: Duration = Duration::from_secs(2);

/// Deliveries read per query.
const PAGE: i64 = 1000;

/// How long a missing delivery id is looked for again. PostgreSQL hands out
/// ids before commit, so id 7 may become visible after id 8; an id that
/// never shows up (a rolled-back insert) is given up after this.
const GAP_PATIENCE: Duration = Duration::from_secs(30);

/// Which deliveries were seen, with the ids skipped over that may still
/// appear.
#[derive(Debug, Default)]
struct Cursor {
    /// Every id up to here was seen or is a gap.
    head: i64,
    /// Ids below `head` not seen yet, with when they were first missed.
    gaps: BTreeMap<i64, Instant>,
    /// Ids seen above the oldest gap (the only ones a re-read can repeat).
    seen: HashSet<i64>,
}

impl Cursor {
    /// Where the next read starts: before the oldest open gap.
    fn from(&mut self) -> i64 {
        self.gaps
            .retain(|_, missed| missed.elapsed() < GAP_PATIENCE);
        let from = self.gaps.keys().next().map_or(self.head, |g| g - 1);
        self.seen.retain(|id| *id > from);
        from
    }

    /// The deliveries of a read that are new, in order.
    fn take(&mut self, read: Vec<StoredDelivery>) -> Vec<StoredDelivery> {
        let mut fresh = Vec::new();
        for stored in read {
            let id = stored.id;
            if self.gaps.remove(&id).is_none() && (id <= self.head || !self.seen.insert(id)) {
                continue;
            }
            self.seen.insert(id);
            let now = Instant::now();
            for missing in self.head + 1..id {
                self.gaps.insert(missing, now);
            }
            self.head = self.head.max(id);
            fresh.push(stored);
        }
        fresh
    }
}

/// Follows the ledger's deliveries until aborted.
pub fn spawn(
    ledger: Arc<dyn Ledger>,
    receiver: Option<WebhookReceiver>,
    changed: Arc<Notify>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut cursor = Cursor::default();
        loop {
            match ledger.deliveries_after(cursor.from(), PAGE).await {
                Ok(read) => {
                    let full = read.len() as i64 == PAGE;
                    let fresh = cursor.take(read);
                    for stored in &fresh {
                        // Only an end is worth a GET: a wait learns nothing
                        // from `pending` or `processing`.
                        if let Some(receiver) = &receiver
                            && matches!(stored.delivery.status.as_str(), "completed" | "failed")
                        {
                            receiver.notify(&stored.delivery.task_id);
                        }
                    }
                    if !fresh.is_empty() {
                        changed.notify_one();
                    }
                    if full {
                        continue;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read webhook deliveries; polling PiAPI")
                }
            }
            ledger.wait_for_change(MAX_QUIET).await;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use piapi_kling_ledger::Delivery;

    fn stored(id: i64) -> StoredDelivery {
        StoredDelivery {
            id,
            delivery: Delivery {
                token: None,
                task_id: format!("t{id}"),
                status: "completed".into(),
                timestamp: 0,
            },
            line_id: None,
        }
    }

    fn ids(read: Vec<StoredDelivery>) -> Vec<i64> {
        read.into_iter().map(|s| s.id).collect()
    }

    #[test]
    fn an_id_committed_late_is_still_read_once() {
        let mut cursor = Cursor::default();
        assert_eq!(cursor.from(), 0);
        // 2 was handed out before 3 but is not committed yet.
        assert_eq!(ids(cursor.take(vec![stored(1), stored(3)])), [1, 3]);
        assert_eq!(cursor.from(), 1, "re-read from before the gap");
        // The re-read repeats 3 (skipped) and finds 2.
        assert_eq!(
            ids(cursor.take(vec![stored(2), stored(3), stored(4)])),
            [2, 4]
        );
        assert_eq!(cursor.from(), 4, "no gap left");
        assert_eq!(
            ids(cursor.take(vec![stored(3), stored(4)])),
            Vec::<i64>::new()
        );
    }
}
