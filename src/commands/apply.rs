//! `relayctl apply`: converge relays. Per relay, over one SSH connection: the facts (as root,
//! which also proves become works), the sizing for its type, the pre-flight warnings, then its
//! roles (`relay_roles`, else the type's default list), each task probed before it changes
//! anything. `--check` stops at the probes: it changes nothing on any host.

use super::facts::gather_facts;
use crate::cli::{ApplyArgs, OutputFormat};
use crate::engine::{self, Catalog, HostRun, vars};
use crate::error::Error;
use crate::fleet::HostFailure;
use crate::input::InputErrors;
use crate::inventory::{Host, HostRole, Inventory, RelaySettings};
use crate::preflight;
use crate::report::progress::HostProgress;
use crate::report::{self, HostFindings, RunReport};
use crate::settings::{Privilege, RunSettings};
use crate::sizing;
use crate::ssh::{Connector, Session};

/// What a relay's job carries: its inventory entry, its settings and the roles it runs.
#[derive(Clone)]
struct RelayJob<'a> {
    host: &'a Host,
    relay: RelaySettings,
    roles: Vec<String>,
}

/// What every relay's work shares.
struct Shared<'a> {
    catalog: &'a Catalog,
    inventory: &'a Inventory,
    run_vars: vars::RunVars,
    options: engine::Options,
}

pub async fn run(args: &ApplyArgs) -> Result<RunReport, Error> {
    let (catalog, inventory) = super::load_inputs(&args.run)?;
    let selected = inventory.select(args.run.limit.as_deref())?;
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

    let settings = RunSettings::resolve(&args.run)?;
    let shared = Shared {
        catalog: &catalog,
        inventory: &inventory,
        run_vars: vars::RunVars::new(
            &inventory,
            args.check,
            relays.iter().map(|(_, job)| &job.relay),
        ),
        options: engine::Options {
            check: args.check,
            diff: args.diff,
            tags: args.tags.clone(),
            skip_tags: args.skip_tags.clone(),
            force_handlers: args.force_handlers,
            command_timeout: settings.command_timeout,
        },
    };
    let shared = &shared;
    let (results, started) = super::run_on_hosts(
        relays,
        &settings,
        Privilege::Root,
        args.run.format == OutputFormat::Human,
        |job, session, log, connector| async move {
            let outcome = converge(&session, &job.payload, shared, &log, &connector).await;
            (session, outcome)
        },
    )
    .await?;
    let hosts = results
        .into_iter()
        .map(|result| {
            let relay_type = result.job.payload.relay.relay_type;
            report::host_report(result, Some(relay_type))
        })
        .collect();
    Ok(RunReport::new(
        "apply",
        args.check,
        inventory.path.clone(),
        hosts,
        started.elapsed().as_millis() as u64,
    ))
}

/// One relay: facts, sizing, pre-flight, then its roles.
async fn converge(
    session: &Session,
    job: &RelayJob<'_>,
    shared: &Shared<'_>,
    log: &HostProgress,
    connector: &Connector,
) -> Result<HostFindings, HostFailure> {
    let relay = &job.relay;
    let facts = gather_facts(session, log).await?;
    log.step("checking sizing");
    let sizing = sizing::evaluate(&facts, relay.relay_type, relay.sizing_profile);
    let warnings = preflight::warnings(&facts, relay.relay_fqdn.as_deref());
    let mut failures = Vec::new();
    if !sizing.passed() {
        let reasons: Vec<String> = sizing
            .failures()
            .map(|c| format!("{}: expected {}, found {}", c.name, c.expected, c.found))
            .collect();
        failures.push(format!("sizing failed: {}", reasons.join("; ")));
    }
    let mut tasks = Vec::new();
    if !sizing.roles_may_run() {
        failures.push("roles not run: the host is not Debian 12".to_string());
    } else {
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
            roles.iter().any(|role| role.uses_module("nftables")),
        );
        match host_vars {
            Err(e) => failures.push(format!("variables: {e}")),
            Ok(host_vars) => {
                let convergence = HostRun {
                    catalog: shared.catalog,
                    options: &shared.options,
                    session,
                    connector,
                    log,
                    inventory_path: &shared.inventory.path,
                    roles,
                    vars: host_vars,
                }
                .converge()
                .await;
                failures.extend(convergence.failure);
                tasks = convergence.tasks;
            }
        }
    }
    Ok(HostFindings {
        facts: Some(facts),
        sizing: Some(sizing),
        warnings,
        tasks,
        failure: (!failures.is_empty()).then(|| failures.join("; ")),
        ..HostFindings::default()
    })
}
