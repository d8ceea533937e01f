//! The relay variables (relayctl's public interface) and each host's role.
//!
//! | variable                            | type                                    | default          |
//! |-------------------------------------|-----------------------------------------|------------------|
//! | `relay_type`                        | `classic` or `dmz`                      | required (relay) |
//! | `medulla_server_addresses`          | list of IPs / DNS names (or a string)   | required (relay) |
//! | `medulla_server_source_addresses`   | list of IPs / networks the server connects from | `[]`   |
//! | `medulla_offer`                     | `dedicated_saas` or `on_premise`        | `dedicated_saas` |
//! | `relay_fqdn`                        | fully qualified DNS name                | none             |
//! | `itsm_entity`                       | string                                  | none (parent)    |
//! | `workstation_subnets`               | list of CIDR networks                   | `[]`             |
//! | `relay_serves_workstations`         | boolean: a classic relay with no subnets on purpose | `true` |
//! | `medulla_support_public_key`        | OpenSSH key line, or a .pub file path   | none             |
//! | `sizing_profile`                    | `standard` or `lab`                     | `standard`       |
//! | `relay_roles`                       | list of role names                      | per relay type   |
//! | `relay_ssh_port`                    | port of the inbound SSH rows            | `22`             |
//! | `relay_firewall_state`              | `present` or `absent` (no table)        | `present`        |
//! | `relay_firewall_extra_ports`        | list of {flow, port, protocol, purpose} | `[]`             |
//! | `relay_firewall_removed_ports`      | list of `PORT`, `PORT/udp`, `A-B`       | `[]`             |
//! | `relay_firewall_undocumented_ports` | boolean: ports only in Medulla's code   | `true`           |
//! | `relay_firewall_filter_output`      | boolean: filter outgoing traffic        | `false`          |
//! | `relay_firewall_admin_addresses`    | list of IPs / networks let in by SSH    | `[]`             |
//! | `relay_firewall_rollback_timeout`   | seconds to confirm a ruleset, 15-3600   | `60`             |
//! | `relay_firewall_input_policy`       | `accept` (only open) or `drop` the rest | `accept`         |
//! | `relay_firewall_close_reachable`    | boolean: `drop` may close what serves   | `false`          |
//!
//! A value written as `null` (`relay_fqdn: ~`) counts as unset, so a host can drop a group's
//! setting. Roles: a host in the `medulla_servers` group is the Medulla server and one in
//! `workstations` a workstation (both are peers for the flow checks); every other host is a
//! relay and must have `relay_type` and `medulla_server_addresses`. The firewall variables are
//! read in `firewall.rs`.

use std::fmt;

use ipnet::IpNet;
use serde::Serialize;

use super::firewall::{self, FirewallSetting, FirewallSettings};
use super::hosts::Host;
use super::relay_lists::{role_names, server_addresses, subnets};
use super::support_key::{self, SupportKey};
use super::values::{self, Problem};
use crate::input::error::InputError;
use crate::input::paths::PathContext;
use crate::input::yaml::Node;
use crate::medulla::{MedullaOffer, RelayType};

/// Hosts in this group are Medulla servers, not relays.
pub const MEDULLA_SERVERS_GROUP: &str = "medulla_servers";
/// Hosts in this group are workstations, not relays.
pub const WORKSTATIONS_GROUP: &str = "workstations";

/// Which sizing table applies: the production minimums, or relaxed ones for the test lab.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SizingProfile {
    Standard,
    Lab,
}

impl SizingProfile {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Standard => "standard",
            Self::Lab => "lab",
        }
    }
}

impl fmt::Display for SizingProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A relay's validated settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RelaySettings {
    pub relay_type: RelayType,
    pub server_addresses: Vec<String>,
    /// `medulla_server_source_addresses`: where else the Medulla server connects from (a SaaS
    /// platform's outgoing addresses are often not its name's); server -> relay flows are
    /// admitted from these and from `server_addresses` as resolved.
    #[serde(serialize_with = "serialize_networks")]
    pub server_source_addresses: Vec<IpNet>,
    pub offer: MedullaOffer,
    pub relay_fqdn: Option<String>,
    pub itsm_entity: Option<String>,
    /// Serialised as strings (`"10.1.0.0/16"`): the ipnet crate is built without its serde feature.
    #[serde(serialize_with = "serialize_networks")]
    pub workstation_subnets: Vec<IpNet>,
    /// `relay_serves_workstations`: false says on purpose that no workstation uses this
    /// classic relay, which then needs no `workstation_subnets` to be ready.
    pub serves_workstations: bool,
    pub support_public_key: Option<SupportKey>,
    pub sizing_profile: SizingProfile,
    /// `relay_roles`: the roles to run, in order, instead of the relay type's default list.
    pub roles: Option<Vec<String>>,
    /// `relay_ssh_port` and `relay_firewall_*`.
    pub firewall: FirewallSettings,
}

