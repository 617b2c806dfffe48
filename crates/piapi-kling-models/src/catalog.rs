//! What the spec says about each task type beyond its fields' types, generated
//! from its `x-media`, `x-simulate` and `x-price` extensions (see
//! `spec/README.md`): the input fields with their limits, the fields that carry
//! media, how the simulator runs the task and what it costs.
//!
//! Every layer above the models (the SDK's uploads and cost estimates, the
//! simulator, the CLI's `kling create` flags) reads this table, so a task type
//! or a field added to the spec works there after `cargo xtask generate`.
//!
//! ```
//! use piapi_kling_models::catalog;
//!
//! let video = catalog::task_type("video_generation").unwrap();
//! assert!(video.input.iter().any(|f| f.name == "prompt"));
//! assert!(catalog::task_type("no_such_type").is_none());
//! ```
//!
//! The structs here are data the generator writes out as literals, so their
//! fields are public and can grow in a minor release; match them with `..`.

use serde_json::Value;

use crate::CreateTaskRequest;

pub use crate::types::TASK_TYPES;

/// Everything the spec says about one task type.
#[derive(Debug)]
pub struct TaskTypeInfo {
    /// The `task_type` value.
    pub task_type: &'static str,
    /// The Rust name of the request payload (`VideoGenerationRequest`).
    pub request: &'static str,
    /// The Rust name of the input struct (`VideoGenerationInput`).
    pub input_type: &'static str,
    /// The variant's description.
    pub doc: &'static str,
    /// The input's fields, in spec order.
    pub input: &'static [FieldInfo],
    /// How the simulator runs it.
    pub simulate: &'static Simulate,
    /// Its documented price; `None` when the spec has none.
    pub price: Option<&'static Price>,
}

/// The task type `task_type`, if the spec lists it.
pub fn task_type(task_type: &str) -> Option<&'static TaskTypeInfo> {
    TASK_TYPES.iter().find(|t| t.task_type == task_type)
}

/// How the simulator runs a task type the spec does not list.
pub fn default_simulation() -> &'static Simulate {
    crate::types::DEFAULT_SIMULATION
}

/// One input field.
#[derive(Debug)]
pub struct FieldInfo {
    /// The wire name.
    pub name: &'static str,
    /// The description.
    pub doc: &'static str,
    /// The value's type.
    pub kind: FieldKind,
    /// In the schema's `required` list.
    pub required: bool,
    /// `minimum`, `minLength` or `minItems`, whichever applies.
    pub min: Option<f64>,
    /// `maximum`, `maxLength` or `maxItems`, whichever applies.
    pub max: Option<f64>,
    /// The media the field (or each item of it) carries, if any.
    pub media: Option<&'static MediaSpec>,
}

/// The type of an input field's value, as a command line needs to know it.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum FieldKind {
    /// Text.
    String,
    /// A number.
    Number,
    /// A whole number.
    Integer,
    /// true or false.
    Boolean,
    /// One of `values` (the wire values); when `open`, others are sent with a warning.
    Enum {
        /// The values the spec lists.
        values: &'static [&'static str],
        /// Whether values the spec does not list are accepted.
        open: bool,
        /// Whether the wire value is a JSON integer.
        integer: bool,
    },
    /// A list of strings (e.g. image URLs).
    StringList,
    /// Anything else: an object or a list of objects, given as JSON.
    Json,
}

/// What kind of media a field carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MediaKind {
    /// A still image.
    Image,
    /// A video.
    Video,
    /// An audio clip.
    Audio,
}

/// The media a field carries and its documented limits (`x-media`).
#[derive(Debug, PartialEq)]
pub struct MediaSpec {
    /// Image, video or audio.
    pub kind: MediaKind,
    /// The file extensions accepted, lowercase.
    pub extensions: &'static [&'static str],
    /// The largest file, in bytes.
    pub max_bytes: Option<u64>,
    /// The shortest side of an image, in pixels.
    pub min_side: Option<u32>,
    /// The longest audio or video, in seconds.
    pub max_seconds: Option<f64>,
    /// The shortest audio or video, in seconds.
    pub min_seconds: Option<f64>,
}

