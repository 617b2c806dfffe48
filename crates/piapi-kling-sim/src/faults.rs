//! Fault injection: per server ([`Faults`], random at given rates, seeded) or
//! per request (the `x-sim-fault` header, exact).
//!
//! Faults come in two kinds. Those decided *before* the operation (dropped
//! connection, 429, 5xx) never run it. Those applied *after* it (truncated or
//! malformed body, unknown enum values, extra fields) change the answer of an
//! operation that did run, which is the ambiguous case a client must handle:
//! a create whose answer it could not read may still have created the task.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use http_body::Frame;
use parking_lot::{Mutex, RwLock};
use serde_json::{Value, json};

use crate::rng::SplitMix64;

/// The request header that injects faults into one request.
pub(crate) const FAULT_HEADER: &str = "x-sim-fault";

/// Faults the simulator injects into API answers at random, at the given
/// rates (each a probability from 0 to 1), reproducibly from `seed`.
///
/// They apply to the API operations (`/api/...` and `/account/...`), not to
/// the media and file downloads. A request carrying an `x-sim-fault` header
/// gets exactly the faults it names instead. `Faults::default()` injects
/// nothing.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// Answer 500 or 503 (half each) without running the operation.
    pub server_error_rate: f64,
    /// Answer 429 with `Retry-After` without running the operation.
    pub too_many_requests_rate: f64,
    /// The `Retry-After` seconds of a 429; 0 means 1.
    pub retry_after_secs: u64,
    /// Close the connection without answering, without running the operation.
    pub drop_connection_rate: f64,
    /// Run the operation, then close the connection without answering: a
    /// create that *did* make its task, whose answer is lost.
    pub dropped_answer_rate: f64,
    /// Added latency, uniform in `[min, max]`, before every answer.
    pub latency: Option<(Duration, Duration)>,
    /// Run the operation, then send only half the body although
    /// `Content-Length` announces all of it, and close the connection.
    pub truncated_body_rate: f64,
    /// Run the operation, then answer with invalid JSON (same status).
    pub malformed_body_rate: f64,
    /// Run the operation, then answer `status: "queued"` and
    /// `task_type: "future_type"` in task bodies.
    pub unknown_enum_rate: f64,
    /// Run the operation, then add fields the spec does not know to every
    /// object of the body, nested ones included.
    pub extra_fields_rate: f64,
    /// Run the operation, then answer a task body in a shape newer than the
    /// spec: `task_type: "kling_hologram"` (a type no spec lists) and the results moved to
    /// `output.video` (Kling 3.0 / omni), the other output fields dropped.
    pub new_shape_rate: f64,
    /// Seed of the random draws; the same seed and request sequence give
    /// the same faults.
    pub seed: u64,
    /// Restrict the random faults to these HTTP methods (e.g. `["POST"]`);
    /// `None` means every method.
    pub methods: Option<Vec<String>>,
}

impl Faults {
    fn is_inert(&self) -> bool {
        self.server_error_rate <= 0.0
            && self.too_many_requests_rate <= 0.0
            && self.drop_connection_rate <= 0.0
            && self.dropped_answer_rate <= 0.0
            && self.latency.is_none()
            && self.truncated_body_rate <= 0.0
            && self.malformed_body_rate <= 0.0
            && self.unknown_enum_rate <= 0.0
            && self.extra_fields_rate <= 0.0
            && self.new_shape_rate <= 0.0
    }

    fn applies_to(&self, method: &Method) -> bool {
        self.methods.as_ref().is_none_or(|methods| {
            methods
                .iter()
                .any(|m| m.eq_ignore_ascii_case(method.as_str()))
        })
    }

    fn retry_after(&self) -> u64 {
        self.retry_after_secs.max(1)
    }
}

/// A fault that answers instead of the operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Before {
    Drop,
    TooManyRequests { retry_after: u64 },
    ServerError(StatusCode),
}

/// The faults chosen for one request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct FaultPlan {
    pub delay: Option<Duration>,
    pub before: Option<Before>,
    /// Run the operation, then drop the connection without an answer.
    pub drop_after: bool,
    pub truncate: bool,
    pub malformed: bool,
    pub unknown_enum: bool,
    pub extra_fields: bool,
    pub new_shape: bool,
}

