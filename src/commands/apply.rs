//! `relayctl apply`: converge relays. Per relay, over one SSH connection: the facts (as root,
//! which also proves become works), the sizing for its type, the pre-flight warnings, then its
//! roles (`relay_roles`, else the type's default list), each task probed before it changes
//! anything; then its flow checks and the confirmations of PROC step 5 (`readiness.rs`).
//! `--check` stops at the probes: it changes nothing on any host, and checks no flow.

use std::path::Path;

use super::readiness::{self, RelayContext};
use crate::cli::{ApplyArgs, OutputFormat, RunArgs};
use crate::engine::{self, Catalog, HostRun, vars};
use crate::error::Error;
use crate::flows::plan::Peers;
use crate::flows::run::PeerSessions;
use crate::host_outcome::{CheckFailure, HostFailure};
use crate::input::InputErrors;
use crate::inventory::{Host, HostRole, Inventory, RelaySettings};
use crate::preflight;
use crate::progress::HostProgress;
use crate::report::confirmations as report_files;
use crate::report::{self, HostFindings, RunReport, WrittenReport};
use crate::settings::{Privilege, RunSettings};
use crate::sizing;
use crate::ssh::{Connector, Session, Target};

/// What a relay's job carries: its inventory entry, its settings and the roles it runs.
#[derive(Clone)]
pub(super) struct RelayJob<'a> {
    pub host: &'a Host,
    pub relay: RelaySettings,
    pub roles: Vec<String>,
}

/// What every relay's work shares.
pub(super) struct Shared<'a> {
    catalog: &'a Catalog,
    inventory: &'a Inventory,
    run_vars: vars::RunVars,
    options: engine::Options,
    stage: Stage,
    pub peers: Peers,
    pub peer_sessions: PeerSessions,
}

/// What a run does on each relay after its facts, sizing and pre-flight warnings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Stage {
    /// Run the relay's roles (`apply`).
    pub roles: bool,
    /// Check the flows and gather the confirmations (`apply` but in `--check`, `flows`).
    pub flows: bool,
}

pub async fn run(args: &ApplyArgs) -> Result<RunReport, Error> {
    let stage = Stage {
        roles: true,
        // The flow checks open listeners on the relays: not in a dry run.
        flows: !args.check && !args.no_flows,
    };
    let options = |command_timeout| engine::Options {
        check: args.check,
        diff: args.diff,
        tags: args.tags.clone(),
        skip_tags: args.skip_tags.clone(),
        force_handlers: args.force_handlers,
        command_timeout,
    };
    run_relays("apply", &args.run, stage, options, args.report.as_deref()).await
}

/// Runs `stage` on every selected relay; writes the confirmations report under `report_dir`.
pub(super) async fn run_relays(
    command: &'static str,
    run_args: &RunArgs,
    stage: Stage,
    options: impl FnOnce(std::time::Duration) -> engine::Options,
    report_dir: Option<&Path>,
) -> Result<RunReport, Error> {
    let (catalog, inventory) = super::load_inputs(run_args)?;
    let selected = inventory.select(run_args.limit.as_deref())?;
    // Every selected relay's variables and role list are validated before any host is contacted.
    let plan = inventory.plan_apply(&selected)?;
    let mut errors = Vec::new();
    let mut relays = Vec::new();
    for (host, role) in plan {
        // Peers (Medulla server, workstations) are not converged: the flow checks use them.
        let HostRole::Relay(relay) = role else {
            continue;
        };
        let roles = match (&relay.roles, host.vars.get("relay_roles")) {
            (Some(names), Some(var)) => {
                errors.extend(catalog.check_role_list(names, var, &host.name));
                names.clone()
            }
            _ => catalog.default_roles(relay.relay_type).to_vec(),
        };
        relays.push((
            host,
            RelayJob {
                host,
                relay: *relay,
                roles,
            },
        ));
    }
    InputErrors::finish(errors)?;

    let settings = RunSettings::resolve(run_args)?;
    let options = options(settings.command_timeout);
    let check_mode = options.check;
    let (peers, peer_targets) = readiness::peers(&inventory, &settings);
    let extra_targets: Vec<Target> = if stage.flows {
        peer_targets.values().cloned().collect()
    } else {
        Vec::new()
    };
    let shared = Shared {
        catalog: &catalog,
        inventory: &inventory,
        run_vars: vars::RunVars::new(
            &inventory,
            check_mode,
            relays.iter().map(|(_, job)| &job.relay),
        ),
        options,
        stage,
        peers,
        peer_sessions: PeerSessions::new(peer_targets),
    };
    let shared_ref = &shared;
    let (results, started) = super::run_on_hosts(
        relays,
        &extra_targets,
        &settings,
        Privilege::Root,
        run_args.format == OutputFormat::Human,
        |job, session, log, connector| async move {
            let outcome = converge(&session, &job.payload, shared_ref, &log, &connector).await;
            (session, outcome)
        },
    )
    .await?;
    shared.peer_sessions.close().await;
    let hosts = results
        .into_iter()
        .map(|result| {
            let relay_type = result.job.payload.relay.relay_type;
            report::host_report(result, Some(relay_type))
        })
        .collect();
    let mut report = RunReport::new(
        command,
        check_mode,
        inventory.path.clone(),
        hosts,
        started.elapsed().as_millis() as u64,
    );
    if let Some(dir) = report_dir {
        report.written = Some(
            match report_files::write(dir, &report, &catalog.templates) {
                Ok(files) => WrittenReport {
                    dir: dir.to_path_buf(),
                    files,
                    error: None,
                },
                Err(e) => WrittenReport {
                    dir: dir.to_path_buf(),
                    files: Vec::new(),
                    error: Some(e),
                },
            },
        );
    }
    Ok(report)
}

