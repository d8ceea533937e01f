//! A role's files, read and checked: `tasks/main.yaml`, `handlers/main.yaml`,
//! `defaults/main.yaml`, `templates/`, `files/` (Ansible's layout; `main.yml` is read too).
//!
//! Everything that can be checked without a host is checked here, before any host is touched:
//! YAML syntax, the defaults, handler names, the syntax of every template, and each task
//! (`task.rs`: its keywords, module, arguments and expressions). Each problem is an [`InputError`] naming the
//! file, line, column and key (`tasks[2].user.shel`), with a suggestion for a misspelt name.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::task::{Task, check_templates, read_tasks};
use super::template::Templates;
use crate::input::InputError;
use crate::input::Pos;
use crate::input::suggest;
use crate::input::yaml::{self, Node, NodeKind};
use crate::inventory::Origin;

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

    /// Whether `--tags` and `--skip-tags` select `task` of this role (the role's name counts as
    /// one of its tags, as in Ansible).
    pub fn selects(&self, task: &Task, tags: &[String], skip_tags: &[String]) -> bool {
        let own: Vec<&str> = task
            .tags
            .iter()
            .map(String::as_str)
            .chain(std::iter::once(self.name.as_str()))
            .collect();
        super::tags::selected(&own, tags, skip_tags)
    }

    /// Whether a run with these tags renders anything of the role: a task the tags select, or a
    /// handler (handlers are rendered whatever the tags, for a task to notify).
    pub fn has_work(&self, tags: &[String], skip_tags: &[String]) -> bool {
        !self.handlers.is_empty()
            || self
                .tasks
                .iter()
                .any(|task| self.selects(task, tags, skip_tags))
    }
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
