//! The Medulla port matrix: which ports a relay must let through, in which direction, per relay
//! type, each row with its source (DESIGN rule 7). The tags are MEDULLA_FACTS.md's: S000 = seed
//! 000's flow tables (rev. 34; table 2 for classic relays, table 3 for DMZ relays); PROC = seed
//! 004's dedicated-SaaS relay procedure; FC = seed 004's older "Simplified flowchart"; FLUX =
//! seed 004's "FLUX Test"; ARCH = seed 004's relay architecture; "code:" = SIVEO's public repos
//! (medulla-tech/...); "relayctl:" = relayctl's own reasoning, given beside the row. Sources
//! stay short: they end up in the nft rule comments, which keep at most 128 bytes.
//!
//! Choices where the seeds disagree, made once here:
//! - S000 (rev. 34) wins over FC: FC's classic rows are shorter (server → relay 22, 5269, 9990;
//!   relay → server 22, 5269) and its DMZ rows stop at 4370-4380; they are a stale revision,
//!   and PROC 4.1/4.2 (the procedure SIVEO hands customers) agrees with S000.
//! - Workstation → relay "69/69 (UDP)" is read as 67/69 (DHCP and TFTP): every other table
//!   of the seeds writes "67/69 (UDP)", and the port legend describes 67 and 69 together.
//! - Wake-on-LAN is 9/udp: the seeds' legend ("TCP unless marked") would make it TCP, but a
//!   magic packet is a UDP datagram, and that is what Medulla's code sends.
//! - DMZ relays do no imaging (ARCH), so they get no 9990, TFTP, NFS or DHCP, and serve no
//!   workstations: their clients come from outside, on 22 and 5222 only (FLUX §4).
//! - The SaaS platform ports of seeds 001-003 (2002, and 55415 for the dedicated offer) are
//!   opened by workstations towards SIVEO's platform, never towards a relay: not in here.

use std::borrow::Cow;
use std::fmt;

use serde::Serialize;

use super::{MedullaOffer, RelayType};
use Flow::{
    ExternalToRelay, RelayToInternet, RelayToServer, RelayToWorkstation, ServerToRelay,
    WorkstationToRelay,
};
use Protocol::{Tcp, Udp};

/// A rule's transport protocol. The seeds' tables are TCP unless marked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Tcp,
    Udp,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tcp => "tcp",
            Self::Udp => "udp",
        }
    }

    /// The protocol named as inventories write it (`tcp`, `udp`).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "tcp" => Some(Self::Tcp),
            "udp" => Some(Self::Udp),
            _ => None,
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One port or an inclusive range of ports (`4370-4380`), written as nft writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PortRange {
    pub first: u16,
    pub last: u16,
}

impl PortRange {
    pub const fn single(port: u16) -> Self {
        Self {
            first: port,
            last: port,
        }
    }

    pub const fn range(first: u16, last: u16) -> Self {
        Self { first, last }
    }

    /// Parses `8080` or `4000-4010`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let port = |part: &str| -> Result<u16, String> {
            match part.trim().parse::<u32>() {
                Ok(n @ 1..=65535) => Ok(u16::try_from(n).unwrap_or(u16::MAX)),
                Ok(n) => Err(format!("{n} is not a port number (1-65535)")),
                Err(_) => Err(format!(
                    "expected a port (1-65535) or a range FIRST-LAST, found {text:?}"
                )),
            }
        };
        match text.split_once('-') {
            None => port(text).map(Self::single),
            Some((first, last)) => {
                let (first, last) = (port(first)?, port(last)?);
                if first > last {
                    return Err(format!(
                        "{text} is not a range: its first port is higher than its last; write {last}-{first}"
                    ));
                }
                Ok(Self::range(first, last))
            }
        }
    }

    pub fn contains(self, port: u16) -> bool {
        self.first <= port && port <= self.last
    }

    pub fn overlaps(self, other: Self) -> bool {
        self.first <= other.last && other.first <= self.last
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.first == self.last {
            write!(f, "{}", self.first)
        } else {
            write!(f, "{}-{}", self.first, self.last)
        }
    }
}

