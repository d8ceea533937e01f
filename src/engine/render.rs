//! Rendering a host's items before anything runs: tags applied, `when` evaluated and every
//! argument rendered into an action, so that an undefined variable in a late task fails the host
//! with nothing changed.

use minijinja::Value as Context;

use super::item::{Item, Work};
use super::outcome::{TaskReport, TaskStatus};
use super::role::Role;
use super::run::HostRun;
use super::task::Task;
use crate::input::paths::PathContext;
use crate::modules::{self, ArgError, BuildContext, ModuleKind, Rendered};

impl HostRun<'_> {
    /// Renders every task and handler of the host's roles, in order, tags applied.
    pub(super) fn prepare(&self, context: &Context) -> Result<Vec<Item<'_>>, Box<TaskReport>> {
        let mut items = Vec::new();
        for role in &self.roles {
            let tasks = role.tasks.iter().map(|task| (task, false));
            let handlers = role.handlers.iter().map(|task| (task, true));
            for (task, handler) in tasks.chain(handlers) {
                if !handler && !self.selected_by_tags(role, task) {
                    continue;
                }
                let work = self.render(role, task, context).map_err(|message| {
                    Box::new(TaskReport {
                        role: role.name.clone(),
                        task: task.name.clone(),
                        module: task.module.name,
                        handler,
                        status: TaskStatus::Failed,
                        changes: Vec::new(),
                        message: Some(format!("{}: {message}", task.origin)),
                        diff: None,
                        elapsed_ms: 0,
                    })
                })?;
                items.push(Item {
                    role,
                    task,
                    handler,
                    work,
                });
            }
        }
        Ok(items)
    }

    fn selected_by_tags(&self, role: &Role, task: &Task) -> bool {
        role.selects(task, &self.options.tags, &self.options.skip_tags)
    }

    fn render(&self, role: &Role, task: &Task, context: &Context) -> Result<Work, String> {
        let templates = &self.catalog.templates;
        if let Some(when) = &task.when {
            match templates.is_true(when, context) {
                Ok(true) => {}
                Ok(false) => return Ok(Work::Skipped(format!("when: {when}"))),
                Err(e) => return Err(format!("when: {e}")),
            }
        }
        let mut values = std::collections::BTreeMap::new();
        for (name, value) in &task.args {
            let spec = task
                .module
                .args
                .iter()
                .find(|a| a.name == *name)
                .ok_or_else(|| format!("argument {name}: unknown"))?;
            let rendered = if spec.kind == modules::ArgKind::Expressions {
                value.clone()
            } else {
                templates
                    .render_value(value, context)
                    .map_err(|e| format!("argument {name}: {e}"))?
            };
            if !rendered.is_null() {
                spec.kind
                    .check(&rendered)
                    .map_err(|e| format!("argument {name}: {e}"))?;
            }
            values.insert(*name, rendered);
        }
        let args = Rendered::new(values);
        let paths = PathContext::for_inventory(self.inventory_path);
        let error = |e: ArgError| e.to_string();
        match &task.module.kind {
            ModuleKind::Remote(build) => {
                let render_template = |src: &str| {
                    let name = self.catalog.template_name(role, src).ok_or_else(|| {
                        format!(
                            "role {} has no templates/{src}, and relayctl's templates/ has none either",
                            role.name
                        )
                    })?;
                    templates.render_file(&name, context)
                };
                let role_file = |src: &str| {
                    role.files
                        .get(src)
                        .cloned()
                        .ok_or_else(|| format!("role {} has no files/{src}", role.name))
                };
                let controller_path = |raw: &str| paths.resolve(raw);
                let ctx = BuildContext {
                    render_template: &render_template,
                    role_file: &role_file,
                    controller_path: &controller_path,
                    command_timeout: self.options.command_timeout,
                    run: self.run_scope,
                };
                build(&args, &ctx).map(Work::Remote).map_err(error)
            }
            ModuleKind::Assert => Ok(Work::Assert {
                // Expressions, not templates: left as written, evaluated in `run_item`.
                that: args.text_list("that").map_err(error)?,
                fail_msg: args.opt_str("fail_msg").map_err(error)?,
                success_msg: args.opt_str("success_msg").map_err(error)?,
            }),
            ModuleKind::LoginCheck => Ok(Work::LoginCheck {
                user: args.word("user").map_err(error)?,
                key: paths
                    .resolve(&args.str("private_key_file").map_err(error)?)
                    .map_err(|e| format!("argument private_key_file: {e}"))?,
                command: args
                    .opt_str("command")
                    .map_err(error)?
                    .unwrap_or_else(|| "sudo -n true".into()),
            }),
        }
    }
}
