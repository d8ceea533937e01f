//! The firewall's relay variables (`relay_ssh_port`, `relay_firewall_*`): how an inventory
//! adjusts the Medulla port matrix (`crate::medulla::port_matrix`) for one relay and how the
//! ruleset is applied. Read and checked with the other relay variables (`relay.rs`), so that a
//! wrong port or a misspelt flow stops the run before any host is touched (DESIGN rule 6).

use std::collections::HashSet;
use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use ipnet::IpNet;
use serde::Serialize;

use super::values::{self, Problem};
use crate::input::suggest;
use crate::input::yaml::{Node, NodeKind};
use crate::medulla::port_matrix::{EVERY_RELAY_TYPE, Flow, PortRange, PortRule, Protocol};

/// The variables this file reads; a test checks that each is in `names::RELAY_VARS`, the list
/// that makes them relay variables.
#[cfg(test)]
const VARS: &[&str] = &[
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

/// The source an extra port's rule cites.
pub const EXTRA_PORTS_SOURCE: &str = "inventory: relay_firewall_extra_ports";

/// An extra port's purpose becomes its nft comment with [`EXTRA_PORTS_SOURCE`] after it, and
/// nft keeps 128 bytes of a comment.
const PURPOSE_MAX_BYTES: usize = 80;

/// The confirmation window must cover a new SSH connection through a bastion (seconds, not
/// milliseconds) yet not leave a wrong ruleset in place for long.
const ROLLBACK_TIMEOUT_SECONDS: std::ops::RangeInclusive<i64> = 15..=3600;

/// Whether relayctl's nftables table should exist on the relay.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FirewallState {
    Present,
    /// relayctl's table is removed (the other tables stay as they are).
    Absent,
}

/// What relayctl's own table does with inbound traffic it does not open (README, "Firewall":
/// why `accept` is the default).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum InputPolicy {
    /// The table only opens: the Medulla flows are accepted, nothing else is closed.
    Accept,
    /// The table admits the Medulla flows, SSH from the controller and the admin addresses, and
    /// drops the rest.
    Drop,
}

/// A relay's firewall settings, with the documented defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FirewallSettings {
    pub state: FirewallState,
    /// `relay_ssh_port`: the port of the relay's inbound SSH rows.
    pub ssh_port: u16,
    pub extra_ports: Vec<ExtraPort>,
    pub removed_ports: Vec<RemovedPort>,
    pub undocumented_ports: bool,
    pub filter_output: bool,
    /// Serialised as strings (`"192.0.2.7/32"`): the ipnet crate is built without serde.
    #[serde(serialize_with = "serialize_networks")]
    pub admin_addresses: Vec<IpNet>,
    #[serde(serialize_with = "serialize_seconds")]
    pub rollback_timeout: Duration,
    pub input_policy: InputPolicy,
    /// Whether the drop policy may close a service other hosts reach today (DESIGN rule 9): off,
    /// such a service makes the relay fail before anything changes, naming it.
    pub close_reachable: bool,
}

impl Default for FirewallSettings {
    fn default() -> Self {
        Self {
            state: FirewallState::Present,
            // Seed 004 "Change the SSH port between Server and Client": 22 unless changed.
            ssh_port: crate::medulla::port_matrix::SSH_PORT,
            extra_ports: Vec::new(),
            removed_ports: Vec::new(),
            // On: Medulla's own code uses these ports (MEDULLA_FACTS "in code, not in seeds"),
            // and a relay that silently breaks the Syncthing GUI, the agent logs or PXE's TFTP
            // transfers is worse than one with a port the seeds forgot.
            undocumented_ports: true,
            // DESIGN rule 4: output is not filtered unless asked.
            filter_output: false,
            admin_addresses: Vec::new(),
            rollback_timeout: Duration::from_secs(60),
            // The seeds ask that the Medulla flows be allowed (PROC 4.1/4.2), and the server
            // procedure says not to install a firewall (OS): relayctl opens, the customer's
            // own policy decides what else is closed (README, "Firewall").
            input_policy: InputPolicy::Accept,
            // DESIGN rule 9: nothing that works today is closed unless the inventory says so.
            close_reachable: false,
        }
    }
}

/// A port the inventory opens besides the matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExtraPort {
    pub flow: Flow,
    pub protocol: Protocol,
    pub ports: PortRange,
    pub purpose: String,
}

