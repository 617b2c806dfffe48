//! `kling webhook serve`: PiAPI's webhooks into a batch ledger.
//!
//! The endpoint faces the internet, so it checks the secret in constant
//! time, bounds the body (256 KiB) and the time to send headers (10 s) and a
//! whole request (15 s), and records only what a delivery claims: the task
//! id, its status and the line's correlation token. Runners read the task
//! from PiAPI before recording any result from it, so a leaked secret
//! cannot plant a file. Every delivery is recorded (duplicates and
//! out-of-order ones too) before answering 200; a ledger failure answers
//! 503 so that PiAPI delivers again.

use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Request, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use piapi_kling::webhook::{SECRET_HEADER, verify_and_parse};
use piapi_kling_ledger::{Delivery, Ledger};
use tokio::net::TcpListener;
use tower::ServiceExt;

use crate::cli::{WebhookArgs, WebhookCommand, WebhookServeArgs};
use crate::commands::Ctx;
use crate::exit::CliError;

/// The largest body accepted (PiAPI's events are a few KiB).
pub const MAX_BODY: usize = 256 * 1024;
/// Time allowed to send the request headers.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Time allowed for a whole request, body and ledger write included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// The query parameter carrying a line's correlation token.
pub const TOKEN_PARAM: &str = "kling_token";

struct Endpoint {
    ledger: Arc<dyn Ledger>,
    secret: SecretString,
}

/// Runs `kling webhook …`.
pub async fn run(ctx: &Ctx, args: WebhookArgs) -> Result<(), CliError> {
    match args.command {
        WebhookCommand::Serve(serve) => serve_ledger(ctx, serve).await,
    }
}

async fn serve_ledger(ctx: &Ctx, args: WebhookServeArgs) -> Result<(), CliError> {
    let secret = crate::batch::webhook_secret(Some(&args.secret_env))?;
    let ledger = piapi_kling_ledger::open(&args.journal).await?;
    let listener = TcpListener::bind(args.listen)
        .await
        .map_err(|e| CliError::Local(format!("cannot listen on {}: {e}", args.listen)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| CliError::Local(format!("cannot read the listening address: {e}")))?;
    // The first stdout line, for scripts that bind port 0.
    crate::output::out_line(&format!("http://{addr}"));
    ctx.out.note(format!(
        "receiving webhooks into {} (Ctrl-C stops)",
        ledger.describe()
    ));
    let router = router(ledger, secret);
    serve(listener, router).await;
    Ok(())
}

fn router(ledger: Arc<dyn Ledger>, secret: SecretString) -> Router {
    Router::new()
        .fallback(receive)
        .with_state(Arc::new(Endpoint { ledger, secret }))
}

/// The accept loop: hyper directly, for its header-read timeout.
async fn serve(listener: TcpListener, router: Router) {
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT);
    let stop = shutdown_signal();
    tokio::pin!(stop);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut stop => break,
        };
        let router = router.clone();
        let service = service_fn(move |request: Request<Incoming>| {
            let router = router.clone();
            async move {
                let answer =
                    tokio::time::timeout(REQUEST_TIMEOUT, router.oneshot(request.map(Body::new)))
                        .await;
                Ok::<Response, std::convert::Infallible>(match answer {
                    Ok(Ok(response)) => response,
                    Ok(Err(never)) => match never {},
                    Err(_) => StatusCode::REQUEST_TIMEOUT.into_response(),
                })
            }
        });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            let _ = connection.await;
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(Duration::from_secs(5), graceful.shutdown()).await;
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

async fn receive(
    State(endpoint): State<Arc<Endpoint>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> StatusCode {
    if method != Method::POST {
        return StatusCode::METHOD_NOT_ALLOWED;
    }
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY).await else {
        return StatusCode::PAYLOAD_TOO_LARGE;
    };
    let secret = headers.get(SECRET_HEADER).map(|v| v.as_bytes());
    let event = match verify_and_parse(secret, &body, endpoint.secret.expose_secret()) {
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
    let delivery = Delivery {
        token: token(&uri),
        task_id: event.data.task_id.clone(),
        status: event.data.status.as_str().to_ascii_lowercase(),
        timestamp: event.timestamp,
    };
    match endpoint.ledger.record_delivery(&delivery).await {
        Ok(linked) => {
            tracing::debug!(task_id = %delivery.task_id, status = %delivery.status, ?linked, "delivery recorded");
            StatusCode::OK
        }
        Err(e) => {
            tracing::warn!(error = %e, "delivery not recorded; PiAPI will retry");
            StatusCode::SERVICE_UNAVAILABLE
        }
    }
}

/// The correlation token of the endpoint's query, when it looks like one
/// (anything else is ignored rather than stored).
fn token(uri: &Uri) -> Option<String> {
    uri.query()?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == TOKEN_PARAM)
        .map(|(_, value)| value)
        .filter(|v| v.len() == 32 && v.chars().all(|c| c.is_ascii_hexdigit()))
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_well_formed_tokens_are_read() {
        let ok = "0123456789abcdef0123456789abcdef";
        let uri: Uri = format!("/hooks?team=1&kling_token={ok}").parse().unwrap();
        assert_eq!(token(&uri).as_deref(), Some(ok));
        let uri: Uri = "/hooks?kling_token=short".parse().unwrap();
        assert_eq!(token(&uri), None);
        let uri: Uri = "/hooks".parse().unwrap();
        assert_eq!(token(&uri), None);
    }
}
