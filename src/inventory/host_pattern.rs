//! Host keys under `hosts:` as Ansible reads them: a name, optionally with `:PORT`
//! (`relay01:2222`, `[2001:db8::1]:2222`), and optionally with ranges (`relay[01:03]` is
//! relay01, relay02, relay03; `relay[a:c]`, `relay[1:9:2]` with a step).

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
        if let Some(bad) = name
            .chars()
            .find(|c| c.is_whitespace() || ",!&*?~@/\\\"'".contains(*c))
        {
            return Err(format!(
                "{name:?} is not a usable host name: {bad:?} is not allowed (names appear in --limit patterns and vars file names)"
            ));
        }
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

/// Expands every `[start:end(:step)]` range, left to right.
fn expand_ranges(name: &str) -> Result<Vec<String>, String> {
    let Some(open) = name.find('[') else {
        if name.contains(']') {
            return Err(format!("{name:?}: unbalanced ']'"));
        }
        return Ok(vec![name.to_owned()]);
    };
    let Some(close) = name[open..].find(']').map(|i| open + i) else {
        return Err(format!("{name:?}: '[' without a closing ']'"));
    };
    let (head, range, tail) = (&name[..open], &name[open + 1..close], &name[close + 1..]);
    let parts: Vec<&str> = range.split(':').collect();
    let (start, end, step) = match parts.as_slice() {
        [start, end] => (*start, *end, "1"),
        [start, end, step] => (*start, *end, *step),
        _ => {
            return Err(format!(
                "{name:?}: a range is written [start:end] or [start:end:step]"
            ));
        }
    };
    let step: usize = match step.parse() {
        Ok(s) if s > 0 => s,
        _ => {
            return Err(format!(
                "{name:?}: the range step must be a positive number, found {step:?}"
            ));
        }
    };
    let start = if start.is_empty() { "0" } else { start };
    let items = range_items(start, end, step).map_err(|why| format!("{name:?}: {why}"))?;
    let mut names = Vec::new();
    for item in items {
        for rest in expand_ranges(tail)? {
            names.push(format!("{head}{item}{rest}"));
        }
    }
    Ok(names)
}

fn range_items(start: &str, end: &str, step: usize) -> Result<Vec<String>, String> {
    let single_letter = |s: &str| s.len() == 1 && s.chars().all(|c| c.is_ascii_alphabetic());
    if single_letter(start) && single_letter(end) {
        let (a, b) = (start.as_bytes()[0], end.as_bytes()[0]);
        if a > b {
            return Err(format!("range start {start:?} comes after its end {end:?}"));
        }
        return Ok((a..=b)
            .step_by(step)
            .map(|c| char::from(c).to_string())
            .collect());
    }
    let (Ok(a), Ok(b)) = (start.parse::<u64>(), end.parse::<u64>()) else {
        return Err(format!(
            "range bounds must both be numbers or both single letters, found {start:?} and {end:?}"
        ));
    };
    if a > b {
        return Err(format!("range start {start} comes after its end {end}"));
    }
    if b - a > 10_000 {
        return Err(format!(
            "range {start}:{end} would create more than 10000 hosts"
        ));
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
    Ok((a..=b)
        .step_by(step)
        .map(|n| format!("{n:0width$}"))
        .collect())
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
    }

    #[test]
    fn names_that_would_break_patterns_are_refused() {
        assert!(parse("relay 01").is_err());
        assert!(parse("relay*").is_err());
        assert!(parse("../etc").is_err());
        assert!(parse("").is_err());
    }
}
