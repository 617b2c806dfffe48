//! The request log tests read: every request with its answer's status, and
//! exact per-(method, path) counts.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, SystemTime};

use parking_lot::Mutex;

/// One request as the simulator answered it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoggedRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path without the query, e.g. `/api/v1/task/6e26...`.
    pub path: String,
    /// The status sent; 0 when the connection was dropped without an answer.
    pub status: u16,
    /// When the request arrived.
    pub at: SystemTime,
    /// The task the request was about: the created task for a create, the
    /// path's task for a get or cancel.
    pub task_id: Option<String>,
    /// From arrival until the answer was handed to the connection, including
    /// injected latency.
    pub latency: Duration,
}

/// Response extension naming the task a request was about, for the log.
#[derive(Clone, Debug)]
pub(crate) struct LoggedTaskId(pub String);

/// A bounded log (oldest entries dropped first) plus unbounded exact counts.
pub(crate) struct RequestLog {
    inner: Mutex<Inner>,
}

struct Inner {
    capacity: usize,
    entries: VecDeque<LoggedRequest>,
    counts: HashMap<(String, String), usize>,
}

impl RequestLog {
    pub(crate) fn new(capacity: usize) -> Self {
        RequestLog {
            inner: Mutex::new(Inner {
                capacity,
                entries: VecDeque::new(),
                counts: HashMap::new(),
            }),
        }
    }

    pub(crate) fn push(&self, entry: LoggedRequest) {
        let mut inner = self.inner.lock();
        let key = (entry.method.clone(), entry.path.clone());
        *inner.counts.entry(key).or_insert(0) += 1;
        if inner.capacity == 0 {
            return;
        }
        if inner.entries.len() == inner.capacity {
            inner.entries.pop_front();
        }
        inner.entries.push_back(entry);
    }

    pub(crate) fn entries(&self) -> Vec<LoggedRequest> {
        self.inner.lock().entries.iter().cloned().collect()
    }

    pub(crate) fn count(&self, method: &str, path: &str) -> usize {
        let inner = self.inner.lock();
        inner
            .counts
            .get(&(method.to_ascii_uppercase(), path.to_owned()))
            .copied()
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(method: &str, path: &str) -> LoggedRequest {
        LoggedRequest {
            method: method.into(),
            path: path.into(),
            status: 200,
            at: SystemTime::now(),
            task_id: None,
            latency: Duration::ZERO,
        }
    }

    #[test]
    fn keeps_the_newest_entries_and_exact_counts() {
        let log = RequestLog::new(2);
        for path in ["/a", "/b", "/a"] {
            log.push(entry("GET", path));
        }
        let paths: Vec<String> = log.entries().into_iter().map(|e| e.path).collect();
        assert_eq!(paths, ["/b", "/a"]);
        assert_eq!(log.count("GET", "/a"), 2);
        assert_eq!(log.count("get", "/a"), 2);
        assert_eq!(log.count("POST", "/a"), 0);
    }
}
