//! The JUnit XML output, for CI pipelines that gate on lab relays (Jenkins, GitLab and other
//! JUnit readers): a testsuite per host, and a testcase per thing that can pass or fail on it —
//! the connection, each sizing check, each task, each flow, the step-5 verdict.
//!
//! Written by hand (no XML dependency): the shape is small and fixed. Cases are built as data
//! first and the counts derived from them, so the counts on every element always add up.

use std::fmt::Write as _;

use super::{HostReport, HostStatus, RunReport};
use crate::confirmations::Confirmations;
use crate::engine::{TaskReport, TaskStatus};
use crate::flows::FlowResult;
use crate::sizing::{CheckStatus, SizingCheck};

/// Renders a whole run as one JUnit XML document.
pub fn render(report: &RunReport) -> String {
    let suites: Vec<Suite> = report
        .hosts
        .iter()
        .map(|host| suite(host, report.check_mode))
        .collect();
    let total = suites
        .iter()
        .fold(Counts::default(), |sum, s| sum.add(s.counts()));

    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"{}\"{}>",
        escape_attr(&format!("relayctl {}", report.command)),
        total.attributes(Some(report.elapsed_ms))
    );
    for suite in &suites {
        write_suite(&mut out, suite);
    }
    out.push_str("</testsuites>\n");
    out
}

/// How a testcase ended.
enum Verdict {
    Pass,
    Failure(String),
    /// The host could not be worked on: JUnit's `error` (the test could not run), with its kind.
    Error {
        kind: String,
        message: String,
    },
    Skipped(String),
}

struct Case {
    classname: String,
    name: String,
    time_ms: Option<u64>,
    verdict: Verdict,
    /// What the case found, for `<system-out>` (empty: none).
    output: String,
}

struct Suite {
    name: String,
    time_ms: u64,
    cases: Vec<Case>,
    /// Host-level notes (connection, sizing profile, warnings) that belong to no one case.
    output: String,
}

