//! A task or handler of a host's sequence, and what it will do once rendered for the host
//! (`render.rs` makes them; the walk, the probes and the outcome rules read them).

use std::path::PathBuf;

use super::role::Role;
use super::task::Task;
use crate::modules::Action;

/// A task or handler of the host's sequence.
pub(super) struct Item<'a> {
    pub(super) role: &'a Role,
    pub(super) task: &'a Task,
    pub(super) handler: bool,
    pub(super) work: Work,
}

/// What an item will do, once rendered for the host.
pub(super) enum Work {
    Skipped(String),
    Remote(Box<dyn Action>),
    Assert {
        that: Vec<String>,
        fail_msg: Option<String>,
        success_msg: Option<String>,
    },
    LoginCheck {
        user: String,
        key: PathBuf,
        command: String,
    },
}
