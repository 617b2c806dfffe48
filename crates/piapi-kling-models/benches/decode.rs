//! Decode speed: a completed task response (the spec's example) and a batch of
//! 100, into the typed models versus `serde_json::Value`.
//!
//! `cargo bench -p piapi-kling-models --bench decode`; figures in BENCHMARKS.md.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use piapi_kling_models::TaskResponse;
use std::hint::black_box;

const COMPLETED: &str = include_str!("data/task_completed.json");

fn batch(n: usize) -> String {
    let one: serde_json::Value = serde_json::from_str(COMPLETED).unwrap();
    serde_json::to_string(&vec![one; n]).unwrap()
}

fn decode(c: &mut Criterion) {
    let hundred = batch(100);
    for (name, body) in [("one", COMPLETED.to_owned()), ("batch_100", hundred)] {
        let mut group = c.benchmark_group(format!("decode_{name}"));
        group.throughput(Throughput::Bytes(body.len() as u64));
        if name == "one" {
            group.bench_function("typed", |b| {
                b.iter(|| {
                    black_box(serde_json::from_str::<TaskResponse>(black_box(&body)).unwrap())
                })
            });
        } else {
            group.bench_function("typed", |b| {
                b.iter(|| {
                    black_box(serde_json::from_str::<Vec<TaskResponse>>(black_box(&body)).unwrap())
                })
            });
        }
        group.bench_function("value", |b| {
            b.iter(|| {
                black_box(serde_json::from_str::<serde_json::Value>(black_box(&body)).unwrap())
            })
        });
        group.finish();
    }
}

criterion_group!(benches, decode);
criterion_main!(benches);
