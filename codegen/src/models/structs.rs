//! Structs: serde attributes, setters, constructors, redacted `Debug`.

use crate::ir::{EXTRA_FIELD, Field, FieldType, Model, NamedKind, StructDef, TypeDef};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::validate::*;
use crate::tokens::*;

pub(super) fn field_type(f: &Field) -> TokenStream {
    let ty = value_type(&f.ty);
    if f.is_option() {
        quote!(::std::option::Option<#ty>)
    } else {
        ty
    }
}

pub(super) fn rust_name(f: &Field) -> &str {
    f.ident.strip_prefix("r#").unwrap_or(&f.ident)
}

pub(super) fn field_attrs(f: &Field, rt: &syn::Path) -> TokenStream {
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

pub(super) fn path_string(path: &syn::Path) -> String {
    let mut s = String::new();
    if path.leading_colon.is_some() {
        s.push_str("::");
    }
    let segs: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    s.push_str(&segs.join("::"));
    s
}

pub(super) fn structure(s: &StructDef, model: &Model, rt: &syn::Path) -> TokenStream {
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
pub(super) fn setters(s: &StructDef) -> TokenStream {
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
pub(super) fn setter_param(ty: &FieldType) -> (TokenStream, TokenStream) {
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
pub(super) fn is_defaultable(ty: &FieldType, model: &Model) -> bool {
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
pub(super) fn constructor(s: &StructDef) -> Option<TokenStream> {
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

pub(super) fn debug_redacted(s: &StructDef, rt: &syn::Path) -> TokenStream {
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