/// One media URL of a request: where it is and what it must be.
#[derive(Debug)]
pub struct MediaRef<'a> {
    /// The field's path, as violations name it (`input.elements[0].image_url`).
    pub path: String,
    /// What the field takes.
    pub spec: &'static MediaSpec,
    /// The value.
    pub url: &'a str,
}

/// One media URL of a request, to replace.
#[derive(Debug)]
pub struct MediaSlot<'a> {
    /// The field's path, as violations name it (`input.elements[0].image_url`).
    pub path: String,
    /// What the field takes.
    pub spec: &'static MediaSpec,
    /// The value, to change.
    pub url: &'a mut String,
}

impl MediaSlot<'_> {
    /// True when the value names a local file rather than a URL: set, and not
    /// an http(s) URL. The SDK uploads such a file before sending.
    pub fn names_local_file(&self) -> bool {
        !self.url.is_empty() && !crate::validation::is_http_url(self.url)
    }
}

impl CreateTaskRequest {
    /// Every media URL the request holds, with its path and limits (none for a
    /// task type the spec does not list).
    pub fn media(&self) -> Vec<MediaRef<'_>> {
        let mut out = Vec::new();
        self.__visit_media(&mut |path, spec, url| out.push(MediaRef { path, spec, url }));
        out
    }

    /// Every media URL the request holds, to replace (an uploaded file's URL
    /// for a local path, say).
    pub fn media_mut(&mut self) -> Vec<MediaSlot<'_>> {
        let mut out = Vec::new();
        self.__visit_media_mut(&mut |path, spec, url| out.push(MediaSlot { path, spec, url }));
        out
    }

    /// Sets the media field at `path` (as [`MediaRef::path`] names it) to
    /// `url`; false when the request has no media field there.
    pub fn set_media(&mut self, path: &str, url: impl Into<String>) -> bool {
        match self.media_mut().into_iter().find(|slot| slot.path == path) {
            Some(slot) => {
                *slot.url = url.into();
                true
            }
            None => false,
        }
    }

    /// What the spec says about this request's task type (`None` for one it
    /// does not list).
    pub fn info(&self) -> Option<&'static TaskTypeInfo> {
        task_type(self.task_type())
    }
}

/// A condition on a request: every listed field holds one of its values.
#[derive(Debug)]
pub struct When {
    /// `(input field or "model", values)`; `"*"` matches any set value.
    pub fields: &'static [(&'static str, &'static [&'static str])],
}

impl When {
    /// True when `input` (and `model`) satisfy every field's condition.
    pub fn matches(&self, model: &str, input: &Value) -> bool {
        self.fields.iter().all(|(field, values)| {
            let value = if *field == "model" {
                Some(Value::String(model.to_owned()))
            } else {
                input.get(field).cloned()
            };
            let Some(value) = value.filter(is_set) else {
                return false;
            };
            values
                .iter()
                .any(|want| *want == "*" || scalar_text(&value) == *want)
        })
    }
}

/// Present and not empty, as the validation rules count "set".
fn is_set(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => !items.is_empty(),
        _ => true,
    }
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// What a finished task produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OutputKind {
    /// One video.
    Video,
    /// Still images.
    Images,
    /// Audio clips.
    Audio,
}

/// Where the result is in `output`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OutputShape {
    /// `video_url` and `works[]` (Kling 1.x–2.6 and most task types).
    Classic,
    /// `output.video` only (Kling 3.0 and omni).
    Video,
}

/// How PiAPI reports a task's bill in `meta.usage` (`x-simulate` `billing`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Billing {
    /// `usage.type`: `point` for Kling, `llm` for kling-turbo.
    pub usage_type: &'static str,
    /// The whole price is in `usage.consume` from creation, with `frozen` 0
    /// (kling-turbo). Otherwise the price is `frozen` until the task
    /// completes, then consumed; a failed or canceled task consumes nothing.
    pub charged_at_creation: bool,
}

