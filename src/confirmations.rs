//! The confirmations a customer hands back to SIVEO for each relay (seed 004, "Procedure for
//! adding relays to Medulla Dedicated SaaS", step 5), each from what was verified on the relay,
//! not from what the inventory says, and a READY / NOT READY verdict with its reasons.
//!
//! The five items, in the procedure's order: the ITSM entity (a manual step in ITSM), the ports
//! opened (the flow checks), the SSH key added (as SIVEO will log in: `ssh_key.rs`), the medulla
//! password with passwordless sudo (`sudo -n true` as medulla; where the password file is, never
//! the password), the relay's FQDN (`hostname -f`, and that it leads to the relay).
//!
//! - `item.rs`: one item and its status;
//! - `access.rs`: the access probe, run beside the flow checks, and what it found;
//! - `sshd.rs`: sshd's effective configuration, and what in it would refuse SIVEO;
//! - `ssh_key.rs`: item 3 from those;
//! - `installation.rs`: what SIVEO's installation needs next besides the five items (the
//!   workstation networks, the limits its pre-install check expects, the clock).

mod access;
mod installation;
mod item;
mod ssh_key;
mod sshd;

use serde::Serialize;

pub use self::access::{AccessFacts, Source, parse as parse_access, probe as access_probe};
pub use self::installation::{CheckOutcome, ExpectedLimits, InstallationCheck};
pub use self::item::{Confirmation, ConfirmationStatus};
pub use self::ssh_key::key_fingerprint;

/// Why SIVEO would not reach sshd on `port`, from where it really listens (see
/// [`sshd::listening_problem`]).
pub fn sshd_listening_problem(facts: &Facts, port: u16) -> Option<String> {
    sshd::listening_problem(facts, port, &[])
}
use crate::facts::{Backend, Facts, FirewallFacts};
use crate::flows::{FlowOutcome, FlowResult};
use crate::inventory::RelaySettings;
use crate::medulla::port_matrix::Flow;
use crate::preflight;
use crate::sizing::SizingReport;

/// A relay's confirmations and verdict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Confirmations {
    /// READY: every verifiable item confirmed, sizing passed, no task failed.
    pub ready: bool,
    /// The verdict in one line, with the count of the flows left to Medulla:
    /// `READY, 6 flows left to Medulla`.
    pub verdict: String,
    /// Why not ready (empty when ready).
    pub reasons: Vec<String>,
    /// What the verdict rests on without having verified it here, each with who verifies it:
    /// flows not tried (left to Medulla, no peer to start from, UDP), a name the relay resolves
    /// from /etc/hosts, limits this login could not see.
    pub not_verified: Vec<String>,
    pub items: Vec<Confirmation>,
    /// What SIVEO's installation needs next besides PROC step 5's items.
    pub installation_checks: Vec<InstallationCheck>,
    /// Flows only Medulla can test (its server is not the customer's): listed for SIVEO.
    pub to_confirm_by_medulla: Vec<String>,
    /// Where the Medulla server's flows to the relay are admitted from: its addresses as
    /// resolved here, and `medulla_server_source_addresses`, each saying which.
    pub server_sources: Vec<String>,
}

/// Everything the verdict is made from.
pub struct Inputs<'a> {
    pub relay: &'a RelaySettings,
    pub user: &'a str,
    pub facts: &'a Facts,
    pub sizing: &'a SizingReport,
    /// Why the host failed (a task, sizing), if it did.
    pub failure: Option<&'a str>,
    pub flows: &'a [FlowResult],
    /// The account as found on the relay, or why it could not be read.
    pub access: Result<AccessFacts, String>,
    /// Where the medulla password is kept on the controller ("the file PATH", "$VAR").
    pub password_source: Option<String>,
    /// Where the Medulla server connects from, as admitted (see [`Confirmations::server_sources`]).
    pub server_sources: Vec<String>,
    /// The limits SIVEO's pre-install check expects.
    pub expected_limits: &'a ExpectedLimits,
}

