//! Local validation: every constraint of the spec, checked before a request is sent.
//!
//! The generated `validate_at` methods call per-field checks; each broken
//! rule becomes one [`Violation`] that names the field (as a JSON path such as
//! `input.elements[0].image_url`) and the rule.
//!
//! A violation is an [`Severity::Error`] (a documented hard constraint: sending
//! it would waste the request) or a [`Severity::Warning`] (something this SDK
//! does not know, such as a value an open enum does not list yet: PiAPI may
//! well accept it, so it is sent). [`Validate::validate`] fails on errors only;
//! [`Validate::report`] returns both.

use std::fmt;

/// Something that can check itself against the spec's constraints.
pub trait Validate {
    /// Appends every violation found under `path` (empty for the root) to `out`.
    fn validate_at(&self, path: &str, out: &mut Vec<Violation>);

    /// Checks every constraint and returns all errors at once (warnings are
    /// not errors; [`Validate::report`] has them).
    fn validate(&self) -> Result<(), Violations> {
        self.report().into_result(false).map(|_warnings| ())
    }

    /// Every error and every warning, in the order the fields appear in the spec.
    fn report(&self) -> Report {
        let mut out = Vec::new();
        self.validate_at("", &mut out);
        Report(out)
    }
}

/// How serious a [`Violation`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Severity {
    /// A documented hard constraint: the request is refused before it is sent.
    Error,
    /// Something this SDK does not know (e.g. a value an open enum does not
    /// list): sent as given, and reported.
    Warning,
}

/// Everything [`Validate::report`] found: errors and warnings.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Report(pub Vec<Violation>);

impl Report {
    /// The errors.
    pub fn errors(&self) -> impl Iterator<Item = &Violation> {
        self.0.iter().filter(|v| v.severity == Severity::Error)
    }

    /// The warnings.
    pub fn warnings(&self) -> impl Iterator<Item = &Violation> {
        self.0.iter().filter(|v| v.severity == Severity::Warning)
    }

    /// `Ok(warnings)` when there is no error, else `Err` with the errors; with
    /// `strict`, warnings count as errors.
    pub fn into_result(self, strict: bool) -> Result<Vec<Violation>, Violations> {
        let (errors, warnings): (Vec<Violation>, Vec<Violation>) = self
            .0
            .into_iter()
            .partition(|v| strict || v.severity == Severity::Error);
        if errors.is_empty() {
            Ok(warnings)
        } else {
            Err(Violations(errors))
        }
    }
}

/// The rule a [`Violation`] breaks.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Rule {
    /// A string shorter than `minLength` characters.
    MinLength(u64),
    /// A string longer than `maxLength` characters.
    MaxLength(u64),
    /// A number below `minimum` (or not a finite number).
    Minimum(f64),
    /// A number above `maximum` (or not a finite number).
    Maximum(f64),
    /// An array with fewer than `minItems` items.
    MinItems(u64),
    /// An array with more than `maxItems` items.
    MaxItems(u64),
    /// A value that is not one of the enum's documented values.
    Enum,
    /// A string that is not of the declared format (`uri`).
    Format(&'static str),
    /// A file name without one of the allowed extensions.
    Extension,
    /// `x-rules: requires`: the field needs another field.
    Requires,
    /// `x-rules: requires-value`: the field needs another field to have one of some values.
    RequiresValue,
    /// `x-rules: required-when`: the field is required because of another field's value.
    RequiredWhen,
    /// `x-rules: required-unless`: the field is required when another field is absent.
    RequiredUnless,
    /// `x-rules: forbidden-unless`: the field is allowed only for some values of another field.
    ForbiddenUnless,
    /// `x-rules: conflicts`: two fields that must not be sent together.
    Conflicts,
    /// `x-rules: at-least-one`: none of a group of fields is set.
    AtLeastOne,
    /// `x-rules: exactly-one-nonzero`: not exactly one of a group of numbers is non-zero.
    ExactlyOneNonzero,
    /// `x-rules: sum-max`: the items of a list add up to more than the maximum.
    SumMax(f64),
    /// `x-rules: values-when`: a value the field cannot take given another field's value.
    ValuesWhen,
    /// `x-rules: ignored-when`: a field PiAPI ignores because another is set (a warning).
    IgnoredWhen,
}

