//! The generator's view of the spec: one [`TypeDef`] per component schema (plus one
//! struct per variant of a tagged `oneOf`), with field types, constraints and rules
//! already resolved. Everything the models generator emits comes from here.

use anyhow::{Context, Result, anyhow, bail};
use heck::{ToSnakeCase, ToUpperCamelCase};
use openapiv3::{
    AdditionalProperties, ReferenceOr, Schema, SchemaKind, StringFormat, Type,
    VariantOrUnknownOrEmpty,
};
use serde_json::Value;
use std::collections::BTreeMap;

use crate::meta::{self, MediaDef, PriceDef, SimulateDef};
use crate::rules::parse_rules;
pub use crate::rules::{Rule, RuleDef};

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

struct Ctx<'a> {
    schemas: &'a indexmap::IndexMap<String, ReferenceOr<Schema>>,
    kinds: BTreeMap<&'a str, NamedKind>,
}

/// `x-media` of a string property, or of the string items of an array.
fn media_of(schema: &Schema) -> Result<Option<MediaDef>> {
    if let Some(v) = ext(schema, "x-media") {
        if !matches!(schema.schema_kind, SchemaKind::Type(Type::String(_))) {
            bail!("x-media belongs on a string property or on the `items` of a list of strings");
        }
        return meta::media(v).map(Some);
    }
    if let SchemaKind::Type(Type::Array(a)) = &schema.schema_kind
        && let Some(ReferenceOr::Item(items)) = &a.items
        && let Some(v) = ext(items, "x-media")
    {
        if !matches!(items.schema_kind, SchemaKind::Type(Type::String(_))) {
            bail!("x-media on `items` needs string items");
        }
        return meta::media(v).map(Some);
    }
    Ok(None)
}

/// The text of `description`, trimmed; empty when there is none.
fn doc_of(schema: &Schema) -> String {
    schema
        .schema_data
        .description
        .as_deref()
        .unwrap_or("")
        .trim()
        .to_owned()
}

fn ext<'a>(schema: &'a Schema, key: &str) -> Option<&'a Value> {
    schema.schema_data.extensions.get(key)
}

fn ext_bool(schema: &Schema, key: &str) -> bool {
    ext(schema, key).and_then(Value::as_bool).unwrap_or(false)
}

/// The reason of `x-open-enum`, which must be a non-empty string.
fn open_enum_reason(schema: &Schema) -> Result<Option<String>> {
    match ext(schema, "x-open-enum") {
        None => Ok(None),
        Some(Value::String(reason)) if !reason.trim().is_empty() => {
            Ok(Some(reason.trim().to_owned()))
        }
        Some(_) => bail!("x-open-enum must be a non-empty string: the reason the list grows"),
    }
}

/// The name of the extra-fields map every struct carries; no property may take it.
pub const EXTRA_FIELD: &str = "extra";

fn string_list(value: &Value, what: &str) -> Result<Vec<String>> {
    value
        .as_array()
        .ok_or_else(|| anyhow!("{what} must be a list of strings"))?
        .iter()
        .map(|v| {
            v.as_str()
                .map(str::to_owned)
                .ok_or_else(|| anyhow!("{what} must be a list of strings, found {v}"))
        })
        .collect()
}

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

