//! The models generator: forward-compatible enums, structs with serde, the tagged
//! create-request enum, and `validate()` from every constraint and `x-rules` entry.

use crate::catalog;
use crate::ir::{
    EXTRA_FIELD, Field, FieldType, IntEnum, Model, NamedKind, Rule, RuleDef, StringEnum, StructDef,
    TaggedDef, TypeDef, field_ident,
};
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};

/// Where the generated code finds its runtime support and the enums.
#[derive(Clone)]
pub struct ModelsOptions {
    /// A path such as `::piapi_kling_models` (for `validation` and `__private`).
    pub runtime: syn::Path,
    /// The module the types file imports the enums from (`super::enums`), or
    /// `None` when both are emitted into one module.
    pub enums_module: Option<syn::Path>,
}

impl Default for ModelsOptions {
    fn default() -> Self {
        ModelsOptions {
            runtime: syn::parse_quote!(::piapi_kling_models),
            enums_module: Some(syn::parse_quote!(super::enums)),
        }
    }
}

/// The generated token streams: enums, and structs with the tagged enums.
pub struct ModelsTokens {
    /// Every string and integer enum.
    pub enums: TokenStream,
    /// Every struct and tagged enum, plus the schema registry.
    pub types: TokenStream,
}

/// Generates the models from the IR.
pub fn generate(model: &Model, options: &ModelsOptions) -> ModelsTokens {
    let rt = &options.runtime;
    let mut enums = TokenStream::new();
    let mut types = TokenStream::new();
    if let Some(module) = &options.enums_module {
        types.extend(quote!(#[allow(unused_imports)] use #module::*;));
    }
    let with_media = catalog::structs_with_media(model);
    for def in &model.types {
        match def {
            TypeDef::StringEnum(e) => enums.extend(string_enum(e, rt)),
            TypeDef::IntEnum(e) => enums.extend(int_enum(e, rt)),
            TypeDef::Struct(s) => {
                types.extend(structure(s, model, rt));
                types.extend(catalog::struct_media(s, &with_media, rt));
            }
            TypeDef::Tagged(t) => {
                types.extend(tagged(t, model, rt));
                types.extend(catalog::tagged_catalog(t, model, &with_media, rt));
            }
        }
    }
    types.extend(registry(model));
    ModelsTokens { enums, types }
}

fn ident(name: &str) -> Ident {
    match name.strip_prefix("r#") {
        Some(raw) => Ident::new_raw(raw, Span::call_site()),
        None => Ident::new(name, Span::call_site()),
    }
}

/// Doc attributes, one per line, so prettyplease prints them as `///` comments.
fn docs(text: &str) -> TokenStream {
    let lines: Vec<String> = text.lines().map(|l| format!(" {}", l.trim_end())).collect();
    let lines = lines.iter().map(|l| {
        let l = if l.trim().is_empty() {
            String::new()
        } else {
            l.clone()
        };
        quote!(#[doc = #l])
    });
    quote!(#(#lines)*)
}

fn string_enum(e: &StringEnum, rt: &syn::Path) -> TokenStream {
    let name = ident(&e.name);
    let doc = docs(&e.doc);
    let name_str = &e.name;
    let idents: Vec<Ident> = e.variants.iter().map(|(n, _)| ident(n)).collect();
    let values: Vec<&str> = e.variants.iter().map(|(_, v)| v.as_str()).collect();
    let variant_docs = values.iter().map(|v| {
        let d = format!(" `{v:?}`");
        quote!(#[doc = #d])
    });
    let from_str_body = if e.case_insensitive {
        quote! {
            match value {
                #(#values => #name::#idents,)*
                _ => {
                    #(if value.eq_ignore_ascii_case(#values) { return #name::#idents; })*
                    #name::Unknown(value.into())
                }
            }
        }
    } else {
        quote! {
            match value {
                #(#values => #name::#idents,)*
                _ => #name::Unknown(value.into()),
            }
        }
    };
    let case_note = if e.case_insensitive {
        " Parsing ignores ASCII case; writing uses the spec's spelling."
    } else {
        ""
    };
    let unknown_doc =
        format!(" A value the spec does not list, kept verbatim so it round-trips.{case_note}");
    let expecting = format!("a {name_str} string");
    let schema = schemars_enum(
        name_str,
        quote!({ "type": "string", "enum": [#(#values),*] }),
    );
    let open = open_const(e.open.as_deref());
    quote! {
        #doc
        #[derive(Clone, Debug)]
        #[non_exhaustive]
        pub enum #name {
            #(#variant_docs #idents,)*
            #[doc = #unknown_doc]
            Unknown(::std::string::String),
        }

        impl #name {
            /// Every value the spec lists, in spec order.
            pub const ALL: &'static [#name] = &[#(#name::#idents),*];
            /// The wire spelling of every value the spec lists.
            pub const VALUES: &'static [&'static str] = &[#(#values),*];
            #open

            /// The value as sent on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    #(#name::#idents => #values,)*
                    #name::Unknown(value) => value.as_str(),
                }
            }

            /// False for a value the spec does not list.
            pub fn is_known(&self) -> bool {
                !matches!(self, #name::Unknown(_))
            }

            fn parse(value: &str) -> Self {
                #from_str_body
            }
        }

        // Equality is on the wire value, so `Unknown("x")` equals the variant for "x".
        impl ::std::cmp::PartialEq for #name {
            fn eq(&self, other: &Self) -> bool {
                self.as_str() == other.as_str()
            }
        }
        impl ::std::cmp::Eq for #name {}
        impl ::std::hash::Hash for #name {
            fn hash<H: ::std::hash::Hasher>(&self, state: &mut H) {
                self.as_str().hash(state)
            }
        }
        impl ::std::fmt::Display for #name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl ::std::str::FromStr for #name {
            type Err = ::std::convert::Infallible;
            fn from_str(value: &str) -> ::std::result::Result<Self, Self::Err> {
                Ok(#name::parse(value))
            }
        }
        impl ::std::convert::From<&str> for #name {
            fn from(value: &str) -> Self {
                #name::parse(value)
            }
        }
        impl ::std::convert::From<::std::string::String> for #name {
            fn from(value: ::std::string::String) -> Self {
                match #name::parse(&value) {
                    #name::Unknown(_) => #name::Unknown(value),
                    known => known,
                }
            }
        }
        impl ::std::convert::AsRef<str> for #name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }
        impl ::serde::Serialize for #name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
        impl<'de> ::serde::Deserialize<'de> for #name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                #rt::__private::string_enum(deserializer, #expecting)
            }
        }
        impl #rt::__private::Presence for #name {
            fn is_present(&self) -> bool {
                !self.as_str().is_empty()
            }
        }
        #schema
    }
}

