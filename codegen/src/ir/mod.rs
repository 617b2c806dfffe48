//! The generator's view of the spec: one [`TypeDef`] per component schema (plus one
//! struct per variant of a tagged `oneOf`), with field types, constraints and rules
//! already resolved. Everything the models generator emits comes from here.
//!
//! The types are here; reading them off the spec is split by job:
//! `schema` reads one schema's extensions and docs, `names` turns wire
//! names into Rust names, `components` builds enums, structs and fields,
//! `tagged` builds a tagged `oneOf`, and `rule_checks` checks `x-rules`
//! against the fields they name.

use anyhow::{Context, Result, anyhow};
use openapiv3::{ReferenceOr, Schema, SchemaKind, Type};
use std::collections::BTreeMap;

use crate::meta::{MediaDef, PriceDef, SimulateDef};
pub use crate::rules::{Rule, RuleDef};
mod components;
mod names;
mod rule_checks;
mod schema;
mod tagged;

pub use names::{EXTRA_FIELD, field_ident, ref_name, variant_name};

/// A Rust type to emit.
#[derive(Debug, Clone)]
pub enum TypeDef {
    /// A forward-compatible string enum.
    StringEnum(StringEnum),
    /// A forward-compatible integer enum.
    IntEnum(IntEnum),
    /// A struct from an object schema.
    Struct(StructDef),
    /// An internally tagged enum from a `oneOf` of objects that pin one property.
    Tagged(TaggedDef),
}

impl TypeDef {
    /// The Rust (and component) name.
    pub fn name(&self) -> &str {
        match self {
            TypeDef::StringEnum(e) => &e.name,
            TypeDef::IntEnum(e) => &e.name,
            TypeDef::Struct(s) => &s.name,
            TypeDef::Tagged(t) => &t.name,
        }
    }
}

/// A string enum.
#[derive(Debug, Clone)]
pub struct StringEnum {
    /// Type name.
    pub name: String,
    /// Doc text.
    pub doc: String,
    /// `(variant name, wire value)` in spec order.
    pub variants: Vec<(String, String)>,
    /// `x-case-insensitive`: parse any casing, write the spec's.
    pub case_insensitive: bool,
    /// `x-open-enum`: why the list grows with the API. A value it does not list
    /// is sent with a warning instead of refused.
    pub open: Option<String>,
}

/// An integer enum.
#[derive(Debug, Clone)]
pub struct IntEnum {
    /// Type name.
    pub name: String,
    /// Doc text.
    pub doc: String,
    /// `(variant name, wire value)` in spec order.
    pub variants: Vec<(String, i64)>,
    /// `x-open-enum`: see [`StringEnum::open`].
    pub open: Option<String>,
}

/// A struct.
#[derive(Debug, Clone)]
pub struct StructDef {
    /// Type name.
    pub name: String,
    /// Doc text.
    pub doc: String,
    /// Fields in spec order.
    pub fields: Vec<Field>,
    /// Cross-field rules (`x-rules`).
    pub rules: Vec<Rule>,
    /// Whether this struct is one component schema (false for tagged-variant payloads).
    pub component: bool,
}

/// An internally tagged enum.
#[derive(Debug, Clone)]
pub struct TaggedDef {
    /// Type name.
    pub name: String,
    /// Doc text.
    pub doc: String,
    /// The property that tells the variants apart.
    pub tag: String,
    /// Variants in spec order.
    pub variants: Vec<TaggedVariant>,
    /// The payload of the catch-all variant for a tag value the spec does not
    /// list: the tag as a string, the properties every variant shares (typed
    /// where all variants agree, raw JSON where they differ), and the rest.
    pub unknown: StructDef,
    /// `x-simulate` on the `oneOf` itself: how to simulate a tag it does not list.
    pub default_simulate: Option<Box<SimulateDef>>,
}

/// One variant of a tagged enum.
#[derive(Debug, Clone)]
pub struct TaggedVariant {
    /// Variant name (from the tag value).
    pub ident: String,
    /// Tag value on the wire.
    pub value: String,
    /// Payload struct (named by the inline schema's `title`).
    pub payload: String,
    /// Doc text.
    pub doc: String,
    /// `x-simulate` of the variant.
    pub simulate: Option<SimulateDef>,
    /// `x-price` of the variant.
    pub price: Option<PriceDef>,
}

