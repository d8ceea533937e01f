//! The ruleset context: everything `templates/nftables.conf.j2` renders for one relay (the
//! template sees it as `relay_firewall`). Built from the relay's settings, the controller's
//! address as the relay sees it, and the Medulla servers' resolved addresses; pure, so that the
//! rendered ruleset is pinned by snapshot tests.
//!
//! From the matrix to the rules, in order: the rows of the relay's type; `relay_ssh_port` on
//! its inbound SSH rows; `relay_firewall_removed_ports` (matched against those rows, so after
//! `relay_ssh_port`); the undocumented rows unless `relay_firewall_undocumented_ports` is off;
//! `relay_firewall_extra_ports`, last. A workstation row needs `workstation_subnets`; an
//! outgoing row needs `relay_firewall_filter_output`.

use std::net::IpAddr;

use ipnet::IpNet;
use serde::Serialize;

use crate::inventory::{InputPolicy, RelaySettings};
use crate::medulla::RelayType;
use crate::medulla::port_matrix::{self, Peer, PortRange, PortRule, Protocol, SSH_PORT};

/// relayctl's nftables table: the only one it writes, replaces or deletes (DESIGN rule 4).
pub const TABLE: &str = "medulla_relay";
/// One table for IPv4 and IPv6.
pub const FAMILY: &str = "inet";

/// Where relayctl's SSH connection comes from, as the relay sees it, and the port it reached:
/// SSH from there must stay open whatever the inventory says, or the confirmation step (a new
/// connection) and every later run would be locked out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ControllerEndpoint {
    pub address: IpAddr,
    pub ssh_port: u16,
}

impl ControllerEndpoint {
    /// Parses OpenSSH's `SSH_CONNECTION` (`client_ip client_port server_ip server_port`): the
    /// client is the controller, or its bastion when it connects through one.
    pub fn from_ssh_connection(text: &str) -> Option<Self> {
        let fields: Vec<&str> = text.split_whitespace().collect();
        let [client, _, _, server_port] = fields.as_slice() else {
            return None;
        };
        // A dual-stack sshd reports IPv4 clients as ::ffff:a.b.c.d; the packets the ruleset
        // sees are IPv4.
        let address = client.parse::<IpAddr>().ok()?.to_canonical();
        let ssh_port = server_port.parse::<u16>().ok().filter(|port| *port != 0)?;
        Some(Self { address, ssh_port })
    }
}

/// IPv4 and IPv6 elements of one address set, as nft writes them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Addresses {
    pub v4: Vec<String>,
    pub v6: Vec<String>,
}

impl Addresses {
    /// nft refuses overlapping intervals in a set ("conflicting intervals specified"), so
    /// addresses inside a listed network, duplicates and neighbours are merged first.
    fn of(networks: Vec<IpNet>) -> Self {
        let mut addresses = Self::default();
        for net in IpNet::aggregate(&networks) {
            let text = if net.prefix_len() == net.max_prefix_len() {
                net.addr().to_string()
            } else {
                net.to_string()
            };
            match net {
                IpNet::V4(_) => addresses.v4.push(text),
                IpNet::V6(_) => addresses.v6.push(text),
            }
        }
        addresses
    }

    fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }
}

/// A named set of peers (`medulla_servers`, `workstations`): `<name>_v4` and `<name>_v6` in nft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AddressSet {
    pub name: &'static str,
    pub v4: Vec<String>,
    pub v6: Vec<String>,
}

/// One accepted flow: from (input) or to (output) a peer set, or any address when `peer` is
/// none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rule {
    pub peer: Option<&'static str>,
    pub protocol: Protocol,
    pub ports: PortRange,
    pub purpose: String,
    pub source: String,
}

impl Rule {
    fn of(row: &PortRule) -> Self {
        Self {
            peer: row.flow.peer().set_name(),
            protocol: row.protocol,
            ports: row.ports,
            purpose: row.purpose.to_string(),
            source: row.source.to_string(),
        }
    }

    fn is(&self, peer: Peer, protocol: Protocol, port: u16) -> bool {
        self.peer == peer.set_name()
            && self.protocol == protocol
            && self.ports == PortRange::single(port)
    }
}

