//! How relayctl's table comes back after a reboot, and after nftables.service starts or reloads,
//! without changing the meaning of the customer's `/etc/nftables.conf` (README, "Firewall").
//!
//! A unit of relayctl's own, `relayctl-firewall-TABLE.service`, loads the table's file at boot,
//! before the network and after nftables.service: Debian's nftables.conf starts with `flush
//! ruleset`, which deletes every table, relayctl's too. For the same reason a drop-in of
//! nftables.service loads the table back right after each start and reload of that service.
//! nftables.service itself is never enabled, started or edited: it is the customer's.
//!
//! Earlier relayctl versions persisted through nftables.conf (an include, and its `flush
//! ruleset` commented out, so that each reload duplicated the customer's rules); the conf is
//! given back as it was.

use crate::modules::remote_file::ManagedFile;
use crate::modules::shell::{FileStat, quote};
use crate::modules::{Findings, Plan, ProbeError, Step};

/// Debian's nftables.service loads this file (`nft -f /etc/nftables.conf`).
const NFTABLES_CONF: &str = "/etc/nftables.conf";
const UNIT_DIR: &str = "/etc/systemd/system";
/// Where `systemctl enable` links a unit `WantedBy=sysinit.target`.
const WANTS_DIR: &str = "/etc/systemd/system/sysinit.target.wants";
/// What earlier versions wrote into nftables.conf in place of its `flush ruleset`.
const DISABLED_FLUSH: &str =
    "# flush ruleset  # disabled by relayctl: it deletes every table, docker's and fail2ban's too";

/// The boot unit and the nftables.service drop-in of one table.
pub(super) struct Boot {
    ruleset: String,
    unit_name: String,
    unit_path: String,
    dropin_dir: String,
    dropin_path: String,
    include_line: String,
}

/// What the probe found about the boot files.
pub(super) struct BootFound<'a> {
    unit: FileStat,
    unit_content: Option<&'a [u8]>,
    unit_enabled: bool,
    /// nftables.service is enabled or active: systemd holds its configuration, and must be
    /// told (daemon-reload) of a new drop-in.
    service_in_use: bool,
    dropin: FileStat,
    dropin_content: Option<&'a [u8]>,
    conf: FileStat,
    conf_content: Option<&'a [u8]>,
}

impl Boot {
    /// The boot files of `table`, whose ruleset file is `ruleset`.
    pub fn new(table: &str, ruleset: &str) -> Self {
        let unit_name = format!("relayctl-firewall-{table}.service");
        Boot {
            ruleset: ruleset.to_string(),
            unit_path: format!("{UNIT_DIR}/{unit_name}"),
            dropin_dir: format!("{UNIT_DIR}/nftables.service.d"),
            dropin_path: format!("{UNIT_DIR}/nftables.service.d/relayctl-{table}.conf"),
            include_line: format!("include \"{ruleset}\""),
            unit_name,
        }
    }

    pub(super) fn unit(&self) -> String {
        format!(
            "# Managed by relayctl (edit the inventory, not this file): loads relayctl's nftables\n\
             # table at boot, before the network, after nftables.service if the host enables it\n\
             # (its nftables.conf may start with `flush ruleset`).\n\
             [Unit]\n\
             Description=relayctl: the Medulla relay flows ({ruleset})\n\
             DefaultDependencies=no\n\
             Wants=network-pre.target\n\
             Before=network-pre.target shutdown.target\n\
             After=nftables.service\n\
             Conflicts=shutdown.target\n\
             ConditionPathExists={ruleset}\n\
             \n\
             [Service]\n\
             Type=oneshot\n\
             RemainAfterExit=yes\n\
             ExecStart=/usr/sbin/nft -f {ruleset}\n\
             \n\
             [Install]\n\
             WantedBy=sysinit.target\n",
            ruleset = self.ruleset
        )
    }

    pub(super) fn dropin(&self) -> String {
        format!(
            "# Managed by relayctl: /etc/nftables.conf may start with `flush ruleset`, which deletes\n\
             # every table, relayctl's too, each time nftables.service starts or reloads; relayctl's\n\
             # table is loaded back right after. nftables.conf itself is left as its owner wrote it.\n\
             [Service]\n\
             ExecStartPost=-/usr/sbin/nft -f {ruleset}\n\
             ExecReload=-/usr/sbin/nft -f {ruleset}\n",
            ruleset = self.ruleset
        )
    }

