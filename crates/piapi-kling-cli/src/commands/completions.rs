//! `kling completions SHELL`: a completion script on stdout.

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};

/// Prints the completion script of `args.shell`.
pub fn run(args: CompletionsArgs) {
    clap_complete::generate(
        args.shell,
        &mut Cli::command(),
        "kling",
        &mut std::io::stdout(),
    );
}
