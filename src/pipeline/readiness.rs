//! After a relay's roles: its flow checks and the five confirmations of PROC step 5, and who the
//! flow checks start from (the inventory's Medulla servers and workstation, whatever `--limit`
//! selected).

use std::collections::HashMap;
use std::path::Path;

use super::job::{RelayContext, Shared};
use crate::confirmations::{self, Confirmations};
use crate::confirmations::{ExpectedLimits, Source};
use crate::engine::vars;
use crate::facts::Facts;
use crate::firewall::ruleset::relay_rows;
use crate::flows::FlowResult;
use crate::flows::plan::{self, Peers};
use crate::flows::run::check_relay;
use crate::host_outcome::{self, CheckFailure};
use crate::inventory::{Host, Inventory, MEDULLA_SERVERS_GROUP, RelaySettings, WORKSTATIONS_GROUP};
use crate::settings::{Privilege, RunSettings};
use crate::sizing::SizingReport;
use crate::ssh::Target;

/// The peers of the flow checks, and how to reach each (they get one connection each, if used).
pub(super) fn peers(
    inventory: &Inventory,
    settings: &RunSettings,
) -> (Peers, HashMap<String, Target>) {
    let peer_hosts: Vec<&Host> = inventory
        .hosts
        .iter()
        .filter(|h| {
            h.groups
                .iter()
                .any(|g| g == MEDULLA_SERVERS_GROUP || g == WORKSTATIONS_GROUP)
        })
        .collect();
    let peer_targets: HashMap<String, Target> = peer_hosts
        .iter()
        .map(|h| {
            (
                h.name.clone(),
                settings.target(h, Privilege::AsInventorySays),
            )
        })
        .collect();
    let endpoint = |h: &&Host| plan::Endpoint {
        name: h.name.clone(),
        address: h.connection.address.clone(),
    };
    let in_group = |group: &'static str| move |h: &&&Host| h.groups.iter().any(|g| g == group);
    let peers = Peers {
        servers: peer_hosts
            .iter()
            .filter(in_group(MEDULLA_SERVERS_GROUP))
            .map(endpoint)
            .collect(),
        workstation: peer_hosts
            .iter()
            .find(in_group(WORKSTATIONS_GROUP))
            .map(endpoint),
    };
    (peers, peer_targets)
}

/// At most this many addresses of the Medulla server get sshd's configuration checked (a
/// `sshd -T` each on the relay).
const SSHD_SOURCES_CHECKED: usize = 8;

/// Where the Medulla server connects from, as sshd will see it: each of the relay's server
/// addresses (a name as the controller resolves it: the firewall admits the same), then each of
/// its `medulla_server_source_addresses` (a network by its first address), each address once.
fn sshd_sources(shared: &Shared<'_>, relay: &RelaySettings) -> Vec<Source> {
    let resolved = shared
        .run_vars
        .server_addresses(relay)
        .flat_map(|(name, ips)| ips.into_iter().map(move |ip| (name.to_string(), ip)));
    let declared = relay
        .server_source_addresses
        .iter()
        .filter_map(|net| net.hosts().next().map(|ip| (ip.to_string(), ip)));
    let mut sources: Vec<Source> = Vec::new();
    for (host, ip) in resolved.chain(declared) {
        let addr = ip.to_canonical().to_string();
        if !sources.iter().any(|s| s.addr == addr) {
            sources.push(Source { host, addr });
        }
    }
    sources.truncate(SSHD_SOURCES_CHECKED);
    sources
}

/// Where the Medulla server's flows to the relay are admitted from, for the report: what
/// `medulla_server_addresses` gives (a name as resolved here), then
/// `medulla_server_source_addresses`.
fn admitted_sources(shared: &Shared<'_>, relay: &RelaySettings) -> Vec<String> {
    let mut admitted: Vec<String> = Vec::new();
    for (name, ips) in shared.run_vars.server_addresses(relay) {
        if ips.is_empty() {
            admitted.push(format!(
                "{name} (does not resolve here: admitted from nowhere)"
            ));
        }
        for ip in ips {
            admitted.push(if ip.to_string() == name {
                name.to_string()
            } else {
                format!("{ip} ({name}, as resolved here)")
            });
        }
    }
    admitted.extend(relay.server_source_addresses.iter().map(|net| {
        let shown = if net.prefix_len() == net.max_prefix_len() {
            net.addr().to_string()
        } else {
            net.to_string()
        };
        format!("{shown} (medulla_server_source_addresses)")
    }));
    admitted
}