impl<'a> Ctx<'a> {
    fn add_component(&self, name: &str, schema: &Schema, out: &mut Vec<TypeDef>) -> Result<()> {
        let doc = doc_of(schema);
        match &schema.schema_kind {
            SchemaKind::Type(Type::String(s)) if !s.enumeration.is_empty() => {
                let values: Vec<String> = s
                    .enumeration
                    .iter()
                    .map(|v| {
                        v.clone()
                            .ok_or_else(|| anyhow!("null enum values are not supported"))
                    })
                    .collect::<Result<_>>()?;
                let names = self.variant_names(schema, &values)?;
                out.push(TypeDef::StringEnum(StringEnum {
                    name: name.to_owned(),
                    doc,
                    variants: names.into_iter().zip(values).collect(),
                    case_insensitive: ext_bool(schema, "x-case-insensitive"),
                    open: open_enum_reason(schema)?,
                }));
            }
            SchemaKind::Type(Type::Integer(i)) if !i.enumeration.is_empty() => {
                let values: Vec<i64> = i
                    .enumeration
                    .iter()
                    .map(|v| v.ok_or_else(|| anyhow!("null enum values are not supported")))
                    .collect::<Result<_>>()?;
                let texts: Vec<String> = values.iter().map(i64::to_string).collect();
                let names = self.variant_names(schema, &texts)?;
                out.push(TypeDef::IntEnum(IntEnum {
                    name: name.to_owned(),
                    doc,
                    variants: names.into_iter().zip(values).collect(),
                    open: open_enum_reason(schema)?,
                }));
            }
            SchemaKind::Type(Type::Object(_)) => {
                out.push(TypeDef::Struct(self.struct_def(name, schema, true)?));
            }
            SchemaKind::OneOf { one_of } => {
                let mut tagged = self.tagged(name, doc, one_of, out)?;
                tagged.default_simulate = ext(schema, "x-simulate")
                    .map(meta::simulate)
                    .transpose()?
                    .map(Box::new);
                out.push(TypeDef::Tagged(tagged));
            }
            other => bail!(
                "only object schemas, string or integer enums and oneOf of objects can be components; \
                 found {}",
                kind_label(other)
            ),
        }
        Ok(())
    }

    fn variant_names(&self, schema: &Schema, values: &[String]) -> Result<Vec<String>> {
        let names = match ext(schema, "x-enum-varnames") {
            Some(v) => {
                let names = string_list(v, "x-enum-varnames")?;
                if names.len() != values.len() {
                    bail!(
                        "x-enum-varnames has {} names for {} values",
                        names.len(),
                        values.len()
                    );
                }
                for n in &names {
                    if syn::parse_str::<syn::Ident>(n).is_err() || n.starts_with("r#") {
                        bail!("x-enum-varnames: `{n}` is not a Rust identifier");
                    }
                }
                names
            }
            None => values
                .iter()
                .map(|v| {
                    variant_name(v).ok_or_else(|| {
                        anyhow!("enum value `{v}` has no Rust name; give the enum x-enum-varnames")
                    })
                })
                .collect::<Result<_>>()?,
        };
        let mut seen = BTreeMap::new();
        for (n, v) in names.iter().zip(values) {
            if n == "Unknown" {
                bail!(
                    "enum value `{v}` would be named `Unknown`, which is reserved for values the spec \
                     does not list; name it with x-enum-varnames"
                );
            }
            if let Some(prev) = seen.insert(n.clone(), v.clone()) {
                bail!(
                    "enum values `{prev}` and `{v}` would both be named `{n}`; name them with \
                     x-enum-varnames"
                );
            }
        }
        Ok(names)
    }

    fn struct_def(&self, name: &str, schema: &Schema, component: bool) -> Result<StructDef> {
        let SchemaKind::Type(Type::Object(obj)) = &schema.schema_kind else {
            bail!("expected an object schema");
        };
        let mut fields = Vec::new();
        for (wire, prop) in &obj.properties {
            if field_ident(wire) == EXTRA_FIELD {
                bail!(
                    "property `{wire}` would be named `{EXTRA_FIELD}`, which holds the fields \
                     the spec does not list"
                );
            }
            let field = self
                .field(wire, prop, obj.required.contains(wire))
                .with_context(|| format!("property `{wire}`"))?;
            fields.push(field);
        }
        for r in &obj.required {
            if !obj.properties.contains_key(r) {
                bail!("`{r}` is required but is not a property");
            }
        }
        let rules = match ext(schema, "x-rules") {
            Some(v) => parse_rules(v).context("x-rules")?,
            None => Vec::new(),
        };
        let def = StructDef {
            name: name.to_owned(),
            doc: doc_of(schema),
            fields,
            rules,
            component,
        };
        self.check_rules(&def)?;
        Ok(def)
    }