/// The five items and the verdict.
pub fn confirm(inputs: &Inputs) -> Confirmations {
    let items = vec![
        itsm_entity(inputs.relay),
        ports(inputs.flows, inputs.facts.firewall.as_ref()),
        ssh_key::confirm(inputs.relay, inputs.user, inputs.facts, &inputs.access),
        medulla_access(inputs),
        fqdn(inputs.relay, inputs.facts),
    ];
    let mut reasons = Vec::new();
    if !inputs.sizing.passed() {
        reasons.push(format!(
            "sizing failed: {}",
            crate::sizing::describe_all(inputs.sizing.failures())
        ));
    }
    if let Some(failure) = inputs.failure
        && inputs.sizing.passed()
    {
        reasons.push(failure.to_string());
    }
    for item in &items {
        if item.status == ConfirmationStatus::NotConfirmed {
            reasons.push(format!("{}: {}", item.title, item.summary));
        }
    }
    let mut installation_checks: Vec<InstallationCheck> = installation::workstations(inputs.relay)
        .into_iter()
        .collect();
    if let Ok(access) = &inputs.access {
        installation_checks.push(installation::limits(
            inputs.user,
            inputs.expected_limits,
            access,
        ));
        installation_checks.push(installation::time(access));
    }
    for check in &installation_checks {
        if check.status == CheckOutcome::Failed {
            reasons.push(format!("{}: {}", check.title, check.summary));
        }
    }
    let to_confirm_by_medulla: Vec<String> = inputs
        .flows
        .iter()
        .filter(|f| f.result == FlowOutcome::ToConfirm)
        .map(FlowResult::describe)
        .collect();
    let mut not_verified = flows_not_tried(inputs.flows);
    if !inputs.facts.fqdn_hosts_file.is_empty() {
        not_verified.push(
            "the FQDN as the Medulla server's DNS resolves it (the relay has it from \
             /etc/hosts): SIVEO verifies it"
                .to_string(),
        );
    }
    // The limits check warns only for what this login cannot see (see installation::limits).
    for check in &installation_checks {
        match (check.key, check.status, &inputs.access) {
            ("limits", CheckOutcome::Warning, _) => not_verified.push(format!(
                "the core-dump limits of {} (capped for this login): SIVEO's pre-install check \
                 verifies them",
                inputs.user
            )),
            ("time", _, Ok(access)) if access.time_synchronized.is_none() => {
                not_verified.push("whether the clock is synchronised".to_string());
            }
            _ => {}
        }
    }
    let mut confirmations = Confirmations {
        ready: false,
        verdict: String::new(),
        reasons,
        not_verified,
        items,
        installation_checks,
        to_confirm_by_medulla,
        server_sources: inputs.server_sources.clone(),
    };
    confirmations.conclude();
    confirmations
}

/// The flows that were not tried from here, grouped by direction and why, in plan order:
/// `server -> relay tcp/22, tcp/5269: to be confirmed by Medulla (the Medulla server is not in
/// the inventory: SIVEO tests this flow)`.
fn flows_not_tried(flows: &[FlowResult]) -> Vec<String> {
    // Which way, how it ended, why: the flows of one group differ by their ports alone.
    type Group<'a> = (Flow, FlowOutcome, Option<&'a str>);
    let mut groups: Vec<(Group, Vec<String>)> = Vec::new();
    for flow in flows.iter().filter(|f| f.passed().is_none()) {
        let key = (flow.flow, flow.result, flow.detail.as_deref());
        let port = format!("{}/{}", flow.protocol, flow.port);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, ports)) => {
                if !ports.contains(&port) {
                    ports.push(port);
                }
            }
            None => groups.push((key, vec![port])),
        }
    }
    groups
        .into_iter()
        .map(|((flow, outcome, detail), ports)| {
            let mut text = format!(
                "{} {}: {}",
                flow.direction(),
                ports.join(", "),
                outcome.as_str()
            );
            if let Some(detail) = detail {
                text.push_str(&format!(" ({detail})"));
            }
            text
        })
        .collect()
}

