//! `GET /account/info`: the balance falls as tasks complete.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use piapi_kling_models::{
    AccountInfo, AccountInfoResponse, ActiveTasks, ActiveTasksResponse, CreditPackInfo,
    ProviderActiveTasks,
};

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

/// `GET /account/active_tasks`: the unfinished tasks per provider (the
/// simulator runs Kling only).
pub(super) async fn active_tasks(State(state): State<Arc<AppState>>) -> Response {
    let [staged, pending, processing] = state.active_counts(Instant::now());
    let kling = ProviderActiveTasks::default()
        .with_staged_count(staged)
        .with_pending_count(pending)
        .with_processing_count(processing)
        .with_active_tasks(staged + pending + processing);
    let data = ActiveTasks::default().with_extra("kling", wire::to_value(&kling));
    let body = ActiveTasksResponse::new(200, data).with_message("success");
    wire::json(StatusCode::OK, &wire::to_value(&body))
}