const HEADER_VALUES: &str = "500, 502, 503, 504, 429, drop, drop-after, truncate, malformed, unknown-enum, extra-fields, new-shape, delay=<ms>";

impl FaultPlan {
    /// Parses `x-sim-fault`; an unknown token is an error so that a typo in a
    /// test does not silently test the happy path.
    pub(crate) fn from_header(value: &str, retry_after: u64) -> Result<FaultPlan, String> {
        let mut plan = FaultPlan::default();
        for token in value.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            match token {
                "drop" => plan.before = Some(Before::Drop),
                "drop-after" => plan.drop_after = true,
                "429" => plan.before = Some(Before::TooManyRequests { retry_after }),
                "500" | "502" | "503" | "504" => {
                    let code = token
                        .parse::<u16>()
                        .ok()
                        .and_then(|c| StatusCode::from_u16(c).ok());
                    plan.before = code.map(Before::ServerError);
                }
                "truncate" => plan.truncate = true,
                "malformed" => plan.malformed = true,
                "unknown-enum" => plan.unknown_enum = true,
                "extra-fields" => plan.extra_fields = true,
                "new-shape" => plan.new_shape = true,
                _ => match token.strip_prefix("delay=").map(str::parse::<u64>) {
                    Some(Ok(ms)) => plan.delay = Some(Duration::from_millis(ms)),
                    _ => {
                        return Err(format!(
                            "{FAULT_HEADER}: unknown fault `{token}`, expected one of {HEADER_VALUES}"
                        ));
                    }
                },
            }
        }
        Ok(plan)
    }

    fn changes_body(&self) -> bool {
        self.truncate || self.malformed || self.unknown_enum || self.extra_fields || self.new_shape
    }
}

/// The server's current [`Faults`] and the seeded generator that draws them.
pub(crate) struct FaultInjector {
    current: RwLock<Arc<Faults>>,
    rng: Mutex<SplitMix64>,
}

impl FaultInjector {
    pub(crate) fn new(faults: Faults) -> Self {
        FaultInjector {
            rng: Mutex::new(SplitMix64::new(faults.seed)),
            current: RwLock::new(Arc::new(faults)),
        }
    }

    /// Replaces the faults and restarts the generator from their seed.
    pub(crate) fn set(&self, faults: Faults) {
        let mut rng = self.rng.lock();
        *rng = SplitMix64::new(faults.seed);
        *self.current.write() = Arc::new(faults);
    }