impl Confirmations {
    /// Another relay of the run gives the same FQDN (`why` says which): item 5 is not
    /// confirmed, and the relay is not ready.
    pub fn fqdn_shared(&mut self, why: &str) {
        for item in self.items.iter_mut().filter(|item| item.key == "fqdn") {
            item.status = ConfirmationStatus::NotConfirmed;
            item.summary = why.to_string();
            self.reasons.push(format!("{}: {why}", item.title));
        }
        self.conclude();
    }

    /// The verdict from the reasons: READY when there is none, and the line that says it,
    /// `READY, 6 flows left to Medulla` (the count said even when it is 0, so that a reader
    /// never has to wonder whether the server's side was tried).
    fn conclude(&mut self) {
        self.ready = self.reasons.is_empty();
        let left = self.to_confirm_by_medulla.len();
        self.verdict = format!(
            "{}, {left} flow{} left to Medulla",
            if self.ready { "READY" } else { "NOT READY" },
            if left == 1 { "" } else { "s" }
        );
    }
}

fn itsm_entity(relay: &RelaySettings) -> Confirmation {
    let summary = match &relay.itsm_entity {
        Some(entity) => format!("{entity}: attach the relay to this entity in ITSM"),
        None => "the parent entity (itsm_entity is not set): nothing to send".to_string(),
    };
    Confirmation::new(
        1,
        "itsm_entity",
        "ITSM entity",
        ConfirmationStatus::Manual,
        summary,
        vec!["not verifiable on the relay: a step to do in ITSM".into()],
    )
}

/// Item 2: confirmed only when every flow a connection can test was tried, in both directions,
/// and works. What could not be tried from here (the server's side when the Medulla server is
/// not in the inventory, the workstations' when none is) makes it partly confirmed, never
/// confirmed; a failing flow, not confirmed. The details say what filters on the relay.
fn ports(flows: &[FlowResult], firewall: Option<&FirewallFacts>) -> Confirmation {
    let count = |outcome: FlowOutcome| flows.iter().filter(|f| f.result == outcome).count();
    let failing: Vec<&FlowResult> = flows.iter().filter(|f| f.passed() == Some(false)).collect();
    let confirmed: Vec<&FlowResult> = flows.iter().filter(|f| f.passed() == Some(true)).collect();
    let inbound = confirmed.iter().filter(|f| f.flow.is_inbound()).count();
    let (to_medulla, not_checked) = (
        count(FlowOutcome::ToConfirm),
        count(FlowOutcome::NotChecked),
    );
    let untestable = match count(FlowOutcome::NotTestable) {
        0 => String::new(),
        n => format!("; {n} UDP flow(s) not testable by connect"),
    };
    let tried = format!(
        "{} flow(s) confirmed ({inbound} to the relay, {} from it)",
        confirmed.len(),
        confirmed.len() - inbound
    );
    let (status, summary) = if flows.is_empty() {
        (
            ConfirmationStatus::NotConfirmed,
            "no flow was checked".to_string(),
        )
    } else if !failing.is_empty() {
        let ports: Vec<String> = failing
            .iter()
            .map(|f| format!("{}/{}", f.protocol, f.port))
            .collect();
        (
            ConfirmationStatus::NotConfirmed,
            format!("{} flow(s) failing: {}", failing.len(), ports.join(", ")),
        )
    } else if to_medulla + not_checked > 0 || inbound == 0 {
        let mut untried = Vec::new();
        if to_medulla > 0 {
            untried.push(format!("{to_medulla} left to Medulla"));
        }
        if not_checked > 0 {
            untried.push(format!("{not_checked} not checked"));
        }
        if untried.is_empty() {
            untried.push("none to the relay".to_string());
        }
        (
            ConfirmationStatus::PartlyConfirmed,
            format!(
                "{tried}; not tried from here: {}{untestable}",
                untried.join(", ")
            ),
        )
    } else {
        (
            ConfirmationStatus::Confirmed,
            format!("{tried}{untestable}"),
        )
    };
    let mut details: Vec<String> = failing
        .iter()
        .map(|f| format!("{}: {}", f.describe(), f.result_text()))
        .collect();
    details.extend(flows_not_tried(flows));
    // The flow checks read the firewall with the facts; said when it was read.
    if let Some(firewall) = firewall {
        details.push(format!(
            "what filters on the relay (before this run): {}",
            match firewall.backend {
                Backend::Ufw => "ufw, where relayctl opens the flows as rules of its own",
                Backend::Firewalld =>
                    "firewalld, where relayctl opens the flows in policies of its own",
                Backend::Nftables => "no other firewall; relayctl's own table, inet medulla_relay",
            }
        ));
    }
    Confirmation::new(2, "ports", "Ports opened", status, summary, details)
}

