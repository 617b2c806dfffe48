//! The longer fault soak: `cargo run --release -p piapi-kling-tests --bin soak -- [--tasks N] [--seed S]`.
//! Prints the report and exits non-zero when an invariant breaks.

use piapi_kling_tests::soak::{SoakConfig, run};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str, default: u64| -> u64 {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map(|v| v.parse().expect("a number"))
            .unwrap_or(default)
    };
    let config = SoakConfig::issue_mix(arg("--tasks", 10_000) as usize, arg("--seed", 1));
    println!(
        "soak: {} tasks, concurrency {}, faults {:?}",
        config.tasks, config.concurrency, config.faults
    );
    let report = run(config).await;
    println!("{report:#?}");
    if report.is_clean() {
        println!("soak: clean");
        std::process::ExitCode::SUCCESS
    } else {
        println!("soak: INVARIANT BROKEN");
        std::process::ExitCode::FAILURE
    }
}