    /// Chooses the faults of one request.
    pub(crate) fn plan(
        &self,
        method: &Method,
        header: Option<&HeaderValue>,
    ) -> Result<FaultPlan, String> {
        let faults = self.current.read().clone();
        if let Some(value) = header {
            let value = value
                .to_str()
                .map_err(|_| format!("{FAULT_HEADER}: must be ASCII"))?;
            return FaultPlan::from_header(value, faults.retry_after());
        }
        if faults.is_inert() || !faults.applies_to(method) {
            return Ok(FaultPlan::default());
        }
        // Always the same number of draws per request, so one request's
        // outcome never shifts the draws of the next.
        let (draws, drop_after, new_shape): ([f64; 9], f64, f64) = {
            let mut rng = self.rng.lock();
            let draws = std::array::from_fn(|_| rng.next_f64());
            // Drawn only when asked for, so that the other faults' sequences
            // (and the figures measured with them) stay as they were.
            let drop_after = if faults.dropped_answer_rate > 0.0 {
                rng.next_f64()
            } else {
                1.0
            };
            let new_shape = if faults.new_shape_rate > 0.0 {
                rng.next_f64()
            } else {
                1.0
            };
            (draws, drop_after, new_shape)
        };
        let hit = |draw: f64, rate: f64| draw < rate;
        let before = if hit(draws[1], faults.drop_connection_rate) {
            Some(Before::Drop)
        } else if hit(draws[2], faults.too_many_requests_rate) {
            Some(Before::TooManyRequests {
                retry_after: faults.retry_after(),
            })
        } else if hit(draws[3], faults.server_error_rate) {
            let code = if draws[4] < 0.5 {
                StatusCode::INTERNAL_SERVER_ERROR
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            Some(Before::ServerError(code))
        } else {
            None
        };
        Ok(FaultPlan {
            delay: faults.latency.map(|(lo, hi)| {
                let hi = hi.max(lo);
                lo + (hi - lo).mul_f64(draws[0])
            }),
            before,
            drop_after: before.is_none() && hit(drop_after, faults.dropped_answer_rate),
            truncate: hit(draws[5], faults.truncated_body_rate),
            malformed: hit(draws[6], faults.malformed_body_rate),
            unknown_enum: hit(draws[7], faults.unknown_enum_rate),
            extra_fields: hit(draws[8], faults.extra_fields_rate),
            new_shape: hit(new_shape, faults.new_shape_rate),
        })
    }
}

/// Applies the after-the-operation faults of `plan` to `response`.
pub(crate) async fn apply_after(plan: &FaultPlan, response: Response) -> Response {
    if !plan.changes_body() {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let mut bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .map(|b| b.to_vec())
        .unwrap_or_default();
    if (plan.unknown_enum || plan.extra_fields || plan.new_shape)
        && let Ok(mut value) = serde_json::from_slice::<Value>(&bytes)
    {
        if plan.new_shape {
            inject_new_shape(&mut value);
        }
        if plan.unknown_enum {
            inject_unknown_enums(&mut value);
        }
        if plan.extra_fields {
            inject_extra_fields(&mut value);
        }
        bytes = serde_json::to_vec(&value).unwrap_or(bytes);
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    let body = if plan.truncate {
        let full = bytes.len();
        bytes.truncate(full / 2);
        parts
            .headers
            .insert(header::CONTENT_LENGTH, HeaderValue::from(full));
        Body::new(Truncated {
            head: Some(Bytes::from(bytes)),
            pause: None,
        })
    } else if plan.malformed {
        bytes.truncate(bytes.len() / 2);
        bytes.extend_from_slice(b"<html>502 Bad Gateway</html>");
        Body::from(bytes)
    } else {
        Body::from(bytes)
    };
    Response::from_parts(parts, body)
}

/// Values no version of the spec lists, in the enum fields of a task body.
fn inject_unknown_enums(value: &mut Value) {
    if let Some(data) = value.get_mut("data").and_then(Value::as_object_mut) {
        if data.contains_key("status") {
            data.insert("status".into(), json!("queued"));
        }
        if data.contains_key("task_type") {
            data.insert("task_type".into(), json!("future_type"));
        }
    }
}

/// The body of a newer API generation: the task's media URL moved to
/// `output.video` (as Kling 3.0 and omni answer), under a task type the spec
/// does not list.
fn inject_new_shape(value: &mut Value) {
    let Some(data) = value.get_mut("data").and_then(Value::as_object_mut) else {
        return;
    };
    if data.contains_key("task_type") {
        data.insert("task_type".into(), json!("kling_hologram"));
    }
    if let Some(output) = data.get_mut("output").filter(|o| o.is_object()) {
        let video = output
            .pointer("/works/0/video/resource_without_watermark")
            .or_else(|| output.pointer("/works/0/image/resource_without_watermark"))
            .or_else(|| output.pointer("/works/0/audio/resource_without_watermark"))
            .or_else(|| output.get("video_url"))
            .cloned()
            .unwrap_or_else(|| json!(""));
        *output = json!({ "video": video });
    }
}

/// Fields the spec does not know: a `sim_extra` object in every object of
/// the body (nested ones and array items too, but not inside the free-form
/// `input` echo), and a plain field in `data`.
fn inject_extra_fields(value: &mut Value) {
    fn every_object(value: &mut Value, extra: &Value) {
        match value {
            Value::Object(map) => {
                for (key, inner) in map.iter_mut() {
                    if key != "input" {
                        every_object(inner, extra);
                    }
                }
                map.insert("sim_extra".into(), extra.clone());
            }
            Value::Array(items) => items.iter_mut().for_each(|v| every_object(v, extra)),
            _ => {}
        }
    }
    let extra = json!({"injected_by": "piapi-kling-sim", "version": 2});
    every_object(value, &extra);
    if let Some(data) = value.get_mut("data").and_then(Value::as_object_mut) {
        data.insert("sim_extra_field".into(), json!("extra"));
    }
}

/// A body that sends its head, waits a moment (so the head is flushed to the
/// socket), then fails, which makes hyper close the connection short of the
/// announced `Content-Length`.
struct Truncated {
    head: Option<Bytes>,
    pause: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl http_body::Body for Truncated {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        if let Some(head) = self.head.take() {
            self.pause = Some(Box::pin(tokio::time::sleep(Duration::from_millis(20))));
            return Poll::Ready(Some(Ok(Frame::data(head))));
        }
        if let Some(pause) = self.pause.as_mut() {
            std::task::ready!(pause.as_mut().poll(cx));
        }
        Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "simulated truncated body",
        ))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_tokens_are_parsed() {
        let plan = FaultPlan::from_header("truncate, delay=25,unknown-enum", 3).unwrap();
        assert_eq!(plan.delay, Some(Duration::from_millis(25)));
        assert!(plan.truncate && plan.unknown_enum && !plan.malformed);
        assert_eq!(
            FaultPlan::from_header("429", 3).unwrap().before,
            Some(Before::TooManyRequests { retry_after: 3 })
        );
        assert_eq!(
            FaultPlan::from_header("503", 1).unwrap().before,
            Some(Before::ServerError(StatusCode::SERVICE_UNAVAILABLE))
        );
        assert!(FaultPlan::from_header("delay=x", 1).is_err());
        assert!(
            FaultPlan::from_header("418", 1)
                .unwrap_err()
                .contains("`418`")
        );
    }

    #[test]
    fn random_plans_are_reproducible_and_follow_rates() {
        let faults = Faults {
            server_error_rate: 0.3,
            seed: 9,
            ..Faults::default()
        };
        let run = || {
            let injector = FaultInjector::new(faults.clone());
            (0..200)
                .map(|_| injector.plan(&Method::GET, None).unwrap().before.is_some())
                .collect::<Vec<_>>()
        };
        let first = run();
        assert_eq!(first, run());
        let hits = first.iter().filter(|h| **h).count();
        assert!((30..90).contains(&hits), "{hits}");
    }

    #[test]
    fn method_filter_and_inert_faults_inject_nothing() {
        let injector = FaultInjector::new(Faults {
            server_error_rate: 1.0,
            methods: Some(vec!["post".into()]),
            ..Faults::default()
        });
        assert_eq!(
            injector.plan(&Method::GET, None).unwrap(),
            FaultPlan::default()
        );
        assert!(injector.plan(&Method::POST, None).unwrap().before.is_some());
        injector.set(Faults::default());
        assert_eq!(
            injector.plan(&Method::POST, None).unwrap(),
            FaultPlan::default()
        );
    }

    #[test]
    fn body_rewrites_touch_enums_and_add_fields() {
        let mut v = json!({"code": 200, "data": {"status": "pending", "task_type": "sound",
                                                   "meta": {}, "output": null}});
        inject_unknown_enums(&mut v);
        inject_extra_fields(&mut v);
        assert_eq!(v["data"]["status"], "queued");
        assert_eq!(v["data"]["task_type"], "future_type");
        assert_eq!(v["data"]["meta"]["sim_extra"]["version"], 2);
        assert!(v["sim_extra"].is_object() && v["data"]["sim_extra_field"] == "extra");
    }

    #[test]
    fn extra_fields_reach_nested_objects_and_new_shapes_move_the_video() {
        let mut v = json!({"data": {"task_type": "video_generation", "input": {"prompt": "p"},
            "output": {"video_url": "http://h/v.mp4", "works": [{"video": {"resource": "http://h/w.mp4",
            "resource_without_watermark": "http://h/v.mp4"}}]}}});
        let mut nested = v.clone();
        inject_extra_fields(&mut nested);
        assert!(nested["data"]["output"]["works"][0]["video"]["sim_extra"].is_object());
        assert!(nested["data"]["input"].get("sim_extra").is_none());
        inject_new_shape(&mut v);
        assert_eq!(v["data"]["task_type"], "kling_hologram");
        assert_eq!(v["data"]["output"], json!({"video": "http://h/v.mp4"}));
    }
}
