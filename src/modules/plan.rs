//! A plan: exactly what apply will do, what it creates for the tasks after it, the step that
//! carries it out, what a step needs made on the controller just before it runs, and how a step
//! that could lock the controller out is confirmed.

use std::path::PathBuf;
use std::time::Duration;

use futures::future::BoxFuture;

use crate::secret::Secret;

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
    /// it). Their stdin is concatenated: each part reads exactly its own bytes (`head -c N`), in
    /// order. A prepared stdin (made at apply time) cannot be concatenated.
    pub fn and(mut self, next: Plan) -> Plan {
        self.changes.extend(next.changes);
        self.diff = next.diff.or(self.diff);
        self.provides.extend(next.provides);
        self.step = match (self.step, next.step) {
            (None, step) | (step, None) => step,
            (Some(mut first), Some(second)) => {
                debug_assert!(first.prepare.is_none() || second.prepare.is_none());
                debug_assert!(first.prepare.is_none() || second.stdin.is_empty());
                debug_assert!(second.prepare.is_none() || first.stdin.is_empty());
                first.script = format!("{}{}", first.script, second.script);
                first.stdin.extend(second.stdin);
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
/// the controller once it succeeded.
#[derive(Debug, Default)]
pub struct Step {
    pub script: String,
    pub stdin: Vec<u8>,
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