impl ExtraPort {
    /// The port as a matrix row, citing the inventory as its source.
    pub fn rule(&self) -> PortRule {
        PortRule {
            relay_types: EVERY_RELAY_TYPE,
            flow: self.flow,
            protocol: self.protocol,
            ports: self.ports,
            purpose: self.purpose.clone().into(),
            source: EXTRA_PORTS_SOURCE.into(),
            documented: true,
        }
    }
}

/// A port (range) and protocol whose matrix rows the inventory removes, in every flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RemovedPort {
    pub protocol: Protocol,
    pub ports: PortRange,
}

impl RemovedPort {
    pub fn matches(self, rule: &PortRule) -> bool {
        rule.protocol == self.protocol && rule.ports == self.ports
    }
}

impl fmt::Display for RemovedPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.ports, self.protocol)
    }
}

impl Serialize for RemovedPort {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

fn serialize_networks<S: serde::Serializer>(
    networks: &[IpNet],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(networks.iter().map(ToString::to_string))
}

fn serialize_seconds<S: serde::Serializer>(
    duration: &Duration,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_u64(duration.as_secs())
}

/// One firewall variable's typed value.
#[derive(Debug)]
pub(crate) enum FirewallSetting {
    State(FirewallState),
    SshPort(u16),
    ExtraPorts(Vec<ExtraPort>),
    RemovedPorts(Vec<RemovedPort>),
    UndocumentedPorts(bool),
    FilterOutput(bool),
    AdminAddresses(Vec<IpNet>),
    RollbackTimeout(Duration),
    InputPolicy(InputPolicy),
    CloseReachable(bool),
}

impl FirewallSettings {
    pub(crate) fn set(&mut self, setting: FirewallSetting) {
        match setting {
            FirewallSetting::State(v) => self.state = v,
            FirewallSetting::SshPort(v) => self.ssh_port = v,
            FirewallSetting::ExtraPorts(v) => self.extra_ports = v,
            FirewallSetting::RemovedPorts(v) => self.removed_ports = v,
            FirewallSetting::UndocumentedPorts(v) => self.undocumented_ports = v,
            FirewallSetting::FilterOutput(v) => self.filter_output = v,
            FirewallSetting::AdminAddresses(v) => self.admin_addresses = v,
            FirewallSetting::RollbackTimeout(v) => self.rollback_timeout = v,
            FirewallSetting::InputPolicy(v) => self.input_policy = v,
            FirewallSetting::CloseReachable(v) => self.close_reachable = v,
        }
    }
}

/// Reads one firewall variable (not null); `None` when `name` is not a firewall variable.
pub(crate) fn read(name: &str, node: &Node) -> Result<Option<FirewallSetting>, Vec<Problem>> {
    let one = |p: Problem| vec![p];
    Ok(Some(match name {
        "relay_ssh_port" => FirewallSetting::SshPort(values::port(node).map_err(one)?),
        "relay_firewall_state" => FirewallSetting::State(
            values::one_of(
                node,
                &[
                    ("present", FirewallState::Present),
                    ("absent", FirewallState::Absent),
                ],
            )
            .map_err(one)?,
        ),
        "relay_firewall_extra_ports" => FirewallSetting::ExtraPorts(extra_ports(node)?),
        "relay_firewall_removed_ports" => FirewallSetting::RemovedPorts(removed_ports(node)?),
        "relay_firewall_undocumented_ports" => {
            FirewallSetting::UndocumentedPorts(values::boolean(node).map_err(one)?)
        }
        "relay_firewall_filter_output" => {
            FirewallSetting::FilterOutput(values::boolean(node).map_err(one)?)
        }
        "relay_firewall_admin_addresses" => {
            FirewallSetting::AdminAddresses(addresses_or_networks(node)?)
        }
        "relay_firewall_rollback_timeout" => {
            FirewallSetting::RollbackTimeout(rollback_timeout(node).map_err(one)?)
        }
        "relay_firewall_input_policy" => FirewallSetting::InputPolicy(
            values::one_of(
                node,
                &[("accept", InputPolicy::Accept), ("drop", InputPolicy::Drop)],
            )
            .map_err(one)?,
        ),
        "relay_firewall_close_reachable" => {
            FirewallSetting::CloseReachable(values::boolean(node).map_err(one)?)
        }
        _ => return Ok(None),
    }))
}

/// Each item's problems, or every item's value.
fn each_item<T>(
    node: &Node,
    what: &str,
    mut read_item: impl FnMut(&Node) -> Result<T, Vec<Problem>>,
) -> Result<Vec<T>, Vec<Problem>> {
    let NodeKind::Seq(items) = &node.kind else {
        return Err(vec![values::expected(node, what)]);
    };
    let mut problems = Vec::new();
    let mut read = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match read_item(item) {
            Ok(value) => read.push(value),
            Err(item_problems) => problems.extend(item_problems.into_iter().map(|p| p.in_item(i))),
        }
    }
    if problems.is_empty() {
        Ok(read)
    } else {
        Err(problems)
    }
}

