//! Running a relay's roles: every task rendered, then probed, then carried out, in order.
//!
//! 1. Render: `when` is evaluated and every task's arguments are rendered into an action before
//!    anything runs, so an undefined variable in the fifth task fails the host with nothing
//!    changed.
//! 2. Probe: the probes of all tasks and handlers run in one round trip.
//! 3. Walk the tasks in order. A task whose plan changes nothing is `ok`. In `--check` a change
//!    is reported (`changed` = would change) and not made. Otherwise the plan's step runs in a
//!    batch together with the probes of every later task, so that they see the host as it now
//!    is: one round trip per change, none per unchanged task.
//! 4. After a role's tasks, the handlers its changed tasks notified run, once each.
//!
//! A task that fails stops the host (with `--force-handlers`, notified handlers still run).
//! In `--check`, a probe that finds a prerequisite missing (the user an authorized_key task
//! needs) is not a failure when an earlier task would create it: the task would change, after
//! that one. A read-only check that fails after earlier would-be changes is `pending`.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use minijinja::Value as Context;

use super::catalog::Catalog;
use super::outcome::{TaskReport, TaskStatus};
use super::render::{Item, Work};
use super::role::{Condition, Role};
use super::vars::HostVars;
use crate::modules::{self, Action, CommandResult, Findings, ProbeError, Provides};
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
    pub roles: Vec<&'a Role>,
    pub vars: HostVars,
}

/// The tasks' outcomes; the host failed if one of them did.
pub struct Convergence {
    pub tasks: Vec<TaskReport>,
    pub failure: Option<String>,
}

/// A host's items as the runner walks them, with what the latest probes found.
struct Walk<'a> {
    items: Vec<Item<'a>>,
    context: Context,
    /// By item index: the latest probe of each item still to run.
    findings: HashMap<usize, Findings>,
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
struct RunState {
    reports: Vec<TaskReport>,
    notified: BTreeSet<(String, String)>,
    /// Would-be changes in `--check`: who, and what they would create.
    pending_changes: Vec<(String, Vec<Provides>)>,
}

