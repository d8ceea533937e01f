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
use crate::preflight;
use crate::sizing::SizingReport;

/// A relay's confirmations and verdict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Confirmations {
    /// READY: every verifiable item confirmed, sizing passed, no task failed.
    pub ready: bool,
    /// Why not ready (empty when ready).
    pub reasons: Vec<String>,
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
        ports(inputs.flows, &inputs.facts.firewall),
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
    let to_confirm_by_medulla = inputs
        .flows
        .iter()
        .filter(|f| f.result == FlowOutcome::ToConfirm)
        .map(FlowResult::describe)
        .collect();
    Confirmations {
        ready: reasons.is_empty(),
        reasons,
        items,
        installation_checks,
        to_confirm_by_medulla,
        server_sources: inputs.server_sources.clone(),
    }
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
        self.ready = false;
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

fn ports(flows: &[FlowResult], firewall: &FirewallFacts) -> Confirmation {
    let failing: Vec<&FlowResult> = flows.iter().filter(|f| f.passed() == Some(false)).collect();
    let confirmed = flows.iter().filter(|f| f.passed() == Some(true)).count();
    let unverified = flows.iter().filter(|f| f.passed().is_none()).count();
    let (status, summary) = if flows.is_empty() {
        (
            ConfirmationStatus::NotConfirmed,
            "no flow was checked".to_string(),
        )
    } else if failing.is_empty() {
        (
            ConfirmationStatus::Confirmed,
            format!("{confirmed} flow(s) confirmed ({unverified} not verifiable from here)"),
        )
    } else {
        let ports: Vec<String> = failing
            .iter()
            .map(|f| format!("{}/{}", f.protocol, f.port))
            .collect();
        (
            ConfirmationStatus::NotConfirmed,
            format!("{} flow(s) failing: {}", failing.len(), ports.join(", ")),
        )
    };
    let mut details: Vec<String> = failing
        .iter()
        .map(|f| format!("{}: {}", f.describe(), f.result_text()))
        .collect();
    details.push(format!(
        "what filters on the relay (before this run): {}",
        match firewall.backend {
            Backend::Ufw => "ufw, where relayctl opens the flows as rules of its own",
            Backend::Firewalld =>
                "firewalld, where relayctl opens the flows in policies of its own",
            Backend::Nftables => "no other firewall; relayctl's own table, inet medulla_relay",
        }
    ));
    Confirmation::new(2, "ports", "Ports opened", status, summary, details)
}

fn medulla_access(inputs: &Inputs) -> Confirmation {
    let title = "medulla password and passwordless sudo";
    let user = inputs.user;
    let mut details = Vec::new();
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
                list(&facts.fqdn_own_addresses())
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

fn list(addresses: &[std::net::IpAddr]) -> String {
    addresses
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
