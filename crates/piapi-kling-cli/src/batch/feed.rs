//! Runners learn of webhook deliveries from the ledger (PostgreSQL
//! notifications, or polling a SQLite file): each one wakes the wait of its
//! task (which then reads the task from PiAPI) and the claim loop (a line
//! linked by its webhook may need a runner).

use std::sync::Arc;
use std::time::Duration;

use piapi_kling::webhook::WebhookReceiver;
use piapi_kling_ledger::Ledger;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// The longest a runner goes without looking for deliveries.
const MAX_QUIET: Duration = Duration::from_secs(2);

/// Deliveries read per query.
const PAGE: i64 = 1000;

/// Follows the ledger's deliveries until aborted.
pub fn spawn(
    ledger: Arc<dyn Ledger>,
    receiver: Option<WebhookReceiver>,
    changed: Arc<Notify>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut cursor = 0;
        loop {
            match ledger.deliveries_after(cursor, PAGE).await {
                Ok(deliveries) => {
                    for stored in &deliveries {
                        cursor = cursor.max(stored.id);
                        if let Some(receiver) = &receiver {
                            receiver.notify(&stored.delivery.task_id);
                        }
                    }
                    if !deliveries.is_empty() {
                        changed.notify_one();
                    }
                    if deliveries.len() as i64 == PAGE {
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
