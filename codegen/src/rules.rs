//! `x-rules`: the cross-field rules of an object schema, parsed with serde.
//! Which fields they name is checked against the schema in `ir`; the
//! `validate()` code they become is written in `models`.

use anyhow::{Context, Result, anyhow, bail};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// One `x-rules` entry with its severity.
#[derive(Debug, Clone)]
pub struct Rule {
    /// What the rule checks.
    pub def: RuleDef,
    /// `severity: warning`: reported, but the request is sent anyway (for
    /// constraints that are inferred, not documented by PiAPI).
    pub warning: bool,
}

/// What one `x-rules` entry checks. `reason` ends up in the message.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "rule", rename_all = "kebab-case", deny_unknown_fields)]
pub enum RuleDef {
    /// `field` needs `requires`.
    Requires {
        /// The field the rule is about.
        field: String,
        /// The field it needs.
        requires: String,
        /// Why, for the message.
        #[serde(default)]
        reason: String,
    },
    /// `field` needs `other` to be one of `values`.
    RequiresValue {
        /// The field the rule is about.
        field: String,
        /// The field whose value matters.
        other: String,
        /// Allowed values of `other`.
        #[serde(deserialize_with = "scalars")]
        values: Vec<String>,
        /// Why.
        #[serde(default)]
        reason: String,
    },
    /// `field` is required when `when` is one of `values`.
    RequiredWhen {
        /// The field the rule is about.
        field: String,
        /// The field whose value matters.
        when: String,
        /// The values that make `field` required.
        #[serde(deserialize_with = "scalars")]
        values: Vec<String>,
        /// Why.
        #[serde(default)]
        reason: String,
    },
    /// `field` is required when none of `unless` is set.
    RequiredUnless {
        /// The field the rule is about.
        field: String,
        /// The fields whose absence makes `field` required (a name or a list).
        #[serde(deserialize_with = "one_or_many")]
        unless: Vec<String>,
        /// Why.
        #[serde(default)]
        reason: String,
    },
    /// `field` is allowed only when `when` is one of `values`.
    ForbiddenUnless {
        /// The field the rule is about.
        field: String,
        /// The field whose value matters.
        when: String,
        /// The values that allow `field`.
        #[serde(deserialize_with = "scalars")]
        values: Vec<String>,
        /// Why.
        #[serde(default)]
        reason: String,
    },
    /// `field` must not be sent with any of `with`.
    Conflicts {
        /// The field the rule is about.
        field: String,
        /// The fields it excludes.
        with: Vec<String>,
        /// Why.
        #[serde(default)]
        reason: String,
    },
    /// At least one of `fields` is set.
    AtLeastOne {
        /// The group.
        fields: Vec<String>,
        /// Why.
        #[serde(default)]
        reason: String,
    },
    /// Exactly one of the numeric `fields` is non-zero.
    ExactlyOneNonzero {
        /// The group.
        fields: Vec<String>,
        /// Why.
        #[serde(default)]
        reason: String,
    },
    /// The `item` values of the list `field` add up to at most `max`.
    SumMax {
        /// The list of objects.
        field: String,
        /// The numeric field of each item.
        item: String,
        /// The largest total.
        max: f64,
        /// Why.
        #[serde(default)]
        reason: String,
    },
    /// Each of `fields` is ignored by PiAPI when `when` is set (always a warning).
    IgnoredWhen {
        /// The fields that are ignored.
        fields: Vec<String>,
        /// The field that makes them ignored.
        when: String,
        /// Why.
        #[serde(default)]
        reason: String,
    },
    /// When `when` is one of `is`, `field` (if set) must be one of `values`.
    ValuesWhen {
        /// The field the rule is about.
        field: String,
        /// The field whose value matters.
        when: String,
        /// The values of `when` the rule applies to.
        #[serde(deserialize_with = "scalars")]
        is: Vec<String>,
        /// The values `field` may take then.
        #[serde(deserialize_with = "scalars")]
        values: Vec<String>,
        /// Why.
        #[serde(default)]
        reason: String,
    },
}

