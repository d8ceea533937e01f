//! `ufw_flows`: the Medulla flows opened in ufw, where ufw is what filters (README, "Firewall").
//!
//! relayctl's rules are ufw rules like the operator's, in ufw's own files (`/etc/ufw/user.rules`
//! and `user6.rules`), after the operator's, each commented `relayctl: PURPOSE (SOURCE)`:
//! `ufw status` lists them, `ufw delete` removes one, and relayctl replaces or removes them all in
//! one step (`rules_file.rs`). Nothing else of ufw changes: its policies, its other rules, its
//! before/after rules. An operator's deny that comes first and would drop a Medulla flow fails
//! the task, named, before anything changes.
//!
//! A change keeps the guarantees of relayctl's nftables table (DESIGN rule 4):
//! 1. the new files are staged beside ufw's and checked with `iptables-restore --test` (and
//!    `ip6tables-restore`): rules the kernel refuses change nothing;
//! 2. the guard is armed: unless disarmed, the host loads its files again, which still hold the
//!    previous rules;
//! 3. the staged rules are loaded as ufw reloads its rules (`iptables-restore -n`, ufw's user
//!    chains replaced in one transaction per family, in 20 ms where `ufw reload` takes 2 s);
//! 4. over a NEW SSH connection the guard is disarmed, and only then are the staged files put in
//!    place: a reboot before the confirmation boots the previous rules.
//!
//! Where ufw is installed but not enabled (`state: absent` after the operator turned ufw off),
//! only the files change: nothing of them is loaded.

mod rules_file;

use self::rules_file::{Family, RulesFile, all_loaded, owned_rules};
use super::flows::Flow;
use super::guard::{self, Guard};
use crate::modules::PRESENT_ABSENT;
use crate::modules::shell::{FileStat, quote};
use crate::modules::{
    Action, Applied, ArgError, ArgKind, ArgSpec, BuildContext, FileDiff, Findings, ModuleDef,
    ModuleKind, Plan, ProbeError, Provides, Rendered, Resource, Step,
};

const RULES: &str = "/etc/ufw/user.rules";
const RULES6: &str = "/etc/ufw/user6.rules";
/// ufw's rules files are root's, readable by root's group only.
const RULES_MODE: &str = "0640";

pub static UFW_FLOWS: ModuleDef = ModuleDef {
    name: "ufw_flows",
    aliases: &[],
    args: &[
        ArgSpec::optional("rules", ArgKind::Flows),
        ArgSpec::optional("state", ArgKind::Choice(PRESENT_ABSENT)),
        ArgSpec::optional("rollback_timeout", ArgKind::Int),
    ],
    free_form: None,
    kind: ModuleKind::Remote(build),
};

struct UfwFlows {
    /// Empty with `state: absent`: relayctl's rules are removed.
    flows: Vec<Flow>,
    guard: Guard,
}

fn build(args: &Rendered, _: &BuildContext) -> Result<Box<dyn Action>, ArgError> {
    let present = args.present()?;
    let flows = args.flows("rules")?;
    if present && flows.is_empty() {
        return Err(ArgError::new(
            "rules",
            "state present needs the flows to open (rules: \"{{ relay_firewall.flows }}\")",
        ));
    }
    Ok(Box::new(UfwFlows {
        flows: if present { flows } else { Vec::new() },
        guard: Guard::new("ufw", guard::rollback_timeout(args)?),
    }))
}

/// One of ufw's two rules files: where it is, what is there, what it becomes.
struct FileChange {
    path: &'static str,
    family: Family,
    current: String,
    wanted: String,
    stat: FileStat,
}

impl FileChange {
    fn staged(&self) -> String {
        let (dir, name) = self.path.rsplit_once('/').unwrap_or(("", self.path));
        format!("{dir}/.{name}.relayctl-staged")
    }

    fn restore_command(&self) -> &'static str {
        match self.family {
            Family::V4 => "iptables-restore",
            Family::V6 => "ip6tables-restore",
        }
    }
}