fn serialize_networks<S: serde::Serializer>(
    networks: &[IpNet],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(networks.iter().map(ToString::to_string))
}

/// What a selected host is for in an `apply`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum HostRole {
    /// Boxed: the settings are large and the peers carry nothing.
    Relay(Box<RelaySettings>),
    MedullaServer,
    Workstation,
}

/// One relay variable's typed value.
enum Setting {
    Type(RelayType),
    Servers(Vec<String>),
    ServerSources(Vec<IpNet>),
    Offer(MedullaOffer),
    Fqdn(String),
    Entity(String),
    Subnets(Vec<IpNet>),
    ServesWorkstations(bool),
    Key(SupportKey),
    Sizing(SizingProfile),
    Roles(Vec<String>),
    Firewall(FirewallSetting),
    Unset,
}

fn read(name: &str, node: &Node, paths: &PathContext) -> Result<Setting, Vec<Problem>> {
    let one = |p: Problem| vec![p];
    if node.is_null() {
        return Ok(Setting::Unset);
    }
    Ok(match name {
        "relay_type" => Setting::Type(
            values::one_of(
                node,
                &[("classic", RelayType::Classic), ("dmz", RelayType::Dmz)],
            )
            .map_err(one)?,
        ),
        "medulla_server_addresses" => Setting::Servers(server_addresses(node)?),
        "medulla_server_source_addresses" => {
            Setting::ServerSources(firewall::addresses_or_networks(node)?)
        }
        "medulla_offer" => Setting::Offer(
            values::one_of(
                node,
                &[
                    ("dedicated_saas", MedullaOffer::DedicatedSaas),
                    ("on_premise", MedullaOffer::OnPremise),
                ],
            )
            .map_err(one)?,
        ),
        "relay_fqdn" => {
            let fqdn = values::string(node, "a fully qualified DNS name").map_err(one)?;
            if !values::is_dns_name(fqdn) {
                return Err(one(Problem::at(
                    node,
                    format!("{fqdn:?} is not a valid DNS name"),
                )));
            }
            if !fqdn.trim_end_matches('.').contains('.') {
                return Err(one(Problem::at(
                    node,
                    format!(
                        "{fqdn:?} is not fully qualified; write the full name, e.g. {fqdn}.example.com"
                    ),
                )));
            }
            Setting::Fqdn(fqdn.to_owned())
        }
        "itsm_entity" => {
            let entity = values::string(node, "a string (quote it if it looks like a number)")
                .map_err(one)?;
            if entity.trim().is_empty() {
                return Err(one(Problem::at(
                    node,
                    "the ITSM entity name is empty; remove the variable to use the parent entity",
                )));
            }
            Setting::Entity(entity.to_owned())
        }
        "workstation_subnets" => Setting::Subnets(subnets(node)?),
        "relay_serves_workstations" => {
            Setting::ServesWorkstations(values::boolean(node).map_err(one)?)
        }
        "medulla_support_public_key" => Setting::Key(support_key::read(node, paths).map_err(one)?),
        "relay_roles" => Setting::Roles(role_names(node)?),
        "sizing_profile" => Setting::Sizing(
            values::one_of(
                node,
                &[
                    ("standard", SizingProfile::Standard),
                    ("lab", SizingProfile::Lab),
                ],
            )
            .map_err(one)?,
        ),
        _ => firewall::read(name, node)?.map_or(Setting::Unset, Setting::Firewall),
    })
}

/// Checks one definition of a relay variable where it is written, whatever the host's role:
/// a wrong value is always an error.
pub(crate) fn check(name: &str, node: &Node, paths: &PathContext) -> Vec<Problem> {
    read(name, node, paths).err().unwrap_or_default()
}

