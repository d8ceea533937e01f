//! Running work on many hosts at once: one SSH session per host for the whole run, at most `forks`
//! hosts in flight, results in inventory order. A host that fails never stops the others.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::stream::{self, StreamExt};

use crate::facts::FactsError;
use crate::progress::{HostProgress, Progress};
use crate::ssh::{Connector, Credentials, Session, SshError, Target};

/// A host to work on, with what the command needs to know about it (`()` when nothing).
#[derive(Clone, Debug)]
pub struct Job<P> {
    pub name: String,
    pub target: Target,
    pub payload: P,
}

/// Why a host did not complete.
#[derive(Debug, thiserror::Error)]
pub enum HostFailure {
    /// Could not connect, verify, authenticate or become root: nothing was done on the host.
    #[error("{0}")]
    Unreachable(SshError),
    /// Connected, but the work failed.
    #[error("{0}")]
    Failed(String),
}

impl HostFailure {
    /// A stable machine-readable kind for JSON consumers.
    pub fn kind(&self) -> &'static str {
        match self {
            HostFailure::Unreachable(e) => e.kind(),
            HostFailure::Failed(_) => "failed",
        }
    }
}

impl From<SshError> for HostFailure {
    /// Connection-level and become errors mean the host could not be worked on at all.
    fn from(e: SshError) -> Self {
        match e {
            SshError::CommandTimeout { .. } | SshError::NoExitStatus => {
                HostFailure::Failed(e.to_string())
            }
            other => HostFailure::Unreachable(other),
        }
    }
}

impl From<FactsError> for HostFailure {
    /// A probe that could not run is the connection's failure; one that ran, the host's.
    fn from(e: FactsError) -> Self {
        match e {
            FactsError::Ssh(e) => HostFailure::from(e),
            other => HostFailure::Failed(other.to_string()),
        }
    }
}

/// The result of one host.
pub struct HostResult<P, T> {
    pub job: Job<P>,
    pub outcome: Result<T, HostFailure>,
    pub elapsed: Duration,
}

/// Connects to every host (bounded by `forks`) and runs `work` on its session; `work` also gets
/// the run's [`Connector`], for checks that need a connection of their own.
pub async fn run<P, T, F, Fut>(
    jobs: Vec<Job<P>>,
    forks: usize,
    credentials: Arc<Credentials>,
    progress: &dyn Progress,
    work: F,
) -> Vec<HostResult<P, T>>
where
    P: Clone,
    F: Fn(Job<P>, Session, HostProgress, Connector) -> Fut,
    Fut: Future<Output = (Session, Result<T, HostFailure>)>,
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
                        Err(HostFailure::Unreachable(e))
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
