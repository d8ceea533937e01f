//! One task (or handler) of a role, read and checked: its keywords, its module (a name or an
//! alias), its arguments' names and literal values, and the syntax of its templates and
//! expressions. Each problem is an [`InputError`] naming the file, line, column and key
//! (`tasks[2].user.shel`), with a suggestion for a misspelt name.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use super::template::{Templates, is_template};
use crate::input::InputError;
use crate::input::Pos;
use crate::input::suggest;
use crate::input::yaml::{self, Node, NodeKind};
use crate::inventory::Origin;
use crate::modules::{self, ArgKind, ModuleDef};

/// Keywords a task may carry besides its module.
const TASK_KEYWORDS: &[&str] = &[
    "name",
    "when",
    "tags",
    "notify",
    "changed_when",
    "check_mode",
];

/// One task (or handler) of a role.
pub struct Task {
    pub name: String,
    pub module: &'static ModuleDef,
    /// Arguments as written (templates not yet rendered).
    pub args: BTreeMap<&'static str, Value>,
    pub when: Option<String>,
    pub tags: Vec<String>,
    pub notify: Vec<String>,
    pub changed_when: Option<Condition>,
    /// `check_mode: false`: the author vouches that the task only looks; it runs in `--check`.
    pub runs_in_check_mode: bool,
    /// Where the task is written.
    pub origin: Origin,
}

/// `changed_when`: a constant or an expression over `result`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Condition {
    Always(bool),
    Expression(String),
}

/// A role's `tasks/main.yaml` or `handlers/main.yaml` (`section`), each task checked.
pub(super) fn read_tasks(
    file: &Path,
    root: &Node,
    section: &str,
    templates: &Templates,
    errors: &mut Vec<InputError>,
) -> Vec<Task> {
    let items = match &root.kind {
        NodeKind::Seq(items) => items,
        NodeKind::Null => return Vec::new(),
        _ => {
            errors.push(InputError::at(
                file,
                root.pos,
                yaml::TOP_LEVEL,
                format!(
                    "{section} are a list (`- name: …`), found {}",
                    root.describe()
                ),
            ));
            return Vec::new();
        }
    };
    items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| {
            read_task(
                file,
                item,
                &format!("{section}[{i}]"),
                section == "handlers",
                templates,
                errors,
            )
        })
        .collect()
}

