//! Host keys under `hosts:` as Ansible reads them: a name, optionally with `:PORT`
//! (`relay01:2222`, `[2001:db8::1]:2222`), and optionally with ranges (`relay[01:03]` is
//! relay01, relay02, relay03; `relay[a:c]`, `relay[1:9:2]` with a step), up to
//! [`MAX_HOSTS_PER_KEY`] hosts a key.

use super::entity_name::{self, Entity};

/// The hosts one `hosts:` key stands for, and the port it gives them (as `ansible_port`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HostKey {
    pub names: Vec<String>,
    pub port: Option<u16>,
}

/// Parses a `hosts:` key; the error is a message for the operator.
pub(crate) fn parse(key: &str) -> Result<HostKey, String> {
    let key = key.trim();
    if key.is_empty() {
        return Err("a host needs a name".to_owned());
    }
    let (name, port) = split_port(key)?;
    let names = expand_ranges(name)?;
    for name in &names {
        entity_name::check(name, Entity::Host)?;
    }
    Ok(HostKey { names, port })
}

/// `name:port` (one colon outside brackets), `[v6]:port`, or a bare name or IPv6 address.
fn split_port(key: &str) -> Result<(&str, Option<u16>), String> {
    if let Some(rest) = key.strip_prefix('[')
        && let Some((address, port)) = rest.split_once("]:")
        && address.contains(':')
    {
        return Ok((address, Some(parse_port(port, key)?)));
    }
    let mut depth = 0usize;
    let mut colons = Vec::new();
    for (i, c) in key.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            ':' if depth == 0 => colons.push(i),
            _ => {}
        }
    }
    match colons.as_slice() {
        [i] => Ok((&key[..*i], Some(parse_port(&key[i + 1..], key)?))),
        // Several colons outside brackets: an IPv6 address, which carries no port this way.
        _ => Ok((key, None)),
    }
}

fn parse_port(port: &str, key: &str) -> Result<u16, String> {
    match port.parse::<u16>() {
        Ok(p) if p > 0 => Ok(p),
        _ => Err(format!(
            "{key:?}: the part after ':' must be a port number (1-65535), found {port:?}"
        )),
    }
}

/// The most hosts one key may stand for. relayctl drives thousands of relays at most, and an
/// inventory shared with Ansible lists workstations too: 10 000 is past any real site's range
/// (`ws[0001:5000]`), and the bound keeps a typo (`r[0:9999][0:9999]`, a hundred million names
/// and 4.5 GB) from exhausting the controller.
pub(crate) const MAX_HOSTS_PER_KEY: u64 = 10_000;

/// A part of a name with ranges: text as written, or a range.
enum Part<'a> {
    Text(&'a str),
    Range(Range),
}

/// `[start:end:step]`, numbers (zero-padded to `width` when written so) or single letters.
struct Range {
    start: u64,
    end: u64,
    step: u64,
    letters: bool,
    width: usize,
}

impl Range {
    /// `None` past u64 (`[0:18446744073709551615]`).
    fn len(&self) -> Option<u64> {
        ((self.end - self.start) / self.step).checked_add(1)
    }

    fn items(&self) -> impl Iterator<Item = String> + '_ {
        (self.start..=self.end)
            .step_by(usize::try_from(self.step).unwrap_or(usize::MAX))
            .map(|n| match u8::try_from(n) {
                Ok(letter) if self.letters => char::from(letter).to_string(),
                _ => format!("{n:0width$}", width = self.width),
            })
    }
}

/// Expands every `[start:end(:step)]` range, the leftmost varying slowest. The number of names
/// is known, and bounded, before any is made.
fn expand_ranges(name: &str) -> Result<Vec<String>, String> {
    let parts = parts(name)?;
    let count = parts.iter().try_fold(1u64, |count, part| match part {
        Part::Text(_) => Some(count),
        Part::Range(range) => range.len().and_then(|len| count.checked_mul(len)),
    });
    match count {
        Some(count) if count <= MAX_HOSTS_PER_KEY => {}
        Some(count) => {
            return Err(format!(
                "{name:?} stands for {count} hosts, more than the {MAX_HOSTS_PER_KEY} one host key may stand for"
            ));
        }
        None => {
            return Err(format!(
                "{name:?} stands for more hosts than can be counted, more than the {MAX_HOSTS_PER_KEY} one host key may stand for"
            ));
        }
    }
    let mut names = vec![String::new()];
    for part in &parts {
        names = match part {
            Part::Text(text) => names.into_iter().map(|n| n + text).collect(),
            Part::Range(range) => names
                .iter()
                .flat_map(|n| range.items().map(move |item| format!("{n}{item}")))
                .collect(),
        };
    }
    Ok(names)
}

/// The parts of `name`, left to right.
fn parts(name: &str) -> Result<Vec<Part<'_>>, String> {
    let mut parts = Vec::new();
    let mut rest = name;
    while let Some(open) = rest.find('[') {
        let Some(close) = rest[open..].find(']').map(|i| open + i) else {
            return Err(format!("{name:?}: '[' without a closing ']'"));
        };
        if rest[..open].contains(']') {
            return Err(format!("{name:?}: unbalanced ']'"));
        }
        parts.push(Part::Text(&rest[..open]));
        parts.push(Part::Range(range(name, &rest[open + 1..close])?));
        rest = &rest[close + 1..];
    }
    if rest.contains(']') {
        return Err(format!("{name:?}: unbalanced ']'"));
    }
    parts.push(Part::Text(rest));
    Ok(parts)
}

