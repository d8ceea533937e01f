//! `relayctl flows`: the flow checks and the confirmations of every relay, on their own. The same
//! relay pipeline as `apply` up to its roles (facts, sizing, pre-flight, the relay's variables),
//! which it leaves out: nothing changes on a relay but a listener on its inbound ports for the
//! duration of the check.

use super::terminal::TerminalProgress;
use crate::cli::{FlowsArgs, OutputFormat};
use crate::engine;
use crate::error::Error;
use crate::pipeline::{self, Stage};
use crate::report::RunReport;

pub async fn run(args: &FlowsArgs) -> Result<RunReport, Error> {
    let stage = Stage {
        roles: false,
        flows: true,
    };
    let options = |command_timeout| engine::Options {
        check: false,
        diff: false,
        tags: Vec::new(),
        skip_tags: Vec::new(),
        force_handlers: false,
        command_timeout,
    };
    let progress = TerminalProgress::new(args.run.format == OutputFormat::Human, args.run.verbose);
    pipeline::run(
        "flows",
        &args.run,
        stage,
        options,
        args.report.as_deref(),
        &progress,
    )
    .await
}