    fn field(&self, wire: &str, prop: &ReferenceOr<Box<Schema>>, required: bool) -> Result<Field> {
        let mut field = Field {
            wire: wire.to_owned(),
            ident: field_ident(wire),
            doc: String::new(),
            ty: FieldType::Any,
            required,
            nullable: false,
            constraints: Constraints::default(),
            sensitive: false,
            numeric_string: false,
            empty_means_unset: false,
            media: None,
            origin_task: false,
        };
        match prop {
            ReferenceOr::Reference { reference } => {
                let (ty, doc) = self.named(reference)?;
                // A nullable component makes every reference to it nullable: the
                // only way OpenAPI 3.0 has to say "this $ref may be null".
                field.nullable = self
                    .schemas
                    .get(ref_name(reference)?)
                    .and_then(ReferenceOr::as_item)
                    .is_some_and(|s| s.schema_data.nullable);
                field.ty = ty;
                field.doc = doc;
            }
            ReferenceOr::Item(schema) => {
                field.doc = doc_of(schema);
                field.nullable = schema.schema_data.nullable;
                field.sensitive = ext_bool(schema, "x-sensitive");
                field.numeric_string = ext_bool(schema, "x-accept-numeric-string");
                field.empty_means_unset = ext_bool(schema, "x-empty-means-unset");
                field.origin_task = ext_bool(schema, "x-origin-task");
                field.media = media_of(schema)?;
                if let Some(v) = ext(schema, "x-allowed-extensions") {
                    field.constraints.extensions = string_list(v, "x-allowed-extensions")?;
                }
                field.ty = self.inline_type(schema, &mut field.constraints)?;
                if field.doc.is_empty()
                    && let FieldType::Named(name, _) = &field.ty
                {
                    field.doc = self.component_doc(name);
                }
            }
        }
        if field.doc.is_empty() {
            field.doc = format!("The `{wire}` field.");
        }
        Ok(field)
    }

    fn component_doc(&self, name: &str) -> String {
        self.schemas
            .get(name)
            .and_then(ReferenceOr::as_item)
            .map(doc_of)
            .unwrap_or_default()
    }

    fn named(&self, reference: &str) -> Result<(FieldType, String)> {
        let name = ref_name(reference)?;
        let kind = *self
            .kinds
            .get(name)
            .ok_or_else(|| anyhow!("`{reference}` points at no component schema"))?;
        Ok((
            FieldType::Named(name.to_owned(), kind),
            self.component_doc(name),
        ))
    }

    fn inline_type(&self, schema: &Schema, c: &mut Constraints) -> Result<FieldType> {
        Ok(match &schema.schema_kind {
            SchemaKind::Type(Type::String(s)) => {
                if !s.enumeration.is_empty() {
                    bail!("inline enums are not supported; make the enum a component schema");
                }
                c.min_length = s.min_length.map(|v| v as u64);
                c.max_length = s.max_length.map(|v| v as u64);
                // `x-format: uri` is the same check where JSON-schema's `format: uri`
                // cannot be used (a field that may also be empty).
                c.uri = matches!(&s.format, VariantOrUnknownOrEmpty::Unknown(f) if f == "uri")
                    || ext(schema, "x-format").and_then(Value::as_str) == Some("uri");
                if let VariantOrUnknownOrEmpty::Item(StringFormat::Byte | StringFormat::Binary) =
                    &s.format
                {
                    bail!("binary string formats are not supported");
                }
                FieldType::String
            }
            SchemaKind::Type(Type::Number(n)) => {
                if n.exclusive_minimum || n.exclusive_maximum {
                    bail!("exclusiveMinimum/exclusiveMaximum are not supported");
                }
                c.minimum = n.minimum;
                c.maximum = n.maximum;
                FieldType::Number
            }
            SchemaKind::Type(Type::Integer(i)) => {
                if !i.enumeration.is_empty() {
                    bail!("inline enums are not supported; make the enum a component schema");
                }
                c.minimum = i.minimum.map(|v| v as f64);
                c.maximum = i.maximum.map(|v| v as f64);
                FieldType::Integer
            }
            SchemaKind::Type(Type::Boolean(_)) => FieldType::Boolean,
            SchemaKind::Type(Type::Array(a)) => {
                c.min_items = a.min_items.map(|v| v as u64);
                c.max_items = a.max_items.map(|v| v as u64);
                let items = a
                    .items
                    .as_ref()
                    .ok_or_else(|| anyhow!("an array needs `items`"))?;
                let item = match items {
                    ReferenceOr::Reference { reference } => self.named(reference)?.0,
                    ReferenceOr::Item(s) => {
                        let mut item = Constraints::default();
                        let t = self.inline_type(s, &mut item)?;
                        c.items = Some(Box::new(item));
                        if !matches!(
                            t,
                            FieldType::Map
                                | FieldType::Any
                                | FieldType::String
                                | FieldType::Integer
                                | FieldType::Number
                                | FieldType::Boolean
                        ) {
                            bail!("array items must be a $ref or a plain type");
                        }
                        t
                    }
                };
                FieldType::Array(Box::new(item))
            }
            SchemaKind::Type(Type::Object(o)) => {
                if !o.properties.is_empty() {
                    bail!(
                        "inline objects with properties are not supported; make it a component schema"
                    );
                }
                match &o.additional_properties {
                    None | Some(AdditionalProperties::Any(true)) => FieldType::Map,
                    _ => bail!("only `additionalProperties: true` free-form objects are supported"),
                }
            }
            SchemaKind::AllOf { all_of } if all_of.len() == 1 => match &all_of[0] {
                ReferenceOr::Reference { reference } => self.named(reference)?.0,
                ReferenceOr::Item(_) => {
                    bail!("allOf is supported only as [one $ref] (for nullable refs)")
                }
            },
            SchemaKind::Any(any)
                if any.typ.is_none()
                    && any.properties.is_empty()
                    && any.enumeration.is_empty()
                    && any.items.is_none()
                    && any.one_of.is_empty()
                    && any.all_of.is_empty()
                    && any.any_of.is_empty() =>
            {
                FieldType::Any
            }
            other => bail!("{} is not supported here", kind_label(other)),
        })
    }

