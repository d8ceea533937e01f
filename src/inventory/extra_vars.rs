//! `-e` / `--extra-vars`: variables given on the command line, the highest precedence (as in
//! Ansible). `-e name=value` gives a string; `-e '{name: [1, 2]}'` (a YAML or JSON map) gives
//! typed values. They are checked like inventory variables; their errors are located as
//! `-e:N:COLUMN`, N being the position of the `-e` among the others.

use std::path::Path;

use super::vars::{Origin, VarDef};
use crate::input::InputError;
use crate::input::Pos;
use crate::input::yaml::{self, Node, NodeKind};

/// The file name errors about `-e` values carry.
pub const SOURCE: &str = "-e";

/// Reads every `-e` argument into definitions, in order (a later one wins).
pub(crate) fn parse(arguments: &[String], errors: &mut Vec<InputError>) -> Vec<VarDef> {
    let file = Path::new(SOURCE);
    let mut defs = Vec::new();
    for (index, argument) in arguments.iter().enumerate() {
        let line = index + 1;
        let at = |column: usize| Pos { line, column };
        if argument.trim_start().starts_with('{') {
            match yaml::parse(file, argument) {
                Ok(Node {
                    kind: NodeKind::Map(entries),
                    ..
                }) => {
                    for entry in entries {
                        defs.push(VarDef {
                            key: entry.key.clone(),
                            name: entry.key,
                            value: Node {
                                pos: at(entry.value.pos.column),
                                ..entry.value
                            },
                            origin: Origin::new(file, at(entry.key_pos.column)),
                            listing: None,
                        });
                    }
                }
                Ok(other) => errors.push(InputError::at(
                    file,
                    at(1),
                    argument.clone(),
                    format!("expected a map of variables, found {}", other.describe()),
                )),
                Err(mut error) => {
                    error.line = line;
                    errors.push(error);
                }
            }
            continue;
        }
        match argument.split_once('=') {
            Some((name, value)) if !name.trim().is_empty() => defs.push(VarDef {
                name: name.trim().to_string(),
                key: name.trim().to_string(),
                value: Node {
                    kind: NodeKind::String(value.to_string()),
                    pos: at(name.len() + 2),
                },
                origin: Origin::new(file, at(1)),
                listing: None,
            }),
            _ => errors.push(InputError::at(
                file,
                at(1),
                argument.clone(),
                "expected name=value, or a YAML map such as '{name: value}'",
            )),
        }
    }
    defs
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn name_value_pairs_are_strings_and_maps_are_typed() {
        let mut errors = Vec::new();
        let defs = parse(
            &[
                "medulla_user=admin2".into(),
                "{workstation_subnets: [10.1.0.0/16]}".into(),
            ],
            &mut errors,
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(defs[0].name, "medulla_user");
        assert_eq!(defs[0].value.to_json(), json!("admin2"));
        assert_eq!(defs[1].name, "workstation_subnets");
        assert_eq!(defs[1].value.to_json(), json!(["10.1.0.0/16"]));
        assert_eq!(defs[1].origin.line, 2);
    }

    #[test]
    fn a_bare_word_is_an_error_naming_its_position() {
        let mut errors = Vec::new();
        parse(&["a=1".into(), "oops".into()], &mut errors);
        assert_eq!(
            errors[0].to_string(),
            "-e:2:1: oops: expected name=value, or a YAML map such as '{name: value}'"
        );
    }
}
