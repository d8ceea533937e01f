//! One module per subcommand; each turns validated input into a [`RunReport`].

pub mod apply;
pub mod facts;

use std::time::Instant;

use crate::cli::RunArgs;
use crate::error::Error;
use crate::fleet::{self, HostResult, Job};
use crate::inventory::{self, Host, Inventory};
use crate::report::HostFindings;
use crate::report::progress::{HostProgress, Progress};
use crate::settings::{Privilege, RunSettings};
use crate::ssh::{Credentials, PassphraseSource, Session};

/// Loads the inventory and selects the hosts of `--limit`: all input is validated before any
/// connection.
pub fn load_inventory(args: &RunArgs) -> Result<Inventory, Error> {
    Ok(inventory::load(&args.inventory)?)
}

/// Connects to `hosts` and runs `work` on each; keys are loaded (and passphrases asked) first.
pub async fn run_on_hosts<F, Fut>(
    hosts: &[&Host],
    settings: &RunSettings,
    privilege: Privilege,
    show_progress: bool,
    work: F,
) -> Result<(Vec<HostResult<HostFindings>>, Instant), Error>
where
    F: Fn(Job, Session, HostProgress) -> Fut,
    Fut: std::future::Future<Output = (Session, Result<HostFindings, fleet::HostFailure>)>,
{
    let started = Instant::now();
    let jobs: Vec<Job> = hosts
        .iter()
        .map(|host| Job {
            name: host.name.clone(),
            target: settings.target(host, privilege),
        })
        .collect();
    let mut key_files: Vec<_> = jobs
        .iter()
        .filter_map(|job| job.target.key_file.clone())
        .collect();
    key_files.sort();
    key_files.dedup();
    let want_defaults = jobs.iter().any(|job| job.target.key_file.is_none());
    let credentials = Credentials::load(&key_files, want_defaults, &PassphraseSource::EnvOrPrompt)
        .map_err(Error::Credentials)?;
    let progress = Progress::new(show_progress, settings.verbosity);
    let results = fleet::run(
        jobs,
        settings.forks_for(hosts.len()),
        &credentials,
        &progress,
        work,
    )
    .await;
    Ok((results, started))
}