/// A name, or a list of names.
fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(name) => vec![name],
        OneOrMany::Many(names) => names,
    })
}

/// Strings or numbers, as text (integer enums are compared by their digits).
fn scalars<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Vec<String>, D::Error> {
    let values = Vec::<Value>::deserialize(d)?;
    values
        .into_iter()
        .map(|v| match v {
            Value::String(s) => Ok(s),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            other => Err(serde::de::Error::custom(format!(
                "expected a string or a number, got {other}"
            ))),
        })
        .collect()
}

impl RuleDef {
    /// The lists the rule compares with or groups, which must not be empty.
    fn lists(&self) -> Vec<(&'static str, &Vec<String>)> {
        match self {
            RuleDef::RequiresValue { values, .. }
            | RuleDef::RequiredWhen { values, .. }
            | RuleDef::ForbiddenUnless { values, .. } => vec![("values", values)],
            RuleDef::Conflicts { with, .. } => vec![("with", with)],
            RuleDef::AtLeastOne { fields, .. }
            | RuleDef::ExactlyOneNonzero { fields, .. }
            | RuleDef::IgnoredWhen { fields, .. } => vec![("fields", fields)],
            RuleDef::ValuesWhen { is, values, .. } => vec![("is", is), ("values", values)],
            RuleDef::RequiredUnless { unless, .. } => vec![("unless", unless)],
            RuleDef::Requires { .. } | RuleDef::SumMax { .. } => Vec::new(),
        }
    }
}

/// Parses an `x-rules` list.
pub fn parse_rules(value: &Value) -> Result<Vec<Rule>> {
    let list = value
        .as_array()
        .ok_or_else(|| anyhow!("x-rules must be a list"))?;
    list.iter()
        .enumerate()
        .map(|(i, r)| parse_rule(r).with_context(|| format!("x-rules[{i}]")))
        .collect()
}

fn parse_rule(r: &Value) -> Result<Rule> {
    let mut object = r
        .as_object()
        .cloned()
        .ok_or_else(|| anyhow!("a rule must be an object"))?;
    let warning = match object.remove("severity") {
        None => false,
        Some(Value::String(s)) if s == "error" => false,
        Some(Value::String(s)) if s == "warning" => true,
        Some(other) => bail!("`severity` must be `error` or `warning`, got {other}"),
    };
    let def: RuleDef = serde_json::from_value(Value::Object(object)).map_err(|e| {
        anyhow!(
            "{e}; known rules: requires, requires-value, required-when, required-unless, \
             forbidden-unless, conflicts, at-least-one, exactly-one-nonzero, sum-max, \
             ignored-when, values-when"
        )
    })?;
    for (key, list) in def.lists() {
        if list.is_empty() {
            bail!("`{key}` must not be empty");
        }
    }
    Ok(Rule { def, warning })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rules_parse_with_severity_and_typo_checks() {
        let rules = parse_rules(&json!([
            {"rule": "values-when", "field": "duration", "when": "version",
             "is": ["3.0"], "values": [3, 15], "severity": "warning"},
            {"rule": "requires", "field": "a", "requires": "b"}
        ]))
        .unwrap();
        assert!(rules[0].warning && !rules[1].warning);
        let RuleDef::ValuesWhen { values, .. } = &rules[0].def else {
            panic!("{:?}", rules[0]);
        };
        assert_eq!(values, &["3", "15"]);
        let typo = parse_rules(&json!([{"rule": "requires", "field": "a", "requirez": "b"}]));
        assert!(format!("{:#}", typo.unwrap_err()).contains("requirez"));
        let empty = parse_rules(&json!([{"rule": "at-least-one", "fields": []}]));
        assert!(format!("{:#}", empty.unwrap_err()).contains("must not be empty"));
        let unknown = parse_rules(&json!([{"rule": "frobnicate"}]));
        assert!(format!("{:#}", unknown.unwrap_err()).contains("known rules"));
    }
}
