//! Running work on many hosts at once: the private keys loaded once (passphrases asked once),
//! one SSH session per host for the whole run, at most `forks` hosts in flight, results in
//! inventory order. A host that fails never stops the others.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::stream::{self, StreamExt};

use crate::error::Error;
use crate::inventory::Host;
use crate::progress::{HostProgress, Progress};
use crate::settings::{Privilege, RunSettings};
use crate::ssh::{Connector, Credentials, PassphraseSource, Session, SshError, Target};

/// A host to work on, with what the command needs to know about it (`()` when nothing).
#[derive(Clone, Debug)]
pub struct Job<P> {
    pub name: String,
    pub target: Target,
    pub payload: P,
}

/// The result of one host: what its work came to, or why it could not be done (`F`, from the
/// connection's error when the host could not be reached at all).
pub struct HostResult<P, T, F> {
    pub job: Job<P>,
    pub outcome: Result<T, F>,
    pub elapsed: Duration,
}

/// Every host's result, in the order the hosts were given, and when the run started.
pub struct FleetRun<P, T, F> {
    pub results: Vec<HostResult<P, T, F>>,
    pub started: Instant,
}

/// Connects to each of `hosts` as `settings` and `privilege` say, and runs `work` on its
/// session with the host's payload. The keys of every target are loaded (and their passphrases
/// asked) before any connection, `also`'s too: the peers a run's work connects to itself.
///
/// # Errors
/// A private key that cannot be used: nothing was contacted.
pub async fn connect_and_run<P, T, F, W, Fut>(
    hosts: Vec<(&Host, P)>,
    also: &[Target],
    settings: &RunSettings,
    privilege: Privilege,
    progress: &dyn Progress,
    work: W,
) -> Result<FleetRun<P, T, F>, Error>
where
    P: Clone,
    F: From<SshError>,
    W: Fn(Job<P>, Session, HostProgress, Connector) -> Fut,
    Fut: Future<Output = (Session, Result<T, F>)>,
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
    let forks = settings.forks_for(jobs.len());
    let results = run(jobs, forks, Arc::new(credentials), progress, work).await;
    Ok(FleetRun { results, started })
}

/// Connects to every host (bounded by `forks`) and runs `work` on its session; `work` also gets
/// the run's [`Connector`], for checks that need a connection of their own.
pub async fn run<P, T, F, W, Fut>(
    jobs: Vec<Job<P>>,
    forks: usize,
    credentials: Arc<Credentials>,
    progress: &dyn Progress,
    work: W,
) -> Vec<HostResult<P, T, F>>
where
    P: Clone,
    F: From<SshError>,
    W: Fn(Job<P>, Session, HostProgress, Connector) -> Fut,
    Fut: Future<Output = (Session, Result<T, F>)>,
{
    let connector = Connector::new(credentials);
    let connector = &connector;
    stream::iter(jobs)
        .map(|job| {
            let work = &work;
            async move {
                let started = Instant::now();
                let log = progress.host(&job.name);
                match &job.target.jump {
                    Some(jump) => {
                        log.step(&format!("connecting to {} via {jump}", job.target.endpoint))
                    }
                    None => log.step(&format!("connecting to {}", job.target.endpoint)),
                }
                let outcome = match connector.connect(&job.target).await {
                    Err(e) => {
                        log.step(&format!(
                            "unreachable after {} ms: {e}",
                            started.elapsed().as_millis()
                        ));
                        Err(F::from(e))
                    }
                    Ok(session) => {
                        log.detail(&format!(
                            "host key verified and authenticated in {} ms",
                            started.elapsed().as_millis()
                        ));
                        let (session, outcome) =
                            work(job.clone(), session, log.clone(), connector.clone()).await;
                        session.close().await;
                        outcome
                    }
                };
                log.step(&format!("done in {} ms", started.elapsed().as_millis()));
                log.finish();
                HostResult {
                    job,
                    outcome,
                    elapsed: started.elapsed(),
                }
            }
        })
        .buffered(forks)
        .collect()
        .await
}
