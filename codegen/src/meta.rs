//! The task-type metadata extensions, parsed with serde: `x-media` on a field,
//! `x-simulate` and `x-price` on a variant of the create request (formats in
//! `spec/README.md`). `catalog` turns them into the models' catalog.

use anyhow::{Context, Result, anyhow, bail};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// `x-media`: the field carries a media URL.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct MediaDef {
    /// image, video or audio.
    pub kind: MediaKindDef,
    /// Accepted extensions, lowercase.
    pub extensions: Vec<String>,
    /// Largest file.
    #[serde(default)]
    pub max_bytes: Option<u64>,
    /// Shortest image side.
    #[serde(default)]
    pub min_side: Option<u32>,
    /// Longest audio or video.
    #[serde(default)]
    pub max_seconds: Option<f64>,
    /// Shortest audio or video.
    #[serde(default)]
    pub min_seconds: Option<f64>,
}

/// The kind of media.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MediaKindDef {
    /// A still image.
    Image,
    /// A video.
    Video,
    /// An audio clip.
    Audio,
}

/// `x-simulate`: how the simulator runs a task type.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SimulateDef {
    /// video, images or audio.
    pub output: OutputDef,
    /// classic or video.
    #[serde(default)]
    pub shape: Option<ShapeDef>,
    /// Kling's type for `output.type`.
    #[serde(default)]
    pub kling_type: Option<String>,
    /// Seconds pending.
    #[serde(default)]
    pub pending_seconds: Option<f64>,
    /// Seconds processing for a `default-seconds` output.
    #[serde(default)]
    pub processing_seconds: Option<f64>,
    /// Input paths giving the output's length.
    #[serde(default)]
    pub seconds: Vec<String>,
    /// The length when none is set.
    #[serde(default)]
    pub default_seconds: Option<f64>,
    /// The input field counting images or clips.
    #[serde(default)]
    pub count_field: Option<String>,
    /// The count when `count-field` is not set.
    #[serde(default)]
    pub count: Option<u32>,
    /// Width and height.
    #[serde(default)]
    pub size: Option<[u32; 2]>,
    /// Made from the origin task's video, this many seconds longer.
    #[serde(default)]
    pub from_origin: Option<f64>,
    /// How the bill shows in `meta.usage` (default: points, frozen until
    /// completion).
    #[serde(default)]
    pub billing: Option<BillingDef>,
    /// Adjustments by condition.
    #[serde(default)]
    pub cases: Vec<CaseDef>,
}

/// What a task produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OutputDef {
    /// One video.
    Video,
    /// Images.
    Images,
    /// Audio clips.
    Audio,
}

/// Where the result goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ShapeDef {
    /// `video_url` + `works[]`.
    Classic,
    /// `output.video`.
    Video,
}

/// One `cases` entry of `x-simulate`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct CaseDef {
    /// Field -> values.
    pub when: BTreeMap<String, Vec<Value>>,
    /// Replaces the Kling type.
    #[serde(default)]
    pub kling_type: Option<String>,
    /// Appended to the Kling type.
    #[serde(default)]
    pub kling_type_suffix: Option<String>,
    /// Multiplies the processing time.
    #[serde(default)]
    pub processing_factor: Option<f64>,
    /// Multiplies the size.
    #[serde(default)]
    pub size_factor: Option<f64>,
    /// Replaces the shape.
    #[serde(default)]
    pub shape: Option<ShapeDef>,
    /// Makes the video from the origin task's, this many seconds longer.
    #[serde(default)]
    pub from_origin: Option<f64>,
    /// Replaces how the bill shows.
    #[serde(default)]
    pub billing: Option<BillingDef>,
}

/// `billing` of `x-simulate` or of one of its cases: how PiAPI reports the
/// bill in `meta.usage`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct BillingDef {
    /// `usage.type` (`point`, `llm`).
    pub usage_type: String,
    /// When the price is taken.
    pub charged_at: ChargedAtDef,
}

/// When PiAPI takes a task's price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChargedAtDef {
    /// Consumed at creation (`frozen` 0).
    Creation,
    /// Frozen until the task completes, then consumed.
    Completion,
}

/// `x-price`: the documented price table of a task type.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct PriceDef {
    /// When the sources were read.
    pub read: String,
    /// First match wins.
    pub rules: Vec<PriceRuleDef>,
}

