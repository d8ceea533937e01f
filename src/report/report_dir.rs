//! The confirmations report that `--report DIR` writes: for each relay of the run, `<name>.md`
//! (what PROC step 5 asks the customer to hand back to SIVEO, to paste into the ticket) and
//! `<name>.json` (the host's whole report, for pipelines); then `summary.md` and `summary.json`,
//! one line per relay with its verdict.
//!
//! The Markdown comes from two shared templates (`templates/confirmations.md.j2` and
//! `templates/confirmations_summary.md.j2`), looked up in the run's [`Templates`] under their
//! catalog names ([`HOST_TEMPLATE`], [`SUMMARY_TEMPLATE`]). Everything is rendered before the
//! first file is written, and each file is written to a temporary file beside it and renamed: a
//! failed run leaves the previous report's files whole, never half of one.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use super::{HostReport, RunReport, WrittenReport};
use crate::atomic_file;
use crate::engine::template::Templates;
use crate::medulla::RelayType;

/// The catalog's name of `templates/confirmations.md.j2` (shared templates are `@shared/NAME`).
pub const HOST_TEMPLATE: &str = "@shared/confirmations.md.j2";
/// The catalog's name of `templates/confirmations_summary.md.j2`.
pub const SUMMARY_TEMPLATE: &str = "@shared/confirmations_summary.md.j2";
/// The summary's file stem: no relay may be named so, or its report would be overwritten.
const SUMMARY_STEM: &str = "summary";

/// `summary.json`, and the context of the summary template.
#[derive(Debug, Serialize)]
struct Summary<'a> {
    relayctl_version: &'a str,
    command: &'a str,
    inventory: String,
    generated_at: &'a str,
    relays: Vec<SummaryRelay<'a>>,
}

/// One relay in the summary; the report paths are relative to the summary (same directory).
#[derive(Debug, Serialize)]
struct SummaryRelay<'a> {
    name: &'a str,
    relay_type: Option<RelayType>,
    ready: bool,
    /// `READY, 6 flows left to Medulla` (see [`crate::confirmations::Confirmations::verdict`]).
    verdict: &'a str,
    reasons: &'a [String],
    report_md: String,
    report_json: String,
}

/// `<name>.json`: the host's report as `--format json` gives it, and when it was written.
#[derive(Serialize)]
struct HostFile<'a> {
    generated_at: &'a str,
    #[serde(flatten)]
    host: &'a HostReport,
}

/// The context of the host template.
#[derive(Serialize)]
struct HostContext<'a> {
    host: &'a HostReport,
    generated_at: &'a str,
    inventory: String,
}

/// Writes the confirmations report of every relay of `report` (the hosts with confirmations;
/// the others are skipped) into `dir`, created if need be, and returns the files written:
/// `<name>.md` and `<name>.json` per relay, in the run's order, then `summary.md` and
/// `summary.json`. `templates` must hold [`HOST_TEMPLATE`] and [`SUMMARY_TEMPLATE`] (the
/// catalog's do). Errors name the file or the host they are about.
pub fn write(
    dir: &Path,
    report: &RunReport,
    templates: &Templates,
) -> Result<Vec<PathBuf>, String> {
    write_at(dir, report, templates, &rfc3339_utc(SystemTime::now()))
}

/// [`write()`], as the run's report records it: the files written, or why none could be.
pub fn write_recorded(dir: &Path, report: &RunReport, templates: &Templates) -> WrittenReport {
    let (files, error) = match write(dir, report, templates) {
        Ok(files) => (files, None),
        Err(e) => (Vec::new(), Some(e)),
    };
    WrittenReport {
        dir: dir.to_path_buf(),
        files,
        error,
    }
}

