//! Support for the generated `validate_at` methods, not part of the public
//! API (reached through `__private`): the per-field checks and the notion of
//! a field being "set".

/// Whether a field counts as "set" for the cross-field rules.
///
/// An absent option, an empty string and the empty enum value (`""`) are not set:
/// PiAPI's own examples send `""` to mean "not given".
pub trait Presence {
    /// True when the value counts as given.
    fn is_present(&self) -> bool;
}

impl<T: Presence> Presence for Option<T> {
    fn is_present(&self) -> bool {
        self.as_ref().is_some_and(Presence::is_present)
    }
}

impl Presence for String {
    fn is_present(&self) -> bool {
        !self.is_empty()
    }
}

impl<T> Presence for Vec<T> {
    fn is_present(&self) -> bool {
        true
    }
}

impl Presence for serde_json::Value {
    fn is_present(&self) -> bool {
        !self.is_null()
    }
}

impl Presence for serde_json::Map<String, serde_json::Value> {
    fn is_present(&self) -> bool {
        true
    }
}

macro_rules! always_present {
    ($($t:ty),*) => {$(
        impl Presence for $t {
            fn is_present(&self) -> bool {
                true
            }
        }
    )*};
}
always_present!(f64, i64, bool);

/// The checks the generated `validate_at` methods call. Each takes the object's
/// path and the field's name, and builds the full path only when a rule is broken.
pub mod check {
    use crate::validation::{Rule, Violation};

    /// `path.field`, `path[i]` for an index field `[i]`, or `field` at the root.
    pub fn join(path: &str, field: &str) -> String {
        if path.is_empty() {
            field.to_owned()
        } else if field.is_empty() {
            path.to_owned()
        } else if field.starts_with('[') {
            format!("{path}{field}")
        } else {
            format!("{path}.{field}")
        }
    }

    /// `path[index]`.
    pub fn index(path: &str, index: usize) -> String {
        format!("{path}[{index}]")
    }

    /// The string has at least `min` characters.
    pub fn min_length(out: &mut Vec<Violation>, path: &str, field: &str, value: &str, min: u64) {
        if (value.chars().count() as u64) < min {
            let message = if min == 1 {
                "must not be empty".to_owned()
            } else {
                format!("must be at least {min} characters")
            };
            out.push(Violation::new(
                join(path, field),
                Rule::MinLength(min),
                message,
            ));
        }
    }

    /// The string has at most `max` characters (Unicode scalar values, as PiAPI counts).
    pub fn max_length(out: &mut Vec<Violation>, path: &str, field: &str, value: &str, max: u64) {
        // Cheap byte test first: a string of at most `max` bytes has at most `max` chars.
        if value.len() as u64 <= max {
            return;
        }
        let len = value.chars().count() as u64;
        if len > max {
            out.push(Violation::new(
                join(path, field),
                Rule::MaxLength(max),
                format!("must be at most {max} characters, got {len}"),
            ));
        }
    }

    /// The number is finite and within `[min, max]`.
    pub fn range(
        out: &mut Vec<Violation>,
        path: &str,
        field: &str,
        value: f64,
        min: Option<f64>,
        max: Option<f64>,
    ) {
        // NaN is below every minimum and above every maximum.
        let below = min.filter(|lo| value < *lo || value.is_nan());
        let above = max.filter(|hi| value > *hi || value.is_nan());
        let rule = match (below, above) {
            (Some(lo), _) => Rule::Minimum(lo),
            (None, Some(hi)) => Rule::Maximum(hi),
            (None, None) if !value.is_finite() => Rule::Maximum(max.unwrap_or(f64::MAX)),
            (None, None) => return,
        };
        let bounds = match (min, max) {
            (Some(lo), Some(hi)) => format!("between {lo} and {hi}"),
            (Some(lo), None) => format!("at least {lo}"),
            (None, Some(hi)) => format!("at most {hi}"),
            (None, None) => "a finite number".to_owned(),
        };
        out.push(Violation::new(
            join(path, field),
            rule,
            format!("must be {bounds}, got {value}"),
        ));
    }

