//! Deterministic test scenarios: a marker in the create request's input or an
//! `x-sim-scenario` header makes a task fail in a documented way or run slowly.

use serde_json::{Map, Value};

/// The request header that selects scenarios for a create.
pub(crate) const SCENARIO_HEADER: &str = "x-sim-scenario";

/// How much longer `slow` makes every duration.
pub(crate) const SLOW_FACTOR: f64 = 10.0;

/// Which scenarios apply to one task.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Scenario {
    pub content_filter: bool,
    pub upstream_failure: bool,
    pub slow: bool,
}

/// The names, as written in the header and in `[sim:<name>]` markers.
const NAMES: [&str; 3] = ["content-filter", "upstream-failure", "slow"];

impl Scenario {
    fn set(&mut self, name: &str) -> bool {
        match name {
            "content-filter" => self.content_filter = true,
            "upstream-failure" => self.upstream_failure = true,
            "slow" => self.slow = true,
            _ => return false,
        }
        true
    }

    /// Parses `content-filter, slow`; an unknown name is an error so that a
    /// typo in a test does not silently test the happy path.
    pub(crate) fn from_header(value: &str) -> Result<Scenario, String> {
        let mut scenario = Scenario::default();
        for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            if !scenario.set(name) {
                return Err(format!(
                    "{SCENARIO_HEADER}: unknown scenario `{name}`, expected one of {}",
                    NAMES.join(", ")
                ));
            }
        }
        Ok(scenario)
    }

    /// Adds every `[sim:<name>]` marker found in any string of `input`.
    pub(crate) fn add_markers(&mut self, input: &Map<String, Value>) {
        for value in input.values() {
            self.scan(value);
        }
    }

    fn scan(&mut self, value: &Value) {
        match value {
            Value::String(s) if s.contains("[sim:") => {
                for name in NAMES {
                    if s.contains(&format!("[sim:{name}]")) {
                        self.set(name);
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| self.scan(v)),
            Value::Object(map) => map.values().for_each(|v| self.scan(v)),
            _ => {}
        }
    }

    /// The failure this scenario forces, if any (the content filter wins: it
    /// rejects before the upstream would be asked).
    pub(crate) fn failure(&self) -> Option<Failure> {
        if self.content_filter {
            Some(Failure::ContentFilter)
        } else if self.upstream_failure {
            Some(Failure::Upstream)
        } else {
            None
        }
    }
}

/// Why a task failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Failure {
    /// Kling's moderation rejected the input.
    ContentFilter,
    /// Kling failed to render.
    Upstream,
    /// The caller cancelled the task while it was pending or staged.
    Canceled,
}

impl Failure {
    /// PiAPI's `error.code`.
    pub(crate) fn code(self) -> i64 {
        match self {
            Failure::Upstream => 10000,
            Failure::Canceled => 10001,
            Failure::ContentFilter => 10002,
        }
    }

    /// PiAPI's `error.message`.
    pub(crate) fn message(self) -> &'static str {
        match self {
            Failure::Upstream => "task failed",
            Failure::Canceled => "task canceled",
            Failure::ContentFilter => "content filtered",
        }
    }

    /// Kling's own words, as PiAPI passes them on in `error.raw_message`.
    pub(crate) fn raw_message(self) -> &'static str {
        match self {
            Failure::Upstream => "kling task failed: upstream service unavailable",
            Failure::Canceled => "task canceled by user",
            Failure::ContentFilter => {
                "The content you submitted failed the review, please modify it and try again"
            }
        }
    }

    /// The share of the processing time after which the task fails: the
    /// moderation check answers early, a failed render only at the end.
    pub(crate) fn at_fraction(self) -> f64 {
        match self {
            Failure::ContentFilter => 0.2,
            Failure::Upstream | Failure::Canceled => 1.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn header_lists_are_parsed_and_typos_rejected() {
        let s = Scenario::from_header(" slow ,content-filter").unwrap();
        assert!(s.slow && s.content_filter && !s.upstream_failure);
        assert_eq!(Scenario::from_header("").unwrap(), Scenario::default());
        let err = Scenario::from_header("slow,contentfilter").unwrap_err();
        assert!(err.contains("`contentfilter`"), "{err}");
    }

    #[test]
    fn markers_are_found_in_nested_strings() {
        let input = json!({"prompt": "a cat [sim:upstream-failure]",
                           "elements": [{"image_url": "x [sim:slow]"}]});
        let mut s = Scenario::default();
        s.add_markers(input.as_object().unwrap());
        assert!(s.upstream_failure && s.slow && !s.content_filter);
        assert_eq!(s.failure(), Some(Failure::Upstream));
        s.content_filter = true;
        assert_eq!(s.failure(), Some(Failure::ContentFilter));
    }
}
