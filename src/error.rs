//! Errors that stop a run before or outside any host, and the exit codes of every outcome.

use crate::input::InputErrors;
use crate::ssh::SshError;

/// Exit codes, as ansible-playbook's so that pipelines written for Ansible gate the same way.
pub mod exit_code {
    pub const SUCCESS: i32 = 0;
    pub const ERROR: i32 = 1;
    pub const HOST_FAILED: i32 = 2;
    pub const HOST_UNREACHABLE: i32 = 3;
    pub const BAD_INPUT: i32 = 4;
    pub const BAD_OPTIONS: i32 = 5;
    /// `apply --check` found changes to make (as `terraform plan -detailed-exitcode`'s 2).
    pub const CHANGES_PENDING: i32 = 6;
    pub const INTERRUPTED: i32 = 99;
}

/// A run that could not start, or could not finish writing its results.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Input(#[from] InputErrors),
    /// A private key that cannot be used: bad input, found before any host is contacted.
    #[error("{0}")]
    Credentials(SshError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Input(_) | Error::Credentials(_) => exit_code::BAD_INPUT,
            Error::Io(_) => exit_code::ERROR,
        }
    }
}
