//! What SIVEO's installation needs next besides the five items of PROC step 5, checked on the
//! relay as it is: each check passes, fails (the relay is not ready) or warns (said in the
//! report, the relay may still be ready), and cites where the need comes from.
//!
//! - `workstations`: a classic relay serves its site's workstations (PXE, XMPP, HTTP, NFS from
//!   them: seed 000), so its firewall needs their networks, unless the inventory says on
//!   purpose that no workstation uses it (`relay_serves_workstations: false`);
//! - `limits`: the limits SIVEO's pre-install check expects, as they apply, not as a file says:
//!   systemd's manager values and the core-dump limits a process of the account gets from PAM;
//!   a later drop-in or limits.d file that overrides them is named;
//! - `time`: the clock synchronised (a warning).

use serde::Serialize;

use super::access::{AccessFacts, ConfFile};
use crate::inventory::RelaySettings;
use crate::medulla::RelayType;

/// How one installation check ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckOutcome {
    Ok,
    /// SIVEO's installation would trip over it: the relay is not ready.
    Failed,
    /// Worth fixing, not a reason to hold the relay back.
    Warning,
}

impl CheckOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Failed => "FAILED",
            Self::Warning => "warning",
        }
    }
}

/// One check of what the installation needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InstallationCheck {
    /// Stable: `workstations`, `limits`, `time`.
    pub key: &'static str,
    pub title: &'static str,
    pub status: CheckOutcome,
    pub summary: String,
    pub details: Vec<String>,
    /// Where the need is documented.
    pub source: &'static str,
}

/// A classic relay's workstation networks; `None` for a DMZ relay, which serves none (its
/// clients come from outside, on 22 and 5222: FLUX §4).
pub fn workstations(relay: &RelaySettings) -> Option<InstallationCheck> {
    if relay.relay_type != RelayType::Classic {
        return None;
    }
    let networks: Vec<String> = relay
        .workstation_subnets
        .iter()
        .map(ToString::to_string)
        .collect();
    let (status, summary) = match (networks.is_empty(), relay.serves_workstations) {
        (false, _) => (
            CheckOutcome::Ok,
            format!(
                "the firewall admits the workstations of {}",
                networks.join(", ")
            ),
        ),
        (true, false) => (
            CheckOutcome::Ok,
            "no workstation uses this relay (relay_serves_workstations: false)".to_string(),
        ),
        (true, true) => (
            CheckOutcome::Failed,
            "workstation_subnets is empty: the firewall admits no workstation, so once Medulla \
             is installed its workstations' PXE, XMPP, HTTP and NFS are dropped; list their \
             networks, or set relay_serves_workstations: false if no workstation uses this relay"
                .to_string(),
        ),
    };
    Some(InstallationCheck {
        key: "workstations",
        title: "Workstation networks",
        status,
        summary,
        details: Vec::new(),
        source: "seed 000 (classic relay: workstation -> relay flows); seed 004 ARCH",
    })
}

/// The limits SIVEO's pre-install check expects: the medulla_prereqs role's variables (seed 004
/// OS, "Server verification", items 1 and 3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpectedLimits {
    /// DefaultLimitNPROC and DefaultLimitSIGPENDING as system.conf takes them: `VALUE` (soft
    /// and hard alike) or `SOFT:HARD`.
    pub nproc: String,
    pub sigpending: String,
    /// The account's core-dump limits as /proc/PID/limits shows them (bytes, `unlimited`); `None` where
    /// the role's file sets none for every account (`*`).
    pub core_hard: Option<String>,
    pub core_soft: Option<String>,
    /// The limits.d file the role writes: its lines are the expected ones, not overrides.
    pub limits_file: String,
}

impl ExpectedLimits {
    /// From the role's values: the two systemd limits and the limits.d file's text, whose `*`
    /// lines give the account's core-dump limits (`infinity` is what /proc calls unlimited;
    /// `-` sets both; a later line wins, as in pam_limits).
    pub fn new(nproc: &str, sigpending: &str, limits_file: &str, limits_text: &str) -> Self {
        let core = |wanted: &str| {
            limits_text.lines().rev().find_map(|line| {
                let words: Vec<&str> = line.split_whitespace().collect();
                match words.as_slice() {
                    ["*", kind, "core", value, ..] if *kind == wanted || *kind == "-" => {
                        Some(proc_limit_value(value))
                    }
                    _ => None,
                }
            })
        };
        ExpectedLimits {
            nproc: nproc.to_string(),
            sigpending: sigpending.to_string(),
            core_hard: core("hard"),
            core_soft: core("soft"),
            limits_file: limits_file.to_string(),
        }
    }
}

