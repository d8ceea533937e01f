//! The rules that decide how a task ends, before it is reported: a plan that changes nothing is
//! `ok`; in `--check` a change is reported and not made, a prerequisite missing is a change or
//! `pending` when an earlier task would create it, and a read-only check that fails after
//! would-be changes is `pending`; otherwise the step's result and `changed_when` decide.

use minijinja::Value as Context;

use super::item::{Item, Work};
use super::outcome::TaskStatus;
use super::probed::Probed;
use super::run::{HostRun, RunState};
use super::task::Condition;
use crate::modules::{self, Action, CommandResult, Findings, ProbeError, Provides};

impl HostRun<'_> {
    /// Runs one item; its status, changes, message and diff.
    pub(super) async fn run_item(
        &self,
        items: &[Item<'_>],
        index: usize,
        context: &Context,
        findings: &mut Probed,
        state: &RunState,
    ) -> ItemOutcome {
        let item = &items[index];
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
            Work::LoginCheck { user, key, command } => {
                self.login_check(user, key, command, state).await
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
        findings: &mut Probed,
        state: &RunState,
    ) -> ItemOutcome {
        let item = &items[index];
        let check = self.options.check;
        let plan = match findings.found.get(&index) {
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
            .found
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
    pub(super) fn failed_check(&self, state: &RunState, message: String) -> ItemOutcome {
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
    pub(super) fn status(status: TaskStatus, message: Option<String>) -> Self {
        ItemOutcome {
            status,
            changes: Vec::new(),
            message,
            provides: Vec::new(),
            diff: None,
        }
    }
}
