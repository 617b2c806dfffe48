//! A ready webhook endpoint for axum 0.8 (feature `axum`).
//!
//! The endpoint answers POST at `/` (nest it where you like): 401 for a
//! missing or wrong secret, 400 for a body that is not a PiAPI event, and 200
//! at once otherwise. Redeliveries (see [`Deduplicator`]) are answered 200 and
//! not passed on. Work happens after the answer, so PiAPI is not kept waiting.
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! use piapi_kling::webhook;
//!
//! let (router, mut events) = webhook::axum::channel("my-webhook-secret", 64);
//! let app = axum::Router::new().nest("/hooks/piapi", router);
//! let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;
//! tokio::spawn(async move { axum::serve(listener, app).await });
//! while let Some(event) = events.recv().await {
//!     println!("task {} is {}", event.data.task_id, event.data.status);
//! }
//! # Ok(()) }
//! ```

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use ::axum::Router;
use ::axum::body::Bytes;
use ::axum::extract::State;
use ::axum::http::{HeaderMap, StatusCode};
use ::axum::routing::post;
use piapi_kling_models::WebhookEvent;
use tokio::sync::mpsc;

use super::{Deduplicator, SECRET_HEADER, verify_and_parse};

/// How many recent events the endpoint remembers to drop redeliveries.
pub const DEDUP_CAPACITY: usize = 4096;

type Handler = dyn Fn(WebhookEvent) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync;

enum Sink {
    Handler(Arc<Handler>),
    Channel(mpsc::Sender<WebhookEvent>),
}

struct Endpoint {
    secret: secrecy::SecretString,
    dedup: Mutex<Deduplicator>,
    sink: Sink,
}

/// An endpoint that runs `handler` on each new event (in a spawned task, after
/// answering 200).
pub fn router<F, Fut>(secret: impl Into<String>, handler: F) -> Router
where
    F: Fn(WebhookEvent) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let handler: Arc<Handler> = Arc::new(move |event| Box::pin(handler(event)));
    endpoint(secret.into(), Sink::Handler(handler))
}

/// An endpoint that sends each new event to the returned receiver. When the
/// channel is full (or closed) the endpoint answers 503, so PiAPI redelivers
/// the event later instead of it being lost.
pub fn channel(secret: impl Into<String>, buffer: usize) -> (Router, mpsc::Receiver<WebhookEvent>) {
    let (tx, rx) = mpsc::channel(buffer.max(1));
    (endpoint(secret.into(), Sink::Channel(tx)), rx)
}

fn endpoint(secret: String, sink: Sink) -> Router {
    let state = Arc::new(Endpoint {
        secret: secret.into(),
        dedup: Mutex::new(Deduplicator::new(DEDUP_CAPACITY)),
        sink,
    });
    Router::new().route("/", post(receive)).with_state(state)
}

async fn receive(
    State(endpoint): State<Arc<Endpoint>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let secret = headers.get(SECRET_HEADER).map(|v| v.as_bytes());
    let event = match verify_and_parse(
        secret,
        &body,
        secrecy::ExposeSecret::expose_secret(&endpoint.secret),
    ) {
        Ok(event) => event,
        Err(e) if e.is_unauthorized() => {
            tracing::warn!(reason = %e, "webhook refused");
            return StatusCode::UNAUTHORIZED;
        }
        Err(e) => {
            tracing::warn!(reason = %e, "webhook body refused");
            return StatusCode::BAD_REQUEST;
        }
    };
    let fresh = endpoint
        .dedup
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .is_new(&event);
    if !fresh {
        tracing::debug!(task_id = %event.data.task_id, status = %event.data.status, "duplicate webhook dropped");
        return StatusCode::OK;
    }
    tracing::debug!(task_id = %event.data.task_id, status = %event.data.status, "webhook received");
    match &endpoint.sink {
        Sink::Handler(handler) => {
            tokio::spawn(handler(event));
            StatusCode::OK
        }
        Sink::Channel(tx) => match tx.try_send(event) {
            Ok(()) => StatusCode::OK,
            Err(
                mpsc::error::TrySendError::Full(event) | mpsc::error::TrySendError::Closed(event),
            ) => {
                endpoint
                    .dedup
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .forget(&event);
                StatusCode::SERVICE_UNAVAILABLE
            }
        },
    }
}