fn write_at(
    dir: &Path,
    report: &RunReport,
    templates: &Templates,
    generated_at: &str,
) -> Result<Vec<PathBuf>, String> {
    let inventory = report.inventory.display().to_string();
    let relays: Vec<&HostReport> = report
        .hosts
        .iter()
        .filter(|host| host.confirmations.is_some())
        .collect();

    // Every name is checked before anything is rendered or written: a refused name costs the
    // whole report, not the relays after it. Compared case-insensitively, for the file systems
    // that are (two relays would share a file there).
    let mut stems = HashSet::from([SUMMARY_STEM.to_string()]);
    for host in &relays {
        let stem = file_stem(&host.name)?;
        if !stems.insert(stem.to_lowercase()) {
            return Err(format!(
                "relay {:?}: its report files would overwrite another's ({stem}.md)",
                host.name
            ));
        }
    }

    let mut files: Vec<(PathBuf, String)> = Vec::new();
    let mut summary_relays = Vec::new();
    for host in relays {
        let report_md = format!("{}.md", host.name);
        let report_json = format!("{}.json", host.name);
        let md_path = dir.join(&report_md);
        let markdown = render_host(templates, host, generated_at, &inventory)
            .map_err(|e| format!("{}: {e}", md_path.display()))?;
        files.push((md_path, markdown));
        let json_path = dir.join(&report_json);
        let json = to_json(&HostFile { generated_at, host })
            .map_err(|e| format!("{}: {e}", json_path.display()))?;
        files.push((json_path, json));
        summary_relays.push(SummaryRelay {
            name: &host.name,
            relay_type: host.relay_type,
            ready: host.confirmations.as_ref().is_some_and(|c| c.ready),
            verdict: host
                .confirmations
                .as_ref()
                .map_or("", |c| c.verdict.as_str()),
            reasons: host
                .confirmations
                .as_ref()
                .map_or(&[][..], |c| c.reasons.as_slice()),
            report_md,
            report_json,
        });
    }
    let summary = Summary {
        relayctl_version: report.relayctl_version,
        command: report.command,
        inventory,
        generated_at,
        relays: summary_relays,
    };
    let md_path = dir.join(format!("{SUMMARY_STEM}.md"));
    let markdown =
        render_summary(templates, &summary).map_err(|e| format!("{}: {e}", md_path.display()))?;
    files.push((md_path, markdown));
    let json_path = dir.join(format!("{SUMMARY_STEM}.json"));
    let json = to_json(&summary).map_err(|e| format!("{}: {e}", json_path.display()))?;
    files.push((json_path, json));

    std::fs::create_dir_all(dir)
        .map_err(|e| format!("cannot create the report directory {}: {e}", dir.display()))?;
    let mut written = Vec::with_capacity(files.len());
    // The summary goes last: while it is written, the reports it links to are already there.
    for (path, content) in files {
        write_file(&path, &content)?;
        written.push(path);
    }
    Ok(written)
}

/// The Markdown report of one relay (a host with confirmations).
fn render_host(
    templates: &Templates,
    host: &HostReport,
    generated_at: &str,
    inventory: &str,
) -> Result<String, String> {
    let ctx = HostContext {
        host,
        generated_at,
        inventory: inventory.to_string(),
    };
    templates.render_file(
        HOST_TEMPLATE,
        &minijinja::Value::from(minijinja::value::Serde(&ctx)),
    )
}

fn render_summary(templates: &Templates, summary: &Summary) -> Result<String, String> {
    templates.render_file(
        SUMMARY_TEMPLATE,
        &minijinja::Value::from(minijinja::value::Serde(summary)),
    )
}

fn to_json(value: &impl Serialize) -> Result<String, String> {
    serde_json::to_string_pretty(value)
        .map(|mut text| {
            text.push('\n');
            text
        })
        .map_err(|e| format!("cannot serialise the report: {e}"))
}

/// The file stem for a relay's reports: its inventory name, refused when it could leave the
/// directory (`/`, `\`, `..`), hide itself or clash with the temporary files (a leading `.`),
/// break a file name (NUL, control characters) or the summary's Markdown (whitespace, `<`, `>`,
/// `|`), or take the summary's place. Refused rather than rewritten: two relays could otherwise
/// end up in the same file, and the ticket should name the relay as the inventory does.
pub fn file_stem(name: &str) -> Result<&str, String> {
    let refuse = |why: &str| Err(format!("relay {name:?}: cannot name a report file: {why}"));
    if name.is_empty() {
        return refuse("the name is empty");
    }
    if let Some(bad) = name
        .chars()
        .find(|c| c.is_control() || c.is_whitespace() || "/\\<>|".contains(*c))
    {
        return refuse(&format!("{bad:?} is not allowed in a file name here"));
    }
    if name.contains("..") || name.starts_with('.') {
        return refuse("it starts with `.` or holds `..`");
    }
    if name.eq_ignore_ascii_case(SUMMARY_STEM) {
        return refuse("summary.md and summary.json are the run's summary");
    }
    Ok(name)
}

