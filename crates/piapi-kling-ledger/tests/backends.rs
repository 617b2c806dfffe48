//! The ledger's promises, checked on both backends: SQLite in a temporary
//! file and PostgreSQL in a scratch schema of the real server (skipped with
//! a message when it is unreachable, a failure under `CI=true`).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use piapi_kling_ledger::testing::PgTest;
use piapi_kling_ledger::{ClaimRequest, Delivery, Ledger, LineSpec, Owner, State, new_token};

fn lines(n: usize) -> Vec<LineSpec> {
    (1..=n)
        .map(|i| LineSpec {
            id: format!("line-{i}"),
            number: i as i64,
            fingerprint: format!("fp-{i}"),
        })
        .collect()
}

fn claim(owner: &Owner, lease: Duration, limit: usize, run_started: i64) -> ClaimRequest {
    ClaimRequest {
        owner: owner.as_str().to_owned(),
        lease,
        limit,
        run_started,
        download: false,
        resend_unknown: false,
    }
}

/// Runs `check` on a SQLite ledger, then on a PostgreSQL one.
async fn both<F, Fut>(label: &str, check: F)
where
    F: Fn(Arc<dyn Ledger>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.sqlite");
    check(
        piapi_kling_ledger::open(path.to_str().unwrap())
            .await
            .unwrap(),
    )
    .await;
    if let Some(pg) = PgTest::new(label) {
        check(piapi_kling_ledger::open(&pg.url()).await.unwrap()).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_claims_never_share_a_line() {
    both("claims", |ledger| async move {
        assert!(ledger.register(&lines(200)).await.unwrap().is_empty());
        let start = ledger.now_ms().await.unwrap();
        let mut claimers = Vec::new();
        for _ in 0..4 {
            let ledger = ledger.clone();
            claimers.push(tokio::spawn(async move {
                let owner = Owner::new();
                let mut mine = Vec::new();
                loop {
                    let rows = ledger
                        .claim(&claim(&owner, Duration::from_secs(60), 7, start))
                        .await
                        .unwrap();
                    if rows.is_empty() {
                        break mine;
                    }
                    mine.extend(rows.into_iter().map(|r| r.id));
                }
            }));
        }
        let mut seen = HashSet::new();
        let mut total = 0;
        for claimer in claimers {
            let ids = claimer.await.unwrap();
            total += ids.len();
            seen.extend(ids);
        }
        assert_eq!(total, 200, "every line claimed once");
        assert_eq!(seen.len(), 200, "no line claimed twice");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_lease_is_taken_over_and_its_intent_becomes_unknown() {
    both("lease", |ledger| async move {
        ledger.register(&lines(3)).await.unwrap();
        let start = ledger.now_ms().await.unwrap();
        let (dead, alive) = (Owner::new(), Owner::new());
        let short = Duration::from_millis(300);
        let rows = ledger.claim(&claim(&dead, short, 3, start)).await.unwrap();
        assert_eq!(rows.len(), 3);
        // The dead runner had sent line 1's create and created line 2's task.
        assert!(
            ledger
                .record_intent(dead.as_str(), "line-1", &new_token())
                .await
                .unwrap()
        );
        assert!(
            ledger
                .record_intent(dead.as_str(), "line-2", &new_token())
                .await
                .unwrap()
        );
        ledger.record_created("line-2", "task-2").await.unwrap();
        // While its leases last, nobody else gets the lines.
        assert!(
            ledger
                .claim(&claim(&alive, short, 3, start))
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            !ledger
                .record_intent(alive.as_str(), "line-3", &new_token())
                .await
                .unwrap(),
            "no intent without the lease"
        );
        // A heartbeat keeps them; then the runner dies and they expire.
        assert_eq!(ledger.renew(dead.as_str(), short).await.unwrap(), 3);
        tokio::time::sleep(Duration::from_millis(450)).await;
        assert_eq!(ledger.reap(&[]).await.unwrap(), 1, "line 1's intent");
        let taken = ledger.claim(&claim(&alive, short, 3, start)).await.unwrap();
        let ids: Vec<&str> = taken.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(
            ids,
            ["line-2", "line-3"],
            "line 1 is unknown, never re-sent"
        );
        assert_eq!(taken[0].state, State::Created);
        assert_eq!(taken[0].task_id.as_deref(), Some("task-2"));
        // The dead runner's late intent is refused: its lease is gone.
        assert!(
            !ledger
                .record_intent(dead.as_str(), "line-3", &new_token())
                .await
                .unwrap()
        );
        let rows = ledger.rows().await.unwrap();
        assert_eq!(rows[0].state, State::Unknown);
        assert_eq!(rows[0].attempts, 1);
        assert!(rows[0].error.as_deref().unwrap().contains("may exist"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_local_runner_is_reaped_at_once() {
    both("dead_owner", |ledger| async move {
        ledger.register(&lines(2)).await.unwrap();
        let start = ledger.now_ms().await.unwrap();
        let dead = Owner::new();
        ledger
            .claim(&claim(&dead, Duration::from_secs(600), 2, start))
            .await
            .unwrap();
        ledger
            .record_intent(dead.as_str(), "line-1", &new_token())
            .await
            .unwrap();
        assert_eq!(ledger.lease_owners().await.unwrap(), [dead.as_str()]);
        assert_eq!(ledger.reap(&[dead.as_str().to_owned()]).await.unwrap(), 1);
        assert!(ledger.lease_owners().await.unwrap().is_empty());
        let rows = ledger
            .claim(&claim(&Owner::new(), Duration::from_secs(60), 2, start))
            .await
            .unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].id, "line-2");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_link_lost_creates_and_duplicates_change_nothing() {
    both("deliveries", |ledger| async move {
        ledger.register(&lines(3)).await.unwrap();
        let start = ledger.now_ms().await.unwrap();
        let owner = Owner::new();
        ledger
            .claim(&claim(&owner, Duration::from_secs(60), 3, start))
            .await
            .unwrap();
        let tokens: Vec<String> = (0..3).map(|_| new_token()).collect();
        for (i, token) in tokens.iter().enumerate() {
            let id = format!("line-{}", i + 1);
            assert!(
                ledger
                    .record_intent(owner.as_str(), &id, token)
                    .await
                    .unwrap()
            );
        }
        let delivery = |token: &str, task: &str, status: &str, ts: i64| Delivery {
            token: Some(token.to_owned()),
            task_id: task.to_owned(),
            status: status.to_owned(),
            timestamp: ts,
        };
        // Line 1: the create's answer is lost and recorded unknown; then its
        // webhooks arrive out of order (completed first) and twice.
        let row = ledger
            .record_unknown("line-1", None, "connection closed")
            .await
            .unwrap();
        assert_eq!(row.state, State::Unknown);
        let linked = ledger
            .record_delivery(&delivery(&tokens[0], "task-1", "completed", 20))
            .await
            .unwrap();
        assert_eq!(linked.as_deref(), Some("line-1"));
        for _ in 0..2 {
            let again = ledger
                .record_delivery(&delivery(&tokens[0], "task-1", "pending", 10))
                .await
                .unwrap();
            assert_eq!(again, None, "already linked");
        }
        // Line 2: the webhook comes before the lost answer is recorded: the
        // line stays created and the runner goes on waiting.
        ledger
            .record_delivery(&delivery(&tokens[1], "task-2", "pending", 10))
            .await
            .unwrap();
        let row = ledger
            .record_unknown("line-2", None, "connection closed")
            .await
            .unwrap();
        assert_eq!(row.state, State::Created);
        assert_eq!(row.task_id.as_deref(), Some("task-2"));
        // A forged delivery with a guessed token links nothing; one with a
        // real token but another task cannot steal a linked line.
        assert_eq!(
            ledger
                .record_delivery(&delivery(&new_token(), "task-x", "completed", 1))
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            ledger
                .record_delivery(&delivery(&tokens[0], "task-y", "completed", 1))
                .await
                .unwrap(),
            None
        );
        // Line 3 answered normally; its deliveries carry no surprise.
        ledger.record_created("line-3", "task-3").await.unwrap();
        let rows = ledger.rows().await.unwrap();
        let tasks: Vec<Option<&str>> = rows.iter().map(|r| r.task_id.as_deref()).collect();
        assert_eq!(tasks, [Some("task-1"), Some("task-2"), Some("task-3")]);
        assert!(rows.iter().all(|r| r.state == State::Created));
        // Every delivery is recorded, in order, duplicates included.
        let stored = ledger.deliveries_after(0, 100).await.unwrap();
        assert_eq!(stored.len(), 6);
        assert!(stored.windows(2).all(|w| w[0].id < w[1].id));
        assert_eq!(stored[0].line_id.as_deref(), Some("line-1"));
        let after = ledger.deliveries_after(stored[3].id, 100).await.unwrap();
        assert_eq!(after.len(), 2);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_line_goes_through_its_states_and_a_changed_file_is_refused() {
    both("states", |ledger| async move {
        assert!(ledger.register(&lines(2)).await.unwrap().is_empty());
        assert!(
            ledger.register(&lines(2)).await.unwrap().is_empty(),
            "same file again"
        );
        let mut changed = lines(3);
        changed[0].fingerprint = "other".into();
        let mismatches = ledger.register(&changed).await.unwrap();
        assert_eq!(mismatches.len(), 1);
        assert_eq!(mismatches[0].id, "line-1");
        assert_eq!(ledger.rows().await.unwrap().len(), 2, "line 3 not added");

        let start = ledger.now_ms().await.unwrap();
        let owner = Owner::new();
        let mut request = claim(&owner, Duration::from_secs(60), 1, start);
        ledger.claim(&request).await.unwrap();
        ledger
            .record_intent(owner.as_str(), "line-1", &new_token())
            .await
            .unwrap();
        ledger.record_created("line-1", "task-a").await.unwrap();
        ledger
            .record_finished(
                "line-1",
                State::Completed,
                Some(700_000),
                None,
                Some(r#"{"task_id":"t-1","output":{"video":"https://e.com/v.mp4","new_field":1}}"#),
                true,
            )
            .await
            .unwrap();
        ledger
            .record_files("line-1", &["out/task-a-1.wav".to_owned()])
            .await
            .unwrap();
        let rows = ledger.rows().await.unwrap();
        assert_eq!(rows[0].state, State::Completed);
        assert_eq!(rows[0].consume, Some(700_000));
        assert_eq!(
            rows[0].files.as_deref(),
            Some(&["out/task-a-1.wav".to_owned()][..])
        );
        assert_eq!(rows[0].lease_owner, None, "the lease ended with the files");
        // The task is kept as PiAPI sent it, fields the spec does not list included.
        let task = rows[0].task.as_ref().expect("the finished task is kept");
        assert_eq!(task["output"]["new_field"], 1);
        assert_eq!(task["output"]["video"], "https://e.com/v.mp4");
        // A create refused for good is not retried by the same run.
        ledger.claim(&request).await.unwrap();
        ledger
            .record_intent(owner.as_str(), "line-2", &new_token())
            .await
            .unwrap();
        ledger
            .record_create_failed("line-2", "HTTP 400")
            .await
            .unwrap();
        assert!(ledger.claim(&request).await.unwrap().is_empty());
        tokio::time::sleep(Duration::from_millis(5)).await;
        request.run_started = ledger.now_ms().await.unwrap();
        assert_eq!(
            ledger.claim(&request).await.unwrap().len(),
            1,
            "a later run does"
        );
        assert!(ledger.round_trips() > 0);
    })
    .await;
}

#[tokio::test]
async fn a_ledger_from_a_newer_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.sqlite");
    drop(
        piapi_kling_ledger::open(path.to_str().unwrap())
            .await
            .unwrap(),
    );
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    let err = piapi_kling_ledger::open(path.to_str().unwrap())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("schema version 99"), "{err}");

    if let Some(pg) = PgTest::new("too_new") {
        drop(piapi_kling_ledger::open(&pg.url()).await.unwrap());
        pg.execute("INSERT INTO kling_migrations (version) VALUES (99)");
        let err = piapi_kling_ledger::open(&pg.url()).await.unwrap_err();
        assert!(err.to_string().contains("schema version 99"), "{err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runners_starting_together_migrate_and_register_once() {
    let Some(pg) = PgTest::new("together") else {
        return;
    };
    let mut opens = Vec::new();
    for _ in 0..4 {
        let url = pg.url();
        opens.push(tokio::spawn(async move {
            let ledger = piapi_kling_ledger::open(&url).await.unwrap();
            ledger.register(&lines(50)).await.unwrap()
        }));
    }
    for open in opens {
        assert!(open.await.unwrap().is_empty());
    }
    let ledger = piapi_kling_ledger::open(&pg.url()).await.unwrap();
    assert_eq!(ledger.rows().await.unwrap().len(), 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_wakes_a_postgres_listener() {
    let Some(pg) = PgTest::new("notify") else {
        return;
    };
    let runner = piapi_kling_ledger::open(&pg.url()).await.unwrap();
    let endpoint = piapi_kling_ledger::open(&pg.url()).await.unwrap();
    // Start listening, then deliver: the wait ends long before its 30 s.
    runner.wait_for_change(Duration::from_millis(1)).await;
    let started = std::time::Instant::now();
    let waiter = tokio::spawn(async move {
        runner.wait_for_change(Duration::from_secs(30)).await;
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    endpoint
        .record_delivery(&Delivery {
            token: None,
            task_id: "t".into(),
            status: "completed".into(),
            timestamp: 1,
        })
        .await
        .unwrap();
    waiter.await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_runners_never_commit_more_than_the_budget() {
    both("budget", |ledger| async move {
        // 40 lines at 3 units each under a budget of 100: 33 may be sent.
        ledger.register(&lines(40)).await.unwrap();
        let start = ledger.now_ms().await.unwrap();
        let mut runners = Vec::new();
        for _ in 0..4 {
            let ledger = ledger.clone();
            runners.push(tokio::spawn(async move {
                let owner = Owner::new();
                let (mut sent, mut refused) = (0, 0);
                loop {
                    let rows = ledger
                        .claim(&claim(&owner, Duration::from_secs(60), 3, start))
                        .await
                        .unwrap();
                    if rows.is_empty() {
                        break (sent, refused);
                    }
                    for row in rows {
                        let intent = ledger
                            .record_intent_within(
                                owner.as_str(),
                                &row.id,
                                &new_token(),
                                Some(3),
                                Some(100),
                            )
                            .await
                            .unwrap();
                        match intent {
                            piapi_kling_ledger::Intent::Recorded => {
                                ledger
                                    .record_created(&row.id, &format!("t-{}", row.id))
                                    .await
                                    .unwrap();
                                sent += 1;
                            }
                            piapi_kling_ledger::Intent::OverBudget { committed } => {
                                assert!(committed + 3 > 100, "refused at {committed}");
                                ledger
                                    .record_create_failed(&row.id, "over budget")
                                    .await
                                    .unwrap();
                                refused += 1;
                            }
                            other => panic!("{other:?}"),
                        }
                    }
                }
            }));
        }
        let (mut sent, mut refused) = (0, 0);
        for runner in runners {
            let (s, r) = runner.await.unwrap();
            sent += s;
            refused += r;
        }
        assert_eq!((sent, refused), (33, 7));
        let rows = ledger.rows().await.unwrap();
        let committed: i64 = rows
            .iter()
            .filter(|r| r.state == State::Created)
            .map(|r| r.estimate.unwrap())
            .sum();
        assert_eq!(committed, 99);

        // A finished task counts for what it was charged, a failed one for nothing.
        let created: Vec<_> = rows.iter().filter(|r| r.state == State::Created).collect();
        ledger
            .record_finished(&created[0].id, State::Completed, Some(1), None, None, false)
            .await
            .unwrap();
        ledger
            .record_finished(&created[1].id, State::Failed, None, Some("x"), None, false)
            .await
            .unwrap();
        ledger.register(&lines(41)).await.unwrap();
        let owner = Owner::new();
        let retry = ledger
            .claim(&claim(&owner, Duration::from_secs(60), 1, start))
            .await
            .unwrap();
        assert_eq!(retry[0].id, "line-41");
        let id = &retry[0].id;
        // 99 - 3 + 1 - 3 = 94 committed: one more line of 3 fits, then 97 + 5 > 100.
        let fits = ledger
            .record_intent_within(owner.as_str(), id, &new_token(), Some(3), Some(100))
            .await
            .unwrap();
        assert_eq!(fits, piapi_kling_ledger::Intent::Recorded);
    })
    .await;
}
