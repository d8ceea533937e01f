//! What each task did on a host, for every output format.

use serde::Serialize;

/// How a task ended. In `--check`, `changed` means "would change".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    Ok,
    Changed,
    Failed,
    Skipped,
    /// `--check` only: the task depends on earlier changes that a dry run does not make, so
    /// what it would find cannot be known yet (e.g. a login check for a user not created yet).
    Pending,
}

impl std::fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TaskStatus::Ok => "ok",
            TaskStatus::Changed => "changed",
            TaskStatus::Failed => "failed",
            TaskStatus::Skipped => "skipped",
            TaskStatus::Pending => "pending",
        })
    }
}

/// One task (or handler) on one host.
#[derive(Clone, Debug, Serialize)]
pub struct TaskReport {
    pub role: String,
    pub task: String,
    pub module: &'static str,
    pub handler: bool,
    pub status: TaskStatus,
    /// What changed (or would), in words.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<String>,
    /// Why it failed, was skipped or is pending; what it noted (a backup).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// With `--diff`: the unified diff of the file it writes, secrets masked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    pub elapsed_ms: u64,
}

/// Why a host's tasks stopped: the host failed, and its later tasks did not run.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TasksFailure {
    /// A task could not be rendered for the host (an undefined variable, a bad argument):
    /// nothing ran.
    #[error("{role} : {task}: {message}")]
    NotRendered {
        role: String,
        task: String,
        message: String,
    },
    /// The probes of the tasks did not come back: nothing ran.
    #[error("probing the tasks: {0}")]
    Probes(String),
    /// A task failed.
    #[error("{role} : {task} failed: {reason}")]
    Failed {
        role: String,
        task: String,
        reason: String,
    },
}

/// Tallies of a host's tasks, Ansible's recap columns (`unreachable` is 1 for a host that could
/// not be worked on at all, as in Ansible's recap).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TaskCounts {
    pub ok: usize,
    pub changed: usize,
    pub failed: usize,
    pub skipped: usize,
    pub pending: usize,
    pub unreachable: usize,
}

impl TaskCounts {
    pub fn of(tasks: &[TaskReport], unreachable: bool) -> Self {
        let mut counts = TaskCounts {
            unreachable: usize::from(unreachable),
            ..TaskCounts::default()
        };
        for task in tasks {
            match task.status {
                TaskStatus::Ok => counts.ok += 1,
                TaskStatus::Changed => counts.changed += 1,
                TaskStatus::Failed => counts.failed += 1,
                TaskStatus::Skipped => counts.skipped += 1,
                TaskStatus::Pending => counts.pending += 1,
            }
        }
        counts
    }
}
