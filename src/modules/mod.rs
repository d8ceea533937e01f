//! Modules: what a task can do to a host.
//!
//! Every module that touches a host has two halves, and only two (DESIGN.md, rule 1):
//! - a read-only **probe**, a POSIX sh snippet run as root that prints what is there
//!   ([`Action::probe`]); the engine batches the probes of many tasks into one round trip;
//! - a **plan** made from the probe's findings ([`Action::plan`]): the changes in words, the
//!   file diff, and the one [`Step`] that carries them out. `apply` runs that step and nothing
//!   else; `--check` stops at the plan. So `--check` cannot promise what `apply` then does
//!   differently, and a second `apply` finds nothing to do.
//!
//! Two modules act on the controller instead: `assert` (expressions over variables and facts)
//! and `login_check` (a new SSH login as another user); the engine runs those itself
//! ([`ModuleKind`]).
//!
//! Files: `args.rs` (argument specs and typed access), `shell.rs` (quoting and the probe
//! helpers every snippet may use), `remote_file.rs` (stat/content probe and the validated,
//! atomic write shared by every module that writes a file), then one file per module.

pub mod args;
mod authorized_key;
mod command;
mod content;
mod file;
mod ini_file;
mod nftables;
mod package;
mod password;
pub mod remote_file;
mod service;
pub mod shell;
mod sudoers;
mod user;

use std::path::PathBuf;
use std::time::Duration;

pub use args::{ArgError, ArgKind, ArgSpec, Rendered};
pub use authorized_key::material as key_material;
pub use password::write_controller_file;

use futures::future::BoxFuture;

use crate::secret::Secret;

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
}

/// A task's module with its arguments rendered for one host.
pub trait Action: Send + Sync {
    /// The read-only snippet whose output [`Action::plan`] reads; `None` when the module needs
    /// to look at nothing on the host.
    fn probe(&self) -> Option<String>;

    /// What apply will do, from what the probe found.
    fn plan(&self, found: &Findings) -> Result<Plan, ProbeError>;

    /// Secrets the action handles (a password), masked wherever its output is shown.
    fn secrets(&self) -> Vec<Secret> {
        Vec::new()
    }

    /// Reads the output of the plan's step. The default: exit status 0 means done.
    fn applied(&self, output: &Findings) -> Result<Applied, String> {
        if output.exit_status == 0 {
            Ok(Applied::default())
        } else {
            Err(output.failure_text())
        }
    }
}

/// What a section of a batch printed: `key=value` findings, file contents, the raw output of a
/// command, its stderr and exit status.
#[derive(Clone, Debug, Default)]
pub struct Findings {
    pub values: Vec<(String, String)>,
    pub contents: Vec<(String, Vec<u8>)>,
    /// Everything printed, for sections that run a user's command.
    pub raw: Vec<u8>,
    pub stderr: String,
    pub exit_status: i32,
}

impl Findings {
    /// The last value printed under `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A value the probe always prints; its absence means the probe itself went wrong.
    pub fn require(&self, key: &str) -> Result<&str, ProbeError> {
        self.get(key).ok_or_else(|| {
            ProbeError::Failed(format!(
                "the probe printed no `{key}`{}",
                match self.stderr.trim() {
                    "" => String::new(),
                    text => format!(": {text}"),
                }
            ))
        })
    }

    pub fn content(&self, key: &str) -> Option<&[u8]> {
        self.contents
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_slice())
    }

    /// Findings made of these `key=value` pairs (for tests of plans).
    #[cfg(test)]
    pub fn from_values(values: &[(&str, &str)]) -> Findings {
        Findings {
            values: values
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Findings::default()
        }
    }

    /// Why a step failed: its stderr, else its exit status.
    pub fn failure_text(&self) -> String {
        match self.stderr.trim() {
            "" => format!("exited with status {}", self.exit_status),
            text => text.to_string(),
        }
    }
}

/// Something on the host that a task needs and an earlier task may create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resource {
    User(String),
    Group(String),
    Path(String),
    Unit(String),
}

impl std::fmt::Display for Resource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Resource::User(name) => write!(f, "user {name}"),
            Resource::Group(name) => write!(f, "group {name}"),
            Resource::Path(path) => write!(f, "{path}"),
            Resource::Unit(unit) => write!(f, "unit {unit}"),
        }
    }
}