/// How the simulator runs a task type (`x-simulate`).
#[derive(Debug)]
pub struct Simulate {
    /// What the task produces.
    pub output: OutputKind,
    /// Where the result goes in `output`.
    pub shape: OutputShape,
    /// Kling's own type, for `output.type` (the task type when `None`).
    pub kling_type: Option<&'static str>,
    /// Seconds from pending to processing, at speed 1.
    pub pending_seconds: f64,
    /// Seconds of processing for an output of `default_seconds`, at speed 1.
    pub processing_seconds: f64,
    /// Input paths giving the output's length; the first set wins, `[]` paths sum.
    pub seconds: &'static [&'static str],
    /// The length when no path is set.
    pub default_seconds: f64,
    /// The input field giving how many images or clips.
    pub count_field: Option<&'static str>,
    /// How many images or clips, when `count_field` is not set.
    pub count: u32,
    /// Width and height; from the aspect ratio when `None`.
    pub size: Option<(u32, u32)>,
    /// A video made from the origin task's, this many seconds longer.
    pub from_origin: Option<f64>,
    /// How the bill shows in `meta.usage`.
    pub billing: &'static Billing,
    /// Adjustments applied in order when their condition holds.
    pub cases: &'static [SimulateCase],
}

/// An adjustment of [`Simulate`] for requests matching `when`.
#[derive(Debug)]
pub struct SimulateCase {
    /// When it applies.
    pub when: When,
    /// Replaces the Kling type.
    pub kling_type: Option<&'static str>,
    /// Appended to the Kling type.
    pub kling_type_suffix: Option<&'static str>,
    /// Multiplies the processing time.
    pub processing_factor: f64,
    /// Multiplies the width and height.
    pub size_factor: f64,
    /// Replaces the output shape.
    pub shape: Option<OutputShape>,
    /// Makes the output from the origin task's video, this many seconds longer.
    pub from_origin: Option<f64>,
    /// Replaces how the bill shows.
    pub billing: Option<&'static Billing>,
}

/// A [`Simulate`] resolved for one request.
#[derive(Debug, Clone, PartialEq)]
pub struct Simulation {
    /// What the task produces.
    pub output: OutputKind,
    /// Where the result goes.
    pub shape: OutputShape,
    /// Kling's own type.
    pub kling_type: String,
    /// Seconds pending, at speed 1.
    pub pending_seconds: f64,
    /// Seconds processing, at speed 1.
    pub processing_seconds: f64,
    /// The output's length in seconds (the origin's length is added by the caller).
    pub seconds: f64,
    /// How many images or clips.
    pub count: u32,
    /// Width and height in pixels.
    pub size: (u32, u32),
    /// Seconds added to the origin task's video, when made from one.
    pub from_origin: Option<f64>,
    /// How the bill shows in `meta.usage`.
    pub billing: &'static Billing,
}

impl Simulate {
    /// Resolves the cases and lengths for `request`.
    pub fn resolve(&self, request: &CreateTaskRequest) -> Simulation {
        let input = request.input_json();
        self.resolve_json(request.task_type(), request.model().as_str(), &input)
    }

