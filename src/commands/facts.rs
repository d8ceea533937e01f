//! `relayctl facts`: gather and show the facts of every host of any Ansible inventory.

use crate::cli::{FactsArgs, OutputFormat};
use crate::error::Error;
use crate::facts::Facts;
use crate::fleet::HostFailure;
use crate::progress::HostProgress;
use crate::report::{self, HostFindings, RunReport};
use crate::settings::{Privilege, RunSettings};
use crate::ssh::Session;

pub async fn run(args: &FactsArgs) -> Result<RunReport, Error> {
    // The roles are loaded too: the inventory may set their variables.
    let (_catalog, inventory) = super::load_inputs(&args.run)?;
    let hosts = inventory.select(args.run.limit.as_deref())?;
    let settings = RunSettings::resolve(&args.run)?;
    let hosts = hosts.into_iter().map(|host| (host, ())).collect();
    let (results, started) = super::run_on_hosts(
        hosts,
        &[],
        &settings,
        Privilege::AsInventorySays,
        args.run.format == OutputFormat::Human,
        |_job, session, log, _connector| async move {
            let outcome = gather(&session, &log).await;
            (session, outcome)
        },
    )
    .await?;
    let hosts = results
        .into_iter()
        .map(|result| report::host_report(result, None))
        .collect();
    Ok(RunReport::new(
        "facts",
        false,
        inventory.path.clone(),
        hosts,
        started.elapsed().as_millis() as u64,
    ))
}

/// Gathers facts in one round trip, escalated as the session's target says.
pub async fn gather_facts(session: &Session, log: &HostProgress) -> Result<Facts, HostFailure> {
    log.step("gathering facts");
    let started = std::time::Instant::now();
    let output = session
        .run_privileged(crate::facts::PROBE_SCRIPT, b"")
        .await?;
    log.detail(&format!(
        "facts probe ({}) exited {} in {} ms",
        session.target().escalation.describe(),
        output.exit_status,
        started.elapsed().as_millis()
    ));
    if output.exit_status != 0 {
        return Err(HostFailure::Failed(format!(
            "facts probe exited with {}: {}",
            output.exit_status,
            output.stderr_text().trim()
        )));
    }
    Facts::parse(&output.stdout_text()).map_err(|e| HostFailure::Failed(e.to_string()))
}

async fn gather(session: &Session, log: &HostProgress) -> Result<HostFindings, HostFailure> {
    let facts = gather_facts(session, log).await?;
    Ok(HostFindings {
        facts: Some(facts),
        ..Default::default()
    })
}