impl Serialize for PortRange {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Who opens the connection to whom: the seeds' "SOURCE → DEST" (S000's preamble).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Flow {
    ServerToRelay,
    RelayToServer,
    WorkstationToRelay,
    RelayToWorkstation,
    /// Hosts outside the network (mobile clients) to a DMZ relay.
    ExternalToRelay,
    /// What a relay needs from the outside world itself (names, time, packages).
    RelayToInternet,
}

/// The other end of a flow: one of the relay's address sets, or any address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Peer {
    MedullaServers,
    Workstations,
    Any,
}

impl Peer {
    /// The name of the ruleset's address set for this peer (`medulla_servers_v4`, ... in nft).
    pub fn set_name(self) -> Option<&'static str> {
        match self {
            Self::MedullaServers => Some("medulla_servers"),
            Self::Workstations => Some("workstations"),
            Self::Any => None,
        }
    }
}

impl Flow {
    pub const ALL: [Flow; 6] = [
        Flow::ServerToRelay,
        Flow::RelayToServer,
        Flow::WorkstationToRelay,
        Flow::RelayToWorkstation,
        Flow::ExternalToRelay,
        Flow::RelayToInternet,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ServerToRelay => "server_to_relay",
            Self::RelayToServer => "relay_to_server",
            Self::WorkstationToRelay => "workstation_to_relay",
            Self::RelayToWorkstation => "relay_to_workstation",
            Self::ExternalToRelay => "external_to_relay",
            Self::RelayToInternet => "relay_to_internet",
        }
    }

    /// Which way the flow goes, for a reader: `server -> relay`.
    pub fn direction(self) -> &'static str {
        match self {
            Self::ServerToRelay => "server -> relay",
            Self::RelayToServer => "relay -> server",
            Self::WorkstationToRelay => "workstation -> relay",
            Self::RelayToWorkstation => "relay -> workstation",
            Self::ExternalToRelay => "external -> relay",
            Self::RelayToInternet => "relay -> internet",
        }
    }

    /// The flow named as inventories write it (`server_to_relay`, ...).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|flow| flow.as_str() == name)
    }

    /// Whether the relay is the destination (the input chain) rather than the source (output).
    pub fn is_inbound(self) -> bool {
        matches!(
            self,
            Self::ServerToRelay | Self::WorkstationToRelay | Self::ExternalToRelay
        )
    }

    pub fn peer(self) -> Peer {
        match self {
            Self::ServerToRelay | Self::RelayToServer => Peer::MedullaServers,
            Self::WorkstationToRelay | Self::RelayToWorkstation => Peer::Workstations,
            Self::ExternalToRelay | Self::RelayToInternet => Peer::Any,
        }
    }
}

impl fmt::Display for Flow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One row of the matrix: a port (range) and protocol one flow needs on some relay types.
/// Purpose and source are borrowed for the built-in rows and owned for the inventory's
/// `relay_firewall_extra_ports`, so that both live in one list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortRule {
    pub relay_types: &'static [RelayType],
    pub flow: Flow,
    pub protocol: Protocol,
    pub ports: PortRange,
    pub purpose: Cow<'static, str>,
    pub source: Cow<'static, str>,
    /// False for ports Medulla's code uses that no seed lists (`relay_firewall_undocumented_ports`).
    pub documented: bool,
}

impl PortRule {
    /// The rule's nft comment. nft keeps at most 128 bytes of it.
    pub fn comment(&self) -> String {
        format!("{} ({})", self.purpose, self.source)
    }
}

/// nft stores a rule comment of at most this many bytes (NFT_USERDATA_MAXLEN).
pub const COMMENT_MAX_BYTES: usize = 128;

/// The port of the relay's inbound SSH rows in the seeds; `relay_ssh_port` replaces it (seed
/// 004 "Change the SSH port between Server and Client").
pub const SSH_PORT: u16 = 22;

const CLASSIC: &[RelayType] = &[RelayType::Classic];
const DMZ: &[RelayType] = &[RelayType::Dmz];
/// Both relay types: the relay → internet rows, and the inventory's extra ports.
pub const EVERY_RELAY_TYPE: &[RelayType] = &[RelayType::Classic, RelayType::Dmz];