    /// [`Simulate::resolve`] on a request's parts: its task type, model and input.
    pub fn resolve_json(&self, task_type: &str, model: &str, input: &Value) -> Simulation {
        let seconds = self.output_seconds(input);
        let mut kling_type = self.kling_type.unwrap_or(task_type).to_owned();
        let mut shape = self.shape;
        let mut processing_factor = 1.0;
        let mut size_factor = 1.0;
        let mut from_origin = self.from_origin;
        let mut billing = self.billing;
        for case in self.cases.iter().filter(|c| c.when.matches(model, input)) {
            if let Some(kind) = case.kling_type {
                kling_type = kind.to_owned();
            }
            if let Some(suffix) = case.kling_type_suffix {
                kling_type.push_str(suffix);
            }
            if let Some(s) = case.shape {
                shape = s;
            }
            if case.from_origin.is_some() {
                from_origin = case.from_origin;
            }
            if let Some(b) = case.billing {
                billing = b;
            }
            processing_factor *= case.processing_factor;
            size_factor *= case.size_factor;
        }
        // Longer videos and clips take longer; an image batch takes what it takes.
        let length_factor = if self.default_seconds > 0.0 && self.output != OutputKind::Images {
            seconds / self.default_seconds
        } else {
            1.0
        };
        let (w, h) = self.size.unwrap_or_else(|| aspect_size(input));
        Simulation {
            output: self.output,
            shape,
            kling_type,
            pending_seconds: self.pending_seconds,
            processing_seconds: self.processing_seconds * length_factor * processing_factor,
            seconds,
            count: self.count_of(input),
            size: (
                (f64::from(w) * size_factor).round() as u32,
                (f64::from(h) * size_factor).round() as u32,
            ),
            from_origin,
            billing,
        }
    }

    /// The output's length: the first of `seconds` that is set, else the default.
    pub fn output_seconds(&self, input: &Value) -> f64 {
        self.seconds
            .iter()
            .find_map(|path| seconds_at(input, path))
            .unwrap_or(self.default_seconds)
    }

    /// How many images or clips `input` asks for.
    pub fn count_of(&self, input: &Value) -> u32 {
        self.count_field
            .and_then(|f| input.get(f))
            .and_then(Value::as_u64)
            .map_or(self.count, |n| n.clamp(1, 1000) as u32)
    }
}

/// The number at `path` (`duration`), or the sum over a list (`multi_shots[].duration`).
fn seconds_at(input: &Value, path: &str) -> Option<f64> {
    match path.split_once("[].") {
        Some((list, field)) => {
            let items = input.get(list)?.as_array().filter(|a| !a.is_empty())?;
            Some(
                items
                    .iter()
                    .filter_map(|item| number(item.get(field)?))
                    .sum(),
            )
        }
        None => input.get(path).and_then(number),
    }
}

/// A number, or a string holding one (PiAPI's examples send both).
fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Nominal sizes: 720 px on the short side, from `aspect_ratio` (`"9:16"`).
fn aspect_size(input: &Value) -> (u32, u32) {
    let ratio = input
        .get("aspect_ratio")
        .and_then(Value::as_str)
        .and_then(|r| r.split_once(':'))
        .and_then(|(w, h)| Some((w.trim().parse::<f64>().ok()?, h.trim().parse::<f64>().ok()?)))
        .filter(|(w, h)| *w > 0.0 && *h > 0.0)
        .unwrap_or((16.0, 9.0));
    let short = 720.0;
    let (w, h) = if ratio.0 >= ratio.1 {
        (short * ratio.0 / ratio.1, short)
    } else {
        (short, short * ratio.1 / ratio.0)
    };
    (w.round() as u32, h.round() as u32)
}

/// The documented price of a task type (`x-price`).
#[derive(Debug)]
pub struct Price {
    /// When the sources were read.
    pub read: &'static str,
    /// The first rule whose condition holds prices the task.
    pub rules: &'static [PriceRule],
}

/// One line of a price table.
#[derive(Debug)]
pub struct PriceRule {
    /// When it applies.
    pub when: When,
    /// The price per unit in 1e-7 USD (`meta.usage`'s unit); `None`: unknown.
    pub units: Option<i64>,
    /// What the price is per.
    pub per: PricePer,
    /// Where the figure comes from (a source tag of the reference).
    pub source: &'static str,
}

/// What a price is charged per.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PricePer {
    /// Each task.
    Task,
    /// Each image or clip made.
    Item,
    /// Each second of output.
    Second,
    /// Each 5 seconds of output, pro rata.
    FiveSeconds,
}

/// An amount of US dollars, held in `meta.usage`'s unit (1e-7 USD) so sums
/// are exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Usd(i64);

impl Usd {
    /// Zero dollars.
    pub const ZERO: Usd = Usd(0);

