//! Checking the `x-webhook-secret` header and decoding the body.

use piapi_kling_models::WebhookEvent;
use subtle::ConstantTimeEq;

/// The header in which PiAPI sends the webhook secret back.
pub const SECRET_HEADER: &str = "x-webhook-secret";

/// Why a webhook request was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// No `x-webhook-secret` header although a secret is expected.
    #[error("missing x-webhook-secret header")]
    MissingSecret,
    /// The header does not hold the expected secret.
    #[error("wrong webhook secret")]
    WrongSecret,
    /// The body is not a PiAPI webhook event.
    #[error("webhook body is not a PiAPI event: {0}")]
    BadBody(#[source] serde_json::Error),
}

impl WebhookError {
    /// True for a missing or wrong secret (answer 401), false for a bad body
    /// (answer 400).
    pub fn is_unauthorized(&self) -> bool {
        matches!(
            self,
            WebhookError::MissingSecret | WebhookError::WrongSecret
        )
    }
}

/// Compares a received secret with the expected one in constant time (only
/// the length can be told from the timing).
pub fn secret_matches(received: &[u8], expected: &str) -> bool {
    received.ct_eq(expected.as_bytes()).into()
}

/// Decodes a webhook body.
pub fn parse_event(body: &[u8]) -> Result<WebhookEvent, WebhookError> {
    serde_json::from_slice(body).map_err(WebhookError::BadBody)
}

/// Checks the secret header (when `expected_secret` is not empty) and decodes
/// the body. An empty `expected_secret` means the task was created without a
/// secret, and no header is checked.
pub fn verify_and_parse(
    secret_header: Option<&[u8]>,
    body: &[u8],
    expected_secret: &str,
) -> Result<WebhookEvent, WebhookError> {
    if !expected_secret.is_empty() {
        let received = secret_header.ok_or(WebhookError::MissingSecret)?;
        if !secret_matches(received, expected_secret) {
            return Err(WebhookError::WrongSecret);
        }
    }
    parse_event(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = br#"{"timestamp":1,"data":{"task_id":"t","model":"kling","task_type":"sound","status":"pending","input":{},"output":null,"meta":{},"detail":null,"logs":null,"error":{"code":0,"message":""}}}"#;

    #[test]
    fn secrets_are_checked() {
        assert!(verify_and_parse(Some(b"abc"), BODY, "abc").is_ok());
        assert!(matches!(
            verify_and_parse(Some(b"abd"), BODY, "abc"),
            Err(WebhookError::WrongSecret)
        ));
        assert!(matches!(
            verify_and_parse(Some(b"ab"), BODY, "abc"),
            Err(WebhookError::WrongSecret)
        ));
        assert!(matches!(
            verify_and_parse(None, BODY, "abc"),
            Err(WebhookError::MissingSecret)
        ));
        assert!(verify_and_parse(None, BODY, "").is_ok());
    }

    #[test]
    fn bad_bodies_are_not_unauthorized() {
        let err = verify_and_parse(Some(b"abc"), b"{", "abc").unwrap_err();
        assert!(!err.is_unauthorized());
        assert!(WebhookError::WrongSecret.is_unauthorized());
    }
}
