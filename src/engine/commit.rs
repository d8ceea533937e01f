//! Carrying out a plan's step, with the probes of its role's later items in the same round trip, and
//! the commit-confirmed protocol of a step that could lock the controller out: confirmed over a
//! NEW SSH connection, or reverted over the current one.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::batch::{self, Section};
use super::item::Item;
use super::probed::{Probed, role_end};
use super::probes::{LONG_STEP_GRACE, probe_sections};
use super::run::HostRun;
use crate::modules::{self, Action, Findings, Step};

impl HostRun<'_> {
    /// Carries out a plan's step, with the probes of the later items of its role in the same
    /// round trip (their findings replace the earlier ones; later roles' are probed in their turn).
    pub(super) async fn apply(
        &self,
        items: &[Item<'_>],
        index: usize,
        action: &dyn Action,
        mut step: Step,
        findings: &mut Probed,
    ) -> Result<modules::Applied, String> {
        step.finish().await?;
        let mut sections = vec![Section::step(
            index,
            step.script,
            step.stdin,
            step.raw_output,
        )];
        // A read-only check changes nothing: what the later items were found to be stands.
        let read_only = items[index].read_only_check().is_some();
        // A step to be confirmed is re-probed after its confirmation, which changes the host too.
        let end = role_end(items, index);
        if step.confirm.is_none() && !read_only {
            sections.extend(probe_sections(items, index + 1, end));
        }
        let timeout = if step.long_running {
            self.options.command_timeout.saturating_add(LONG_STEP_GRACE)
        } else {
            self.probe_timeout(&sections)
        };
        let started = Instant::now();
        let fallback = step.confirm.as_ref().map(|c| c.fallback.clone());
        let mut results = batch::run(self.session, &sections, timeout)
            .await
            .map_err(|e| match &fallback {
                // The step may have been carried out: the host's own undo is what remains.
                Some(fallback) => format!("{e}; {fallback}"),
                None => e.to_string(),
            })?;
        self.log.detail(&format!(
            "applied and re-probed {} later tasks: {} ms",
            sections.len() - 1,
            started.elapsed().as_millis()
        ));
        let own = results
            .remove(&index)
            .ok_or("the step's output is missing")?;
        let mut applied = action.applied(&own)?;
        match step.confirm {
            None if read_only => {}
            None => {
                *findings = Probed {
                    found: results,
                    until: end,
                }
            }
            Some(confirmation) => {
                let (confirmed, later) = self
                    .confirm(items, index, action, confirmation, timeout)
                    .await?;
                applied.notes.extend(confirmed.notes);
                *findings = Probed {
                    found: later,
                    until: end,
                };
            }
        }
        for file in &step.after {
            modules::write_controller_file(file)
                .map_err(|e| format!("cannot write {}: {e}", file.path.display()))?;
        }
        Ok(applied)
    }

    /// Confirms a step over a NEW SSH connection (see [`modules::Confirmation`]), with the probes
    /// of its role's later items; without one, reverts it over the current connection.
    async fn confirm(
        &self,
        items: &[Item<'_>],
        index: usize,
        action: &dyn Action,
        confirmation: modules::Confirmation,
        timeout: Duration,
    ) -> Result<(modules::Applied, HashMap<usize, Findings>), String> {
        let started = Instant::now();
        let fresh = match self.connector.connect(self.session.target()).await {
            Ok(fresh) => fresh,
            Err(error) => return Err(self.revert(index, &confirmation, &error.to_string()).await),
        };
        let mut sections = vec![Section::step(
            index,
            confirmation.step.script,
            confirmation.step.stdin,
            false,
        )];
        sections.extend(probe_sections(items, index + 1, role_end(items, index)));
        // A read-only check among the re-probes runs under the host's `timeout`: the batch waits
        // longer than that, as a probe batch with one does.
        let timeout = timeout.max(self.probe_timeout(&sections));
        let result = batch::run(&fresh, &sections, timeout).await;
        fresh.close().await;
        self.log.detail(&format!(
            "confirmed over a new connection and re-probed {} later tasks: {} ms",
            sections.len() - 1,
            started.elapsed().as_millis()
        ));
        let mut results = result.map_err(|e| {
            format!(
                "the confirmation over a new SSH connection failed ({e}); {}",
                confirmation.fallback
            )
        })?;
        let own = results
            .remove(&index)
            .ok_or("the confirmation's output is missing")?;
        let applied = action
            .applied(&own)
            .map_err(|e| format!("not confirmed: {e}"))?;
        Ok((applied, results))
    }

    /// No new connection could be opened after a step: undo it now over the current one. Returns
    /// the task's failure message, which says what the host is left with.
    async fn revert(
        &self,
        index: usize,
        confirmation: &modules::Confirmation,
        why: &str,
    ) -> String {
        let section = Section::step(index, confirmation.revert.clone(), Vec::new(), false);
        let reverted = batch::run(self.session, &[section], confirmation.revert_within).await;
        let outcome = match reverted.map(|mut r| r.remove(&index)) {
            Ok(Some(found)) if found.exit_status == 0 => match found.get("reverted") {
                Some("now") => {
                    "rolled back over the current connection: the previous table is in place"
                        .to_string()
                }
                _ => "the host had already rolled back by itself: the previous table is in place"
                    .to_string(),
            },
            Ok(Some(found)) => format!(
                "the rollback over the current connection failed ({}); {}",
                found.failure_text(),
                confirmation.fallback
            ),
            Ok(None) => format!("the rollback printed nothing; {}", confirmation.fallback),
            Err(e) => format!(
                "the rollback over the current connection failed ({e}); {}",
                confirmation.fallback
            ),
        };
        format!("a new SSH connection to the host failed after the change ({why}): {outcome}")
    }
}