fn int_enum(e: &IntEnum, rt: &syn::Path) -> TokenStream {
    let name = ident(&e.name);
    let doc = docs(&e.doc);
    let name_str = &e.name;
    let idents: Vec<Ident> = e.variants.iter().map(|(n, _)| ident(n)).collect();
    let values: Vec<i64> = e.variants.iter().map(|(_, v)| *v).collect();
    let texts: Vec<String> = values.iter().map(i64::to_string).collect();
    let variant_docs = values.iter().map(|v| {
        let d = format!(" `{v}`");
        quote!(#[doc = #d])
    });
    let expecting = format!("a {name_str} integer");
    let schema = schemars_enum(
        name_str,
        quote!({ "type": "integer", "enum": [#(#values),*] }),
    );
    let open = open_const(e.open.as_deref());
    quote! {
        #doc
        #[derive(Clone, Copy, Debug)]
        #[non_exhaustive]
        pub enum #name {
            #(#variant_docs #idents,)*
            /// A value the spec does not list, kept verbatim so it round-trips.
            Unknown(i64),
        }

        impl #name {
            /// Every value the spec lists, in spec order.
            pub const ALL: &'static [#name] = &[#(#name::#idents),*];
            /// Every value the spec lists, as text.
            pub const VALUES: &'static [&'static str] = &[#(#texts),*];
            #open

            /// The value as sent on the wire.
            pub fn as_i64(&self) -> i64 {
                match self {
                    #(#name::#idents => #values,)*
                    #name::Unknown(value) => *value,
                }
            }

            /// False for a value the spec does not list.
            pub fn is_known(&self) -> bool {
                !matches!(self, #name::Unknown(_))
            }
        }

        impl ::std::cmp::PartialEq for #name {
            fn eq(&self, other: &Self) -> bool {
                self.as_i64() == other.as_i64()
            }
        }
        impl ::std::cmp::Eq for #name {}
        impl ::std::hash::Hash for #name {
            fn hash<H: ::std::hash::Hasher>(&self, state: &mut H) {
                self.as_i64().hash(state)
            }
        }
        impl ::std::fmt::Display for #name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Display::fmt(&self.as_i64(), f)
            }
        }
        impl ::std::str::FromStr for #name {
            type Err = ::std::num::ParseIntError;
            fn from_str(value: &str) -> ::std::result::Result<Self, Self::Err> {
                value.trim().parse::<i64>().map(#name::from)
            }
        }
        impl ::std::convert::From<i64> for #name {
            fn from(value: i64) -> Self {
                match value {
                    #(#values => #name::#idents,)*
                    _ => #name::Unknown(value),
                }
            }
        }
        // So that a literal (`15`, an `i32`) converts too.
        impl ::std::convert::From<i32> for #name {
            fn from(value: i32) -> Self {
                #name::from(i64::from(value))
            }
        }
        impl ::std::convert::From<#name> for i64 {
            fn from(value: #name) -> i64 {
                value.as_i64()
            }
        }
        impl ::serde::Serialize for #name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_i64(self.as_i64())
            }
        }
        impl<'de> ::serde::Deserialize<'de> for #name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                #rt::__private::int_enum(deserializer, #expecting)
            }
        }
        impl #rt::__private::Presence for #name {
            fn is_present(&self) -> bool {
                true
            }
        }
        #schema
    }
}

/// `OPEN`: whether a value the spec does not list is sent with a warning
/// (`x-open-enum`) or refused.
fn open_const(reason: Option<&str>) -> TokenStream {
    let (open, doc) = match reason {
        Some(reason) => (
            true,
            format!(" Open: a value the spec does not list is sent, with a warning. Why: {reason}"),
        ),
        None => (
            false,
            " Closed: a value the spec does not list is refused by `validate()`.".to_owned(),
        ),
    };
    let lines = docs(&doc);
    quote!(#lines pub const OPEN: bool = #open;)
}

fn schemars_enum(name: &str, schema: TokenStream) -> TokenStream {
    let ty = ident(name);
    quote! {
        #[cfg(feature = "schemars")]
        impl ::schemars::JsonSchema for #ty {
            fn schema_name() -> ::std::borrow::Cow<'static, str> {
                #name.into()
            }
            fn json_schema(_: &mut ::schemars::SchemaGenerator) -> ::schemars::Schema {
                ::schemars::json_schema!(#schema)
            }
        }
    }
}

