//! `relayctl apply`: converge relays. At this stage: gather facts as root, check sizing per relay
//! type and report pre-flight warnings. `--check` changes nothing (nothing here changes a host yet).

use super::facts::gather_facts;
use crate::cli::{ApplyArgs, OutputFormat};
use crate::error::Error;
use crate::fleet::HostFailure;
use crate::inventory::{HostRole, RelaySettings};
use crate::preflight;
use crate::report::progress::HostProgress;
use crate::report::{self, HostFindings, RunReport};
use crate::settings::{Privilege, RunSettings};
use crate::sizing;
use crate::ssh::Session;

pub async fn run(args: &ApplyArgs) -> Result<RunReport, Error> {
    let inventory = super::load_inventory(&args.run)?;
    let selected = inventory.select(args.run.limit.as_deref())?;
    // Every selected relay's variables are validated before any host is contacted.
    let plan = inventory.plan_apply(&selected)?;
    // Peers (Medulla server, workstations) are not converged: the flow checks use them.
    let relays: Vec<_> = plan
        .into_iter()
        .filter_map(|(host, role)| match role {
            HostRole::Relay(relay) => Some((host, relay)),
            HostRole::MedullaServer | HostRole::Workstation => None,
        })
        .collect();

    let settings = RunSettings::resolve(&args.run)?;
    let (results, started) = super::run_on_hosts(
        relays,
        &settings,
        Privilege::Root,
        args.run.format == OutputFormat::Human,
        |job, session, log| async move {
            let outcome = converge(&session, &job.payload, &log).await;
            (session, outcome)
        },
    )
    .await?;
    let hosts = results
        .into_iter()
        .map(|result| {
            let relay_type = result.job.payload.relay_type;
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

/// One relay: facts in one round trip (as root, which also proves become works), then sizing.
async fn converge(
    session: &Session,
    relay: &RelaySettings,
    log: &HostProgress,
) -> Result<HostFindings, HostFailure> {
    let facts = gather_facts(session, log).await?;
    log.step("checking sizing");
    let sizing = sizing::evaluate(&facts, relay.relay_type, relay.sizing_profile);
    let warnings = preflight::warnings(&facts, relay.relay_fqdn.as_deref());
    let failure = (!sizing.passed()).then(|| {
        let reasons: Vec<String> = sizing
            .failures()
            .map(|c| format!("{}: expected {}, found {}", c.name, c.expected, c.found))
            .collect();
        format!("sizing failed: {}", reasons.join("; "))
    });
    Ok(HostFindings {
        facts: Some(facts),
        sizing: Some(sizing),
        warnings,
        failure,
    })
}