impl UfwFlows {
    fn file(
        &self,
        found: &Findings,
        path: &'static str,
        family: Family,
    ) -> Result<FileChange, ProbeError> {
        let key = match family {
            Family::V4 => "ufw.v4",
            Family::V6 => "ufw.v6",
        };
        let stat = FileStat::from_findings(found, key)?;
        let Some(bytes) = found.content(key) else {
            return Err(ProbeError::Failed(format!(
                "ufw is installed but {path} is {}",
                if stat == FileStat::Absent {
                    "missing"
                } else {
                    "not a readable file of at most 1 MiB"
                }
            )));
        };
        let current = String::from_utf8(bytes.to_vec())
            .map_err(|_| ProbeError::Failed(format!("{path} is not text")))?;
        let parsed =
            RulesFile::parse(&current).map_err(|e| ProbeError::Failed(format!("{path}: {e}")))?;
        let denials = parsed.denials_of(&self.flows, family);
        if !denials.is_empty() {
            return Err(ProbeError::Failed(denials.join("; ")));
        }
        let wanted = parsed.with_owned(&owned_rules(&self.flows, family));
        Ok(FileChange {
            path,
            family,
            current,
            wanted,
            stat,
        })
    }

    /// Stage both files, check them, arm the guard, load the staged rules (over the current
    /// connection). The files in place are not touched: they are what the guard loads back.
    fn load_script(&self, files: &[FileChange], ipv6: bool) -> String {
        let mut script = self.guard.refuse_if_armed();
        let cleanup: Vec<String> = files.iter().map(|f| quote(&f.staged())).collect();
        let cleanup = format!("rm -f {}", cleanup.join(" "));
        for file in files {
            script.push_str(&format!(
                "head -c {size} >{staged} || {{ {cleanup}; exit 1; }}\n\
                 if ! {restore} --test <{staged} >&2; then {cleanup}; echo {refused} >&2; exit 3; fi\n",
                size = file.wanted.len(),
                staged = quote(&file.staged()),
                restore = file.restore_command(),
                refused = quote(&format!("{} --test refused the new {}; nothing was changed", file.restore_command(), file.path)),
            ));
        }
        let undo = self.undo(files, ipv6);
        script.push_str(&self.guard.arm(&undo, &cleanup));
        let load: Vec<String> = files
            .iter()
            .filter(|f| f.family == Family::V4 || ipv6)
            .map(|f| format!("{} -n <{}", f.restore_command(), quote(&f.staged())))
            .collect();
        script.push_str(&format!(
            "if ! {{ {load}; }} >&2; then\n\
             \x20 {undo} >&2; {stand_down}; {cleanup}\n\
             \x20 echo 'loading the new rules failed; ufw has its previous rules again' >&2; exit 1\n\
             fi\n",
            load = load.join(" && "),
            stand_down = self.guard.stand_down(),
        ));
        script
    }

    /// Loads ufw's files as ufw reloads them: the previous rules, while the new ones are staged.
    fn undo(&self, files: &[FileChange], ipv6: bool) -> String {
        files
            .iter()
            .filter(|f| f.family == Family::V4 || ipv6)
            .map(|f| format!("{} -n <{}", f.restore_command(), quote(f.path)))
            .collect::<Vec<_>>()
            .join(" && ")
    }

    /// Puts each staged file in place (the file it replaces kept as a backup), with ufw's
    /// owner and mode. Over the new connection, after the disarm.
    fn install_script(files: &[FileChange]) -> String {
        files
            .iter()
            .map(|file| {
                format!(
                    "s={staged}; d={path}\n\
                     chown root:root \"$s\" && chmod {RULES_MODE} \"$s\" || exit 1\n\
                     if [ -e \"$d\" ]; then b=\"$d.$(date -u +%Y%m%dT%H%M%S.%NZ).relayctl~\"; cp -p -- \"$d\" \"$b\" || exit 1; f backup \"$b\"; fi\n\
                     mv -f -- \"$s\" \"$d\" || exit 1\n",
                    staged = quote(&file.staged()),
                    path = quote(file.path),
                )
            })
            .collect()
    }

    /// Writes the files whose rules changed, when ufw is not enabled: nothing is loaded.
    fn write_only_script(files: &[FileChange]) -> String {
        let mut script = String::new();
        for file in files {
            script.push_str(&format!(
                "head -c {size} >{staged} || exit 1\n",
                size = file.wanted.len(),
                staged = quote(&file.staged()),
            ));
        }
        script + &Self::install_script(files)
    }

