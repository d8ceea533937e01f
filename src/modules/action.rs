//! A module's work on one host, in its two halves (DESIGN.md, rule 1): the read-only probe and
//! what it found, the plan made from those findings, and how the step's output is read.

use super::plan::{Plan, Resource};
use crate::secret::Secret;

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
