//! `relayctl facts`: gather and show the facts of every host of any Ansible inventory.

use crate::cli::{FactsArgs, OutputFormat};
use crate::error::Error;
use crate::facts;
use crate::host_outcome::HostFailure;
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

async fn gather(session: &Session, log: &HostProgress) -> Result<HostFindings, HostFailure> {
    let facts = facts::gather(session, log).await?;
    Ok(HostFindings {
        facts: Some(facts),
        ..Default::default()
    })
}
