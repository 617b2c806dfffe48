//! `kling account`: the account and its balance.

use serde_json::json;

use super::Ctx;
use crate::exit::CliError;
use crate::output::dollars;

/// Prints the account id, name and remaining credit.
pub async fn run(ctx: &Ctx) -> Result<(), CliError> {
    let info = ctx.client()?.account_info().await?;
    ctx.out.object(&json!({ "account": info }));
    ctx.out.line(format!("account {}", info.account_id));
    if let Some(name) = &info.account_name {
        ctx.out.line(format!("name    {name}"));
    }
    let credit = match (info.credits, info.equivalent_in_usd) {
        (Some(units), _) => Some(dollars(units)),
        (None, Some(usd)) => Some(format!("${usd:.2}")),
        (None, None) => None,
    };
    if let Some(credit) = credit {
        ctx.out.line(format!("credit  {credit}"));
    }
    Ok(())
}
