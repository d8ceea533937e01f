//! Many snippets, one round trip: the probes of every task of a host (or one task's step followed
//! by the probes of the tasks after it) run as sections of one POSIX sh script, under one sudo.
//!
//! Each section runs in a subshell (its variables, traps and `exit` stay its own) and is framed
//! on stdout by `\x1eB ID` and `\x1eE ID STATUS` lines, and on stderr by `\x1eB ID` / `\x1eE ID`,
//! so its findings, its error messages and its exit status come back apart. Only one section may
//! read stdin (the step's data); the others read /dev/null, so that a probe can never swallow it.

use std::collections::HashMap;
use std::time::Duration;

use crate::modules::Findings;
use crate::modules::shell::{PRELUDE, read_findings};
use crate::ssh::{Session, SshError};

/// One snippet of a batch.
pub struct Section {
    pub id: usize,
    pub script: String,
    pub stdin: Vec<u8>,
    /// Keep the output as it is (a user's command) instead of reading findings from it.
    pub raw: bool,
    /// Only reads the host (a task's probe). The same probe twice in a row of probes (two tasks
    /// editing one file) reads the same state: it runs once and both get its findings.
    pub probe: bool,
}

impl Section {
    /// A task's probe.
    pub fn probe(id: usize, script: String) -> Self {
        Section {
            id,
            script,
            stdin: Vec::new(),
            raw: false,
            probe: true,
        }
    }

    /// A step: it may change the host, and only it may read stdin.
    pub fn step(id: usize, script: String, stdin: Vec<u8>, raw: bool) -> Self {
        Section {
            id,
            script,
            stdin,
            raw,
            probe: false,
        }
    }
}

/// Pairs (repeat, original) of indices into `sections`: a probe whose script an earlier probe
/// has, with no step between them.
fn repeated_probes(sections: &[Section]) -> Vec<(usize, usize)> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut repeats = Vec::new();
    for (index, section) in sections.iter().enumerate() {
        if !section.probe {
            seen.clear();
            continue;
        }
        match seen.get(section.script.as_str()) {
            Some(&original) => repeats.push((index, original)),
            None => {
                seen.insert(&section.script, index);
            }
        }
    }
    repeats
}

/// Why a batch brought back no usable answer.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error(transparent)]
    Ssh(#[from] SshError),
    #[error("{0}")]
    Output(String),
}

/// The whole script and its stdin.
pub fn assemble(sections: &[&Section]) -> (String, Vec<u8>) {
    debug_assert!(sections.iter().filter(|s| !s.stdin.is_empty()).count() <= 1);
    let mut script = String::from(PRELUDE);
    let mut stdin = Vec::new();
    for section in sections {
        let input = if section.stdin.is_empty() {
            " </dev/null"
        } else {
            stdin.extend_from_slice(&section.stdin);
            ""
        };
        script.push_str(&format!(
            "printf '\\036B {id}\\n'; printf '\\036B {id}\\n' >&2\n(\n{body}){input}\n\
             _r=$?; printf '\\n\\036E {id} %d\\n' \"$_r\"; printf '\\n\\036E {id}\\n' >&2\n",
            id = section.id,
            body = section.script,
        ));
    }
    (script, stdin)
}

/// Splits the batch's output into each section's findings.
pub fn parse(
    sections: &[&Section],
    stdout: &[u8],
    stderr: &[u8],
) -> Result<HashMap<usize, Findings>, String> {
    let mut results = HashMap::new();
    let mut out = stdout;
    for section in sections {
        let begin = format!("\x1eB {}\n", section.id);
        let start = find(out, begin.as_bytes()).ok_or_else(|| {
            format!(
                "the host's answer stops before section {} (the connection or the shell died)",
                section.id
            )
        })? + begin.len();
        let (body, rest) = split_section(&out[start..], section.id, section.raw)
            .ok_or_else(|| format!("section {} did not finish (killed?)", section.id))?;
        let line_end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
        let status: i32 = String::from_utf8_lossy(&rest[..line_end])
            .trim()
            .parse()
            .map_err(|_| format!("section {} has no exit status", section.id))?;
        out = rest.get(line_end + 1..).unwrap_or_default();
        let mut findings = if section.raw {
            Findings {
                raw: body.to_vec(),
                ..Findings::default()
            }
        } else {
            read_findings(body)?
        };
        findings.exit_status = status;
        findings.stderr = section_stderr(stderr, section.id);
        results.insert(section.id, findings);
    }
    Ok(results)
}

/// Splits a section's output from its end marker (`\n\x1eE ID `) on: the body, and what follows
/// the marker. Findings are walked line by line, stepping over framed contents, so that no file
/// content can pass for the marker; a raw command's output is searched.
fn split_section(out: &[u8], id: usize, raw: bool) -> Option<(&[u8], &[u8])> {
    let marker = format!("\n\x1eE {id} ");
    if raw {
        let at = find(out, marker.as_bytes())?;
        return Some((&out[..at], &out[at + marker.len()..]));
    }
    let marker_line = &marker.as_bytes()[1..];
    let mut line = 0;
    while line < out.len() {
        let rest = &out[line..];
        if rest.starts_with(marker_line) {
            // The marker's own leading newline ends the body.
            let body = out[..line].strip_suffix(b"\n").unwrap_or(&out[..line]);
            return Some((body, &rest[marker_line.len()..]));
        }
        let end = rest.iter().position(|&b| b == b'\n')?;
        line += end + 1;
        if let Some(header) = rest[..end].strip_prefix(b"\x1f") {
            let size: usize = String::from_utf8_lossy(header)
                .rsplit_once(' ')
                .and_then(|(_, n)| n.parse().ok())?;
            line += size + 1;
        }
    }
    None
}

