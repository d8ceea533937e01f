//! A loaded inventory: every host once, with its groups, merged variables and connection, and
//! the groups as the inventory draws them (for `relayctl inventory`).

use std::path::PathBuf;

use serde::Serialize;

use super::connection::Connection;
use super::vars::{Origin, Vars};
use crate::input::error::InputError;

/// A loaded inventory.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Inventory {
    /// The first inventory source, as given (what reports name).
    pub path: PathBuf,
    /// Every inventory source, in the order given (a later one wins).
    pub sources: Vec<PathBuf>,
    /// Every host once, in order of first appearance in the sources.
    pub hosts: Vec<Host>,
    /// Every group, `all` first, then in order of first appearance.
    pub groups: Vec<Group>,
    /// Ansible variables relayctl does not use, each with where it is first written.
    pub unused_ansible: Vec<(String, Origin)>,
}

/// One group as the inventory draws it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    pub name: String,
    /// Its direct children, in order.
    pub children: Vec<String>,
    /// The hosts listed directly under it, in order.
    pub hosts: Vec<String>,
    /// Its own variables: the inventory's, then its `group_vars/` files'.
    pub vars: Vars,
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
    /// Its own variables (the inventory's host vars, then its `host_vars/` files'), without
    /// its groups' (what `relayctl inventory --list --export` shows).
    #[serde(skip)]
    pub own_vars: Vars,
    /// How to reach the host; only meaningful when [`Host::problems`] is empty.
    pub connection: Connection,
    /// Where the host is first written in the inventory (for errors about the host).
    pub origin: Origin,
    /// Why relayctl refuses to connect to this host (its connection policy: a non-SSH
    /// connection, a password, an ssh option it cannot honour ...). Reported when a command
    /// selects the host, never for a host it leaves alone.
    #[serde(skip)]
    pub problems: Vec<InputError>,
}
