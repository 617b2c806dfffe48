//! The HTTP surface: every operation of the spec behind the API key, plus the
//! public media and file downloads (real CDN URLs need no key either).

mod account;
mod media;
mod tasks;
mod upload;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};

use crate::error::ApiError;
use crate::state::AppState;

/// The API key header (HTTP header names are case-insensitive).
const API_KEY_HEADER: &str = "x-api-key";

/// Largest upload body: 10 MB of file as base64 (4/3) plus JSON around it.
const UPLOAD_BODY_LIMIT: usize = 16 * 1024 * 1024;

pub(crate) fn router(state: Arc<AppState>) -> Router {
    let api = Router::new()
        .route("/api/v1/task", post(tasks::create))
        .route(
            "/api/v1/task/{task_id}",
            get(tasks::get).delete(tasks::cancel),
        )
        .route("/api/v1/tasks", delete(tasks::cancel_many))
        .route(
            "/api/ephemeral_resource",
            post(upload::upload).layer(DefaultBodyLimit::max(UPLOAD_BODY_LIMIT)),
        )
        .route("/account/info", get(account::info))
        .route("/account/active_tasks", get(account::active_tasks))
        .route_layer(from_fn_with_state(state.clone(), auth));
    Router::new()
        .merge(api)
        .route("/media/{task_id}/{file}", get(media::serve))
        .route("/files/{file_id}/{file_name}", get(upload::download))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

async fn auth(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let key = request.headers().get(API_KEY_HEADER);
    if key.is_some_and(|k| k.as_bytes() == state.settings.api_key.as_bytes()) {
        next.run(request).await
    } else {
        ApiError::unauthorized().into_response()
    }
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not found")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method not allowed")
}