/// The Rust type of a value (without the `Option` of an optional field).
fn value_type(ty: &FieldType) -> TokenStream {
    match ty {
        FieldType::String => quote!(::std::string::String),
        FieldType::Number => quote!(f64),
        FieldType::Integer => quote!(i64),
        FieldType::Boolean => quote!(bool),
        FieldType::Named(name, _) => {
            let n = ident(name);
            quote!(#n)
        }
        FieldType::Array(item) => {
            let item = value_type(item);
            quote!(::std::vec::Vec<#item>)
        }
        FieldType::Map => quote!(::serde_json::Map<::std::string::String, ::serde_json::Value>),
        FieldType::Any => quote!(::serde_json::Value),
    }
}

fn field_type(f: &Field) -> TokenStream {
    let ty = value_type(&f.ty);
    if f.is_option() {
        quote!(::std::option::Option<#ty>)
    } else {
        ty
    }
}

fn rust_name(f: &Field) -> &str {
    f.ident.strip_prefix("r#").unwrap_or(&f.ident)
}

fn field_attrs(f: &Field, rt: &syn::Path) -> TokenStream {
    let mut serde_args = Vec::new();
    if rust_name(f) != f.wire {
        let wire = &f.wire;
        serde_args.push(quote!(rename = #wire));
    }
    // A nullable field writes `null` when unset, as the API does; any other
    // optional field is omitted, so nothing the user did not set is sent.
    let skip_none = f.is_option() && !f.required && !f.nullable;
    let skip_null = matches!(f.ty, FieldType::Any) && !f.required && !f.nullable;
    if (f.is_option() || matches!(f.ty, FieldType::Any)) && !f.required {
        serde_args.push(quote!(default));
    }
    if f.numeric_string {
        let path = if f.is_option() {
            format!("{}::__private::option_f64_or_string", path_string(rt))
        } else {
            format!("{}::__private::f64_or_string", path_string(rt))
        };
        serde_args.push(quote!(deserialize_with = #path));
    }
    if skip_none {
        serde_args.push(quote!(
            skip_serializing_if = "::std::option::Option::is_none"
        ));
    } else if skip_null {
        serde_args.push(quote!(skip_serializing_if = "::serde_json::Value::is_null"));
    }
    let mut attrs = TokenStream::new();
    if !serde_args.is_empty() {
        attrs.extend(quote!(#[serde(#(#serde_args),*)]));
    }
    if f.numeric_string {
        let with = if f.is_option() { "Option<f64>" } else { "f64" };
        attrs.extend(quote!(#[cfg_attr(feature = "schemars", schemars(with = #with))]));
    }
    attrs
}

fn path_string(path: &syn::Path) -> String {
    let mut s = String::new();
    if path.leading_colon.is_some() {
        s.push_str("::");
    }
    let segs: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    s.push_str(&segs.join("::"));
    s
}

fn structure(s: &StructDef, model: &Model, rt: &syn::Path) -> TokenStream {
    let name = ident(&s.name);
    let doc = docs(&s.doc);
    let fields = s.fields.iter().map(|f| {
        let doc = docs(&f.doc);
        let attrs = field_attrs(f, rt);
        let id = ident(&f.ident);
        let ty = field_type(f);
        quote!(#doc #attrs pub #id: #ty,)
    });
    let extra = ident(EXTRA_FIELD);
    let sensitive = s.fields.iter().any(|f| f.sensitive);
    let has_default = s
        .fields
        .iter()
        .all(|f| f.is_option() || is_defaultable(&f.ty, model));
    let mut derives = vec![quote!(Clone), quote!(PartialEq)];
    if !sensitive {
        derives.push(quote!(Debug));
    }
    if has_default {
        derives.push(quote!(Default));
    }
    let debug_impl = sensitive.then(|| debug_redacted(s, rt));
    let constructor = constructor(s);
    let setters = setters(s);
    let validate = validate_impl(s, model, rt);
    quote! {
        #doc
        #[derive(#(#derives,)* ::serde::Serialize, ::serde::Deserialize)]
        #[cfg_attr(feature = "schemars", derive(::schemars::JsonSchema))]
        #[non_exhaustive]
        pub struct #name {
            #(#fields)*
            /// Fields the spec does not list, kept verbatim: decoded from
            /// what PiAPI sends and written back, so nothing is lost.
            #[serde(flatten)]
            pub #extra: ::serde_json::Map<::std::string::String, ::serde_json::Value>,
        }
        #constructor
        #setters
        #debug_impl
        #validate
        impl #rt::__private::Presence for #name {
            fn is_present(&self) -> bool {
                true
            }
        }
    }
}

/// `FIELDS`, and a `with_<field>` setter per field plus `with_extra`, so that
/// callers outside the crate build the (non-exhaustive) struct field by field.
fn setters(s: &StructDef) -> TokenStream {
    let name = ident(&s.name);
    let wires: Vec<&str> = s.fields.iter().map(|f| f.wire.as_str()).collect();
    let methods = s.fields.iter().map(|f| {
        let id = ident(&f.ident);
        let method = format_ident!("with_{}", rust_name(f));
        let first = f.doc.lines().next().unwrap_or("").trim();
        let doc = format!(" Sets `{}`: {first}", f.wire);
        let (param, value) = setter_param(&f.ty);
        let assign = if f.is_option() {
            quote!(self.#id = ::std::option::Option::Some(#value);)
        } else {
            quote!(self.#id = #value;)
        };
        quote! {
            #[doc = #doc]
            #[must_use]
            pub fn #method(mut self, value: #param) -> Self {
                #assign
                self
            }
        }
    });
    quote! {
        impl #name {
            /// The wire name of every field the spec lists, in spec order.
            pub const FIELDS: &'static [&'static str] = &[#(#wires),*];
            #(#methods)*
            /// Sets a field the spec does not list; it is sent as given.
            #[must_use]
            pub fn with_extra(
                mut self,
                name: impl ::std::convert::Into<::std::string::String>,
                value: impl ::std::convert::Into<::serde_json::Value>,
            ) -> Self {
                self.extra.insert(name.into(), value.into());
                self
            }
        }
    }
}

/// The parameter type of a setter and the expression that turns `value` into the field's type.
fn setter_param(ty: &FieldType) -> (TokenStream, TokenStream) {
    match ty {
        FieldType::String | FieldType::Named(_, NamedKind::StringEnum | NamedKind::IntEnum) => {
            let t = value_type(ty);
            (quote!(impl ::std::convert::Into<#t>), quote!(value.into()))
        }
        FieldType::Array(item) => {
            let item = value_type(item);
            (
                quote!(impl ::std::iter::IntoIterator<Item = #item>),
                quote!(value.into_iter().collect()),
            )
        }
        FieldType::Any => (
            quote!(impl ::std::convert::Into<::serde_json::Value>),
            quote!(value.into()),
        ),
        _ => (value_type(ty), quote!(value)),
    }
}

/// Whether a required, non-optional field of this type can be defaulted.
fn is_defaultable(ty: &FieldType, model: &Model) -> bool {
    match ty {
        FieldType::Named(name, NamedKind::Object) => match model.get(name) {
            Some(TypeDef::Struct(s)) => s
                .fields
                .iter()
                .all(|f| f.is_option() || is_defaultable(&f.ty, model)),
            _ => false,
        },
        FieldType::Named(..) => false,
        _ => true,
    }
}

/// `new(required fields)` for structs with required fields.
fn constructor(s: &StructDef) -> Option<TokenStream> {
    let required: Vec<&Field> = s
        .fields
        .iter()
        .filter(|f| !f.is_option() && !matches!(f.ty, FieldType::Any))
        .collect();
    if required.is_empty() {
        return None;
    }
    let name = ident(&s.name);
    let params = required.iter().map(|f| {
        let id = ident(&f.ident);
        if f.ty == FieldType::String {
            quote!(#id: impl ::std::convert::Into<::std::string::String>)
        } else {
            let ty = value_type(&f.ty);
            quote!(#id: #ty)
        }
    });
    let inits = s.fields.iter().map(|f| {
        let id = ident(&f.ident);
        if f.is_option() {
            quote!(#id: ::std::option::Option::None)
        } else if matches!(f.ty, FieldType::Any) {
            quote!(#id: ::serde_json::Value::Null)
        } else if f.ty == FieldType::String {
            quote!(#id: #id.into())
        } else {
            quote!(#id)
        }
    });
    let doc = format!(
        " A `{}` with its required fields; every optional field is unset.",
        s.name
    );
    Some(quote! {
        impl #name {
            #[doc = #doc]
            pub fn new(#(#params),*) -> Self {
                #name { #(#inits,)* extra: ::serde_json::Map::new() }
            }
        }
    })
}

fn debug_redacted(s: &StructDef, rt: &syn::Path) -> TokenStream {
    let name = ident(&s.name);
    let name_str = &s.name;
    let fields = s.fields.iter().map(|f| {
        let id = ident(&f.ident);
        let label = rust_name(f);
        if !f.sensitive {
            quote!(.field(#label, &self.#id))
        } else if f.is_option() {
            quote!(.field(#label, &self.#id.as_ref().map(|_| #rt::__private::Redacted)))
        } else {
            quote!(.field(#label, &#rt::__private::Redacted))
        }
    });
    quote! {
        // Hand-rolled so that `x-sensitive` fields never reach logs.
        impl ::std::fmt::Debug for #name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct(#name_str) #(#fields)* .field("extra", &self.extra).finish()
            }
        }
    }
}

fn validate_impl(s: &StructDef, model: &Model, rt: &syn::Path) -> TokenStream {
    let name = ident(&s.name);
    let checks = s.fields.iter().map(|f| field_checks(f, rt));
    let rules = s.rules.iter().map(|r| rule_check(r, s, model, rt));
    let body: Vec<TokenStream> = checks.chain(rules).filter(|t| !t.is_empty()).collect();
    let (path_arg, out_arg) = if body.is_empty() {
        (quote!(_path), quote!(_out))
    } else {
        (quote!(path), quote!(out))
    };
    quote! {
        impl #rt::validation::Validate for #name {
            fn validate_at(&self, #path_arg: &str, #out_arg: &mut ::std::vec::Vec<#rt::validation::Violation>) {
                #(#body)*
            }
        }
    }
}

/// The checks of one value `v` (a reference) of type `ty` at `path.field`.
fn value_checks(f: &Field, ty: &FieldType, rt: &syn::Path) -> TokenStream {
    let wire = &f.wire;
    let c = &f.constraints;
    let mut out = TokenStream::new();
    let check = quote!(#rt::__private::check);
    match ty {
        FieldType::String => {
            if let Some(min) = c.min_length {
                out.extend(quote!(#check::min_length(out, path, #wire, v, #min);));
            }
            if let Some(max) = c.max_length {
                out.extend(quote!(#check::max_length(out, path, #wire, v, #max);));
            }
            if c.uri {
                let allow_empty = f.empty_means_unset;
                out.extend(quote!(#check::uri(out, path, #wire, v, #allow_empty);));
            }
            if !c.extensions.is_empty() {
                let exts = &c.extensions;
                out.extend(quote!(#check::extension(out, path, #wire, v, &[#(#exts),*]);));
            }
        }
        FieldType::Number | FieldType::Integer => {
            if c.minimum.is_some() || c.maximum.is_some() {
                let min = opt_f64(c.minimum);
                let max = opt_f64(c.maximum);
                let value = if *ty == FieldType::Number {
                    quote!(*v)
                } else {
                    quote!(*v as f64)
                };
                out.extend(quote!(#check::range(out, path, #wire, #value, #min, #max);));
            }
        }
        FieldType::Named(name, NamedKind::StringEnum | NamedKind::IntEnum) => {
            let n = ident(name);
            out.extend(
                quote!(#check::known(out, path, #wire, v.is_known(), v, #n::VALUES, #n::OPEN);),
            );
        }
        FieldType::Named(_, NamedKind::Object) => {
            out.extend(
                quote!(#rt::validation::Validate::validate_at(v, &#check::join(path, #wire), out);),
            );
        }
        FieldType::Array(item) => {
            let min = opt_u64(c.min_items);
            let max = opt_u64(c.max_items);
            if c.min_items.is_some() || c.max_items.is_some() {
                out.extend(quote!(#check::items(out, path, #wire, v.len(), #min, #max);));
            }
            let per_item = match item.as_ref() {
                FieldType::Named(_, NamedKind::Object) => Some(quote! {
                    #rt::validation::Validate::validate_at(item, &#check::index(&#check::join(path, #wire), i), out);
                }),
                FieldType::Named(name, _) => {
                    let n = ident(name);
                    Some(quote! {
                        #check::known(out, &#check::join(path, #wire), &#check::index("", i), item.is_known(), item, #n::VALUES, #n::OPEN);
                    })
                }
                FieldType::String => c.items.as_deref().and_then(|ic| {
                    let mut checks = TokenStream::new();
                    let at = quote!(&#check::join(path, #wire));
                    let index = quote!(&#check::index("", i));
                    if let Some(min) = ic.min_length {
                        checks.extend(quote!(#check::min_length(out, #at, #index, item, #min);));
                    }
                    if let Some(max) = ic.max_length {
                        checks.extend(quote!(#check::max_length(out, #at, #index, item, #max);));
                    }
                    if ic.uri {
                        checks.extend(quote!(#check::uri(out, #at, #index, item, false);));
                    }
                    (!checks.is_empty()).then_some(checks)
                }),
                _ => None,
            };
            if let Some(per_item) = per_item {
                out.extend(quote! {
                    for (i, item) in v.iter().enumerate() {
                        #per_item
                    }
                });
            }
        }
        FieldType::Boolean | FieldType::Map | FieldType::Any => {}
    }
    out
}

fn field_checks(f: &Field, rt: &syn::Path) -> TokenStream {
    let checks = value_checks(f, &f.ty, rt);
    if checks.is_empty() {
        return checks;
    }
    let id = ident(&f.ident);
    if f.is_option() {
        // `""` (and the empty enum value) mean "not set" in an optional field,
        // as PiAPI's own examples send them: nothing to check.
        quote! {
            if let ::std::option::Option::Some(v) = &self.#id
                && #rt::__private::Presence::is_present(v)
            {
                #checks
            }
        }
    } else {
        quote!({ let v = &self.#id; #checks })
    }
}

fn opt_f64(v: Option<f64>) -> TokenStream {
    match v {
        Some(v) => quote!(::std::option::Option::Some(#v)),
        None => quote!(::std::option::Option::None),
    }
}

fn opt_u64(v: Option<u64>) -> TokenStream {
    match v {
        Some(v) => quote!(::std::option::Option::Some(#v)),
        None => quote!(::std::option::Option::None),
    }
}

fn find<'a>(s: &'a StructDef, wire: &str) -> &'a Field {
    s.fields
        .iter()
        .find(|f| f.wire == wire)
        .expect("rule fields are checked when the IR is built")
}

fn present(s: &StructDef, wire: &str, rt: &syn::Path) -> TokenStream {
    let id = ident(&find(s, wire).ident);
    quote!(#rt::__private::Presence::is_present(&self.#id))
}

/// `Option<&str>` of a string or string-enum field.
fn str_value(s: &StructDef, wire: &str) -> TokenStream {
    let f = find(s, wire);
    let id = ident(&f.ident);
    match (&f.ty, f.is_option()) {
        (FieldType::String, true) => quote!(self.#id.as_deref()),
        (FieldType::String, false) => quote!(::std::option::Option::Some(self.#id.as_str())),
        (_, true) => quote!(self.#id.as_ref().map(|v| v.as_str())),
        (_, false) => quote!(::std::option::Option::Some(self.#id.as_str())),
    }
}

fn number_value(s: &StructDef, wire: &str) -> TokenStream {
    let f = find(s, wire);
    let id = ident(&f.ident);
    match (&f.ty, f.is_option()) {
        (FieldType::Number, true) => quote!(self.#id),
        (FieldType::Number, false) => quote!(::std::option::Option::Some(self.#id)),
        (_, true) => quote!(self.#id.map(|v| v as f64)),
        (_, false) => quote!(::std::option::Option::Some(self.#id as f64)),
    }
}

fn with_reason(message: String, reason: &str) -> String {
    if reason.is_empty() {
        message
    } else {
        format!("{message} ({reason})")
    }
}

fn names(list: &[String]) -> String {
    list.iter()
        .map(|v| format!("`{v}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// True (at run time) when the field holds a value its open enum does not list:
/// a rule comparing it with documented values cannot tell whether the newer
/// value supports the feature, so it warns instead of refusing.
fn unlisted_open_value(s: &StructDef, wire: &str, model: &Model, rt: &syn::Path) -> TokenStream {
    let f = find(s, wire);
    let open = match &f.ty {
        FieldType::Named(name, _) => match model.get(name) {
            Some(TypeDef::StringEnum(e)) => e.open.is_some(),
            Some(TypeDef::IntEnum(e)) => e.open.is_some(),
            _ => false,
        },
        _ => false,
    };
    if !open {
        return quote!(false);
    }
    let id = ident(&f.ident);
    let present = quote!(#rt::__private::Presence::is_present(&self.#id));
    if f.is_option() {
        quote!(#present && self.#id.as_ref().is_some_and(|v| !v.is_known()))
    } else {
        quote!(#present && !self.#id.is_known())
    }
}

fn rule_check(rule: &Rule, s: &StructDef, model: &Model, rt: &syn::Path) -> TokenStream {
    let v = quote!(#rt::validation);
    let warning = rule.warning;
    let push = |at: TokenStream, kind: TokenStream, message: TokenStream| {
        if warning {
            quote!(out.push(#v::Violation::warning(#at, #v::Rule::#kind, #message));)
        } else {
            quote!(out.push(#v::Violation::new(#at, #v::Rule::#kind, #message));)
        }
    };
    // An error, or a warning when `unlisted` (an open enum's new value) holds
    // or the rule is a warning.
    let push_or_warn =
        |unlisted: TokenStream, at: TokenStream, kind: TokenStream, message: TokenStream| {
            let unlisted = if warning { quote!(true) } else { unlisted };
            quote! {
                out.push(if #unlisted {
                    #v::Violation::warning(#at, #v::Rule::#kind, #message)
                } else {
                    #v::Violation::new(#at, #v::Rule::#kind, #message)
                });
            }
        };
    let at = |wire: &str| quote!(#rt::__private::check::join(path, #wire));
    match &rule.def {
        RuleDef::Requires {
            field,
            requires,
            reason,
        } => {
            let (p, q) = (present(s, field, rt), present(s, requires, rt));
            let msg = with_reason(format!("needs `{requires}` to be set"), reason);
            let push = push(at(field), quote!(Requires), quote!(#msg));
            quote!(if #p && !#q { #push })
        }
        RuleDef::RequiresValue {
            field,
            other,
            values,
            reason,
        } => {
            let p = present(s, field, rt);
            let val = str_value(s, other);
            let msg = with_reason(format!("needs `{other}` to be {}", names(values)), reason);
            let unlisted = unlisted_open_value(s, other, model, rt);
            let push = push_or_warn(unlisted, at(field), quote!(RequiresValue), quote!(#msg));
            quote!(if #p && !matches!(#val, ::std::option::Option::Some(#(#values)|*)) { #push })
        }
        RuleDef::RequiredWhen {
            field,
            when,
            values,
            reason,
        } => {
            let p = present(s, field, rt);
            let val = str_value(s, when);
            let suffix = reason_suffix(reason).replace('{', "{{").replace('}', "}}");
            let fmt = format!("is required when `{when}` is `{{}}`{suffix}");
            let push = push(
                at(field),
                quote!(RequiredWhen),
                quote!(format!(#fmt, value)),
            );
            let pattern = if values.len() == 1 {
                quote!(#(#values)*)
            } else {
                quote!((#(#values)|*))
            };
            quote! {
                if let ::std::option::Option::Some(value @ #pattern) = #val && !#p {
                    #push
                }
            }
        }
        RuleDef::RequiredUnless {
            field,
            unless,
            reason,
        } => {
            let p = present(s, field, rt);
            let qs = unless.iter().map(|u| present(s, u, rt));
            let others = if unless.len() == 1 {
                format!("`{}` is not set", unless[0])
            } else {
                format!("none of {} is set", names(unless))
            };
            let msg = with_reason(format!("is required when {others}"), reason);
            let push = push(at(field), quote!(RequiredUnless), quote!(#msg));
            quote!(if #(!#qs &&)* !#p { #push })
        }
        RuleDef::ForbiddenUnless {
            field,
            when,
            values,
            reason,
        } => {
            let p = present(s, field, rt);
            let val = str_value(s, when);
            let msg = with_reason(
                format!("is allowed only when `{when}` is {}", names(values)),
                reason,
            );
            let unlisted = unlisted_open_value(s, when, model, rt);
            let push = push_or_warn(unlisted, at(field), quote!(ForbiddenUnless), quote!(#msg));
            quote!(if #p && !matches!(#val, ::std::option::Option::Some(#(#values)|*)) { #push })
        }
        RuleDef::Conflicts {
            field,
            with,
            reason,
        } => {
            let p = present(s, field, rt);
            let each = with.iter().map(|w| {
                let q = present(s, w, rt);
                let msg = with_reason(format!("must not be sent with `{field}`"), reason);
                let push = push(at(w), quote!(Conflicts), quote!(#msg));
                quote!(if #p && #q { #push })
            });
            quote!(#(#each)*)
        }
        RuleDef::AtLeastOne { fields, reason } => {
            let ps = fields.iter().map(|f| present(s, f, rt));
            let msg = with_reason(format!("needs at least one of {}", names(fields)), reason);
            let push = push(quote!(path), quote!(AtLeastOne), quote!(#msg));
            quote!(if !(#(#ps)||*) { #push })
        }
        RuleDef::ExactlyOneNonzero { fields, reason } => {
            let vals = fields.iter().map(|f| number_value(s, f));
            let msg = with_reason(
                format!("exactly one of {} must be non-zero", names(fields)),
                reason,
            );
            let push = push(
                quote!(path),
                quote!(ExactlyOneNonzero),
                quote!(format!("{}, got {}", #msg, nonzero)),
            );
            quote! {
                let nonzero = [#(#vals),*]
                    .iter()
                    .filter(|v| matches!(v, ::std::option::Option::Some(x) if *x != 0.0))
                    .count();
                if nonzero != 1 { #push }
            }
        }
        RuleDef::SumMax {
            field,
            item,
            max,
            reason,
        } => {
            let id = ident(&find(s, field).ident);
            let items = if find(s, field).is_option() {
                quote!(self.#id.as_deref())
            } else {
                quote!(::std::option::Option::Some(self.#id.as_slice()))
            };
            let fmt = format!(
                "the `{item}` of the items add up to {{}}, more than {max}{}",
                reason_suffix(reason).replace('{', "{{").replace('}', "}}")
            );
            let push = push(
                at(field),
                quote!(SumMax(#max)),
                quote!(format!(#fmt, total)),
            );
            quote! {
                if let ::std::option::Option::Some(items) = #items {
                    let total = #rt::__private::check::sum_of(items, #item);
                    if total > #max { #push }
                }
            }
        }
        RuleDef::IgnoredWhen {
            fields,
            when,
            reason,
        } => {
            let q = present(s, when, rt);
            let each = fields.iter().map(|f| {
                let p = present(s, f, rt);
                let msg = with_reason(
                    format!("is ignored by PiAPI when `{when}` is set; it is sent anyway"),
                    reason,
                );
                let push = quote!(out.push(#v::Violation::warning(#rt::__private::check::join(path, #f), #v::Rule::IgnoredWhen, #msg)););
                quote!(if #q && #p { #push })
            });
            quote!(#(#each)*)
        }
        RuleDef::ValuesWhen {
            field,
            when,
            is,
            values,
            reason,
        } => {
            let fid = ident(&find(s, field).ident);
            let wid = ident(&find(s, when).ident);
            let fmt = format!(
                "`{{}}` is not allowed when `{when}` is `{{}}`: allowed are {}{}",
                names(values),
                reason_suffix(reason).replace('{', "{{").replace('}', "}}")
            );
            let push = push(
                at(field),
                quote!(ValuesWhen),
                quote!(format!(#fmt, value, when)),
            );
            quote! {
                if let (::std::option::Option::Some(value), ::std::option::Option::Some(when)) = (
                    #rt::__private::check::text(&self.#fid),
                    #rt::__private::check::text(&self.#wid),
                ) && [#(#is),*].contains(&when.as_str()) && ![#(#values),*].contains(&value.as_str()) {
                    #push
                }
            }
        }
    }
}

fn reason_suffix(reason: &str) -> String {
    if reason.is_empty() {
        String::new()
    } else {
        format!(" ({reason})")
    }
}

fn tagged(t: &TaggedDef, model: &Model, rt: &syn::Path) -> TokenStream {
    let name = ident(&t.name);
    let doc = docs(&t.doc);
    let tag = &t.tag;
    let method = ident(&field_ident(tag));
    let unknown = ident(&t.unknown.name);
    let variants = t.variants.iter().map(|v| {
        let id = ident(&v.ident);
        let payload = ident(&v.payload);
        let value = &v.value;
        let d = docs(&v.doc);
        quote!(#d #[serde(rename = #value)] #id(#payload),)
    });
    let idents: Vec<Ident> = t.variants.iter().map(|v| ident(&v.ident)).collect();
    let values: Vec<&str> = t.variants.iter().map(|v| v.value.as_str()).collect();
    let froms = t.variants.iter().map(|v| {
        let id = ident(&v.ident);
        let payload = ident(&v.payload);
        quote! {
            impl ::std::convert::From<#payload> for #name {
                fn from(value: #payload) -> Self {
                    #name::#id(value)
                }
            }
        }
    });
    let method_doc = format!(" The `{tag}` this value is sent with.");
    let values_doc = format!(" Every `{tag}` value the spec lists, in spec order.");
    let unknown_doc = format!(
        " A `{tag}` the spec does not list, kept whole: it decodes, validates what is \
         known (the shared fields) and is sent as given."
    );
    let accessors = shared_accessors(t, model);
    let payload_struct = structure(&t.unknown, model, rt);
    let unlisted = format!("`{{}}` is not a `{tag}` this SDK knows; it is sent as given");
    quote! {
        #doc
        // Variants differ in size; boxing them would cost every user a `Box::new`
        // for a value built once per request.
        #[allow(clippy::large_enum_variant)]
        #[derive(Clone, Debug, PartialEq, ::serde::Serialize)]
        #[serde(tag = #tag)]
        #[cfg_attr(feature = "schemars", derive(::schemars::JsonSchema))]
        #[non_exhaustive]
        pub enum #name {
            #(#variants)*
            #[doc = #unknown_doc]
            #[serde(untagged)]
            Unknown(#unknown),
        }

        impl #name {
            #[doc = #values_doc]
            pub const VALUES: &'static [&'static str] = &[#(#values),*];

            #[doc = #method_doc]
            pub fn #method(&self) -> &str {
                match self {
                    #(#name::#idents(_) => #values,)*
                    #name::Unknown(v) => v.#method.as_str(),
                }
            }

            /// False for a value whose tag the spec does not list.
            pub fn is_known(&self) -> bool {
                !matches!(self, #name::Unknown(_))
            }

            #accessors
        }

        #(#froms)*

        impl ::std::convert::From<#unknown> for #name {
            fn from(value: #unknown) -> Self {
                #name::Unknown(value)
            }
        }

        // By hand: the tag picks the variant, so that a known tag with a bad body
        // is an error naming the field, and only an unlisted tag is `Unknown`.
        impl<'de> ::serde::Deserialize<'de> for #name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                use ::serde::de::Error as _;
                let mut map = <::serde_json::Map<::std::string::String, ::serde_json::Value> as ::serde::Deserialize>::deserialize(deserializer)?;
                let tag = match map.get(#tag) {
                    ::std::option::Option::Some(::serde_json::Value::String(tag)) => tag.clone(),
                    ::std::option::Option::Some(other) => {
                        return ::std::result::Result::Err(D::Error::custom(::std::format!("`{}` must be a string, got {}", #tag, other)));
                    }
                    ::std::option::Option::None => return ::std::result::Result::Err(D::Error::missing_field(#tag)),
                };
                match tag.as_str() {
                    #(#values => {
                        map.remove(#tag);
                        #rt::__private::from_object(map).map(#name::#idents)
                    })*
                    _ => #rt::__private::from_object(map).map(#name::Unknown),
                }
            }
        }

        impl #rt::validation::Validate for #name {
            fn validate_at(&self, path: &str, out: &mut ::std::vec::Vec<#rt::validation::Violation>) {
                match self {
                    #(#name::#idents(v) => #rt::validation::Validate::validate_at(v, path, out),)*
                    #name::Unknown(v) => {
                        if !v.#method.is_empty() {
                            out.push(#rt::validation::Violation::warning(
                                #rt::__private::check::join(path, #tag),
                                #rt::validation::Rule::Enum,
                                ::std::format!(#unlisted, v.#method),
                            ));
                        }
                        #rt::validation::Validate::validate_at(v, path, out)
                    }
                }
            }
        }
        impl #rt::__private::Presence for #name {
            fn is_present(&self) -> bool {
                true
            }
        }

        #payload_struct
    }
}

/// Accessors for the fields every variant shares: typed where all variants
/// agree on the type, as JSON (`<field>_json`) where they differ; plus `extra`.
fn shared_accessors(t: &TaggedDef, model: &Model) -> TokenStream {
    let name = ident(&t.name);
    let idents: Vec<Ident> = t.variants.iter().map(|v| ident(&v.ident)).collect();
    let payloads: Vec<&StructDef> = t
        .variants
        .iter()
        .filter_map(|v| match model.get(&v.payload) {
            Some(TypeDef::Struct(s)) => Some(s),
            _ => None,
        })
        .collect();
    let mut out = TokenStream::new();
    for f in t.unknown.fields.iter().skip(1) {
        let id = ident(&f.ident);
        let same = payloads.iter().all(|p| {
            p.fields
                .iter()
                .any(|g| g.wire == f.wire && g.ty == f.ty && g.is_option() == f.is_option())
        });
        if same {
            let ty = value_type(&f.ty);
            let mut_name = format_ident!("{}_mut", rust_name(f));
            let doc = format!(" The `{}` of whichever variant this is.", f.wire);
            let mut_doc = format!(
                " The `{}` of whichever variant this is, to change it.",
                f.wire
            );
            let (ret, ret_mut, get) = if f.is_option() {
                (
                    quote!(::std::option::Option<&#ty>),
                    quote!(&mut ::std::option::Option<#ty>),
                    quote!(.as_ref()),
                )
            } else {
                (quote!(&#ty), quote!(&mut #ty), quote!())
            };
            let borrow = if f.is_option() { quote!() } else { quote!(&) };
            out.extend(quote! {
                #[doc = #doc]
                pub fn #id(&self) -> #ret {
                    match self {
                        #(#name::#idents(v) => #borrow v.#id #get,)*
                        #name::Unknown(v) => #borrow v.#id #get,
                    }
                }
                #[doc = #mut_doc]
                pub fn #mut_name(&mut self) -> #ret_mut {
                    match self {
                        #(#name::#idents(v) => &mut v.#id,)*
                        #name::Unknown(v) => &mut v.#id,
                    }
                }
            });
        } else {
            let json_name = format_ident!("{}_json", rust_name(f));
            let doc = format!(
                " The `{}` of whichever variant this is, as the JSON it is sent as.",
                f.wire
            );
            // Where every variant holds a generated struct here, name its fields
            // and reach its extra map (the whole object for `Unknown`).
            let structs: Option<Vec<Ident>> = payloads
                .iter()
                .map(|p| {
                    p.fields
                        .iter()
                        .find(|g| g.wire == f.wire)
                        .and_then(|g| match &g.ty {
                            FieldType::Named(n, NamedKind::Object) => Some(ident(n)),
                            _ => None,
                        })
                })
                .collect();
            if let Some(structs) = structs.filter(|_| f.ty == FieldType::Map) {
                let fields_name = format_ident!("{}_fields", rust_name(f));
                let extra_name = format_ident!("{}_extra_mut", rust_name(f));
                let fields_doc = format!(
                    " The wire names of the fields the spec lists in `{}` for this variant (none for `Unknown`).",
                    f.wire
                );
                let extra_doc = format!(
                    " The fields of `{}` the spec does not list, to add to (the whole object for `Unknown`).",
                    f.wire
                );
                out.extend(quote! {
                    #[doc = #fields_doc]
                    pub fn #fields_name(&self) -> &'static [&'static str] {
                        match self {
                            #(#name::#idents(_) => #structs::FIELDS,)*
                            #name::Unknown(_) => &[],
                        }
                    }
                    #[doc = #extra_doc]
                    pub fn #extra_name(&mut self) -> &mut ::serde_json::Map<::std::string::String, ::serde_json::Value> {
                        match self {
                            #(#name::#idents(v) => &mut v.#id.extra,)*
                            #name::Unknown(v) => &mut v.#id,
                        }
                    }
                });
            }
            out.extend(quote! {
                #[doc = #doc]
                pub fn #json_name(&self) -> ::serde_json::Value {
                    // Serializing generated types to a Value cannot fail: every
                    // map key is a string.
                    let value = match self {
                        #(#name::#idents(v) => ::serde_json::to_value(&v.#id),)*
                        #name::Unknown(v) => ::serde_json::to_value(&v.#id),
                    };
                    value.unwrap_or(::serde_json::Value::Null)
                }
            });
        }
    }
    out.extend(quote! {
        /// The fields the spec does not list, at the top level of the body.
        pub fn extra(&self) -> &::serde_json::Map<::std::string::String, ::serde_json::Value> {
            match self {
                #(#name::#idents(v) => &v.extra,)*
                #name::Unknown(v) => &v.extra,
            }
        }
        /// The fields the spec does not list, at the top level of the body, to change them.
        pub fn extra_mut(&mut self) -> &mut ::serde_json::Map<::std::string::String, ::serde_json::Value> {
            match self {
                #(#name::#idents(v) => &mut v.extra,)*
                #name::Unknown(v) => &mut v.extra,
            }
        }
    });
    out
}

/// `component_schemas()`: the schemars schema of every component, for the spec
/// agreement test.
fn registry(model: &Model) -> TokenStream {
    let entries = model.types.iter().filter_map(|t| {
        let is_component = match t {
            TypeDef::Struct(s) => s.component,
            _ => true,
        };
        is_component.then(|| {
            let name = t.name();
            let ty = format_ident!("{}", name);
            quote!((#name, generator.root_schema_for::<#ty>()))
        })
    });
    quote! {
        /// The JSON schema schemars derives for every component schema of the spec, by name.
        ///
        /// Derived for serialization: a field is required when it is always
        /// written, which is what the spec's `required` lists say.
        #[cfg(feature = "schemars")]
        pub fn component_schemas() -> ::std::vec::Vec<(&'static str, ::schemars::Schema)> {
            let mut generator = ::schemars::generate::SchemaSettings::default()
                .for_serialize()
                .into_generator();
            ::std::vec![#(#entries),*]
        }
    }
}
