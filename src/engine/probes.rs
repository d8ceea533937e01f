//! Which probes run in which round trip: all of them before the first task, then with each
//! change those of the later items of the same role, and a read-only check among them only where
//! what it sees then is what it would see in its turn. A later role's items are probed again, in
//! one round trip, when its turn comes after a change ([`Probed`]): each item is still planned
//! from the host as it then is, without every change re-reading every role after it (a cold
//! relay's medulla_user and medulla_prereqs changes re-probed the firewall's three tasks seven
//! times).

use std::time::{Duration, Instant};

use super::batch::{self, Section};
use super::item::{Item, Work};
use super::probed::Probed;
use super::run::HostRun;
use super::task::Condition;
use crate::modules::{Findings, Step};

/// Margin for a batch whose step runs a command under the host's own `timeout`.
pub(super) const LONG_STEP_GRACE: Duration = Duration::from_secs(30);

impl Item<'_> {
    /// A command that only looks (`check_mode: false`, `changed_when: false`, no creates or
    /// removes to probe first): its step, which then runs in the probes' round trip, and again
    /// after an earlier change that nothing else stands between (see [`probe_sections`]), so it
    /// sees the host as it is when its turn comes. A no-op run saves a round trip (and a sudo)
    /// per such task.
    pub(super) fn read_only_check(&self) -> Option<Step> {
        let Work::Remote(action) = &self.work else {
            return None;
        };
        if !self.task.runs_in_check_mode
            || self.task.changed_when != Some(Condition::Always(false))
            || action.probe().is_some()
        {
            return None;
        }
        action.plan(&Findings::default()).ok()?.step
    }
}

/// The probe sections of the remote items from `from` on. A read-only check (see
/// [`Item::read_only_check`]) runs among them in the first round trip; after a change, only
/// when no item between the change and the check may change the host. Otherwise what it sees
/// now is not what it will see when its turn comes: it runs then, on its own (a sudo check
/// after the user, sudoers and key tasks of a fresh relay runs twice, not after each).
pub(super) fn probe_sections(items: &[Item], from: usize, to: usize) -> Vec<Section> {
    let mut settled = true;
    let mut sections = Vec::new();
    for (index, item) in items.iter().enumerate().take(to).skip(from) {
        match (&item.work, item.read_only_check()) {
            // It only looks, but a command is not a probe: it runs every time.
            (_, Some(step)) if from == 0 || settled => {
                sections.push(Section::step(
                    index,
                    step.script,
                    Vec::new(),
                    step.raw_output,
                ));
            }
            (_, Some(_)) => {}
            (Work::Remote(action), None) => {
                settled = false;
                if let Some(script) = action.probe() {
                    sections.push(Section::probe(index, script));
                }
            }
            _ => {}
        }
    }
    sections
}

impl HostRun<'_> {
    /// How long a batch of probes may take: a read-only check among them runs under the
    /// host's `timeout`, like any command.
    pub(super) fn probe_timeout(&self, sections: &[Section]) -> Duration {
        if sections.iter().any(|s| s.raw) {
            self.options.command_timeout.saturating_add(LONG_STEP_GRACE)
        } else {
            self.options.command_timeout
        }
    }

    /// Probes the items `from..to` in one round trip.
    pub(super) async fn probe(
        &self,
        items: &[Item<'_>],
        from: usize,
        to: usize,
    ) -> Result<Probed, String> {
        let sections = probe_sections(items, from, to);
        let started = Instant::now();
        let result = batch::run(self.session, &sections, self.probe_timeout(&sections))
            .await
            .map_err(|e| e.to_string());
        self.log.detail(&format!(
            "probed {} tasks in one round trip: {} ms",
            sections.len(),
            started.elapsed().as_millis()
        ));
        result.map(|found| Probed { found, until: to })
    }
}
