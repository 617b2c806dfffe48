//! `validate()`: every constraint and `x-rules` entry as a check.

use crate::ir::{Field, FieldType, Model, NamedKind, Rule, RuleDef, StructDef, TypeDef};
use proc_macro2::TokenStream;
use quote::quote;

use crate::tokens::*;

pub(super) fn validate_impl(s: &StructDef, model: &Model, rt: &syn::Path) -> TokenStream {
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
pub(super) fn value_checks(f: &Field, ty: &FieldType, rt: &syn::Path) -> TokenStream {
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

pub(super) fn field_checks(f: &Field, rt: &syn::Path) -> TokenStream {
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

pub(super) fn opt_f64(v: Option<f64>) -> TokenStream {
    match v {
        Some(v) => quote!(::std::option::Option::Some(#v)),
        None => quote!(::std::option::Option::None),
    }
}

pub(super) fn opt_u64(v: Option<u64>) -> TokenStream {
    match v {
        Some(v) => quote!(::std::option::Option::Some(#v)),
        None => quote!(::std::option::Option::None),
    }
}

pub(super) fn find<'a>(s: &'a StructDef, wire: &str) -> &'a Field {
    s.fields
        .iter()
        .find(|f| f.wire == wire)
        .expect("rule fields are checked when the IR is built")
}

pub(super) fn present(s: &StructDef, wire: &str, rt: &syn::Path) -> TokenStream {
    let id = ident(&find(s, wire).ident);
    quote!(#rt::__private::Presence::is_present(&self.#id))
}

/// `Option<&str>` of a string or string-enum field.
pub(super) fn str_value(s: &StructDef, wire: &str) -> TokenStream {
    let f = find(s, wire);
    let id = ident(&f.ident);
    match (&f.ty, f.is_option()) {
        (FieldType::String, true) => quote!(self.#id.as_deref()),
        (FieldType::String, false) => quote!(::std::option::Option::Some(self.#id.as_str())),
        (_, true) => quote!(self.#id.as_ref().map(|v| v.as_str())),
        (_, false) => quote!(::std::option::Option::Some(self.#id.as_str())),
    }
}

pub(super) fn number_value(s: &StructDef, wire: &str) -> TokenStream {
    let f = find(s, wire);
    let id = ident(&f.ident);
    match (&f.ty, f.is_option()) {
        (FieldType::Number, true) => quote!(self.#id),
        (FieldType::Number, false) => quote!(::std::option::Option::Some(self.#id)),
        (_, true) => quote!(self.#id.map(|v| v as f64)),
        (_, false) => quote!(::std::option::Option::Some(self.#id as f64)),
    }
}

pub(super) fn with_reason(message: String, reason: &str) -> String {
    if reason.is_empty() {
        message
    } else {
        format!("{message} ({reason})")
    }
}

pub(super) fn names(list: &[String]) -> String {
    list.iter()
        .map(|v| format!("`{v}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// True (at run time) when the field holds a value its open enum does not list:
/// a rule comparing it with documented values cannot tell whether the newer
/// value supports the feature, so it warns instead of refusing.
pub(super) fn unlisted_open_value(
    s: &StructDef,
    wire: &str,
    model: &Model,
    rt: &syn::Path,
) -> TokenStream {
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

pub(super) fn rule_check(rule: &Rule, s: &StructDef, model: &Model, rt: &syn::Path) -> TokenStream {
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
    // `field` is set while `other` holds none of `values`: an error, or a
    // warning when `other` holds an open enum's new value.
    let set_while_other_not_in =
        |field: &str, other: &str, values: &[String], kind: TokenStream, message: String| {
            let p = present(s, field, rt);
            let val = str_value(s, other);
            let unlisted = unlisted_open_value(s, other, model, rt);
            let push = push_or_warn(unlisted, at(field), kind, quote!(#message));
            quote!(if #p && !matches!(#val, ::std::option::Option::Some(#(#values)|*)) { #push })
        };
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
            let msg = with_reason(format!("needs `{other}` to be {}", names(values)), reason);
            set_while_other_not_in(field, other, values, quote!(RequiresValue), msg)
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
            let msg = with_reason(
                format!("is allowed only when `{when}` is {}", names(values)),
                reason,
            );
            set_while_other_not_in(field, when, values, quote!(ForbiddenUnless), msg)
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

pub(super) fn reason_suffix(reason: &str) -> String {
    if reason.is_empty() {
        String::new()
    } else {
        format!(" ({reason})")
    }
}
