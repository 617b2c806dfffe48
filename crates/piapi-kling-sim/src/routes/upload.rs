//! `POST /api/ephemeral_resource` and the download of what was stored.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use piapi_kling_models::{UploadData, UploadRequest, UploadResponse, Validate};
use uuid::Uuid;

use super::media::file_response;
use crate::error::ApiError;
use crate::files::{self, encode_segment};
use crate::request;
use crate::state::AppState;
use crate::wire;

pub(super) async fn upload(
    State(state): State<Arc<AppState>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    // The only body too large to buffer is a file far over 10 MB.
    let body = body.map_err(|e| {
        ApiError::bad_request(format!(
            "file_data: the request body was refused ({e}); files are at most {} bytes (maxSize)",
            files::MAX_FILE_BYTES
        ))
    })?;
    let request: UploadRequest = request::decode_strict(
        request::parse_json(&body)?,
        request::decode::<UploadRequest>,
    )?;
    request.validate().map_err(|v| v.to_string())?;
    let bytes = files::decode_file_data(&request.file_name, &request.file_data)?;
    let size = bytes.len();
    let id = state.files.store(&request.file_name, bytes);
    tracing::info!(file_id = %id, size, "file uploaded");
    let url = format!(
        "{}/files/{id}/{}",
        state.settings.base_url,
        encode_segment(&request.file_name)
    );
    let body = UploadResponse::new(200, UploadData::new(url), "success");
    Ok(wire::json(StatusCode::OK, &wire::to_value(&body)))
}

pub(super) async fn download(
    State(state): State<Arc<AppState>>,
    Path((file_id, file_name)): Path<(String, String)>,
) -> Response {
    let file = Uuid::parse_str(&file_id)
        .ok()
        .and_then(|id| state.files.get(&id))
        .filter(|file| file.name == file_name);
    match file {
        Some(file) => file_response(file.data, file.content_type),
        None => ApiError::new(StatusCode::NOT_FOUND, "file not found").into_response(),
    }
}