/// One flow as the ufw and firewalld modules open it: a port range from (inbound) or to
/// (outbound) some addresses, or any address when `peers` is empty. The same flows as the
/// table's rules, flattened: a peer set becomes its addresses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpenFlow {
    pub direction: &'static str,
    pub protocol: Protocol,
    pub ports: PortRange,
    pub peers: Vec<String>,
    pub comment: String,
}

/// What the nftables template renders for one relay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RulesetContext {
    pub table: &'static str,
    pub family: &'static str,
    pub relay_type: RelayType,
    /// The input chain's policy: `accept` (the table only opens) or `drop`.
    pub input_policy: InputPolicy,
    /// The port relayctl's own SSH reaches: the controller's, else `relay_ssh_port`.
    pub admin_ssh_port: u16,
    /// The controller and `relay_firewall_admin_addresses`: SSH from them is accepted first.
    pub admin: Addresses,
    pub sets: Vec<AddressSet>,
    pub input: Vec<Rule>,
    /// Empty unless `filter_output`.
    pub output: Vec<Rule>,
    pub filter_output: bool,
    /// TFTP answers from an ephemeral port; conntrack's tftp helper relates them to the request.
    pub tftp_helper: bool,
    /// PXE clients ask for DHCP before they have an address: their source is 0.0.0.0, inside
    /// no workstation subnet, so the DHCP row needs its own rule.
    pub dhcp_discover: bool,
    /// Every flow the relay needs open, inbound and outbound (outbound whether or not this
    /// table filters output: ufw may), for the ufw and firewalld modules.
    pub flows: Vec<OpenFlow>,
}

/// Builds the context of `relay`'s ruleset. `controller` is where relayctl's SSH connection
/// comes from (`SSH_CONNECTION` on the relay); `server_ips` the Medulla servers' addresses,
/// resolved, to which the relay's `medulla_server_source_addresses` add. An error names the
/// variable to fix.
pub fn ruleset_context(
    relay: &RelaySettings,
    controller: Option<ControllerEndpoint>,
    server_ips: &[IpAddr],
) -> Result<RulesetContext, String> {
    let settings = &relay.firewall;
    if server_ips.is_empty() {
        return Err(
            "medulla_server_addresses: no IP address for the Medulla server; the ruleset lets the \
             Medulla flows through for its addresses only"
                .to_owned(),
        );
    }
    let mut admin_networks = settings.admin_addresses.clone();
    admin_networks.extend(controller.map(|c| IpNet::from(c.address)));
    let admin = Addresses::of(admin_networks);
    if admin.is_empty() {
        return Err(
            "relay_firewall_admin_addresses: relayctl does not know its own address as the relay \
             sees it, and no admin address is given; list the addresses SSH must stay open to"
                .to_owned(),
        );
    }
    let workstations = Addresses::of(relay.workstation_subnets.clone());
    let peer_present = |peer: Peer| peer != Peer::Workstations || !workstations.is_empty();
    let rows = relay_rows(relay)?;

    let (mut input, mut outbound) = (Vec::new(), Vec::new());
    for row in rows.iter().filter(|row| peer_present(row.flow.peer())) {
        if row.flow.is_inbound() {
            input.push(Rule::of(row));
        } else {
            outbound.push(Rule::of(row));
        }
    }
    let tftp_helper = relay.relay_type == RelayType::Classic
        && settings.undocumented_ports
        && input
            .iter()
            .any(|rule| rule.is(Peer::Workstations, Protocol::Udp, 69));
    let dhcp_discover = input
        .iter()
        .any(|rule| rule.is(Peer::Workstations, Protocol::Udp, 67));

    let servers = Addresses::of(
        server_ips
            .iter()
            .map(|ip| IpNet::from(ip.to_canonical()))
            .chain(relay.server_source_addresses.iter().copied())
            .collect(),
    );
    let mut sets = vec![AddressSet::named(Peer::MedullaServers, servers)];
    if !workstations.is_empty() {
        sets.push(AddressSet::named(Peer::Workstations, workstations));
    }
    let admin_ssh_port = controller.map_or(settings.ssh_port, |c| c.ssh_port);
    let flows = open_flows(
        &admin,
        admin_ssh_port,
        &sets,
        &input,
        &outbound,
        dhcp_discover,
    );
    Ok(RulesetContext {
        table: TABLE,
        family: FAMILY,
        relay_type: relay.relay_type,
        input_policy: settings.input_policy,
        admin_ssh_port,
        admin,
        sets,
        input,
        output: if settings.filter_output {
            outbound
        } else {
            Vec::new()
        },
        filter_output: settings.filter_output,
        tftp_helper,
        dhcp_discover,
        flows,
    })
}

