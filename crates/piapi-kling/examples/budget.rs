//! A spending cap: estimate before paying, refuse what would go over it.
//!
//! `cargo run -p piapi-kling --example budget` runs against an in-process
//! simulator; with `PIAPI_API_KEY` set it runs against PiAPI (and spends at
//! most the budget).

mod common;

use piapi_kling::{ClientBuilder, Effect, Error, Usd};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (plain, sim) = common::client().await?;
    // The same client with a $0.60 budget.
    let client = match &sim {
        Some(sim) => ClientBuilder::new()
            .api_key(sim.api_key())
            .base_url(sim.base_url()),
        None => ClientBuilder::from_env(),
    }
    .wait_policy(plain.wait_policy().clone())
    .budget(Usd::from_dollars(0.60))
    .build()?;

    let squish = || client.effect("https://example.com/cat.png", Effect::Squish);
    println!("one squish costs {}", squish().estimate_cost());
    let first = squish().send().await?;
    let second = squish().send().await?;
    match squish().send().await {
        // $0.52 reserved: a third $0.26 would make $0.78.
        Err(refused @ Error::OverBudget { .. }) => println!("third squish: {refused}"),
        other => return Err(format!("expected a refusal, got {other:?}").into()),
    }
    for handle in [first, second] {
        let done = handle.wait().await?;
        let charged = done
            .charged()
            .map_or_else(|| "unknown".into(), |c| c.to_string());
        println!("{} charged {charged}", done.id());
    }
    let spending = client.spending().expect("a budget is set");
    println!(
        "spent {} of {}, {} reserved, {} left",
        spending.spent,
        spending.budget,
        spending.reserved,
        spending.remaining()
    );
    Ok(())
}
