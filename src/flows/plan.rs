//! Which flow checks a relay gets: every row of its adjusted port matrix
//! ([`crate::firewall::ruleset::relay_rows`]), in the direction the documentation says the flow is
//! initiated, from the host that initiates it.
//!
//! - server → relay: from each Medulla server of the inventory; without one (dedicated SaaS: the
//!   server is SIVEO's), the flows are listed "to be confirmed by Medulla";
//! - workstation → relay, external → DMZ relay: from the first host of the `workstations` group;
//! - relay → server: from the relay to each of its `medulla_server_addresses`;
//! - relay → workstation: from the relay to that workstation;
//! - relay → internet (DNS, NTP, apt) is the relay's own business: not checked.
//!
//! UDP rows are listed as not testable: a UDP "connect" proves nothing. A port range is checked
//! port by port, up to `RANGE_CHECKED_WHOLE` ports, else at its ends.

use crate::medulla::port_matrix::{Flow, PortRule, Protocol};

use super::{FlowOutcome, FlowResult};

/// A range of at most this many ports is checked port by port (ejabberd's 4370-4380 is 11).
const RANGE_CHECKED_WHOLE: u16 = 32;

/// A host of the inventory that takes part in flow checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// The inventory name.
    pub name: String,
    /// The address the others connect to (its `ansible_host`).
    pub address: String,
}

/// The hosts around a relay: the Medulla servers and the workstation of the inventory.
#[derive(Clone, Debug, Default)]
pub struct Peers {
    pub servers: Vec<Endpoint>,
    pub workstation: Option<Endpoint>,
}

/// Where a check's connection starts.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Origin {
    /// The relay itself.
    Relay,
    /// A peer, by inventory name.
    Peer(String),
}

/// One check to make, or already decided (not testable, to be confirmed, no peer).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    pub origin: Origin,
    /// The result, unfinished: `result` stays [`FlowOutcome::NotChecked`] until the check runs,
    /// unless it is decided here.
    pub flow: FlowResult,
    /// Decided without a connection.
    pub decided: bool,
    /// An inbound check of the relay's sshd port: sshd must answer it, nothing stands in.
    pub sshd: bool,
}

impl Check {
    /// An inbound TCP check of a port Medulla will listen on: the relay listens on it while the
    /// check runs, if nothing does yet. Never sshd's port: a stand-in would answer for an sshd
    /// that does not listen there (FLUX's listener is for Medulla's services, not installed yet).
    pub fn needs_listener(&self) -> bool {
        !self.decided && self.flow.flow.is_inbound() && !self.sshd
    }
}

/// The checks of one relay, in matrix order; `sshd_port` is the relay's (`relay_ssh_port`).
pub fn checks(
    relay: &Endpoint,
    rows: &[PortRule],
    server_addresses: &[String],
    peers: &Peers,
    sshd_port: u16,
) -> Vec<Check> {
    let mut checks = Vec::new();
    for row in rows {
        let mut add = |origin: Origin,
                       from: &str,
                       to: &str,
                       address: &str,
                       decided: Option<(FlowOutcome, &str)>| {
            for port in ports_of(row) {
                checks.push(Check {
                    origin: origin.clone(),
                    decided: decided.is_some(),
                    sshd: row.flow.is_inbound()
                        && row.protocol == Protocol::Tcp
                        && port == sshd_port,
                    flow: FlowResult {
                        flow: row.flow,
                        protocol: row.protocol,
                        port,
                        from: from.to_string(),
                        to: to.to_string(),
                        address: address.to_string(),
                        purpose: row.purpose.to_string(),
                        source: row.source.to_string(),
                        result: decided.map_or(FlowOutcome::NotChecked, |(outcome, _)| outcome),
                        detail: decided.map(|(_, why)| why.to_string()),
                        elapsed_ms: None,
                        listener: None,
                    },
                });
            }
        };
        let udp = (row.protocol == Protocol::Udp)
            .then_some((FlowOutcome::NotTestable, "UDP: a connect proves nothing"));
        match row.flow {
            Flow::ServerToRelay if peers.servers.is_empty() => add(
                Origin::Peer(String::new()),
                "Medulla server",
                &relay.name,
                &relay.address,
                Some((
                    FlowOutcome::ToConfirm,
                    "the Medulla server is not in the inventory: SIVEO tests this flow",
                )),
            ),
            Flow::ServerToRelay => {
                for server in &peers.servers {
                    add(
                        Origin::Peer(server.name.clone()),
                        &server.name,
                        &relay.name,
                        &relay.address,
                        udp,
                    );
                }
            }
            Flow::WorkstationToRelay | Flow::ExternalToRelay => match &peers.workstation {
                Some(ws) => add(
                    Origin::Peer(ws.name.clone()),
                    &ws.name,
                    &relay.name,
                    &relay.address,
                    udp,
                ),
                None => add(
                    Origin::Peer(String::new()),
                    "workstation",
                    &relay.name,
                    &relay.address,
                    Some((
                        FlowOutcome::NotChecked,
                        "no host in the inventory's workstations group",
                    )),
                ),
            },
            Flow::RelayToServer => {
                for address in server_addresses {
                    let name = peers
                        .servers
                        .iter()
                        .find(|s| s.address == *address)
                        .map_or(address.as_str(), |s| s.name.as_str());
                    add(Origin::Relay, &relay.name, name, address, udp);
                }
            }
            Flow::RelayToWorkstation => match &peers.workstation {
                Some(ws) => add(Origin::Relay, &relay.name, &ws.name, &ws.address, udp),
                None => add(
                    Origin::Relay,
                    &relay.name,
                    "workstation",
                    "",
                    Some((
                        FlowOutcome::NotChecked,
                        "no host in the inventory's workstations group",
                    )),
                ),
            },
            Flow::RelayToInternet => {}
        }
    }
    checks
}

