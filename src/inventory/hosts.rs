//! A loaded inventory: every host once, with its groups, merged variables and connection.

use std::path::PathBuf;

use serde::Serialize;

use super::connection::Connection;
use super::vars::{Origin, Vars};

/// A loaded inventory.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Inventory {
    /// The inventory file, as given.
    pub path: PathBuf,
    /// Every host once, in order of first appearance in the file.
    pub hosts: Vec<Host>,
}

/// One host with its merged variables and connection.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Host {
    /// The inventory host name (`inventory_hostname`).
    pub name: String,
    /// Every group containing the host, ancestors included: `all` first, then in precedence
    /// order (shallow to deep, then priority, then name); `ungrouped` if it is in no other.
    pub groups: Vec<String>,
    pub vars: Vars,
    pub connection: Connection,
    /// Where the host is first written in the inventory file (for errors about the host).
    pub origin: Origin,
}
