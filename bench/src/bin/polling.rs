//! Polling efficiency (issue 6.3). For a task of duration T from 30 s to 10 min:
//! the requests a waiter makes and the delay between completion and the caller
//! noticing, under the SDK's default WaitPolicy and the policies other PiAPI
//! clients use (fixed 2 s; 1 s growing ×1.5 to 30 s; fixed 30 s). With a
//! webhook there is no polling at all: 0 requests, delay = delivery time.
//!
//! Part 1 evaluates each schedule exactly (a waiter polls at its schedule's
//! times; it notices at the first poll at or after T). Part 2 checks that the
//! SDK really polls on its schedule: it runs time-compressed waits against the
//! simulator (durations and the policy divided by the same factor) and counts
//! the GETs in the simulator's log.
//!
//! `cargo run --release -p piapi-kling-bench --bin polling`

use piapi_kling::{Client, RetryPolicy, WaitPolicy};
use piapi_kling_sim::Simulator;
use std::time::Duration;

/// Poll times (seconds after creation) of a policy "first poll after `first`,
/// then each interval × `growth`, capped at `cap`", up to `horizon`.
fn geometric(first: f64, growth: f64, cap: f64, horizon: f64) -> Vec<f64> {
    let (mut t, mut step, mut out) = (first, first, Vec::new());
    while t <= horizon {
        out.push(t);
        step = (step * growth).min(cap);
        t += step;
    }
    out
}

/// (requests until noticed, delay) for a task of duration `t`.
fn notice(schedule: &[f64], t: f64) -> Option<(usize, f64)> {
    schedule
        .iter()
        .position(|&p| p >= t)
        .map(|i| (i + 1, schedule[i] - t))
}

fn main() {
    let horizon = 3600.0;
    let sdk: Vec<f64> = WaitPolicy::default()
        .with_deadline(Duration::from_secs(3600))
        .poll_times()
        .map(|d| d.as_secs_f64())
        .collect();
    let policies: Vec<(&str, Vec<f64>)> = vec![
        ("SDK default", sdk),
        ("fixed 2 s", geometric(2.0, 1.0, 2.0, horizon)),
        ("1 s x1.5 to 30 s", geometric(1.0, 1.5, 30.0, horizon)),
        ("fixed 30 s", geometric(30.0, 1.0, 30.0, horizon)),
    ];
    let reference = &policies[2].1;

    println!("## Requests until noticed / notice delay, per task duration T\n");
    print!("| T |");
    for (name, _) in &policies {
        print!(" {name} |");
    }
    println!("\n|---|{}", "---|".repeat(policies.len()));
    for t in [
        30.0, 45.0, 60.0, 90.0, 120.0, 180.0, 240.0, 300.0, 420.0, 600.0,
    ] {
        print!("| {t:.0} s |");
        for (_, schedule) in &policies {
            let (n, delay) = notice(schedule, t).expect("within the horizon");
            print!(" {n} req, {delay:.1} s ({:.0} %) |", 100.0 * delay / t);
        }
        println!();
    }

    println!("\n## Over every T from 30 s to 600 s (0.1 s steps)\n");
    println!(
        "| policy | mean requests | max requests vs 1 s x1.5 | mean delay / T | worst delay / T | T with delay <= 10 % of T |"
    );
    println!("|---|---|---|---|---|---|");
    let ts: Vec<f64> = (0..=5700).map(|i| 30.0 + i as f64 * 0.1).collect();
    for (name, schedule) in &policies {
        let (mut requests, mut ratio_sum, mut worst, mut within, mut excess) =
            (0usize, 0.0, 0.0f64, 0usize, i64::MIN);
        for &t in &ts {
            let (n, delay) = notice(schedule, t).unwrap();
            let (n_ref, _) = notice(reference, t).unwrap();
            requests += n;
            ratio_sum += delay / t;
            worst = worst.max(delay / t);
            within += usize::from(delay <= 0.1 * t);
            excess = excess.max(n as i64 - n_ref as i64);
        }
        let count = ts.len() as f64;
        println!(
            "| {name} | {:.1} | {excess:+} | {:.1} % | {:.1} % | {:.0} % |",
            requests as f64 / count,
            100.0 * ratio_sum / count,
            100.0 * worst,
            100.0 * within as f64 / count
        );
    }
    println!("| webhook | 0 | — | delivery time only | — | — |");

    live_check();
}

/// Runs time-compressed waits against the simulator and compares the GETs it
/// logged with the schedule's prediction.
fn live_check() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        println!("\n## Live check against the simulator (time compressed)\n");
        println!("| compression | simulated T | GETs logged | predicted by the schedule |");
        println!("|---|---|---|---|");
        for speed in [200.0, 60.0] {
            let sim = Simulator::builder()
                .api_key("k")
                .speed(speed)
                .start()
                .await
                .unwrap();
            let client = Client::builder()
                .base_url(sim.base_url())
                .api_key("k")
                .retry_policy(RetryPolicy::none())
                .build()
                .unwrap();
            let scale = |d: Duration| d.div_f64(speed);
            let default = WaitPolicy::default();
            let policy = WaitPolicy::default()
                .with_initial_delay(scale(default.initial_delay))
                .with_interval_bounds(scale(default.min_interval), scale(default.max_interval));
            let handle = client.text_to_video("egrets").send().await.unwrap();
            let result = handle.wait_with(policy.clone()).await.unwrap();
            let gets = sim.count_requests("GET", &format!("/api/v1/task/{}", handle.id()));
            // The simulated duration, from the task's own timestamps (s since creation × speed).
            let task = result.task;
            let secs = |t: &str| -> f64 {
                let (hms, frac) = t
                    .trim_end_matches('Z')
                    .split_once('.')
                    .unwrap_or((t.trim_end_matches('Z'), "0"));
                let parts: Vec<f64> = hms
                    .rsplit('T')
                    .next()
                    .unwrap()
                    .split(':')
                    .map(|p| p.parse().unwrap())
                    .collect();
                parts[0] * 3600.0
                    + parts[1] * 60.0
                    + parts[2]
                    + format!("0.{frac}").parse::<f64>().unwrap()
            };
            let t_sim =
                (secs(task.meta.ended().unwrap()) - secs(task.meta.created().unwrap())) * speed;
            let unscaled: Vec<f64> = WaitPolicy::default()
                .poll_times()
                .map(|d| d.as_secs_f64())
                .collect();
            let predicted = notice(&unscaled, t_sim).map(|(n, _)| n).unwrap_or(0);
            println!("| ×{speed:.0} | {t_sim:.0} s | {gets} | {predicted} |");
            sim.shutdown().await;
        }
    });
}