impl HostRun<'_> {
    pub async fn converge(self) -> Convergence {
        let context = Context::from(minijinja::value::Serde(&self.vars));
        let items = match self.prepare(&context) {
            Ok(items) => items,
            Err(report) => {
                let failure = format!(
                    "{} : {}: {}",
                    report.role,
                    report.task,
                    report.message.clone().unwrap_or_default()
                );
                return Convergence {
                    tasks: vec![*report],
                    failure: Some(failure),
                };
            }
        };
        let secrets = self.secrets(&items);
        let findings = match self.probe(&items, 0).await {
            Ok(findings) => findings,
            Err(message) => {
                return Convergence {
                    tasks: Vec::new(),
                    failure: Some(format!("probing the tasks: {message}")),
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

    /// Runs one item and records its report; handlers it notifies are marked. The failure
    /// message, when it failed.
    async fn run_and_record(&self, walk: &mut Walk<'_>, index: usize) -> Option<String> {
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
        let failure = (report.status == TaskStatus::Failed).then(|| {
            format!(
                "{} : {} failed: {}",
                item.role.name,
                item.task.name,
                report.message.as_deref().unwrap_or("no reason given")
            )
        });
        walk.state.reports.push(report);
        if !item.handler {
            self.log.task_done();
        }
        failure
    }

    /// Runs one item; its status, changes, message and diff.
    async fn run_item(
        &self,
        items: &[Item<'_>],
        index: usize,
        context: &Context,
        findings: &mut HashMap<usize, Findings>,
        state: &RunState,
    ) -> ItemOutcome {
        let item = &items[index];
        let check = self.options.check;
        match &item.work {
            Work::Skipped(reason) => ItemOutcome::status(TaskStatus::Skipped, Some(reason.clone())),
            Work::Assert {
                that,
                fail_msg,
                success_msg,
            } => {
                for condition in that {
                    match self.catalog.templates.is_true(condition, context) {
                        Ok(true) => {}
                        Ok(false) => {
                            return ItemOutcome::status(
                                TaskStatus::Failed,
                                Some(
                                    fail_msg.clone().unwrap_or_else(|| {
                                        format!("assertion failed: {condition}")
                                    }),
                                ),
                            );
                        }
                        Err(e) => {
                            return ItemOutcome::status(
                                TaskStatus::Failed,
                                Some(format!("{condition}: {e}")),
                            );
                        }
                    }
                }
                ItemOutcome::status(TaskStatus::Ok, success_msg.clone())
            }
            // In --check after would-be changes, the login is not even tried: it would fail, and
            // a failed SSH authentication counts toward fail2ban's ban of the controller.
            Work::LoginCheck { user, .. } if check && !state.pending_changes.is_empty() => {
                ItemOutcome::status(
                    TaskStatus::Pending,
                    Some(format!(
                        "the login as {user} is tried once the {} earlier change(s) are made",
                        state.pending_changes.len()
                    )),
                )
            }
            Work::LoginCheck { user, key, command } => {
                match self.login_check(user, key, command).await {
                    Ok(()) => ItemOutcome::status(
                        TaskStatus::Ok,
                        Some(format!(
                            "{user} logged in with {} and ran {command}",
                            key.display()
                        )),
                    ),
                    Err(e) => self.failed_check(state, e),
                }
            }
            Work::Remote(action) => {
                self.run_remote(items, index, action.as_ref(), findings, state)
                    .await
            }
        }
    }

    /// A task whose module works on the host: its plan from the latest probe, then, unless in
    /// `--check`, its step.
    async fn run_remote(
        &self,
        items: &[Item<'_>],
        index: usize,
        action: &dyn Action,
        findings: &mut HashMap<usize, Findings>,
        state: &RunState,
    ) -> ItemOutcome {
        let item = &items[index];
        let check = self.options.check;
        let plan = match findings.get(&index) {
            Some(found) => action.plan(found),
            // A module with nothing to probe plans from nothing.
            None if action.probe().is_none() => action.plan(&Findings::default()),
            None => Err(ProbeError::Failed("the probe did not run".into())),
        };
        let mut plan = match plan {
            Ok(plan) => plan,
            Err(ProbeError::Missing(resource, message)) if check => {
                let provider = state.pending_changes.iter().find_map(|(name, provides)| {
                    provides
                        .iter()
                        .find(|p| p.covers(&resource))
                        .map(|p| (name, p))
                });
                return match provider {
                    // A task that creates exactly this (a user, a directory): this task
                    // starts from nothing, so it will change.
                    Some((name, Provides::Resource(_))) => ItemOutcome {
                        status: TaskStatus::Changed,
                        changes: vec![format!("{message} yet: created first by {name:?}")],
                        message: None,
                        provides: Vec::new(),
                        diff: None,
                    },
                    // A package may create it and set it up as well: what this task
                    // will find is unknown until the package is there.
                    Some((name, Provides::Anything)) => ItemOutcome::status(
                        TaskStatus::Pending,
                        Some(format!(
                            "{message} yet: {name:?} may create it; known once that change is made"
                        )),
                    ),
                    None => ItemOutcome::status(TaskStatus::Failed, Some(message)),
                };
            }
            Err(error) => {
                return ItemOutcome::status(TaskStatus::Failed, Some(error.to_string()));
            }
        };
        if !plan.is_change() {
            return ItemOutcome::status(TaskStatus::Ok, None);
        }
        if check && !item.task.runs_in_check_mode {
            let reports_no_change = item.task.changed_when == Some(Condition::Always(false));
            return ItemOutcome {
                status: if reports_no_change {
                    TaskStatus::Ok
                } else {
                    TaskStatus::Changed
                },
                message: reports_no_change.then(|| "would run; reports no change".into()),
                changes: plan.changes,
                provides: plan.provides,
                diff: plan.diff,
            };
        }
        let Some(step) = plan.step.take() else {
            return ItemOutcome::status(
                TaskStatus::Failed,
                Some("a change without a step (a module bug)".into()),
            );
        };
        let result = match findings
            .remove(&index)
            .filter(|_| item.read_only_check().is_some())
        {
            // It only looks, so it ran with the probes: its output is there already.
            Some(found) => action.applied(&found),
            None => self.apply(items, index, action, step, findings).await,
        };
        match result {
            Ok(applied) => {
                let changed = match (&item.task.changed_when, &applied.command) {
                    (Some(Condition::Always(value)), _) => *value,
                    (Some(Condition::Expression(expr)), Some(result)) => {
                        match self.changed_when(expr, result) {
                            Ok(value) => value,
                            Err(e) => {
                                return ItemOutcome::status(TaskStatus::Failed, Some(e));
                            }
                        }
                    }
                    _ => true,
                };
                ItemOutcome {
                    status: if changed {
                        TaskStatus::Changed
                    } else {
                        TaskStatus::Ok
                    },
                    changes: if changed { plan.changes } else { Vec::new() },
                    message: (!applied.notes.is_empty()).then(|| applied.notes.join("; ")),
                    provides: plan.provides,
                    diff: if changed { plan.diff } else { None },
                }
            }
            Err(message) if check => self.failed_check(state, message),
            Err(message) => ItemOutcome::status(TaskStatus::Failed, Some(message)),
        }
    }

    /// A read-only check failed: in `--check`, after would-be changes, it may only be failing
    /// because they were not made.
    fn failed_check(&self, state: &RunState, message: String) -> ItemOutcome {
        let earlier = state.pending_changes.len();
        if self.options.check && earlier > 0 {
            return ItemOutcome::status(
                TaskStatus::Pending,
                Some(format!(
                    "cannot be verified before the {earlier} earlier change(s) are applied; now: {message}"
                )),
            );
        }
        ItemOutcome::status(TaskStatus::Failed, Some(message))
    }

    /// `changed_when` over the host's variables and the command's `result`.
    fn changed_when(&self, expr: &str, result: &CommandResult) -> Result<bool, String> {
        let mut vars = self.vars.clone();
        vars.insert(
            "result".into(),
            serde_json::to_value(result).map_err(|e| e.to_string())?,
        );
        self.catalog
            .templates
            .is_true(expr, &Context::from(minijinja::value::Serde(&vars)))
            .map_err(|e| format!("changed_when: {e}"))
    }

    /// A new SSH connection to the host as `user` with `key`, running `command`.
    async fn login_check(
        &self,
        user: &str,
        key: &std::path::Path,
        command: &str,
    ) -> Result<(), String> {
        self.connector
            .check_login(self.session.target(), user, key, command)
            .await
    }
}

/// What running an item came to, before it is reported.
pub(super) struct ItemOutcome {
    pub(super) status: TaskStatus,
    pub(super) changes: Vec<String>,
    pub(super) message: Option<String>,
    pub(super) provides: Vec<Provides>,
    pub(super) diff: Option<modules::FileDiff>,
}

impl ItemOutcome {
    fn status(status: TaskStatus, message: Option<String>) -> Self {
        ItemOutcome {
            status,
            changes: Vec::new(),
            message,
            provides: Vec::new(),
            diff: None,
        }
    }
}
