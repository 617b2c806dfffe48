//! Webhook delivery: `POST {timestamp, data}` to the task's endpoint with the
//! secret in `x-webhook-secret`, retried with exponential backoff on a
//! non-2xx answer or a connection error. Like PiAPI, duplicates are possible
//! (a slow 2xx after a timeout is retried) and order is not guaranteed.

use std::time::{Duration, SystemTime};

use piapi_kling_models::{TaskData, WebhookEvent};
use tokio::sync::watch;

use crate::time::unix_secs;

/// Attempts per notification.
pub(crate) const ATTEMPTS: u32 = 5;
/// Wait before the first retry at speed 1; doubled for each further one.
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
/// No retry comes sooner than this, however high the speed.
const MIN_BACKOFF: Duration = Duration::from_millis(10);
/// One attempt's time limit.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

pub(crate) struct Webhooks {
    client: reqwest::Client,
    speed: f64,
    shutdown: watch::Receiver<bool>,
}

/// The wait before retry number `retry` (0-based).
pub(crate) fn backoff(retry: u32, speed: f64) -> Duration {
    FIRST_BACKOFF
        .mul_f64(f64::from(1u32 << retry.min(16)) / speed)
        .max(MIN_BACKOFF)
}

impl Webhooks {
    pub(crate) fn new(speed: f64, shutdown: watch::Receiver<bool>) -> Self {
        let client = reqwest::Client::builder()
            .timeout(ATTEMPT_TIMEOUT)
            .build()
            .unwrap_or_default();
        Webhooks {
            client,
            speed,
            shutdown,
        }
    }

    /// Sends `data` in the background; gives up after [`ATTEMPTS`] or at shutdown.
    pub(crate) fn deliver(&self, endpoint: String, secret: Option<String>, data: TaskData) {
        let event = WebhookEvent::new(unix_secs(SystemTime::now()), data);
        let body = serde_json::to_vec(&event).unwrap_or_default();
        let client = self.client.clone();
        let speed = self.speed;
        let mut shutdown = self.shutdown.clone();
        tokio::spawn(async move {
            for attempt in 0..ATTEMPTS {
                let mut request = client
                    .post(&endpoint)
                    .header("content-type", "application/json")
                    .body(body.clone());
                if let Some(secret) = &secret {
                    request = request.header("x-webhook-secret", secret);
                }
                let outcome = tokio::select! {
                    result = request.send() => result,
                    _ = shutdown.changed() => return,
                };
                match outcome {
                    Ok(response) if response.status().is_success() => {
                        tracing::debug!(%endpoint, attempt, "webhook delivered");
                        return;
                    }
                    Ok(response) => {
                        tracing::debug!(%endpoint, attempt, status = %response.status(), "webhook refused")
                    }
                    Err(error) => tracing::debug!(%endpoint, attempt, %error, "webhook failed"),
                }
                if attempt + 1 < ATTEMPTS {
                    tokio::select! {
                        _ = tokio::time::sleep(backoff(attempt, speed)) => {}
                        _ = shutdown.changed() => return,
                    }
                }
            }
            tracing::warn!(%endpoint, "webhook given up after {ATTEMPTS} attempts");
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_scales_and_has_a_floor() {
        assert_eq!(backoff(0, 1.0), Duration::from_millis(200));
        assert_eq!(backoff(3, 1.0), Duration::from_millis(1600));
        assert_eq!(backoff(1, 4.0), Duration::from_millis(100));
        assert_eq!(backoff(0, 1000.0), Duration::from_millis(10));
    }
}
