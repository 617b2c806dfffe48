//! The accept loop and the per-request wrapper around the router: fault
//! injection, dropped connections and the request log.
//!
//! A custom loop (rather than `axum::serve`) because dropping a connection
//! without an answer needs the service to fail, which makes hyper close the
//! socket: the client sees a connection error, not a 5xx.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse, Response};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;

use crate::error::ApiError;
use crate::faults::{self, Before, FAULT_HEADER, FaultPlan};
use crate::reqlog::{LoggedRequest, LoggedTaskId};
use crate::state::AppState;

/// How long shutdown waits for in-flight requests.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// The error that makes hyper drop a connection without answering.
#[derive(Debug)]
struct DroppedByFault;

impl std::fmt::Display for DroppedByFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by an injected fault")
    }
}

impl std::error::Error for DroppedByFault {}

pub(crate) async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    router: Router,
    mut shutdown: watch::Receiver<bool>,
) {
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new());
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    // Usually out of file descriptors: back off instead of spinning.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => break,
        };
        let _ = stream.set_nodelay(true);
        let state = state.clone();
        let router = router.clone();
        let service = service_fn(move |request| handle(state.clone(), router.clone(), request));
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            let _ = connection.await;
        });
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(DRAIN_TIMEOUT) => tracing::warn!("shutdown: connections still open, closing them"),
    }
}

/// The operations faults apply to; downloads are never faulted.
fn is_api(path: &str) -> bool {
    path.starts_with("/api/") || path.starts_with("/account/")
}

fn task_id_in_path(path: &str) -> Option<String> {
    let id = path.strip_prefix("/api/v1/task/")?;
    (!id.is_empty() && !id.contains('/')).then(|| id.to_owned())
}

async fn handle(
    state: Arc<AppState>,
    router: Router,
    request: Request<Incoming>,
) -> Result<Response, DroppedByFault> {
    let arrived = Instant::now();
    let at = SystemTime::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let plan = if is_api(&path) {
        state
            .faults
            .plan(&method, request.headers().get(FAULT_HEADER))
    } else {
        Ok(FaultPlan::default())
    };
    let log = |status: u16, task_id: Option<String>| {
        let latency = arrived.elapsed();
        tracing::debug!(%method, %path, status, ?latency, "request");
        state.log.push(LoggedRequest {
            method: method.to_string(),
            path: path.clone(),
            status,
            at,
            task_id,
            latency,
        });
    };
    let response = match plan {
        Err(message) => ApiError::bad_request(message).into_response(),
        Ok(plan) => {
            if let Some(delay) = plan.delay {
                tokio::time::sleep(delay).await;
            }
            match plan.before {
                Some(Before::Drop) => {
                    log(0, task_id_in_path(&path));
                    return Err(DroppedByFault);
                }
                Some(Before::TooManyRequests { retry_after }) => {
                    ApiError::too_many_requests("too many requests (simulated)", retry_after)
                        .into_response()
                }
                Some(Before::ServerError(status)) => server_error(status).into_response(),
                None => {
                    let response = match router.oneshot(request.map(Body::new)).await {
                        Ok(response) => response,
                        Err(never) => match never {},
                    };
                    if plan.drop_after {
                        // The operation ran; its answer never leaves.
                        let task_id = response
                            .extensions()
                            .get::<LoggedTaskId>()
                            .map(|t| t.0.clone());
                        log(0, task_id.or_else(|| task_id_in_path(&path)));
                        return Err(DroppedByFault);
                    }
                    faults::apply_after(&plan, response).await
                }
            }
        }
    };
    let task_id = response
        .extensions()
        .get::<LoggedTaskId>()
        .map(|t| t.0.clone())
        .or_else(|| task_id_in_path(&path));
    log(response.status().as_u16(), task_id);
    Ok(response)
}

fn server_error(status: StatusCode) -> ApiError {
    let reason = status.canonical_reason().unwrap_or("server error");
    ApiError::new(
        status,
        format!("{} (simulated)", reason.to_ascii_lowercase()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_paths_and_task_ids() {
        assert!(is_api("/api/v1/task") && is_api("/account/info"));
        assert!(!is_api("/media/x/video.mp4") && !is_api("/files/x/a.png"));
        assert_eq!(task_id_in_path("/api/v1/task/abc").as_deref(), Some("abc"));
        assert_eq!(task_id_in_path("/api/v1/task/"), None);
        assert_eq!(task_id_in_path("/api/v1/tasks"), None);
    }

    #[test]
    fn simulated_server_errors_say_so() {
        let e = server_error(StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(e.message, "service unavailable (simulated)");
    }
}
