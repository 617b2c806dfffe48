//! `piapi-kling-sim`: runs the simulator until Ctrl-C (or SIGTERM).
//!
//! ```text
//! piapi-kling-sim --port 8080 --api-key KEY --speed 50 [--concurrency-cap N] [--max-tasks N] [--host 127.0.0.1]
//! ```
//! Prints the base URL on stdout once it listens; logs go to stderr
//! (`RUST_LOG=debug` shows every request).

use clap::Parser;
use piapi_kling_sim::cli::SimArgs;
use tracing_subscriber::EnvFilter;

/// A local simulator of PiAPI's Kling task API.
#[derive(Debug, Parser)]
#[command(name = "piapi-kling-sim", version, about)]
struct Args {
    #[command(flatten)]
    sim: SimArgs,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let args = Args::parse();
    let simulator = args.sim.builder().start().await?;
    println!("{}", simulator.base_url());
    wait_for_signal().await;
    tracing::info!("shutting down");
    simulator.shutdown().await;
    Ok(())
}
async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