/// A struct field.
#[derive(Debug, Clone)]
pub struct Field {
    /// Property name on the wire.
    pub wire: String,
    /// Rust field name (snake case; keywords are raw identifiers).
    pub ident: String,
    /// Doc text.
    pub doc: String,
    /// The value's type.
    pub ty: FieldType,
    /// In the schema's `required` list.
    pub required: bool,
    /// `nullable: true`.
    pub nullable: bool,
    /// Constraints checked by `validate()`.
    pub constraints: Constraints,
    /// `x-sensitive`: redacted in Debug.
    pub sensitive: bool,
    /// `x-accept-numeric-string`: decode `"0.5"` as 0.5.
    pub numeric_string: bool,
    /// `x-empty-means-unset`: `""` is the same as absent for format checks.
    pub empty_means_unset: bool,
    /// `x-media`: the field (or each string of the list) is a media URL.
    pub media: Option<MediaDef>,
    /// `x-origin-task`: the id of the finished task this one builds on.
    pub origin_task: bool,
}

impl Field {
    /// Whether the Rust type is wrapped in `Option`.
    pub fn is_option(&self) -> bool {
        !matches!(self.ty, FieldType::Any) && (!self.required || self.nullable)
    }
}

/// A field's value type.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldType {
    /// `String`.
    String,
    /// `f64`.
    Number,
    /// `i64`.
    Integer,
    /// `bool`.
    Boolean,
    /// A generated type.
    Named(String, NamedKind),
    /// `Vec<T>`.
    Array(Box<FieldType>),
    /// A free-form object: `serde_json::Map<String, Value>`.
    Map,
    /// Any JSON value: `serde_json::Value`.
    Any,
}

/// What kind of generated type a [`FieldType::Named`] is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NamedKind {
    /// A string enum.
    StringEnum,
    /// An integer enum.
    IntEnum,
    /// A struct or tagged enum.
    Object,
}

/// Constraints from the schema keywords.
#[derive(Debug, Clone, Default)]
pub struct Constraints {
    /// `minLength`.
    pub min_length: Option<u64>,
    /// `maxLength`.
    pub max_length: Option<u64>,
    /// `minimum`.
    pub minimum: Option<f64>,
    /// `maximum`.
    pub maximum: Option<f64>,
    /// `minItems`.
    pub min_items: Option<u64>,
    /// `maxItems`.
    pub max_items: Option<u64>,
    /// `format: uri`.
    pub uri: bool,
    /// `x-allowed-extensions`.
    pub extensions: Vec<String>,
    /// The constraints of each item of a list of plain values.
    pub items: Option<Box<Constraints>>,
}

/// The whole model: type definitions in spec order.
#[derive(Debug, Clone)]
pub struct Model {
    /// Every type to emit.
    pub types: Vec<TypeDef>,
}

impl Model {
    /// Looks a type up by name.
    pub fn get(&self, name: &str) -> Option<&TypeDef> {
        self.types.iter().find(|t| t.name() == name)
    }
}

/// Builds the model from the spec's component schemas.
pub fn build(openapi: &openapiv3::OpenAPI) -> Result<Model> {
    let schemas = openapi
        .components
        .as_ref()
        .map(|c| &c.schemas)
        .ok_or_else(|| anyhow!("the spec has no components.schemas"))?;
    let kinds: BTreeMap<&str, NamedKind> = schemas
        .iter()
        .map(|(name, s)| Ok((name.as_str(), kind_of(name, s)?)))
        .collect::<Result<_>>()?;
    let ctx = Ctx { schemas, kinds };
    let mut types = Vec::new();
    for (name, schema) in schemas {
        let schema = schema
            .as_item()
            .ok_or_else(|| anyhow!("components.schemas.{name}: a component must not be a $ref"))?;
        ctx.add_component(name, schema, &mut types)
            .with_context(|| format!("components.schemas.{name}"))?;
    }
    Ok(Model { types })
}

fn kind_of(name: &str, schema: &ReferenceOr<Schema>) -> Result<NamedKind> {
    let schema = schema
        .as_item()
        .ok_or_else(|| anyhow!("components.schemas.{name}: a component must not be a $ref"))?;
    Ok(match &schema.schema_kind {
        SchemaKind::Type(Type::String(s)) if !s.enumeration.is_empty() => NamedKind::StringEnum,
        SchemaKind::Type(Type::Integer(i)) if !i.enumeration.is_empty() => NamedKind::IntEnum,
        _ => NamedKind::Object,
    })
}

/// What every builder of the model reads: the spec's component schemas and
/// the kind of each.
struct Ctx<'a> {
    pub(super) schemas: &'a indexmap::IndexMap<String, ReferenceOr<Schema>>,
    pub(super) kinds: BTreeMap<&'a str, NamedKind>,
}
