//! Rust names from wire names: references, enum variants, fields.

use anyhow::{Result, anyhow};
use heck::{ToSnakeCase, ToUpperCamelCase};

/// The name of the extra-fields map every struct carries; no property may take it.
pub const EXTRA_FIELD: &str = "extra";

/// The component name of a local `$ref`.
pub fn ref_name(reference: &str) -> Result<&str> {
    reference
        .strip_prefix("#/components/schemas/")
        .ok_or_else(|| anyhow!("`{reference}` is not a reference to #/components/schemas/"))
}

/// A Rust variant name for an enum value: `x-enum-varnames` when given, else the
/// value in UpperCamelCase, with a `V` in front when it starts with a digit.
pub fn variant_name(value: &str) -> Option<String> {
    let cleaned: String = value
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let camel = cleaned.to_upper_camel_case();
    let camel = if camel.starts_with(|c: char| c.is_ascii_digit()) {
        // Keep digit groups apart so "1.6" (V1_6) and "16" (V16) cannot meet.
        let mut name = String::from("V");
        for part in value
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|p| !p.is_empty())
        {
            let digit_meets_digit = name.ends_with(|c: char| c.is_ascii_digit())
                && part.starts_with(|c: char| c.is_ascii_digit());
            if digit_meets_digit {
                name.push('_');
            }
            name.push_str(&part.to_upper_camel_case());
        }
        name
    } else {
        camel
    };
    (!camel.is_empty() && camel != "V").then_some(camel)
}

/// A Rust field name: snake case, keywords as raw identifiers.
pub fn field_ident(wire: &str) -> String {
    let snake = wire.to_snake_case();
    let snake = if snake.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{snake}")
    } else {
        snake
    };
    if syn::parse_str::<syn::Ident>(&snake).is_ok() {
        snake
    } else if matches!(snake.as_str(), "self" | "super" | "crate" | "extern" | "_") {
        // These cannot be raw identifiers; the serde rename keeps the wire name.
        format!("{snake}_")
    } else {
        format!("r#{snake}")
    }
}