const EXTRA_PORT_KEYS: &[&str] = &["flow", "port", "protocol", "purpose"];

/// `[{flow: server_to_relay, port: 8080, protocol: tcp, purpose: "..."}]`.
fn extra_ports(node: &Node) -> Result<Vec<ExtraPort>, Vec<Problem>> {
    let mut seen: Vec<ExtraPort> = Vec::new();
    each_item(
        node,
        "a list of ports ({flow: ..., port: ..., protocol: ..., purpose: ...})",
        |item| {
            let port = extra_port(item)?;
            if let Some(twin) = seen.iter().find(|p| {
                p.flow == port.flow && p.protocol == port.protocol && p.ports.overlaps(port.ports)
            }) {
                return Err(vec![Problem::at(
                    item,
                    format!(
                        "{}/{} {} is already opened by {}/{} ({}) above",
                        port.ports,
                        port.protocol,
                        port.flow,
                        twin.ports,
                        twin.protocol,
                        twin.purpose
                    ),
                )]);
            }
            seen.push(port.clone());
            Ok(port)
        },
    )
}

fn extra_port(item: &Node) -> Result<ExtraPort, Vec<Problem>> {
    let NodeKind::Map(entries) = &item.kind else {
        return Err(vec![values::expected(
            item,
            "a map {flow: ..., port: ..., protocol: ..., purpose: ...}",
        )]);
    };
    let mut problems = Vec::new();
    let (mut flow, mut ports, mut protocol, mut purpose) = (None, None, Protocol::Tcp, None);
    for entry in entries {
        let value = &entry.value;
        let read = match entry.key.as_str() {
            "flow" => flow_name(value).map(|v| flow = Some(v)),
            "port" => port_range(value).map(|v| ports = Some(v)),
            "protocol" => protocol_name(value).map(|v| protocol = v),
            "purpose" => purpose_text(value).map(|v| purpose = Some(v)),
            other => Err(Problem {
                pos: entry.key_pos,
                suffix: String::new(),
                message: format!(
                    "unknown key {other:?} in an extra port (its keys: {}){}",
                    EXTRA_PORT_KEYS.join(", "),
                    suggest::hint(other, EXTRA_PORT_KEYS.iter().copied())
                ),
            }),
        };
        if let Err(problem) = read {
            problems.push(problem.in_key(&entry.key));
        }
    }
    let missing = |key: &str, what: &str| Problem::at(item, format!("missing {key}: {what}"));
    let flow_names = Flow::ALL.map(Flow::as_str).join(", ");
    if flow.is_none() && !entries.iter().any(|e| e.key == "flow") {
        problems.push(missing("flow", &format!("one of {flow_names}")));
    }
    if ports.is_none() && !entries.iter().any(|e| e.key == "port") {
        problems.push(missing("port", "a port (8080) or a range (\"4000-4010\")"));
    }
    if purpose.is_none() && !entries.iter().any(|e| e.key == "purpose") {
        problems.push(missing(
            "purpose",
            "say what the port is for; it becomes the rule's comment in the ruleset",
        ));
    }
    match (flow, ports, purpose) {
        (Some(flow), Some(ports), Some(purpose)) if problems.is_empty() => Ok(ExtraPort {
            flow,
            protocol,
            ports,
            purpose,
        }),
        _ => Err(problems),
    }
}

fn flow_name(node: &Node) -> Result<Flow, Problem> {
    let names = Flow::ALL.map(Flow::as_str);
    let wanted = format!("one of {}", names.join(", "));
    let name = values::string(node, &wanted)?;
    Flow::from_name(name).ok_or_else(|| {
        Problem::at(
            node,
            format!(
                "expected {wanted}, found {name:?}{}",
                suggest::hint(name, names)
            ),
        )
    })
}

