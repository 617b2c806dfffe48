//! `x-rules` checked against the struct they belong to.

use anyhow::{Result, anyhow, bail};
use openapiv3::{ReferenceOr, SchemaKind, Type};

use super::*;

impl Ctx<'_> {
    /// Every field a rule names exists, and every value it compares is one the field can hold.
    pub(super) fn check_rules(&self, def: &StructDef) -> Result<()> {
        let field = |name: &str| {
            def.fields.iter().find(|f| f.wire == name).ok_or_else(|| {
                anyhow!(
                    "x-rules names `{name}`, which is not a property of {}",
                    def.name
                )
            })
        };
        let check_values = |name: &str, values: &[String]| -> Result<()> {
            let f = field(name)?;
            match &f.ty {
                FieldType::String => Ok(()),
                FieldType::Named(enum_name, NamedKind::StringEnum) => {
                    let schema = self.schemas.get(enum_name).and_then(ReferenceOr::as_item);
                    let known: Vec<String> = match schema.map(|s| &s.schema_kind) {
                        Some(SchemaKind::Type(Type::String(s))) => {
                            s.enumeration.iter().flatten().cloned().collect()
                        }
                        _ => Vec::new(),
                    };
                    for v in values {
                        if !known.contains(v) {
                            bail!(
                                "x-rules compares `{name}` with `{v}`, which is not a value of {enum_name}"
                            );
                        }
                    }
                    Ok(())
                }
                _ => bail!(
                    "x-rules compares `{name}` with values, but it is not a string or string enum"
                ),
            }
        };
        // Like `check_values`, for any scalar field (integer enums too).
        let check_any_values = |name: &str, values: &[String]| -> Result<()> {
            let f = field(name)?;
            match &f.ty {
                FieldType::Named(
                    enum_name,
                    kind @ (NamedKind::StringEnum | NamedKind::IntEnum),
                ) => {
                    let schema = self.schemas.get(enum_name).and_then(ReferenceOr::as_item);
                    let known: Vec<String> = match schema.map(|s| &s.schema_kind) {
                        Some(SchemaKind::Type(Type::String(s))) => {
                            s.enumeration.iter().flatten().cloned().collect()
                        }
                        Some(SchemaKind::Type(Type::Integer(i))) => {
                            i.enumeration.iter().flatten().map(i64::to_string).collect()
                        }
                        _ => Vec::new(),
                    };
                    let open = schema
                        .is_some_and(|s| s.schema_data.extensions.contains_key("x-open-enum"));
                    for v in values {
                        if *kind == NamedKind::IntEnum && v.parse::<i64>().is_err() {
                            bail!("x-rules compares `{name}` with `{v}`, which is not an integer");
                        }
                        if !open && !known.contains(v) {
                            bail!(
                                "x-rules compares `{name}` with `{v}`, which is not a value of {enum_name}"
                            );
                        }
                    }
                    Ok(())
                }
                FieldType::String | FieldType::Integer | FieldType::Number | FieldType::Boolean => {
                    Ok(())
                }
                _ => bail!("x-rules compares `{name}` with values, but it is not a scalar"),
            }
        };
        for rule in &def.rules {
            match &rule.def {
                RuleDef::Requires {
                    field: a,
                    requires: b,
                    ..
                } => {
                    field(a)?;
                    field(b)?;
                }
                RuleDef::RequiresValue {
                    field: a,
                    other,
                    values,
                    ..
                } => {
                    field(a)?;
                    check_values(other, values)?;
                }
                RuleDef::RequiredWhen {
                    field: a,
                    when,
                    values,
                    ..
                }
                | RuleDef::ForbiddenUnless {
                    field: a,
                    when,
                    values,
                    ..
                } => {
                    field(a)?;
                    check_values(when, values)?;
                }
                RuleDef::RequiredUnless {
                    field: a, unless, ..
                } => {
                    field(a)?;
                    for u in unless {
                        field(u)?;
                    }
                }
                RuleDef::Conflicts { field: a, with, .. } => {
                    field(a)?;
                    for w in with {
                        field(w)?;
                    }
                }
                RuleDef::AtLeastOne { fields, .. } => {
                    for f in fields {
                        field(f)?;
                    }
                }
                RuleDef::ExactlyOneNonzero { fields, .. } => {
                    for f in fields {
                        if !matches!(field(f)?.ty, FieldType::Number | FieldType::Integer) {
                            bail!("exactly-one-nonzero: `{f}` is not a number");
                        }
                    }
                }
                RuleDef::SumMax {
                    field: list, item, ..
                } => {
                    let items = match &field(list)?.ty {
                        FieldType::Array(inner) => match inner.as_ref() {
                            FieldType::Named(name, NamedKind::Object) => name.clone(),
                            _ => bail!("sum-max: `{list}` is not a list of objects"),
                        },
                        _ => bail!("sum-max: `{list}` is not a list"),
                    };
                    let schema = self.schemas.get(&items).and_then(ReferenceOr::as_item);
                    let has_number = match schema.map(|s| &s.schema_kind) {
                        Some(SchemaKind::Type(Type::Object(o))) => {
                            o.properties.get(item).is_some_and(|p| {
                                matches!(
                                    p.as_item().map(|s| &s.schema_kind),
                                    Some(SchemaKind::Type(Type::Integer(_) | Type::Number(_)))
                                )
                            })
                        }
                        _ => false,
                    };
                    if !has_number {
                        bail!("sum-max: the items of `{list}` ({items}) have no number `{item}`");
                    }
                }
                RuleDef::IgnoredWhen { fields, when, .. } => {
                    field(when)?;
                    for f in fields {
                        field(f)?;
                    }
                }
                RuleDef::ValuesWhen {
                    field: a,
                    when,
                    is,
                    values,
                    ..
                } => {
                    check_any_values(a, values)?;
                    check_any_values(when, is)?;
                }
            }
        }
        Ok(())
    }
}
