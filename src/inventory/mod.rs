//! Ansible-compatible YAML inventories -> typed, validated hosts.
//!
//! Operators reuse what they have: the YAML inventory format (`all` / `children` / `hosts` /
//! `vars`), `group_vars/` and `host_vars/` beside the inventory file, Ansible's variable
//! precedence (`merge.rs`), its connection variables (`connection.rs`) and host patterns for
//! `--limit` (`pattern.rs`). What Ansible would silently ignore is an error here: unknown keys
//! and misspelt variables (with a "did you mean"), ssh options relayctl cannot honour,
//! passwords in the inventory, disabled host-key checking. Every error names the file, line,
//! column and key, and all of them are reported at once.
//!
//! Which hosts are relays: a host in the group `medulla_servers` is a Medulla server, one in
//! `workstations` a workstation (both are peers for the flow checks); every other host is a
//! relay, and [`Inventory::plan_apply`] requires its relay variables (`relay.rs`), at least
//! `relay_type` and `medulla_server_addresses`. [`load`] does not require them, so that
//! `relayctl facts` works on any plain Ansible inventory, but a relay variable that is present
//! must always be valid.
//!
//! Files: `hosts.rs` (the loaded inventory and its hosts), `load.rs` (the pipeline that makes
//! it), `structure.rs` (groups and hosts as written), `host_pattern.rs` (`relay[01:03]:2222`
//! keys), `entity_name.rs` (which names a host or group may have), `var_files.rs` (group_vars/host_vars), `extra_vars.rs` (`-e`), `names.rs` (which
//! variable names exist), `values.rs` (typed values), `vars.rs` (variables with their origin),
//! `merge.rs` (precedence), `connection.rs` + `ssh_args.rs` (how to reach a host), `relay.rs` +
//! `support_key.rs` + `firewall.rs` (a relay's settings), `pattern.rs` (`--limit`). Parsing
//! with positions, errors and suggestions are `crate::input`'s.

mod connection;
mod entity_name;
mod extra_vars;
mod firewall;
mod host_pattern;
mod hosts;
mod load;
mod merge;
mod names;
mod pattern;
mod relay;
mod ssh_args;
mod structure;
mod support_key;
mod values;
mod var_files;
mod vars;

#[cfg(test)]
mod tests;

use std::path::Path;

pub use crate::input::{InputError, InputErrors};
pub use connection::Connection;
pub use firewall::{
    EXTRA_PORTS_SOURCE, ExtraPort, FirewallSettings, FirewallState, InputPolicy, RemovedPort,
};
pub use hosts::{Host, Inventory};
pub use load::LoadOptions;
pub use relay::{
    HostRole, MEDULLA_SERVERS_GROUP, RelaySettings, SizingProfile, WORKSTATIONS_GROUP,
};
pub use ssh_args::JumpHost;
pub use support_key::SupportKey;
pub use vars::{Origin, Var, Vars};

/// Reads, checks and merges an inventory file and its `group_vars/` and `host_vars/`.
///
/// Connection variables are validated for every host; relay variables are type-checked where
/// present but not required (see [`Inventory::plan_apply`]). Reads only the inventory, its
/// vars files and the support key files it names.
///
/// # Errors
/// Every problem found (unreadable file, YAML syntax, unknown keys and variables, bad values,
/// refused secrets and ssh options), each with its file, line, column and key.
pub fn load(path: &Path, options: &LoadOptions) -> Result<Inventory, InputErrors> {
    load::load(path, options)
}

impl Inventory {
    /// The hosts an Ansible host pattern selects (`None`: all of them), in inventory order.
    ///
    /// # Errors
    /// A term that matches nothing or is not supported, or a pattern selecting no host; the
    /// errors' file is `--limit` and their column the term's position in the pattern.
    pub fn select(&self, limit: Option<&str>) -> Result<Vec<&Host>, InputErrors> {
        match limit {
            None => Ok(self.hosts.iter().collect()),
            Some(limit) => pattern::select(self, limit),
        }
    }

    /// Each selected host's role; relays get their validated [`RelaySettings`]. Every problem
    /// of every host is reported, not just the first.
    ///
    /// # Errors
    /// A relay without `relay_type` or `medulla_server_addresses`, a host in both
    /// `medulla_servers` and `workstations`, or a support key file that no longer reads.
    pub fn plan_apply<'a>(
        &self,
        hosts: &[&'a Host],
    ) -> Result<Vec<(&'a Host, HostRole)>, InputErrors> {
        let paths = crate::input::paths::PathContext::for_inventory(&self.path);
        let mut planned = Vec::with_capacity(hosts.len());
        let mut errors = Vec::new();
        for host in hosts {
            match relay::role(host, &paths) {
                Ok(role) => planned.push((*host, role)),
                Err(problems) => errors.extend(problems),
            }
        }
        InputErrors::finish(errors)?;
        Ok(planned)
    }

    /// The host with this inventory name.
    pub fn host(&self, name: &str) -> Option<&Host> {
        self.hosts.iter().find(|h| h.name == name)
    }
}
