//! The task operations: create, get, cancel one, cancel many.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use piapi_kling_models::{
    CancelModel, CancelTaskResponse, CancelTasksData, CancelTasksResponse, TaskData, Validate,
};
use uuid::Uuid;

use crate::error::ApiError;
use crate::lifecycle;
use crate::reqlog::LoggedTaskId;
use crate::request::{self, CreateParts};
use crate::scenarios::{SCENARIO_HEADER, Scenario};
use crate::state::{AppState, CancelError};
use crate::wire;

/// The latest `created_before` taken literally (year 9999); later values
/// mean "every task" without overflowing the clock.
const MAX_UNIX_SECS: i64 = 253_402_300_799;

pub(super) async fn create(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body.map_err(|e| ApiError::bad_request(format!("(body): {e}")))?;
    let mut scenario = match headers.get(SCENARIO_HEADER) {
        Some(value) => Scenario::from_header(
            value
                .to_str()
                .map_err(|_| format!("{SCENARIO_HEADER}: must be ASCII"))?,
        )?,
        None => Scenario::default(),
    };
    // `null` in an optional field means "not set", as PiAPI's pages say.
    let request = request::decode_create(
        request::parse_json(&body)?,
        state.settings.accept_unknown_task_types,
    )?;
    request.validate().map_err(|v| v.to_string())?;
    request::check_media(&request)?;
    let now = Instant::now();
    let origin = match request.origin_task_id() {
        Some(id) => Some(state.origin(id, now)?),
        None => None,
    };
    // Serialized once: markers, simulation, price and the stored echo read it.
    let input = serde_json::Value::Object(request.input_map());
    if let serde_json::Value::Object(fields) = &input {
        scenario.add_markers(fields);
    }
    let plan = lifecycle::plan(
        &request,
        &input,
        origin.as_ref(),
        &scenario,
        state.settings.speed,
    );
    let data = state.create(plan, &input, request.config(), now)?;
    tracing::info!(task_id = %data.task_id, task_type = %data.task_type, status = %data.status, "task created");
    Ok(task_answer(data))
}

pub(super) async fn get(
    State(state): State<Arc<AppState>>,
    task_id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let id = task_uuid(task_id)?;
    let data = state
        .task(&id, Instant::now())
        .ok_or_else(ApiError::task_not_found)?;
    Ok(task_answer(data))
}

pub(super) async fn cancel(
    State(state): State<Arc<AppState>>,
    task_id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let id = task_uuid(task_id)?;
    match state.cancel(&id, Instant::now()) {
        Ok(()) => {
            tracing::info!(task_id = %id, "task canceled");
            let body = CancelTaskResponse::new(200, format!("task {id} canceled"));
            Ok(wire::json(StatusCode::OK, &wire::to_value(&body)))
        }
        Err(CancelError::NotFound) => Err(ApiError::task_not_found()),
        Err(CancelError::NotPending) => Err(ApiError::bad_request(
            "task is not pending, can not be canceled",
        )),
    }
}

pub(super) async fn cancel_many(
    State(state): State<Arc<AppState>>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = query.map_err(|e| ApiError::bad_request(format!("(query): {e}")))?;
    let mut problems = Vec::new();
    let created_before = match params.get("created_before").map(|v| v.trim()) {
        None => {
            problems.push("created_before: is required (required)".to_owned());
            None
        }
        Some(raw) => match raw.parse::<i64>() {
            Ok(secs) if secs >= 0 => Some(secs.min(MAX_UNIX_SECS)),
            Ok(secs) => {
                problems.push(format!(
                    "created_before: must be at least 0, got {secs} (minimum)"
                ));
                None
            }
            Err(_) => {
                problems.push(format!(
                    "created_before: must be an integer (unix seconds), got `{raw}` (type)"
                ));
                None
            }
        },
    };
    let model = match params.get("model") {
        None => {
            problems.push("model: is required (required)".to_owned());
            None
        }
        Some(raw) => {
            let model = CancelModel::from(raw.as_str());
            if !model.is_known() {
                let allowed: Vec<String> = CancelModel::VALUES
                    .iter()
                    .map(|v| format!("`{v}`"))
                    .collect();
                problems.push(format!(
                    "model: `{raw}` is not one of {} (enum)",
                    allowed.join(", ")
                ));
            }
            Some(model)
        }
    };
    let (Some(secs), Some(model), true) = (created_before, model, problems.is_empty()) else {
        return Err(ApiError::bad_request(problems.join("; ")));
    };
    // Every task here is a Kling task: other models' cancels stop nothing.
    let task_ids = match model {
        CancelModel::Kling | CancelModel::All => {
            let before = UNIX_EPOCH + Duration::from_secs(secs as u64);
            state.cancel_created_before(before, Instant::now())
        }
        _ => Vec::new(),
    };
    tracing::info!(count = task_ids.len(), "tasks canceled in batch");
    let body = CancelTasksResponse::default()
        .with_code(200)
        .with_data(CancelTasksData::default().with_task_ids(task_ids))
        .with_message("success");
    Ok(wire::json(StatusCode::OK, &wire::to_value(&body)))
}

/// An id that is not a UUID names no task: 404, like an unknown one.
fn task_uuid(task_id: Result<Path<String>, PathRejection>) -> Result<Uuid, ApiError> {
    let Path(raw) = task_id.map_err(|_| ApiError::task_not_found())?;
    Uuid::parse_str(&raw).map_err(|_| ApiError::task_not_found())
}

fn task_answer(data: TaskData) -> Response {
    let id = data.task_id.clone();
    let mut response = wire::json(StatusCode::OK, &wire::task_response(data));
    response.extensions_mut().insert(LoggedTaskId(id));
    response
}