impl Rule {
    /// The rule's name as the spec spells it (`maxLength`, `requires`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            Rule::MinLength(_) => "minLength",
            Rule::MaxLength(_) => "maxLength",
            Rule::Minimum(_) => "minimum",
            Rule::Maximum(_) => "maximum",
            Rule::MinItems(_) => "minItems",
            Rule::MaxItems(_) => "maxItems",
            Rule::Enum => "enum",
            Rule::Format(_) => "format",
            Rule::Extension => "x-allowed-extensions",
            Rule::Requires => "requires",
            Rule::RequiresValue => "requires-value",
            Rule::RequiredWhen => "required-when",
            Rule::RequiredUnless => "required-unless",
            Rule::ForbiddenUnless => "forbidden-unless",
            Rule::Conflicts => "conflicts",
            Rule::AtLeastOne => "at-least-one",
            Rule::ExactlyOneNonzero => "exactly-one-nonzero",
            Rule::SumMax(_) => "sum-max",
            Rule::ValuesWhen => "values-when",
            Rule::IgnoredWhen => "ignored-when",
        }
    }
}

/// One broken rule: where, which rule, and a sentence saying what is wrong.
#[derive(Clone, Debug, PartialEq)]
pub struct Violation {
    /// The JSON path of the field, e.g. `input.prompt` or `input.elements[4]`.
    pub path: String,
    /// The rule that is broken.
    pub rule: Rule,
    /// What is wrong, for people.
    pub message: String,
    /// An error (refused) or a warning (sent anyway).
    pub severity: Severity,
}

impl Violation {
    /// An error: `rule` is broken at `path`.
    pub fn new(path: impl Into<String>, rule: Rule, message: impl Into<String>) -> Self {
        Violation {
            path: path.into(),
            rule,
            message: message.into(),
            severity: Severity::Error,
        }
    }

    /// A warning about `rule` at `path`: the value is sent as given.
    pub fn warning(path: impl Into<String>, rule: Rule, message: impl Into<String>) -> Self {
        Violation {
            severity: Severity::Warning,
            ..Violation::new(path, rule, message)
        }
    }

    /// True for a warning.
    pub fn is_warning(&self) -> bool {
        self.severity == Severity::Warning
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() {
            "(body)"
        } else {
            &self.path
        };
        let level = if self.is_warning() { "warning: " } else { "" };
        write!(f, "{level}{path}: {} ({})", self.message, self.rule.name())
    }
}

/// Every violation found in one value; never empty.
#[derive(Clone, Debug, PartialEq)]
pub struct Violations(pub Vec<Violation>);

impl Violations {
    /// The violations, in the order the fields appear in the spec.
    pub fn iter(&self) -> std::slice::Iter<'_, Violation> {
        self.0.iter()
    }

    /// How many rules are broken.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always false: a `Violations` holds at least one violation.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Violations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, v) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{v}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Violations {}

impl IntoIterator for Violations {
    type Item = Violation;
    type IntoIter = std::vec::IntoIter<Violation>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a Violations {
    type Item = &'a Violation;
    type IntoIter = std::slice::Iter<'a, Violation>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// True for `http://host…` and `https://host…` without whitespace: what the
/// spec's `format: uri` fields accept.
pub fn is_http_url(value: &str) -> bool {
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"));
    match rest {
        Some(rest) => {
            let host = rest.split(['/', '?', '#']).next().unwrap_or("");
            !host.is_empty() && !value.chars().any(char::is_whitespace)
        }
        None => false,
    }
}
