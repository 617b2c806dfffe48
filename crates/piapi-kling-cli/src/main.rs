//! `kling`: the command line of the piapi-kling SDK for PiAPI's Kling video
//! API. Every subcommand maps onto the SDK; see the crate README for a tour,
//! the exit codes and the batch journal.
#![deny(missing_docs)]

mod batch;
mod cli;
mod commands;
mod download;
mod exit;
mod output;
mod progress;
mod spec_flags;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use crate::cli::Cli;
use crate::output::Output;

fn main() -> ExitCode {
    // clap exits by itself: 0 for --help/--version, 2 for usage errors.
    let cli = Cli::parse();
    if cli.global.verbose {
        init_logging();
    }
    let out = Output::new(cli.global.json, cli.global.quiet);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            out.error(&exit::CliError::Local(format!(
                "cannot start the async runtime: {e}"
            )));
            return ExitCode::from(exit::Exit::Local.code());
        }
    };
    match runtime.block_on(commands::run(cli, out)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            out.error(&error);
            ExitCode::from(error.exit().code())
        }
    }
}

/// Logs to stderr: the SDK and this CLI at debug, refined by RUST_LOG.
fn init_logging() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,piapi_kling=debug,kling=debug"));
    // The HTTP stack's own trace output is never wanted here: at trace level
    // it can dump raw request headers, and one of them is the API key.
    let filter = ["hyper=info", "hyper_util=info", "reqwest=info", "h2=info"]
        .iter()
        .filter_map(|d| d.parse().ok())
        .fold(filter, |f, d| f.add_directive(d));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}