/// The table's rules as flows: SSH from the admin addresses first, then each inbound rule, the
/// DHCP discover rule, and each outbound rule, a peer set replaced by its addresses.
fn open_flows(
    admin: &Addresses,
    admin_ssh_port: u16,
    sets: &[AddressSet],
    input: &[Rule],
    outbound: &[Rule],
    dhcp_discover: bool,
) -> Vec<OpenFlow> {
    let peers_of = |rule: &Rule| -> Vec<String> {
        rule.peer
            .map(|name| {
                sets.iter()
                    .filter(|set| set.name == name)
                    .flat_map(|set| set.v4.iter().chain(&set.v6).cloned())
                    .collect()
            })
            .unwrap_or_default()
    };
    let flow = |direction, rule: &Rule| OpenFlow {
        direction,
        protocol: rule.protocol,
        ports: rule.ports,
        peers: peers_of(rule),
        comment: format!("{} ({})", rule.purpose, rule.source),
    };
    let mut flows = vec![OpenFlow {
        direction: "in",
        protocol: Protocol::Tcp,
        ports: PortRange::single(admin_ssh_port),
        peers: admin.v4.iter().chain(&admin.v6).cloned().collect(),
        comment: "SSH from relayctl and admins".into(),
    }];
    flows.extend(input.iter().map(|rule| flow("in", rule)));
    if dhcp_discover {
        flows.push(OpenFlow {
            direction: "in",
            protocol: Protocol::Udp,
            ports: PortRange::single(67),
            peers: vec!["0.0.0.0".into()],
            comment: "DHCP from PXE clients without an address yet".into(),
        });
    }
    flows.extend(outbound.iter().map(|rule| flow("out", rule)));
    flows
}

/// The rows of the port matrix that apply to `relay`, adjusted by its inventory, in order: the
/// rows of its type for its offer (`medulla_offer`), `relay_ssh_port` on the inbound SSH rows,
/// `relay_firewall_removed_ports`, the undocumented rows unless turned off, then
/// `relay_firewall_extra_ports`; no workstation row without `workstation_subnets`. Both the
/// ruleset and the flow checks start from these, so a flow is checked exactly when it is opened.
pub fn relay_rows(relay: &RelaySettings) -> Result<Vec<PortRule>, String> {
    let settings = &relay.firewall;
    let peer_present =
        |peer: Peer| peer != Peer::Workstations || !relay.workstation_subnets.is_empty();

    // A workstation row without workstation networks is opened to no one: not a flow to check.
    let mut rows: Vec<PortRule> = port_matrix::rows(relay.relay_type, relay.offer)
        .into_iter()
        .filter(|row| peer_present(row.flow.peer()))
        .map(|mut row| {
            if row.flow.is_inbound()
                && row.protocol == Protocol::Tcp
                && row.ports == PortRange::single(SSH_PORT)
            {
                row.ports = PortRange::single(settings.ssh_port);
            }
            row
        })
        .collect();
    for removed in &settings.removed_ports {
        if !rows.iter().any(|row| removed.matches(row)) {
            return Err(format!(
                "relay_firewall_removed_ports: {removed} is not in a {} relay's port matrix; \
                 remove it from the list",
                relay.relay_type
            ));
        }
    }
    rows.retain(|row| {
        !settings.removed_ports.iter().any(|p| p.matches(row))
            && (row.documented || settings.undocumented_ports)
    });
    for extra in &settings.extra_ports {
        let named = format!("{}/{} {}", extra.ports, extra.protocol, extra.flow);
        if !peer_present(extra.flow.peer()) {
            return Err(format!(
                "relay_firewall_extra_ports: {named} needs workstation_subnets, the networks it \
                 is opened to"
            ));
        }
        if let Some(row) = rows.iter().find(|row| {
            row.flow == extra.flow
                && row.protocol == extra.protocol
                && row.ports.first <= extra.ports.first
                && extra.ports.last <= row.ports.last
        }) {
            return Err(format!(
                "relay_firewall_extra_ports: {named} is already open: {}",
                row.comment()
            ));
        }
        rows.push(extra.rule());
    }
    Ok(rows)
}

