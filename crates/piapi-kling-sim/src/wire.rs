//! JSON bodies exactly as PiAPI writes them. The models write every nullable
//! field (`works: null`, `error.detail: null`, the error envelope's
//! `data: null`), so the bodies are the models' own serialization; they are
//! built as JSON values so that faults can rewrite them (unknown enum values,
//! extra fields).

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use piapi_kling_models::{ErrorResponse, TaskData, TaskResponse};
use serde::Serialize;
use serde_json::{Map, Value};

/// The envelope of createTask and getTask.
pub(crate) fn task_response(data: TaskData) -> Value {
    to_value(&TaskResponse::new(200, data, "success"))
}

/// `{"code": <status>, "message": ..., "data": null}`.
pub(crate) fn error_body(status: StatusCode, message: impl Into<String>) -> Value {
    to_value(&ErrorResponse::new(i64::from(status.as_u16()), message))
}

/// Any models type as a JSON value.
pub(crate) fn to_value<T: Serialize>(body: &T) -> Value {
    // The models' Serialize impls are derived over strings, numbers, maps and
    // vectors with string keys; serializing them into a Value cannot fail.
    serde_json::to_value(body).unwrap_or_else(|_| Value::Object(Map::new()))
}

/// A JSON response with an exact Content-Length.
pub(crate) fn json(status: StatusCode, body: &Value) -> Response {
    json_bytes(status, serde_json::to_vec(body).unwrap_or_default())
}

pub(crate) fn json_bytes(status: StatusCode, bytes: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use piapi_kling_models::{Model, TaskError, TaskMeta, TaskOutput, TaskStatus, TaskType};
    use serde_json::json;

    #[test]
    fn error_bodies_carry_data_null() {
        let body = error_body(StatusCode::UNAUTHORIZED, "Unauthorized");
        assert_eq!(
            body,
            json!({"code": 401, "message": "Unauthorized", "data": null})
        );
    }

    #[test]
    fn task_bodies_spell_out_nulls() {
        let mut data = TaskData::new(
            "id",
            Model::Kling,
            TaskType::Sound,
            TaskStatus::Pending,
            Map::new(),
            TaskMeta::default(),
            TaskError::new(0, ""),
        );
        data.output = Some(TaskOutput::default().with_status(0));
        let value = task_response(data);
        assert_eq!(value["data"]["output"]["works"], Value::Null);
        assert!(
            value["data"]["output"]
                .as_object()
                .unwrap()
                .contains_key("works")
        );
        assert!(
            value["data"]["error"]
                .as_object()
                .unwrap()
                .contains_key("detail")
        );
        assert!(value["data"].as_object().unwrap().contains_key("detail"));
        assert_eq!(value["message"], "success");
    }
}
