//! Typed models of PiAPI's Kling task API, generated from `spec/piapi-kling.yaml`.
//!
//! - Nothing PiAPI sends is lost: every struct keeps the fields the spec does
//!   not list in `extra` and writes them back, so decoding and re-encoding a
//!   response gives the same JSON.
//! - Every enum is forward-compatible: the values the spec lists, plus `Unknown`
//!   holding any other value verbatim, so one new server value never breaks a
//!   whole response. `as_str`, `ALL`, `OPEN`, `Display` and `FromStr` come with
//!   each. The create request keeps a task type the spec does not list whole
//!   ([`CreateTaskRequest::Unknown`]).
//! - Types are `#[non_exhaustive]`: build them with `new(required…)` or
//!   `Default`, then `with_<field>(…)`, so a field added to the spec does not
//!   break your code.
//! - Request types serialize only what was set: an optional field left `None` is
//!   never sent.
//! - [`Validate::validate`] checks every constraint of the spec and returns all
//!   violations at once, each naming the field and the rule. A value an open
//!   enum (`x-open-enum`) does not list is a warning, not an error
//!   ([`Validate::report`] has both).
//!
//! This crate has no HTTP or async dependencies, so a webhook receiver can
//! depend on it alone.
//!
//! ```
//! use piapi_kling_models::{CreateTaskRequest, TaskStatus, Validate};
//!
//! let body = r#"{"model":"kling","task_type":"effects",
//!                "input":{"image_url":"https://example.com/cat.png","effect":"birthday"}}"#;
//! let request: CreateTaskRequest = serde_json::from_str(body).unwrap();
//! let violations = request.validate().unwrap_err();
//! assert_eq!(violations.iter().next().unwrap().path, "input.prompt");
//!
//! assert_eq!("Completed".parse::<TaskStatus>().unwrap(), TaskStatus::Completed);
//! assert!(!"queued".parse::<TaskStatus>().unwrap().is_known());
//! ```
#![deny(missing_docs)]

// The generated code names this crate by its absolute path, so that the same
// generator output also compiles in other crates (the codegen snapshot tests).
extern crate self as piapi_kling_models;

mod account;
pub mod catalog;
mod de;
mod support;
pub mod task;
pub mod validation;

// Generated files are formatted by prettyplease at generation time; rustfmt
// must leave them byte-identical so `cargo xtask check` stays meaningful.
#[rustfmt::skip]
#[path = "generated/enums.rs"]
mod enums;
#[rustfmt::skip]
#[path = "generated/types.rs"]
mod types;

pub use enums::*;
pub use task::ZERO_TIME;
pub use types::*;
pub use validation::{Report, Severity, Validate, Violation, Violations};

/// Support for the generated code; not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::de::{
        Redacted, f64_or_string, from_object, int_enum, option_f64_or_string, string_enum,
    };
    pub use crate::support::{Presence, check};
}