fn medulla_access(inputs: &Inputs) -> Confirmation {
    let title = "medulla password and passwordless sudo";
    let user = inputs.user;
    let mut details = Vec::new();
    if let Ok(access) = &inputs.access
        && access.user_exists
    {
        details.push(format!(
            "the account: {user}, uid {}, home {}, groups {}",
            access.uid,
            access.home,
            access.groups.join(" ")
        ));
    }
    if let Some(source) = &inputs.password_source {
        details.push(format!("the password to send SIVEO out of band: {source}"));
    }
    let (status, summary) = match &inputs.access {
        Err(e) => (
            ConfirmationStatus::NotConfirmed,
            format!("cannot read the relay: {e}"),
        ),
        Ok(access) if !access.user_exists => (
            ConfirmationStatus::NotConfirmed,
            format!("no user {user} on the relay"),
        ),
        Ok(access) => match (&access.sudo, access.password.as_str()) {
            (Ok(()), "set") => (
                ConfirmationStatus::Confirmed,
                format!("{user} has a password, and `sudo -n true` as {user} works"),
            ),
            (Ok(()), state) => (
                ConfirmationStatus::NotConfirmed,
                format!("`sudo -n true` as {user} works, but its password is {state}"),
            ),
            (Err(e), _) => (
                ConfirmationStatus::NotConfirmed,
                format!("`sudo -n true` as {user} failed: {e}"),
            ),
        },
    };
    Confirmation::new(4, "medulla_access", title, status, summary, details)
}

