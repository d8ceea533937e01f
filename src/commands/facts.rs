//! `relayctl facts`: gather and show the facts of every host of any Ansible inventory.

use super::terminal::TerminalProgress;
use crate::cli::FactsArgs;
use crate::error::Error;
use crate::facts;
use crate::fleet;
use crate::host_outcome::HostFailure;
use crate::pipeline::load_inputs;
use crate::report::{self, HostFindings, RunReport};
use crate::settings::{Privilege, RunSettings};

pub async fn run(args: &FactsArgs) -> Result<RunReport, Error> {
    // The roles are loaded too: the inventory may set their variables.
    let (_catalog, inventory) = load_inputs(&args.run)?;
    let hosts = inventory.select(args.run.limit.as_deref())?;
    let settings = RunSettings::resolve(&args.run)?;
    let hosts = hosts.into_iter().map(|host| (host, ())).collect();
    let progress = TerminalProgress::for_run(&args.run);
    let fleet = fleet::connect_and_run(
        hosts,
        &[],
        &settings,
        Privilege::AsInventorySays,
        &progress,
        |_job, session, log, _connector| async move {
            let outcome = facts::gather(&session, &log, facts::Gather::EVERYTHING)
                .await
                .map(|facts| HostFindings {
                    facts: Some(facts),
                    ..Default::default()
                })
                .map_err(HostFailure::from);
            (session, outcome)
        },
    )
    .await?;
    let hosts = fleet
        .results
        .into_iter()
        .map(|result| report::host_report(result, None))
        .collect();
    let mut report = RunReport::new(
        "facts",
        false,
        inventory.path.clone(),
        hosts,
        fleet.started.elapsed().as_millis() as u64,
    );
    report.mask(&[settings.secrets(), inventory.secrets()].concat());
    Ok(report)
}