/// Writes `content` to `path` through a temporary file in the same directory, renamed over it
/// ([`atomic_file::replace`]: a link planted in the directory is never written through).
fn write_file(path: &Path, content: &str) -> Result<(), String> {
    // Readable as any file the operator makes (less the umask): the report holds no secret.
    atomic_file::replace(path, content.as_bytes(), 0o666)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// `time` as RFC 3339 in UTC, to the second: `2026-11-23T18:42:04Z`. Written here rather than
/// with a date crate: this is the only date relayctl formats.
pub fn rfc3339_utc(time: SystemTime) -> String {
    let secs: i64 = match time.duration_since(UNIX_EPOCH) {
        Ok(since) => i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
        // Before 1970 (a clock gone wrong): rounded down to the second, as after it.
        Err(e) => {
            let before = e.duration();
            -i64::try_from(before.as_secs()).unwrap_or(i64::MAX)
                - i64::from(before.subsec_nanos() > 0)
        }
    };
    let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
    let second_of_day = secs.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        second_of_day / 3600,
        second_of_day % 3600 / 60,
        second_of_day % 60
    )
}

/// The proleptic Gregorian date of a day counted from 1970-01-01 (day 0): Howard Hinnant's
/// `civil_from_days` (https://howardhinnant.github.io/date_algorithms.html). Years are counted
/// from March so that the leap day ends one; 400-year eras repeat exactly.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468; // days from 0000-03-01
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097); // [0, 146096]
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365; // [0, 399]
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100); // [0, 365]
    let month_from_march = (5 * day_of_year + 2) / 153; // [0, 11]
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1; // [1, 31]
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    }; // [1, 12]
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month as u32, day as u32)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::confirmations::{
        CheckOutcome, Confirmation, ConfirmationStatus, Confirmations, InstallationCheck,
    };
    use crate::engine::catalog::Catalog;
    use crate::engine::{TaskCounts, TaskReport, TaskStatus};
    use crate::facts::{Facts, SudoAccess};
    use crate::flows::{FlowOutcome, FlowResult, Listener};
    use crate::inventory::SizingProfile;
    use crate::medulla::MedullaOffer;
    use crate::medulla::port_matrix::{Flow, Protocol};
    use crate::preflight::Warning;
    use crate::report::HostStatus;
    use crate::sizing;
    use crate::testing;

    const GENERATED_AT: &str = "2026-11-23T18:42:04Z";
    const INVENTORY: &str = "inventories/site.yaml";

    /// The catalog's templates: the report's are found under the names the catalog gives them.
    fn templates() -> Templates {
        Catalog::load(None)
            .unwrap_or_else(|e| panic!("{e}"))
            .templates
    }

    fn facts(hostname: &str, fqdn: &str, var_gb: u64) -> Facts {
        Facts {
            kernel: "6.1.0-40-amd64".into(),
            memory_bytes: 8_148_000_000,
            root: testing::filesystem("/dev/vda1", "ext4", 21_003_583_488, "/"),
            var: testing::filesystem("/dev/vdb1", "xfs", var_gb * 1_000_000_000, "/var"),
            hostname: hostname.into(),
            fqdn: Some(fqdn.into()),
            user: "admin".into(),
            sudo: SudoAccess::Passwordless,
            controller_address: Some("10.1.0.5".into()),
            ssh_port: Some(22),
            ..testing::facts()
        }
    }

    fn item(
        item: u8,
        key: &'static str,
        title: &'static str,
        status: ConfirmationStatus,
        summary: &str,
        details: &[&str],
    ) -> Confirmation {
        let details = details.iter().map(ToString::to_string).collect();
        Confirmation::new(item, key, title, status, summary, details)
    }

    #[allow(clippy::too_many_arguments)]
    fn flow(
        flow: Flow,
        protocol: Protocol,
        port: u16,
        from: &str,
        to: &str,
        address: &str,
        purpose: &str,
        result: FlowOutcome,
        elapsed_ms: Option<u64>,
        detail: Option<&str>,
    ) -> FlowResult {
        FlowResult {
            flow,
            protocol,
            port,
            from: from.into(),
            to: to.into(),
            address: address.into(),
            purpose: purpose.into(),
            source: "S000 table 2".into(),
            result,
            detail: detail.map(str::to_string),
            elapsed_ms,
            listener: flow.is_inbound().then_some(Listener::Temporary),
        }
    }

    fn task(role: &str, name: &str, status: TaskStatus, message: Option<&str>) -> TaskReport {
        TaskReport {
            module: "command",
            message: message.map(str::to_string),
            elapsed_ms: 12,
            ..testing::task(role, name, status)
        }
    }

    fn host(
        name: &str,
        relay_type: RelayType,
        facts: Facts,
        tasks: Vec<TaskReport>,
        flows: Vec<FlowResult>,
        confirmations: Confirmations,
    ) -> HostReport {
        let sizing = sizing::evaluate(
            &facts,
            relay_type,
            MedullaOffer::OnPremise,
            SizingProfile::Standard,
        );
        HostReport {
            name: name.into(),
            connection: format!(
                "admin@{}",
                facts.controller_address.as_deref().unwrap_or("")
            ),
            status: HostStatus::Ok,
            error: None,
            relay_type: Some(relay_type),
            facts: Some(facts),
            sizing: Some(sizing),
            warnings: Vec::new(),
            counts: Some(TaskCounts::of(&tasks, false)),
            tasks,
            flows,
            confirmations: Some(confirmations),
            elapsed_ms: 8_412,
        }
    }

    /// A classic relay where everything checks out.
    fn ready_classic() -> HostReport {
        use ConfirmationStatus::*;
        let mut host = host(
            "relay-lyon-01",
            RelayType::Classic,
            facts("relay-lyon-01", "relay-lyon-01.corp.example", 400),
            vec![
                task("medulla_user", "medulla exists", TaskStatus::Ok, None),
                task(
                    "medulla_user",
                    "passwordless sudo for medulla",
                    TaskStatus::Changed,
                    None,
                ),
                task(
                    "relay_firewall",
                    "nftables ruleset",
                    TaskStatus::Changed,
                    None,
                ),
            ],
            vec![
                flow(
                    Flow::WorkstationToRelay,
                    Protocol::Tcp,
                    5222,
                    "ws-lyon-01",
                    "relay-lyon-01",
                    "10.1.0.21",
                    "XMPP clients",
                    FlowOutcome::Open,
                    Some(3),
                    None,
                ),
                flow(
                    Flow::RelayToWorkstation,
                    Protocol::Tcp,
                    5900,
                    "relay-lyon-01",
                    "ws-lyon-01",
                    "10.1.2.30",
                    "VNC remote control",
                    FlowOutcome::Refused,
                    Some(1),
                    None,
                ),
                flow(
                    Flow::WorkstationToRelay,
                    Protocol::Udp,
                    69,
                    "ws-lyon-01",
                    "relay-lyon-01",
                    "10.1.0.21",
                    "TFTP (imaging)",
                    FlowOutcome::NotTestable,
                    None,
                    None,
                ),
            ],
            Confirmations {
                ready: true,
                verdict: "READY, 0 flows left to Medulla".into(),
                reasons: Vec::new(),
                not_verified: vec![
                    "workstation -> relay udp/69: not testable by connect (UDP: a connect \
                     proves nothing)"
                        .into(),
                ],
                items: vec![
                    item(
                        1,
                        "itsm_entity",
                        "ITSM entity",
                        Manual,
                        "give SIVEO the relay's ITSM entity if it is not the parent entity",
                        &[],
                    ),
                    item(
                        2,
                        "ports",
                        "Ports open",
                        Confirmed,
                        "2 of 2 testable flows pass; 1 not testable by connect",
                        &["udp/69 (TFTP) is not testable by connect"],
                    ),
                    item(
                        3,
                        "ssh_key",
                        "SSH key added",
                        Confirmed,
                        "the Medulla support key is authorised for medulla",
                        &["ED25519 SHA256:Qm9vZ2xlIGtleSBmaW5nZXJwcmludCBoZXJl"],
                    ),
                    item(
                        4,
                        "medulla_access",
                        "medulla password, passwordless sudo",
                        Confirmed,
                        "medulla has a password; `sudo -n true` works as medulla",
                        &[
                            "password kept on the controller in secrets/relay-lyon-01/medulla_password",
                        ],
                    ),
                    item(
                        5,
                        "fqdn",
                        "FQDN",
                        Confirmed,
                        "relay-lyon-01.corp.example, resolves on the relay",
                        &[],
                    ),
                ],
                installation_checks: vec![InstallationCheck {
                    key: "workstations",
                    title: "Workstation networks",
                    status: CheckOutcome::Ok,
                    summary: "the firewall admits the workstations of 10.1.0.0/16".into(),
                    details: Vec::new(),
                    source: "seed 000 (classic relay: workstation -> relay flows); seed 004 ARCH",
                }],
                to_confirm_by_medulla: Vec::new(),
                server_sources: vec!["192.0.2.10 (medulla.example.com, as resolved here)".into()],
            },
        );
        // No time and no detail: the cell shows the outcome alone.
        host.flows[2].listener = None;
        host
    }

    /// A DMZ relay that is not ready: a filtered flow, a flow only Medulla can test, /var too
    /// small, the support key missing, a failed task.
    fn not_ready_dmz() -> HostReport {
        use ConfirmationStatus::*;
        let to_confirm = flow(
            Flow::ServerToRelay,
            Protocol::Tcp,
            5269,
            "medulla-server",
            "relay-dmz-01",
            "203.0.113.10",
            "XMPP server-to-server",
            FlowOutcome::ToConfirm,
            None,
            None,
        );
        let mut host = host(
            "relay-dmz-01",
            RelayType::Dmz,
            facts("relay-dmz-01", "relay-dmz-01.dmz.example", 100),
            vec![
                task("medulla_user", "medulla exists", TaskStatus::Ok, None),
                task(
                    "medulla_user",
                    "medulla logs in with the support key",
                    TaskStatus::Failed,
                    Some("Permission denied (publickey)"),
                ),
                task(
                    "relay_firewall",
                    "nftables ruleset",
                    TaskStatus::Skipped,
                    Some("when: relay_firewall_enabled"),
                ),
            ],
            vec![
                flow(
                    Flow::ExternalToRelay,
                    Protocol::Tcp,
                    5222,
                    "mobile-test",
                    "relay-dmz-01",
                    "203.0.113.10",
                    "XMPP clients",
                    FlowOutcome::Filtered,
                    Some(3000),
                    Some("no answer in 3 s | SYN sent"),
                ),
                to_confirm.clone(),
                flow(
                    Flow::RelayToServer,
                    Protocol::Tcp,
                    5269,
                    "relay-dmz-01",
                    "198.51.100.7",
                    "198.51.100.7",
                    "XMPP server-to-server",
                    FlowOutcome::Open,
                    Some(24),
                    None,
                ),
            ],
            Confirmations {
                ready: false,
                verdict: "NOT READY, 1 flow left to Medulla".into(),
                not_verified: vec![
                    "server -> relay tcp/5269: to be confirmed by Medulla (the Medulla server is \
                     not in the inventory: SIVEO tests this flow)"
                        .into(),
                ],
                reasons: vec![
                    "flow mobile-test -> relay-dmz-01 tcp/5222 (XMPP clients) is filtered".into(),
                    "the Medulla support key is not authorised for medulla".into(),
                    "sizing: /var".into(),
                    "1 task failed".into(),
                ],
                items: vec![
                    item(
                        1,
                        "itsm_entity",
                        "ITSM entity",
                        Manual,
                        "give SIVEO the relay's ITSM entity if it is not the parent entity",
                        &[],
                    ),
                    item(
                        2,
                        "ports",
                        "Ports open",
                        NotConfirmed,
                        "1 of 2 testable flows fails; 1 to be confirmed by Medulla",
                        &[
                            "mobile-test -> relay-dmz-01 tcp/5222 (XMPP clients): filtered (no answer in 3 s | SYN sent)",
                        ],
                    ),
                    item(
                        3,
                        "ssh_key",
                        "SSH key added",
                        NotConfirmed,
                        "the Medulla support key is not authorised for medulla",
                        &[
                            "expected ED25519 SHA256:Qm9vZ2xlIGtleSBmaW5nZXJwcmludCBoZXJl",
                            "found in ~medulla/.ssh/authorized_keys: none",
                        ],
                    ),
                    item(
                        4,
                        "medulla_access",
                        "medulla password, passwordless sudo",
                        Confirmed,
                        "medulla has a password; `sudo -n true` works as medulla",
                        &[],
                    ),
                    item(
                        5,
                        "fqdn",
                        "FQDN",
                        Confirmed,
                        "relay-dmz-01.dmz.example, resolves on the relay",
                        &[],
                    ),
                ],
                installation_checks: Vec::new(),
                to_confirm_by_medulla: vec![to_confirm.describe()],
                server_sources: vec![
                    "192.0.2.10".into(),
                    "94.130.207.0/24 (medulla_server_source_addresses)".into(),
                ],
            },
        );
        host.warnings.push(Warning {
            code: "uid_215_taken",
            message: "uid 215 belongs to `backup`; the Medulla packages need it for `drivers`"
                .into(),
        });
        host
    }

    fn run(hosts: Vec<HostReport>) -> RunReport {
        RunReport::new("apply", false, INVENTORY.into(), hosts, 9_000)
    }

    #[test]
    fn a_ready_classic_relay() {
        let markdown = render_host(&templates(), &ready_classic(), GENERATED_AT, INVENTORY)
            .unwrap_or_else(|e| panic!("{e}"));
        insta::assert_snapshot!(markdown);
    }

    #[test]
    fn a_dmz_relay_that_is_not_ready() {
        let markdown = render_host(&templates(), &not_ready_dmz(), GENERATED_AT, INVENTORY)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            markdown.contains("(no answer in 3 s \\| SYN sent)"),
            "{markdown}"
        );
        insta::assert_snapshot!(markdown);
    }

    /// The template's labels are the `as_str` of each status and outcome: same words in the
    /// ticket as on the operator's terminal.
    #[test]
    fn the_template_labels_every_status_and_outcome_as_the_code_does() {
        let templates = templates();
        let mut host = ready_classic();
        let statuses = [
            ConfirmationStatus::Confirmed,
            ConfirmationStatus::NotConfirmed,
            ConfirmationStatus::PartlyConfirmed,
            ConfirmationStatus::Manual,
        ];
        if let Some(c) = host.confirmations.as_mut() {
            for (item, status) in c.items.iter_mut().zip(statuses) {
                item.status = status;
            }
        }
        let outcomes = [
            FlowOutcome::Open,
            FlowOutcome::Refused,
            FlowOutcome::Filtered,
            FlowOutcome::Error,
            FlowOutcome::NotTestable,
            FlowOutcome::ToConfirm,
            FlowOutcome::NotChecked,
        ];
        let template_flow = host.flows[0].clone();
        host.flows = outcomes
            .iter()
            .map(|&result| FlowResult {
                result,
                elapsed_ms: None,
                ..template_flow.clone()
            })
            .collect();
        let check_outcomes = [
            CheckOutcome::Ok,
            CheckOutcome::Failed,
            CheckOutcome::Warning,
        ];
        if let Some(c) = host.confirmations.as_mut() {
            let check = c.installation_checks[0].clone();
            c.installation_checks = check_outcomes
                .iter()
                .map(|&status| InstallationCheck {
                    status,
                    ..check.clone()
                })
                .collect();
        }
        let markdown = render_host(&templates, &host, GENERATED_AT, INVENTORY)
            .unwrap_or_else(|e| panic!("{e}"));
        for status in statuses {
            assert!(
                markdown.contains(&format!("**{}**", status.as_str())),
                "{status:?}"
            );
        }
        for status in check_outcomes {
            assert!(
                markdown.contains(&format!("**{}**", status.as_str())),
                "{status:?}"
            );
        }
        for outcome in outcomes {
            assert!(
                markdown.contains(&format!("| {} |", outcome.as_str())),
                "{outcome:?}"
            );
        }
    }

    /// What a relay report says when little is known: no facts, flows, sizing or tasks (the
    /// data a failed run leaves), or when the lab profile relaxed the sizing.
    #[test]
    fn missing_parts_are_said_missing_and_the_lab_profile_is_noted() {
        let templates = templates();
        let mut host = not_ready_dmz();
        host.status = HostStatus::Failed;
        host.error = Some(crate::report::HostError {
            kind: "failed",
            message: "facts probe: missing `arch` in the output".into(),
        });
        host.facts = None;
        host.sizing = None;
        host.flows.clear();
        host.tasks.clear();
        host.counts = None;
        host.warnings.clear();
        let markdown = render_host(&templates, &host, GENERATED_AT, INVENTORY)
            .unwrap_or_else(|e| panic!("{e}"));
        for expected in [
            "| dmz | admin@10.1.0.5 | unknown (no facts gathered) |",
            "Run on this relay: failed (facts probe: missing `arch` in the output).",
            "No flow was checked.",
            "Sizing was not checked (no facts gathered).",
            "No task ran on this relay in this run.",
        ] {
            assert!(markdown.contains(expected), "{expected:?} in\n{markdown}");
        }
        assert!(!markdown.contains("## Pre-flight warnings"), "{markdown}");

        let mut host = ready_classic();
        let facts = host.facts.clone().expect("facts");
        host.sizing = Some(sizing::evaluate(
            &facts,
            RelayType::Classic,
            MedullaOffer::DedicatedSaas,
            SizingProfile::Lab,
        ));
        let markdown = render_host(&templates, &host, GENERATED_AT, INVENTORY)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            markdown.contains("(medulla_offer: dedicated_saas), lab profile; source: seed 004 ARCH; PROC step 1; seed 004 OS (Disk Partitioning: /var a volume of its own).\n\n> Note: lab sizing profile: CPU and RAM requirements relaxed"),
            "{markdown}"
        );
        assert!(
            markdown.contains("| root filesystem | ext4 or overlay of 20 GB |"),
            "{markdown}"
        );
    }

    #[test]
    fn the_report_directory_gets_each_relays_files_and_the_summary() {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = tmp.path().join("reports/run-1");
        let mut not_a_relay = ready_classic();
        not_a_relay.name = "bastion".into();
        not_a_relay.confirmations = None;
        let report = run(vec![ready_classic(), not_a_relay, not_ready_dmz()]);
        let written = write(&dir, &report, &templates()).unwrap_or_else(|e| panic!("{e}"));

        let names: Vec<String> = written
            .iter()
            .map(|p| p.strip_prefix(&dir).expect("in dir").display().to_string())
            .collect();
        assert_eq!(
            names,
            [
                "relay-lyon-01.md",
                "relay-lyon-01.json",
                "relay-dmz-01.md",
                "relay-dmz-01.json",
                "summary.md",
                "summary.json",
            ]
        );
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        on_disk.sort();
        let mut expected = names.clone();
        expected.sort();
        assert_eq!(on_disk, expected, "no temporary file left behind");

        let read = |name: &str| std::fs::read_to_string(dir.join(name)).expect("read");
        let summary: serde_json::Value =
            serde_json::from_str(&read("summary.json")).expect("summary.json is JSON");
        assert_eq!(summary["relayctl_version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(summary["command"], "apply");
        assert_eq!(summary["inventory"], INVENTORY);
        let generated_at = summary["generated_at"].as_str().expect("a string");
        assert_eq!(
            generated_at.len(),
            "2026-11-23T18:42:04Z".len(),
            "{generated_at}"
        );
        assert!(generated_at.ends_with('Z'), "{generated_at}");
        assert_eq!(
            summary["relays"],
            serde_json::json!([
                {
                    "name": "relay-lyon-01",
                    "relay_type": "classic",
                    "ready": true,
                    "verdict": "READY, 0 flows left to Medulla",
                    "reasons": [],
                    "report_md": "relay-lyon-01.md",
                    "report_json": "relay-lyon-01.json",
                },
                {
                    "name": "relay-dmz-01",
                    "relay_type": "dmz",
                    "ready": false,
                    "verdict": "NOT READY, 1 flow left to Medulla",
                    "reasons": [
                        "flow mobile-test -> relay-dmz-01 tcp/5222 (XMPP clients) is filtered",
                        "the Medulla support key is not authorised for medulla",
                        "sizing: /var",
                        "1 task failed",
                    ],
                    "report_md": "relay-dmz-01.md",
                    "report_json": "relay-dmz-01.json",
                },
            ])
        );

        let host: serde_json::Value =
            serde_json::from_str(&read("relay-dmz-01.json")).expect("host JSON");
        assert_eq!(host["generated_at"], generated_at);
        assert_eq!(host["name"], "relay-dmz-01");
        assert_eq!(host["confirmations"]["ready"], false);

        let summary_md = read("summary.md");
        assert!(
            summary_md.contains(
                "| relay-dmz-01 | dmz | **NOT READY, 1 flow left to Medulla** | flow mobile-test"
            ),
            "{summary_md}"
        );
        assert!(
            summary_md.contains("| relay-lyon-01 | classic | READY, 0 flows left to Medulla |"),
            "{summary_md}"
        );
        assert!(
            summary_md.contains("[relay-lyon-01.md](<./relay-lyon-01.md>)"),
            "{summary_md}"
        );
        assert!(
            read("relay-lyon-01.md")
                .starts_with("# Relay relay-lyon-01 — READY, 0 flows left to Medulla\n")
        );

        // A second run replaces the files in place.
        write(&dir, &report, &templates()).unwrap_or_else(|e| panic!("{e}"));
    }

    #[test]
    fn a_symlink_planted_at_a_temporary_name_is_never_written_through() {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = tmp.path().join("reports");
        std::fs::create_dir(&dir).expect("dir");
        let victim = tmp.path().join("victim");
        std::fs::write(&victim, "untouched\n").expect("victim");
        // Links at the names a writer could guess: the process id's, and a fixed one.
        let report = run(vec![ready_classic()]);
        for name in [
            "relay-lyon-01.md",
            "relay-lyon-01.json",
            "summary.md",
            "summary.json",
        ] {
            for tmp_name in [
                format!(".{name}.{}.relayctl-tmp", std::process::id()),
                format!(".{name}.relayctl-tmp"),
            ] {
                std::os::unix::fs::symlink(&victim, dir.join(tmp_name)).expect("plant");
            }
        }
        write(&dir, &report, &templates()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            std::fs::read_to_string(&victim).expect("victim"),
            "untouched\n"
        );
        let summary = std::fs::symlink_metadata(dir.join("summary.md")).expect("written");
        assert!(summary.file_type().is_file(), "{summary:?}");
        let temporary: Vec<String> = std::fs::read_dir(&dir)
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .filter(|name| name.starts_with('.'))
            .collect();
        assert_eq!(temporary.len(), 8, "only the planted links: {temporary:?}");
    }

    #[test]
    fn a_relay_name_that_would_leave_the_directory_is_refused() {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = tmp.path().join("reports");
        let mut evil = not_ready_dmz();
        evil.name = "../etc/relay".into();
        let report = run(vec![ready_classic(), evil]);
        let error = write(&dir, &report, &templates()).expect_err("refused");
        assert!(error.contains("\"../etc/relay\""), "{error}");
        assert!(!dir.exists(), "nothing written, not even the directory");

        for bad in ["a/b", "..", ".hidden", "a\0b", "", "Summary", "a b", "a|b"] {
            assert!(file_stem(bad).is_err(), "{bad:?}");
        }
        for good in ["relay-lyon-01", "relay01.corp.example", "2001:db8::21"] {
            assert_eq!(file_stem(good), Ok(good));
        }
    }

    #[test]
    fn two_relays_cannot_share_a_file() {
        let tmp = tempfile::tempdir().expect("tmp");
        let mut twin = ready_classic();
        twin.name = "RELAY-LYON-01".into();
        let report = run(vec![ready_classic(), twin]);
        let error = write(tmp.path(), &report, &templates()).expect_err("refused");
        assert!(error.contains("RELAY-LYON-01"), "{error}");
    }

    #[test]
    fn a_file_that_cannot_be_written_is_named() {
        let tmp = tempfile::tempdir().expect("tmp");
        // A directory where the summary should go: the rename over it fails.
        std::fs::create_dir(tmp.path().join("summary.md")).expect("dir");
        std::fs::write(tmp.path().join("summary.md/x"), "").expect("file");
        let error =
            write(tmp.path(), &run(vec![ready_classic()]), &templates()).expect_err("refused");
        assert!(
            error.starts_with(&format!(
                "cannot write {}: ",
                tmp.path().join("summary.md").display()
            )),
            "{error}"
        );
    }

    #[test]
    fn dates_are_rfc_3339_in_utc() {
        let at = |secs: u64| rfc3339_utc(UNIX_EPOCH + Duration::from_secs(secs));
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(at(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(at(1_709_210_096), "2024-02-29T12:34:56Z");
        // 2100 is not a leap year: the day after 28 February is 1 March.
        assert_eq!(at(4_107_542_399), "2100-02-28T23:59:59Z");
        assert_eq!(at(4_107_542_400), "2100-03-01T00:00:00Z");
        assert_eq!(at(253_402_300_799), "9999-12-31T23:59:59Z");
        // Sub-seconds are dropped, before 1970 as after.
        assert_eq!(
            rfc3339_utc(UNIX_EPOCH + Duration::from_millis(1_999)),
            "1970-01-01T00:00:01Z"
        );
        assert_eq!(
            rfc3339_utc(UNIX_EPOCH - Duration::from_secs(86_401)),
            "1969-12-30T23:59:59Z"
        );
        assert_eq!(
            rfc3339_utc(UNIX_EPOCH - Duration::from_millis(500)),
            "1969-12-31T23:59:59Z"
        );
    }
}