/// The role that sets the limits SIVEO's pre-install check expects: its variables say them.
const LIMITS_ROLE: &str = "medulla_prereqs";

/// The limits SIVEO's pre-install check expects: the relay's values of the medulla_prereqs
/// role's variables, its defaults when the relay does not run the role (the check expects them
/// all the same).
fn expected_limits(shared: &Shared<'_>, host_vars: &vars::HostVars) -> ExpectedLimits {
    let defaults = shared.catalog.role(LIMITS_ROLE).map(|role| &role.defaults);
    let value = |name: &str| -> String {
        let found = host_vars.get(name).cloned().or_else(|| {
            defaults?
                .iter()
                .find(|(n, _, _)| n == name)
                .map(|(_, value, _)| value.clone())
        });
        match found {
            Some(serde_json::Value::String(text)) => text,
            Some(serde_json::Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        }
    };
    ExpectedLimits::new(
        &value("medulla_default_limit_nproc"),
        &value("medulla_default_limit_sigpending"),
        &value("medulla_coredump_limits_file"),
        &value("medulla_coredump_limits"),
    )
}

/// A failing inbound check of sshd's port says where sshd listens: no stand-in listener was
/// opened for it, so nothing else answered.
fn explain_sshd_flows(flows: &mut [FlowResult], facts: &Facts, ssh_port: u16) {
    let Some(problem) = confirmations::sshd_listening_problem(facts, ssh_port) else {
        return;
    };
    for flow in flows
        .iter_mut()
        .filter(|f| f.flow.is_inbound() && f.port == ssh_port && f.passed() == Some(false))
    {
        flow.detail = Some(match flow.detail.take() {
            Some(detail) => format!("{detail}; {problem}"),
            None => problem.clone(),
        });
    }
}

impl RelayContext<'_> {
    /// The relay's flow checks, and at the same time the account as the relay has it; then the
    /// five confirmations of PROC step 5 and the verdict.
    pub async fn flows_and_confirmations(
        &self,
        facts: &Facts,
        sizing: &SizingReport,
        failures: &[CheckFailure],
        host_vars: &vars::HostVars,
    ) -> (Vec<FlowResult>, Confirmations) {
        let RelayContext {
            session,
            job,
            shared,
            log,
            connector,
        } = self;
        let relay = &job.relay;
        let text = |name: &str| {
            host_vars
                .get(name)
                .and_then(|v| v.as_str())
                .map(str::to_string)
        };
        // The account PROC step 2 names; the medulla_user role's variable when it is set otherwise.
        let user = text("medulla_user").unwrap_or_else(|| "medulla".to_string());
        let password_source = match text("medulla_password_env") {
            Some(env) if std::env::var_os(&env).is_some_and(|v| !v.is_empty()) => Some(format!(
                "${env} on the controller (relayctl does not keep it)"
            )),
            _ => text("medulla_password_file").map(|file| {
                if Path::new(&file).exists() {
                    format!("in {file} on the controller (mode 0600)")
                } else {
                    format!("{file} on the controller does not exist yet")
                }
            }),
        };
        let checks = match relay_rows(relay) {
            Ok(rows) => plan::checks(
                &plan::Endpoint {
                    name: job.host.name.clone(),
                    address: job.host.connection.address.clone(),
                },
                &rows,
                &relay.server_addresses,
                &shared.peers,
                relay.firewall.ssh_port,
            ),
            Err(e) => {
                log.detail(&format!("flow checks: {e}"));
                Vec::new()
            }
        };
        let access_probe =
            confirmations::access_probe(&user, &sshd_sources(shared, relay), &facts.arch);
        let (mut flows, access) = tokio::join!(
            check_relay(session, checks, &shared.peer_sessions, connector, log),
            session.run_privileged(&access_probe, b"")
        );
        explain_sshd_flows(&mut flows, facts, relay.firewall.ssh_port);
        let access = match access {
            Ok(output) if output.exit_status == 0 => {
                Ok(confirmations::parse_access(&output.stdout_text()))
            }
            Ok(output) => Err(output.stderr_text().trim().to_string()),
            Err(e) => Err(e.to_string()),
        };
        let failure = (!failures.is_empty()).then(|| host_outcome::join(failures));
        let confirmations = confirmations::confirm(&confirmations::Inputs {
            relay,
            user: &user,
            facts,
            sizing,
            failure: failure.as_deref(),
            flows: &flows,
            access,
            password_source,
            server_sources: admitted_sources(shared, relay),
            expected_limits: &expected_limits(shared, host_vars),
        });
        (flows, confirmations)
    }
}
