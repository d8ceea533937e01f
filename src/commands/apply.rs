//! `relayctl apply`: converge relays, then check their flows and gather the confirmations (the
//! relay pipeline, [`crate::pipeline`]). `--check` stops at the tasks' probes: it changes
//! nothing on any host, and checks no flow.

use crate::cli::ApplyArgs;
use crate::engine;
use crate::error::Error;
use crate::pipeline::Stage;
use crate::report::RunReport;

pub async fn run(args: &ApplyArgs) -> Result<RunReport, Error> {
    let stage = Stage {
        roles: true,
        // The flow checks open listeners on the relays: not in a dry run.
        flows: !args.check && !args.no_flows,
    };
    let options = |command_timeout| engine::Options {
        check: args.check,
        diff: args.diff,
        tags: args.tags.clone(),
        skip_tags: args.skip_tags.clone(),
        force_handlers: args.force_handlers,
        command_timeout,
    };
    super::relay_pipeline("apply", &args.run, stage, options, args.report.as_deref()).await
}
