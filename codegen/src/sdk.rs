//! The SDK's typed setters: one method on `TaskBuilder<XInput>` per input
//! field of every task type, documented from the spec, so that a field added to
//! the spec has a setter after `cargo xtask generate`. Media fields take a URL
//! or a local file (`impl Into<MediaSource>`).

use crate::catalog::TASK_TAG;
use crate::ir::{Field, FieldType, Model, NamedKind, StructDef, TypeDef};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::tokens::{ident, value_type};

/// Methods `TaskBuilder` has whatever the input: a field with one of these
/// names gets a `set_` setter instead.
pub const RESERVED: &[&str] = &[
    "new",
    "model",
    "input",
    "input_mut",
    "webhook",
    "service_mode",
    "header",
    "extra",
    "send",
    "request",
    "estimate_cost",
    "prepare",
    "into_request",
];

/// The setters file of the SDK.
pub fn generate(model: &Model) -> TokenStream {
    let mut out = quote! {
        use piapi_kling_models::*;
        use super::TaskBuilder;
        use crate::source::MediaSource;
    };
    let mut seen = std::collections::BTreeSet::new();
    for def in &model.types {
        let TypeDef::Tagged(t) = def else { continue };
        if t.tag != TASK_TAG {
            continue;
        }
        for v in &t.variants {
            let Some(TypeDef::Struct(payload)) = model.get(&v.payload) else {
                continue;
            };
            let Some(FieldType::Named(input_name, NamedKind::Object)) = payload
                .fields
                .iter()
                .find(|f| f.wire == "input")
                .map(|f| &f.ty)
            else {
                continue;
            };
            let Some(TypeDef::Struct(input)) = model.get(input_name) else {
                continue;
            };
            if seen.insert(input.name.clone()) {
                out.extend(setters(input, &v.value));
            }
        }
    }
    out
}

fn setters(input: &StructDef, task_type: &str) -> TokenStream {
    let ty = ident(&input.name);
    let methods = input.fields.iter().map(|f| setter(f, task_type));
    let doc = format!(" The fields of `{task_type}`'s input, one setter each.");
    quote! {
        #[doc = #doc]
        impl TaskBuilder<#ty> {
            #(#methods)*
        }
    }
}

fn setter(f: &Field, task_type: &str) -> TokenStream {
    let field = ident(&f.ident);
    let plain = f.ident.trim_start_matches("r#");
    let method = if RESERVED.contains(&plain) {
        format_ident!("set_{}", plain)
    } else {
        ident(&f.ident)
    };
    let wire = &f.wire;
    let mut doc = format!(" `input.{wire}` of `{task_type}`: {}", f.doc.trim());
    let (param, value) = match (&f.ty, &f.media) {
        (FieldType::String, Some(_)) => {
            doc.push_str("\n\n A URL, or a local file that `send()` checks and uploads.");
            (
                quote!(impl ::std::convert::Into<MediaSource>),
                quote!(value.into().into_text()),
            )
        }
        (FieldType::Array(item), Some(_)) if **item == FieldType::String => {
            doc.push_str("\n\n URLs, or local files that `send()` checks and uploads.");
            (
                quote!(
                    impl ::std::iter::IntoIterator<Item = impl ::std::convert::Into<MediaSource>>
                ),
                quote!(value.into_iter().map(|v| v.into().into_text()).collect()),
            )
        }
        (FieldType::String, None) => (
            quote!(impl ::std::convert::Into<::std::string::String>),
            quote!(value.into()),
        ),
        (FieldType::Named(name, NamedKind::StringEnum | NamedKind::IntEnum), _) => {
            let t = ident(name);
            doc.push_str(&format!(
                "\n\n A `{name}`, or its wire value; one the spec does not list is sent with a warning if `{name}` is open."
            ));
            (quote!(impl ::std::convert::Into<#t>), quote!(value.into()))
        }
        (FieldType::Named(name, NamedKind::Object), _) => {
            let t = ident(name);
            (quote!(#t), quote!(value))
        }
        (FieldType::Number, _) => (quote!(impl ::std::convert::Into<f64>), quote!(value.into())),
        (FieldType::Integer, _) => (quote!(impl ::std::convert::Into<i64>), quote!(value.into())),
        (FieldType::Boolean, _) => (quote!(bool), quote!(value)),
        (FieldType::Array(item), _) => {
            let item = value_type(item);
            (
                quote!(impl ::std::iter::IntoIterator<Item = #item>),
                quote!(value.into_iter().collect()),
            )
        }
        (FieldType::Map, _) => (
            quote!(::serde_json::Map<::std::string::String, ::serde_json::Value>),
            quote!(value),
        ),
        (FieldType::Any, _) => (
            quote!(impl ::std::convert::Into<::serde_json::Value>),
            quote!(value.into()),
        ),
    };
    let assign = if f.is_option() {
        quote!(self.input.#field = ::std::option::Option::Some(#value);)
    } else {
        quote!(self.input.#field = #value;)
    };
    quote! {
        #[doc = #doc]
        pub fn #method(mut self, value: #param) -> Self {
            #assign
            self
        }
    }
}
