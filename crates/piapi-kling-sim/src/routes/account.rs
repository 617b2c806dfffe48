//! `GET /account/info`: the balance falls as tasks complete.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use piapi_kling_models::{AccountInfo, AccountInfoResponse, CreditPackInfo};

use crate::state::AppState;
use crate::wire;

/// Units of `credits` per US dollar (1 unit = 1e-7 USD).
const UNITS_PER_USD: f64 = 10_000_000.0;

pub(super) async fn info(State(state): State<Arc<AppState>>) -> Response {
    let credits = state.settings.initial_credits - state.consumed(Instant::now());
    let spent = state.settings.initial_credits - credits;
    // Both shapes PiAPI's clients read: the older flat fields and the newer
    // credit-pack object (credits in 1e-7 USD, as `meta.usage`).
    let account = AccountInfo::default()
        .with_account_id(state.settings.account_id.clone())
        .with_account_name("simulator")
        .with_name("simulator")
        .with_plan("payg")
        .with_is_enable(true)
        .with_credits(credits)
        .with_credit_pack_info(
            CreditPackInfo::default()
                .with_available_credits(credits as f64)
                .with_used_credits(spent as f64)
                .with_total_credits(state.settings.initial_credits as f64),
        )
        .with_equivalent_in_usd(credits as f64 / UNITS_PER_USD);
    let body = AccountInfoResponse::new(200, account, "success");
    wire::json(StatusCode::OK, &wire::to_value(&body))
}