/// A limits.conf core value (KiB) as /proc/PID/limits shows it: bytes, or `unlimited`.
fn proc_limit_value(value: &str) -> String {
    match value {
        "infinity" | "unlimited" | "-1" => "unlimited".to_string(),
        other => other
            .parse::<u64>()
            .ok()
            .and_then(|kib| kib.checked_mul(1024))
            .map_or_else(|| other.to_string(), |bytes| bytes.to_string()),
    }
}

const LIMITS_SOURCE: &str = "seed 004 OS, Server verification: items 1 (core dumps) and 3 \
    (DefaultLimitNPROC, DefaultLimitSIGPENDING)";

/// systemd's main configuration file (systemd 252, Debian 12's).
const SYSTEM_CONF: &str = "/etc/systemd/system.conf";

/// The directories of system.conf's drop-ins, first the one whose file hides its namesakes in
/// the others (systemd-system.conf(5)).
const SYSTEM_CONF_DIRS: [&str; 4] = [
    "/etc/systemd/system.conf.d",
    "/run/systemd/system.conf.d",
    "/usr/local/lib/systemd/system.conf.d",
    "/usr/lib/systemd/system.conf.d",
];

/// The files systemd reads its manager settings from, in its order: system.conf, then every
/// drop-in sorted by file name whatever its directory, a name hidden by the same name in a
/// directory before its own (a link to /dev/null hides too, and sets nothing).
fn systemd_order(files: &[ConfFile]) -> Vec<&ConfFile> {
    let mut order: Vec<&ConfFile> = files.iter().filter(|f| f.path == SYSTEM_CONF).collect();
    let mut drop_ins: Vec<(&str, usize, &ConfFile)> = files
        .iter()
        .filter_map(|file| {
            let (dir, name) = file.path.rsplit_once('/')?;
            let rank = SYSTEM_CONF_DIRS.iter().position(|d| *d == dir)?;
            Some((name, rank, file))
        })
        .collect();
    drop_ins.sort_by(|a, b| a.0.cmp(b.0).then(a.1.cmp(&b.1)));
    drop_ins.dedup_by(|later, first| later.0 == first.0);
    order.extend(drop_ins.into_iter().map(|(_, _, file)| file));
    order
}

/// A `[Manager]` line's setting: `(name, value)`, spaces around `=` dropped as systemd does.
fn setting(line: &str) -> Option<(&str, &str)> {
    line.split_once('=')
        .map(|(name, value)| (name.trim(), value.trim()))
}