    /// The unit is enabled when its `WantedBy=` link is in place, which is what `systemctl
    /// enable` would make of the unit relayctl writes; read with the shell's own tests rather than
    /// `systemctl is-enabled` (a process and work for PID 1, on every relay at once). The customer's
    /// nftables.service is asked to systemctl: it may be enabled by any of its own means.
    pub fn probe(&self) -> String {
        format!(
            "fstat nft.unit {unit}\n\
             if [ -L {link} ] && [ {link} -ef {unit} ]; then f nft.unit_enabled yes; else f nft.unit_enabled no; fi\n\
             f nft.service_enabled \"$(systemctl is-enabled nftables.service 2>/dev/null)\"\n\
             factive nft.service_active nftables.service\n\
             fstat nft.dropin {dropin}\n\
             fstat nft.conf {conf}\n",
            unit = quote(&self.unit_path),
            link = quote(&format!("{WANTS_DIR}/{}", self.unit_name)),
            dropin = quote(&self.dropin_path),
            conf = quote(NFTABLES_CONF),
        )
    }

    pub fn read<'a>(&self, found: &'a Findings) -> Result<BootFound<'a>, ProbeError> {
        Ok(BootFound {
            unit: FileStat::from_findings(found, "nft.unit")?,
            unit_content: found.content("nft.unit"),
            unit_enabled: found.require("nft.unit_enabled")? == "yes",
            service_in_use: found.require("nft.service_enabled")? == "enabled"
                || found.require("nft.service_active")? == "active",
            dropin: FileStat::from_findings(found, "nft.dropin")?,
            dropin_content: found.content("nft.dropin"),
            conf: FileStat::from_findings(found, "nft.conf")?,
            conf_content: found.content("nft.conf"),
        })
    }

    /// What makes the table load at boot and after nftables.service: written, enabled, and the
    /// conf given back, each only if it is not so already.
    pub fn plan_present(&self, found: &BootFound) -> Result<Plan, ProbeError> {
        let unit = self.file(&self.unit_path, self.unit()).plan_for(
            &found.unit,
            found.unit_content,
            None,
        )?;
        let dropin = self.file(&self.dropin_path, self.dropin()).plan_for(
            &found.dropin,
            found.dropin_content,
            None,
        )?;
        let mut plan = Plan::unchanged();
        if dropin.is_change() {
            plan = plan.and(Plan {
                step: Some(Step {
                    script: format!("mkdir -p {} || exit 1\n", quote(&self.dropin_dir)),
                    ..Step::default()
                }),
                ..Plan::default()
            });
        }
        let reload = (unit.is_change() || dropin.is_change()) && found.service_in_use;
        plan = plan.and(without_diff(unit)).and(without_diff(dropin));
        if !found.unit_enabled {
            // What `systemctl enable` does, without the configuration reload it adds (0.9 s of
            // PID 1's time on a lab relay): systemd reads the link at the next boot, which is the
            // only time the unit runs; the table is loaded already.
            plan = plan.and(Plan {
                changes: vec![format!(
                    "enable {} (loads the table at boot)",
                    self.unit_name
                )],
                step: Some(Step {
                    script: format!(
                        "mkdir -p {wants} && ln -sf {unit} {wants}/{unit_name} || exit 1\n",
                        wants = quote(WANTS_DIR),
                        unit = quote(&self.unit_path),
                        unit_name = self.unit_name,
                    ),
                    ..Step::default()
                }),
                ..Plan::default()
            });
        }
        if reload {
            // The drop-in must be in force for nftables.service's next reload.
            plan = plan.and(daemon_reload());
        }
        Ok(plan.and(self.give_back_conf(found)?))
    }

    /// Disables and removes the unit and the drop-in; gives the conf back.
    pub fn plan_absent(&self, found: &BootFound) -> Result<Plan, ProbeError> {
        let mut plan = Plan::unchanged();
        if found.unit != FileStat::Absent || found.dropin != FileStat::Absent {
            plan = plan.and(Plan {
                changes: vec![format!(
                    "disable and remove {} and the nftables.service drop-in",
                    self.unit_name
                )],
                step: Some(Step {
                    script: format!(
                        "rm -f -- {wants}/{unit_name} {unit} {dropin} || exit 1\n\
                         rmdir {dropin_dir} 2>/dev/null\n{reload}",
                        wants = quote(WANTS_DIR),
                        unit_name = self.unit_name,
                        unit = quote(&self.unit_path),
                        dropin = quote(&self.dropin_path),
                        dropin_dir = quote(&self.dropin_dir),
                        reload = if found.service_in_use {
                            "systemctl daemon-reload || exit 1\n"
                        } else {
                            ""
                        },
                    ),
                    ..Step::default()
                }),
                ..Plan::default()
            });
        }
        Ok(plan.and(self.give_back_conf(found)?))
    }

    /// nftables.conf as it was before an earlier relayctl edited it, if it did.
    fn give_back_conf(&self, found: &BootFound) -> Result<Plan, ProbeError> {
        let Some(current) = found.conf_content else {
            return Ok(Plan::unchanged());
        };
        let current = String::from_utf8_lossy(current);
        let restored = conf_without_relayctl(&current, &self.include_line);
        if restored == current {
            return Ok(Plan::unchanged());
        }
        let mut plan = ManagedFile {
            path: NFTABLES_CONF.into(),
            content: restored.into_bytes(),
            owner: None,
            group: None,
            mode: None,
            validate: Some("nft -c -f %s".into()),
            backup: true,
        }
        .plan_for(&found.conf, Some(current.as_bytes()), None)?;
        plan.changes = vec![format!(
            "give {NFTABLES_CONF} back as it was before relayctl (its `flush ruleset`, without \
             relayctl's include): the table now loads from {}",
            self.unit_name
        )];
        Ok(plan)
    }

    fn file(&self, path: &str, content: String) -> ManagedFile {
        ManagedFile {
            path: path.into(),
            content: content.into_bytes(),
            owner: Some("root".into()),
            group: Some("root".into()),
            mode: Some(0o644),
            validate: None,
            backup: false,
        }
    }
}

