//! Variable names: which ones relayctl reads, which Ansible ones it accepts or refuses, and
//! which namespaces it owns, so that a misspelt variable is an error instead of a setting that
//! silently never applies.
//!
//! - `ansible_*`: the connection variables below are read; the secret ones (passwords) are
//!   checked with the connection, for the hosts a command selects (a vault-encrypted become
//!   password is the Ansible way to keep one; any other is refused); every other Ansible
//!   variable (`ansible_vars.rs`) is accepted and left unused (`-v` lists them); any other
//!   `ansible_*` name is a typo, an error with a suggestion.
//! - `relay_*`, `medulla_*`, `sizing_*`, `itsm_*`, `workstation_*`: owned by relayctl; only the
//!   relay variables listed in [`RELAY_VARS`] and the variables the roles declare in their
//!   `defaults/` exist.
//! - Ansible's magic variables (`inventory_hostname`, `groups`, ...) cannot be set.
//! - Anything else is a free user variable for templates, unless it is one or two keystrokes
//!   away from a relayctl or Ansible name (`medula_offer`): that is almost certainly a typo.

use std::collections::BTreeSet;

use super::ansible_vars;
use super::vars::VarDef;
use crate::input::error::InputError;
use crate::input::suggest;

/// The relay variables: relayctl's public interface (see `relay.rs` for their meaning).
pub(crate) const RELAY_VARS: &[&str] = &[
    "relay_type",
    "medulla_server_addresses",
    "medulla_server_source_addresses",
    "medulla_offer",
    "relay_fqdn",
    "itsm_entity",
    "workstation_subnets",
    "relay_serves_workstations",
    "medulla_support_public_key",
    "sizing_profile",
    "relay_roles",
    "relay_ssh_port",
    "relay_firewall_state",
    "relay_firewall_extra_ports",
    "relay_firewall_removed_ports",
    "relay_firewall_undocumented_ports",
    "relay_firewall_filter_output",
    "relay_firewall_admin_addresses",
    "relay_firewall_rollback_timeout",
    "relay_firewall_input_policy",
    "relay_firewall_close_reachable",
];

/// Prefixes of the variable namespaces relayctl owns.
const OWNED_PREFIXES: &[&str] = &["relay_", "medulla_", "sizing_", "itsm_", "workstation_"];

/// Ansible connection variables relayctl reads (`connection.rs`).
pub(crate) const CONNECTION_VARS: &[&str] = &[
    "ansible_host",
    "ansible_port",
    "ansible_user",
    "ansible_ssh_private_key_file",
    "ansible_become",
    "ansible_become_method",
    "ansible_become_user",
    "ansible_ssh_common_args",
    "ansible_ssh_extra_args",
    "ansible_ssh_args",
    "ansible_ssh_timeout",
    "ansible_connection",
    // Older spellings Ansible still honours.
    "ansible_ssh_host",
    "ansible_ssh_port",
    "ansible_ssh_user",
    "ansible_private_key_file",
];

/// Read while building the group order (`merge.rs`).
pub(crate) const GROUP_PRIORITY: &str = "ansible_group_priority";

/// The become password: relayctl uses it when Ansible Vault keeps it.
pub(crate) const BECOME_PASSWORD_VARS: &[&str] = &[
    "ansible_become_password",
    "ansible_become_pass",
    "ansible_sudo_pass",
    "ansible_sudo_password",
];

/// Login passwords: relayctl logs in with keys.
pub(crate) const LOGIN_PASSWORD_VARS: &[&str] = &[
    "ansible_password",
    "ansible_ssh_pass",
    "ansible_ssh_password",
];

/// Whether an Ansible variable holds a secret: the passwords above, and any other `*_pass`,
/// `*_password` or `*_passphrase` of Ansible's (`ansible_winrm_password`).
pub(crate) fn is_secret(name: &str) -> bool {
    BECOME_PASSWORD_VARS.contains(&name)
        || LOGIN_PASSWORD_VARS.contains(&name)
        || (name.starts_with("ansible_")
            && (name.ends_with("_pass")
                || name.ends_with("_password")
                || name.ends_with("_passphrase")))
}

/// Ansible's magic variables: computed, never set by an inventory.
const RESERVED_VARS: &[&str] = &[
    "inventory_hostname",
    "inventory_hostname_short",
    "group_names",
    "groups",
    "hostvars",
    "inventory_dir",
    "inventory_file",
    "playbook_dir",
    "omit",
];