fn read_task(
    file: &Path,
    node: &Node,
    key: &str,
    is_handler: bool,
    templates: &Templates,
    errors: &mut Vec<InputError>,
) -> Option<Task> {
    let error = |pos: Pos, sub: &str, message: String| {
        let full = if sub.is_empty() {
            key.to_string()
        } else {
            format!("{key}.{sub}")
        };
        InputError::at(file, pos, full, message)
    };
    let NodeKind::Map(entries) = &node.kind else {
        errors.push(error(
            node.pos,
            "",
            format!(
                "a task is a map (`name:`, a module, …), found {}",
                node.describe()
            ),
        ));
        return None;
    };
    let before = errors.len();
    let mut name = None;
    let mut module: Option<(&'static ModuleDef, &Node)> = None;
    let mut when = None;
    let mut tags = Vec::new();
    let mut notify = Vec::new();
    let mut changed_when = None;
    let mut changed_when_at = None;
    let mut runs_in_check_mode = false;
    let mut check_mode_at = None;
    for entry in entries {
        let value = &entry.value;
        let at = entry.key_pos;
        match entry.key.as_str() {
            "name" => match value.as_str() {
                Some(text) if !text.trim().is_empty() && !is_template(text) => {
                    name = Some(text.trim().to_string());
                }
                _ => errors.push(error(
                    value.pos,
                    "name",
                    format!(
                        "a task name is plain text (no template), found {}",
                        value.describe()
                    ),
                )),
            },
            "when" => match expression(value) {
                Ok(expr) => match templates.check_expression(&expr) {
                    Ok(()) => when = Some(expr),
                    Err(e) => errors.push(error(value.pos, "when", e)),
                },
                Err(message) => errors.push(error(value.pos, "when", message)),
            },
            "changed_when" => match &value.kind {
                NodeKind::Bool(b) => changed_when = Some(Condition::Always(*b)),
                _ => match expression(value) {
                    Ok(expr) => match templates.check_expression(&expr) {
                        Ok(()) => {
                            changed_when = Some(Condition::Expression(expr));
                            changed_when_at = Some(value.pos);
                        }
                        Err(e) => errors.push(error(value.pos, "changed_when", e)),
                    },
                    Err(message) => errors.push(error(value.pos, "changed_when", message)),
                },
            },
            "check_mode" => match &value.kind {
                NodeKind::Bool(false) => {
                    runs_in_check_mode = true;
                    check_mode_at = Some(value.pos);
                }
                NodeKind::Bool(true) => {}
                _ => errors.push(error(
                    value.pos,
                    "check_mode",
                    format!(
                        "expected false (run this read-only task in --check too), found {}",
                        value.describe()
                    ),
                )),
            },
            "tags" => match words(value) {
                Ok(list) => tags = list,
                Err(message) => errors.push(error(value.pos, "tags", message)),
            },
            "notify" => match words_or_names(value) {
                Ok(list) => notify = list,
                Err(message) => errors.push(error(value.pos, "notify", message)),
            },
            other => match modules::find(other) {
                Some(def) => {
                    if let Some((first, _)) = module {
                        errors.push(error(
                            at,
                            other,
                            format!(
                                "a task runs one module, and this one already runs {}",
                                first.name
                            ),
                        ));
                    } else {
                        module = Some((def, value));
                    }
                }
                None => errors.push(error(
                    at,
                    other,
                    format!(
                        "unknown module or task keyword {other}{}",
                        suggest::hint(other, TASK_KEYWORDS.iter().copied().chain(modules::names()))
                    ),
                )),
            },
        }
    }
    let Some((def, args_node)) = module else {
        if errors.len() == before {
            errors.push(error(
                node.pos,
                "",
                format!(
                    "the task runs no module; one of: {}",
                    modules::MODULES
                        .iter()
                        .map(|m| m.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        return None;
    };
    // Two keywords mean something only for a command: `check_mode: false` runs the task for real
    // in --check, which must change nothing, so only a command that only looks may say it; an
    // expression in `changed_when` is evaluated over a command's result, which no other module
    // has (it would be ignored, the task reported changed).
    if !std::ptr::eq(def, &modules::COMMAND) {
        if let Some(pos) = check_mode_at {
            errors.push(error(
                pos,
                "check_mode",
                format!(
                    "check_mode: false would run this {} task for real in --check, which must change nothing; only a command that only looks may run there",
                    def.name
                ),
            ));
        }
        if let Some(pos) = changed_when_at {
            errors.push(error(
                pos,
                "changed_when",
                format!(
                    "an expression here is evaluated over a command's result, and a {} task has none: write true or false",
                    def.name
                ),
            ));
        }
    }
    if is_handler && name.is_none() {
        errors.push(error(
            node.pos,
            "",
            "a handler needs a name: tasks notify it by name".into(),
        ));
    }
    let args = read_args(
        file,
        def,
        args_node,
        &format!("{key}.{}", def.name),
        templates,
        errors,
    );
    if errors.len() > before {
        return None;
    }
    Some(Task {
        name: name.unwrap_or_else(|| def.name.to_string()),
        module: def,
        args,
        when,
        tags,
        notify,
        changed_when,
        runs_in_check_mode,
        // A task is reported at its first line.
        origin: Origin::new(file, node.pos),
    })
}

fn read_args(
    file: &Path,
    def: &'static ModuleDef,
    node: &Node,
    key: &str,
    templates: &Templates,
    errors: &mut Vec<InputError>,
) -> BTreeMap<&'static str, Value> {
    let mut args = BTreeMap::new();
    let entries: Vec<(String, Pos, &Node)> = match (&node.kind, def.free_form) {
        (NodeKind::Map(entries), _) => entries
            .iter()
            .map(|e| (e.key.clone(), e.key_pos, &e.value))
            .collect(),
        (NodeKind::Null, _) => Vec::new(),
        // `command: true` is the command `true`, not a boolean.
        (NodeKind::String(_) | NodeKind::Bool(_) | NodeKind::Number(_), Some(free)) => {
            vec![(free.to_string(), node.pos, node)]
        }
        _ => {
            errors.push(InputError::at(
                file,
                node.pos,
                key,
                format!(
                    "the arguments of {} are a map (argument: value), found {}",
                    def.name,
                    node.describe()
                ),
            ));
            return args;
        }
    };
    let names = || def.args.iter().map(|a| a.name);
    for (name, pos, value) in entries {
        let Some(spec) = def.args.iter().find(|a| a.name == name) else {
            errors.push(InputError::at(
                file,
                pos,
                format!("{key}.{name}"),
                format!(
                    "{} has no argument {name}{}; its arguments: {}",
                    def.name,
                    suggest::hint(&name, names()),
                    names().collect::<Vec<_>>().join(", ")
                ),
            ));
            continue;
        };
        let arg_key = format!("{key}.{name}");
        if spec.kind == ArgKind::Expressions {
            for (i, expr) in strings(value).into_iter().enumerate() {
                if let Err(e) = templates.check_expression(expr) {
                    errors.push(InputError::at(
                        file,
                        value.pos,
                        format!("{arg_key}[{i}]"),
                        e,
                    ));
                }
            }
        } else if contains_template(value) {
            check_templates(file, value, &arg_key, templates, errors);
        } else if !value.is_null()
            && let Err(message) = spec.kind.check(&value.to_json())
        {
            errors.push(InputError::at(file, value.pos, arg_key, message));
            continue;
        }
        args.insert(spec.name, value.to_json());
    }
    for spec in def.args.iter().filter(|a| a.required) {
        if !args.contains_key(spec.name) {
            errors.push(InputError::at(
                file,
                node.pos,
                key,
                format!("{} needs the argument {}", def.name, spec.name),
            ));
        }
    }
    args
}

/// An expression: a string, or a literal boolean.
fn expression(node: &Node) -> Result<String, String> {
    match &node.kind {
        NodeKind::String(s) if is_template(s) => Err(format!(
            "write the expression without {{{{ }}}}: {}",
            s.trim()
                .trim_start_matches("{{")
                .trim_end_matches("}}")
                .trim()
        )),
        NodeKind::String(s) => Ok(s.clone()),
        NodeKind::Bool(b) => Ok(b.to_string()),
        NodeKind::Seq(items) => {
            // Ansible's list form: every condition must hold.
            let parts: Result<Vec<String>, String> = items.iter().map(expression).collect();
            Ok(parts?
                .into_iter()
                .map(|p| format!("({p})"))
                .collect::<Vec<_>>()
                .join(" and "))
        }
        _ => Err(format!("expected an expression, found {}", node.describe())),
    }
}

fn words(node: &Node) -> Result<Vec<String>, String> {
    let items: Vec<&Node> = match &node.kind {
        NodeKind::Seq(items) => items.iter().collect(),
        _ => vec![node],
    };
    items
        .into_iter()
        .map(|item| match item.as_str() {
            Some(s) if !s.is_empty() && !s.contains(char::is_whitespace) => Ok(s.to_string()),
            _ => Err(format!(
                "expected a word or a list of words, found {}",
                item.describe()
            )),
        })
        .collect()
}

fn words_or_names(node: &Node) -> Result<Vec<String>, String> {
    let items: Vec<&Node> = match &node.kind {
        NodeKind::Seq(items) => items.iter().collect(),
        _ => vec![node],
    };
    items
        .into_iter()
        .map(|item| match item.as_str() {
            Some(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
            _ => Err(format!(
                "expected a handler name or a list of them, found {}",
                item.describe()
            )),
        })
        .collect()
}

fn strings(node: &Node) -> Vec<&str> {
    match &node.kind {
        NodeKind::Seq(items) => items.iter().filter_map(Node::as_str).collect(),
        _ => node.as_str().into_iter().collect(),
    }
}

fn contains_template(node: &Node) -> bool {
    match &node.kind {
        NodeKind::String(s) => is_template(s),
        NodeKind::Seq(items) => items.iter().any(contains_template),
        NodeKind::Map(entries) => entries.iter().any(|e| contains_template(&e.value)),
        _ => false,
    }
}

/// Checks the syntax of every templated string in a value.
pub(super) fn check_templates(
    file: &Path,
    node: &Node,
    key: &str,
    templates: &Templates,
    errors: &mut Vec<InputError>,
) {
    match &node.kind {
        NodeKind::String(s) if is_template(s) => {
            if let Err(e) = templates.check_template(s) {
                errors.push(InputError::at(file, node.pos, key, e));
            }
        }
        NodeKind::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                check_templates(file, item, &format!("{key}[{i}]"), templates, errors);
            }
        }
        NodeKind::Map(entries) => {
            for entry in entries {
                check_templates(
                    file,
                    &entry.value,
                    &format!("{key}.{}", entry.key),
                    templates,
                    errors,
                );
            }
        }
        _ => {}
    }
}