    /// An amount in `meta.usage` units (1e-7 USD).
    pub const fn from_units(units: i64) -> Usd {
        Usd(units)
    }

    /// An amount in dollars, rounded to the nearest unit (1e-7 USD).
    pub fn from_dollars(dollars: f64) -> Usd {
        Usd((dollars * 1e7).round() as i64)
    }

    /// The amount in `meta.usage` units (1e-7 USD).
    pub const fn units(self) -> i64 {
        self.0
    }

    /// The amount in dollars.
    pub fn dollars(self) -> f64 {
        self.0 as f64 / 1e7
    }
}

impl std::ops::Add for Usd {
    type Output = Usd;
    fn add(self, other: Usd) -> Usd {
        Usd(self.0.saturating_add(other.0))
    }
}

impl std::ops::AddAssign for Usd {
    fn add_assign(&mut self, other: Usd) {
        *self = *self + other;
    }
}

impl std::ops::Sub for Usd {
    type Output = Usd;
    fn sub(self, other: Usd) -> Usd {
        Usd(self.0.saturating_sub(other.0))
    }
}

impl std::iter::Sum for Usd {
    fn sum<I: Iterator<Item = Usd>>(iter: I) -> Usd {
        iter.fold(Usd::ZERO, |a, b| a + b)
    }
}

/// `$0.26`, `$1.3750`: cents, or more digits where the amount has them.
impl std::fmt::Display for Usd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let units = self.0.unsigned_abs();
        let (whole, frac) = (units / 10_000_000, units % 10_000_000);
        if frac % 100_000 == 0 {
            write!(f, "{sign}${whole}.{:02}", frac / 100_000)
        } else {
            let digits = format!("{frac:07}");
            write!(f, "{sign}${whole}.{}", digits.trim_end_matches('0'))
        }
    }
}

/// What a request will cost, as far as the spec's price table knows.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Estimate {
    /// A price from the table.
    Known {
        /// The amount.
        amount: Usd,
        /// The rule's price per unit.
        rate: Usd,
        /// What the rule charges per.
        per: PricePer,
        /// The seconds or items it multiplied by (1 for a per-task price).
        quantity: f64,
        /// The rule's source tag.
        source: &'static str,
    },
    /// The table cannot price it; never counted as free.
    Unknown {
        /// Why.
        reason: String,
    },
}

impl Estimate {
    /// The amount, if known.
    pub fn amount(&self) -> Option<Usd> {
        match self {
            Estimate::Known { amount, .. } => Some(*amount),
            Estimate::Unknown { .. } => None,
        }
    }

    /// The amount in 1e-7 USD, if known.
    pub fn units(&self) -> Option<i64> {
        self.amount().map(Usd::units)
    }

    /// The amount in US dollars, if known.
    pub fn usd(&self) -> Option<f64> {
        self.amount().map(Usd::dollars)
    }
}

impl std::fmt::Display for Estimate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Estimate::Known {
                amount,
                rate,
                per,
                quantity,
                source,
            } => {
                let basis = match per {
                    PricePer::Task => format!("{rate} per task"),
                    PricePer::Item => format!("{quantity} × {rate} per item"),
                    PricePer::Second => format!("{quantity} s × {rate}/s"),
                    PricePer::FiveSeconds => format!("{quantity} s × {rate} per 5 s"),
                };
                write!(f, "{amount} ({basis}; {source})")
            }
            Estimate::Unknown { reason } => write!(f, "unknown ({reason})"),
        }
    }
}

impl CreateTaskRequest {
    /// What the request will cost by the spec's price table, or why that is
    /// unknown (a task type or version the table does not price).
    pub fn estimate(&self) -> Estimate {
        let input = self.input_json();
        estimate_json(self.task_type(), self.model().as_str(), &input)
    }
}