    fn describe(&self, loaded: bool, files_current: bool, enabled: bool) -> Vec<String> {
        let what = if self.flows.is_empty() {
            "remove relayctl's rules from ufw".to_string()
        } else if files_current && !loaded {
            "load relayctl's rules into ufw again: they are in its files but not loaded".to_string()
        } else {
            format!(
                "open the Medulla flows in ufw ({} flows, rules commented `relayctl: ...` after the operator's)",
                self.flows.len()
            )
        };
        let mut changes = vec![what];
        if enabled {
            changes.push(format!(
                "restore ufw's previous rules unless a new SSH connection confirms within {} s",
                self.guard.timeout
            ));
        } else {
            changes.push("ufw is not enabled: its files change, nothing is loaded".into());
        }
        changes
    }
}

impl Action for UfwFlows {
    fn probe(&self) -> Option<String> {
        Some(format!(
            "if [ -x /usr/sbin/ufw ]; then\n\
             \x20 f ufw.bin yes\n\
             \x20 fstat ufw.v4 {rules}\n\
             \x20 fstat ufw.v6 {rules6}\n\
             \x20 fline ufw.ipv6 IPV6=yes /etc/default/ufw\n\
             \x20 if fline ufw.enabled ENABLED=yes /etc/ufw/ufw.conf; then\n\
             \x20   {{ iptables -S ufw-user-input; iptables -S ufw-user-output; }} 2>/dev/null | sed 's/^/ufw.live4=/'\n\
             \x20   {{ ip6tables -S ufw6-user-input; ip6tables -S ufw6-user-output; }} 2>/dev/null | sed 's/^/ufw.live6=/'\n\
             \x20 fi\n\
             else f ufw.bin no; fi\n\
             {armed}",
            rules = quote(RULES),
            rules6 = quote(RULES6),
            armed = self.guard.probe("ufw.armed"),
        ))
    }

    fn plan(&self, found: &Findings) -> Result<Plan, ProbeError> {
        if found.require("ufw.bin")? != "yes" {
            if self.flows.is_empty() {
                return Ok(Plan::unchanged());
            }
            return Err(ProbeError::Missing(
                Resource::Path("/usr/sbin/ufw".into()),
                "ufw is not installed".into(),
            ));
        }
        if found.get("ufw.armed") == Some("yes") {
            return Err(ProbeError::Failed(format!(
                "a firewall rollback is armed on the host ({}): a run is confirming a change, or died before it could; the host restores ufw's previous rules within {} s at most, then try again",
                self.guard.token, self.guard.timeout
            )));
        }
        let files = [
            self.file(found, RULES, Family::V4)?,
            self.file(found, RULES6, Family::V6)?,
        ];
        let enabled = found.require("ufw.enabled")? == "yes";
        let ipv6 = found.require("ufw.ipv6")? == "yes";
        let live = |key: &str| -> String {
            found
                .values
                .iter()
                .filter(|(k, _)| k == key)
                .map(|(_, line)| format!("{line}\n"))
                .collect()
        };
        let files_current = files.iter().all(|f| f.current == f.wanted);
        let loaded = !enabled
            || (all_loaded(&owned_rules(&self.flows, Family::V4), &live("ufw.live4"))
                && (!ipv6
                    || all_loaded(&owned_rules(&self.flows, Family::V6), &live("ufw.live6"))));
        if files_current && loaded {
            return Ok(Plan::unchanged());
        }
        let diff = files
            .iter()
            .find(|f| f.current != f.wanted)
            .map(|f| FileDiff {
                path: f.path.to_string(),
                before: (f.stat != FileStat::Absent).then(|| f.current.clone()),
                after: Some(f.wanted.clone()),
            });
        let stdin: Vec<u8> = files.iter().flat_map(|f| f.wanted.bytes()).collect();
        let step = if enabled {
            Step {
                script: self.load_script(&files, ipv6),
                stdin,
                confirm: Some(self.guard.confirmation(
                    Step {
                        script: self.guard.disarm() + &Self::install_script(&files),
                        ..Step::default()
                    },
                    &format!(
                        "{}; rm -f {} {}",
                        self.undo(&files, ipv6),
                        quote(&files[0].staged()),
                        quote(&files[1].staged())
                    ),
                    "ufw's previous rules",
                )),
                ..Step::default()
            }
        } else {
            Step {
                script: Self::write_only_script(&files),
                stdin,
                ..Step::default()
            }
        };
        Ok(Plan {
            changes: self.describe(loaded, files_current, enabled),
            diff,
            step: Some(step),
            provides: vec![Provides::Resource(Resource::Path(RULES.into()))],
        })
    }

    fn applied(&self, output: &Findings) -> Result<Applied, String> {
        crate::modules::content::applied_write(output)
    }
}

#[cfg(test)]
mod tests;