/// One relay: facts, sizing, pre-flight, then its roles, then its flows and confirmations.
async fn converge(
    session: &Session,
    job: &RelayJob<'_>,
    shared: &Shared<'_>,
    log: &HostProgress,
    connector: &Connector,
) -> Result<HostFindings, HostFailure> {
    let relay = &job.relay;
    let facts = crate::facts::gather(session, log).await?;
    log.step("checking sizing");
    let sizing = sizing::evaluate(&facts, relay.relay_type, relay.sizing_profile);
    let warnings = preflight::warnings(&facts, relay.relay_fqdn.as_deref());
    let mut failures = Vec::new();
    if !sizing.passed() {
        failures.push(CheckFailure::Sizing(sizing.failures().cloned().collect()));
    }
    if !sizing.roles_may_run() {
        failures.push(CheckFailure::NotDebian12);
        return Ok(HostFindings {
            facts: Some(facts),
            sizing: Some(sizing),
            warnings,
            problems: failures,
            ..HostFindings::default()
        });
    }
    let roles: Vec<_> = job
        .roles
        .iter()
        .filter_map(|name| shared.catalog.role(name))
        .collect();
    let defaults: Vec<_> = roles
        .iter()
        .flat_map(|role| role.defaults.iter())
        .map(|(name, value, _)| (name.clone(), value.clone()))
        .collect();
    let host_vars = vars::relay_vars(
        &defaults,
        &shared.run_vars,
        job.host,
        relay,
        &facts,
        &shared.catalog.templates,
        shared.stage.roles && roles.iter().any(|role| role.uses_module("nftables")),
    );
    let host_vars = match host_vars {
        Ok(host_vars) => host_vars,
        Err(e) => {
            failures.push(CheckFailure::Variables(e));
            return Ok(HostFindings {
                facts: Some(facts),
                sizing: Some(sizing),
                warnings,
                problems: failures,
                ..HostFindings::default()
            });
        }
    };
    let mut tasks = Vec::new();
    if shared.stage.roles {
        let convergence = HostRun {
            catalog: shared.catalog,
            options: &shared.options,
            session,
            connector,
            log,
            inventory_path: &shared.inventory.path,
            roles,
            vars: host_vars.clone(),
        }
        .converge()
        .await;
        failures.extend(convergence.failure.map(CheckFailure::Tasks));
        tasks = convergence.tasks;
    }
    let (mut flows, mut confirmations) = (Vec::new(), None);
    if shared.stage.flows {
        let context = RelayContext {
            session,
            job,
            shared,
            log,
            connector,
        };
        let (checked, confirmed) = context
            .flows_and_confirmations(&facts, &sizing, &failures, &host_vars)
            .await;
        if !confirmed.ready && failures.is_empty() {
            failures.push(CheckFailure::NotReady(confirmed.reasons.clone()));
        }
        flows = checked;
        confirmations = Some(confirmed);
    }
    Ok(HostFindings {
        facts: Some(facts),
        sizing: Some(sizing),
        warnings,
        tasks,
        flows,
        confirmations,
        problems: failures,
    })
}