fn fqdn(relay: &RelaySettings, facts: &Facts) -> Confirmation {
    let title = "Relay FQDN";
    let (status, summary) = match (&facts.fqdn, &relay.relay_fqdn) {
        (None, _) => (
            ConfirmationStatus::NotConfirmed,
            "`hostname -f` gives no name".to_string(),
        ),
        (Some(found), Some(expected))
            if found.trim_end_matches('.') != expected.trim_end_matches('.') =>
        {
            (
                ConfirmationStatus::NotConfirmed,
                format!("`hostname -f` gives {found}, the inventory says {expected}"),
            )
        }
        (Some(found), _) if !found.contains('.') => (
            ConfirmationStatus::NotConfirmed,
            format!("`hostname -f` gives {found}, not a fully qualified name"),
        ),
        (Some(found), _) if !facts.fqdn_resolves => (
            ConfirmationStatus::NotConfirmed,
            format!("{found} does not resolve on the relay"),
        ),
        (Some(_), _) if let Some(problem) = preflight::fqdn_not_the_host(facts) => {
            (ConfirmationStatus::NotConfirmed, problem)
        }
        (Some(found), _) => (
            ConfirmationStatus::Confirmed,
            format!(
                "{found} (resolves on the relay to {}, its own address)",
                preflight::list(&facts.fqdn_own_addresses())
            ),
        ),
    };
    // What the relay resolves is not what SIVEO's servers will: a hosts line is said so.
    let details = if facts.fqdn_hosts_file.is_empty() {
        Vec::new()
    } else {
        vec![format!(
            "the relay has it from /etc/hosts ({}): the Medulla server resolves it with its own \
             DNS, which relayctl cannot query; SIVEO verifies it",
            facts.fqdn_hosts_file.join(", ")
        )]
    };
    Confirmation::new(5, "fqdn", title, status, summary, details)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::SizingProfile;
    use crate::medulla::port_matrix::Protocol;
    use crate::medulla::{MedullaOffer, RelayType};
    use crate::testing;

    const NOT_IN_INVENTORY: &str =
        "the Medulla server is not in the inventory: SIVEO tests this flow";

    fn flow(flow: Flow, protocol: Protocol, port: u16, result: FlowOutcome) -> FlowResult {
        FlowResult {
            flow,
            protocol,
            port,
            from: "a".into(),
            to: "b".into(),
            address: "192.0.2.11".into(),
            purpose: "p".into(),
            source: "S000".into(),
            result,
            detail: match result {
                FlowOutcome::ToConfirm => Some(NOT_IN_INVENTORY.into()),
                FlowOutcome::NotTestable => Some("UDP: a connect proves nothing".into()),
                FlowOutcome::NotChecked => {
                    Some("no host in the inventory's workstations group".into())
                }
                _ => None,
            },
            elapsed_ms: None,
            listener: None,
        }
    }

    /// A dedicated-SaaS relay's flows as the customer can check them: the Medulla server is
    /// SIVEO's, so only the relay's own connections to it and the workstations' are tried.
    fn saas_flows() -> Vec<FlowResult> {
        use FlowOutcome::*;
        vec![
            flow(Flow::ServerToRelay, Protocol::Tcp, 22, ToConfirm),
            flow(Flow::ServerToRelay, Protocol::Tcp, 5269, ToConfirm),
            flow(Flow::RelayToServer, Protocol::Tcp, 5269, Open),
            flow(Flow::RelayToServer, Protocol::Tcp, 7080, Open),
            flow(Flow::WorkstationToRelay, Protocol::Tcp, 5222, Open),
            flow(Flow::WorkstationToRelay, Protocol::Udp, 69, NotTestable),
        ]
    }

    #[test]
    fn ports_are_never_confirmed_when_the_server_s_flows_were_not_tried() {
        let item = ports(&saas_flows(), testing::facts().firewall.as_ref());
        assert_eq!(item.status, ConfirmationStatus::PartlyConfirmed);
        assert_eq!(
            item.summary,
            "3 flow(s) confirmed (1 to the relay, 2 from it); not tried from here: 2 left to \
             Medulla; 1 UDP flow(s) not testable by connect"
        );
        assert_eq!(
            item.details,
            [
                format!(
                    "server -> relay tcp/22, tcp/5269: to be confirmed by Medulla ({NOT_IN_INVENTORY})"
                ),
                "workstation -> relay udp/69: not testable by connect (UDP: a connect proves \
                 nothing)"
                    .to_string(),
                "what filters on the relay (before this run): no other firewall; relayctl's own \
                 table, inet medulla_relay"
                    .to_string(),
            ]
        );
        // Outbound flows alone, even with nothing else planned, confirm nothing to the relay.
        let outbound = &saas_flows()[2..4];
        let item = ports(outbound, testing::facts().firewall.as_ref());
        assert_eq!(item.status, ConfirmationStatus::PartlyConfirmed);
        assert!(
            item.summary
                .ends_with("not tried from here: none to the relay")
        );
    }

    #[test]
    fn ports_are_confirmed_when_both_directions_work_and_not_when_a_flow_fails() {
        let mut flows = saas_flows();
        for f in flows
            .iter_mut()
            .filter(|f| f.result == FlowOutcome::ToConfirm)
        {
            f.result = FlowOutcome::Open;
            f.detail = None;
        }
        let item = ports(&flows, testing::facts().firewall.as_ref());
        assert_eq!(
            (item.status, item.summary.as_str()),
            (
                ConfirmationStatus::Confirmed,
                "5 flow(s) confirmed (3 to the relay, 2 from it); 1 UDP flow(s) not testable by \
                 connect"
            )
        );
        // No workstation to start from: its flows are not tried, and said so.
        flows[4] = flow(
            Flow::WorkstationToRelay,
            Protocol::Tcp,
            5222,
            FlowOutcome::NotChecked,
        );
        let item = ports(&flows, testing::facts().firewall.as_ref());
        assert_eq!(item.status, ConfirmationStatus::PartlyConfirmed);
        assert!(item.summary.contains("not tried from here: 1 not checked"));
        flows[3].result = FlowOutcome::Filtered;
        let item = ports(&flows, testing::facts().firewall.as_ref());
        assert_eq!(
            (item.status, item.summary.as_str()),
            (
                ConfirmationStatus::NotConfirmed,
                "1 flow(s) failing: tcp/7080"
            )
        );
        assert_eq!(
            ports(&[], testing::facts().firewall.as_ref()).status,
            ConfirmationStatus::NotConfirmed
        );
    }

    #[test]
    fn the_verdict_line_counts_the_flows_left_to_medulla_and_says_what_was_not_verified() {
        // The verdict line as concluded from so many reasons and flows left to Medulla.
        let verdict = |reasons: usize, left: usize| {
            let mut concluded = Confirmations {
                ready: false,
                verdict: String::new(),
                reasons: vec!["a reason".into(); reasons],
                not_verified: Vec::new(),
                items: Vec::new(),
                installation_checks: Vec::new(),
                to_confirm_by_medulla: vec!["a flow".into(); left],
                server_sources: Vec::new(),
            };
            concluded.conclude();
            (concluded.ready, concluded.verdict)
        };
        assert_eq!(
            verdict(0, 0),
            (true, "READY, 0 flows left to Medulla".into())
        );
        assert_eq!(
            verdict(0, 1),
            (true, "READY, 1 flow left to Medulla".into())
        );
        assert_eq!(
            verdict(1, 6),
            (false, "NOT READY, 6 flows left to Medulla".into())
        );

        let relay = testing::relay();
        let mut facts = testing::facts();
        facts.fqdn_hosts_file = vec!["192.0.2.11".into()];
        let sizing = crate::sizing::evaluate(
            &facts,
            RelayType::Classic,
            MedullaOffer::DedicatedSaas,
            SizingProfile::Standard,
        );
        let flows = saas_flows();
        let expected = ExpectedLimits::new("31541", "31541", "/x.conf", "");
        let inputs = Inputs {
            relay: &relay,
            user: "medulla",
            facts: &facts,
            sizing: &sizing,
            failure: None,
            flows: &flows,
            access: Err("no access".into()),
            password_source: None,
            server_sources: Vec::new(),
            expected_limits: &expected,
        };
        let confirmations = confirm(&inputs);
        assert!(!confirmations.ready);
        assert_eq!(confirmations.verdict, "NOT READY, 2 flows left to Medulla");
        assert_eq!(confirmations.to_confirm_by_medulla.len(), 2);
        assert_eq!(
            confirmations.not_verified,
            [
                format!(
                    "server -> relay tcp/22, tcp/5269: to be confirmed by Medulla ({NOT_IN_INVENTORY})"
                ),
                "workstation -> relay udp/69: not testable by connect (UDP: a connect proves \
                 nothing)"
                    .to_string(),
                "the FQDN as the Medulla server's DNS resolves it (the relay has it from \
                 /etc/hosts): SIVEO verifies it"
                    .to_string(),
            ]
        );
        // The account as the relay has it, for SIVEO and for a check by hand.
        let mut access = AccessFacts::nothing_found();
        access.user_exists = true;
        access.uid = "1001".into();
        access.home = "/home/medulla".into();
        access.groups = vec!["medulla".into(), "users".into()];
        let item = medulla_access(&Inputs {
            access: Ok(access),
            ..inputs
        });
        assert_eq!(
            item.details,
            ["the account: medulla, uid 1001, home /home/medulla, groups medulla users"]
        );
        // Another relay with the same FQDN: the verdict line follows the verdict.
        let mut shared = confirmations.clone();
        shared.reasons.clear();
        shared.conclude();
        assert!(shared.ready);
        assert_eq!(shared.verdict, "READY, 2 flows left to Medulla");
        shared.fqdn_shared("relay02 gives it too");
        assert!(!shared.ready);
        assert_eq!(shared.verdict, "NOT READY, 2 flows left to Medulla");
    }
}