    fn tagged(
        &self,
        name: &str,
        doc: String,
        one_of: &[ReferenceOr<Schema>],
        out: &mut Vec<TypeDef>,
    ) -> Result<TaggedDef> {
        let mut tag: Option<String> = None;
        let mut variants = Vec::new();
        let mut payloads: Vec<StructDef> = Vec::new();
        for (i, v) in one_of.iter().enumerate() {
            let schema = v.as_item().ok_or_else(|| {
                anyhow!("oneOf[{i}]: variants must be inline objects that pin the tag property")
            })?;
            let SchemaKind::Type(Type::Object(obj)) = &schema.schema_kind else {
                bail!("oneOf[{i}]: variants must be inline objects");
            };
            let title = schema.schema_data.title.clone().ok_or_else(|| {
                anyhow!("oneOf[{i}]: give the variant a `title`; it names the payload struct")
            })?;
            // The tag is the one property whose inline schema is a one-value string enum.
            let pinned: Vec<(&String, String)> = obj
                .properties
                .iter()
                .filter_map(|(k, p)| match p.as_item().map(|s| &s.schema_kind) {
                    Some(SchemaKind::Type(Type::String(s))) if s.enumeration.len() == 1 => {
                        s.enumeration[0].clone().map(|v| (k, v))
                    }
                    _ => None,
                })
                .collect();
            let [(key, value)] = pinned.as_slice() else {
                bail!("oneOf[{i}] ({title}): exactly one property must pin a single enum value");
            };
            match &tag {
                None => tag = Some((*key).clone()),
                Some(t) if t == *key => {}
                Some(t) => bail!("oneOf[{i}] ({title}) pins `{key}`, the others pin `{t}`"),
            }
            if !obj.required.contains(key) {
                bail!("oneOf[{i}] ({title}): the tag `{key}` must be required");
            }
            // The payload struct is the variant without its tag.
            let mut payload = schema.clone();
            if let SchemaKind::Type(Type::Object(o)) = &mut payload.schema_kind {
                o.properties.shift_remove(key.as_str());
                o.required.retain(|r| r != *key);
            }
            if self.schemas.contains_key(&title) {
                bail!("oneOf[{i}]: title `{title}` is also a component schema name");
            }
            let def = self
                .struct_def(&title, &payload, false)
                .with_context(|| format!("oneOf[{i}] ({title})"))?;
            let ident = variant_name(value)
                .ok_or_else(|| anyhow!("oneOf[{i}]: tag value `{value}` has no Rust name"))?;
            if variants
                .iter()
                .any(|v: &TaggedVariant| v.ident == ident || v.value == *value)
            {
                bail!("oneOf[{i}]: tag value `{value}` is used twice");
            }
            let simulate = ext(schema, "x-simulate")
                .map(meta::simulate)
                .transpose()
                .with_context(|| format!("oneOf[{i}] ({title})"))?;
            let price = ext(schema, "x-price")
                .map(meta::price)
                .transpose()
                .with_context(|| format!("oneOf[{i}] ({title})"))?;
            let input_fields: Vec<&str> = def
                .fields
                .iter()
                .find(|f| f.wire == "input")
                .and_then(|f| match &f.ty {
                    FieldType::Named(n, NamedKind::Object) => self.schemas.get(n),
                    _ => None,
                })
                .and_then(ReferenceOr::as_item)
                .and_then(|s| match &s.schema_kind {
                    SchemaKind::Type(Type::Object(o)) => {
                        Some(o.properties.keys().map(String::as_str).collect())
                    }
                    _ => None,
                })
                .unwrap_or_default();
            meta::check_names(&input_fields, simulate.as_ref(), price.as_ref())
                .with_context(|| format!("oneOf[{i}] ({title})"))?;
            variants.push(TaggedVariant {
                ident,
                value: value.clone(),
                payload: title,
                doc: doc_of(schema),
                simulate,
                price,
            });
            payloads.push(def.clone());
            out.push(TypeDef::Struct(def));
        }
        let tag = tag.ok_or_else(|| anyhow!("oneOf has no variants"))?;
        let unknown = unknown_payload(name, &tag, &payloads);
        Ok(TaggedDef {
            name: name.to_owned(),
            doc,
            tag,
            variants,
            unknown,
            default_simulate: None,
        })
    }