/// What a plan creates, for the tasks after it that need it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Provides {
    Resource(Resource),
    /// A package installation may create users, files and units of any name.
    Anything,
}

impl Provides {
    pub fn covers(&self, needed: &Resource) -> bool {
        match self {
            Provides::Anything => true,
            Provides::Resource(r) => r == needed,
        }
    }
}

/// Why a probe's findings give no plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProbeError {
    /// A prerequisite is absent (a user, a directory, a unit): fine in `--check` when an earlier
    /// task would create it.
    Missing(Resource, String),
    Failed(String),
}

impl std::fmt::Display for ProbeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProbeError::Missing(_, message) | ProbeError::Failed(message) => f.write_str(message),
        }
    }
}

/// Exactly what apply will do to bring the host to the task's state.
#[derive(Debug, Default)]
pub struct Plan {
    /// The changes, in words ("create user medulla"); empty when the host is already right.
    pub changes: Vec<String>,
    /// The file content before and after, when the task writes a file.
    pub diff: Option<FileDiff>,
    /// What carries the changes out; `None` exactly when `changes` is empty.
    pub step: Option<Step>,
    /// What the step creates, for later tasks that need it.
    pub provides: Vec<Provides>,
}

impl Plan {
    pub fn unchanged() -> Self {
        Plan::default()
    }

    pub fn is_change(&self) -> bool {
        !self.changes.is_empty()
    }

    /// This plan, then `next`: one step running both scripts in order (the first failure stops
    /// it). At most one of the two may read stdin.
    pub fn and(mut self, next: Plan) -> Plan {
        self.changes.extend(next.changes);
        self.diff = next.diff.or(self.diff);
        self.provides.extend(next.provides);
        self.step = match (self.step, next.step) {
            (None, step) | (step, None) => step,
            (Some(mut first), Some(second)) => {
                debug_assert!(first.stdin.is_empty() || second.stdin.is_empty());
                debug_assert!(first.prepare.is_none() || second.prepare.is_none());
                debug_assert!(first.prepare.is_none() || second.stdin.is_empty());
                debug_assert!(second.prepare.is_none() || first.stdin.is_empty());
                first.script = format!("{}{}", first.script, second.script);
                first.stdin.extend(second.stdin);
                first.before.extend(second.before);
                first.after.extend(second.after);
                first.prepare = first.prepare.or(second.prepare);
                first.long_running |= second.long_running;
                // A confirmed step must come last: what follows it would run before the
                // confirmation, over the connection it cannot vouch for.
                debug_assert!(first.confirm.is_none());
                first.confirm = second.confirm;
                Some(first)
            }
        };
        self
    }
}

/// A file's content before and after a change.
#[derive(Clone, Debug)]
pub struct FileDiff {
    pub path: String,
    /// `None`: the file does not exist.
    pub before: Option<String>,
    pub after: Option<String>,
}

/// A change as it will be carried out: a snippet run as root with its stdin, and files written on
/// the controller before and after it.
#[derive(Debug, Default)]
pub struct Step {
    pub script: String,
    pub stdin: Vec<u8>,
    /// Written before the script runs (a generated password is kept before it is set).
    pub before: Vec<ControllerFile>,
    /// Written once the script succeeded.
    pub after: Vec<ControllerFile>,
    /// Print everything the script prints as raw output (a user's command) rather than findings.
    pub raw_output: bool,
    /// A step that may run longer than the probe timeout (a package installation, a command).
    pub long_running: bool,
    /// A change that could cut the controller off (a firewall ruleset): it must be confirmed over
    /// a new SSH connection, or the host undoes it.
    pub confirm: Option<Confirmation>,
    /// What the controller must make just before the script runs, and only then (see
    /// [`Preparation`]); [`Step::finish`] adds it to the step.
    pub prepare: Option<Box<dyn Preparation>>,
}

impl Step {
    /// Makes the step ready to run: what only a run needs and costs to make is made here,
    /// never for a plan that `--check` only reports.
    pub async fn finish(&mut self) -> Result<(), String> {
        if let Some(preparation) = self.prepare.take() {
            let prepared = preparation.prepare().await?;
            self.stdin.extend(prepared.stdin);
            self.before.extend(prepared.before);
            self.after.extend(prepared.after);
        }
        Ok(())
    }
}