/// The unit files are relayctl's own and the same on every relay: their writing is said, not
/// shown.
fn without_diff(mut plan: Plan) -> Plan {
    plan.diff = None;
    plan
}

fn daemon_reload() -> Plan {
    Plan {
        step: Some(Step {
            script: "systemctl daemon-reload || exit 1\n".into(),
            ..Step::default()
        }),
        ..Plan::default()
    }
}

/// `current` without relayctl's include (and the comment line above it), and with the `flush
/// ruleset` an earlier version disabled restored; the rest as it is.
fn conf_without_relayctl(current: &str, include_line: &str) -> String {
    let lines: Vec<&str> = current.lines().collect();
    let mut text = String::new();
    for (i, line) in lines.iter().enumerate() {
        let next_is_include = lines
            .get(i + 1)
            .is_some_and(|next| next.trim() == include_line);
        if line.trim() == include_line
            || (next_is_include && line.starts_with("# Medulla relay firewall"))
        {
            continue;
        }
        if line.trim() == DISABLED_FLUSH {
            text.push_str("flush ruleset\n");
            continue;
        }
        text.push_str(line);
        text.push('\n');
    }
    if !current.ends_with('\n') {
        text.pop();
    }
    while text.ends_with("\n\n") {
        text.pop();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEBIAN_CONF: &str = "#!/usr/sbin/nft -f\n\nflush ruleset\n\ntable inet filter {\n\tchain input {\n\t\ttype filter hook input priority filter;\n\t}\n}\n";

    fn boot() -> Boot {
        Boot::new("medulla_relay", "/etc/nftables.d/medulla_relay.nft")
    }

    /// What relayctl 0.1 made of Debian's nftables.conf.
    fn edited_by_an_earlier_version() -> String {
        DEBIAN_CONF.replace("flush ruleset", DISABLED_FLUSH)
            + "\n# Medulla relay firewall, managed by relayctl\ninclude \"/etc/nftables.d/medulla_relay.nft\"\n"
    }

    fn found<'a>(
        unit: Option<&'a [u8]>,
        enabled: bool,
        dropin: Option<&'a [u8]>,
        conf: &'a str,
    ) -> BootFound<'a> {
        let stat = |content: Option<&[u8]>| match content {
            None => FileStat::Absent,
            Some(bytes) => {
                FileStat::parse(&format!("regular file|root|root|644|{}", bytes.len())).unwrap()
            }
        };
        BootFound {
            unit: stat(unit),
            unit_content: unit,
            unit_enabled: enabled,
            service_in_use: false,
            dropin: stat(dropin),
            dropin_content: dropin,
            conf: stat(Some(conf.as_bytes())),
            conf_content: Some(conf.as_bytes()),
        }
    }

    #[test]
    fn the_conf_an_earlier_version_edited_is_given_back_as_it_was() {
        let include = boot().include_line;
        assert_eq!(
            conf_without_relayctl(&edited_by_an_earlier_version(), &include),
            DEBIAN_CONF
        );
        assert_eq!(conf_without_relayctl(DEBIAN_CONF, &include), DEBIAN_CONF);
        let no_newline = "table inet t {\n}";
        assert_eq!(conf_without_relayctl(no_newline, &include), no_newline);
    }

    #[test]
    fn a_fresh_host_gets_the_unit_the_dropin_and_the_enable_and_its_conf_is_left_alone() {
        let boot = boot();
        let plan = boot
            .plan_present(&found(None, false, None, DEBIAN_CONF))
            .unwrap();
        let script = plan.step.as_ref().unwrap().script.clone();
        assert!(script.contains("mkdir -p '/etc/systemd/system/nftables.service.d'"));
        assert!(
            script.contains("ln -sf '/etc/systemd/system/relayctl-firewall-medulla_relay.service' '/etc/systemd/system/sysinit.target.wants'/relayctl-firewall-medulla_relay.service")
        );
        assert!(!script.contains("nftables.service ||"), "{script}");
        assert!(!script.contains("/etc/nftables.conf"), "{script}");
        assert!(
            !script.contains("daemon-reload"),
            "enable reloads: {script}"
        );
        let stdin = String::from_utf8(plan.step.unwrap().stdin).unwrap();
        assert!(stdin.contains("ExecStart=/usr/sbin/nft -f /etc/nftables.d/medulla_relay.nft"));
        assert!(stdin.contains("ExecReload=-/usr/sbin/nft -f /etc/nftables.d/medulla_relay.nft"));
        assert!(stdin.contains("After=nftables.service"));
    }

    #[test]
    fn in_place_and_enabled_is_unchanged_and_a_changed_dropin_reloads_only_a_service_in_use() {
        let boot = boot();
        let (unit, dropin) = (boot.unit(), boot.dropin());
        let plan = boot
            .plan_present(&found(
                Some(unit.as_bytes()),
                true,
                Some(dropin.as_bytes()),
                DEBIAN_CONF,
            ))
            .unwrap();
        assert!(!plan.is_change(), "{:?}", plan.changes);
        let mut changed = found(Some(unit.as_bytes()), true, Some(b"old"), DEBIAN_CONF);
        let plan = boot.plan_present(&changed).unwrap();
        assert_eq!(plan.changes.len(), 1, "{:?}", plan.changes);
        assert!(!plan.step.unwrap().script.contains("daemon-reload"));
        changed.service_in_use = true;
        let plan = boot.plan_present(&changed).unwrap();
        assert!(
            plan.step
                .unwrap()
                .script
                .ends_with("systemctl daemon-reload || exit 1\n")
        );
    }

    #[test]
    fn an_earlier_versions_conf_is_given_back_when_present_and_when_absent() {
        let boot = boot();
        let (unit, dropin) = (boot.unit(), boot.dropin());
        let edited = edited_by_an_earlier_version();
        let present = boot
            .plan_present(&found(
                Some(unit.as_bytes()),
                true,
                Some(dropin.as_bytes()),
                &edited,
            ))
            .unwrap();
        assert_eq!(present.changes.len(), 1, "{:?}", present.changes);
        assert!(present.changes[0].contains("give /etc/nftables.conf back"));
        let step = present.step.unwrap();
        assert!(step.script.contains("nft -c -f"), "validated");
        assert_eq!(step.stdin, DEBIAN_CONF.as_bytes());
        let absent = boot
            .plan_absent(&found(Some(unit.as_bytes()), true, None, &edited))
            .unwrap();
        assert_eq!(absent.changes.len(), 2, "{:?}", absent.changes);
        let nothing = boot
            .plan_absent(&found(None, false, None, DEBIAN_CONF))
            .unwrap();
        assert!(!nothing.is_change(), "{:?}", nothing.changes);
    }
}
