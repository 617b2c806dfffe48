//! `kling create TASK_TYPE`: one subcommand per task type of the spec, its
//! flags made from the models' catalog (a flag per input field, typed, with
//! the field's description as help, enum values listed and checked, ranges
//! checked, media flags taking a URL or a local file). A task type the spec
//! does not list is accepted too, with `--input` and `--set` only.
//!
//! Nothing here names a task type or a field: a field added to the spec is a
//! flag after `cargo xtask generate`.

use std::ffi::OsString;

use clap::builder::{PossibleValue, TypedValueParser};
use clap::{ArgAction, ArgMatches, Args, FromArgMatches};
use piapi_kling::models::catalog::{self, FieldInfo, FieldKind, TaskTypeInfo};
use serde_json::Value;

/// A parsed `kling create`: the task type, the flags every task type has
/// (`A`: `--input`, `--set`, `--model` and the task options), and the input
/// fields given by their own flags (in the spec's order).
#[derive(Debug)]
pub struct CreateCommand<A> {
    /// The `task_type`.
    pub task_type: String,
    /// The flags every task type has.
    pub args: A,
    /// `(field, value)` of every field flag given.
    pub fields: Vec<(String, Value)>,
}

/// The flag of an input field: its name with dashes, unless a shared flag
/// has that name already (then `--input-<name>`).
fn flag_name(field: &str, taken: &[String]) -> String {
    let flag = field.replace('_', "-");
    if taken.contains(&flag) {
        format!("input-{flag}")
    } else {
        flag
    }
}

/// The clap id of a field's flag, apart from the shared flags' ids.
fn arg_id(field: &str) -> String {
    format!("field.{field}")
}

/// The long names of the shared flags.
fn shared_flags<A: Args>() -> Vec<String> {
    A::augment_args(clap::Command::new("x"))
        .get_arguments()
        .filter_map(|a| a.get_long().map(str::to_owned))
        .chain(["help".to_owned()])
        .collect()
}