const fn row(
    relay_types: &'static [RelayType],
    flow: Flow,
    protocol: Protocol,
    ports: PortRange,
    purpose: &'static str,
    source: &'static str,
) -> PortRule {
    PortRule {
        relay_types,
        flow,
        protocol,
        ports,
        purpose: Cow::Borrowed(purpose),
        source: Cow::Borrowed(source),
        documented: true,
    }
}

/// A port Medulla's code uses although no seed lists it.
const fn undocumented(
    relay_types: &'static [RelayType],
    flow: Flow,
    ports: PortRange,
    purpose: &'static str,
    source: &'static str,
) -> PortRule {
    let mut rule = row(relay_types, flow, Protocol::Tcp, ports, purpose, source);
    rule.documented = false;
    rule
}

const fn port(number: u16) -> PortRange {
    PortRange::single(number)
}

/// Every row of MEDULLA_FACTS.md's port matrix, in the order the ruleset lists them.
// One row per line, like the seeds' tables.
#[rustfmt::skip]
pub static MATRIX: &[PortRule] = &[
    // --- classic relay: Medulla server -> relay (S000 = PROC 4.1) --------------------------
    row(CLASSIC, ServerToRelay, Tcp, port(SSH_PORT), "SSH, Medulla remote operations", "S000; PROC 4.1; FC"),
    row(CLASSIC, ServerToRelay, Tcp, port(5269), "XMPP server-to-server", "S000; PROC 4.1; FC"),
    row(CLASSIC, ServerToRelay, Tcp, port(8081), "Tomcat/Guacamole remote control", "S000; PROC 4.1"),
    row(CLASSIC, ServerToRelay, Tcp, port(9990), "package server, imaging API, HTTPS XML-RPC", "S000; PROC 4.1; FC"),
    row(CLASSIC, ServerToRelay, Tcp, port(22000), "Syncthing", "S000; PROC 4.1"),
    // The main server's Apache proxies /syncthing-<relay>/ to http://<relay>/syncthing/.
    undocumented(CLASSIC, ServerToRelay, port(80), "Syncthing GUI proxy", "code: integration roles/syncthing"),
    undocumented(CLASSIC, ServerToRelay, port(5555), "agent log websocket", "code: medulla-agent"),
    // --- classic relay: relay -> Medulla server (S000 = PROC 4.2) --------------------------
    row(CLASSIC, RelayToServer, Tcp, port(22), "SSH", "S000; PROC 4.2; FC"),
    row(CLASSIC, RelayToServer, Tcp, port(5269), "XMPP server-to-server", "S000; PROC 4.2; FC"),
    row(CLASSIC, RelayToServer, Tcp, port(7080), "mmc-agent XML-RPC", "S000; PROC 4.2"),
    row(CLASSIC, RelayToServer, Tcp, port(8443), "Syncthing discovery", "S000; PROC 4.2"),
    row(CLASSIC, RelayToServer, Tcp, port(9999), "inventory server", "S000; PROC 4.2"),
    row(CLASSIC, RelayToServer, Tcp, port(22067), "Syncthing relay", "S000; PROC 4.2"),
    row(CLASSIC, RelayToServer, Tcp, port(22000), "Syncthing", "S000; PROC 4.2"),
    // --- classic relay: workstation -> relay (S000 = FC) -----------------------------------
    row(CLASSIC, WorkstationToRelay, Tcp, port(SSH_PORT), "SSH", "S000; FC"),
    // The seeds write "69/69 (UDP)": read as 67/69 (see the module comment).
    row(CLASSIC, WorkstationToRelay, Udp, port(67), "DHCP for PXE boot", "S000, 69/69 read as 67/69"),
    // TFTP replies come from an ephemeral port: the ruleset's conntrack helper relates them.
    row(CLASSIC, WorkstationToRelay, Udp, port(69), "TFTP for PXE boot", "S000; FC"),
    row(CLASSIC, WorkstationToRelay, Tcp, port(80), "HTTP", "S000; FC"),
    row(CLASSIC, WorkstationToRelay, Tcp, port(443), "HTTPS", "S000; FC"),
    row(CLASSIC, WorkstationToRelay, Tcp, port(111), "rpcbind for NFS", "S000; FC"),
    row(CLASSIC, WorkstationToRelay, Udp, port(111), "rpcbind for NFS", "S000; FC"),
    row(CLASSIC, WorkstationToRelay, Tcp, port(2049), "NFS", "S000; FC"),
    row(CLASSIC, WorkstationToRelay, Udp, port(2049), "NFS", "S000; FC"),
    row(CLASSIC, WorkstationToRelay, Tcp, port(5222), "XMPP, Medulla agents", "S000; FC"),
    row(CLASSIC, WorkstationToRelay, Tcp, port(9990), "package server", "S000; FC"),
    // --- classic relay: relay -> workstation (S000 = FC) -----------------------------------
    // UDP although the seeds' legend would make it TCP (see the module comment).
    row(CLASSIC, RelayToWorkstation, Udp, port(9), "Wake-on-LAN", "S000; FC; UDP as in code"),
    row(CLASSIC, RelayToWorkstation, Tcp, port(22), "SSH", "S000; FC"),
    row(CLASSIC, RelayToWorkstation, Tcp, port(3389), "RDP remote control", "S000; FC"),
    row(CLASSIC, RelayToWorkstation, Tcp, port(5900), "VNC remote control", "S000; FC"),
    // --- DMZ relay: Medulla server -> relay (S000; FC stops at 4370-4380) ------------------
    row(DMZ, ServerToRelay, Tcp, port(SSH_PORT), "SSH, Medulla remote operations", "S000; FC"),
    row(DMZ, ServerToRelay, Tcp, port(4369), "epmd, ejabberd cluster", "S000; FC"),
    row(DMZ, ServerToRelay, Tcp, PortRange::range(4370, 4380), "ejabberd cluster", "S000; FC"),
    row(DMZ, ServerToRelay, Tcp, port(5269), "XMPP server-to-server", "S000"),
    row(DMZ, ServerToRelay, Tcp, port(8081), "Tomcat/Guacamole remote control", "S000"),
    row(DMZ, ServerToRelay, Tcp, port(22000), "Syncthing", "S000"),
    // --- DMZ relay: relay -> Medulla server (S000; FC stops at 4370-4380) ------------------
    row(DMZ, RelayToServer, Tcp, port(22), "SSH", "S000; FC"),
    row(DMZ, RelayToServer, Tcp, port(4369), "epmd, ejabberd cluster", "S000; FC"),
    row(DMZ, RelayToServer, Tcp, PortRange::range(4370, 4380), "ejabberd cluster", "S000; FC"),
    row(DMZ, RelayToServer, Tcp, port(5269), "XMPP server-to-server", "S000"),
    row(DMZ, RelayToServer, Tcp, port(7080), "mmc-agent XML-RPC", "S000"),
    row(DMZ, RelayToServer, Tcp, port(8443), "Syncthing discovery", "S000"),
    row(DMZ, RelayToServer, Tcp, port(9999), "inventory server", "S000"),
    row(DMZ, RelayToServer, Tcp, port(22067), "Syncthing relay", "S000"),
    row(DMZ, RelayToServer, Tcp, port(22000), "Syncthing", "S000"),
    // --- DMZ relay: external host -> relay (S000 = FC; FLUX §4) ----------------------------
    row(DMZ, ExternalToRelay, Tcp, port(SSH_PORT), "SSH from mobile clients", "S000; FC; FLUX 4"),
    row(DMZ, ExternalToRelay, Tcp, port(5222), "XMPP from mobile agents", "S000; FC; FLUX 4"),
    // --- any relay: relay -> internet, rendered only when output is filtered ------------------
    // No seed lists DNS, but everything else outbound goes by name: medulla_server_addresses
    // may be DNS names (DMZ relays rely on split-horizon DNS, seed 004 "DNS and Medulla Relay
    // views"), and so are apt mirrors and NTP servers. TCP too: truncated and large answers.
    row(EVERY_RELAY_TYPE, RelayToInternet, Udp, port(53), "DNS", "relayctl: servers, mirrors, NTP by name"),
    row(EVERY_RELAY_TYPE, RelayToInternet, Tcp, port(53), "DNS, large answers", "relayctl: servers, mirrors, NTP by name"),
    row(EVERY_RELAY_TYPE, RelayToInternet, Udp, port(123), "NTP", "MEDULLA_FACTS"),
    // SIVEO installs the relay's packages with apt (PROC step 6, their Ansible).
    row(EVERY_RELAY_TYPE, RelayToInternet, Tcp, port(80), "apt mirrors", "MEDULLA_FACTS; PROC 6"),
    row(EVERY_RELAY_TYPE, RelayToInternet, Tcp, port(443), "apt mirrors", "MEDULLA_FACTS; PROC 6"),
];

