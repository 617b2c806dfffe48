//! A tagged `oneOf` (the create request): one struct per variant and a
//! catch-all variant for tags the spec does not list.

use anyhow::{Context, Result, anyhow, bail};
use openapiv3::{ReferenceOr, Schema, SchemaKind, Type};

use crate::meta;

use super::names::*;
use super::schema::*;
use super::*;

impl Ctx<'_> {
    pub(super) fn tagged(
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