impl AddressSet {
    fn named(peer: Peer, addresses: Addresses) -> Self {
        Self {
            name: peer.set_name().unwrap_or_default(),
            v4: addresses.v4,
            v6: addresses.v6,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::template::Templates;
    use crate::inventory::{
        EXTRA_PORTS_SOURCE, ExtraPort, FirewallSettings, RemovedPort, SizingProfile,
    };
    use crate::medulla::MedullaOffer;
    use crate::medulla::port_matrix::Flow;
    use serde_json::json;

    const TEMPLATE: &str = include_str!("../../templates/nftables.conf.j2");

    fn relay(relay_type: RelayType, subnets: &[&str]) -> RelaySettings {
        RelaySettings {
            relay_type,
            server_addresses: vec!["medulla.example.com".into()],
            server_source_addresses: Vec::new(),
            offer: MedullaOffer::DedicatedSaas,
            relay_fqdn: None,
            itsm_entity: None,
            workstation_subnets: subnets.iter().map(|s| s.parse().unwrap()).collect(),
            serves_workstations: true,
            support_public_key: None,
            sizing_profile: SizingProfile::Standard,
            roles: None,
            firewall: FirewallSettings::default(),
        }
    }

    fn controller() -> Option<ControllerEndpoint> {
        ControllerEndpoint::from_ssh_connection("192.0.2.50 51234 192.0.2.11 22")
    }

    fn ips(list: &[&str]) -> Vec<IpAddr> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    fn context(relay: &RelaySettings) -> RulesetContext {
        ruleset_context(relay, controller(), &ips(&["192.0.2.10"])).unwrap()
    }

    fn ports(rules: &[Rule]) -> Vec<String> {
        rules
            .iter()
            .map(|r| format!("{}/{}", r.ports, r.protocol))
            .collect()
    }

    #[test]
    fn ssh_connection_gives_the_controller_and_the_port_it_reached() {
        assert_eq!(
            ControllerEndpoint::from_ssh_connection("192.0.2.50 51234 192.0.2.11 2222\n"),
            Some(ControllerEndpoint {
                address: "192.0.2.50".parse().unwrap(),
                ssh_port: 2222
            })
        );
        assert_eq!(
            ControllerEndpoint::from_ssh_connection("::ffff:192.0.2.50 51234 ::ffff:192.0.2.11 22")
                .map(|c| c.address),
            Some("192.0.2.50".parse().unwrap())
        );
        assert_eq!(
            ControllerEndpoint::from_ssh_connection("2001:db8::50 51234 2001:db8::11 22")
                .map(|c| c.address),
            Some("2001:db8::50".parse().unwrap())
        );
        for garbage in [
            "",
            "192.0.2.50 51234 192.0.2.11",
            "host 1 2 22",
            "192.0.2.50 1 2 0",
        ] {
            assert_eq!(ControllerEndpoint::from_ssh_connection(garbage), None);
        }
    }

    #[test]
    fn classic_relay_keeps_the_matrix_order_and_its_peers() {
        let ctx = context(&relay(RelayType::Classic, &["10.10.0.0/16"]));
        assert_eq!(
            ports(&ctx.input),
            [
                "22/tcp",
                "5269/tcp",
                "8081/tcp",
                "9990/tcp",
                "22000/tcp",
                "80/tcp",
                "5555/tcp",
                "22/tcp",
                "67/udp",
                "69/udp",
                "80/tcp",
                "443/tcp",
                "111/tcp",
                "111/udp",
                "2049/tcp",
                "2049/udp",
                "5222/tcp",
                "9990/tcp",
            ]
        );
        assert_eq!(ctx.input[0].peer, Some("medulla_servers"));
        assert_eq!(ctx.input[7].peer, Some("workstations"));
        assert!(ctx.output.is_empty(), "output is not filtered by default");
        assert!(ctx.tftp_helper && ctx.dhcp_discover);
        assert_eq!(ctx.admin_ssh_port, 22);
        assert_eq!(ctx.admin.v4, ["192.0.2.50"]);
    }

    #[test]
    fn workstation_rows_need_workstation_subnets() {
        let ctx = context(&relay(RelayType::Classic, &[]));
        assert!(ctx.input.iter().all(|r| r.peer == Some("medulla_servers")));
        assert_eq!(ctx.sets.len(), 1);
        assert!(!ctx.tftp_helper && !ctx.dhcp_discover);

        let mut without = relay(RelayType::Classic, &[]);
        without.firewall.extra_ports = vec![ExtraPort {
            flow: Flow::WorkstationToRelay,
            protocol: Protocol::Tcp,
            ports: PortRange::single(8080),
            purpose: "proxy".into(),
        }];
        assert_eq!(
            ruleset_context(&without, controller(), &ips(&["192.0.2.10"])),
            Err("relay_firewall_extra_ports: 8080/tcp workstation_to_relay needs workstation_subnets, \
                 the networks it is opened to"
                .into())
        );
    }

    #[test]
    fn dmz_relay_accepts_mobile_clients_from_anywhere() {
        let ctx = context(&relay(RelayType::Dmz, &[]));
        let from_anywhere: Vec<String> = ctx
            .input
            .iter()
            .filter(|r| r.peer.is_none())
            .map(|r| format!("{}/{}", r.ports, r.protocol))
            .collect();
        assert_eq!(from_anywhere, ["22/tcp", "5222/tcp"]);
        assert!(!ctx.tftp_helper);
    }

    #[test]
    fn relay_ssh_port_moves_the_inbound_ssh_rows_only() {
        let mut settings = relay(RelayType::Classic, &["10.10.0.0/16"]);
        settings.firewall.ssh_port = 2222;
        settings.firewall.filter_output = true;
        let ctx = ruleset_context(&settings, None, &ips(&["192.0.2.10"]));
        // Without the controller's address there is nobody to keep SSH open for.
        assert!(
            ctx.unwrap_err()
                .starts_with("relay_firewall_admin_addresses: relayctl does not know")
        );
        settings.firewall.admin_addresses = vec!["198.51.100.0/24".parse().unwrap()];
        let ctx = ruleset_context(&settings, None, &ips(&["192.0.2.10"])).unwrap();
        assert_eq!(ctx.admin_ssh_port, 2222);
        assert_eq!(ctx.input[0].ports, PortRange::single(2222));
        assert_eq!(
            ctx.output[0].ports,
            PortRange::single(22),
            "relay -> server SSH"
        );
        assert!(ctx.input.iter().all(|r| r.ports != PortRange::single(22)));
    }

    #[test]
    fn removed_ports_must_be_in_the_relays_matrix() {
        let mut dmz = relay(RelayType::Dmz, &[]);
        // 9990 is a dedicated-SaaS DMZ relay's (PROC 4.1), not an on-premise one's.
        dmz.offer = MedullaOffer::OnPremise;
        dmz.firewall.removed_ports = vec![RemovedPort {
            protocol: Protocol::Tcp,
            ports: PortRange::single(9990),
        }];
        assert_eq!(
            ruleset_context(&dmz, controller(), &ips(&["192.0.2.10"])),
            Err("relay_firewall_removed_ports: 9990/tcp is not in a dmz relay's port matrix; remove it \
                 from the list"
                .into())
        );
        dmz.firewall.removed_ports = vec![RemovedPort {
            protocol: Protocol::Tcp,
            ports: PortRange::range(4370, 4380),
        }];
        let ctx = ruleset_context(&dmz, controller(), &ips(&["192.0.2.10"])).unwrap();
        assert!(
            ctx.input
                .iter()
                .all(|r| r.ports != PortRange::range(4370, 4380))
        );
    }

    #[test]
    fn extra_ports_come_last_and_cite_the_inventory() {
        let mut settings = relay(RelayType::Dmz, &[]);
        settings.firewall.extra_ports = vec![ExtraPort {
            flow: Flow::ExternalToRelay,
            protocol: Protocol::Udp,
            ports: PortRange::single(1194),
            purpose: "OpenVPN".into(),
        }];
        let ctx = context(&settings);
        let last = ctx.input.last().unwrap();
        assert_eq!(
            (last.peer, last.purpose.as_str(), last.source.as_str()),
            (None, "OpenVPN", EXTRA_PORTS_SOURCE)
        );
        settings.firewall.extra_ports[0].ports = PortRange::range(4372, 4373);
        settings.firewall.extra_ports[0].flow = Flow::ServerToRelay;
        settings.firewall.extra_ports[0].protocol = Protocol::Tcp;
        assert_eq!(
            ruleset_context(&settings, controller(), &ips(&["192.0.2.10"])),
            Err("relay_firewall_extra_ports: 4372-4373/tcp server_to_relay is already open: ejabberd \
                 cluster (S000; FC)"
                .into())
        );
    }

    #[test]
    fn the_servers_source_addresses_are_admitted_with_its_resolved_ones() {
        let mut settings = relay(RelayType::Dmz, &[]);
        settings.server_source_addresses = vec!["94.130.207.190/32".parse().unwrap()];
        let ctx = context(&settings);
        assert_eq!(ctx.sets[0].v4, ["94.130.207.190", "192.0.2.10"]);
        assert!(ctx.input.iter().any(|r| r.peer == Some("medulla_servers")));
    }

    #[test]
    fn overlapping_addresses_are_merged_for_nft() {
        let mut settings = relay(RelayType::Classic, &["10.0.0.0/8", "10.1.0.0/16"]);
        settings.firewall.admin_addresses = vec!["192.0.2.0/24".parse().unwrap()];
        let ctx = ruleset_context(
            &settings,
            controller(),
            &ips(&["192.0.2.10", "::ffff:192.0.2.10", "2001:db8::10"]),
        )
        .unwrap();
        assert_eq!(ctx.admin.v4, ["192.0.2.0/24"], "the controller is inside");
        assert_eq!(ctx.sets[0].v4, ["192.0.2.10"]);
        assert_eq!(ctx.sets[0].v6, ["2001:db8::10"]);
        assert_eq!(ctx.sets[1].v4, ["10.0.0.0/8"]);
        assert!(
            ruleset_context(&settings, controller(), &[])
                .unwrap_err()
                .starts_with("medulla_server_addresses: ")
        );
    }

    // --- the rendered ruleset ------------------------------------------------------------------

    fn render(hostname: &str, ctx: &RulesetContext) -> String {
        let mut templates = Templates::new();
        templates
            .add_file("nftables.conf.j2".into(), TEMPLATE.into())
            .unwrap();
        let vars = json!({"inventory_hostname": hostname, "relay_firewall": ctx});
        let rendered = templates
            .render_file(
                "nftables.conf.j2",
                &minijinja::Value::from(minijinja::value::Serde(&vars)),
            )
            .unwrap();
        check_structure(&rendered);
        rendered
    }

    /// What the nftables module relies on: one table, relayctl's, and nothing that touches
    /// any other (the module adds its own atomic-replace preamble).
    fn check_structure(rendered: &str) {
        let code: Vec<&str> = rendered
            .lines()
            .map(|l| l.split('#').next().unwrap_or_default().trim())
            .filter(|l| !l.is_empty())
            .collect();
        let tables: Vec<&&str> = code.iter().filter(|l| l.starts_with("table ")).collect();
        assert_eq!(tables, [&"table inet medulla_relay {"], "{rendered}");
        for word in ["flush", "delete", "destroy"] {
            assert!(
                !code
                    .iter()
                    .any(|l| l.split_whitespace().next() == Some(word)),
                "{word}: {rendered}"
            );
        }
        let mut depth = 0i32;
        for c in code.concat().chars() {
            depth += match c {
                '{' => 1,
                '}' => -1,
                _ => 0,
            };
            assert!(depth >= 0, "{rendered}");
        }
        assert_eq!(depth, 0, "unbalanced braces: {rendered}");
        assert!(
            !rendered.contains("elements = {  }") && !rendered.contains("elements = { }"),
            "nft refuses an empty elements list: {rendered}"
        );
        for line in rendered.lines() {
            if let Some((_, comment)) = line.split_once("comment \"") {
                assert!(comment.len() - 1 <= 128, "{line}");
            }
        }
    }

    #[test]
    fn every_ruleset_snapshot_is_one_table_with_balanced_braces() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/firewall/snapshots");
        let mut checked = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            // insta's header is a YAML block between two "---" lines.
            let body = text.splitn(3, "---\n").nth(2).unwrap();
            check_structure(body);
            checked += 1;
        }
        assert_eq!(checked, 5);
    }

