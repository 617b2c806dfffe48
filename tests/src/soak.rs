//! The fault soak: many tasks through the SDK against a simulator that injects
//! server errors, 429s with Retry-After, dropped connections and latency.
//! Every job must end in a terminal state with exactly one task, the simulator
//! must hold exactly the tasks the jobs know (no duplicate create, no lost id),
//! and no job may panic.
//!
//! Run by `tests/tests/fault_soak.rs` (1,000 tasks) and by the `soak` binary
//! (`cargo run --release -p piapi-kling-tests --bin soak -- --tasks 10000`).

use piapi_kling::{Client, Error, RetryPolicy, WaitPolicy};
use piapi_kling_sim::{Faults, Simulator};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// What to soak.
#[derive(Clone, Debug)]
pub struct SoakConfig {
    /// How many tasks (jobs).
    pub tasks: usize,
    /// Jobs in flight at once.
    pub concurrency: usize,
    /// The simulator's faults.
    pub faults: Faults,
    /// The simulator's speed factor.
    pub speed: f64,
}

impl SoakConfig {
    /// The mix of issue #7: 20 % 5xx, 5 % 429 (Retry-After 1 s), 2 % dropped
    /// connections, 0–20 ms latency, on every request.
    pub fn issue_mix(tasks: usize, seed: u64) -> Self {
        SoakConfig {
            tasks,
            concurrency: 200,
            faults: Faults {
                server_error_rate: 0.20,
                too_many_requests_rate: 0.05,
                retry_after_secs: 1,
                drop_connection_rate: 0.02,
                latency: Some((Duration::ZERO, Duration::from_millis(20))),
                seed,
                ..Faults::default()
            },
            speed: 2000.0,
        }
    }
}

/// What happened.
#[derive(Clone, Debug, Default)]
pub struct SoakReport {
    /// Jobs run.
    pub jobs: usize,
    /// Jobs whose task completed.
    pub completed: usize,
    /// Jobs whose task failed (a terminal state too).
    pub failed: usize,
    /// Jobs that panicked.
    pub panics: usize,
    /// Jobs that ended without a terminal task (must be 0).
    pub unfinished: usize,
    /// Create attempts made by the jobs (SDK calls).
    pub create_calls: usize,
    /// Create calls that returned "may or may not have been created".
    pub ambiguous_creates: usize,
    /// POST /api/v1/task requests the simulator received (incl. SDK retries).
    pub create_requests: usize,
    /// Tasks the simulator holds.
    pub tasks_in_simulator: usize,
    /// Simulator tasks no job knows, or a job's second task (must be 0).
    pub duplicate_creates: usize,
    /// Job task ids the simulator does not hold (must be 0).
    pub lost_task_ids: usize,
    /// Requests the simulator received, by status (0 = dropped connection).
    pub statuses: BTreeMap<u16, usize>,
    /// Wall time.
    pub elapsed: Duration,
}

impl SoakReport {
    /// True when every invariant holds.
    pub fn is_clean(&self) -> bool {
        self.panics == 0
            && self.unfinished == 0
            && self.duplicate_creates == 0
            && self.lost_task_ids == 0
            && self.completed + self.failed == self.jobs
    }
}

struct JobOutcome {
    task_id: Option<String>,
    terminal: Option<bool>,
    create_calls: usize,
    ambiguous: usize,
}

/// Runs the soak and checks the simulator's books against the jobs'.
pub async fn run(config: SoakConfig) -> SoakReport {
    let sim = Simulator::builder()
        .api_key("soak-key")
        .speed(config.speed)
        .faults(config.faults.clone())
        .max_tasks(config.tasks * 2 + 16)
        .request_log_capacity(config.tasks * 40 + 1024)
        .start()
        .await
        .expect("the simulator starts");
    let client = Client::builder()
        .base_url(sim.base_url())
        .api_key("soak-key")
        .retry_policy(RetryPolicy::default())
        .build()
        .expect("a client");
    let policy =
        WaitPolicy::fixed(Duration::from_millis(50)).with_deadline(Duration::from_secs(120));
    let started = Instant::now();
    let permits = Arc::new(Semaphore::new(config.concurrency));
    let mut jobs = Vec::with_capacity(config.tasks);
    for job in 0..config.tasks {
        let client = client.clone();
        let policy = policy.clone();
        let permits = permits.clone();
        jobs.push(tokio::spawn(async move {
            let _permit = permits.acquire_owned().await.expect("semaphore open");
            run_job(&client, job, &policy).await
        }));
    }

    let mut report = SoakReport {
        jobs: config.tasks,
        ..SoakReport::default()
    };
    let mut known: BTreeSet<String> = BTreeSet::new();
    for job in jobs {
        match job.await {
            Err(_) => report.panics += 1,
            Ok(outcome) => {
                report.create_calls += outcome.create_calls;
                report.ambiguous_creates += outcome.ambiguous;
                match outcome.terminal {
                    Some(true) => report.completed += 1,
                    Some(false) => report.failed += 1,
                    None => report.unfinished += 1,
                }
                if let Some(id) = outcome.task_id
                    && !known.insert(id)
                {
                    report.duplicate_creates += 1;
                }
            }
        }
    }
    report.elapsed = started.elapsed();

    // The simulator's books: every task it created came from one job's create.
    let log = sim.request_log();
    let created: BTreeSet<String> = log
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/api/v1/task" && r.status == 200)
        .filter_map(|r| r.task_id.clone())
        .collect();
    for r in &log {
        *report.statuses.entry(r.status).or_default() += 1;
    }
    report.create_requests = sim.count_requests("POST", "/api/v1/task");
    report.tasks_in_simulator = sim.task_count();
    // Two views of the same strays (the log names them, the task count catches
    // any the bounded log dropped): count the larger, not both.
    let unknown_in_log = created.difference(&known).count();
    let surplus = report.tasks_in_simulator.saturating_sub(known.len());
    report.duplicate_creates += unknown_in_log.max(surplus);
    report.lost_task_ids = known.iter().filter(|id| sim.task(id).is_none()).count();
    sim.shutdown().await;
    report
}

async fn run_job(client: &Client, job: usize, policy: &WaitPolicy) -> JobOutcome {
    let mut outcome = JobOutcome {
        task_id: None,
        terminal: None,
        create_calls: 0,
        ambiguous: 0,
    };
    let prompt = format!("soak job {job}: egrets over paddy fields");
    // Create: the SDK retries what is provably safe; what it reports as
    // ambiguous is re-sent here only because this simulator's pre-handler
    // faults never create a task — the books below would show a duplicate.
    let handle = loop {
        outcome.create_calls += 1;
        match client.text_to_video(prompt.clone()).send().await {
            Ok(handle) => break handle,
            Err(Error::AmbiguousCreate {
                task_id: Some(id), ..
            }) => break client.task(id),
            Err(Error::AmbiguousCreate { .. }) => outcome.ambiguous += 1,
            Err(e) if e.is_retryable() => {}
            Err(e) => panic!("job {job}: create failed for good: {e}"),
        }
        if outcome.create_calls > 50 {
            return outcome;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    outcome.task_id = Some(handle.id().to_owned());
    // Wait: transient poll errors are absorbed by the SDK within the deadline.
    for _ in 0..5 {
        match handle.wait_with(policy.clone()).await {
            Ok(_) => {
                outcome.terminal = Some(true);
                break;
            }
            Err(Error::TaskFailed { .. }) => {
                outcome.terminal = Some(false);
                break;
            }
            Err(_) => continue,
        }
    }
    outcome
}
