//! `sudoers`: one rule in its own drop-in, `/etc/sudoers.d/NAME`, root:root 0440, checked with
//! `visudo -cf` before it replaces anything: a broken sudoers file would lock every sudo user
//! out, relayctl included.

use super::content::applied_write;
use super::remote_file::ManagedFile;
use super::shell::{FileStat, quote};
use super::{
    Action, Applied, ArgError, ArgKind, ArgSpec, BuildContext, Findings, ModuleDef, ModuleKind,
    Plan, ProbeError, Rendered, Step,
};
use crate::modules::PRESENT_ABSENT;

const SUDOERS_D: &str = "/etc/sudoers.d";

pub static SUDOERS: ModuleDef = ModuleDef {
    name: "sudoers",
    aliases: &[],
    args: &[
        ArgSpec::required("name", ArgKind::Word),
        ArgSpec::optional("user", ArgKind::ManagedUser),
        ArgSpec::optional("group", ArgKind::Account),
        ArgSpec::optional("commands", ArgKind::TextList),
        ArgSpec::optional("runas", ArgKind::Word),
        ArgSpec::optional("nopassword", ArgKind::Bool),
        ArgSpec::optional("state", ArgKind::Choice(PRESENT_ABSENT)),
    ],
    free_form: None,
    kind: ModuleKind::Remote(build),
};

struct Sudoers {
    file: ManagedFile,
    present: bool,
}

fn build(args: &Rendered, _: &BuildContext) -> Result<Box<dyn Action>, ArgError> {
    Ok(Box::new(sudoers(args)?))
}

fn sudoers(args: &Rendered) -> Result<Sudoers, ArgError> {
    let name = args.word("name")?;
    // sudo skips drop-ins whose name has a dot or ends with ~: the rule would silently not apply.
    if name.contains('.') || name.ends_with('~') || name.contains('/') {
        return Err(ArgError::new(
            "name",
            format!("{name:?}: sudo ignores files in {SUDOERS_D} with a dot, a slash or a final ~"),
        ));
    }
    let present = args.present()?;
    let content = if present {
        let who = match (args.opt_word("user")?, args.opt_word("group")?) {
            (Some(user), None) => user,
            (None, Some(group)) => format!("%{group}"),
            _ => return Err(ArgError::new("user", "give either user or group")),
        };
        let commands = args.text_list("commands")?;
        if commands.is_empty() {
            return Err(ArgError::new(
                "commands",
                "is required (ALL for every command)",
            ));
        }
        format!(
            "# Managed by relayctl: changes made here are overwritten.\n{who} ALL=({}) {}{}\n",
            args.opt_word("runas")?.unwrap_or_else(|| "ALL".into()),
            if args.bool_or("nopassword", true)? {
                "NOPASSWD: "
            } else {
                ""
            },
            commands.join(", ")
        )
    } else {
        String::new()
    };
    Ok(Sudoers {
        file: ManagedFile {
            path: format!("{SUDOERS_D}/{name}"),
            content: content.into_bytes(),
            owner: Some("root".into()),
            group: Some("root".into()),
            mode: Some(0o440),
            validate: Some("visudo -cf %s".into()),
            backup: false,
        },
        present,
    })
}

impl Action for Sudoers {
    fn probe(&self) -> Option<String> {
        Some(self.file.probe("s"))
    }

    fn plan(&self, found: &Findings) -> Result<Plan, ProbeError> {
        if self.present {
            return self.file.plan(found, "s");
        }
        Ok(match FileStat::from_findings(found, "s")? {
            FileStat::Absent => Plan::unchanged(),
            FileStat::Present { .. } => Plan {
                changes: vec![format!("remove {}", self.file.path)],
                step: Some(Step {
                    script: format!("rm -f -- {} || exit 1\n", quote(&self.file.path)),
                    ..Step::default()
                }),
                ..Plan::default()
            },
        })
    }

    fn applied(&self, output: &Findings) -> Result<Applied, String> {
        applied_write(output)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::BTreeMap;

    fn build_with(values: &[(&'static str, serde_json::Value)]) -> Result<Sudoers, ArgError> {
        sudoers(&Rendered::new(
            values.iter().cloned().collect::<BTreeMap<_, _>>(),
        ))
    }

    #[test]
    fn the_medulla_rule_is_the_procedures() {
        let sudoers = build_with(&[
            ("name", json!("medulla")),
            ("user", json!("medulla")),
            ("commands", json!("ALL")),
        ])
        .expect("valid");
        assert_eq!(sudoers.file.path, "/etc/sudoers.d/medulla");
        assert_eq!(
            String::from_utf8_lossy(&sudoers.file.content),
            "# Managed by relayctl: changes made here are overwritten.\nmedulla ALL=(ALL) NOPASSWD: ALL\n"
        );
        assert_eq!(sudoers.file.mode, Some(0o440));
    }

    #[test]
    fn a_name_sudo_would_ignore_is_refused() {
        let error = build_with(&[
            ("name", json!("medulla.conf")),
            ("user", json!("medulla")),
            ("commands", json!("ALL")),
        ])
        .err()
        .expect("refused");
        assert!(error.message.contains("sudo ignores"), "{error}");
    }
}
