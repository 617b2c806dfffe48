//! A client-wide spending cap ([`ClientBuilder::budget`](crate::ClientBuilder::budget)).
//!
//! Each create reserves its estimate (from the spec's price table) before it
//! is sent and is refused when the reserved plus the spent would go over the
//! budget; a request the table cannot price is refused too, since it could
//! cost anything. When the client reads a finished task, its reservation
//! becomes what PiAPI charged (`meta.usage.consume`; nothing for a failed
//! task). A create that may have reached PiAPI stays reserved.

use std::collections::HashMap;
use std::sync::Mutex;

use piapi_kling_models::catalog::{Estimate, Usd};
use piapi_kling_models::{TaskData, TaskStatus};

use crate::error::Error;
pub use crate::spending::Spending;

#[derive(Debug, Default)]
struct Ledger {
    reserved: Usd,
    spent: Usd,
    /// The reservation of each created task, until it is seen finished.
    tasks: HashMap<String, Usd>,
}

/// The cap and what is committed against it.
#[derive(Debug)]
pub(crate) struct Budget {
    cap: Usd,
    ledger: Mutex<Ledger>,
}

/// A reservation made for one create; released unless it is kept.
#[derive(Debug)]
pub(crate) struct Reservation {
    amount: Usd,
}

impl Budget {
    pub(crate) fn new(cap: Usd) -> Budget {
        Budget {
            cap,
            ledger: Mutex::default(),
        }
    }

    fn ledger(&self) -> std::sync::MutexGuard<'_, Ledger> {
        self.ledger.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn spending(&self) -> Spending {
        self.spending_of(&self.ledger())
    }

    fn spending_of(&self, ledger: &Ledger) -> Spending {
        Spending {
            budget: self.cap,
            reserved: ledger.reserved,
            spent: ledger.spent,
        }
    }

    /// Reserves `estimate`, or says why the create is refused: it would go
    /// over the budget, or the price table cannot price it.
    pub(crate) fn reserve(&self, estimate: Estimate) -> Result<Reservation, Error> {
        let mut ledger = self.ledger();
        match estimate.amount() {
            Some(amount) if ledger.reserved + ledger.spent + amount <= self.cap => {
                ledger.reserved += amount;
                Ok(Reservation { amount })
            }
            _ => Err(Error::OverBudget {
                spending: self.spending_of(&ledger),
                estimate,
            }),
        }
    }

    /// Gives a reservation back: the create made no task.
    pub(crate) fn release(&self, reservation: Reservation) {
        let mut ledger = self.ledger();
        ledger.reserved = ledger.reserved - reservation.amount;
    }

    /// Keeps a reservation until the task `task_id` is seen finished (or for
    /// good when the id is unknown: the create may have made a task).
    pub(crate) fn keep(&self, reservation: Reservation, task_id: Option<&str>) {
        if let Some(id) = task_id.filter(|id| !id.is_empty()) {
            *self.ledger().tasks.entry(id.to_owned()).or_default() += reservation.amount;
        }
    }

    /// Settles a reservation by what the create did: kept for the task it
    /// made (or may have made), released when it made none.
    pub(crate) fn settle(&self, reservation: Reservation, sent: Result<&TaskData, &Error>) {
        match sent {
            Ok(task) => self.keep(reservation, Some(&task.task_id)),
            // It may have made a task: the money stays reserved.
            Err(Error::AmbiguousCreate { task_id, .. }) => {
                self.keep(reservation, task_id.as_deref())
            }
            Err(_) => self.release(reservation),
        }
    }

    /// Turns a finished task's reservation into what it was charged.
    pub(crate) fn observe(&self, task: &TaskData) {
        if !matches!(task.status, TaskStatus::Completed | TaskStatus::Failed) {
            return;
        }
        let mut ledger = self.ledger();
        let Some(reserved) = ledger.tasks.remove(&task.task_id) else {
            return;
        };
        ledger.reserved = ledger.reserved - reserved;
        let charged = match task.status {
            TaskStatus::Completed => task
                .meta
                .usage
                .as_ref()
                .and_then(|u| u.consume)
                .map_or(reserved, Usd::from_units),
            // A failed task is refunded.
            _ => Usd::ZERO,
        };
        ledger.spent += charged;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use piapi_kling_models::catalog::PricePer;

    fn known(units: i64) -> Estimate {
        Estimate::Known {
            amount: Usd::from_units(units),
            rate: Usd::from_units(units),
            per: PricePer::Task,
            quantity: 1.0,
            source: "test",
        }
    }

    #[test]
    fn reservations_stop_at_the_cap_and_settle_at_the_charge() {
        let budget = Budget::new(Usd::from_units(10));
        let a = budget.reserve(known(6)).unwrap();
        let err = budget.reserve(known(5)).unwrap_err();
        assert!(err.to_string().contains("over the budget of"), "{err}");
        budget.keep(a, Some("t1"));
        let b = budget.reserve(known(4)).unwrap();
        budget.release(b);
        assert_eq!(budget.spending().reserved, Usd::from_units(6));
        let mut task: TaskData = serde_json::from_value(serde_json::json!({
            "task_id": "t1", "model": "kling", "task_type": "sound", "status": "completed",
            "input": {}, "meta": {"usage": {"consume": 2}}, "error": {"code": 0, "message": ""}
        }))
        .unwrap();
        budget.observe(&task);
        let spending = budget.spending();
        assert_eq!(
            (spending.reserved, spending.spent),
            (Usd::ZERO, Usd::from_units(2))
        );
        assert_eq!(spending.remaining(), Usd::from_units(8));
        task.task_id = "t2".into();
        budget.observe(&task);
        assert_eq!(
            budget.spending().spent,
            Usd::from_units(2),
            "only reserved tasks count"
        );
        let unknown = Estimate::Unknown {
            reason: "no price".into(),
        };
        let err = budget.reserve(unknown).unwrap_err();
        assert!(err.to_string().contains("unknown"), "{err}");
    }
}