/// The range written `range` (between the brackets) in `name`.
fn range(name: &str, range: &str) -> Result<Range, String> {
    let fields: Vec<&str> = range.split(':').collect();
    let (start, end, step) = match fields.as_slice() {
        [start, end] => (*start, *end, "1"),
        [start, end, step] => (*start, *end, *step),
        _ => {
            return Err(format!(
                "{name:?}: a range is written [start:end] or [start:end:step]"
            ));
        }
    };
    let step: u64 = match step.parse() {
        Ok(s) if s > 0 => s,
        _ => {
            return Err(format!(
                "{name:?}: the range step must be a positive number, found {step:?}"
            ));
        }
    };
    let start = if start.is_empty() { "0" } else { start };
    bounds(start, end, step).map_err(|why| format!("{name:?}: {why}"))
}

fn bounds(start: &str, end: &str, step: u64) -> Result<Range, String> {
    let single_letter = |s: &str| s.len() == 1 && s.chars().all(|c| c.is_ascii_alphabetic());
    if single_letter(start) && single_letter(end) {
        let (a, b) = (start.as_bytes()[0], end.as_bytes()[0]);
        if a > b {
            return Err(format!("range start {start:?} comes after its end {end:?}"));
        }
        return Ok(Range {
            start: a.into(),
            end: b.into(),
            step,
            letters: true,
            width: 0,
        });
    }
    let (Ok(a), Ok(b)) = (start.parse::<u64>(), end.parse::<u64>()) else {
        return Err(format!(
            "range bounds must both be numbers or both single letters, found {start:?} and {end:?}"
        ));
    };
    if a > b {
        return Err(format!("range start {start} comes after its end {end}"));
    }
    // A leading zero asks for fixed-width numbers (relay[01:10]), as in Ansible.
    let width = if start.len() > 1 && start.starts_with('0') {
        if start.len() != end.len() {
            return Err(format!(
                "zero-padded range bounds must have the same width, found {start:?} and {end:?}"
            ));
        }
        start.len()
    } else {
        0
    };
    Ok(Range {
        start: a,
        end: b,
        step,
        letters: false,
        width,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(key: &str) -> Vec<String> {
        parse(key).unwrap().names
    }

    #[test]
    fn plain_names_and_addresses() {
        assert_eq!(
            parse("relay01").unwrap(),
            HostKey {
                names: vec!["relay01".into()],
                port: None
            }
        );
        assert_eq!(names("10.0.0.1"), ["10.0.0.1"]);
        assert_eq!(
            parse("2001:db8::1").unwrap(),
            HostKey {
                names: vec!["2001:db8::1".into()],
                port: None
            }
        );
    }

    #[test]
    fn ports() {
        assert_eq!(parse("relay01:2222").unwrap().port, Some(2222));
        assert_eq!(
            parse("[2001:db8::1]:2222").unwrap(),
            HostKey {
                names: vec!["2001:db8::1".into()],
                port: Some(2222)
            }
        );
        assert_eq!(
            parse("relay01:ssh").unwrap_err(),
            "\"relay01:ssh\": the part after ':' must be a port number (1-65535), found \"ssh\""
        );
    }

    #[test]
    fn ranges() {
        assert_eq!(names("relay[01:03]"), ["relay01", "relay02", "relay03"]);
        assert_eq!(
            names("relay[1:5:2].lab"),
            ["relay1.lab", "relay3.lab", "relay5.lab"]
        );
        assert_eq!(names("r[a:b][1:2]"), ["ra1", "ra2", "rb1", "rb2"]);
        assert_eq!(parse("relay[01:03]:2222").unwrap().port, Some(2222));
        assert!(parse("relay[3:1]").is_err());
        assert!(parse("relay[01:100]").is_err());
        assert_eq!(
            names("r[1:3]-[a:b]x"),
            ["r1-ax", "r1-bx", "r2-ax", "r2-bx", "r3-ax", "r3-bx"]
        );
        assert_eq!(
            parse("relay]01").unwrap_err(),
            "\"relay]01\": unbalanced ']'"
        );
    }

    #[test]
    fn a_key_stands_for_at_most_10000_hosts_counted_before_any_is_made() {
        assert_eq!(names("r[1:10000]").len(), 10_000);
        assert_eq!(names("r[0:99][0:99]").len(), 10_000);
        assert_eq!(names("r[0:99990:10]").len(), 10_000);
        assert_eq!(
            parse("r[0:10000]").unwrap_err(),
            "\"r[0:10000]\" stands for 10001 hosts, more than the 10000 one host key may stand for"
        );
        assert_eq!(
            parse("r[0:9999][0:9999]").unwrap_err(),
            "\"r[0:9999][0:9999]\" stands for 100000000 hosts, more than the 10000 one host key may stand for"
        );
        let huge = "r[0:18446744073709551614]".repeat(2);
        assert!(parse("r[0:18446744073709551615]").is_err());
        assert_eq!(
            parse(&huge).unwrap_err(),
            format!(
                "{huge:?} stands for more hosts than can be counted, more than the 10000 one host key may stand for"
            )
        );
    }

    #[test]
    fn names_that_would_break_patterns_are_refused() {
        assert!(parse("relay 01").is_err());
        assert!(parse("relay*").is_err());
        assert!(parse("../etc").is_err());
        assert!(parse("").is_err());
    }
}
