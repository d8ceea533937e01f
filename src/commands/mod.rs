//! The edge of the library: one module per subcommand, each turning its command-line options
//! into a run ([`crate::pipeline`] for `apply` and `flows`, [`crate::fleet`] for `facts`; `inventory`
//! prints the inventory and contacts nothing), and
//! the terminal's progress (`terminal.rs`).

pub mod apply;
pub mod facts;
pub mod flows;
pub mod inventory;
mod terminal;

use std::path::Path;
use std::time::Duration;

use crate::cli::RunArgs;
use crate::engine;
use crate::error::Error;
use crate::pipeline::{self, Stage};
use crate::report::RunReport;
use terminal::TerminalProgress;

/// The relay pipeline for `command`, its progress on the terminal.
async fn relay_pipeline(
    command: &'static str,
    run: &RunArgs,
    stage: Stage,
    options: impl FnOnce(Duration) -> engine::Options,
    report_dir: Option<&Path>,
) -> Result<RunReport, Error> {
    let progress = TerminalProgress::for_run(run);
    pipeline::run(command, run, stage, options, report_dir, &progress).await
}