/// What a variable name means to relayctl.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum VarClass {
    /// Read to connect (`connection.rs`): checked for the hosts a command selects.
    Connection,
    /// A password: checked with the connection, for the hosts a command selects.
    Secret,
    GroupPriority,
    /// One of Ansible's own variables that relayctl does not use.
    Ansible,
    Relay,
    /// A role default (its type is checked where a task uses it).
    Role,
    Free,
}

/// The Ansible names a typo is compared with: never a password, so that the fix suggested for
/// a typo is not a variable that holds a secret.
fn known_ansible() -> impl Iterator<Item = &'static str> {
    CONNECTION_VARS
        .iter()
        .chain(ansible_vars::NAMES)
        .chain(std::iter::once(&GROUP_PRIORITY))
        .copied()
}

/// Classifies a definition's name, or explains why the name cannot be used. `role_vars` are the
/// variables the roles declare in their defaults: an inventory may set them.
pub(crate) fn classify(def: &VarDef, role_vars: &BTreeSet<String>) -> Result<VarClass, InputError> {
    let name = def.name.as_str();
    // Relay variables first: a tie in "did you mean" goes to them.
    let relayctl_names: Vec<&str> = RELAY_VARS
        .iter()
        .copied()
        .chain(role_vars.iter().map(String::as_str))
        .collect();
    let mut typo_candidates = relayctl_names.clone();
    for ansible in known_ansible() {
        typo_candidates.push(ansible);
    }
    let refuse = |message: String| {
        Err(InputError::at(
            &def.origin.file,
            def.origin.pos(),
            def.key.clone(),
            message,
        ))
    };

    if CONNECTION_VARS.contains(&name) {
        return Ok(VarClass::Connection);
    }
    if RELAY_VARS.contains(&name) {
        return Ok(VarClass::Relay);
    }
    if role_vars.contains(name) {
        return Ok(VarClass::Role);
    }
    if name == GROUP_PRIORITY {
        return Ok(VarClass::GroupPriority);
    }
    if is_secret(name) {
        return Ok(VarClass::Secret);
    }
    if ansible_vars::is_ansible(name) {
        return Ok(VarClass::Ansible);
    }
    if RESERVED_VARS.contains(&name) {
        return refuse(format!(
            "{name} is computed by relayctl, as by Ansible, and cannot be set in an inventory"
        ));
    }
    if name.is_empty() {
        return refuse("a variable needs a name".to_owned());
    }
    if name.starts_with("ansible_") {
        return refuse(format!(
            "unknown Ansible variable {name}: neither Ansible nor relayctl reads it{}",
            // Never suggest a secret: the fix for a typo cannot be a refused variable.
            suggest::hint(name, known_ansible())
        ));
    }
    if let Some(prefix) = OWNED_PREFIXES.iter().find(|p| name.starts_with(**p)) {
        let hint = suggest::hint(name, relayctl_names.iter().copied());
        let hint = if hint.is_empty() {
            format!(
                " (the {prefix}* names belong to relayctl: {})",
                relayctl_names
                    .iter()
                    .filter(|v| v.starts_with(prefix))
                    .copied()
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        } else {
            hint
        };
        return refuse(format!("unknown relayctl variable {name}{hint}"));
    }
    // A free name this close to a relayctl or Ansible one is a typo far more often than a choice.
    if name.chars().count() >= 6
        && let Some(close) = suggest::did_you_mean(name, typo_candidates.iter().copied())
        && suggest::edit_distance(name, close) <= 2
    {
        return refuse(format!(
            "unknown variable {name}; did you mean {close}? (if {name} is your own variable, pick a name further from {close})"
        ));
    }
    Ok(VarClass::Free)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::Pos;
    use crate::input::yaml::{Node, NodeKind};
    use crate::inventory::vars::Origin;
    use std::path::Path;

    fn def(name: &str) -> VarDef {
        VarDef {
            name: name.to_owned(),
            value: Node {
                kind: NodeKind::Null,
                pos: Pos::START,
            },
            origin: Origin::new(Path::new("site.yaml"), Pos { line: 4, column: 7 }),
            key: format!("all.vars.{name}"),
            listing: None,
        }
    }

    fn role_vars() -> BTreeSet<String> {
        BTreeSet::from([
            "medulla_user".to_string(),
            "medulla_password_file".to_string(),
        ])
    }

    #[test]
    fn role_defaults_may_be_set_and_their_typos_are_caught() {
        assert_eq!(
            classify(&def("medulla_user"), &role_vars()),
            Ok(VarClass::Role)
        );
        assert_eq!(
            message("medulla_usr"),
            "site.yaml:4:7: all.vars.medulla_usr: unknown relayctl variable medulla_usr; did you mean medulla_user?"
        );
        assert_eq!(
            message("medula_user"),
            "site.yaml:4:7: all.vars.medula_user: unknown variable medula_user; did you mean medulla_user? \
             (if medula_user is your own variable, pick a name further from medulla_user)"
        );
    }

    fn message(name: &str) -> String {
        classify(&def(name), &role_vars()).unwrap_err().to_string()
    }

    #[test]
    fn known_names_are_classified() {
        assert_eq!(
            classify(&def("ansible_host"), &role_vars()),
            Ok(VarClass::Connection)
        );
        assert_eq!(
            classify(&def("ansible_ssh_user"), &role_vars()),
            Ok(VarClass::Connection)
        );
        assert_eq!(
            classify(&def("relay_type"), &role_vars()),
            Ok(VarClass::Relay)
        );
        assert_eq!(
            classify(&def("ansible_python_interpreter"), &role_vars()),
            Ok(VarClass::Ansible)
        );
        assert_eq!(
            classify(&def("ansible_group_priority"), &role_vars()),
            Ok(VarClass::GroupPriority)
        );
        assert_eq!(
            classify(&def("ntp_servers"), &role_vars()),
            Ok(VarClass::Free)
        );
        assert_eq!(classify(&def("site"), &role_vars()), Ok(VarClass::Free));
    }

    #[test]
    fn unknown_relay_var_gets_a_suggestion() {
        assert_eq!(
            message("relay_typ"),
            "site.yaml:4:7: all.vars.relay_typ: unknown relayctl variable relay_typ; did you mean relay_type?"
        );
        assert_eq!(
            message("medulla_servers"),
            "site.yaml:4:7: all.vars.medulla_servers: unknown relayctl variable medulla_servers; \
             did you mean medulla_server_addresses?"
        );
        assert_eq!(
            message("relay_colour"),
            "site.yaml:4:7: all.vars.relay_colour: unknown relayctl variable relay_colour \
             (the relay_* names belong to relayctl: relay_type, relay_fqdn, relay_serves_workstations, relay_roles, relay_ssh_port, \
             relay_firewall_state, relay_firewall_extra_ports, relay_firewall_removed_ports, \
             relay_firewall_undocumented_ports, relay_firewall_filter_output, relay_firewall_admin_addresses, \
             relay_firewall_rollback_timeout, relay_firewall_input_policy, relay_firewall_close_reachable)"
        );
    }

    #[test]
    fn unknown_ansible_var_gets_a_suggestion() {
        assert_eq!(
            message("ansible_hots"),
            "site.yaml:4:7: all.vars.ansible_hots: unknown Ansible variable ansible_hots: neither Ansible nor \
             relayctl reads it; did you mean ansible_host?"
        );
        assert_eq!(
            message("ansible_connetion"),
            "site.yaml:4:7: all.vars.ansible_connetion: unknown Ansible variable ansible_connetion: neither \
             Ansible nor relayctl reads it; did you mean ansible_connection?"
        );
    }

    #[test]
    fn ansible_s_own_variables_are_accepted_and_left_unused() {
        for name in [
            "ansible_ssh_pipelining",
            "ansible_ssh_retries",
            "ansible_network_os",
            "ansible_become_flags",
            "ansible_winrm_server_cert_validation",
        ] {
            assert_eq!(
                classify(&def(name), &role_vars()),
                Ok(VarClass::Ansible),
                "{name}"
            );
        }
        // A family's bare prefix is not a variable of it.
        assert!(classify(&def("ansible_winrm_"), &role_vars()).is_err());
    }

    #[test]
    fn passwords_are_secrets_checked_with_the_connection() {
        for name in [
            "ansible_become_password",
            "ansible_ssh_pass",
            "ansible_winrm_password",
            "ansible_ssh_private_key_passphrase",
        ] {
            assert_eq!(
                classify(&def(name), &role_vars()),
                Ok(VarClass::Secret),
                "{name}"
            );
        }
    }

    #[test]
    fn a_near_miss_outside_the_namespaces_is_a_typo() {
        assert_eq!(
            message("medula_offer"),
            "site.yaml:4:7: all.vars.medula_offer: unknown variable medula_offer; did you mean medulla_offer? \
             (if medula_offer is your own variable, pick a name further from medulla_offer)"
        );
    }

    #[test]
    fn magic_vars_cannot_be_set() {
        assert!(message("inventory_hostname").contains("cannot be set"));
    }
}