/// The ports of a row that are checked.
fn ports_of(row: &PortRule) -> Vec<u16> {
    let (first, last) = (row.ports.first, row.ports.last);
    if last - first < RANGE_CHECKED_WHOLE {
        (first..=last).collect()
    } else {
        vec![first, last]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::medulla::RelayType;
    use crate::medulla::port_matrix::{MATRIX, PortRange};

    fn rows(relay_type: RelayType) -> Vec<PortRule> {
        MATRIX
            .iter()
            .filter(|r| r.relay_types.contains(&relay_type))
            .cloned()
            .collect()
    }

    fn relay() -> Endpoint {
        Endpoint {
            name: "relay01".into(),
            address: "10.0.0.5".into(),
        }
    }

    fn peers() -> Peers {
        Peers {
            servers: vec![Endpoint {
                name: "medulla".into(),
                address: "10.0.0.1".into(),
            }],
            workstation: Some(Endpoint {
                name: "ws".into(),
                address: "10.1.0.9".into(),
            }),
        }
    }

    #[test]
    fn flows_start_where_the_documentation_says_they_are_initiated() {
        let checks = checks(
            &relay(),
            &rows(RelayType::Classic),
            &["10.0.0.1".into()],
            &peers(),
            22,
        );
        let find = |flow: Flow, port: u16| {
            checks
                .iter()
                .find(|c| c.flow.flow == flow && c.flow.port == port)
                .unwrap_or_else(|| panic!("no {flow} {port}"))
        };
        let xmpp_in = find(Flow::ServerToRelay, 5269);
        assert_eq!(xmpp_in.origin, Origin::Peer("medulla".into()));
        assert_eq!(
            (xmpp_in.flow.address.as_str(), xmpp_in.flow.to.as_str()),
            ("10.0.0.5", "relay01")
        );
        assert!(xmpp_in.needs_listener());
        // sshd answers for itself: no stand-in listener on its port.
        let ssh_in = find(Flow::ServerToRelay, 22);
        assert!(ssh_in.sshd && !ssh_in.needs_listener());
        assert!(!find(Flow::RelayToServer, 22).sshd);
        let mmc = find(Flow::RelayToServer, 7080);
        assert_eq!(mmc.origin, Origin::Relay);
        assert_eq!(
            (mmc.flow.to.as_str(), mmc.flow.address.as_str()),
            ("medulla", "10.0.0.1")
        );
        assert!(!mmc.needs_listener());
        let tftp = find(Flow::WorkstationToRelay, 69);
        assert!(tftp.decided);
        assert_eq!(tftp.flow.result, FlowOutcome::NotTestable);
        assert!(!checks.iter().any(|c| c.flow.flow == Flow::RelayToInternet));
    }

    #[test]
    fn without_the_server_in_the_inventory_its_flows_are_for_medulla_to_confirm() {
        let saas = Peers {
            servers: Vec::new(),
            workstation: None,
        };
        let checks = checks(
            &relay(),
            &rows(RelayType::Dmz),
            &["203.0.113.7".into()],
            &saas,
            22,
        );
        let inbound: Vec<&Check> = checks
            .iter()
            .filter(|c| c.flow.flow == Flow::ServerToRelay)
            .collect();
        assert!(!inbound.is_empty());
        assert!(
            inbound
                .iter()
                .all(|c| c.decided && c.flow.result == FlowOutcome::ToConfirm)
        );
        // The relay's own connections to the server are still checked, to its address.
        let outbound: Vec<&Check> = checks
            .iter()
            .filter(|c| c.flow.flow == Flow::RelayToServer)
            .collect();
        assert!(
            outbound
                .iter()
                .all(|c| !c.decided && c.flow.to == "203.0.113.7")
        );
        // External -> DMZ needs a host to start from.
        assert!(
            checks
                .iter()
                .filter(|c| c.flow.flow == Flow::ExternalToRelay)
                .all(|c| c.flow.result == FlowOutcome::NotChecked)
        );
    }

    #[test]
    fn a_port_range_is_checked_port_by_port_and_a_wide_one_at_its_ends() {
        let mut row = rows(RelayType::Dmz)
            .into_iter()
            .find(|r| r.ports.first != r.ports.last)
            .expect("4370-4380");
        assert_eq!(ports_of(&row).len(), 11);
        row.ports = PortRange::range(10000, 20000);
        assert_eq!(ports_of(&row), [10000, 20000]);
    }
}
