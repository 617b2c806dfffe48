//! `kling sim`: the PiAPI simulator in the foreground, until Ctrl-C.

use serde_json::json;

use super::Ctx;
use crate::exit::CliError;
use piapi_kling_sim::cli::SimArgs;

/// Starts the simulator, says how to point the CLI at it, and serves until
/// Ctrl-C or SIGTERM.
pub async fn run(ctx: &Ctx, args: SimArgs) -> Result<(), CliError> {
    let sim = args.builder().start().await.map_err(|e| {
        let message = format!(
            "cannot start the simulator on {}:{}: {e}",
            args.host, args.port
        );
        if e.kind() == std::io::ErrorKind::InvalidInput {
            CliError::invalid(message)
        } else {
            CliError::Local(message)
        }
    })?;
    let base = sim.base_url();
    // The simulator's key is one the user chose (or the public default), not
    // a PiAPI key: printing it is how the user points the CLI at it.
    ctx.out.object(&json!({
        "base_url": base,
        "api_key": sim.api_key(),
        "speed": args.speed,
    }));
    ctx.out.line(format!(
        "simulator listening at {base} (speed x{})",
        args.speed
    ));
    ctx.out.line("point the CLI at it:");
    ctx.out.line(format!(
        "  export PIAPI_BASE_URL={base} PIAPI_API_KEY={}",
        sim.api_key()
    ));
    ctx.out.note("Ctrl-C stops it");
    shutdown_signal().await;
    ctx.out.note("stopping the simulator");
    sim.shutdown().await;
    Ok(())
}

/// Ctrl-C, or SIGTERM on unix.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
