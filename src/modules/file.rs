//! `file`: a path's kind (directory, file, absent, touched) and its owner, group and mode. Only
//! the attributes the task names are compared; the others stay as they are.

use super::remote_file::{Attributes, attribute_plan, check_owner_group, probe_owner_group};
use super::shell::{FileKind, FileStat, quote};
use super::{
    Action, ArgError, ArgKind, ArgSpec, BuildContext, Findings, ModuleDef, ModuleKind, Plan,
    ProbeError, Provides, Rendered, Resource, Step,
};

const STATES: &[&str] = &["file", "directory", "absent", "touch"];

pub static FILE: ModuleDef = ModuleDef {
    name: "file",
    aliases: &[],
    args: &[
        ArgSpec::required("path", ArgKind::AbsPath),
        ArgSpec::optional("state", ArgKind::Choice(STATES)),
        ArgSpec::optional("owner", ArgKind::Account),
        ArgSpec::optional("group", ArgKind::Account),
        ArgSpec::optional("mode", ArgKind::Mode),
    ],
    free_form: None,
    kind: ModuleKind::Remote(build),
};

struct File {
    path: String,
    state: String,
    owner: Option<String>,
    group: Option<String>,
    mode: Option<u32>,
}

fn build(args: &Rendered, _: &BuildContext) -> Result<Box<dyn Action>, ArgError> {
    let path = args.abs_path("path")?;
    if path.trim_end_matches('/').is_empty() {
        return Err(ArgError::new("path", "relayctl will not manage /"));
    }
    Ok(Box::new(File {
        path: path.trim_end_matches('/').to_string(),
        state: args.choice_or("state", STATES, "file")?,
        owner: args.opt_word("owner")?,
        group: args.opt_word("group")?,
        mode: args.opt_mode("mode")?,
    }))
}

impl File {
    /// The wanted attributes, filling in what the task leaves open from `current`.
    fn wanted(&self, current: &Attributes) -> Attributes {
        Attributes {
            owner: self.owner.clone().unwrap_or_else(|| current.owner.clone()),
            group: self.group.clone().unwrap_or_else(|| current.group.clone()),
            mode: self.mode.unwrap_or(current.mode),
        }
    }

    fn create(&self, what: &str, command: &str, default_mode: u32) -> Plan {
        let owner = self.owner.as_deref().unwrap_or("root");
        let group = self.group.as_deref().unwrap_or("root");
        let mode = self.mode.unwrap_or(default_mode);
        let path = quote(&self.path);
        Plan {
            changes: vec![format!(
                "create {what} {} ({owner}:{group} {mode:04o})",
                self.path
            )],
            step: Some(Step {
                script: format!(
                    "{command} -- {path} && chown {} -- {path} && chmod {mode:04o} -- {path} || exit 1\n",
                    quote(&format!("{owner}:{group}"))
                ),
                ..Step::default()
            }),
            provides: vec![Provides::Resource(Resource::Path(self.path.clone()))],
            ..Plan::default()
        }
    }
}

impl Action for File {
    fn probe(&self) -> Option<String> {
        let mut script = format!("fstat p {}\n", quote(&self.path));
        if self.state != "absent" {
            script.push_str(&probe_owner_group(
                "p",
                self.owner.as_deref(),
                self.group.as_deref(),
            ));
        }
        Some(script)
    }

    fn plan(&self, found: &Findings) -> Result<Plan, ProbeError> {
        let stat = FileStat::from_findings(found, "p")?;
        if self.state == "absent" {
            return Ok(match stat {
                FileStat::Absent => Plan::unchanged(),
                FileStat::Present { kind, .. } => Plan {
                    changes: vec![format!("remove {} ({})", self.path, kind.describe())],
                    step: Some(Step {
                        script: format!("rm -rf -- {} || exit 1\n", quote(&self.path)),
                        ..Step::default()
                    }),
                    ..Plan::default()
                },
            });
        }
        check_owner_group(found, "p", self.owner.as_deref(), self.group.as_deref())?;
        let FileStat::Present {
            kind,
            owner,
            group,
            mode,
            ..
        } = stat
        else {
            return match self.state.as_str() {
                "directory" => Ok(self.create("directory", "mkdir -p", 0o755)),
                "touch" => Ok(self.create("empty file", "touch", 0o644)),
                _ => Err(ProbeError::Missing(
                    Resource::Path(self.path.clone()),
                    format!(
                        "{} does not exist (state: file only sets attributes; use copy, template or state: touch to create it)",
                        self.path
                    ),
                )),
            };
        };
        let expected = if self.state == "directory" {
            FileKind::Directory
        } else {
            FileKind::Regular
        };
        if kind != expected {
            return Err(ProbeError::Failed(format!(
                "{} is {}, not {}",
                self.path,
                kind.describe(),
                expected.describe()
            )));
        }
        let current = Attributes { owner, group, mode };
        Ok(attribute_plan(&self.path, &current, &self.wanted(&current)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn directory() -> File {
        File {
            path: "/home/medulla/.ssh".into(),
            state: "directory".into(),
            owner: Some("medulla".into()),
            group: None,
            mode: Some(0o700),
        }
    }

    fn found(stat: &str) -> Findings {
        Findings::from_values(&[("p", stat), ("p.owner", "yes")])
    }

    #[test]
    fn a_missing_directory_is_created_with_its_attributes() {
        let plan = directory().plan(&found("absent")).expect("plan");
        assert_eq!(
            plan.changes,
            ["create directory /home/medulla/.ssh (medulla:root 0700)"]
        );
    }

    #[test]
    fn only_named_attributes_are_compared() {
        let plan = directory()
            .plan(&found("directory|medulla|medulla|700|4096"))
            .expect("plan");
        assert!(!plan.is_change(), "{:?}", plan.changes);
        let plan = directory()
            .plan(&found("directory|root|medulla|755|4096"))
            .expect("plan");
        assert_eq!(
            plan.changes,
            [
                "/home/medulla/.ssh: owner root:medulla -> medulla:medulla",
                "/home/medulla/.ssh: mode 0755 -> 0700"
            ]
        );
    }

    #[test]
    fn a_file_where_a_directory_is_wanted_fails() {
        let error = directory()
            .plan(&found("regular file|root|root|644|0"))
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "/home/medulla/.ssh is a regular file, not a directory"
        );
    }
}
