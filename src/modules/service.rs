//! `service` (aliases `systemd`, `systemd_service`): a systemd unit enabled or not, started,
//! stopped, restarted or reloaded, and systemd itself reloaded (`daemon_reload`, only when
//! systemd says unit files changed) or re-executed (`daemon_reexec`, always: used as a handler,
//! e.g. after system.conf changed).

use super::shell::quote;
use super::{
    Action, ArgError, ArgKind, ArgSpec, BuildContext, Findings, ModuleDef, ModuleKind, Plan,
    ProbeError, Rendered, Resource, Step,
};

const STATES: &[&str] = &["started", "stopped", "restarted", "reloaded"];

pub static SERVICE: ModuleDef = ModuleDef {
    name: "service",
    aliases: &["systemd", "systemd_service"],
    args: &[
        ArgSpec::optional("name", ArgKind::Word),
        ArgSpec::optional("state", ArgKind::Choice(STATES)),
        ArgSpec::optional("enabled", ArgKind::Bool),
        ArgSpec::optional("daemon_reload", ArgKind::Bool),
        ArgSpec::optional("daemon_reexec", ArgKind::Bool),
    ],
    free_form: None,
    kind: ModuleKind::Remote(build),
};

struct Service {
    name: Option<String>,
    state: Option<String>,
    enabled: Option<bool>,
    daemon_reload: bool,
    daemon_reexec: bool,
}

fn build(args: &Rendered, _: &BuildContext) -> Result<Box<dyn Action>, ArgError> {
    let service = Service {
        name: args.opt_word("name")?,
        state: args
            .has("state")
            .then(|| args.choice_or("state", STATES, ""))
            .transpose()?,
        enabled: args.opt_bool("enabled")?,
        daemon_reload: args.bool_or("daemon_reload", false)?,
        daemon_reexec: args.bool_or("daemon_reexec", false)?,
    };
    let acts_on_unit = service.state.is_some() || service.enabled.is_some();
    if service.name.is_none() && acts_on_unit {
        return Err(ArgError::new("name", "is required with state or enabled"));
    }
    if service.name.is_some() && !acts_on_unit && !service.daemon_reload {
        return Err(ArgError::new(
            "state",
            "say what to do with the unit: state, enabled or both",
        ));
    }
    if service.name.is_none() && !service.daemon_reexec && !service.daemon_reload {
        return Err(ArgError::new("name", "is required"));
    }
    Ok(Box::new(service))
}

impl Action for Service {
    fn probe(&self) -> Option<String> {
        let mut script = String::new();
        if let Some(name) = &self.name {
            // systemctl show prints key=value lines: findings as they are.
            script.push_str(&format!(
                "systemctl show -p LoadState -p ActiveState -p UnitFileState -p NeedDaemonReload -- {}\n",
                quote(name)
            ));
        }
        if self.daemon_reload && self.name.is_none() {
            script.push_str("f NeedDaemonReload unknown\n");
        }
        (!script.is_empty()).then_some(script)
    }

    fn plan(&self, found: &Findings) -> Result<Plan, ProbeError> {
        let mut changes = Vec::new();
        let mut commands = Vec::new();
        if self.daemon_reexec {
            changes.push("re-execute systemd (daemon-reexec)".to_string());
            commands.push("systemctl daemon-reexec".to_string());
        }
        if self.daemon_reload
            && matches!(found.get("NeedDaemonReload"), Some("yes") | Some("unknown"))
        {
            changes.push("reload systemd's unit files (daemon-reload)".to_string());
            commands.push("systemctl daemon-reload".to_string());
        }
        if let Some(name) = &self.name {
            if found.require("LoadState")? == "not-found" {
                return Err(ProbeError::Missing(
                    Resource::Unit(name.clone()),
                    format!("the unit {name} does not exist"),
                ));
            }
            let unit = quote(name);
            let file_state = found.require("UnitFileState")?;
            match (self.enabled, file_state) {
                (Some(true), "enabled") | (Some(false), "disabled") | (None, _) => {}
                (Some(true), "static" | "indirect" | "generated" | "transient") => {
                    return Err(ProbeError::Failed(format!(
                        "{name} is {file_state}: it cannot be enabled (it starts when another unit wants it)"
                    )));
                }
                (Some(true), current) => {
                    changes.push(format!("enable {name} (now {current})"));
                    commands.push(format!("systemctl enable -q -- {unit}"));
                }
                (Some(false), "enabled") => {
                    changes.push(format!("disable {name}"));
                    commands.push(format!("systemctl disable -q -- {unit}"));
                }
                (Some(false), _) => {}
            }
            let active = found.require("ActiveState")? == "active";
            match (self.state.as_deref(), active) {
                (Some("started"), false) => {
                    changes.push(format!("start {name}"));
                    commands.push(format!("systemctl start -- {unit}"));
                }
                (Some("stopped"), true) => {
                    changes.push(format!("stop {name}"));
                    commands.push(format!("systemctl stop -- {unit}"));
                }
                (Some("restarted"), _) => {
                    changes.push(format!("restart {name}"));
                    commands.push(format!("systemctl restart -- {unit}"));
                }
                (Some("reloaded"), _) => {
                    changes.push(format!("reload {name}"));
                    commands.push(format!("systemctl reload-or-restart -- {unit}"));
                }
                _ => {}
            }
        }
        if changes.is_empty() {
            return Ok(Plan::unchanged());
        }
        Ok(Plan {
            changes,
            step: Some(Step {
                script: commands
                    .iter()
                    .map(|c| format!("{c} || exit 1\n"))
                    .collect(),
                ..Step::default()
            }),
            ..Plan::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(state: Option<&str>, enabled: Option<bool>) -> Service {
        Service {
            name: Some("cron.service".into()),
            state: state.map(str::to_string),
            enabled,
            daemon_reload: false,
            daemon_reexec: false,
        }
    }

    fn found(load: &str, active: &str, file: &str) -> Findings {
        Findings::from_values(&[
            ("LoadState", load),
            ("ActiveState", active),
            ("UnitFileState", file),
            ("NeedDaemonReload", "no"),
        ])
    }

    #[test]
    fn a_running_enabled_unit_needs_nothing() {
        let plan = service(Some("started"), Some(true))
            .plan(&found("loaded", "active", "enabled"))
            .expect("plan");
        assert!(!plan.is_change());
    }

    #[test]
    fn an_inactive_disabled_unit_is_enabled_then_started() {
        let plan = service(Some("started"), Some(true))
            .plan(&found("loaded", "inactive", "disabled"))
            .expect("plan");
        assert_eq!(
            plan.changes,
            ["enable cron.service (now disabled)", "start cron.service"]
        );
    }

    #[test]
    fn a_unit_that_does_not_exist_is_a_missing_prerequisite() {
        assert!(matches!(
            service(Some("started"), None).plan(&found("not-found", "inactive", "")),
            Err(ProbeError::Missing(Resource::Unit(_), _))
        ));
    }

    #[test]
    fn daemon_reexec_always_runs() {
        let reexec = Service {
            name: None,
            state: None,
            enabled: None,
            daemon_reload: false,
            daemon_reexec: true,
        };
        assert_eq!(reexec.probe(), None);
        let plan = reexec.plan(&Findings::default()).expect("plan");
        assert_eq!(plan.changes, ["re-execute systemd (daemon-reexec)"]);
    }
}
