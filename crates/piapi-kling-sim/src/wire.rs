//! JSON bodies exactly as PiAPI writes them. The models crate's types skip
//! null optional fields when serializing (right for requests), but PiAPI's
//! responses spell out `works: null`, `error.detail: null` and the error
//! envelope's `data: null`; those are put back here.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use piapi_kling_models::{ErrorResponse, TaskData, TaskResponse};
use serde::Serialize;
use serde_json::{Map, Value};

/// `TaskData` as a JSON value with PiAPI's explicit nulls.
pub(crate) fn task_data_value(data: TaskData) -> Value {
    let mut value = to_value(&data);
    complete_task_data(&mut value);
    value
}

fn complete_task_data(value: &mut Value) {
    if let Some(error) = value.get_mut("error").and_then(Value::as_object_mut) {
        error.entry("detail").or_insert(Value::Null);
    }
    if let Some(output) = value.get_mut("output").and_then(Value::as_object_mut) {
        output.entry("works").or_insert(Value::Null);
    }
}

/// The envelope of createTask and getTask.
pub(crate) fn task_response(data: TaskData) -> Value {
    let mut value = to_value(&TaskResponse::new(200, data, "success"));
    if let Some(data) = value.get_mut("data") {
        complete_task_data(data);
    }
    value
}

/// `{"code": <status>, "message": ..., "data": null}`.
pub(crate) fn error_body(status: StatusCode, message: impl Into<String>) -> Value {
    let mut value = to_value(&ErrorResponse::new(i64::from(status.as_u16()), message));
    if let Some(object) = value.as_object_mut() {
        object.entry("data").or_insert(Value::Null);
    }
    value
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
        data.output = Some(TaskOutput {
            status: Some(0),
            ..TaskOutput::default()
        });
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