/// [`CreateTaskRequest::estimate`] on a request's parts.
pub fn estimate_json(task_type: &str, model: &str, input: &Value) -> Estimate {
    let Some(info) = self::task_type(task_type) else {
        return Estimate::Unknown {
            reason: format!("the price table does not list the task type `{task_type}`"),
        };
    };
    let Some(price) = info.price else {
        return Estimate::Unknown {
            reason: format!("the spec has no price for `{task_type}`"),
        };
    };
    let Some(rule) = price.rules.iter().find(|r| r.when.matches(model, input)) else {
        return Estimate::Unknown {
            reason: format!("no price of `{task_type}` matches this request's options"),
        };
    };
    let Some(rate) = rule.units else {
        return Estimate::Unknown {
            reason: format!(
                "PiAPI publishes no price for this `{task_type}` ({})",
                rule.source
            ),
        };
    };
    let sim = info.simulate;
    let quantity = match rule.per {
        PricePer::Task => 1.0,
        PricePer::Item => f64::from(sim.count_of(input)),
        PricePer::Second | PricePer::FiveSeconds => sim.output_seconds(input),
    };
    let divisor = if rule.per == PricePer::FiveSeconds {
        5.0
    } else {
        1.0
    };
    Estimate::Known {
        amount: Usd::from_units((rate as f64 * quantity / divisor).round() as i64),
        rate: Usd::from_units(rate),
        per: rule.per,
        quantity,
        source: rule.source,
    }
}

/// Implemented by every input struct of a task type: what a generic builder
/// needs to turn it into a request.
pub trait TaskInput:
    Clone + std::fmt::Debug + serde::Serialize + crate::Validate + Send + Sync + 'static
{
    /// The `task_type` it is sent with.
    const TASK_TYPE: &'static str;

    /// The request carrying this input.
    fn into_request(self, model: crate::Model) -> CreateTaskRequest;

    /// What the spec says about the task type.
    fn info() -> &'static TaskTypeInfo {
        task_type(Self::TASK_TYPE).expect("every generated input has a catalog entry")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn conditions_match_set_values() {
        let when = When {
            fields: &[("mode", &["pro"]), ("image_url", &["*"])],
        };
        assert!(when.matches(
            "kling",
            &json!({"mode": "pro", "image_url": "https://x/a.png"})
        ));
        assert!(!when.matches("kling", &json!({"mode": "pro", "image_url": ""})));
        assert!(!when.matches("kling", &json!({"mode": "std", "image_url": "x"})));
        let flag = When {
            fields: &[("enable_audio", &["true"]), ("model", &["kling-turbo"])],
        };
        assert!(flag.matches("kling-turbo", &json!({"enable_audio": true})));
        assert!(!flag.matches("kling", &json!({"enable_audio": true})));
    }

    #[test]
    fn seconds_sum_lists_and_read_numbers() {
        let input = json!({"multi_shots": [{"duration": 3}, {"duration": "2"}], "duration": 10});
        assert_eq!(seconds_at(&input, "multi_shots[].duration"), Some(5.0));
        assert_eq!(seconds_at(&input, "duration"), Some(10.0));
        assert_eq!(
            seconds_at(&json!({"multi_shots": []}), "multi_shots[].duration"),
            None
        );
    }

    #[test]
    fn dollars_print_as_cents_or_exactly() {
        assert_eq!(Usd::from_units(2_600_000).to_string(), "$0.26");
        assert_eq!(Usd::from_units(650_000).to_string(), "$0.065");
        assert_eq!(Usd::from_dollars(12.5).to_string(), "$12.50");
        assert_eq!(Usd::from_units(-100_000).to_string(), "-$0.01");
        let total: Usd = [Usd::from_units(1), Usd::from_units(2)].into_iter().sum();
        assert_eq!(total.units(), 3);
    }

    #[test]
    fn sizes_follow_the_aspect_ratio() {
        assert_eq!(aspect_size(&json!({})), (1280, 720));
        assert_eq!(aspect_size(&json!({"aspect_ratio": "9:16"})), (720, 1280));
        assert_eq!(aspect_size(&json!({"aspect_ratio": "1:1"})), (720, 720));
        assert_eq!(aspect_size(&json!({"aspect_ratio": "junk"})), (1280, 720));
    }
}