/// The host's role and, for a relay, its settings from its merged variables.
pub(crate) fn role(host: &Host, paths: &PathContext) -> Result<HostRole, Vec<InputError>> {
    let in_group = |group: &str| host.groups.iter().any(|g| g == group);
    match (
        in_group(MEDULLA_SERVERS_GROUP),
        in_group(WORKSTATIONS_GROUP),
    ) {
        (true, true) => {
            return Err(vec![InputError::at(
                &host.origin.file,
                host.origin.pos(),
                host.name.clone(),
                format!(
                    "{} is in both {MEDULLA_SERVERS_GROUP} and {WORKSTATIONS_GROUP}; a host is one or the other",
                    host.name
                ),
            )]);
        }
        (true, false) => return Ok(HostRole::MedullaServer),
        (false, true) => return Ok(HostRole::Workstation),
        (false, false) => {}
    }

    let mut errors = Vec::new();
    let mut settings = RelaySettingsDraft::default();
    for (name, var) in host
        .vars
        .iter()
        .filter(|(name, _)| super::names::RELAY_VARS.contains(&name.as_str()))
    {
        let node = Node::from_json(&var.value, var.origin.pos());
        match read(name, &node, paths) {
            Ok(setting) => settings.set(setting),
            Err(problems) => errors.extend(
                problems
                    .into_iter()
                    .map(|p| p.into_error(&var.origin.file, &format!("{}.{name}", host.name))),
            ),
        }
    }
    let groups = host
        .groups
        .iter()
        .filter(|g| *g != "all" && *g != "ungrouped")
        .cloned()
        .collect::<Vec<_>>();
    let where_to = if groups.is_empty() {
        "in its host vars or in all.vars".to_owned()
    } else {
        format!(
            "in its host vars or in the vars of one of its groups ({})",
            groups.join(", ")
        )
    };
    let missing = |var: &str, what: &str| {
        InputError::at(
            &host.origin.file,
            host.origin.pos(),
            format!("{}.{var}", host.name),
            format!(
                "{} is a relay (it is in neither {MEDULLA_SERVERS_GROUP} nor {WORKSTATIONS_GROUP}) and has no {var}; \
                 set {var} ({what}) {where_to}",
                host.name
            ),
        )
    };
    // A present but invalid value has its own error already.
    let unset = |var: &str| host.vars.value(var).is_none_or(serde_json::Value::is_null);
    if unset("relay_type") {
        errors.push(missing("relay_type", "classic or dmz"));
    }
    if unset("medulla_server_addresses") {
        errors.push(missing(
            "medulla_server_addresses",
            "the Medulla server's IP addresses or DNS names",
        ));
    }
    // Saying no workstation uses the relay and listing workstation networks contradict each
    // other: which one is the mistake only the operator knows.
    if let (Some(false), Some(subnets), Some(var)) = (
        settings.serves_workstations,
        settings
            .workstation_subnets
            .as_ref()
            .filter(|s| !s.is_empty()),
        host.vars.get("relay_serves_workstations"),
    ) {
        let listed: Vec<String> = subnets.iter().map(ToString::to_string).collect();
        errors.push(InputError::at(
            &var.origin.file,
            var.origin.pos(),
            format!("{}.relay_serves_workstations", host.name),
            format!(
                "relay_serves_workstations is false (no workstation uses {}), yet workstation_subnets \
                 lists {}: remove one of them",
                host.name,
                listed.join(", ")
            ),
        ));
    }
    match (settings.relay_type, settings.server_addresses) {
        (Some(relay_type), Some(server_addresses)) if errors.is_empty() => {
            Ok(HostRole::Relay(Box::new(RelaySettings {
                relay_type,
                server_addresses,
                server_source_addresses: settings.server_source_addresses.unwrap_or_default(),
                offer: settings.offer.unwrap_or(MedullaOffer::DedicatedSaas),
                relay_fqdn: settings.relay_fqdn,
                itsm_entity: settings.itsm_entity,
                workstation_subnets: settings.workstation_subnets.unwrap_or_default(),
                serves_workstations: settings.serves_workstations.unwrap_or(true),
                support_public_key: settings.support_public_key,
                sizing_profile: settings.sizing_profile.unwrap_or(SizingProfile::Standard),
                roles: settings.roles,
                firewall: settings.firewall,
            })))
        }
        _ => Err(errors),
    }
}

#[derive(Default)]
struct RelaySettingsDraft {
    relay_type: Option<RelayType>,
    server_addresses: Option<Vec<String>>,
    server_source_addresses: Option<Vec<IpNet>>,
    offer: Option<MedullaOffer>,
    relay_fqdn: Option<String>,
    itsm_entity: Option<String>,
    workstation_subnets: Option<Vec<IpNet>>,
    serves_workstations: Option<bool>,
    support_public_key: Option<SupportKey>,
    sizing_profile: Option<SizingProfile>,
    roles: Option<Vec<String>>,
    firewall: FirewallSettings,
}

