//! Receiving PiAPI's webhook notifications.
//!
//! With `config.webhook_config` set (builders: `.webhook(endpoint, secret)`),
//! PiAPI POSTs `{"timestamp": .., "data": <task>}` to the endpoint when the task
//! is created and when it ends, with the secret verbatim in the
//! `x-webhook-secret` header (there is no signature). Deliveries are retried
//! when the endpoint does not answer 2xx, so the same event can arrive twice.
//!
//! - [`verify_and_parse`] checks the secret in constant time and decodes the body;
//! - [`Deduplicator`] drops redelivered events with bounded memory;
//! - with the `axum` feature, [`axum::router`](crate::webhook::axum) and
//!   [`axum::channel`](crate::webhook::axum) give a ready endpoint that answers
//!   401 on a bad secret, 400 on a bad body and 200 at once otherwise.
//!
//! ```
//! use piapi_kling::webhook::{self, Deduplicator};
//!
//! let body = br#"{"timestamp":1720600000,"data":{"task_id":"t-1","model":"kling",
//!     "task_type":"video_generation","status":"completed","input":{},"output":null,
//!     "meta":{},"detail":null,"logs":[],"error":{"code":0,"message":""}}}"#;
//! let event = webhook::verify_and_parse(Some(b"s3cr3t"), body, "s3cr3t").unwrap();
//! let mut dedup = Deduplicator::new(1024);
//! assert!(dedup.is_new(&event));
//! assert!(!dedup.is_new(&event)); // a redelivery
//! assert!(webhook::verify_and_parse(Some(b"wrong"), body, "s3cr3t").is_err());
//! ```

mod dedup;
mod receiver;
mod verify;

#[cfg(feature = "axum")]
pub mod axum;

pub use dedup::Deduplicator;
pub(crate) use receiver::Subscription;
pub use receiver::{DEFAULT_FALLBACK_INTERVAL, WebhookReceiver};
pub use verify::{SECRET_HEADER, WebhookError, parse_event, secret_matches, verify_and_parse};
