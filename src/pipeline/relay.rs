//! One relay's run, over its one session: the facts (as root, which also proves become works),
//! the sizing for its type, the pre-flight warnings, then its roles (`relay_roles`, else the
//! type's default list), each task probed before it changes anything, then its flow checks and
//! the confirmations of PROC step 5 (`readiness.rs`). `--check` stops at the probes.

use super::job::RelayContext;
use crate::engine::{HostRun, vars};
use crate::facts::{self, Backend, Facts, Gather, Owner};
use crate::firewall::blast_radius;
use crate::host_outcome::{CheckFailure, HostFailure};
use crate::inventory::{FirewallState, InputPolicy};
use crate::preflight::{self, Warning};
use crate::report::HostFindings;
use crate::sizing::{self, SizingReport};

/// The modules that change a relay's firewall: a role using one is checked against the firewall
/// the relay has, and what it would cut off, before any role runs.
const FIREWALL_MODULES: &[&str] = &["nftables", "ufw_flows", "firewalld_flows"];

/// The relay's findings; `Err` when it could not be worked on at all (its facts).
pub(super) async fn converge(relay: &RelayContext<'_>) -> Result<HostFindings, HostFailure> {
    let settings = &relay.job.relay;
    let what = Gather {
        firewall: relay.shared.stage.flows || changes_firewall(relay),
    };
    let facts = facts::gather(relay.session, relay.log, what).await?;
    relay.log.step("checking sizing");
    let sizing = sizing::evaluate(
        &facts,
        settings.relay_type,
        settings.offer,
        settings.sizing_profile,
    );
    let mut findings = HostFindings {
        warnings: preflight::warnings(&facts, settings.relay_fqdn.as_deref()),
        ..HostFindings::default()
    };
    if !sizing.passed() {
        findings
            .problems
            .push(CheckFailure::Sizing(sizing.failures().cloned().collect()));
    }
    if let Err(stopped) = roles_and_readiness(relay, &facts, &sizing, &mut findings).await {
        findings.problems.push(stopped);
    }
    findings.facts = Some(facts);
    findings.sizing = Some(sizing);
    Ok(findings)
}

/// Whether the run's roles may change this relay's firewall: a role of it that uses a firewall
/// module has work selected by the tags (`--tags medulla_user` leaves the firewall alone, and
/// needs neither its facts nor its preconditions).
fn changes_firewall(relay: &RelayContext<'_>) -> bool {
    let shared = relay.shared;
    let (tags, skip_tags) = (&shared.options.tags, &shared.options.skip_tags);
    shared.stage.roles
        && relay
            .job
            .roles
            .iter()
            .filter_map(|name| shared.catalog.role(name))
            .any(|role| {
                FIREWALL_MODULES
                    .iter()
                    .any(|module| role.uses_module(module))
                    && role.has_work(tags, skip_tags)
            })
}

/// Whether the firewall role may change this relay's firewall, and what it would cut off
/// (DESIGN rules 8 and 9), before any role runs: `Err` names each firewall relayctl cannot open
/// through and each service reachable today that the new table would close unless the inventory
/// says so; the warnings name the clients connected now whose next connection it would refuse.
fn firewall_preconditions(
    relay: &RelayContext<'_>,
    facts: &Facts,
) -> Result<Vec<Warning>, CheckFailure> {
    let settings = &relay.job.relay.firewall;
    if settings.state != FirewallState::Present {
        return Ok(Vec::new());
    }
    let Some(firewall) = &facts.firewall else {
        // Read whenever the run changes the firewall (changes_firewall): never so.
        return Err(CheckFailure::Firewall(vec![
            "the relay's firewall was not read with its facts".into(),
        ]));
    };
    if !firewall.blockers.is_empty() {
        return Err(CheckFailure::Firewall(firewall.blockers.clone()));
    }
    if firewall.backend != Backend::Nftables {
        return Ok(Vec::new());
    }
    let Ok(ruleset) = relay.shared.run_vars.ruleset(&relay.job.relay, facts) else {
        return Ok(Vec::new());
    };
    // An earlier run's table that drops: what listens is then reachable only as it admits.
    let table_drops = firewall.chains.iter().any(|chain| {
        chain.owner == Owner::Relayctl && chain.hook == "input" && chain.policy == "drop"
    });
    // What listens unknown (ss could not run), a dropping table could close anything: said as
    // a service it would close, so that the inventory has to say it may.
    let Some(listening) = facts.listening.as_deref() else {
        if ruleset.input_policy == InputPolicy::Drop && !settings.close_reachable {
            return Err(CheckFailure::Firewall(vec![
                "what listens on the relay could not be read (ss): relay_firewall_input_policy \
                 drop would close whatever it is, unless relay_firewall_close_reachable: true \
                 says it may"
                    .into(),
            ]));
        }
        return Ok(Vec::new());
    };
    let cut = blast_radius::cut_off(&ruleset, listening, &facts.sessions, table_drops);
    if !cut.services.is_empty() && !settings.close_reachable {
        let mut reasons = cut.services;
        reasons.push(
            "relay_firewall_input_policy drop closes what other hosts reach today: open it \
             (relay_firewall_extra_ports, relay_firewall_admin_addresses), or say it may close \
             (relay_firewall_close_reachable: true)"
                .into(),
        );
        return Err(CheckFailure::Firewall(reasons));
    }
    Ok(cut
        .services
        .into_iter()
        .chain(cut.clients)
        .map(|message| Warning {
            code: "firewall_cuts_off",
            message,
        })
        .collect())
}

/// The relay's roles, then its flow checks and confirmations, as the run's stage says. `Err`:
/// what kept them from running at all.
async fn roles_and_readiness(
    relay: &RelayContext<'_>,
    facts: &Facts,
    sizing: &SizingReport,
    findings: &mut HostFindings,
) -> Result<(), CheckFailure> {
    if !sizing.roles_may_run() {
        return Err(CheckFailure::NotDebian12);
    }
    let shared = relay.shared;
    let roles: Vec<_> = relay
        .job
        .roles
        .iter()
        .filter_map(|name| shared.catalog.role(name))
        .collect();
    let defaults: Vec<_> = roles
        .iter()
        .flat_map(|role| role.defaults.iter())
        .map(|(name, value, _)| (name.clone(), value.clone()))
        .collect();
    let firewall_role = changes_firewall(relay);
    let host_vars = vars::relay_vars(
        &defaults,
        &shared.run_vars,
        relay.job.host,
        &relay.job.relay,
        facts,
        &shared.catalog.templates,
        firewall_role,
    )
    .map_err(CheckFailure::Variables)?;
    if firewall_role {
        findings
            .warnings
            .extend(firewall_preconditions(relay, facts)?);
    }
    if shared.stage.roles {
        let convergence = HostRun {
            catalog: shared.catalog,
            options: &shared.options,
            session: relay.session,
            connector: relay.connector,
            log: relay.log,
            inventory_path: &shared.inventory.path,
            run_scope: &shared.run_scope,
            roles,
            vars: host_vars.clone(),
        }
        .converge()
        .await;
        findings
            .problems
            .extend(convergence.failure.map(CheckFailure::Tasks));
        findings.tasks = convergence.tasks;
    }
    if shared.stage.flows {
        let (flows, confirmations) = relay
            .flows_and_confirmations(facts, sizing, &findings.problems, &host_vars)
            .await;
        if !confirmations.ready && findings.problems.is_empty() {
            findings
                .problems
                .push(CheckFailure::NotReady(confirmations.reasons.clone()));
        }
        findings.flows = flows;
        findings.confirmations = Some(confirmations);
    }
    Ok(())
}
