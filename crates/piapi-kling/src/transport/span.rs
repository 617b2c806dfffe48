//! The tracing span of one API request.

use super::op::Op;

/// The span of one API request: operation, task id, and (recorded when known)
/// status, latency and attempts. Never a header or a body.
pub(crate) fn request_span(op: Op, task_id: Option<&str>) -> tracing::Span {
    let span = tracing::info_span!(
        "piapi_kling.request",
        operation = op.name(),
        task_id = tracing::field::Empty,
        status = tracing::field::Empty,
        latency_ms = tracing::field::Empty,
        attempts = tracing::field::Empty,
    );
    if let Some(id) = task_id {
        span.record("task_id", id);
    }
    span
}