    #[test]
    fn classic_relay_ruleset() {
        let mut settings = relay(RelayType::Classic, &["10.10.0.0/16", "10.21.0.0/24"]);
        settings.firewall.admin_addresses = vec!["2001:db8:a::7".parse::<IpAddr>().unwrap().into()];
        let ctx = ruleset_context(&settings, controller(), &ips(&["192.0.2.10"])).unwrap();
        insta::assert_snapshot!(render("relay-paris-01", &ctx));
    }

    #[test]
    fn dmz_relay_ruleset() {
        let ctx = ruleset_context(
            &relay(RelayType::Dmz, &[]),
            ControllerEndpoint::from_ssh_connection("198.51.100.5 40000 198.51.100.21 22"),
            &ips(&["192.0.2.10", "2001:db8::10"]),
        )
        .unwrap();
        insta::assert_snapshot!(render("relay-dmz-01", &ctx));
    }

    #[test]
    fn classic_relay_ruleset_dropping_the_rest_with_filtered_output() {
        let mut settings = relay(RelayType::Classic, &["10.10.0.0/16"]);
        settings.firewall.input_policy = InputPolicy::Drop;
        settings.firewall.filter_output = true;
        let ctx = context(&settings);
        insta::assert_snapshot!(render("relay-paris-01", &ctx));
    }

