//! `kling account`: the account and its balance.

use serde_json::json;

use super::Ctx;
use crate::exit::CliError;
use crate::output::dollars;

/// Prints the account id, name and remaining credit.
pub async fn run(ctx: &Ctx) -> Result<(), CliError> {
    let info = ctx.client()?.account_info().await?;
    ctx.out.object(&json!({ "account": info }));
    if let Some(id) = info.account_id_text() {
        ctx.out.line(format!("account {id}"));
    }
    if let Some(name) = info.display_name() {
        ctx.out.line(format!("name    {name}"));
    }
    if let Some(plan) = info.plan.as_deref().filter(|p| !p.is_empty()) {
        ctx.out.line(format!("plan    {plan}"));
    }
    let credit = match (info.credits, info.balance_usd()) {
        (Some(units), _) => Some(dollars(units)),
        (None, Some(usd)) => Some(format!("${usd:.2}")),
        (None, None) => None,
    };
    if let Some(credit) = credit {
        ctx.out.line(format!("credit  {credit}"));
    }
    Ok(())
}
