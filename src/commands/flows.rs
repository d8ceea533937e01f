//! `relayctl flows`: the flow checks and the confirmations of every relay, on their own. The same
//! relay pipeline as `apply` up to its roles (facts, sizing, pre-flight, the relay's variables),
//! which it leaves out: nothing changes on a relay but a listener on its inbound ports for the
//! duration of the check.

use crate::cli::FlowsArgs;
use crate::engine;
use crate::error::Error;
use crate::pipeline::Stage;
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
    super::relay_pipeline("flows", &args.run, stage, options, args.report.as_deref()).await
}
