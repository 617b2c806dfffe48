//! Enums, structs and fields from component schemas and their properties.

use anyhow::{Context, Result, anyhow, bail};
use openapiv3::{
    AdditionalProperties, ReferenceOr, Schema, SchemaKind, StringFormat, Type,
    VariantOrUnknownOrEmpty,
};
use serde_json::Value;
use std::collections::BTreeMap;

use crate::meta;
use crate::rules::parse_rules;

use super::names::*;
use super::schema::*;
use super::*;

impl Ctx<'_> {
    pub(super) fn add_component(
        &self,
        name: &str,
        schema: &Schema,
        out: &mut Vec<TypeDef>,
    ) -> Result<()> {
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

    pub(super) fn variant_names(&self, schema: &Schema, values: &[String]) -> Result<Vec<String>> {
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

    pub(super) fn struct_def(
        &self,
        name: &str,
        schema: &Schema,
        component: bool,
    ) -> Result<StructDef> {
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

    pub(super) fn field(
        &self,
        wire: &str,
        prop: &ReferenceOr<Box<Schema>>,
        required: bool,
    ) -> Result<Field> {
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

    pub(super) fn component_doc(&self, name: &str) -> String {
        self.schemas
            .get(name)
            .and_then(ReferenceOr::as_item)
            .map(doc_of)
            .unwrap_or_default()
    }

    pub(super) fn named(&self, reference: &str) -> Result<(FieldType, String)> {
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

    pub(super) fn inline_type(&self, schema: &Schema, c: &mut Constraints) -> Result<FieldType> {
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
}
