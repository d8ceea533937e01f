//! One module per subcommand; each turns validated input into a [`RunReport`].

pub mod apply;
pub mod facts;
pub mod flows;
mod readiness;
mod terminal;

use std::time::Instant;

use crate::cli::RunArgs;
use crate::engine::Catalog;
use crate::error::Error;
use crate::fleet::{self, HostResult, Job};
use crate::host_outcome::HostFailure;
use crate::inventory::{self, Host, Inventory, LoadOptions};
use crate::progress::HostProgress;
use crate::report::HostFindings;
use crate::settings::{Privilege, RunSettings};
use crate::ssh::{Connector, Credentials, PassphraseSource, Session};

/// Loads and checks every input before any connection: the roles first (an inventory may set
/// their variables), then the inventory, with the `-e` variables over it.
pub fn load_inputs(args: &RunArgs) -> Result<(Catalog, Inventory), Error> {
    let catalog = Catalog::load(args.roles_dir.as_deref())?;
    let options = LoadOptions {
        role_vars: catalog.variable_names(),
        extra_vars: args.extra_vars.clone(),
    };
    let inventory = inventory::load(&args.inventory, &options)?;
    Ok((catalog, inventory))
}

/// Connects to each host and runs `work` on it with the host's payload; keys are loaded (and
/// passphrases asked) first, for `also` too (the peers a run's work connects to itself).
pub async fn run_on_hosts<P, F, Fut>(
    hosts: Vec<(&Host, P)>,
    also: &[crate::ssh::Target],
    settings: &RunSettings,
    privilege: Privilege,
    show_progress: bool,
    work: F,
) -> Result<(Vec<HostResult<P, HostFindings, HostFailure>>, Instant), Error>
where
    P: Clone,
    F: Fn(Job<P>, Session, HostProgress, Connector) -> Fut,
    Fut: std::future::Future<Output = (Session, Result<HostFindings, HostFailure>)>,
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
    let targets = || jobs.iter().map(|job| &job.target).chain(also);
    let mut key_files: Vec<_> = targets()
        .filter_map(|target| target.key_file.clone())
        .collect();
    key_files.sort();
    key_files.dedup();
    let want_defaults = targets().any(|target| target.key_file.is_none());
    let credentials = Credentials::load(&key_files, want_defaults, &PassphraseSource::EnvOrPrompt)
        .map_err(Error::Credentials)?;
    let credentials = std::sync::Arc::new(credentials);
    let forks = settings.forks_for(jobs.len());
    let progress = terminal::TerminalProgress::new(show_progress, settings.verbosity);
    let results = fleet::run(jobs, forks, credentials, &progress, work).await;
    Ok((results, started))
}
