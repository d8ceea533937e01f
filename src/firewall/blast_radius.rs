//! What relayctl's own table would close that works today (DESIGN rule 9). With
//! `relay_firewall_input_policy: drop`, a service other hosts reach now (a monitoring agent on
//! 10050, a backup agent) and a client connected now from a source the table does not admit (a
//! second CI runner, a colleague's workstation) are cut off by it. Said before anything changes,
//! in `--check` and in apply's report, so that the operator sees it and can add the ports or
//! addresses (`relay_firewall_extra_ports`, `relay_firewall_admin_addresses`). With the default
//! policy, accept, the table closes nothing; where ufw or firewalld filters, relayctl only adds
//! what it opens.

use std::net::IpAddr;

use ipnet::IpNet;

use super::ruleset::{AddressSet, RulesetContext};
use crate::facts::{InboundSession, ListeningSocket, reachable_services};
use crate::inventory::InputPolicy;
use crate::medulla::port_matrix::Protocol;

/// What the table would cut off, each in words.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct BlastRadius {
    /// Services reachable from any host now that the table would close: closed only when the
    /// inventory says so (`relay_firewall_close_reachable`).
    pub services: Vec<String>,
    /// Clients connected now whose next connection the table would refuse.
    pub clients: Vec<String>,
}

/// What the table would cut off. `table_drops`: relayctl's table drops already (an earlier
/// run's): what listens is then no longer reachable from any host, and only the clients
/// connected now are measured against the new table.
pub fn cut_off(
    ruleset: &RulesetContext,
    listening: &[ListeningSocket],
    sessions: &[InboundSession],
    table_drops: bool,
) -> BlastRadius {
    let mut found = BlastRadius::default();
    if ruleset.input_policy == InputPolicy::Accept {
        return found;
    }
    let services = if table_drops {
        Vec::new()
    } else {
        reachable_services(listening)
    };
    for socket in services {
        let protocol = socket.protocol;
        if admits_everyone(ruleset, protocol, socket.port) {
            continue;
        }
        let from: Vec<&str> = admitting_sets(ruleset, protocol, socket.port).collect();
        let after = if from.is_empty() {
            "from no one".to_string()
        } else {
            format!("only from {}", from.join(" and "))
        };
        let keep = if protocol == Protocol::Tcp && socket.port == ruleset.admin_ssh_port {
            "relay_firewall_admin_addresses"
        } else {
            "relay_firewall_extra_ports"
        };
        found.services.push(format!(
            "{}/{}{} is reachable from any host now; the relay's table admits it {after} (what \
             must stay open goes in {keep})",
            socket.protocol,
            socket.port,
            process(socket.process.as_deref())
        ));
    }
    for session in sessions {
        let Ok(peer) = session.peer.parse::<IpAddr>() else {
            continue;
        };
        if admits(ruleset, peer, Protocol::Tcp, session.port) {
            continue;
        }
        found.clients.push(format!(
            "{} is connected to tcp/{}{} now: its session goes on, its next connection will be \
             refused (an address that must keep its access goes in relay_firewall_admin_addresses \
             or relay_firewall_extra_ports)",
            session.peer,
            session.port,
            process(session.process.as_deref())
        ));
    }
    found
}

fn process(name: Option<&str>) -> String {
    name.map(|name| format!(" ({name})")).unwrap_or_default()
}

/// A rule for any source covers the port.
fn admits_everyone(ruleset: &RulesetContext, protocol: Protocol, port: u16) -> bool {
    ruleset
        .input
        .iter()
        .any(|rule| rule.peer.is_none() && rule.protocol == protocol && rule.ports.contains(port))
}

/// The peer sets whose rules cover the port (and the admin addresses, for relayctl's SSH).
fn admitting_sets(
    ruleset: &RulesetContext,
    protocol: Protocol,
    port: u16,
) -> impl Iterator<Item = &'static str> {
    let admin = (protocol == Protocol::Tcp && port == ruleset.admin_ssh_port)
        .then_some("relayctl's controller and the admin addresses");
    let mut sets: Vec<&'static str> = ruleset
        .input
        .iter()
        .filter(|rule| rule.protocol == protocol && rule.ports.contains(port))
        .filter_map(|rule| rule.peer)
        .map(|set| match set {
            "medulla_servers" => "the Medulla servers",
            "workstations" => "the workstation subnets",
            other => other,
        })
        .collect();
    sets.dedup();
    admin.into_iter().chain(sets)
}

