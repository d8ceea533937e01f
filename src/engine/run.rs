//! Running a relay's roles: every task rendered, then probed, then carried out, in order.
//!
//! 1. Render: `when` is evaluated and every task's arguments are rendered into an action before
//!    anything runs, so an undefined variable in the fifth task fails the host with nothing
//!    changed.
//! 2. Probe: the probes of all tasks and handlers run in one round trip.
//! 3. Walk the tasks in order. A task whose plan changes nothing is `ok`. In `--check` a change
//!    is reported (`changed` = would change) and not made. Otherwise the plan's step runs in a
//!    batch together with the probes of the later tasks of its role, so that they see the host
//!    as it now is: one round trip per change, none per unchanged task; a later role's tasks are
//!    probed again in one round trip when their turn comes after a change.
//! 4. After a role's tasks, the handlers its changed tasks notified run, once each.
//!
//! A task that fails stops the host (with `--force-handlers`, notified handlers still run).
//! In `--check`, a probe that finds a prerequisite missing (the user an authorized_key task
//! needs) is not a failure when an earlier task would create it: the task would change, after
//! that one. A read-only check that fails after earlier would-be changes is `pending`.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use minijinja::Value as Context;

use super::catalog::Catalog;
use super::item::Item;
use super::outcome::{TaskReport, TaskStatus, TasksFailure};
use super::probed::{Probed, role_end};
use super::role::Role;
use super::vars::HostVars;
use crate::modules::{Provides, RunScope};
use crate::progress::HostProgress;
use crate::secret::Secret;
use crate::ssh::{Connector, Session};

/// How the tasks of a run are carried out.
#[derive(Clone, Debug)]
pub struct Options {
    pub check: bool,
    pub diff: bool,
    pub tags: Vec<String>,
    pub skip_tags: Vec<String>,
    pub force_handlers: bool,
    pub command_timeout: Duration,
}

/// One host's side of a run.
pub struct HostRun<'a> {
    pub catalog: &'a Catalog,
    pub options: &'a Options,
    pub session: &'a Session,
    pub connector: &'a Connector,
    pub log: &'a HostProgress,
    pub inventory_path: &'a std::path::Path,
    /// What the modules keep for the whole run, shared with every other host's run.
    pub run_scope: &'a RunScope,
    pub roles: Vec<&'a Role>,
    pub vars: HostVars,
}

/// The tasks' outcomes; the host failed if one of them did.
pub struct Convergence {
    pub tasks: Vec<TaskReport>,
    pub failure: Option<TasksFailure>,
}

/// A host's items as the runner walks them, with what the latest probes found.
struct Walk<'a> {
    items: Vec<Item<'a>>,
    context: Context,
    /// By item index: the latest probe of each item still to run.
    findings: Probed,
    state: RunState,
    secrets: Vec<Secret>,
}

impl Walk<'_> {
    /// Tasks always run; a handler only when a task of its role notified it.
    fn wanted(&self, index: usize) -> bool {
        let item = &self.items[index];
        !item.handler
            || self
                .state
                .notified
                .contains(&(item.role.name.clone(), item.task.name.clone()))
    }
}

/// What a host's run has done so far: the reports, the handlers notified, and in `--check` the
/// changes it would have made.
#[derive(Default)]
pub(super) struct RunState {
    pub(super) reports: Vec<TaskReport>,
    pub(super) notified: BTreeSet<(String, String)>,
    /// Would-be changes in `--check`: who, and what they would create.
    pub(super) pending_changes: Vec<(String, Vec<Provides>)>,
}

impl HostRun<'_> {
    pub async fn converge(self) -> Convergence {
        let context = Context::from(minijinja::value::Serde(&self.vars));
        let items = match self.prepare(&context) {
            Ok(items) => items,
            Err(report) => {
                let failure = TasksFailure::NotRendered {
                    role: report.role.clone(),
                    task: report.task.clone(),
                    message: report.message.clone().unwrap_or_default(),
                };
                return Convergence {
                    tasks: vec![*report],
                    failure: Some(failure),
                };
            }
        };
        let secrets = self.secrets(&items);
        let findings = match self.probe(&items, 0, items.len()).await {
            Ok(findings) => findings,
            Err(message) => {
                return Convergence {
                    tasks: Vec::new(),
                    failure: Some(TasksFailure::Probes(message)),
                };
            }
        };
        self.log
            .start_tasks(items.iter().filter(|item| !item.handler).count());
        let mut walk = Walk {
            items,
            context,
            findings,
            state: RunState::default(),
            secrets,
        };
        for index in 0..walk.items.len() {
            if !walk.wanted(index) {
                continue;
            }
            // A role after an earlier role's change: its items are probed as the host now is.
            if index >= walk.findings.until {
                match self
                    .probe(&walk.items, index, role_end(&walk.items, index))
                    .await
                {
                    Ok(findings) => walk.findings = findings,
                    Err(message) => {
                        return Convergence {
                            tasks: walk.state.reports,
                            failure: Some(TasksFailure::Probes(message)),
                        };
                    }
                }
            }
            let Some(failure) = self.run_and_record(&mut walk, index).await else {
                continue;
            };
            if self.options.force_handlers {
                // The handlers the failed role had notified still run; later roles do not.
                let role = walk.items[index].role.name.clone();
                for later in index + 1..walk.items.len() {
                    if walk.items[later].handler
                        && walk.items[later].role.name == role
                        && walk.wanted(later)
                    {
                        self.run_and_record(&mut walk, later).await;
                    }
                }
            }
            return Convergence {
                tasks: walk.state.reports,
                failure: Some(failure),
            };
        }
        Convergence {
            tasks: walk.state.reports,
            failure: None,
        }
    }

    /// Runs one item and records its report; handlers it notifies are marked. Why it failed,
    /// when it did.
    async fn run_and_record(&self, walk: &mut Walk<'_>, index: usize) -> Option<TasksFailure> {
        let item = &walk.items[index];
        let started = Instant::now();
        self.log.step(&format!(
            "{}{} : {}",
            if item.handler { "handler " } else { "" },
            item.role.name,
            item.task.name
        ));
        let outcome = self
            .run_item(
                &walk.items,
                index,
                &walk.context,
                &mut walk.findings,
                &walk.state,
            )
            .await;
        if self.options.check && outcome.status == TaskStatus::Changed {
            walk.state
                .pending_changes
                .push((item.task.name.clone(), outcome.provides.clone()));
        }
        let report = self.report(item, outcome, started, &walk.secrets);
        self.log.detail(&format!(
            "{} : {}: {} in {} ms",
            item.role.name, item.task.name, report.status, report.elapsed_ms
        ));
        if report.status == TaskStatus::Changed {
            for handler in &item.task.notify {
                walk.state
                    .notified
                    .insert((item.role.name.clone(), handler.clone()));
            }
        }
        let failure = (report.status == TaskStatus::Failed).then(|| TasksFailure::Failed {
            role: item.role.name.clone(),
            task: item.task.name.clone(),
            reason: report
                .message
                .clone()
                .unwrap_or_else(|| "no reason given".to_string()),
        });
        walk.state.reports.push(report);
        if !item.handler {
            self.log.task_done();
        }
        failure
    }
}
