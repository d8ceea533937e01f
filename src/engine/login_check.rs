//! `login_check`, run by the engine itself: a new SSH login to the host as another user, from the
//! controller, which proves that the key and the sudo rule the roles set up work together.

use std::path::Path;

use super::decide::ItemOutcome;
use super::outcome::TaskStatus;
use super::run::{HostRun, RunState};

impl HostRun<'_> {
    /// A new SSH connection to the host as `user` with `key`, running `command`.
    pub(super) async fn login_check(
        &self,
        user: &str,
        key: &Path,
        command: &str,
        state: &RunState,
    ) -> ItemOutcome {
        // In --check after would-be changes, the login is not even tried: it would fail, and
        // a failed SSH authentication counts toward fail2ban's ban of the controller.
        if self.options.check && !state.pending_changes.is_empty() {
            return ItemOutcome::status(
                TaskStatus::Pending,
                Some(format!(
                    "the login as {user} is tried once the {} earlier change(s) are made",
                    state.pending_changes.len()
                )),
            );
        }
        match self
            .connector
            .check_login(self.session.target(), user, key, command)
            .await
        {
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
}