    #[test]
    fn classic_relay_ruleset_without_workstation_subnets() {
        let ctx = context(&relay(RelayType::Classic, &[]));
        insta::assert_snapshot!(render("relay-paris-03", &ctx));
    }

    #[test]
    fn classic_relay_ruleset_adjusted_by_the_inventory() {
        let mut settings = relay(RelayType::Classic, &["10.10.0.0/16"]);
        settings.firewall.ssh_port = 2222;
        settings.firewall.removed_ports = vec![RemovedPort {
            protocol: Protocol::Tcp,
            ports: PortRange::single(5555),
        }];
        settings.firewall.extra_ports = vec![ExtraPort {
            flow: Flow::WorkstationToRelay,
            protocol: Protocol::Udp,
            ports: PortRange::range(4011, 4012),
            purpose: "PXE proxy DHCP".into(),
        }];
        settings.firewall.undocumented_ports = false;
        let ctx = ruleset_context(
            &settings,
            ControllerEndpoint::from_ssh_connection("192.0.2.50 51234 192.0.2.11 2222"),
            &ips(&["192.0.2.10"]),
        )
        .unwrap();
        assert!(!ctx.tftp_helper, "the helper is an undocumented port too");
        insta::assert_snapshot!(render("relay-paris-02", &ctx));
    }

