//! Token helpers every part of the models generator uses.

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

pub(super) fn ident(name: &str) -> Ident {
    match name.strip_prefix("r#") {
        Some(raw) => Ident::new_raw(raw, Span::call_site()),
        None => Ident::new(name, Span::call_site()),
    }
}

/// Doc attributes, one per line, so prettyplease prints them as `///` comments.
pub(super) fn docs(text: &str) -> TokenStream {
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