    /// Every field a rule names exists, and every value it compares is one the field can hold.
    fn check_rules(&self, def: &StructDef) -> Result<()> {
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

/// The payload of a tagged enum's catch-all variant: the tag, then every property
/// all variants share, typed where they agree and raw JSON where they differ.
fn unknown_payload(name: &str, tag: &str, payloads: &[StructDef]) -> StructDef {
    let mut fields = vec![Field {
        wire: tag.to_owned(),
        ident: field_ident(tag),
        doc: format!("The `{tag}` as sent; no variant of the spec has it."),
        ty: FieldType::String,
        required: true,
        nullable: false,
        constraints: Constraints {
            min_length: Some(1),
            ..Constraints::default()
        },
        sensitive: false,
        numeric_string: false,
        empty_means_unset: false,
        media: None,
        origin_task: false,
    }];
    if let Some((first, rest)) = payloads.split_first() {
        for f in &first.fields {
            let others: Vec<&Field> = rest
                .iter()
                .filter_map(|p| p.fields.iter().find(|g| g.wire == f.wire))
                .collect();
            if others.len() != rest.len() {
                continue;
            }
            let mut field = f.clone();
            field.required = others.iter().all(|g| g.required) && f.required;
            if others.iter().any(|g| g.ty != f.ty) {
                let all_objects = std::iter::once(f).chain(others.iter().copied()).all(|g| {
                    matches!(
                        g.ty,
                        FieldType::Named(_, NamedKind::Object) | FieldType::Map
                    )
                });
                field.ty = if all_objects {
                    FieldType::Map
                } else {
                    FieldType::Any
                };
                field.doc = format!(
                    "The `{}` as sent (its shape depends on the `{tag}`).",
                    f.wire
                );
                field.constraints = Constraints::default();
            }
            fields.push(field);
        }
    }
    StructDef {
        name: format!("Unknown{name}"),
        doc: format!(
            "A `{name}` whose `{tag}` the spec does not list, kept whole so it can be sent and \
             read back: the fields every variant shares, and everything else in `extra`."
        ),
        fields,
        rules: Vec::new(),
        component: false,
    }
}

fn kind_label(kind: &SchemaKind) -> &'static str {
    match kind {
        SchemaKind::Type(Type::String(_)) => "a plain string schema",
        SchemaKind::Type(Type::Number(_)) => "a number schema",
        SchemaKind::Type(Type::Integer(_)) => "an integer schema",
        SchemaKind::Type(Type::Boolean(_)) => "a boolean schema",
        SchemaKind::Type(Type::Array(_)) => "an array schema",
        SchemaKind::Type(Type::Object(_)) => "an object schema",
        SchemaKind::OneOf { .. } => "oneOf",
        SchemaKind::AllOf { .. } => "allOf",
        SchemaKind::AnyOf { .. } => "anyOf",
        SchemaKind::Not { .. } => "not",
        SchemaKind::Any(_) => "an untyped schema",
    }
}