    #[test]
    fn the_flows_are_the_tables_rules_with_their_addresses() {
        let mut settings = relay(RelayType::Classic, &["10.10.0.0/16"]);
        settings.firewall.admin_addresses = vec!["2001:db8:a::7".parse::<IpAddr>().unwrap().into()];
        let ctx = context(&settings);
        let first = &ctx.flows[0];
        assert_eq!(
            (first.direction, first.ports, first.peers.clone()),
            (
                "in",
                PortRange::single(22),
                vec!["192.0.2.50".into(), "2001:db8:a::7".into()]
            ),
            "SSH from the controller and the admins, first"
        );
        let inbound = ctx.flows.iter().filter(|f| f.direction == "in").count();
        // The admin SSH flow, one per inbound rule, and DHCP discover (classic, with subnets).
        assert_eq!(inbound, 1 + ctx.input.len() + 1);
        let xmpp = ctx
            .flows
            .iter()
            .find(|f| f.direction == "in" && f.ports == PortRange::single(5269))
            .unwrap();
        assert_eq!(
            xmpp.peers,
            vec!["192.0.2.10".to_string()],
            "from the server only"
        );
        assert!(
            ctx.flows.iter().any(|f| f.direction == "out"),
            "outbound flows are listed though this table does not filter output"
        );
        assert!(ctx.output.is_empty());
        let workstation = ctx
            .flows
            .iter()
            .find(|f| f.peers == ["10.10.0.0/16"])
            .expect("a workstation flow names the subnets");
        assert!(workstation.comment.contains('('), "{}", workstation.comment);
    }
}
