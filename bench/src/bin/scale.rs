//! Scale (issue 6.4): 10,000 tasks created and awaited concurrently by one
//! process against the simulator. The simulator runs in a child process (this
//! binary with `--serve`), so the figures are the client's alone: wall time,
//! peak RSS, memory per in-flight task (goal < 4 KiB) and connections used.
//!
//! `cargo run --release -p piapi-kling-bench --bin scale -- [--tasks 10000]`

use piapi_kling::{Client, RetryPolicy, WaitPolicy};
use piapi_kling_bench::{arg, open_sockets, proc_status_kib};
use piapi_kling_sim::Simulator;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Task lengths are Kling's divided by this (a 5 s text-to-video takes ~2 s).
const SPEED: f64 = 60.0;

fn main() {
    if std::env::args().any(|a| a == "--serve") {
        return serve();
    }
    let tasks: usize = arg("--tasks", 10_000);
    let mut child = Command::new(std::env::current_exe().unwrap())
        .arg("--serve")
        .arg("--tasks")
        .arg(tasks.to_string())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the simulator process starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line.trim().to_owned();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run(base, tasks));
    child.kill().ok();
    child.wait().ok();
}

/// The child: a simulator on an ephemeral port; prints its URL, serves until killed.
fn serve() {
    let tasks: usize = arg("--tasks", 10_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let sim = Simulator::builder()
            .api_key("scale-key")
            .speed(SPEED)
            .max_tasks(tasks + 16)
            .request_log_capacity(1024)
            .start()
            .await
            .unwrap();
        println!("{}", sim.base_url());
        std::future::pending::<()>().await;
    });
}

async fn run(base: String, tasks: usize) {
    let client = Client::builder()
        .base_url(base)
        .api_key("scale-key")
        .retry_policy(RetryPolicy::default())
        .build()
        .unwrap();
    // The default policy, time-compressed like the simulator.
    let d = WaitPolicy::default();
    let policy = WaitPolicy::default()
        .with_initial_delay(d.initial_delay.div_f64(SPEED))
        .with_interval_bounds(d.min_interval.div_f64(SPEED), d.max_interval.div_f64(SPEED));
    // Warm up one round trip so the baseline includes the runtime, pool and TLS-free client.
    client.account_info().await.unwrap();
    let baseline_kib = proc_status_kib("VmRSS");

    let done = Arc::new(AtomicBool::new(false));
    let peak_sockets = Arc::new(AtomicUsize::new(0));
    let sampler = {
        let (done, peak) = (done.clone(), peak_sockets.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(open_sockets(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(50));
            }
        })
    };
    {
        let builder = client.text_to_video("x");
        println!("sizes: builder {} B", std::mem::size_of_val(&builder));
        println!(
            "sizes: CreateTaskRequest {} B, TaskData {} B, Error {} B, reqwest::Client {} B",
            std::mem::size_of::<piapi_kling_models::CreateTaskRequest>(),
            std::mem::size_of::<piapi_kling_models::TaskData>(),
            std::mem::size_of::<piapi_kling::Error>(),
            std::mem::size_of::<reqwest::Client>(),
        );
        let send = builder.send();
        println!("sizes: send future {} B", std::mem::size_of_val(&send));
        let handle = client.task("x");
        println!("sizes: handle {} B", std::mem::size_of_val(&handle));
        let wait = handle.wait_with(policy.clone());
        println!("sizes: wait future {} B", std::mem::size_of_val(&wait));
        drop((send, wait));
    }
    let created = Arc::new(AtomicUsize::new(0));
    let in_flight = Arc::new(AtomicUsize::new(0));
    let peak_in_flight = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut handles = Vec::with_capacity(tasks);
    for i in 0..tasks {
        let (client, policy) = (client.clone(), policy.clone());
        let (in_flight, peak_in_flight) = (in_flight.clone(), peak_in_flight.clone());
        let created = created.clone();
        let job = async move {
            let now = in_flight.fetch_add(1, Ordering::Relaxed) + 1;
            peak_in_flight.fetch_max(now, Ordering::Relaxed);
            let handle = client
                .text_to_video(format!("scale task {i}"))
                .send()
                .await
                .expect("create");
            if created.fetch_add(1, Ordering::Relaxed) + 1 == tasks {
                println!(
                    "RSS when the last create returned: {} KiB",
                    proc_status_kib("VmRSS")
                );
            }
            let result = handle
                .wait_with(policy)
                .await
                .map(|r| r.task.status.is_terminal());
            in_flight.fetch_sub(1, Ordering::Relaxed);
            result
        };
        if i == 0 {
            println!(
                "size of one task's future: {} bytes",
                std::mem::size_of_val(&job)
            );
        }
        handles.push(tokio::spawn(job));
    }
    let (mut completed, mut errors) = (0, 0);
    for h in handles {
        match h.await.expect("no panic") {
            Ok(true) => completed += 1,
            _ => errors += 1,
        }
    }
    let wall = started.elapsed();
    done.store(true, Ordering::Relaxed);
    sampler.join().unwrap();
    let peak_kib = proc_status_kib("VmHWM");
    let per_task = (peak_kib.saturating_sub(baseline_kib) * 1024) as f64 / tasks as f64;
    println!(
        "tasks: {tasks} created and awaited concurrently ({completed} completed, {errors} errors)"
    );
    println!(
        "wall time: {:.2} s (each task ~{:.1} s of simulated work)",
        wall.as_secs_f64(),
        120.0 / SPEED
    );
    println!(
        "peak tasks in flight: {}",
        peak_in_flight.load(Ordering::Relaxed)
    );
    println!("RSS: baseline {baseline_kib} KiB, peak {peak_kib} KiB");
    println!(
        "memory per in-flight task: {per_task:.0} bytes ({:.2} KiB; goal < 4 KiB)",
        per_task / 1024.0
    );
    println!(
        "connections used (peak open sockets): {}",
        peak_sockets.load(Ordering::Relaxed)
    );
}
