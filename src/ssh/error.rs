//! What can go wrong between the controller and one host, each case a distinct, clear message.

use std::path::PathBuf;
use std::time::Duration;

/// A failure to reach, authenticate to, or run a command on one host. It never stops the other hosts.
#[derive(Clone, Debug, thiserror::Error)]
pub enum SshError {
    #[error("unreachable: cannot connect to {address}: {reason}")]
    Unreachable { address: String, reason: String },

    #[error("unreachable: no SSH answer from {address} within {}s", timeout.as_secs())]
    ConnectTimeout { address: String, timeout: Duration },

    #[error(
        "host key changed for {host}: {path}:{line} records {recorded}, the host offers {offered}; \
         if the host was reinstalled, remove that line; otherwise someone may be intercepting the connection"
    )]
    HostKeyChanged {
        host: String,
        path: PathBuf,
        line: usize,
        recorded: String,
        offered: String,
    },

    #[error(
        "host key unknown for {host}: {offered} is not in {path}; add it (ssh-keyscan) or run with \
         --host-key-policy accept-new"
    )]
    HostKeyUnknown {
        host: String,
        path: PathBuf,
        offered: String,
    },

    #[error("known_hosts {path}: {reason}")]
    KnownHostsUnreadable { path: PathBuf, reason: String },

    #[error("authentication refused for {user}@{address} (tried: {tried})")]
    AuthRefused {
        user: String,
        address: String,
        tried: String,
    },

    #[error("private key {path}: {reason}")]
    Key { path: PathBuf, reason: String },

    #[error(
        "become failed: sudo asks {user} for a password; give it with --ask-become-pass or \
         RELAYCTL_BECOME_PASSWORD, or grant NOPASSWD"
    )]
    BecomePasswordRequired { user: String },

    #[error("become failed: sudo refused the become password for {user}")]
    BecomePasswordRejected { user: String },

    #[error("become failed: {user} may not run commands as root with sudo ({detail})")]
    BecomeNotAllowed { user: String, detail: String },

    #[error("command timed out after {}s and was killed", timeout.as_secs())]
    CommandTimeout { timeout: Duration },

    #[error("the command ended without an exit status (connection lost?)")]
    NoExitStatus,

    #[error("through jump host {jump}: {source}")]
    Jump { jump: String, source: Box<SshError> },

    #[error("SSH protocol error: {0}")]
    Protocol(String),
}

impl SshError {
    /// A stable machine-readable name for JSON and JUnit consumers.
    pub fn kind(&self) -> &'static str {
        match self {
            SshError::Unreachable { .. } | SshError::ConnectTimeout { .. } => "unreachable",
            SshError::HostKeyChanged { .. } => "host_key_changed",
            SshError::HostKeyUnknown { .. } => "host_key_unknown",
            SshError::KnownHostsUnreadable { .. } => "known_hosts",
            SshError::AuthRefused { .. } | SshError::Key { .. } => "auth",
            SshError::BecomePasswordRequired { .. }
            | SshError::BecomePasswordRejected { .. }
            | SshError::BecomeNotAllowed { .. } => "become",
            SshError::CommandTimeout { .. } => "command_timeout",
            SshError::NoExitStatus | SshError::Protocol(_) => "connection",
            SshError::Jump { source, .. } => source.kind(),
        }
    }
}

impl From<russh::Error> for SshError {
    fn from(e: russh::Error) -> Self {
        SshError::Protocol(e.to_string())
    }
}