impl RelaySettingsDraft {
    fn set(&mut self, setting: Setting) {
        match setting {
            Setting::Type(v) => self.relay_type = Some(v),
            Setting::Servers(v) => self.server_addresses = Some(v),
            Setting::ServerSources(v) => self.server_source_addresses = Some(v),
            Setting::Offer(v) => self.offer = Some(v),
            Setting::Fqdn(v) => self.relay_fqdn = Some(v),
            Setting::Entity(v) => self.itsm_entity = Some(v),
            Setting::Subnets(v) => self.workstation_subnets = Some(v),
            Setting::ServesWorkstations(v) => self.serves_workstations = Some(v),
            Setting::Key(v) => self.support_public_key = Some(v),
            Setting::Sizing(v) => self.sizing_profile = Some(v),
            Setting::Roles(v) => self.roles = Some(v),
            Setting::Firewall(v) => self.firewall.set(v),
            Setting::Unset => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::Pos;
    use serde_json::json;
    use std::path::PathBuf;

    fn paths() -> PathContext {
        PathContext {
            base_dir: PathBuf::from("inventories"),
            home: None,
        }
    }

    fn problems(name: &str, value: serde_json::Value) -> Vec<String> {
        let node = Node::from_json(&value, Pos { line: 5, column: 9 });
        check(name, &node, &paths())
            .into_iter()
            .map(|p| format!("{}{}", p.suffix, p.message))
            .collect()
    }

    #[test]
    fn enums_display_and_serialise_as_written_in_inventories() {
        assert_eq!(RelayType::Dmz.to_string(), "dmz");
        assert_eq!(
            serde_json::to_value(RelayType::Classic).unwrap(),
            json!("classic")
        );
        assert_eq!(
            serde_json::to_value(MedullaOffer::DedicatedSaas).unwrap(),
            json!("dedicated_saas")
        );
        assert_eq!(
            serde_json::to_value(SizingProfile::Lab).unwrap(),
            json!("lab")
        );
        assert_eq!(MedullaOffer::OnPremise.to_string(), "on_premise");
    }

    #[test]
    fn relay_type_lists_its_choices() {
        assert_eq!(
            problems("relay_type", json!("clasic")),
            ["expected one of classic, dmz, found \"clasic\""]
        );
        assert_eq!(
            problems("relay_type", json!(["classic"])),
            ["expected one of classic, dmz, found a list"]
        );
    }

    #[test]
    fn server_addresses_accept_one_string_and_check_each_item() {
        assert!(problems("medulla_server_addresses", json!("medulla.example.com")).is_empty());
        assert_eq!(
            problems(
                "medulla_server_addresses",
                json!(["10.0.0.5", "bad name", "10.0.0.5"])
            ),
            [
                "[1]expected an IP address or DNS name, found \"bad name\"",
                "[2]10.0.0.5 is listed twice"
            ]
        );
        assert_eq!(
            problems("medulla_server_addresses", json!([])),
            ["the list is empty; name at least one Medulla server"]
        );
    }

    #[test]
    fn server_source_addresses_are_addresses_or_networks() {
        assert!(
            problems(
                "medulla_server_source_addresses",
                json!(["94.130.207.190", "2001:db8::/48"])
            )
            .is_empty()
        );
        assert_eq!(
            problems(
                "medulla_server_source_addresses",
                json!(["94.130.207.0/23", "medulla.example.com"])
            ),
            [
                "[0]94.130.207.0/23 has host bits set; did you mean 94.130.206.0/23?",
                "[1]expected an IP address or a network in CIDR notation (192.0.2.7, 10.1.0.0/16), \
                 found \"medulla.example.com\""
            ]
        );
    }

    #[test]
    fn subnets_must_be_a_list_of_networks() {
        assert_eq!(
            problems("workstation_subnets", json!("10.0.0.0/8")),
            [
                "expected a list of subnets in CIDR notation, found the string \"10.0.0.0/8\"; write it as a list: [10.0.0.0/8]"
            ]
        );
        assert_eq!(
            problems(
                "workstation_subnets",
                json!(["10.1.2.3/16", "10.0.0.1", "10.2.0.0/33"])
            ),
            [
                "[0]10.1.2.3/16 has host bits set; did you mean 10.1.0.0/16?",
                "[1]10.0.0.1 is an address, not a subnet; a single address is written 10.0.0.1/32",
                "[2]expected a subnet in CIDR notation (e.g. 10.1.0.0/16), found \"10.2.0.0/33\"",
            ]
        );
    }

    #[test]
    fn fqdn_must_be_fully_qualified() {
        assert!(problems("relay_fqdn", json!("relay01.example.com")).is_empty());
        assert_eq!(
            problems("relay_fqdn", json!("relay01")),
            ["\"relay01\" is not fully qualified; write the full name, e.g. relay01.example.com"]
        );
        assert_eq!(
            problems("relay_fqdn", json!("relay_01.example.com")),
            ["\"relay_01.example.com\" is not a valid DNS name"]
        );
    }

    #[test]
    fn null_means_unset() {
        assert!(problems("relay_fqdn", json!(null)).is_empty());
        assert!(problems("relay_type", json!(null)).is_empty());
    }
}