/// Work a step needs from the controller that is worth doing only when the step really runs:
/// a password's yescrypt hash (16 MiB and tens of ms each) is never made for a plan that
/// `--check` reports and drops.
pub trait Preparation: std::fmt::Debug + Send + Sync {
    /// Makes what the step lacks.
    fn prepare(self: Box<Self>) -> BoxFuture<'static, Result<Prepared, String>>;
}

/// What a [`Preparation`] adds to its step.
#[derive(Debug, Default)]
pub struct Prepared {
    /// Appended to the step's stdin (its script reads it last).
    pub stdin: Vec<u8>,
    /// Controller files written before the script runs.
    pub before: Vec<ControllerFile>,
    /// Controller files written once the script succeeded.
    pub after: Vec<ControllerFile>,
}

/// How a step that could lock the controller out is confirmed (DESIGN.md, rule 4): the step
/// itself arms an undo on the host that fires unless disarmed; the engine then opens a NEW SSH
/// connection and runs [`Confirmation::step`] over it, which disarms it. A new connection is the
/// proof: the one the step ran over is established, and a ruleset may let it live while refusing
/// every new one.
#[derive(Debug)]
pub struct Confirmation {
    /// Run over the new connection: disarms the host's undo, then finishes the change.
    pub step: Box<Step>,
    /// Run over the current connection when no new one can be opened: undoes the change now,
    /// rather than when the host's timer fires.
    pub revert: String,
    /// How long the revert may take: the host's own undo fires within this, and unblocks a
    /// connection the new ruleset had stalled.
    pub revert_within: Duration,
    /// What the host does by itself if nothing disarms it, for the report.
    pub fallback: String,
}

/// A secret file on the controller: mode 0600 in a 0700 directory.
#[derive(Debug)]
pub struct ControllerFile {
    pub path: PathBuf,
    pub content: Secret,
}

/// What a step reported besides success.
#[derive(Clone, Debug, Default)]
pub struct Applied {
    /// Facts worth showing ("backup: /etc/systemd/system.conf.…relayctl~").
    pub notes: Vec<String>,
    /// For `command`: the command's own result, for `changed_when`.
    pub command: Option<CommandResult>,
}

/// A command's exit status and output, as `changed_when` sees them (`result.rc`, ...).
#[derive(Clone, Debug, serde::Serialize)]
pub struct CommandResult {
    pub rc: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Every module, in the order `relayctl` documents them.
pub static MODULES: &[&ModuleDef] = &[
    &user::USER,
    &user::GROUP,
    &file::FILE,
    &content::COPY,
    &content::TEMPLATE,
    &ini_file::INI_FILE,
    &authorized_key::AUTHORIZED_KEY,
    &sudoers::SUDOERS,
    &package::PACKAGE,
    &service::SERVICE,
    &command::COMMAND,
    &nftables::NFTABLES,
    &ASSERT,
    &LOGIN_CHECK,
];

/// Looks a module up by its name or one of its aliases.
pub fn find(name: &str) -> Option<&'static ModuleDef> {
    MODULES
        .iter()
        .copied()
        .find(|m| m.name == name || m.aliases.contains(&name))
}

/// Every name a module answers to, for "did you mean".
pub fn names() -> impl Iterator<Item = &'static str> {
    MODULES
        .iter()
        .flat_map(|m| std::iter::once(m.name).chain(m.aliases.iter().copied()))
}

/// `assert`: every expression of `that` must be true (evaluated on the controller).
pub static ASSERT: ModuleDef = ModuleDef {
    name: "assert",
    aliases: &[],
    args: &[
        ArgSpec::required("that", ArgKind::Expressions),
        ArgSpec::optional("fail_msg", ArgKind::Str),
        ArgSpec::optional("success_msg", ArgKind::Str),
    ],
    free_form: None,
    kind: ModuleKind::Assert,
};

/// `login_check`: a new SSH login to the host as `user` with `private_key_file`, which then runs
/// `command` (default `sudo -n true`); proves the key and the sudo rule work together.
pub static LOGIN_CHECK: ModuleDef = ModuleDef {
    name: "login_check",
    aliases: &[],
    args: &[
        ArgSpec::required("user", ArgKind::Word),
        ArgSpec::required("private_key_file", ArgKind::Str),
        ArgSpec::optional("command", ArgKind::Str),
    ],
    free_form: None,
    kind: ModuleKind::LoginCheck,
};