    /// The array has between `min` and `max` items.
    pub fn items(
        out: &mut Vec<Violation>,
        path: &str,
        field: &str,
        len: usize,
        min: Option<u64>,
        max: Option<u64>,
    ) {
        let len = len as u64;
        if let Some(min) = min.filter(|min| len < *min) {
            out.push(Violation::new(
                join(path, field),
                Rule::MinItems(min),
                format!("must have at least {min} items, got {len}"),
            ));
        }
        if let Some(max) = max.filter(|max| len > *max) {
            out.push(Violation::new(
                join(path, field),
                Rule::MaxItems(max),
                format!("must have at most {max} items, got {len}"),
            ));
        }
    }

    /// The enum value is one the spec documents: an error for a closed enum,
    /// a warning (the value is sent) for an open one.
    #[allow(clippy::too_many_arguments)]
    pub fn known(
        out: &mut Vec<Violation>,
        path: &str,
        field: &str,
        known: bool,
        value: &dyn std::fmt::Display,
        allowed: &[&str],
        open: bool,
    ) {
        if !known {
            let allowed: Vec<String> = allowed.iter().map(|v| format!("`{v}`")).collect();
            let allowed = allowed.join(", ");
            out.push(if open {
                Violation::warning(
                    join(path, field),
                    Rule::Enum,
                    format!(
                        "`{value}` is not one of the values this SDK knows ({allowed}); it is sent as given"
                    ),
                )
            } else {
                Violation::new(
                    join(path, field),
                    Rule::Enum,
                    format!("`{value}` is not one of {allowed}"),
                )
            });
        }
    }

    /// The string is an absolute http(s) URL (or empty, where empty means "not set").
    pub fn uri(out: &mut Vec<Violation>, path: &str, field: &str, value: &str, allow_empty: bool) {
        if (allow_empty && value.is_empty()) || is_http_url(value) {
            return;
        }
        out.push(Violation::new(
            join(path, field),
            Rule::Format("uri"),
            format!("must be an absolute http(s) URL, got `{}`", shorten(value)),
        ));
    }

    /// The file name ends with one of `extensions` (any case).
    pub fn extension(
        out: &mut Vec<Violation>,
        path: &str,
        field: &str,
        value: &str,
        extensions: &[&str],
    ) {
        let ok = value.rsplit_once('.').is_some_and(|(stem, ext)| {
            !stem.is_empty() && extensions.iter().any(|e| e.eq_ignore_ascii_case(ext))
        });
        if !ok {
            out.push(Violation::new(
                join(path, field),
                Rule::Extension,
                format!("must end with .{}", extensions.join(", .")),
            ));
        }
    }

    pub use crate::validation::is_http_url;

    /// A scalar field's value as text (`"3.0"`, `"10"`, `"true"`), for rules
    /// comparing it with listed values; `None` when unset.
    pub fn text<T: serde::Serialize>(value: &T) -> Option<String> {
        match serde_json::to_value(value).ok()? {
            serde_json::Value::Null => None,
            serde_json::Value::String(s) if s.is_empty() => None,
            serde_json::Value::String(s) => Some(s),
            other => Some(other.to_string()),
        }
    }

    /// The sum of the numeric field `item` over a list of objects (missing
    /// values count as 0).
    pub fn sum_of<T: serde::Serialize>(items: &[T], item: &str) -> f64 {
        items
            .iter()
            .filter_map(|i| serde_json::to_value(i).ok()?.get(item)?.as_f64())
            .sum()
    }

    fn shorten(value: &str) -> String {
        const MAX: usize = 80;
        if value.chars().count() <= MAX {
            value.to_owned()
        } else {
            let head: String = value.chars().take(MAX).collect();
            format!("{head}…")
        }
    }
}
