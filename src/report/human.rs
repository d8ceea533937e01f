//! The operator's view: per host, what was found and what was expected, then a recap.

use std::fmt::Write as _;

use super::{HostReport, HostStatus, RunReport};
use crate::engine::{TaskReport, TaskStatus};
use crate::facts::{Facts, SudoAccess};
use crate::sizing::{CheckStatus, GB, GIB};

/// Renders a whole run.
pub fn render(report: &RunReport) -> String {
    let mut out = String::new();
    if report.check_mode {
        out.push_str(
            "DRY RUN (--check): nothing is changed on any host.\n\
             The flows are not checked: their checks open temporary listeners on the relays \
             (`relayctl flows INVENTORY` runs them on their own).\n\n",
        );
    }
    for host in &report.hosts {
        render_host(&mut out, host, report.command == "facts");
        render_tasks(&mut out, &host.tasks, report.check_mode);
        render_flows(&mut out, host);
        out.push('\n');
    }
    render_recap(&mut out, report);
    out
}

fn render_host(out: &mut String, host: &HostReport, show_all_facts: bool) {
    let status = match host.status {
        HostStatus::Ok => "ok",
        HostStatus::Failed => "FAILED",
        HostStatus::Unreachable => "UNREACHABLE",
    };
    let relay = host
        .relay_type
        .map(|t| format!("  {t} relay"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "{}{relay}  {}  {status}  ({:.2} s)",
        host.name,
        host.connection,
        host.elapsed_ms as f64 / 1000.0
    );
    if let Some(error) = &host.error {
        let _ = writeln!(out, "  error [{}]: {}", error.kind, error.message);
    }
    if let Some(facts) = &host.facts {
        if show_all_facts {
            render_facts(out, facts);
        } else {
            let _ = writeln!(out, "  {}", facts_summary(facts));
        }
    }
    if let Some(sizing) = &host.sizing {
        let verdict = if sizing.passed() { "passed" } else { "FAILED" };
        let _ = writeln!(
            out,
            "  sizing for a {} relay: {verdict} ({} checks)",
            sizing.relay_type,
            sizing.checks.len()
        );
        if let Some(note) = sizing.profile_note {
            let _ = writeln!(out, "    note: {note}");
        }
        let width = sizing
            .checks
            .iter()
            .map(|c| c.name.len())
            .max()
            .unwrap_or(0);
        // A passed sizing is one line (the JSON has every check); a failed one shows them all,
        // what passed beside what did not.
        let checks = if sizing.passed() {
            &[][..]
        } else {
            &sizing.checks[..]
        };
        for check in checks {
            let mark = match check.status {
                CheckStatus::Pass => "ok  ",
                CheckStatus::Fail => "FAIL",
            };
            let _ = writeln!(
                out,
                "    {mark}  {:<width$}  expected {}; found {}",
                check.name, check.expected, check.found
            );
        }
    }
    for warning in &host.warnings {
        let _ = writeln!(out, "  warning: {}", warning.message);
    }
}

/// The flows in one line unless some fail (those are listed), then the five confirmations of
/// PROC step 5 and the verdict.
fn render_flows(out: &mut String, host: &HostReport) {
    if host.flows.is_empty() && host.confirmations.is_none() {
        return;
    }
    let count = |passed: Option<bool>| host.flows.iter().filter(|f| f.passed() == passed).count();
    let _ = writeln!(
        out,
        "  flows: {} confirmed, {} failing, {} not verifiable from here",
        count(Some(true)),
        count(Some(false)),
        count(None)
    );
    for flow in host.flows.iter().filter(|f| f.passed() == Some(false)) {
        let _ = writeln!(out, "    FAIL  {}: {}", flow.describe(), flow.result_text());
    }
    let Some(confirmations) = &host.confirmations else {
        return;
    };
    let _ = writeln!(out, "  confirmations (PROC step 5):");
    for item in &confirmations.items {
        let _ = writeln!(
            out,
            "    {}. {:<40} {}: {}",
            item.item,
            item.title,
            item.status.as_str(),
            item.summary
        );
    }
    if !confirmations.installation_checks.is_empty() {
        let _ = writeln!(out, "  what the installation needs next:");
        for check in &confirmations.installation_checks {
            let _ = writeln!(
                out,
                "    {:<43} {}: {}",
                check.title,
                check.status.as_str(),
                check.summary
            );
        }
    }
    if !confirmations.server_sources.is_empty() {
        let _ = writeln!(
            out,
            "    the Medulla server's flows to the relay are admitted from: {}",
            confirmations.server_sources.join(", ")
        );
    }
    if !confirmations.to_confirm_by_medulla.is_empty() {
        let _ = writeln!(
            out,
            "    to be confirmed by Medulla: {} flow(s) from its server",
            confirmations.to_confirm_by_medulla.len()
        );
    }
    // One line: the verdict with the count of flows left to Medulla, why not ready, and what
    // it rests on without having verified it.
    let mut verdict = format!("  verdict: {}", confirmations.verdict);
    if !confirmations.ready {
        let _ = write!(verdict, ": {}", confirmations.reasons.join("; "));
    }
    if !confirmations.not_verified.is_empty() {
        let _ = write!(
            verdict,
            "; not verified here: {}",
            confirmations.not_verified.join("; ")
        );
    }
    let _ = writeln!(out, "{verdict}");
}

/// One line: OS, CPU, memory, /var.
fn facts_summary(facts: &Facts) -> String {
    format!(
        "{}, {}, {} vCPU, {:.1} GiB RAM, /var: {}",
        facts.os_summary(),
        facts.arch,
        facts.vcpus,
        facts.memory_bytes as f64 / GIB,
        var_summary(facts)
    )
}

fn var_summary(facts: &Facts) -> String {
    let fs = &facts.var;
    let size = format!("{} {:.0} GB", fs.fstype, fs.size_bytes as f64 / GB);
    if facts.var_on_root {
        format!("on / ({size})")
    } else {
        format!("{size} on {}", fs.mount_point)
    }
}

fn render_facts(out: &mut String, facts: &Facts) {
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    let rows = [
        ("os", facts.os_summary()),
        (
            "architecture",
            format!("{} (kernel {})", facts.arch, facts.kernel),
        ),
        ("vcpus", facts.vcpus.to_string()),
        (
            "memory",
            format!("{:.1} GiB", facts.memory_bytes as f64 / GIB),
        ),
        (
            "/",
            format!(
                "{} {:.0} GB ({})",
                facts.root.fstype,
                facts.root.size_bytes as f64 / GB,
                facts.root.source
            ),
        ),
        ("/var", var_summary(facts)),
        ("hostname", facts.hostname.clone()),
        (
            "fqdn",
            match &facts.fqdn {
                Some(fqdn) => format!("{fqdn} (resolves: {})", yes_no(facts.fqdn_resolves)),
                None => "none".to_string(),
            },
        ),
        (
            "systemd",
            match facts.systemd_version {
                Some(v) => format!("{v} (running as init: {})", yes_no(facts.systemd_running)),
                None => format!(
                    "absent (running as init: {})",
                    yes_no(facts.systemd_running)
                ),
            },
        ),
        (
            "nft",
            facts.nft_version.clone().unwrap_or_else(|| "absent".into()),
        ),
        (
            "uid 215",
            facts.uid_215_owner.clone().unwrap_or_else(|| "free".into()),
        ),
        ("user", facts.user.clone()),
        (
            "sudo",
            match facts.sudo {
                SudoAccess::Root => "running as root",
                SudoAccess::Passwordless => "passwordless",
                SudoAccess::NeedsPassword => "asks for a password",
                SudoAccess::Absent => "not installed",
            }
            .to_string(),
        ),
        (
            "controller",
            facts
                .controller_address
                .clone()
                .unwrap_or_else(|| "unknown".into()),
        ),
    ];
    for (name, value) in rows {
        let _ = writeln!(out, "  {name:<13} {value}");
    }
}

/// A line per task: its status, role and name; below it, what changed (or would), the diff, and
/// why it failed, was skipped or is pending.
fn render_tasks(out: &mut String, tasks: &[TaskReport], check_mode: bool) {
    if tasks.is_empty() {
        return;
    }
    let _ = writeln!(out, "  tasks:");
    for task in tasks {
        let status = match (task.status, check_mode) {
            (TaskStatus::Ok, _) => "ok",
            (TaskStatus::Changed, false) => "changed",
            (TaskStatus::Changed, true) => "would change",
            (TaskStatus::Failed, false) => "FAILED",
            (TaskStatus::Failed, true) => "WOULD FAIL",
            (TaskStatus::Skipped, _) => "skipped",
            (TaskStatus::Pending, _) => "pending",
        };
        let handler = if task.handler { "handler: " } else { "" };
        let _ = writeln!(
            out,
            "    {status:<12}  {}: {handler}{}",
            task.role, task.task
        );
        for change in &task.changes {
            let _ = writeln!(out, "                  - {change}");
        }
        if let Some(message) = &task.message {
            let _ = writeln!(out, "                  {message}");
        }
        if let Some(diff) = &task.diff {
            for line in diff.lines() {
                let _ = writeln!(out, "                  {line}");
            }
        }
    }
}

fn render_recap(out: &mut String, report: &RunReport) {
    let _ = writeln!(out, "RECAP  ({:.2} s)", report.elapsed_ms as f64 / 1000.0);
    let width = report.hosts.iter().map(|h| h.name.len()).max().unwrap_or(0);
    for host in &report.hosts {
        let (status, reason) = match (&host.status, &host.error) {
            (HostStatus::Ok, _) => ("ok", String::new()),
            (HostStatus::Failed, Some(e)) => ("failed", e.message.clone()),
            (HostStatus::Unreachable, Some(e)) => ("unreachable", e.message.clone()),
            (HostStatus::Failed, None) => ("failed", String::new()),
            (HostStatus::Unreachable, None) => ("unreachable", String::new()),
        };
        // Ansible's recap columns, where there were tasks.
        let counts = host
            .counts
            .map(|c| {
                let changed = if report.check_mode {
                    "would_change"
                } else {
                    "changed"
                };
                let pending = if c.pending > 0 {
                    format!(" pending={}", c.pending)
                } else {
                    String::new()
                };
                format!(
                    "ok={} {changed}={} failed={} skipped={}{pending} unreachable={}  ",
                    c.ok, c.changed, c.failed, c.skipped, c.unreachable
                )
            })
            .unwrap_or_default();
        let line = format!("  {:<width$}  {status:<11}  {counts}{reason}", host.name);
        let _ = writeln!(out, "{}", line.trim_end());
    }
    let recap = report.recap;
    let _ = writeln!(
        out,
        "  {} ok, {} failed, {} unreachable",
        recap.ok, recap.failed, recap.unreachable
    );
    if report.changes_pending() {
        let hosts = report
            .hosts
            .iter()
            .filter(|h| h.tasks.iter().any(|t| t.status == TaskStatus::Changed))
            .count();
        let _ = writeln!(
            out,
            "  changes pending on {hosts} host(s): run without --check to make them"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::TaskCounts;
    use crate::medulla::RelayType;
    use crate::testing;

    fn task(role: &str, name: &str, status: TaskStatus) -> TaskReport {
        TaskReport {
            elapsed_ms: 3,
            ..testing::task(role, name, status)
        }
    }

    #[test]
    fn a_dry_run_shows_each_task_what_would_change_and_the_recap() {
        let tasks = vec![
            TaskReport {
                changes: vec!["create /etc/sudoers.d/medulla (root:root 0440)".into()],
                diff: Some(
                    "--- /dev/null\n+++ /etc/sudoers.d/medulla (after)\n@@ -0,0 +1 @@\n+medulla ALL=(ALL) NOPASSWD: ALL\n"
                        .into(),
                ),
                ..task("medulla_user", "passwordless sudo for medulla", TaskStatus::Changed)
            },
            TaskReport {
                message: Some("when: medulla_support_private_key is not none".into()),
                ..task("medulla_user", "medulla logs in with the support key", TaskStatus::Skipped)
            },
            TaskReport {
                message: Some("cannot be verified before the 1 earlier change(s) are applied".into()),
                ..task("medulla_user", "medulla runs sudo -n true", TaskStatus::Pending)
            },
            TaskReport {
                handler: true,
                changes: vec!["re-execute systemd (daemon-reexec)".into()],
                ..task("medulla_prereqs", "re-execute systemd", TaskStatus::Changed)
            },
        ];
        let report = RunReport::new(
            "apply",
            true,
            "inventories/site.yaml".into(),
            vec![HostReport {
                name: "relay-lyon-01".into(),
                connection: "admin@10.1.0.21".into(),
                status: HostStatus::Ok,
                error: None,
                relay_type: Some(RelayType::Classic),
                facts: None,
                sizing: None,
                warnings: Vec::new(),
                counts: Some(TaskCounts::of(&tasks, false)),
                tasks,
                flows: Vec::new(),
                confirmations: None,
                elapsed_ms: 412,
            }],
            412,
        );
        insta::assert_snapshot!(render(&report));
    }

    #[test]
    fn the_verdict_line_counts_the_flows_left_to_medulla_and_says_what_was_not_verified() {
        let mut host = HostReport {
            name: "relay-lyon-01".into(),
            connection: "admin@10.1.0.21".into(),
            status: HostStatus::Failed,
            error: None,
            relay_type: Some(RelayType::Classic),
            facts: None,
            sizing: None,
            warnings: Vec::new(),
            counts: None,
            tasks: Vec::new(),
            flows: Vec::new(),
            confirmations: Some(crate::confirmations::Confirmations {
                ready: false,
                verdict: "NOT READY, 6 flows left to Medulla".into(),
                reasons: vec!["sizing failed: /var".into()],
                not_verified: vec!["server -> relay tcp/22: to be confirmed by Medulla".into()],
                items: Vec::new(),
                installation_checks: Vec::new(),
                to_confirm_by_medulla: Vec::new(),
                server_sources: Vec::new(),
            }),
            elapsed_ms: 412,
        };
        let verdict = |host: &HostReport| {
            let mut out = String::new();
            render_flows(&mut out, host);
            out.lines().last().unwrap_or_default().to_string()
        };
        assert_eq!(
            verdict(&host),
            "  verdict: NOT READY, 6 flows left to Medulla: sizing failed: /var; not verified \
             here: server -> relay tcp/22: to be confirmed by Medulla"
        );
        if let Some(c) = host.confirmations.as_mut() {
            c.ready = true;
            c.verdict = "READY, 0 flows left to Medulla".into();
            c.reasons.clear();
            c.not_verified.clear();
        }
        assert_eq!(verdict(&host), "  verdict: READY, 0 flows left to Medulla");
    }
}