/// The first paragraph of a description, on one line.
fn summary(doc: &str) -> String {
    doc.split("\n\n")
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn task_command<A: Args>(info: &'static TaskTypeInfo, taken: &[String]) -> clap::Command {
    let mut cmd = A::augment_args(
        clap::Command::new(info.task_type)
            .about(summary(info.doc))
            .next_help_heading("Input fields (from the spec)"),
    );
    for field in info.input {
        cmd = cmd.arg(field_arg(field, taken));
    }
    cmd
}

fn field_arg(field: &'static FieldInfo, taken: &[String]) -> clap::Arg {
    let mut help = summary(field.doc);
    let range = match (field.min, field.max) {
        (Some(min), Some(max)) => format!(" [{min} to {max}]"),
        (Some(min), None) => format!(" [at least {min}]"),
        (None, Some(max)) => format!(" [at most {max}]"),
        (None, None) => String::new(),
    };
    if field.media.is_some() {
        help.push_str(" A URL, or a local file (checked and uploaded).");
    }
    let arg = clap::Arg::new(arg_id(field.name))
        .long(flag_name(field.name, taken))
        .help(help)
        .required(false);
    let parser = FieldParser { field };
    match field.kind {
        FieldKind::Boolean => arg
            .num_args(0..=1)
            .default_missing_value("true")
            .value_name("BOOL")
            .value_parser(parser)
            .action(ArgAction::Set),
        FieldKind::StringList => arg
            .value_name(if field.media.is_some() {
                "URL|FILE"
            } else {
                "TEXT"
            })
            .value_parser(parser)
            .action(ArgAction::Append),
        FieldKind::Json => arg.value_name("JSON").value_parser(parser),
        FieldKind::Number | FieldKind::Integer => arg
            .value_name(format!("NUMBER{range}"))
            .value_parser(parser),
        FieldKind::Enum { .. } => arg.value_name("VALUE").value_parser(parser),
        _ if field.media.is_some() => arg.value_name("URL|FILE").value_parser(parser),
        _ => arg.value_name("TEXT").value_parser(parser),
    }
}

/// Turns a flag's text into the JSON value of its field, checking what the
/// spec says of it (enum values unless open, ranges).
#[derive(Clone)]
struct FieldParser {
    field: &'static FieldInfo,
}

impl TypedValueParser for FieldParser {
    type Value = Value;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Value, clap::Error> {
        let invalid = |message: String| {
            let flag = arg.and_then(|a| a.get_long()).unwrap_or(self.field.name);
            clap::Error::raw(
                clap::error::ErrorKind::InvalidValue,
                format!("--{flag}: {message}\n"),
            )
            .with_cmd(cmd)
        };
        let text = value
            .to_str()
            .ok_or_else(|| invalid("is not valid UTF-8".into()))?;
        let in_range = |n: f64| -> Result<(), clap::Error> {
            if let Some(min) = self.field.min.filter(|min| n < *min) {
                return Err(invalid(format!("{n} is below the minimum {min}")));
            }
            if let Some(max) = self.field.max.filter(|max| n > *max) {
                return Err(invalid(format!("{n} is above the maximum {max}")));
            }
            Ok(())
        };
        Ok(match self.field.kind {
            FieldKind::Boolean => match text {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => return Err(invalid(format!("`{text}` is not true or false"))),
            },
            FieldKind::Integer => {
                let n: i64 = text
                    .parse()
                    .map_err(|_| invalid(format!("`{text}` is not a whole number")))?;
                in_range(n as f64)?;
                Value::from(n)
            }
            FieldKind::Number => {
                let n: f64 = text
                    .parse()
                    .ok()
                    .filter(|n: &f64| n.is_finite())
                    .ok_or_else(|| invalid(format!("`{text}` is not a number")))?;
                in_range(n)?;
                Value::from(n)
            }
            FieldKind::Enum {
                values,
                open,
                integer,
            } => {
                if !open && !values.contains(&text) {
                    return Err(invalid(format!(
                        "`{text}` is not one of {}",
                        values.join(", ")
                    )));
                }
                // A value the open enum does not list is sent; the SDK warns.
                match (integer, text.parse::<i64>()) {
                    (true, Ok(n)) => Value::from(n),
                    (true, Err(_)) => {
                        return Err(invalid(format!("`{text}` is not a whole number")));
                    }
                    (false, _) => Value::String(text.to_owned()),
                }
            }
            FieldKind::Json => {
                let json = match text.strip_prefix('@') {
                    Some(path) => std::fs::read_to_string(path)
                        .map_err(|e| invalid(format!("cannot read {path}: {e}")))?,
                    None => text.to_owned(),
                };
                serde_json::from_str(&json).map_err(|e| invalid(format!("not valid JSON: {e}")))?
            }
            _ => Value::String(text.to_owned()),
        })
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        match self.field.kind {
            FieldKind::Enum { values, .. } => Some(Box::new(
                values
                    .iter()
                    .filter(|v| !v.is_empty())
                    .map(|v| PossibleValue::new(*v)),
            )),
            FieldKind::Boolean => Some(Box::new(
                ["true", "false"].into_iter().map(PossibleValue::new),
            )),
            _ => None,
        }
    }
}

impl<A: Args + FromArgMatches> FromArgMatches for CreateCommand<A> {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let Some((name, sub)) = matches.subcommand() else {
            return Err(clap::Error::raw(
                clap::error::ErrorKind::MissingSubcommand,
                "kling create needs a task type\n",
            ));
        };
        let Some(info) = catalog::task_type(name) else {
            // A task type the spec does not list: the shared flags only.
            let raw: Vec<OsString> = sub
                .get_many::<OsString>("")
                .into_iter()
                .flatten()
                .cloned()
                .collect();
            let cmd = A::augment_args(
                clap::Command::new(name.to_owned())
                    .no_binary_name(true)
                    .about("A task type the spec does not list: give its input with --input and --set."),
            );
            let matches = cmd.try_get_matches_from(raw)?;
            return Ok(CreateCommand {
                task_type: name.to_owned(),
                args: A::from_arg_matches(&matches)?,
                fields: Vec::new(),
            });
        };
        let mut fields = Vec::new();
        for field in info.input {
            let value = match field.kind {
                FieldKind::StringList => sub
                    .get_many::<Value>(&arg_id(field.name))
                    .map(|values| Value::Array(values.cloned().collect())),
                _ => sub.get_one::<Value>(&arg_id(field.name)).cloned(),
            };
            if let Some(value) = value {
                fields.push((field.name.to_owned(), value));
            }
        }
        Ok(CreateCommand {
            task_type: name.to_owned(),
            args: A::from_arg_matches(sub)?,
            fields,
        })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

impl<A: Args + FromArgMatches> clap::Subcommand for CreateCommand<A> {
    fn augment_subcommands(cmd: clap::Command) -> clap::Command {
        let taken = shared_flags::<A>();
        let cmd = cmd
            .subcommand_required(true)
            .subcommand_value_name("TASK_TYPE")
            .subcommand_help_heading("Task types (from the spec; any other is sent as given)")
            .allow_external_subcommands(true)
            .external_subcommand_value_parser(clap::value_parser!(OsString));
        catalog::TASK_TYPES.iter().fold(cmd, |cmd, info| {
            cmd.subcommand(task_command::<A>(info, &taken))
        })
    }

    fn augment_subcommands_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_subcommands(cmd)
    }

    fn has_subcommand(_name: &str) -> bool {
        // Any name is a task type: those the spec lists have their flags.
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    /// Flags every task type has, as the CLI's own are.
    #[derive(Args, Debug)]
    struct Shared {
        #[arg(long)]
        wait: bool,
        #[arg(long = "set")]
        sets: Vec<String>,
        #[arg(long, default_value = "{}")]
        input: String,
    }

    #[derive(Parser, Debug)]
    struct Probe {
        #[command(subcommand)]
        create: CreateCommand<Shared>,
    }

    fn parse(args: &[&str]) -> Result<CreateCommand<Shared>, clap::Error> {
        Probe::try_parse_from(std::iter::once("create").chain(args.iter().copied()))
            .map(|p| p.create)
    }

    #[test]
    fn every_field_of_every_task_type_is_a_flag() {
        let taken = shared_flags::<Shared>();
        for info in catalog::TASK_TYPES {
            let cmd = task_command::<Shared>(info, &taken);
            for field in info.input {
                assert!(
                    cmd.get_arguments()
                        .any(|a| a.get_id() == arg_id(field.name).as_str()),
                    "{}.{} has no flag",
                    info.task_type,
                    field.name
                );
            }
        }
    }

    #[test]
    fn flags_are_typed_and_checked() {
        let parsed = parse(&[
            "video_generation",
            "--prompt",
            "a fox",
            "--cfg-scale",
            "0.5",
            "--duration",
            "10",
            "--enable-audio",
            "--version",
            "9.9",
            "--images",
            "a.png",
            "--images",
            "https://e.com/b.png",
            "--camera-control",
            r#"{"type":"down_back"}"#,
            "--wait",
        ])
        .unwrap();
        assert_eq!(parsed.task_type, "video_generation");
        assert!(parsed.args.wait);
        let fields: serde_json::Map<String, Value> = parsed.fields.into_iter().collect();
        assert_eq!(fields["prompt"], "a fox");
        assert_eq!(fields["cfg_scale"], 0.5);
        assert_eq!(fields["duration"], 10);
        assert_eq!(fields["enable_audio"], true);
        assert_eq!(fields["version"], "9.9");
        assert_eq!(
            fields["images"],
            serde_json::json!(["a.png", "https://e.com/b.png"])
        );
        assert_eq!(fields["camera_control"]["type"], "down_back");

        let err = parse(&["video_generation", "--cfg-scale", "3"]).unwrap_err();
        assert!(err.to_string().contains("above the maximum 1"), "{err}");
        let err = parse(&["video_generation", "--duration", "long"]).unwrap_err();
        assert!(err.to_string().contains("not a whole number"), "{err}");
        let err = parse(&["video_generation", "--no-such-field", "1"]).unwrap_err();
        assert!(err.to_string().contains("--no-such-field"), "{err}");
    }

    #[test]
    fn unknown_task_types_take_input_and_sets() {
        let parsed = parse(&[
            "kling_hologram",
            "--input",
            r#"{"prompt":"hi"}"#,
            "--set",
            "input.depth=3",
        ])
        .unwrap();
        assert_eq!(parsed.task_type, "kling_hologram");
        assert!(parsed.fields.is_empty());
        assert_eq!(parsed.args.sets, ["input.depth=3"]);
        assert!(parse(&["kling_hologram", "--prompt", "x"]).is_err());
    }
}
