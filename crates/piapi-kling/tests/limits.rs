//! `ClientBuilder::max_concurrent_requests` bounds the requests in flight, as
//! the simulator sees them: with a limit of 2, ten concurrent reads never
//! overlap more than two at a time.

use piapi_kling::{Client, RetryPolicy};
use piapi_kling_sim::{Faults, Simulator};
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_in_flight_never_exceed_the_limit() {
    let sim = Simulator::builder()
        .api_key("k")
        .speed(1000.0)
        .start()
        .await
        .unwrap();
    let client = Client::builder()
        .base_url(sim.base_url())
        .api_key("k")
        .retry_policy(RetryPolicy::none())
        .max_concurrent_requests(2)
        .build()
        .unwrap();
    let task = client.sound().prompt("violin").send().await.unwrap();
    sim.set_faults(Faults {
        latency: Some((Duration::from_millis(100), Duration::from_millis(100))),
        methods: Some(vec!["GET".into()]),
        ..Faults::default()
    });

    let started = Instant::now();
    let reads = (0..10).map(|_| {
        let (client, id) = (client.clone(), task.id().to_owned());
        tokio::spawn(async move { client.get_task(&id).await })
    });
    for read in reads.collect::<Vec<_>>() {
        read.await.unwrap().unwrap();
    }
    // Ten 100 ms reads, two at a time: at least five rounds.
    assert!(
        started.elapsed() >= Duration::from_millis(450),
        "{:?}",
        started.elapsed()
    );

    // The overlap the server saw, from its log (arrival + handling time).
    let gets: Vec<_> = sim
        .request_log()
        .into_iter()
        .filter(|r| r.method == "GET")
        .collect();
    assert_eq!(gets.len(), 10);
    let most = gets
        .iter()
        .map(|a| {
            gets.iter()
                .filter(|b| b.at <= a.at && a.at < b.at + b.latency)
                .count()
        })
        .max()
        .unwrap();
    assert!(most <= 2, "{most} requests overlapped with a limit of 2");
    sim.shutdown().await;
}
