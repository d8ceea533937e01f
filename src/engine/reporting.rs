//! A task's outcome as its report shows it: every secret of the host masked, the file's diff
//! unified (with `--diff`).

use std::time::Instant;

use super::decide::ItemOutcome;
use super::item::{Item, Work};
use super::outcome::TaskReport;
use super::run::HostRun;
use crate::modules;
use crate::secret::{Secret, mask};
use crate::ssh::Become;

impl HostRun<'_> {
    /// Every secret this host's output must not show.
    pub(super) fn secrets(&self, items: &[Item]) -> Vec<Secret> {
        let mut secrets: Vec<Secret> = items
            .iter()
            .filter_map(|item| match &item.work {
                Work::Remote(action) => Some(action.secrets()),
                _ => None,
            })
            .flatten()
            .collect();
        if let Become::SudoWithPassword(password) = &self.session.target().escalation {
            secrets.push(password.clone());
        }
        secrets
    }

    pub(super) fn report(
        &self,
        item: &Item,
        outcome: ItemOutcome,
        started: Instant,
        secrets: &[Secret],
    ) -> TaskReport {
        let diff = outcome
            .diff
            .filter(|_| self.options.diff)
            .map(|diff| mask(&unified_diff(&diff), secrets));
        TaskReport {
            role: item.role.name.clone(),
            task: item.task.name.clone(),
            module: item.task.module.name,
            handler: item.handler,
            status: outcome.status,
            changes: outcome.changes.iter().map(|c| mask(c, secrets)).collect(),
            message: outcome.message.map(|m| mask(&m, secrets)),
            diff,
            elapsed_ms: started.elapsed().as_millis() as u64,
        }
    }
}

/// A unified diff of a file's change.
fn unified_diff(diff: &modules::FileDiff) -> String {
    let before = diff.before.as_deref().unwrap_or("");
    let after = diff.after.as_deref().unwrap_or("");
    let old = if diff.before.is_some() {
        format!("{} (before)", diff.path)
    } else {
        "/dev/null".to_string()
    };
    similar::TextDiff::from_lines(before, after)
        .unified_diff()
        .context_radius(3)
        .header(&old, &format!("{} (after)", diff.path))
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_file_diffs_against_dev_null() {
        let text = unified_diff(&modules::FileDiff {
            path: "/etc/x".into(),
            before: None,
            after: Some("a\n".into()),
        });
        assert!(
            text.starts_with("--- /dev/null\n+++ /etc/x (after)\n"),
            "{text}"
        );
        assert!(text.contains("+a\n"), "{text}");
    }
}
