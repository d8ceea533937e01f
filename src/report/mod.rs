//! What a run found, host by host, and how it is shown: readable text for an operator, JSON for
//! pipelines, JUnit XML for CI test reports. The same [`RunReport`] feeds every format, so they
//! cannot disagree.

pub mod human;
pub mod json;
pub mod junit;
pub mod report_dir;

use std::path::PathBuf;

use serde::Serialize;

use crate::confirmations::Confirmations;
use crate::engine::{TaskCounts, TaskReport, TaskStatus};
use crate::facts::Facts;
use crate::fleet::HostResult;
use crate::flows::FlowResult;
pub use crate::host_outcome::HostStatus;
use crate::host_outcome::{CheckFailure, HostFailure};
use crate::medulla::RelayType;
use crate::preflight::Warning;
use crate::secret::{self, Secret};
use crate::sizing::SizingReport;

/// Why a host did not end `ok`.
#[derive(Clone, Debug, Serialize)]
pub struct HostError {
    pub kind: &'static str,
    pub message: String,
}

/// Everything known about one host after the run.
#[derive(Clone, Debug, Serialize)]
pub struct HostReport {
    pub name: String,
    /// `user@address[:port]`, and the jump host if any.
    pub connection: String,
    pub status: HostStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<HostError>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relay_type: Option<RelayType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facts: Option<Facts>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sizing: Option<SizingReport>,
    pub warnings: Vec<Warning>,
    /// The tasks of its roles, in the order they ran (`apply` only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tasks: Vec<TaskReport>,
    /// Tallies of `tasks` (`apply` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counts: Option<TaskCounts>,
    /// The flow checks (`apply` and `flows`), in matrix order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub flows: Vec<FlowResult>,
    /// What PROC step 5 asks the customer to hand back, and the verdict.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmations: Option<Confirmations>,
    pub elapsed_ms: u64,
}

/// What a host's work produced when it connected.
#[derive(Clone, Debug, Default)]
pub struct HostFindings {
    pub facts: Option<Facts>,
    pub sizing: Option<SizingReport>,
    pub warnings: Vec<Warning>,
    pub tasks: Vec<TaskReport>,
    pub flows: Vec<FlowResult>,
    pub confirmations: Option<Confirmations>,
    /// Checks and tasks that failed after the host answered (e.g. sizing): the host is
    /// `failed`.
    pub problems: Vec<CheckFailure>,
}

/// Tallies for the recap.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Recap {
    pub ok: usize,
    pub failed: usize,
    pub unreachable: usize,
}

/// The whole run.
#[derive(Clone, Debug, Serialize)]
pub struct RunReport {
    pub relayctl_version: &'static str,
    pub command: &'static str,
    pub check_mode: bool,
    pub inventory: PathBuf,
    pub hosts: Vec<HostReport>,
    pub recap: Recap,
    pub elapsed_ms: u64,
    /// The confirmations report written under `--report DIR`, if asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub written: Option<WrittenReport>,
}

/// Where the confirmations report went, or why it could not be written.
#[derive(Clone, Debug, Serialize)]
pub struct WrittenReport {
    pub dir: PathBuf,
    pub files: Vec<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl RunReport {
    /// Masks `secrets` in every message of the report, whatever made it: the last net under
    /// the masking each layer does, before any output is made of the report.
    pub fn mask(&mut self, secrets: &[Secret]) {
        if secrets.iter().all(|s| s.expose().is_empty()) {
            return;
        }
        let mask = |text: &mut String| *text = secret::mask(text, secrets);
        for host in &mut self.hosts {
            if let Some(error) = &mut host.error {
                mask(&mut error.message);
            }
            host.warnings.iter_mut().for_each(|w| mask(&mut w.message));
            for task in &mut host.tasks {
                task.changes.iter_mut().for_each(mask);
                task.message.iter_mut().for_each(mask);
                task.diff.iter_mut().for_each(mask);
            }
            host.flows
                .iter_mut()
                .for_each(|f| f.detail.iter_mut().for_each(mask));
            if let Some(confirmations) = &mut host.confirmations {
                confirmations.reasons.iter_mut().for_each(mask);
                for item in &mut confirmations.items {
                    mask(&mut item.summary);
                    item.details.iter_mut().for_each(mask);
                }
            }
        }
        if let Some(written) = &mut self.written {
            written.error.iter_mut().for_each(mask);
        }
    }

    /// In `--check`: some task would change something (and every host answered).
    pub fn changes_pending(&self) -> bool {
        self.check_mode
            && self
                .hosts
                .iter()
                .flat_map(|h| &h.tasks)
                .any(|t| t.status == TaskStatus::Changed)
    }

    pub fn new(
        command: &'static str,
        check_mode: bool,
        inventory: PathBuf,
        hosts: Vec<HostReport>,
        elapsed_ms: u64,
    ) -> Self {
        let mut recap = Recap::default();
        for host in &hosts {
            match host.status {
                HostStatus::Ok => recap.ok += 1,
                HostStatus::Failed => recap.failed += 1,
                HostStatus::Unreachable => recap.unreachable += 1,
            }
        }
        RunReport {
            relayctl_version: env!("CARGO_PKG_VERSION"),
            command,
            check_mode,
            inventory,
            hosts,
            recap,
            elapsed_ms,
            written: None,
        }
    }
}

/// Builds a host's report from its fleet result: its status and error come from its
/// [`HostFailure`], if any.
pub fn host_report<P>(
    result: HostResult<P, HostFindings, HostFailure>,
    relay_type: Option<RelayType>,
) -> HostReport {
    let target = &result.job.target;
    let connection = match &target.jump {
        Some(jump) => format!("{} via {}", target.endpoint, jump),
        None => target.endpoint.to_string(),
    };
    let (failure, findings) = match result.outcome {
        Ok(mut findings) if !findings.problems.is_empty() => {
            let problems = std::mem::take(&mut findings.problems);
            (Some(HostFailure::Checks(problems)), findings)
        }
        Ok(findings) => (None, findings),
        Err(failure) => (Some(failure), HostFindings::default()),
    };
    let status = failure.as_ref().map_or(HostStatus::Ok, HostFailure::status);
    let error = failure.map(|failure| HostError {
        kind: failure.kind(),
        message: failure.to_string(),
    });
    HostReport {
        name: result.job.name,
        connection,
        status,
        error,
        relay_type,
        facts: findings.facts,
        sizing: findings.sizing,
        warnings: findings.warnings,
        counts: relay_type
            .map(|_| TaskCounts::of(&findings.tasks, status == HostStatus::Unreachable)),
        tasks: findings.tasks,
        flows: findings.flows,
        confirmations: findings.confirmations,
        elapsed_ms: result.elapsed.as_millis() as u64,
    }
}
