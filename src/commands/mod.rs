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

/// Loads and validates the inventory: all input is checked before any connection.
pub fn load_inventory(args: &RunArgs) -> Result<Inventory, Error> {
    Ok(inventory::load(&args.inventory)?)
}

/// Connects to each host and runs `work` on it with the host's payload; keys are loaded (and
/// passphrases asked) first.
pub async fn run_on_hosts<P, F, Fut>(
    hosts: Vec<(&Host, P)>,
    settings: &RunSettings,
    privilege: Privilege,
    show_progress: bool,
    work: F,
) -> Result<(Vec<HostResult<P, HostFindings>>, Instant), Error>
where
    P: Clone,
    F: Fn(Job<P>, Session, HostProgress) -> Fut,
    Fut: std::future::Future<Output = (Session, Result<HostFindings, fleet::HostFailure>)>,
{
    let started = Instant::now();
    let jobs: Vec<Job<P>> = hosts
        .into_iter()
        .map(|(host, payload)| Job {
            name: host.name.clone(),
            target: settings.target(host, privilege),
            payload,
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
    let forks = settings.forks_for(jobs.len());
    let progress = Progress::new(show_progress, settings.verbosity);
    let results = fleet::run(jobs, forks, &credentials, &progress, work).await;
    Ok((results, started))
}
