//! `GET /account/info`: the balance falls as tasks complete.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use piapi_kling_models::{AccountInfo, AccountInfoResponse};

use crate::state::AppState;
use crate::wire;

/// Units of `credits` per US dollar (1 unit = 1e-7 USD).
const UNITS_PER_USD: f64 = 10_000_000.0;

pub(super) async fn info(State(state): State<Arc<AppState>>) -> Response {
    let credits = state.settings.initial_credits - state.consumed(Instant::now());
    let account = AccountInfo::new(state.settings.account_id.clone())
        .with_account_name("simulator")
        .with_credits(credits)
        .with_equivalent_in_usd(credits as f64 / UNITS_PER_USD);
    let body = AccountInfoResponse::new(200, account, "success");
    wire::json(StatusCode::OK, &wire::to_value(&body))
}
