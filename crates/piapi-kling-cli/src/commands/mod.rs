//! The subcommands: one module each (the seven creates share one), all
//! run with a [`Ctx`] holding the global options.

mod account;
mod completions;
mod create;
mod demo;
mod follow;
mod sim;
mod task;
mod upload;
mod webhook;

use piapi_kling::{Client, WaitPolicy};

use crate::cli::{Cli, Command, GlobalArgs};
use crate::download::Downloader;
use crate::exit::CliError;
use crate::output::Output;

pub use follow::follow;

/// What every command gets: the output mode and the global options.
#[derive(Debug)]
pub struct Ctx {
    /// How to print.
    pub out: Output,
    /// The global options.
    pub global: GlobalArgs,
}

impl Ctx {
    /// A client from the environment and the global options.
    pub fn client(&self) -> Result<Client, CliError> {
        self.client_with(None)
    }

    /// [`client`](Self::client), with a webhook receiver attached when given.
    pub fn client_with(
        &self,
        webhooks: Option<piapi_kling::webhook::WebhookReceiver>,
    ) -> Result<Client, CliError> {
        let mut builder = piapi_kling::ClientBuilder::from_env().wait_policy(self.wait_policy());
        if let Some(receiver) = webhooks {
            builder = builder.webhook_receiver(receiver);
        }
        if let Some(url) = &self.global.base_url {
            builder = builder.base_url(url);
        }
        if let Some(url) = &self.global.upload_base_url {
            builder = builder.upload_base_url(url);
        }
        let client = builder
            .allow_insecure_http(self.global.allow_insecure_http)
            .build()?;
        if self.global.allow_insecure_http {
            let mut warned = Vec::new();
            for url in [client.base_url(), client.upload_base_url()] {
                let origin = url.origin().ascii_serialization();
                if url.scheme() == "http" && !warned.contains(&origin) {
                    // A warning even with --quiet: the key is exposed.
                    crate::output::err_line(&format!(
                        "warning: the API key is sent in clear text to {origin} (--allow-insecure-http)"
                    ));
                    warned.push(origin);
                }
            }
        }
        Ok(client)
    }

    /// A downloader with progress bars when the output shows them, capped
    /// by `--max-download-bytes`.
    pub fn downloader(&self) -> Result<Downloader, CliError> {
        Downloader::new(self.out.show_progress(), self.global.max_download_bytes)
    }

    /// The SDK's schedule, or a fixed interval, with `--timeout` as the
    /// deadline.
    pub fn wait_policy(&self) -> WaitPolicy {
        let policy = match self.global.poll_interval {
            Some(interval) => WaitPolicy::fixed(interval),
            None => WaitPolicy::default(),
        };
        match self.global.timeout {
            Some(deadline) => policy.with_deadline(deadline),
            None => policy,
        }
    }
}

/// Runs the command `cli` names.
pub async fn run(cli: Cli, out: Output) -> Result<(), CliError> {
    let ctx = Ctx {
        out,
        global: cli.global,
    };
    match cli.command {
        Command::Video(args) => create::video(&ctx, args).await,
        Command::ImageToVideo(args) => create::image_to_video(&ctx, args).await,
        Command::Extend(args) => create::extend(&ctx, args).await,
        Command::LipSync(args) => create::lip_sync(&ctx, args).await,
        Command::Effect(args) => create::effect(&ctx, args).await,
        Command::TryOn(args) => create::try_on(&ctx, args).await,
        Command::Sound(args) => create::sound(&ctx, args).await,
        Command::Omni(args) => create::omni(&ctx, args).await,
        Command::Motion(args) => create::motion(&ctx, args).await,
        Command::Avatar(args) => create::avatar(&ctx, args).await,
        Command::Turbo(args) => create::turbo(&ctx, args).await,
        Command::Create(args) => create::create(&ctx, args.create).await,
        Command::Get(args) => task::get(&ctx, args).await,
        Command::Cancel(args) => task::cancel(&ctx, args).await,
        Command::CancelAll(args) => task::cancel_all(&ctx, args).await,
        Command::Wait(args) => task::wait(&ctx, args).await,
        Command::Upload(args) => upload::run(&ctx, args).await,
        Command::Account => account::run(&ctx).await,
        Command::Batch(args) => crate::batch::run(&ctx, args).await,
        Command::Webhook(args) => webhook::run(&ctx, args).await,
        Command::Sim(args) => sim::run(&ctx, args).await,
        Command::Demo(args) => demo::run(&ctx, args).await,
        Command::Completions(args) => {
            completions::run(args);
            Ok(())
        }
    }
}
