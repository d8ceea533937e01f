//! `command` (alias `shell`): a command line run with `sh -c` as root. It cannot be probed, so
//! it runs every time unless `creates` (a path that, once there, means the work is done) or
//! `removes` says otherwise; `changed_when` (a task keyword) says whether a run changed anything.
//!
//! The command runs under GNU `timeout`, which puts it in a process group of its own and kills
//! the whole group when `--command-timeout` passes: sudo, which relays signals, cannot kill a
//! command's children by itself.

use std::time::Duration;

use super::shell::quote;
use super::{
    Action, Applied, ArgError, ArgKind, ArgSpec, BuildContext, CommandResult, Findings, ModuleDef,
    ModuleKind, Plan, ProbeError, Rendered, Step,
};

pub static COMMAND: ModuleDef = ModuleDef {
    name: "command",
    aliases: &["shell"],
    args: &[
        ArgSpec::required("cmd", ArgKind::Str),
        ArgSpec::optional("creates", ArgKind::AbsPath),
        ArgSpec::optional("removes", ArgKind::AbsPath),
        ArgSpec::optional("chdir", ArgKind::AbsPath),
    ],
    free_form: Some("cmd"),
    kind: ModuleKind::Remote(build),
};

/// `timeout`'s exit status when it had to stop the command.
const TIMED_OUT: i32 = 124;

struct Command {
    cmd: String,
    creates: Option<String>,
    removes: Option<String>,
    chdir: Option<String>,
    timeout: Duration,
}

fn build(args: &Rendered, ctx: &BuildContext) -> Result<Box<dyn Action>, ArgError> {
    let cmd = args.str("cmd")?;
    if cmd.trim().is_empty() {
        return Err(ArgError::new("cmd", "is empty"));
    }
    Ok(Box::new(Command {
        cmd,
        creates: args.opt_abs_path("creates")?,
        removes: args.opt_abs_path("removes")?,
        chdir: args.opt_abs_path("chdir")?,
        timeout: ctx.command_timeout,
    }))
}

impl Action for Command {
    fn probe(&self) -> Option<String> {
        let mut script = String::new();
        for (key, path) in [("creates", &self.creates), ("removes", &self.removes)] {
            if let Some(path) = path {
                script.push_str(&format!(
                    "if [ -e {} ]; then f {key} yes; else f {key} no; fi\n",
                    quote(path)
                ));
            }
        }
        (!script.is_empty()).then_some(script)
    }

    fn plan(&self, found: &Findings) -> Result<Plan, ProbeError> {
        if self.creates.is_some() && found.require("creates")? == "yes" {
            return Ok(Plan::unchanged());
        }
        if self.removes.is_some() && found.require("removes")? == "no" {
            return Ok(Plan::unchanged());
        }
        let cd = self
            .chdir
            .as_ref()
            .map(|dir| format!("cd {} || exit 1\n", quote(dir)))
            .unwrap_or_default();
        Ok(Plan {
            changes: vec![format!("run: {}", self.cmd)],
            step: Some(Step {
                script: format!(
                    "{cd}timeout -k 10 {} sh -c {} </dev/null\n",
                    self.timeout.as_secs().max(1),
                    quote(&self.cmd)
                ),
                raw_output: true,
                long_running: true,
                ..Step::default()
            }),
            ..Plan::default()
        })
    }

    fn applied(&self, output: &Findings) -> Result<Applied, String> {
        let result = CommandResult {
            rc: output.exit_status,
            stdout: String::from_utf8_lossy(&output.raw).into_owned(),
            stderr: output.stderr.clone(),
        };
        match result.rc {
            0 => Ok(Applied {
                notes: Vec::new(),
                command: Some(result),
            }),
            TIMED_OUT => Err(format!(
                "the command ran longer than {} s and was killed",
                self.timeout.as_secs()
            )),
            rc => Err(format!(
                "the command exited with status {rc}{}",
                match output.failure_text().as_str() {
                    text if text.starts_with("exited with") => String::new(),
                    text => format!(": {text}"),
                }
            )),
        }
    }
}
