//! What the engine knows about a module: its name, its arguments, where it works, and how its
//! arguments become the action for one host.

use std::path::PathBuf;
use std::time::Duration;

use super::action::Action;
use super::args::{ArgError, ArgSpec, Rendered};
use super::password::registry::Passwords;

/// What the engine knows about a module: its name, its arguments, how to build its action.
pub struct ModuleDef {
    pub name: &'static str,
    /// Other names it answers to (Ansible's: `apt` for `package`, `systemd` for `service`).
    pub aliases: &'static [&'static str],
    pub args: &'static [ArgSpec],
    /// The argument a bare string stands for (`command: systemctl daemon-reexec` is `cmd`).
    pub free_form: Option<&'static str>,
    pub kind: ModuleKind,
}

/// Turns a task's rendered arguments into the action for one host.
pub type Builder = fn(&Rendered, &BuildContext) -> Result<Box<dyn Action>, ArgError>;

/// Where a module does its work.
pub enum ModuleKind {
    /// On the host: probe, plan, step.
    Remote(Builder),
    /// `assert`: expressions evaluated by the engine against the host's variables.
    Assert,
    /// `login_check`: the engine opens a new SSH connection as another user.
    LoginCheck,
}

/// What a module may need from the controller while its arguments are turned into an action.
pub struct BuildContext<'a> {
    /// Renders a file of the task's role (`templates/NAME`) with the host's variables.
    pub render_template: &'a dyn Fn(&str) -> Result<String, String>,
    /// Reads a file of the task's role (`files/NAME`).
    pub role_file: &'a dyn Fn(&str) -> Result<Vec<u8>, String>,
    /// Resolves a controller path as inventory paths are (relative to the inventory's directory).
    pub controller_path: &'a dyn Fn(&str) -> Result<PathBuf, String>,
    /// The longest a remote command may run.
    pub command_timeout: Duration,
    /// What the modules keep for the whole run, shared by every host's tasks.
    pub run: &'a RunScope,
}

/// What the modules keep for one run: made once per run by whoever runs the tasks, lent to
/// every builder through [`BuildContext::run`], dropped with the run. A builder is a plain `fn`
/// of one task's arguments; what one task must share with the others of the run (the password
/// of a file several relays name) is kept here, never in the process.
#[derive(Default)]
pub struct RunScope {
    /// The passwords resolved this run, by file.
    pub(super) passwords: Passwords,
}