/// What a section wrote on stderr, between its markers.
fn section_stderr(stderr: &[u8], id: usize) -> String {
    let begin = format!("\x1eB {id}\n");
    let end = format!("\n\x1eE {id}\n");
    let Some(start) = find(stderr, begin.as_bytes()).map(|i| i + begin.len()) else {
        return String::new();
    };
    let stop = find(&stderr[start..], end.as_bytes()).map_or(stderr.len(), |i| start + i);
    String::from_utf8_lossy(&stderr[start..stop]).into_owned()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Runs the sections as root in one round trip; `timeout` bounds the whole batch.
pub async fn run(
    session: &Session,
    sections: &[Section],
    timeout: Duration,
) -> Result<HashMap<usize, Findings>, BatchError> {
    if sections.is_empty() {
        return Ok(HashMap::new());
    }
    let repeats = repeated_probes(sections);
    let to_run: Vec<&Section> = sections
        .iter()
        .enumerate()
        .filter(|(index, _)| !repeats.iter().any(|(repeat, _)| repeat == index))
        .map(|(_, section)| section)
        .collect();
    let (script, stdin) = assemble(&to_run);
    let output = session
        .run_privileged_within(&script, &stdin, timeout)
        .await?;
    let mut results = parse(&to_run, &output.stdout, &output.stderr).map_err(|e| {
        let stderr = output.stderr_text();
        let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
        BatchError::Output(if tail.is_empty() {
            e
        } else {
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            format!("{e}; stderr: {}", tail.join(" | "))
        })
    })?;
    for (repeat, original) in repeats {
        if let Some(found) = results.get(&sections[original].id).cloned() {
            results.insert(sections[repeat].id, found);
        }
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(id: usize, script: &str, raw: bool) -> Section {
        Section::step(id, script.into(), Vec::new(), raw)
    }

    /// Runs the assembled script with the machine's own sh, as the host would.
    fn run_locally(sections: &[Section]) -> HashMap<usize, Findings> {
        use std::io::Write;
        let sections: Vec<&Section> = sections.iter().collect();
        let sections = sections.as_slice();
        let (script, stdin) = assemble(sections);
        let mut child = std::process::Command::new("sh")
            .arg("-c")
            .arg(&script)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("sh runs");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(&stdin)
            .expect("write");
        let output = child.wait_with_output().expect("sh ends");
        parse(sections, &output.stdout, &output.stderr).expect("parses")
    }

    #[test]
    fn sections_come_back_apart_with_their_status_and_stderr() {
        let results = run_locally(&[
            section(0, "f a 1\necho oops >&2\nexit 3\n", false),
            section(1, "printf 'no newline'", true),
            section(2, "f b 2\n", false),
        ]);
        assert_eq!(results[&0].get("a"), Some("1"));
        assert_eq!(results[&0].exit_status, 3);
        assert_eq!(results[&0].stderr, "oops\n");
        assert_eq!(results[&1].raw, b"no newline");
        assert_eq!(results[&2].get("b"), Some("2"));
        assert_eq!(results[&2].exit_status, 0);
        assert_eq!(results[&2].stderr, "");
    }

    #[test]
    fn file_contents_are_framed_and_binary_safe() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("f");
        std::fs::write(&path, b"line\n\x1eE 0 0\nmore").expect("write");
        let script = format!("fstat c '{}'\n", path.display());
        let results = run_locally(&[section(0, &script, false)]);
        assert_eq!(
            results[&0].content("c"),
            Some(b"line\n\x1eE 0 0\nmore".as_slice())
        );
        assert!(
            results[&0]
                .get("c")
                .expect("stat")
                .starts_with("regular file|")
        );
    }

    #[test]
    fn only_the_step_reads_stdin() {
        let mut step = section(1, "head -c 5\n", true);
        step.stdin = b"hello".to_vec();
        let results = run_locally(&[section(0, "cat\n", true), step]);
        assert_eq!(results[&0].raw, b"");
        assert_eq!(results[&1].raw, b"hello");
    }

    #[test]
    fn a_probe_repeated_with_no_step_between_runs_once() {
        let probe = |id| Section::probe(id, "fstat k /etc/systemd/system.conf\n".into());
        let step = section(2, "echo x >>/etc/systemd/system.conf\n", false);
        let other = Section::probe(4, "fstat k /etc/hostname\n".into());
        let sections = [probe(0), probe(1), step, probe(3), other, probe(5)];
        // 1 repeats 0; after the step, 3 is read again, and 5 repeats 3 (4 only read).
        assert_eq!(repeated_probes(&sections), [(1, 0), (5, 3)]);
    }

    #[test]
    fn a_truncated_answer_names_the_missing_section() {
        let error = parse(&[&section(7, "", false)], b"", b"").unwrap_err();
        assert!(error.contains("section 7"), "{error}");
    }
}
