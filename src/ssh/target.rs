//! What to connect to: the address and login of a host, and how to reach and trust it.

use std::path::PathBuf;
use std::time::Duration;

use super::escalation::Become;
use super::host_keys::HostKeyPolicy;

/// Where and as whom to connect.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Endpoint {
    pub address: String,
    pub port: u16,
    pub user: String,
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.port == 22 {
            write!(f, "{}@{}", self.user, self.address)
        } else {
            write!(f, "{}@{}:{}", self.user, self.address, self.port)
        }
    }
}

/// Everything needed to open a session to one host.
#[derive(Clone, Debug)]
pub struct Target {
    pub endpoint: Endpoint,
    pub key_file: Option<PathBuf>,
    pub jump: Option<Endpoint>,
    pub known_hosts: PathBuf,
    pub host_key_policy: HostKeyPolicy,
    pub connect_timeout: Duration,
    pub command_timeout: Duration,
    pub escalation: Become,
}