/// What is wrong with one of systemd's manager limits, and the lines that set it, if anything.
fn manager_problem(
    name: &str,
    wanted: &str,
    access: &AccessFacts,
) -> Option<(String, Vec<String>)> {
    let value = |key: &str| {
        access
            .manager
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let (want_soft, want_hard) = wanted.split_once(':').unwrap_or((wanted, wanted));
    let (hard, soft) = (value(name), value(&format!("{name}Soft")));
    let Some(hard) = hard else {
        return Some((
            format!("{name} could not be read from systemd (systemctl show said nothing)"),
            Vec::new(),
        ));
    };
    if hard == want_hard && soft.is_none_or(|soft| soft == want_soft) {
        return None;
    }
    let found = match soft {
        Some(soft) if soft != hard => format!("{soft}:{hard} (soft:hard)"),
        _ => hard.to_string(),
    };
    let setting_it: Vec<(&str, usize, &str)> = systemd_order(&access.manager_files)
        .into_iter()
        .flat_map(|file| {
            file.lines
                .iter()
                .filter(|(_, line)| setting(line).is_some_and(|(n, _)| n == name))
                .map(|(n, line)| (file.path.as_str(), *n, line.as_str()))
        })
        .collect();
    let located: Vec<String> = setting_it
        .iter()
        .map(|(path, n, line)| format!("{path}:{n}: {line}"))
        .collect();
    let why = match setting_it.last() {
        Some((path, n, line)) if setting(line).map(|(_, v)| v) != Some(wanted) => {
            format!("{path}:{n}: {line} is read last and sets it")
        }
        Some(_) => {
            "systemd has not re-read its configuration since (systemctl daemon-reexec)".to_string()
        }
        None => format!("no file sets {name}"),
    };
    Some((
        format!("systemd applies {name}={found}, not {wanted}: {why}"),
        located,
    ))
}

/// Whether a limits.conf line's domain takes in `user` (whose groups are `groups`): `*`, the
/// name, `@group`, `%group`, and uid or gid ranges, counted in whatever they say.
fn applies_to(domain: &str, user: &str, groups: &[String]) -> bool {
    match domain {
        "*" => true,
        _ if domain == user => true,
        _ => match domain
            .strip_prefix('@')
            .or_else(|| domain.strip_prefix('%'))
        {
            Some(group) => groups.iter().any(|g| g == group) || group == "*",
            None => domain.contains(':'),
        },
    }
}

/// The limits as they apply: systemd's manager values, the account's core-dump limits through
/// PAM; what differs names the files that set it.
pub fn limits(user: &str, expected: &ExpectedLimits, access: &AccessFacts) -> InstallationCheck {
    let mut problems = Vec::new();
    let mut unverified = Vec::new();
    let mut details = Vec::new();
    for (name, wanted) in [
        ("DefaultLimitNPROC", &expected.nproc),
        ("DefaultLimitSIGPENDING", &expected.sigpending),
    ] {
        if let Some((problem, lines)) = manager_problem(name, wanted, access) {
            problems.push(problem);
            details.extend(lines);
        }
    }
    let core = [
        ("hard", &expected.core_hard, &access.core.hard),
        ("soft", &expected.core_soft, &access.core.soft),
    ];
    let wrong: Vec<(&str, &str, &str)> = core
        .iter()
        .filter_map(|(kind, wanted, found)| {
            let wanted = wanted.as_deref()?;
            let found = found.as_deref().unwrap_or("?");
            (found != wanted).then_some((*kind, wanted, found))
        })
        .collect();
    // What /proc shows of a hard limit PAM could not raise (root in a container may not
    // raise its own) is relayctl's shell's limit, not what a login gets.
    let capped = |found: &str| {
        access
            .core
            .root_hard
            .as_deref()
            .is_some_and(|root| root != "unlimited" && root == found)
    };
    let shown =
        |(kind, wanted, found): &(&str, &str, &str)| format!("{kind} {found} (not {wanted})");
    if expected.core_hard.is_none() && expected.core_soft.is_none() {
        details.push(format!(
            "{} sets no core-dump limit for every account: none is checked",
            expected.limits_file
        ));
    } else if access.core.hard.is_none() && access.core.soft.is_none() {
        if access.user_exists {
            problems.push(format!(
                "the core-dump limits of {user} could not be read (runuser)"
            ));
        } else {
            details.push(format!(
                "core-dump limits not read: no user {user} to read them as"
            ));
        }
    } else if !wrong.is_empty() && wrong.iter().all(|(_, _, found)| capped(found)) {
        unverified.push(format!(
            "a process of {user} gets the core-dump limits {} here, capped by the hard limit of \
             relayctl's root shell ({}, as sudo leaves it; root may not raise it on this relay): \
             not verifiable from here, SIVEO's pre-install check verifies them",
            wrong.iter().map(shown).collect::<Vec<_>>().join(" and "),
            access.core.root_hard.as_deref().unwrap_or("?"),
        ));
    } else if !wrong.is_empty() {
        let others: Vec<String> = access
            .limits_files
            .iter()
            .filter(|file| file.path != expected.limits_file)
            .flat_map(|file| {
                file.lines
                    .iter()
                    .filter(|(_, line)| {
                        line.split_whitespace()
                            .next()
                            .is_some_and(|domain| applies_to(domain, user, &access.groups))
                    })
                    .map(|(n, line)| format!("{}:{n}: {line}", file.path))
            })
            .collect();
        let why = if !others.is_empty() {
            format!("other lines set them for {user}: {}", others.join("; "))
        } else if !access
            .limits_files
            .iter()
            .any(|f| f.path == expected.limits_file)
        {
            format!("{} does not exist", expected.limits_file)
        } else {
            format!("no limits file but {} sets them", expected.limits_file)
        };
        problems.push(format!(
            "a process of {user} gets from PAM the core-dump limits {}: {why}",
            wrong.iter().map(shown).collect::<Vec<_>>().join(" and "),
        ));
        details.extend(others);
    }
    // Reached only when systemd's values are the expected ones: said with what else was seen.
    let mut applied = format!(
        "systemd applies DefaultLimitNPROC={} and DefaultLimitSIGPENDING={}",
        expected.nproc, expected.sigpending
    );
    let (status, summary) = if !problems.is_empty() {
        (CheckOutcome::Failed, problems.join("; "))
    } else if !unverified.is_empty() {
        (
            CheckOutcome::Warning,
            format!("{applied}; {}", unverified.join("; ")),
        )
    } else {
        if let (Some(hard), Some(soft)) = (&access.core.hard, &access.core.soft) {
            applied.push_str(&format!(
                "; a process of {user} gets core-dump limits {hard} (hard) and {soft} (soft)"
            ));
        }
        (CheckOutcome::Ok, applied)
    };
    InstallationCheck {
        key: "limits",
        title: "Process and core-dump limits",
        status,
        summary,
        details,
        source: LIMITS_SOURCE,
    }
}

/// Whether the clock is synchronised: TLS and XMPP need the right time, but a relay a little
/// off still installs, and its NTP may be SIVEO's to set up: a warning, never a reason.
pub fn time(access: &AccessFacts) -> InstallationCheck {
    let (status, summary) = match access.time_synchronized {
        Some(true) => (
            CheckOutcome::Ok,
            "the clock is synchronised (the kernel's maximum error is under 16 s: timedatectl's \
             NTPSynchronized=yes)"
                .to_string(),
        ),
        Some(false) => (
            CheckOutcome::Warning,
            "the clock is not synchronised (the kernel's maximum error is 16 s or more: \
             timedatectl's NTPSynchronized=no): TLS and XMPP need the right time; enable \
             systemd-timesyncd or another NTP client (123/udp out)"
                .to_string(),
        ),
        None => (
            CheckOutcome::Warning,
            "not verified: whether the clock is synchronised (adjtimex could not be read on \
             the relay)"
                .to_string(),
        ),
    };
    InstallationCheck {
        key: "time",
        title: "Clock synchronised",
        status,
        summary,
        details: Vec::new(),
        source: "no seed asks it: relayctl's (the TLS of seed 000's HTTPS flows and XMPP need \
                 the right time; the port matrix's NTP 123/udp out is MEDULLA_FACTS')",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;

    #[test]
    fn a_classic_relay_needs_its_workstation_networks_unless_it_serves_none() {
        let mut relay = testing::relay();
        let check = workstations(&relay).expect("a classic relay");
        assert_eq!(
            (check.status, check.summary.as_str()),
            (
                CheckOutcome::Ok,
                "the firewall admits the workstations of 10.10.0.0/16"
            )
        );
        relay.workstation_subnets.clear();
        let check = workstations(&relay).expect("a classic relay");
        assert_eq!(check.status, CheckOutcome::Failed);
        assert!(check.summary.starts_with("workstation_subnets is empty"));
        relay.serves_workstations = false;
        assert_eq!(
            workstations(&relay).map(|c| c.status),
            Some(CheckOutcome::Ok)
        );
        relay.relay_type = RelayType::Dmz;
        assert_eq!(workstations(&relay), None);
    }

    fn expected() -> ExpectedLimits {
        ExpectedLimits::new(
            "31541",
            "31541",
            "/etc/security/limits.d/10-coredump-debian.conf",
            "* hard core infinity\nroot hard core infinity\n* soft core 0\nroot soft core 0\n",
        )
    }

    fn file(path: &str, lines: &[(usize, &str)]) -> ConfFile {
        ConfFile {
            path: path.into(),
            lines: lines.iter().map(|(n, l)| (*n, l.to_string())).collect(),
        }
    }

    const ROLE_FILE: &str = "/etc/security/limits.d/10-coredump-debian.conf";

    /// A relay the medulla_prereqs role converged, as the access probe reads it.
    fn applied() -> AccessFacts {
        let mut access = AccessFacts::nothing_found();
        access.user_exists = true;
        access.groups = vec!["medulla".into(), "sudo".into()];
        access.manager = [
            "DefaultLimitNPROC",
            "DefaultLimitNPROCSoft",
            "DefaultLimitSIGPENDING",
            "DefaultLimitSIGPENDINGSoft",
        ]
        .iter()
        .map(|k| (k.to_string(), "31541".to_string()))
        .collect();
        access.manager_files = vec![file(
            "/etc/systemd/system.conf",
            &[
                (40, "DefaultLimitNPROC=31541"),
                (41, "DefaultLimitSIGPENDING=31541"),
            ],
        )];
        access.limits_files = vec![
            file("/etc/security/limits.conf", &[]),
            file(
                ROLE_FILE,
                &[
                    (1, "* hard core infinity"),
                    (2, "root hard core infinity"),
                    (3, "* soft core 0"),
                    (4, "root soft core 0"),
                ],
            ),
        ];
        access.core.hard = Some("unlimited".into());
        access.core.soft = Some("0".into());
        access.core.root_hard = Some("unlimited".into());
        access
    }

    /// systemd applies `value` to `name`, hard and soft.
    fn applies(access: &mut AccessFacts, name: &str, value: &str) {
        for (key, found) in &mut access.manager {
            if key == name || *key == format!("{name}Soft") {
                *found = value.to_string();
            }
        }
    }

    #[test]
    fn the_role_s_limits_read_into_what_proc_and_systemd_show() {
        let expected = expected();
        assert_eq!(
            (expected.core_hard.as_deref(), expected.core_soft.as_deref()),
            (Some("unlimited"), Some("0"))
        );
        let check = limits("medulla", &expected, &applied());
        assert_eq!(
            (check.status, check.summary.as_str()),
            (
                CheckOutcome::Ok,
                "systemd applies DefaultLimitNPROC=31541 and DefaultLimitSIGPENDING=31541; a \
                 process of medulla gets core-dump limits unlimited (hard) and 0 (soft)"
            )
        );
        // KiB in the file, bytes in /proc; `-` sets both; a file without `*` lines expects
        // nothing of the account.
        let kib = ExpectedLimits::new("1", "1", ROLE_FILE, "* soft core 1024 # 1 MiB\n");
        assert_eq!(kib.core_soft.as_deref(), Some("1048576"));
        let both = ExpectedLimits::new("1", "1", ROLE_FILE, "* - core 0\n");
        assert_eq!(
            (both.core_hard.as_deref(), both.core_soft.as_deref()),
            (Some("0"), Some("0"))
        );
        let none = ExpectedLimits::new("31541", "31541", ROLE_FILE, "root hard core 0\n");
        let mut access = applied();
        access.core.soft = Some("unlimited".into());
        assert_eq!(limits("medulla", &none, &access).status, CheckOutcome::Ok);
    }

    #[test]
    fn a_drop_in_read_last_is_named() {
        let mut access = applied();
        applies(&mut access, "DefaultLimitNPROC", "4096");
        access.manager_files.push(file(
            "/etc/systemd/system.conf.d/50-site.conf",
            &[(2, "DefaultLimitNPROC = 4096")],
        ));
        let check = limits("medulla", &expected(), &access);
        assert_eq!(check.status, CheckOutcome::Failed);
        assert_eq!(
            check.summary,
            "systemd applies DefaultLimitNPROC=4096, not 31541: \
             /etc/systemd/system.conf.d/50-site.conf:2: DefaultLimitNPROC = 4096 is read last \
             and sets it"
        );
        assert_eq!(
            check.details,
            [
                "/etc/systemd/system.conf:40: DefaultLimitNPROC=31541",
                "/etc/systemd/system.conf.d/50-site.conf:2: DefaultLimitNPROC = 4096"
            ]
        );
        // system.conf says 31541 and nothing overrides it: systemd has not re-read it.
        let mut stale = applied();
        applies(&mut stale, "DefaultLimitSIGPENDING", "7823");
        assert_eq!(
            limits("medulla", &expected(), &stale).summary,
            "systemd applies DefaultLimitSIGPENDING=7823, not 31541: systemd has not re-read \
             its configuration since (systemctl daemon-reexec)"
        );
        // A soft limit apart is said as systemd would take it.
        let mut soft = applied();
        soft.manager[1].1 = "1024".into();
        assert!(
            limits("medulla", &expected(), &soft)
                .summary
                .starts_with("systemd applies DefaultLimitNPROC=1024:31541 (soft:hard), not 31541")
        );
        // Nothing read from systemd is not a pass.
        let mut unread = applied();
        unread.manager.clear();
        assert!(
            limits("medulla", &expected(), &unread)
                .summary
                .starts_with("DefaultLimitNPROC could not be read from systemd")
        );
    }

    #[test]
    fn drop_ins_are_read_in_systemd_s_order_whatever_their_directory() {
        let mut access = applied();
        applies(&mut access, "DefaultLimitNPROC", "8192");
        // By file name across directories; /etc's 60-vendor.conf hides /usr/lib's (a mask).
        access.manager_files.extend([
            file("/etc/systemd/system.conf.d/60-vendor.conf", &[]),
            file(
                "/run/systemd/system.conf.d/70-late.conf",
                &[(1, "DefaultLimitNPROC=8192")],
            ),
            file(
                "/usr/lib/systemd/system.conf.d/60-vendor.conf",
                &[(1, "DefaultLimitNPROC=65536")],
            ),
            file(
                "/usr/lib/systemd/system.conf.d/10-early.conf",
                &[(1, "DefaultLimitNPROC=1000")],
            ),
        ]);
        let check = limits("medulla", &expected(), &access);
        assert!(
            check.summary.ends_with(
                "/run/systemd/system.conf.d/70-late.conf:1: DefaultLimitNPROC=8192 is read last \
                 and sets it"
            ),
            "{check:?}"
        );
        assert_eq!(
            check.details,
            [
                "/etc/systemd/system.conf:40: DefaultLimitNPROC=31541",
                "/usr/lib/systemd/system.conf.d/10-early.conf:1: DefaultLimitNPROC=1000",
                "/run/systemd/system.conf.d/70-late.conf:1: DefaultLimitNPROC=8192"
            ]
        );
    }

    #[test]
    fn a_later_limits_file_is_named() {
        let mut access = applied();
        access.core.soft = Some("unlimited".into());
        access.limits_files.extend([
            file(
                "/etc/security/limits.d/90-others.conf",
                &[(1, "bob soft core unlimited"), (2, "@admins soft core 1")],
            ),
            file(
                "/etc/security/limits.d/99-debug.conf",
                &[(1, "* soft core unlimited")],
            ),
        ]);
        let check = limits("medulla", &expected(), &access);
        assert_eq!(check.status, CheckOutcome::Failed);
        // bob's and @admins' lines do not concern medulla: not named.
        assert_eq!(
            check.summary,
            "a process of medulla gets from PAM the core-dump limits soft unlimited (not 0): \
             other lines set them for medulla: /etc/security/limits.d/99-debug.conf:1: * soft \
             core unlimited"
        );
        assert!(applies_to("@sudo", "medulla", &access.groups));
        assert!(applies_to("%sudo", "medulla", &access.groups));
        assert!(applies_to("medulla", "medulla", &access.groups));
        assert!(!applies_to("@admins", "medulla", &access.groups));

        // The role's file gone, nothing else: said so.
        let mut gone = applied();
        gone.limits_files.truncate(1);
        gone.core.hard = Some("0".into());
        assert_eq!(
            limits("medulla", &expected(), &gone).summary,
            format!(
                "a process of medulla gets from PAM the core-dump limits hard 0 (not \
                 unlimited): {ROLE_FILE} does not exist"
            )
        );
    }

    #[test]
    fn a_hard_limit_root_could_not_raise_is_not_verifiable_here() {
        let mut capped = applied();
        capped.core.hard = Some("0".into());
        capped.core.root_hard = Some("0".into());
        let check = limits("medulla", &expected(), &capped);
        assert_eq!(check.status, CheckOutcome::Warning, "{check:?}");
        // What was verified is said before what was not.
        assert!(
            check.summary.starts_with(
                "systemd applies DefaultLimitNPROC=31541 and DefaultLimitSIGPENDING=31541; a \
                 process of medulla gets the core-dump limits hard 0 (not unlimited) here"
            ),
            "{check:?}"
        );
        assert!(
            check
                .summary
                .ends_with("not verifiable from here, SIVEO's pre-install check verifies them"),
            "{check:?}"
        );
        // Where root's shell had the limit, PAM's 0 is the relay's own.
        capped.core.root_hard = Some("unlimited".into());
        assert_eq!(
            limits("medulla", &expected(), &capped).status,
            CheckOutcome::Failed
        );
        // A soft limit the cap does not explain is wrong whatever the cap.
        let mut both = applied();
        both.core.hard = Some("0".into());
        both.core.soft = Some("0".into());
        both.core.root_hard = Some("0".into());
        let mut soft_wanted = expected();
        soft_wanted.core_soft = Some("1024".into());
        soft_wanted.core_hard = Some("2048".into());
        both.core.soft = Some("512".into());
        assert_eq!(
            limits("medulla", &soft_wanted, &both).status,
            CheckOutcome::Failed
        );
    }

    #[test]
    fn an_unsynchronised_clock_is_a_warning() {
        let mut access = applied();
        assert_eq!(time(&access).status, CheckOutcome::Warning);
        assert!(time(&access).summary.starts_with("not verified"));
        access.time_synchronized = Some(false);
        assert_eq!(time(&access).status, CheckOutcome::Warning);
        access.time_synchronized = Some(true);
        assert_eq!(time(&access).status, CheckOutcome::Ok);
    }
}