/// What the dedicated-SaaS procedure adds to the rows of a relay type: PROC 4.1/4.2 list their
/// flows for any relay added to a dedicated-SaaS platform, without a relay type, and S000's DMZ
/// table lacks one of them (PROC 4.2 has nothing S000 lacks).
// One row per line, like the seeds' tables.
#[rustfmt::skip]
pub static DEDICATED_SAAS: &[PortRule] = &[
    row(DMZ, ServerToRelay, Tcp, port(9990), "XML-RPC HTTPS", "PROC 4.1, dedicated SaaS: any relay"),
];

/// The rows of `relay_type` for `offer`, in the ruleset's order: the matrix's, and for a
/// dedicated-SaaS platform what PROC adds, each after the last matrix row of its flow.
pub fn rows(relay_type: RelayType, offer: MedullaOffer) -> Vec<PortRule> {
    let of_type = |row: &&PortRule| row.relay_types.contains(&relay_type);
    let mut rows: Vec<PortRule> = MATRIX.iter().filter(of_type).cloned().collect();
    if offer == MedullaOffer::DedicatedSaas {
        for added in DEDICATED_SAAS.iter().filter(of_type) {
            let at = rows
                .iter()
                .rposition(|row| row.flow == added.flow)
                .map_or(rows.len(), |last| last + 1);
            rows.insert(at, added.clone());
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows_of(relay_type: RelayType) -> impl Iterator<Item = &'static PortRule> {
        MATRIX
            .iter()
            .filter(move |rule| rule.relay_types.contains(&relay_type))
    }

    #[test]
    fn no_port_is_listed_twice_for_one_relay_type_flow_and_protocol() {
        for relay_type in [RelayType::Classic, RelayType::Dmz] {
            let rows: Vec<&PortRule> = rows_of(relay_type).collect();
            for (i, a) in rows.iter().enumerate() {
                for b in &rows[i + 1..] {
                    assert!(
                        !(a.flow == b.flow
                            && a.protocol == b.protocol
                            && a.ports.overlaps(b.ports)),
                        "{relay_type} {} {}/{} is listed twice",
                        a.flow,
                        a.ports,
                        a.protocol
                    );
                }
            }
        }
    }

    #[test]
    fn every_row_says_what_it_is_for_and_where_it_comes_from() {
        for rule in MATRIX {
            assert!(!rule.purpose.trim().is_empty(), "{rule:?}");
            assert!(!rule.source.trim().is_empty(), "{rule:?}");
            assert!(!rule.relay_types.is_empty(), "{rule:?}");
            // Undocumented ports stand on Medulla's code alone, and say so.
            assert_eq!(
                rule.documented,
                !rule.source.starts_with("code:"),
                "{rule:?}"
            );
        }
    }

    #[test]
    fn comments_fit_in_an_nft_comment_and_need_no_escaping() {
        for rule in MATRIX {
            let comment = rule.comment();
            assert!(comment.len() <= COMMENT_MAX_BYTES, "{comment}");
            assert!(
                !comment.contains('"') && !comment.contains('\\'),
                "{comment}"
            );
        }
    }

    #[test]
    fn dmz_relays_do_no_imaging() {
        for rule in rows_of(RelayType::Dmz) {
            for imaging in [9990, 69, 67, 2049, 111] {
                assert!(
                    !rule.ports.overlaps(PortRange::single(imaging)),
                    "a DMZ relay opens {imaging}: {rule:?}"
                );
            }
            assert_ne!(rule.flow.peer(), Peer::Workstations, "{rule:?}");
        }
    }

    #[test]
    fn a_dedicated_saas_dmz_relay_gets_9990_from_the_server_as_proc_4_1_lists() {
        let server_ports = |offer| -> Vec<String> {
            rows(RelayType::Dmz, offer)
                .iter()
                .filter(|r| r.flow == Flow::ServerToRelay)
                .map(|r| r.ports.to_string())
                .collect()
        };
        assert_eq!(
            server_ports(MedullaOffer::OnPremise),
            ["22", "4369", "4370-4380", "5269", "8081", "22000"]
        );
        assert_eq!(
            server_ports(MedullaOffer::DedicatedSaas),
            ["22", "4369", "4370-4380", "5269", "8081", "22000", "9990"]
        );
        let saas = rows(RelayType::Dmz, MedullaOffer::DedicatedSaas);
        let at = saas.iter().position(|r| r.ports == PortRange::single(9990));
        assert_eq!(
            saas.get(at.unwrap_or(0) + 1).map(|r| r.flow),
            Some(Flow::RelayToServer),
            "the added row sits with its flow"
        );
        assert!(saas.iter().any(|r| r.source.starts_with("PROC 4.1")));
        // A classic relay already has every PROC row.
        assert_eq!(
            rows(RelayType::Classic, MedullaOffer::DedicatedSaas),
            rows(RelayType::Classic, MedullaOffer::OnPremise)
        );
    }

    #[test]
    fn ranges_are_valid() {
        for rule in MATRIX {
            assert!(rule.ports.first >= 1, "{rule:?}");
            assert!(rule.ports.first <= rule.ports.last, "{rule:?}");
        }
    }

    #[test]
    fn the_seed_typo_and_the_legend_are_resolved_as_documented() {
        let classic = |flow, protocol, number| {
            rows_of(RelayType::Classic).any(|r| {
                r.flow == flow && r.protocol == protocol && r.ports == PortRange::single(number)
            })
        };
        assert!(classic(Flow::WorkstationToRelay, Protocol::Udp, 67));
        assert!(classic(Flow::WorkstationToRelay, Protocol::Udp, 69));
        assert!(classic(Flow::RelayToWorkstation, Protocol::Udp, 9));
        assert!(!classic(Flow::RelayToWorkstation, Protocol::Tcp, 9));
    }

    #[test]
    fn saas_platform_ports_are_not_relay_ports() {
        for rule in MATRIX {
            for platform in [2002, 55415] {
                assert!(!rule.ports.overlaps(PortRange::single(platform)));
            }
        }
    }

    #[test]
    fn port_ranges_parse_and_display_as_nft_writes_them() {
        assert_eq!(PortRange::parse("8080"), Ok(PortRange::single(8080)));
        assert_eq!(
            PortRange::parse("4000-4010"),
            Ok(PortRange::range(4000, 4010))
        );
        assert_eq!(PortRange::range(4370, 4380).to_string(), "4370-4380");
        assert_eq!(PortRange::single(5269).to_string(), "5269");
        assert_eq!(
            PortRange::parse("4010-4000"),
            Err(
                "4010-4000 is not a range: its first port is higher than its last; write 4000-4010"
                    .into()
            )
        );
        assert_eq!(
            PortRange::parse("70000"),
            Err("70000 is not a port number (1-65535)".into())
        );
        assert_eq!(
            PortRange::parse("http"),
            Err("expected a port (1-65535) or a range FIRST-LAST, found \"http\"".into())
        );
    }

    #[test]
    fn flows_are_named_as_inventories_write_them() {
        for flow in Flow::ALL {
            assert_eq!(Flow::from_name(flow.as_str()), Some(flow));
            assert_eq!(
                serde_json::to_value(flow).unwrap(),
                serde_json::json!(flow.as_str())
            );
        }
    }
}
