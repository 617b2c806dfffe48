//! Token helpers every generator uses: identifiers, doc attributes, the Rust
//! type of a field's value.

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use crate::ir::FieldType;

pub(crate) fn ident(name: &str) -> Ident {
    match name.strip_prefix("r#") {
        Some(raw) => Ident::new_raw(raw, Span::call_site()),
        None => Ident::new(name, Span::call_site()),
    }
}

/// Doc attributes, one per line, so prettyplease prints them as `///` comments.
pub(crate) fn docs(text: &str) -> TokenStream {
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

/// The Rust type of a value (without the `Option` of an optional field).
pub(crate) fn value_type(ty: &FieldType) -> TokenStream {
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
