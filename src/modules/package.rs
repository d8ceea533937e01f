//! `package` (alias `apt`): Debian packages, installed or removed with apt-get. Nothing runs,
//! not even `apt-get update`, when every package is already as wanted; when something must be
//! installed, the package lists are updated first (a fresh Debian 12 image has none).

use super::shell::quote;
use super::{
    Action, ArgError, ArgKind, ArgSpec, BuildContext, Findings, ModuleDef, ModuleKind, Plan,
    ProbeError, Provides, Rendered, Step,
};
use crate::modules::PRESENT_ABSENT;

pub static PACKAGE: ModuleDef = ModuleDef {
    name: "package",
    aliases: &["apt"],
    args: &[
        ArgSpec::required("name", ArgKind::WordList),
        ArgSpec::optional("state", ArgKind::Choice(PRESENT_ABSENT)),
    ],
    free_form: None,
    kind: ModuleKind::Remote(build),
};

struct Package {
    names: Vec<String>,
    present: bool,
}

fn build(args: &Rendered, _: &BuildContext) -> Result<Box<dyn Action>, ArgError> {
    let names = args.word_list("name")?;
    if names.is_empty() {
        return Err(ArgError::new("name", "names no package"));
    }
    if let Some(bad) = names.iter().find(|n| {
        n.starts_with('-')
            || !n
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.:".contains(c))
    }) {
        return Err(ArgError::new(
            "name",
            format!("{bad:?} is not a Debian package name"),
        ));
    }
    Ok(Box::new(Package {
        names,
        present: args.present()?,
    }))
}

impl Action for Package {
    fn probe(&self) -> Option<String> {
        let names: Vec<String> = self.names.iter().map(|n| quote(n)).collect();
        // One dpkg-query for every package; unknown ones are simply not listed. Its lines are
        // read from a here-document, not a pipe: the loop runs in this shell, one process less.
        Some(format!(
            "_pkgs=$(dpkg-query -W -f='${{Package}} ${{db:Status-Status}}\\n' {} 2>/dev/null)\n\
             while read -r _n _s; do if [ -n \"$_n\" ]; then f \"pkg.$_n\" \"$_s\"; fi; done <<PKGS\n\
             $_pkgs\nPKGS\n",
            names.join(" ")
        ))
    }

    fn plan(&self, found: &Findings) -> Result<Plan, ProbeError> {
        let installed = |name: &str| {
            let base = name.split(':').next().unwrap_or(name);
            found.get(&format!("pkg.{base}")) == Some("installed")
        };
        let todo: Vec<&String> = self
            .names
            .iter()
            .filter(|n| installed(n) != self.present)
            .collect();
        if todo.is_empty() {
            return Ok(Plan::unchanged());
        }
        let list = todo.iter().map(|n| quote(n)).collect::<Vec<_>>().join(" ");
        let words = todo
            .iter()
            .map(|n| n.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        // apt's chatter goes to stderr: shown (its end) only when the step fails.
        let (change, script) = if self.present {
            (
                format!("install {words}"),
                format!(
                    "export DEBIAN_FRONTEND=noninteractive\n\
                     apt-get -q update >&2 || exit 1\n\
                     apt-get -q -y --no-install-recommends -o Dpkg::Options::=--force-confdef \
                     -o Dpkg::Options::=--force-confold install {list} >&2 || exit 1\n"
                ),
            )
        } else {
            (
                format!("remove {words}"),
                format!(
                    "export DEBIAN_FRONTEND=noninteractive\n\
                     apt-get -q -y remove {list} >&2 || exit 1\n"
                ),
            )
        };
        Ok(Plan {
            changes: vec![change],
            step: Some(Step {
                script,
                long_running: true,
                ..Step::default()
            }),
            provides: if self.present {
                vec![Provides::Anything]
            } else {
                Vec::new()
            },
            ..Plan::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installed_packages_need_nothing_not_even_an_update() {
        let package = Package {
            names: vec!["cron".into(), "sudo".into()],
            present: true,
        };
        let plan = package
            .plan(&Findings::from_values(&[
                ("pkg.cron", "installed"),
                ("pkg.sudo", "installed"),
            ]))
            .expect("plan");
        assert!(plan.step.is_none());
        let plan = package
            .plan(&Findings::from_values(&[
                ("pkg.cron", "config-files"),
                ("pkg.sudo", "installed"),
            ]))
            .expect("plan");
        assert_eq!(plan.changes, ["install cron"]);
        let script = plan.step.expect("step").script;
        assert!(script.contains("apt-get -q update"), "{script}");
        assert!(script.contains("install 'cron'"), "{script}");
    }

    #[test]
    fn the_probe_reads_dpkgs_status_of_each_package_in_sh() {
        let package = Package {
            names: vec!["dpkg".into(), "relayctl-no-such-package".into()],
            present: true,
        };
        let script = format!(
            "f() {{ printf '%s=%s\\n' \"$1\" \"$2\"; }}\n{}",
            package.probe().expect("a probe")
        );
        let output = std::process::Command::new("sh")
            .args(["-c", &script])
            .output()
            .expect("sh runs");
        // dpkg is there wherever dpkg-query is; where it is not, nothing is listed at all.
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(
            text.is_empty() || text == "pkg.dpkg=installed\n",
            "{text:?}"
        );
    }
}