/// One price rule.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct PriceRuleDef {
    /// Field -> values.
    #[serde(default)]
    pub when: BTreeMap<String, Vec<Value>>,
    /// USD per unit; `null` means unknown. Required, so "unknown" is said, not forgotten.
    pub usd: Option<f64>,
    /// What it is per.
    pub per: PerDef,
    /// The source tag.
    pub source: String,
}

/// What a price is per.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum PerDef {
    /// Each task.
    #[serde(rename = "task")]
    Task,
    /// Each item made.
    #[serde(rename = "item")]
    Item,
    /// Each second.
    #[serde(rename = "second")]
    Second,
    /// Each 5 seconds, pro rata.
    #[serde(rename = "5-seconds")]
    FiveSeconds,
}

fn parse<T: for<'de> Deserialize<'de>>(value: &Value, key: &str) -> Result<T> {
    serde_json::from_value(value.clone()).map_err(|e| anyhow!("{key}: {e}"))
}

/// Parses `x-media`.
pub fn media(value: &Value) -> Result<MediaDef> {
    let def: MediaDef = parse(value, "x-media")?;
    if def.extensions.is_empty() {
        bail!("x-media: `extensions` must not be empty");
    }
    if let Some(bad) = def
        .extensions
        .iter()
        .find(|e| e.is_empty() || e.starts_with('.') || e.to_lowercase() != **e)
    {
        bail!("x-media: extension `{bad}` must be lowercase, without a dot");
    }
    Ok(def)
}

/// Parses `x-simulate`.
pub fn simulate(value: &Value) -> Result<SimulateDef> {
    parse(value, "x-simulate")
}

/// Parses `x-price` (a `usd` key must be present in every rule, `null` for unknown).
pub fn price(value: &Value) -> Result<PriceDef> {
    let def: PriceDef = parse(value, "x-price")?;
    let rules = value.get("rules").and_then(Value::as_array);
    for (i, rule) in rules.into_iter().flatten().enumerate() {
        if rule.get("usd").is_none() {
            bail!("x-price: rules[{i}] needs `usd` (a number, or null for unknown)");
        }
    }
    if def.rules.is_empty() {
        bail!("x-price: `rules` must not be empty");
    }
    for (i, rule) in def.rules.iter().enumerate() {
        if rule.usd.is_some_and(|usd| !(usd >= 0.0 && usd.is_finite())) {
            bail!("x-price: rules[{i}]: `usd` must be a non-negative number");
        }
        if rule.source.trim().is_empty() {
            bail!("x-price: rules[{i}] needs a `source`");
        }
    }
    Ok(def)
}

/// The text a `when` value is compared as.
pub fn when_text(value: &Value) -> Result<String> {
    Ok(match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => bail!("a `when` value must be a string, number or boolean, got {other}"),
    })
}

/// Checks that every field a `when`, `seconds` or `count-field` names exists in
/// `fields` (the input's wire names), or is `model`.
pub fn check_names(
    fields: &[&str],
    simulate: Option<&SimulateDef>,
    price: Option<&PriceDef>,
) -> Result<()> {
    let known = |name: &str, what: &str| -> Result<()> {
        if name == "model" || fields.contains(&name) {
            Ok(())
        } else {
            bail!("{what} names `{name}`, which is not a field of the input")
        }
    };
    let whens = simulate
        .into_iter()
        .flat_map(|s| s.cases.iter().enumerate())
        .map(|(i, c)| (format!("x-simulate cases[{i}]"), &c.when))
        .chain(
            price
                .into_iter()
                .flat_map(|p| p.rules.iter().enumerate())
                .map(|(i, r)| (format!("x-price rules[{i}]"), &r.when)),
        );
    for (at, when) in whens {
        for (name, values) in when {
            known(name, &format!("{at}: `when`"))?;
            for v in values {
                when_text(v).with_context(|| format!("{at}: `when.{name}`"))?;
            }
        }
    }
    if let Some(sim) = simulate {
        for path in &sim.seconds {
            let head = path.split("[].").next().unwrap_or(path);
            known(head, "x-simulate `seconds`")?;
        }
        if let Some(f) = &sim.count_field {
            known(f, "x-simulate `count-field`")?;
        }
    }
    Ok(())
}
