//! Ansible inventories -> typed, validated hosts.
//!
//! Operators reuse what they have: YAML and INI inventories, a directory of them, several of
//! them merged in order (`sources.rs`, `ini.rs`), `group_vars/` and `host_vars/` beside them,
//! Ansible Vault (`vault.rs`), Ansible's variable precedence (`merge.rs`), its connection
//! variables (`connection.rs`) and host patterns for `--limit` (`pattern.rs`). What Ansible
//! would silently ignore is an error here: unknown keys and misspelt variables (with a "did you
//! mean"), and, for the hosts a command selects, ssh options relayctl cannot honour, passwords
//! in clear, disabled host-key checking. Every error names the file, line, column and key, and
//! all of them are reported at once.
//!
//! Which hosts are relays: a host in the group `medulla_servers` is a Medulla server, one in
//! `workstations` a workstation (both are peers for the flow checks); every other host is a
//! relay, and [`Inventory::plan_apply`] requires its relay variables (`relay.rs`), at least
//! `relay_type` and `medulla_server_addresses`. [`load`] does not require them, so that
//! `relayctl facts` works on any plain Ansible inventory, but a relay variable that is present
//! must always be valid.
//!
//! Files: `hosts.rs` (the loaded inventory and its hosts), `load.rs` (the pipeline that makes
//! it), `sources.rs` (files, directories, host lists), `ini.rs` + `python_literal.rs` (INI and
//! its values), `vault.rs` (Ansible Vault), `structure.rs` (groups and hosts as written),
//! `host_pattern.rs` (`relay[01:03]:2222` keys), `entity_name.rs` (which names a host or group
//! may have), `var_files.rs` (group_vars/host_vars), `extra_vars.rs` (`-e`), `names.rs` +
//! `ansible_vars.rs` (which variable names exist), `values.rs` (typed values), `vars.rs`
//! (variables with their origin), `merge.rs` (precedence), `connection.rs` + `ssh_args.rs` +
//! `ssh_config.rs` + `templating.rs` (how to reach a host), `relay.rs` + `support_key.rs` + `firewall.rs` (a
//! relay's settings), `pattern.rs` (`--limit`), `listing.rs` (what `relayctl inventory`
//! prints). Parsing with positions, errors and suggestions are `crate::input`'s.

mod ansible_vars;
mod connection;
mod entity_name;
mod extra_vars;
mod firewall;
mod host_pattern;
mod hosts;
mod ini;
pub mod listing;
mod load;
mod merge;
mod names;
mod pattern;
mod python_literal;
mod relay;
mod relay_lists;
mod sources;
mod ssh_args;
mod ssh_config;
mod structure;
mod support_key;
mod templating;
mod values;
mod var_files;
mod vars;
mod vault;

#[cfg(test)]
mod tests;

use std::path::PathBuf;

pub use crate::input::{InputError, InputErrors};
pub use connection::Connection;
pub use firewall::{
    EXTRA_PORTS_SOURCE, ExtraPort, FirewallSettings, FirewallState, InputPolicy, RemovedPort,
};
pub use hosts::{Group, Host, Inventory};
pub use load::LoadOptions;
pub use relay::{
    HostRole, MEDULLA_SERVERS_GROUP, RelaySettings, SizingProfile, WORKSTATIONS_GROUP,
};
pub use ssh_args::JumpHost;
pub use support_key::SupportKey;
pub use vars::{Origin, Var, Vars};
pub use vault::{PASSWORD_FILE_ENV, VaultSecrets, VaultSources};

/// Reads, checks and merges the inventory sources, in order, and their `group_vars/` and
/// `host_vars/`.
///
/// Relay variables are type-checked where present but not required (see
/// [`Inventory::plan_apply`]); the connection policy is checked for the hosts a command
/// selects ([`Inventory::select`]). Reads only the inventory, its vars files and the support
/// key files it names.
///
/// # Errors
/// Every problem found (unreadable file, syntax, unknown keys and variables, bad values, a
/// vault text no password opens), each with its file, line, column and key.
pub fn load(sources: &[PathBuf], options: &LoadOptions) -> Result<Inventory, InputErrors> {
    load::load(sources, options)
}

impl Inventory {
    /// The hosts an Ansible host pattern selects (`None`: all of them), in inventory order,
    /// once their connection policy is checked (see [`Inventory::check_connections`]).
    ///
    /// # Errors
    /// A term that matches nothing or is not supported, or a pattern selecting no host (the
    /// errors' file is `--limit` and their column the term's position in the pattern); or a
    /// selected host whose connection relayctl refuses.
    pub fn select(&self, limit: Option<&str>) -> Result<Vec<&Host>, InputErrors> {
        let hosts = match limit {
            None => self.hosts.iter().collect(),
            Some(limit) => pattern::select(self, limit)?,
        };
        Self::check_connections(&hosts)?;
        Ok(hosts)
    }

    /// The connection policy of the hosts a command will contact: every problem of each, a
    /// problem shared by several reported once. The others are left alone.
    ///
    /// # Errors
    /// What refuses the connection to any of `hosts`.
    pub fn check_connections(hosts: &[&Host]) -> Result<(), InputErrors> {
        InputErrors::finish(
            hosts
                .iter()
                .flat_map(|h| h.problems.iter().cloned())
                .collect(),
        )
    }

    /// The values Ansible Vault kept, decrypted: secrets to mask wherever text is shown.
    pub fn secrets(&self) -> Vec<crate::secret::Secret> {
        let mut texts: Vec<String> = self
            .hosts
            .iter()
            .flat_map(|h| h.vars.iter())
            .filter(|(_, var)| var.is_secret())
            .map(|(_, var)| match &var.value {
                serde_json::Value::String(text) => text.clone(),
                other => other.to_string(),
            })
            .collect();
        texts.sort();
        texts.dedup();
        texts.into_iter().map(crate::secret::Secret::new).collect()
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
        let mut planned = Vec::with_capacity(hosts.len());
        let mut errors = Vec::new();
        for host in hosts {
            let paths = crate::input::paths::PathContext::for_inventory(&host.origin.file);
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