fn protocol_name(node: &Node) -> Result<Protocol, Problem> {
    values::one_of(node, &[("tcp", Protocol::Tcp), ("udp", Protocol::Udp)])
}

/// `8080`, `"8080"` or `"4000-4010"`.
fn port_range(node: &Node) -> Result<PortRange, Problem> {
    let what = "a port (1-65535) or a range FIRST-LAST";
    match &node.kind {
        NodeKind::Number(_) => {
            let n = values::integer(node, what)?;
            u16::try_from(n)
                .ok()
                .filter(|n| *n >= 1)
                .map(PortRange::single)
                .ok_or_else(|| Problem::at(node, format!("{n} is not a port number (1-65535)")))
        }
        NodeKind::String(_) => {
            PortRange::parse(values::string(node, what)?).map_err(|why| Problem::at(node, why))
        }
        _ => Err(values::expected(node, what)),
    }
}

fn purpose_text(node: &Node) -> Result<String, Problem> {
    let purpose = values::string(node, "a short text saying what the port is for")?.trim();
    if purpose.is_empty() {
        return Err(Problem::at(
            node,
            "the purpose is empty; say what the port is for",
        ));
    }
    // nft has no escape for a double quote inside a comment.
    if let Some(c) = purpose
        .chars()
        .find(|c| *c == '"' || *c == '\\' || c.is_control())
    {
        return Err(Problem::at(
            node,
            format!("the purpose cannot hold {c:?}: it becomes an nft comment"),
        ));
    }
    if purpose.len() > PURPOSE_MAX_BYTES {
        return Err(Problem::at(
            node,
            format!(
                "the purpose is {} bytes long; keep it to {PURPOSE_MAX_BYTES} (nft keeps 128 bytes of a comment, source included)",
                purpose.len()
            ),
        ));
    }
    Ok(purpose.to_owned())
}

/// `[5555, "69/udp", "4370-4380", "111/tcp"]`: no protocol means TCP, as in the seeds.
fn removed_ports(node: &Node) -> Result<Vec<RemovedPort>, Vec<Problem>> {
    let mut seen = HashSet::new();
    each_item(
        node,
        "a list of ports (5555, \"69/udp\", \"4370-4380\")",
        |item| {
            let removed = removed_port(item).map_err(|p| vec![p])?;
            if !seen.insert(removed) {
                return Err(vec![Problem::at(
                    item,
                    format!("{removed} is listed twice"),
                )]);
            }
            Ok(removed)
        },
    )
}

fn removed_port(node: &Node) -> Result<RemovedPort, Problem> {
    if let NodeKind::Number(_) = node.kind {
        return port_range(node).map(|ports| RemovedPort {
            protocol: Protocol::Tcp,
            ports,
        });
    }
    let text = values::string(node, "a port (5555, \"69/udp\" or \"4370-4380\")")?.trim();
    let (ports, protocol) = match text.split_once('/') {
        None => (text, Protocol::Tcp),
        Some((ports, protocol)) => (
            ports,
            Protocol::from_name(&protocol.trim().to_ascii_lowercase()).ok_or_else(|| {
                Problem::at(
                    node,
                    format!(
                        "expected tcp or udp after the / in {text:?}, found {:?}",
                        protocol.trim()
                    ),
                )
            })?,
        ),
    };
    let ports = PortRange::parse(ports).map_err(|why| Problem::at(node, why))?;
    Ok(RemovedPort { protocol, ports })
}

/// IPs or networks in CIDR notation; an address is a one-address network. Also read for
/// `medulla_server_source_addresses` (`relay.rs`).
pub(super) fn addresses_or_networks(node: &Node) -> Result<Vec<IpNet>, Vec<Problem>> {
    if let Some(text) = node.as_str() {
        return Err(vec![Problem::at(
            node,
            format!(
                "expected a list of IP addresses or networks, found {}; write it as a list: [{text}]",
                node.describe()
            ),
        )]);
    }
    let mut seen = HashSet::new();
    each_item(node, "a list of IP addresses or networks", |item| {
        let text = values::string(item, "an IP address or a network (192.0.2.7, 10.1.0.0/16)")
            .map_err(|p| vec![p])?
            .trim();
        let net = match (text.parse::<IpNet>(), text.parse::<IpAddr>()) {
            (Ok(net), _) if net.trunc() != net => {
                return Err(vec![Problem::at(
                    item,
                    format!("{text} has host bits set; did you mean {}?", net.trunc()),
                )]);
            }
            (Ok(net), _) => net,
            (_, Ok(address)) => IpNet::from(address),
            _ => {
                return Err(vec![Problem::at(
                    item,
                    format!(
                        "expected an IP address or a network in CIDR notation (192.0.2.7, 10.1.0.0/16), found {text:?}"
                    ),
                )]);
            }
        };
        if !seen.insert(net) {
            return Err(vec![Problem::at(item, format!("{text} is listed twice"))]);
        }
        Ok(net)
    })
}

