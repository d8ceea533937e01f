//! The relay pipeline: what `apply` and `flows` run on every selected relay, each over one SSH
//! connection.
//!
//! 1. Every input is read and checked before any host is contacted: the roles, the inventory
//!    with the `-e` variables over it, the selection, and each selected relay's variables and
//!    role list ([`run`]).
//! 2. The run's settings (the become password asked once), and the peers of the flow checks.
//! 3. Each relay, all at once (`relay.rs`): facts, sizing, pre-flight warnings, its variables,
//!    its roles ([`Stage::roles`]), then its flow checks and the confirmations of PROC step 5
//!    ([`Stage::flows`], `readiness.rs`).
//! 4. Checks across relays (`cross_relay.rs`): two relays with one FQDN both fail.
//! 5. The run's report, and the confirmations report under `--report DIR`.

mod cross_relay;
mod job;
mod readiness;
mod relay;

use std::path::Path;
use std::time::Duration;

use crate::cli::{RunArgs, SourceArgs};
use crate::engine::{self, Catalog, role_vars, vars};
use crate::error::Error;
use crate::fleet;
use crate::flows::run::PeerSessions;
use crate::input::{InputError, InputErrors, Pos};
use crate::inventory::{self, HostRole, Inventory, LoadOptions, VaultSecrets, VaultSources};
use crate::modules::RunScope;
use crate::progress::Progress;
use crate::report::{self, RunReport, report_dir};
use crate::settings::{Privilege, RunSettings};
use crate::ssh::Target;
pub use job::Stage;
use job::{RelayContext, RelayJob, Shared};

/// Loads and checks every input before any connection: the roles first (an inventory may set
/// their variables), then the inventory, with the `-e` variables over it.
pub fn load_inputs(args: &RunArgs) -> Result<(Catalog, Inventory), Error> {
    let catalog = Catalog::load(args.roles_dir.as_deref())?;
    let options = LoadOptions {
        role_vars: catalog.variable_names(),
        extra_vars: args.extra_vars.clone(),
        vault: vault_secrets(&args.sources)?,
    };
    let inventory = inventory::load(&args.sources.sources(), &options)?;
    if args.verbose > 0 {
        eprint!("{}", unused_ansible_note(&inventory));
    }
    Ok((catalog, inventory))
}

/// The vault passwords the command line names (or `ANSIBLE_VAULT_PASSWORD_FILE`), read now.
///
/// # Errors
/// A password file that cannot be read, or a prompt that failed: bad input, exit 4.
pub fn vault_secrets(args: &SourceArgs) -> Result<VaultSecrets, Error> {
    let sources = VaultSources {
        password_files: args.vault_password_file.clone(),
        ids: args.vault_id.clone(),
        ask: args.ask_vault_pass,
    };
    VaultSecrets::gather(&sources).map_err(|message| {
        Error::Input(InputError::at(Path::new("vault"), Pos::START, "(password)", message).into())
    })
}

/// The Ansible variables the inventory sets and relayctl does not use, for `-v`: an operator
/// who expected one of them to matter sees that it does not.
pub fn unused_ansible_note(inventory: &Inventory) -> String {
    inventory
        .unused_ansible
        .iter()
        .map(|(name, origin)| {
            format!(
                "note: relayctl does not use the Ansible variable {name} (first set at {origin})\n"
            )
        })
        .collect()
}

/// Runs `stage` on every selected relay of `run_args`'s inventory; writes the confirmations
/// report under `written_under`. `options` makes the engine's options from the run's command
/// timeout, known once the settings are resolved.
pub async fn run(
    command: &'static str,
    run_args: &RunArgs,
    stage: Stage,
    options: impl FnOnce(Duration) -> engine::Options,
    written_under: Option<&Path>,
    progress: &dyn Progress,
) -> Result<RunReport, Error> {
    let (catalog, inventory) = load_inputs(run_args)?;
    let selected = inventory.select(run_args.limit.as_deref())?;
    if stage.flows {
        // The flow checks connect to the Medulla servers and workstations, selected or not.
        let peers: Vec<&inventory::Host> = (inventory.hosts.iter())
            .filter(|h| {
                h.groups.iter().any(|g| {
                    g == inventory::MEDULLA_SERVERS_GROUP || g == inventory::WORKSTATIONS_GROUP
                })
            })
            .collect();
        Inventory::check_connections(&peers)?;
    }
    // Every selected relay's variables and role list are validated before any host is contacted.
    let plan = inventory.plan_apply(&selected)?;
    let mut errors = role_vars::check(&catalog, &selected);
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
        run_scope: RunScope::default(),
    };
    let shared_ref = &shared;
    let fleet = fleet::connect_and_run(
        relays,
        &extra_targets,
        &settings,
        Privilege::Root,
        progress,
        |job, session, log, connector| async move {
            let relay = RelayContext {
                session: &session,
                job: &job.payload,
                shared: shared_ref,
                log: &log,
                connector: &connector,
            };
            let outcome = relay::converge(&relay).await;
            (session, outcome)
        },
    )
    .await?;
    shared.peer_sessions.close().await;
    let mut results = fleet.results;
    cross_relay::mark_shared_fqdns(results.iter_mut().filter_map(|result| {
        let findings = result.outcome.as_mut().ok()?;
        Some((result.job.name.as_str(), findings))
    }));
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
        fleet.started.elapsed().as_millis() as u64,
    );
    report.mask(&[settings.secrets(), inventory.secrets()].concat());
    if let Some(dir) = written_under {
        report.written = Some(report_dir::write_recorded(dir, &report, &catalog.templates));
    }
    Ok(report)
}
