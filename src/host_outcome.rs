//! How one host ended, and why it did not end `ok`: a typed failure that every output and the
//! exit code come from. Its `kind` is the JSON's `error.kind` and the JUnit error's type, its
//! text the message shown everywhere, its [`HostStatus`] what the exit code is made of.

use serde::Serialize;

use crate::engine::TasksFailure;
use crate::facts::FactsError;
use crate::sizing::{self, SizingCheck};
use crate::ssh::SshError;

/// How one host ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HostStatus {
    Ok,
    Failed,
    Unreachable,
}

/// Why a host did not end `ok`.
#[derive(Debug, thiserror::Error)]
pub enum HostFailure {
    /// Could not connect, verify, authenticate or become root: nothing was done on the host.
    #[error("{0}")]
    Unreachable(SshError),
    /// Connected, but a command overran its time limit or ended without an exit status.
    #[error("{0}")]
    CommandLost(SshError),
    /// The facts probe failed, or said something that cannot be read.
    #[error("{0}")]
    Facts(FactsError),
    /// The host answered, and checks or tasks failed: each of them, in the order found.
    #[error("{}", join(.0))]
    Checks(Vec<CheckFailure>),
}

/// A check or a task that failed on a host that answered.
#[derive(Clone, Debug, thiserror::Error)]
pub enum CheckFailure {
    /// The machine is smaller than Medulla requires (or not Debian 12): each failing check.
    #[error("sizing failed: {}", sizing::describe_all(.0))]
    Sizing(Vec<SizingCheck>),
    /// The roles are written for Debian 12: on another OS they did not run.
    #[error("roles not run: the host is not Debian 12")]
    NotDebian12,
    /// The relay's variables could not be made (a template, its firewall ruleset).
    #[error("variables: {0}")]
    Variables(String),
    /// The relay's firewall cannot be changed safely (another firewall drops what relayctl
    /// would open, or the new rules would close a service reachable today): no role ran.
    #[error("firewall not changed, no role run: {}", .0.join("; "))]
    Firewall(Vec<String>),
    /// A task (or the probing of the tasks) failed: the host's remaining tasks did not run.
    #[error(transparent)]
    Tasks(TasksFailure),
    /// Another relay of the run gives the same FQDN (the text says which).
    #[error("{0}")]
    SharedFqdn(String),
    /// The flow checks and the confirmations of PROC step 5 found the relay not ready.
    #[error("NOT READY: {}", .0.join("; "))]
    NotReady(Vec<String>),
}

impl HostFailure {
    /// A stable machine-readable kind for JSON and JUnit consumers.
    pub fn kind(&self) -> &'static str {
        match self {
            HostFailure::Unreachable(e) => e.kind(),
            HostFailure::CommandLost(_) | HostFailure::Facts(_) | HostFailure::Checks(_) => {
                "failed"
            }
        }
    }

    /// Unreachable: nothing could be done on the host at all. Failed: it answered, and
    /// something went wrong there.
    pub fn status(&self) -> HostStatus {
        match self {
            HostFailure::Unreachable(_) => HostStatus::Unreachable,
            HostFailure::CommandLost(_) | HostFailure::Facts(_) | HostFailure::Checks(_) => {
                HostStatus::Failed
            }
        }
    }
}

impl From<SshError> for HostFailure {
    /// Connection-level and become errors mean the host could not be worked on at all; a
    /// command that overran or lost its status means it was.
    fn from(e: SshError) -> Self {
        match e {
            SshError::CommandTimeout { .. } | SshError::NoExitStatus => HostFailure::CommandLost(e),
            other => HostFailure::Unreachable(other),
        }
    }
}

impl From<FactsError> for HostFailure {
    fn from(e: FactsError) -> Self {
        match e {
            FactsError::Ssh(e) => HostFailure::from(e),
            other => HostFailure::Facts(other),
        }
    }
}

/// The failures in one line, as the host's error message gives them.
pub fn join(failures: &[CheckFailure]) -> String {
    failures
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}