/// Whether a new connection from `peer` to the port passes the table.
fn admits(ruleset: &RulesetContext, peer: IpAddr, protocol: Protocol, port: u16) -> bool {
    let peer = peer.to_canonical();
    if protocol == Protocol::Tcp
        && port == ruleset.admin_ssh_port
        && contains(&ruleset.admin.v4, &ruleset.admin.v6, peer)
    {
        return true;
    }
    ruleset.input.iter().any(|rule| {
        rule.protocol == protocol
            && rule.ports.contains(port)
            && match rule.peer {
                None => true,
                Some(name) => ruleset
                    .sets
                    .iter()
                    .filter(|set| set.name == name)
                    .any(|set: &AddressSet| contains(&set.v4, &set.v6, peer)),
            }
    })
}

fn contains(v4: &[String], v6: &[String], peer: IpAddr) -> bool {
    v4.iter().chain(v6).any(|element| {
        element
            .parse::<IpNet>()
            .map(|net| net.contains(&peer))
            .or_else(|_| element.parse::<IpAddr>().map(|ip| ip == peer))
            .unwrap_or(false)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::firewall::ruleset::{Addresses, Rule};
    use crate::medulla::RelayType;
    use crate::medulla::port_matrix::PortRange;

    fn rule(peer: Option<&'static str>, port: u16) -> Rule {
        Rule {
            peer,
            protocol: Protocol::Tcp,
            ports: PortRange::single(port),
            purpose: "p".into(),
            source: "s".into(),
        }
    }

    fn ruleset() -> RulesetContext {
        RulesetContext {
            table: "medulla_relay",
            family: "inet",
            relay_type: RelayType::Dmz,
            input_policy: InputPolicy::Drop,
            admin_ssh_port: 22,
            admin: Addresses {
                v4: vec!["10.0.0.5".into()],
                v6: Vec::new(),
            },
            sets: vec![AddressSet {
                name: "medulla_servers",
                v4: vec!["192.0.2.0/28".into()],
                v6: Vec::new(),
            }],
            input: vec![rule(Some("medulla_servers"), 22), rule(None, 5222)],
            output: Vec::new(),
            filter_output: false,
            tftp_helper: false,
            dhcp_discover: false,
            flows: Vec::new(),
        }
    }

    fn socket(port: u16, process: &str) -> ListeningSocket {
        ListeningSocket {
            protocol: Protocol::Tcp,
            address: "0.0.0.0".into(),
            port,
            process: Some(process.into()),
        }
    }

    fn session(peer: &str, port: u16) -> InboundSession {
        InboundSession {
            port,
            peer: peer.into(),
            process: Some("sshd".into()),
        }
    }

    #[test]
    fn once_the_table_filters_only_the_clients_connected_now_are_measured() {
        let found = cut_off(
            &ruleset(),
            &[socket(10050, "zabbix_agentd")],
            &[session("10.0.0.7", 22), session("192.0.2.3", 22)],
            true,
        );
        assert!(found.services.is_empty(), "{found:?}");
        assert_eq!(found.clients.len(), 1, "{found:?}");
        assert!(
            found.clients[0].starts_with("10.0.0.7 is connected"),
            "{found:?}"
        );
    }

    #[test]
    fn a_table_that_only_opens_cuts_off_nothing() {
        let mut ruleset = ruleset();
        ruleset.input_policy = InputPolicy::Accept;
        let found = cut_off(
            &ruleset,
            &[socket(10050, "zabbix_agentd")],
            &[session("10.0.0.7", 22)],
            false,
        );
        assert_eq!(found, BlastRadius::default());
    }

    #[test]
    fn an_agent_and_a_second_runner_are_named_and_what_the_table_admits_is_not() {
        let found = cut_off(
            &ruleset(),
            &[
                socket(22, "sshd"),
                socket(5222, "ejabberd"),
                socket(10050, "zabbix_agentd"),
            ],
            &[
                session("10.0.0.5", 22),
                session("192.0.2.3", 22),
                session("10.0.0.7", 22),
            ],
            false,
        );
        assert_eq!(
            found.services,
            [
                "tcp/22 (sshd) is reachable from any host now; the relay's table admits it only \
                 from relayctl's controller and the admin addresses and the Medulla servers (what \
                 must stay open goes in relay_firewall_admin_addresses)",
                "tcp/10050 (zabbix_agentd) is reachable from any host now; the relay's table \
                 admits it from no one (what must stay open goes in relay_firewall_extra_ports)",
            ]
        );
        assert_eq!(
            found.clients,
            [
                "10.0.0.7 is connected to tcp/22 (sshd) now: its session goes on, its next \
                 connection will be refused (an address that must keep its access goes in \
                 relay_firewall_admin_addresses or relay_firewall_extra_ports)",
            ]
        );
    }
}