fn rollback_timeout(node: &Node) -> Result<Duration, Problem> {
    let what = "a number of seconds (15-3600)";
    match values::integer(node, what)? {
        n if ROLLBACK_TIMEOUT_SECONDS.contains(&n) => Ok(Duration::from_secs(n.unsigned_abs())),
        n => Err(Problem::at(
            node,
            format!(
                "expected {what}, found {n}: the relay waits this long for relayctl's new SSH connection \
                 before it restores the previous ruleset"
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::Pos;
    use serde_json::json;

    fn problems(name: &str, value: serde_json::Value) -> Vec<String> {
        let node = Node::from_json(&value, Pos { line: 5, column: 9 });
        match read(name, &node) {
            Ok(_) => Vec::new(),
            Err(problems) => problems
                .into_iter()
                .map(|p| format!("{name}{}: {}", p.suffix, p.message))
                .collect(),
        }
    }

    fn setting(name: &str, value: serde_json::Value) -> FirewallSettings {
        let node = Node::from_json(&value, Pos::START);
        let mut settings = FirewallSettings::default();
        match read(name, &node) {
            Ok(Some(setting)) => settings.set(setting),
            other => panic!("{name}: {other:?}"),
        }
        settings
    }

    #[test]
    fn every_firewall_variable_is_a_relay_variable() {
        for name in VARS {
            assert!(super::super::names::RELAY_VARS.contains(name), "{name}");
        }
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let defaults = FirewallSettings::default();
        assert_eq!(defaults.state, FirewallState::Present);
        assert_eq!(defaults.ssh_port, 22);
        assert!(defaults.undocumented_ports);
        assert!(!defaults.filter_output);
        assert_eq!(defaults.rollback_timeout, Duration::from_secs(60));
        assert_eq!(defaults.input_policy, InputPolicy::Accept);
        assert!(!defaults.close_reachable);
    }

    #[test]
    fn extra_ports_are_read_with_tcp_by_default() {
        let settings = setting(
            "relay_firewall_extra_ports",
            json!([
                {"flow": "server_to_relay", "port": 8080, "purpose": "monitoring"},
                {"flow": "workstation_to_relay", "port": "4000-4010", "protocol": "udp", "purpose": "streaming"},
            ]),
        );
        assert_eq!(
            settings.extra_ports,
            [
                ExtraPort {
                    flow: Flow::ServerToRelay,
                    protocol: Protocol::Tcp,
                    ports: PortRange::single(8080),
                    purpose: "monitoring".into()
                },
                ExtraPort {
                    flow: Flow::WorkstationToRelay,
                    protocol: Protocol::Udp,
                    ports: PortRange::range(4000, 4010),
                    purpose: "streaming".into()
                },
            ]
        );
    }

    #[test]
    fn extra_port_mistakes_name_the_item_and_key() {
        assert_eq!(
            problems(
                "relay_firewall_extra_ports",
                json!([
                    {"flow": "server_to_rely", "port": 70000, "purpose": "x"},
                    {"flow": "relay_to_server", "port": 8080, "protcol": "udp"},
                    {"flow": "relay_to_server", "port": "9000-8000", "protocol": "icmp", "purpose": "say \"hi\""},
                ])
            ),
            [
                "relay_firewall_extra_ports[0].flow: expected one of server_to_relay, relay_to_server, workstation_to_relay, \
                 relay_to_workstation, external_to_relay, relay_to_internet, found \"server_to_rely\"; \
                 did you mean server_to_relay?",
                "relay_firewall_extra_ports[0].port: 70000 is not a port number (1-65535)",
                "relay_firewall_extra_ports[1].protcol: unknown key \"protcol\" in an extra port (its keys: flow, port, protocol, \
                 purpose); did you mean protocol?",
                "relay_firewall_extra_ports[1]: missing purpose: say what the port is for; it becomes the rule's comment in the ruleset",
                "relay_firewall_extra_ports[2].port: 9000-8000 is not a range: its first port is higher than its last; write 8000-9000",
                "relay_firewall_extra_ports[2].protocol: expected one of tcp, udp, found \"icmp\"",
                "relay_firewall_extra_ports[2].purpose: the purpose cannot hold '\"': it becomes an nft comment",
            ]
        );
        assert_eq!(
            problems(
                "relay_firewall_extra_ports",
                json!([
                    {"flow": "server_to_relay", "port": 8080, "purpose": "a"},
                    {"flow": "server_to_relay", "port": "8000-8100", "purpose": "b"},
                ])
            ),
            [
                "relay_firewall_extra_ports[1]: 8000-8100/tcp server_to_relay is already opened by 8080/tcp (a) above"
            ]
        );
    }

    #[test]
    fn removed_ports_default_to_tcp_and_check_the_protocol() {
        assert_eq!(
            setting(
                "relay_firewall_removed_ports",
                json!([5555, "69/udp", "4370-4380", "111/TCP"])
            )
            .removed_ports
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
            ["5555/tcp", "69/udp", "4370-4380/tcp", "111/tcp"]
        );
        assert_eq!(
            problems(
                "relay_firewall_removed_ports",
                json!(["69/icmp", 0, "5555", 5555, true])
            ),
            [
                "relay_firewall_removed_ports[0]: expected tcp or udp after the / in \"69/icmp\", found \"icmp\"",
                "relay_firewall_removed_ports[1]: 0 is not a port number (1-65535)",
                "relay_firewall_removed_ports[3]: 5555/tcp is listed twice",
                "relay_firewall_removed_ports[4]: expected a port (5555, \"69/udp\" or \"4370-4380\"), found the boolean true",
            ]
        );
    }

    #[test]
    fn admin_addresses_are_addresses_or_networks() {
        assert_eq!(
            setting(
                "relay_firewall_admin_addresses",
                json!(["192.0.2.7", "2001:db8::/64"])
            )
            .admin_addresses
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
            ["192.0.2.7/32", "2001:db8::/64"]
        );
        assert_eq!(
            problems(
                "relay_firewall_admin_addresses",
                json!(["10.1.2.3/16", "bastion", "192.0.2.7", "192.0.2.7/32"])
            ),
            [
                "relay_firewall_admin_addresses[0]: 10.1.2.3/16 has host bits set; did you mean 10.1.0.0/16?",
                "relay_firewall_admin_addresses[1]: expected an IP address or a network in CIDR notation (192.0.2.7, 10.1.0.0/16), found \"bastion\"",
                "relay_firewall_admin_addresses[3]: 192.0.2.7/32 is listed twice",
            ]
        );
        assert_eq!(
            problems("relay_firewall_admin_addresses", json!("192.0.2.7")),
            [
                "relay_firewall_admin_addresses: expected a list of IP addresses or networks, found the string \"192.0.2.7\"; write it as a list: [192.0.2.7]"
            ]
        );
    }

    #[test]
    fn scalars_are_checked() {
        assert_eq!(setting("relay_ssh_port", json!(2222)).ssh_port, 2222);
        assert_eq!(
            setting("relay_firewall_state", json!("absent")).state,
            FirewallState::Absent
        );
        assert!(setting("relay_firewall_filter_output", json!("yes")).filter_output);
        assert!(!setting("relay_firewall_undocumented_ports", json!(false)).undocumented_ports);
        assert_eq!(
            problems("relay_firewall_rollback_timeout", json!(5)),
            [
                "relay_firewall_rollback_timeout: expected a number of seconds (15-3600), found 5: the relay waits this long for relayctl's new SSH \
                 connection before it restores the previous ruleset"
            ]
        );
        assert_eq!(
            problems("relay_firewall_state", json!("off")),
            ["relay_firewall_state: expected one of present, absent, found \"off\""]
        );
        assert_eq!(
            problems("relay_ssh_port", json!(0)),
            ["relay_ssh_port: expected a port number (1-65535), found 0"]
        );
    }
}
