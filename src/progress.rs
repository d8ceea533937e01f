//! What the core tells the operator while hosts are worked on: a small interface (as uv's
//! `Reporter`) that the fleet, the engine and the flow checks report to. They say what a host is
//! doing; how it is shown (indicatif bars on a terminal, log lines with `-v`, nothing at all) is
//! the edge's business: the terminal's implementation is `commands/terminal.rs`.

use std::sync::Arc;

/// Gives each host its own progress.
pub trait Progress: Send + Sync {
    /// The progress of host `name`, from its connection to its end.
    fn host(&self, name: &str) -> HostProgress;
}

/// What one host's work reports. Only `step` and `detail` must say something; a reporter that
/// shows no task count leaves the rest alone.
pub trait HostReporter: Send + Sync {
    /// A step of the host's work ("gathering facts", a task's name).
    fn step(&self, message: &str);

    /// A detail (SSH steps, the timing of each command), for the curious.
    fn detail(&self, message: &str);

    /// From now on the host has `total` tasks to run.
    fn start_tasks(&self, _total: usize) {}

    /// One more task done.
    fn task_done(&self) {}

    /// The host's work is over.
    fn finish(&self) {}
}

/// One host's progress; cheap to clone into the host's task.
#[derive(Clone)]
pub struct HostProgress(Arc<dyn HostReporter>);

impl HostProgress {
    pub fn new(reporter: impl HostReporter + 'static) -> Self {
        HostProgress(Arc::new(reporter))
    }

    pub fn step(&self, message: &str) {
        self.0.step(message);
    }

    pub fn detail(&self, message: &str) {
        self.0.detail(message);
    }

    pub fn start_tasks(&self, total: usize) {
        self.0.start_tasks(total);
    }

    pub fn task_done(&self) {
        self.0.task_done();
    }

    pub fn finish(&self) {
        self.0.finish();
    }
}
