//! A role's files, read and checked: `tasks/main.yaml`, `handlers/main.yaml`,
//! `defaults/main.yaml`, `templates/`, `files/` (Ansible's layout; `main.yml` is read too).
//!
//! Everything that can be checked without a host is checked here, before any host is touched:
//! YAML syntax, task keywords, module names, argument names and literal values, handler names,
//! the syntax of every template and expression. Each problem is an [`InputError`] naming the
//! file, line, column and key (`tasks[2].user.shel`), with a suggestion for a misspelt name.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

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

/// A role, checked.
pub struct Role {
    pub name: String,
    pub tasks: Vec<Task>,
    pub handlers: Vec<Task>,
    /// Lowest-precedence variables, in file order.
    pub defaults: Vec<(String, Value, Origin)>,
    /// `files/`, by path relative to it.
    pub files: BTreeMap<String, Vec<u8>>,
    /// `templates/`, by path relative to it; registered in [`Templates`] as `ROLE/PATH`.
    pub templates: BTreeSet<String>,
}

impl Role {
    /// Whether a task or handler of the role uses the module `name`.
    pub fn uses_module(&self, name: &str) -> bool {
        self.tasks
            .iter()
            .chain(&self.handlers)
            .any(|task| task.module.name == name)
    }
}

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

/// The files of one role, wherever they come from.
pub struct RoleFiles {
    pub name: String,
    /// Where the role lives, for error messages (`roles/medulla_user`).
    pub dir: PathBuf,
    /// Paths relative to the role's directory.
    pub files: BTreeMap<String, Vec<u8>>,
}

impl RoleFiles {
    /// The YAML file `sub/main.yaml` (or `main.yml`), with its display path.
    fn main_file(&self, sub: &str, errors: &mut Vec<InputError>) -> Option<(PathBuf, &[u8])> {
        let yaml = format!("{sub}/main.yaml");
        let yml = format!("{sub}/main.yml");
        match (self.files.get(&yaml), self.files.get(&yml)) {
            (Some(_), Some(_)) => {
                errors.push(InputError::at(
                    &self.dir.join(&yml),
                    Pos::START,
                    "(file)",
                    format!("both {yaml} and {yml} exist; keep one"),
                ));
                None
            }
            (Some(bytes), None) => Some((self.dir.join(yaml), bytes)),
            (None, Some(bytes)) => Some((self.dir.join(yml), bytes)),
            (None, None) => None,
        }
    }
}

/// Reads and checks a role; its templates are added to `templates`. Problems go to `errors`.
pub fn load(files: &RoleFiles, templates: &mut Templates, errors: &mut Vec<InputError>) -> Role {
    let mut role = Role {
        name: files.name.clone(),
        tasks: Vec::new(),
        handlers: Vec::new(),
        defaults: Vec::new(),
        files: BTreeMap::new(),
        templates: BTreeSet::new(),
    };
    for (path, bytes) in &files.files {
        if let Some(name) = path.strip_prefix("files/") {
            role.files.insert(name.to_string(), bytes.clone());
        } else if let Some(name) = path.strip_prefix("templates/") {
            let file = files.dir.join(path);
            match String::from_utf8(bytes.clone()) {
                Ok(text) => {
                    if let Err(e) = templates.add_file(format!("{}/{name}", role.name), text) {
                        errors.push(InputError::at(&file, Pos::START, name, e));
                    }
                }
                Err(_) => errors.push(InputError::at(
                    &file,
                    Pos::START,
                    name,
                    "a template must be UTF-8 text",
                )),
            }
            role.templates.insert(name.to_string());
        }
    }
    if let Some((file, bytes)) = files.main_file("defaults", errors)
        && let Some(root) = parse(&file, bytes, errors)
    {
        role.defaults = read_defaults(&file, &root, templates, errors);
    }
    if let Some((file, bytes)) = files.main_file("handlers", errors)
        && let Some(root) = parse(&file, bytes, errors)
    {
        role.handlers = read_tasks(&file, &root, "handlers", templates, errors);
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        for handler in &role.handlers {
            if let Some(line) = seen.insert(&handler.name, handler.origin.line) {
                errors.push(InputError::at(
                    &file,
                    handler.origin.pos(),
                    handler.name.clone(),
                    format!(
                        "a handler named {:?} is already defined at line {line}",
                        handler.name
                    ),
                ));
            }
            if !handler.notify.is_empty() {
                errors.push(InputError::at(
                    &file,
                    handler.origin.pos(),
                    format!("{}.notify", handler.name),
                    "handlers cannot notify other handlers in relayctl; notify both from the task",
                ));
            }
        }
    }
    match files.main_file("tasks", errors) {
        Some((file, bytes)) => {
            if let Some(root) = parse(&file, bytes, errors) {
                role.tasks = read_tasks(&file, &root, "tasks", templates, errors);
                let handler_names: Vec<&str> =
                    role.handlers.iter().map(|h| h.name.as_str()).collect();
                for (i, task) in role.tasks.iter().enumerate() {
                    for notified in &task.notify {
                        if !handler_names.contains(&notified.as_str()) {
                            errors.push(InputError::at(
                                &file,
                                task.origin.pos(),
                                format!("tasks[{i}].notify"),
                                format!(
                                    "no handler named {notified:?} in role {}{}",
                                    role.name,
                                    suggest::hint(notified, handler_names.iter().copied())
                                ),
                            ));
                        }
                    }
                }
            }
        }
        None => errors.push(InputError::at(
            &files.dir.join("tasks/main.yaml"),
            Pos::START,
            "(file)",
            format!("role {} has no tasks/main.yaml", role.name),
        )),
    }
    role
}

fn parse(file: &Path, bytes: &[u8], errors: &mut Vec<InputError>) -> Option<Node> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        errors.push(InputError::at(file, Pos::START, "(file)", "not UTF-8 text"));
        return None;
    };
    match yaml::parse(file, text) {
        Ok(node) => {
            let before = errors.len();
            yaml::duplicate_keys(file, &node, "", errors);
            (errors.len() == before).then_some(node)
        }
        Err(error) => {
            errors.push(error);
            None
        }
    }
}

fn read_defaults(
    file: &Path,
    root: &Node,
    templates: &Templates,
    errors: &mut Vec<InputError>,
) -> Vec<(String, Value, Origin)> {
    let entries = match &root.kind {
        NodeKind::Map(entries) => entries,
        NodeKind::Null => return Vec::new(),
        _ => {
            errors.push(InputError::at(
                file,
                root.pos,
                yaml::TOP_LEVEL,
                format!(
                    "defaults are a map of variable: value, found {}",
                    root.describe()
                ),
            ));
            return Vec::new();
        }
    };
    let mut defaults = Vec::new();
    for entry in entries {
        check_templates(file, &entry.value, &entry.key, templates, errors);
        defaults.push((
            entry.key.clone(),
            entry.value.to_json(),
            Origin::new(file, entry.key_pos),
        ));
    }
    defaults
}

fn read_tasks(
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
    let mut runs_in_check_mode = false;
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
                        Ok(()) => changed_when = Some(Condition::Expression(expr)),
                        Err(e) => errors.push(error(value.pos, "changed_when", e)),
                    },
                    Err(message) => errors.push(error(value.pos, "changed_when", message)),
                },
            },
            "check_mode" => match &value.kind {
                NodeKind::Bool(false) => runs_in_check_mode = true,
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
fn check_templates(
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