impl Suite {
    fn counts(&self) -> Counts {
        let mut counts = Counts {
            tests: self.cases.len(),
            ..Counts::default()
        };
        for case in &self.cases {
            match case.verdict {
                Verdict::Pass => {}
                Verdict::Failure(_) => counts.failures += 1,
                Verdict::Error { .. } => counts.errors += 1,
                Verdict::Skipped(_) => counts.skipped += 1,
            }
        }
        counts
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Counts {
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
}

impl Counts {
    fn add(self, other: Counts) -> Counts {
        Counts {
            tests: self.tests + other.tests,
            failures: self.failures + other.failures,
            errors: self.errors + other.errors,
            skipped: self.skipped + other.skipped,
        }
    }

    /// ` tests=".." failures=".." errors=".." skipped=".." time=".."`.
    fn attributes(self, time_ms: Option<u64>) -> String {
        let mut attrs = format!(
            " tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\"",
            self.tests, self.failures, self.errors, self.skipped
        );
        if let Some(ms) = time_ms {
            let _ = write!(attrs, " time=\"{}\"", seconds(ms));
        }
        attrs
    }
}

/// One host's testsuite: connection, sizing, tasks, flows, verdict, in that order.
fn suite(host: &HostReport, check_mode: bool) -> Suite {
    let name = &host.name;
    let mut cases = Vec::new();

    // No facts: the host failed before anything ran on it (connection, host key, auth, sudo, or
    // the facts probe itself), so this is the only case there can be.
    if let (Some(error), None) = (&host.error, &host.facts) {
        cases.push(Case {
            classname: format!("{name}.connection"),
            name: "connect".into(),
            time_ms: Some(host.elapsed_ms),
            verdict: Verdict::Error {
                kind: error.kind.into(),
                message: error.message.clone(),
            },
            // The suite's own output already says where it tried to connect.
            output: String::new(),
        });
    }
    if let Some(sizing) = &host.sizing {
        cases.extend(sizing.checks.iter().map(|c| sizing_case(name, c)));
    }
    cases.extend(host.tasks.iter().map(|t| task_case(name, t, check_mode)));
    cases.extend(host.flows.iter().map(|f| flow_case(name, f)));
    if let Some(confirmations) = &host.confirmations {
        cases.push(verdict_case(name, confirmations));
    }

    // A host can fail where no case above shows it (its variables, probing its tasks): a CI
    // gate reading only the XML must still see it red.
    let shown = cases
        .iter()
        .any(|c| matches!(c.verdict, Verdict::Failure(_) | Verdict::Error { .. }));
    if let (Some(error), false) = (&host.error, shown) {
        cases.push(Case {
            classname: format!("{name}.host"),
            name: "outcome".into(),
            time_ms: None,
            verdict: if host.status == HostStatus::Unreachable {
                Verdict::Error {
                    kind: error.kind.into(),
                    message: error.message.clone(),
                }
            } else {
                Verdict::Failure(error.message.clone())
            },
            output: String::new(),
        });
    }

    Suite {
        name: name.clone(),
        time_ms: host.elapsed_ms,
        cases,
        output: host_notes(host),
    }
}

fn host_notes(host: &HostReport) -> String {
    let mut notes = format!("connection: {}\n", host.connection);
    if let Some(relay_type) = host.relay_type {
        let _ = writeln!(notes, "relay type: {relay_type}");
    }
    if let Some(note) = host.sizing.as_ref().and_then(|s| s.profile_note) {
        let _ = writeln!(notes, "sizing: {note}");
    }
    for warning in &host.warnings {
        let _ = writeln!(notes, "warning: {}", warning.message);
    }
    notes
}

fn sizing_case(host: &str, check: &SizingCheck) -> Case {
    let found = format!("expected {}, found {}", check.expected, check.found);
    let (verdict, output) = match check.status {
        CheckStatus::Pass => (Verdict::Pass, found),
        CheckStatus::Fail => (Verdict::Failure(found), String::new()),
    };
    Case {
        classname: format!("{host}.sizing"),
        name: check.name.into(),
        time_ms: None,
        verdict,
        output,
    }
}

fn task_case(host: &str, task: &TaskReport, check_mode: bool) -> Case {
    let message = task.message.as_deref();
    let verdict = match task.status {
        TaskStatus::Ok | TaskStatus::Changed => Verdict::Pass,
        TaskStatus::Failed => Verdict::Failure(message.unwrap_or("failed").into()),
        // The engine's reason already reads `when: <condition>`.
        TaskStatus::Skipped => Verdict::Skipped(message.unwrap_or("skipped").into()),
        TaskStatus::Pending => {
            Verdict::Skipped(format!("pending: {}", message.unwrap_or("not known yet")))
        }
    };
    let mut output = String::new();
    let changed = if check_mode {
        "would change"
    } else {
        "changed"
    };
    for change in &task.changes {
        let _ = writeln!(output, "{changed}: {change}");
    }
    // For failed, skipped and pending tasks the message is already the verdict's.
    if let (Some(message), Verdict::Pass) = (message, &verdict) {
        let _ = writeln!(output, "{message}");
    }
    if let Some(diff) = &task.diff {
        output.push_str(diff);
    }
    let handler = if task.handler { "handler: " } else { "" };
    Case {
        classname: format!("{host}.{}", task.role),
        name: format!("{handler}{}", task.task),
        time_ms: Some(task.elapsed_ms),
        verdict,
        output,
    }
}

fn flow_case(host: &str, flow: &FlowResult) -> Case {
    let result = flow.result_text();
    let (verdict, output) = match flow.passed() {
        Some(true) => (Verdict::Pass, result),
        Some(false) => (Verdict::Failure(result), String::new()),
        None => (Verdict::Skipped(result), String::new()),
    };
    Case {
        classname: format!("{host}.flows"),
        name: format!(
            "{} -> {} {}/{} {}",
            flow.from, flow.to, flow.protocol, flow.port, flow.purpose
        ),
        time_ms: flow.elapsed_ms,
        verdict,
        output,
    }
}

fn verdict_case(host: &str, confirmations: &Confirmations) -> Case {
    let verdict = if confirmations.ready {
        Verdict::Pass
    } else if confirmations.reasons.is_empty() {
        Verdict::Failure("not ready".into())
    } else {
        Verdict::Failure(confirmations.reasons.join("; "))
    };
    // The items are what the customer hands back: worth reading whatever the verdict.
    let mut output = format!("verdict: {}\n", confirmations.verdict);
    for what in &confirmations.not_verified {
        let _ = writeln!(output, "not verified here: {what}");
    }
    for item in &confirmations.items {
        let _ = writeln!(
            output,
            "{}. {}: {} - {}",
            item.item,
            item.title,
            item.status.as_str(),
            item.summary
        );
    }
    for check in &confirmations.installation_checks {
        let _ = writeln!(
            output,
            "{}: {} - {}",
            check.title,
            check.status.as_str(),
            check.summary
        );
    }
    if !confirmations.server_sources.is_empty() {
        let _ = writeln!(
            output,
            "the Medulla server's flows to the relay are admitted from: {}",
            confirmations.server_sources.join(", ")
        );
    }
    for flow in &confirmations.to_confirm_by_medulla {
        let _ = writeln!(output, "to be confirmed by Medulla: {flow}");
    }
    Case {
        classname: format!("{host}.confirmations"),
        name: "ready".into(),
        time_ms: None,
        verdict,
        output,
    }
}

fn write_suite(out: &mut String, suite: &Suite) {
    let _ = writeln!(
        out,
        "  <testsuite name=\"{}\"{}>",
        escape_attr(&suite.name),
        suite.counts().attributes(Some(suite.time_ms))
    );
    for case in &suite.cases {
        write_case(out, case);
    }
    write_output(out, "    ", &suite.output);
    out.push_str("  </testsuite>\n");
}

fn write_case(out: &mut String, case: &Case) {
    let time = case
        .time_ms
        .map(|ms| format!(" time=\"{}\"", seconds(ms)))
        .unwrap_or_default();
    let _ = write!(
        out,
        "    <testcase classname=\"{}\" name=\"{}\"{time}",
        escape_attr(&case.classname),
        escape_attr(&case.name)
    );
    if matches!(case.verdict, Verdict::Pass) && case.output.is_empty() {
        out.push_str("/>\n");
        return;
    }
    out.push_str(">\n");
    match &case.verdict {
        Verdict::Pass => {}
        Verdict::Failure(message) => {
            let _ = writeln!(out, "      <failure message=\"{}\"/>", escape_attr(message));
        }
        Verdict::Error { kind, message } => {
            let _ = writeln!(
                out,
                "      <error type=\"{}\" message=\"{}\"/>",
                escape_attr(kind),
                escape_attr(message)
            );
        }
        Verdict::Skipped(message) => {
            let _ = writeln!(out, "      <skipped message=\"{}\"/>", escape_attr(message));
        }
    }
    write_output(out, "      ", &case.output);
    out.push_str("    </testcase>\n");
}

fn write_output(out: &mut String, indent: &str, text: &str) {
    if text.is_empty() {
        return;
    }
    let text = text.strip_suffix('\n').unwrap_or(text);
    let _ = writeln!(out, "{indent}<system-out>{}</system-out>", escape(text));
}

/// Milliseconds as JUnit's seconds, without going through floats.
fn seconds(ms: u64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

/// Text content: the five markup characters as entities; the control characters XML 1.0 forbids
/// (all below U+0020 but tab, line feed and carriage return) and the non-characters U+FFFE and
/// U+FFFF dropped, since no escape can carry them.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // A bare CR would be read back as a LF.
            '\r' => out.push_str("&#13;"),
            '\t' | '\n' => out.push(c),
            c if c < ' ' || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// An attribute value: as [`escape`], and tab and line feed as character references, which a
/// parser would otherwise turn into spaces (a multi-line task message keeps its lines).
fn escape_attr(text: &str) -> String {
    escape(text).replace('\t', "&#9;").replace('\n', "&#10;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::confirmations::{Confirmation, ConfirmationStatus};
    use crate::engine::TaskCounts;
    use crate::facts::Facts;
    use crate::flows::FlowOutcome;
    use crate::inventory::SizingProfile;
    use crate::medulla::port_matrix::{Flow, Protocol};
    use crate::medulla::{MedullaOffer, RelayType};
    use crate::report::HostError;
    use crate::sizing::SizingReport;
    use crate::testing;

    fn task(role: &str, name: &str, status: TaskStatus) -> TaskReport {
        TaskReport {
            elapsed_ms: 7,
            ..testing::task(role, name, status)
        }
    }

    fn check(name: &'static str, expected: &str, found: &str, status: CheckStatus) -> SizingCheck {
        SizingCheck {
            name,
            expected: expected.into(),
            found: found.into(),
            status,
            source: "seed 004 ARCH; PROC step 1",
        }
    }

    fn flow(
        flow: Flow,
        from: &str,
        to: &str,
        port: u16,
        purpose: &str,
        result: FlowOutcome,
    ) -> FlowResult {
        FlowResult {
            flow,
            protocol: Protocol::Tcp,
            port,
            from: from.into(),
            to: to.into(),
            address: "10.1.0.21".into(),
            purpose: purpose.into(),
            source: "seed 004 S000".into(),
            result,
            detail: None,
            elapsed_ms: None,
            listener: None,
        }
    }

    fn facts() -> Facts {
        Facts {
            memory_bytes: 8 << 30,
            var: testing::filesystem("/dev/vdb1", "xfs", 200 * 1_000_000_000, "/var"),
            ..testing::facts()
        }
    }

    /// A relay that answered, with something of every kind, and one that did not.
    fn report() -> RunReport {
        let tasks = vec![
            task("medulla_user", "medulla user exists", TaskStatus::Ok),
            TaskReport {
                changes: vec!["create /etc/sudoers.d/medulla (root:root 0440)".into()],
                ..task(
                    "medulla_user",
                    "passwordless sudo for medulla",
                    TaskStatus::Changed,
                )
            },
            TaskReport {
                message: Some("when: medulla_support_private_key is not none".into()),
                ..task(
                    "medulla_user",
                    "medulla logs in with the support key",
                    TaskStatus::Skipped,
                )
            },
            TaskReport {
                message: Some("apt-get install exited 100: E: Unable to locate package <x>".into()),
                ..task(
                    "medulla_prereqs",
                    "install prerequisites",
                    TaskStatus::Failed,
                )
            },
            TaskReport {
                handler: true,
                changes: vec!["re-execute systemd (daemon-reexec)".into()],
                ..task("medulla_prereqs", "re-execute systemd", TaskStatus::Changed)
            },
        ];
        let flows = vec![
            FlowResult {
                elapsed_ms: Some(3),
                ..flow(
                    Flow::RelayToServer,
                    "relay01",
                    "medulla-server",
                    5222,
                    "XMPP client",
                    FlowOutcome::Open,
                )
            },
            FlowResult {
                elapsed_ms: Some(3000),
                detail: Some("no answer in 3 s".into()),
                ..flow(
                    Flow::WorkstationToRelay,
                    "ws01",
                    "relay01",
                    8443,
                    "packages & inventory",
                    FlowOutcome::Filtered,
                )
            },
            flow(
                Flow::ServerToRelay,
                "medulla-server",
                "relay01",
                5269,
                "XMPP server-to-server",
                FlowOutcome::ToConfirm,
            ),
        ];
        let relay01 = HostReport {
            name: "relay01".into(),
            connection: "admin@10.1.0.21".into(),
            status: HostStatus::Failed,
            error: Some(HostError {
                kind: "failed",
                message: "sizing failed: /var: expected separate xfs filesystem of 400 GB, found xfs of 200 GB".into(),
            }),
            relay_type: Some(RelayType::Classic),
            facts: Some(facts()),
            sizing: Some(SizingReport {
                relay_type: RelayType::Classic,
                offer: MedullaOffer::DedicatedSaas,
                profile: SizingProfile::Standard,
                profile_note: None,
                checks: vec![
                    check("os", "Debian 12.x", "Debian 12.12", CheckStatus::Pass),
                    check("vcpus", ">= 4", "4", CheckStatus::Pass),
                    check(
                        "/var",
                        "separate xfs filesystem of 400 GB",
                        "xfs of 200 GB (186.3 GiB) mounted on /var",
                        CheckStatus::Fail,
                    ),
                ],
            }),
            warnings: Vec::new(),
            counts: Some(TaskCounts::of(&tasks, false)),
            tasks,
            flows,
            confirmations: Some(Confirmations {
                ready: false,
                verdict: "NOT READY, 1 flow left to Medulla".into(),
                not_verified: vec!["server -> relay tcp/5269: to be confirmed by Medulla".into()],
                reasons: vec![
                    "sizing failed".into(),
                    "a task failed".into(),
                    "ws01 -> relay01 tcp/8443 filtered".into(),
                ],
                items: vec![
                    Confirmation {
                        item: 1,
                        key: "itsm_entity",
                        title: "ITSM entity",
                        status: ConfirmationStatus::Manual,
                        summary: "create the relay's entity in ITSM".into(),
                        details: Vec::new(),
                    },
                    Confirmation {
                        item: 5,
                        key: "fqdn",
                        title: "FQDN",
                        status: ConfirmationStatus::Confirmed,
                        summary: "relay01.example.com (resolves)".into(),
                        details: Vec::new(),
                    },
                ],
                installation_checks: Vec::new(),
                server_sources: vec!["192.0.2.10".into()],
                to_confirm_by_medulla: vec![
                    "medulla-server -> relay01 tcp/5269 (XMPP server-to-server)".into(),
                ],
            }),
            elapsed_ms: 4212,
        };
        let relay02 = HostReport {
            name: "relay02".into(),
            connection: "admin@10.1.0.22".into(),
            status: HostStatus::Unreachable,
            error: Some(HostError {
                kind: "auth",
                message: "authentication failed for admin@10.1.0.22: no key accepted".into(),
            }),
            relay_type: Some(RelayType::Dmz),
            facts: None,
            sizing: None,
            warnings: Vec::new(),
            tasks: Vec::new(),
            counts: Some(TaskCounts::of(&[], true)),
            flows: Vec::new(),
            confirmations: None,
            elapsed_ms: 1503,
        };
        RunReport::new(
            "apply",
            false,
            "inventories/lab.yaml".into(),
            vec![relay01, relay02],
            4250,
        )
    }

    /// A parsed element: enough of XML to check what `render` writes.
    #[derive(Debug)]
    struct Element {
        name: String,
        attrs: Vec<(String, String)>,
        children: Vec<Element>,
    }

    impl Element {
        fn attr(&self, name: &str) -> Option<&str> {
            self.attrs
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        }

        fn count(&self, attr: &str) -> usize {
            self.attr(attr)
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("<{}> has no numeric {attr}", self.name))
        }

        fn elements(&self, name: &str) -> impl Iterator<Item = &Element> {
            self.children.iter().filter(move |c| c.name == name)
        }
    }

    /// Checks that entity and character references are ones XML knows, and that no forbidden
    /// character is left.
    fn check_text(text: &str) -> Result<(), String> {
        if let Some(c) = text
            .chars()
            .find(|&c| c < ' ' && !matches!(c, '\t' | '\n' | '\r'))
        {
            return Err(format!("forbidden character {c:?}"));
        }
        let mut rest = text;
        while let Some(at) = rest.find('&') {
            let end = rest[at..]
                .find(';')
                .ok_or_else(|| format!("unterminated reference in {text:?}"))?;
            let reference = &rest[at + 1..at + end];
            let known = matches!(reference, "amp" | "lt" | "gt" | "quot" | "apos")
                || reference
                    .strip_prefix('#')
                    .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
            if !known {
                return Err(format!("unknown reference &{reference};"));
            }
            rest = &rest[at + end + 1..];
        }
        Ok(())
    }

    /// An attribute's value as a reader sees it (references already checked by `check_text`).
    fn unescape(value: &str) -> String {
        let mut out = String::new();
        let mut rest = value;
        while let Some(at) = rest.find('&') {
            out.push_str(&rest[..at]);
            let end = rest[at..].find(';').map_or(rest.len(), |e| at + e);
            let reference = &rest[at + 1..end];
            let c = match reference {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                n => n
                    .strip_prefix('#')
                    .and_then(|n| n.parse().ok())
                    .and_then(char::from_u32),
            };
            out.extend(c);
            rest = rest.get(end + 1..).unwrap_or("");
        }
        out.push_str(rest);
        out
    }

    /// `name a="1" b="2"` (the inside of a start tag, without `/`).
    fn parse_tag(tag: &str) -> Result<(String, Vec<(String, String)>), String> {
        let tag = tag.trim_end();
        let name_end = tag.find(char::is_whitespace).unwrap_or(tag.len());
        let name = &tag[..name_end];
        if name.is_empty() {
            return Err("a tag without a name".into());
        }
        let mut attrs = Vec::new();
        let mut rest = tag[name_end..].trim_start();
        while !rest.is_empty() {
            let (attr, after) = rest
                .split_once("=\"")
                .ok_or_else(|| format!("malformed attribute in <{tag}>"))?;
            let (value, after) = after
                .split_once('"')
                .ok_or_else(|| format!("unterminated attribute in <{tag}>"))?;
            if attr.contains(char::is_whitespace) || value.contains('<') {
                return Err(format!("malformed attribute {attr} in <{tag}>"));
            }
            check_text(value)?;
            let value = unescape(value);
            if attrs.iter().any(|(a, _)| a == attr) {
                return Err(format!("attribute {attr} twice in <{tag}>"));
            }
            attrs.push((attr.to_string(), value));
            if !after.is_empty() && !after.starts_with(char::is_whitespace) {
                return Err(format!("no space after attribute {attr} in <{tag}>"));
            }
            rest = after.trim_start();
        }
        Ok((name.to_string(), attrs))
    }

    /// A balanced-tag scanner: the declaration first, then one root element, every element
    /// closed in order, references known, no forbidden character.
    fn parse(xml: &str) -> Result<Element, String> {
        let mut rest = xml
            .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
            .ok_or("no XML declaration")?;
        let mut stack: Vec<Element> = Vec::new();
        let mut root = None;
        loop {
            let Some(open) = rest.find('<') else {
                if rest.trim().is_empty() {
                    break;
                }
                return Err(format!("text after the root: {rest:?}"));
            };
            let text = &rest[..open];
            check_text(text)?;
            if stack.is_empty() && !text.trim().is_empty() {
                return Err(format!("text outside the root: {text:?}"));
            }
            let close = rest[open..].find('>').ok_or("unterminated tag")? + open;
            let tag = &rest[open + 1..close];
            rest = &rest[close + 1..];
            if root.is_some() {
                return Err(format!("a second root at <{tag}>"));
            }
            if let Some(name) = tag.strip_prefix('/') {
                let element = stack.pop().ok_or(format!("</{name}> closes nothing"))?;
                if element.name != name {
                    return Err(format!("<{}> closed by </{name}>", element.name));
                }
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => root = Some(element),
                }
                continue;
            }
            let (inside, empty) = match tag.strip_suffix('/') {
                Some(inside) => (inside, true),
                None => (tag, false),
            };
            let (name, attrs) = parse_tag(inside)?;
            let element = Element {
                name,
                attrs,
                children: Vec::new(),
            };
            if !empty {
                stack.push(element);
            } else {
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => root = Some(element),
                }
            }
        }
        if let Some(open) = stack.last() {
            return Err(format!("<{}> never closed", open.name));
        }
        root.ok_or_else(|| "no root element".into())
    }

    #[test]
    fn a_run_as_junit() {
        insta::assert_snapshot!(render(&report()));
    }

    #[test]
    fn the_output_is_well_formed() {
        let root = parse(&render(&report())).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(root.name, "testsuites");
        assert_eq!(root.attr("name"), Some("relayctl apply"));
        let suites: Vec<_> = root.elements("testsuite").collect();
        assert_eq!(suites.len(), 2);
        assert_eq!(suites[0].attr("name"), Some("relay01"));
        // Escaped names and messages read back as they were.
        let names: Vec<_> = suites[0]
            .elements("testcase")
            .filter_map(|c| c.attr("name"))
            .collect();
        assert!(names.contains(&"ws01 -> relay01 tcp/8443 packages & inventory"));
        let failed = suites[0]
            .elements("testcase")
            .find(|c| c.attr("name") == Some("install prerequisites"))
            .and_then(|c| c.elements("failure").next())
            .and_then(|f| f.attr("message"));
        assert_eq!(
            failed,
            Some("apt-get install exited 100: E: Unable to locate package <x>")
        );
    }

    #[test]
    fn the_scanner_refuses_what_is_not_well_formed() {
        let decl = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";
        for bad in [
            "<a><b></a></b>",
            "<a>",
            "<a x=\"1\" x=\"2\"/>",
            "<a>&nbsp;</a>",
            "<a>\u{1}</a>",
            "<a/><b/>",
        ] {
            assert!(parse(&format!("{decl}{bad}")).is_err(), "{bad}");
        }
        assert!(parse(&format!("{decl}<a x=\"&lt;\"><b/>t&amp;</a>\n")).is_ok());
    }

    #[test]
    fn the_counts_add_up() {
        let root = parse(&render(&report())).unwrap_or_else(|e| panic!("{e}"));
        let mut total = Counts::default();
        for suite in root.elements("testsuite") {
            let cases: Vec<_> = suite.elements("testcase").collect();
            let with = |kind: &str| {
                cases
                    .iter()
                    .filter(|c| c.elements(kind).next().is_some())
                    .count()
            };
            let counts = Counts {
                tests: cases.len(),
                failures: with("failure"),
                errors: with("error"),
                skipped: with("skipped"),
            };
            for (attr, n) in [
                ("tests", counts.tests),
                ("failures", counts.failures),
                ("errors", counts.errors),
                ("skipped", counts.skipped),
            ] {
                assert_eq!(suite.count(attr), n, "{attr} of {:?}", suite.attr("name"));
            }
            total = total.add(counts);
        }
        assert_eq!(root.count("tests"), total.tests);
        assert_eq!(root.count("failures"), total.failures);
        assert_eq!(root.count("errors"), total.errors);
        assert_eq!(root.count("skipped"), total.skipped);
        // relay01: 3 sizing checks, 5 tasks, 3 flows, the verdict; relay02: the connection.
        assert_eq!(
            total,
            Counts {
                tests: 13,
                failures: 4,
                errors: 1,
                skipped: 2
            }
        );
    }

    #[test]
    fn a_failure_no_case_shows_still_fails_the_host() {
        let mut report = report();
        let host = &mut report.hosts[0];
        host.sizing = None;
        host.tasks.clear();
        host.flows.clear();
        host.confirmations = None;
        host.error = Some(HostError {
            kind: "failed",
            message: "variables: medulla_server_addresses: not a list".into(),
        });
        let root = parse(&render(&report)).unwrap_or_else(|e| panic!("{e}"));
        let relay01 = root.elements("testsuite").next().expect("a testsuite");
        assert_eq!(relay01.count("tests"), 1);
        assert_eq!(relay01.count("failures"), 1);
        let case = relay01.elements("testcase").next().expect("a testcase");
        assert_eq!(case.attr("classname"), Some("relay01.host"));
    }

    #[test]
    fn the_escaper_handles_markup_and_control_characters() {
        assert_eq!(
            escape("<&>\"'\u{1}a\u{1b}b\tc\nd\re\u{FFFF}"),
            "&lt;&amp;&gt;&quot;&apos;ab\tc\nd&#13;e"
        );
        assert_eq!(escape_attr("a\tb\nc"), "a&#9;b&#10;c");
        assert_eq!(escape("élan ✓"), "élan ✓");
    }
}
