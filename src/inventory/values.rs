//! Typed readers for variable values (strings, Ansible booleans, ports, durations, DNS names,
//! choices), shared by the connection and relay variables. A reader reports a [`Problem`]: a
//! message and the position of the offending part of the value, which the caller turns into
//! an [`InputError`] keyed by the variable's path.

use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use crate::input::Pos;
use crate::input::error::InputError;
use crate::input::text;
use crate::input::yaml::{Node, NodeKind};

/// What is wrong with (part of) a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub pos: Pos,
    /// Appended to the variable's key to name the part: `[1]` for a list item, or empty.
    pub suffix: String,
    pub message: String,
}

impl Problem {
    pub(crate) fn at(node: &Node, message: impl Into<String>) -> Self {
        Self {
            pos: node.pos,
            suffix: String::new(),
            message: message.into(),
        }
    }

    pub(crate) fn in_item(mut self, index: usize) -> Self {
        self.suffix = format!("[{index}]{}", self.suffix);
        self
    }

    /// Names a key of a map inside the value (`.purpose`); an enclosing item's index goes
    /// before it.
    pub(crate) fn in_key(mut self, key: &str) -> Self {
        self.suffix = format!(".{key}{}", self.suffix);
        self
    }

    pub(crate) fn into_error(self, file: &Path, key: &str) -> InputError {
        InputError::at(
            file,
            self.pos,
            format!("{key}{}", self.suffix),
            self.message,
        )
    }
}

pub(crate) fn expected(node: &Node, what: &str) -> Problem {
    Problem::at(node, format!("expected {what}, found {}", node.describe()))
}

/// A string; templates are refused because relayctl resolves these values itself, before any
/// template engine runs, and would otherwise use `{{ ... }}` literally.
pub(crate) fn string<'n>(node: &'n Node, what: &str) -> Result<&'n str, Problem> {
    let Some(s) = node.as_str() else {
        return Err(expected(node, what));
    };
    if s.contains("{{") || s.contains("{%") {
        return Err(Problem::at(
            node,
            "templates are not expanded in connection and relay variables; write the value itself",
        ));
    }
    // These values reach a connection, a script, a ruleset or the confirmations report: a line
    // break there forges the next line (a "confirmed" in the ticket), an escape steers the
    // operator's terminal.
    if let Some(c) = text::forbidden_in_line(s) {
        return Err(Problem::at(
            node,
            format!(
                "{s:?} holds {}: a value may hold no control character",
                text::describe(c)
            ),
        ));
    }
    Ok(s)
}

/// A non-empty string without spaces (host names, users).
pub(crate) fn word<'n>(node: &'n Node, what: &str) -> Result<&'n str, Problem> {
    let s = string(node, what)?;
    if s.is_empty() || s.chars().any(char::is_whitespace) {
        return Err(Problem::at(node, format!("expected {what}, found {s:?}")));
    }
    Ok(s)
}

/// Ansible's booleans: true/false, yes/no, on/off, y/n, t/f, 1/0, in any case, as booleans,
/// numbers or strings. Anything else is an error rather than a guess.
pub(crate) fn boolean(node: &Node) -> Result<bool, Problem> {
    let parsed = match &node.kind {
        NodeKind::Bool(b) => Some(*b),
        NodeKind::Number(n) => match n.as_f64() {
            Some(1.0) => Some(true),
            Some(0.0) => Some(false),
            _ => None,
        },
        NodeKind::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" | "y" | "t" | "1" => Some(true),
            "false" | "no" | "off" | "n" | "f" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    };
    parsed.ok_or_else(|| expected(node, "a boolean (true/false, yes/no)"))
}

/// A whole number, written as a number or as a string of digits (Ansible casts either).
pub(crate) fn integer(node: &Node, what: &str) -> Result<i64, Problem> {
    let parsed = match &node.kind {
        NodeKind::Number(n) => n.as_i64(),
        NodeKind::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    parsed.ok_or_else(|| expected(node, what))
}

pub(crate) fn port(node: &Node) -> Result<u16, Problem> {
    match integer(node, "a port number (1-65535)")? {
        n @ 1..=65535 => Ok(u16::try_from(n).unwrap_or(u16::MAX)),
        n => Err(Problem::at(
            node,
            format!("expected a port number (1-65535), found {n}"),
        )),
    }
}

/// A number of seconds, at least 1.
pub(crate) fn seconds(node: &Node) -> Result<Duration, Problem> {
    match integer(node, "a number of seconds")? {
        n if n >= 1 => Ok(Duration::from_secs(n.unsigned_abs())),
        n => Err(Problem::at(
            node,
            format!("expected a number of seconds (1 or more), found {n}"),
        )),
    }
}

/// One of a fixed set of words; the message lists them.
pub(crate) fn one_of<T: Copy>(node: &Node, choices: &[(&str, T)]) -> Result<T, Problem> {
    let names: Vec<&str> = choices.iter().map(|(name, _)| *name).collect();
    let wanted = format!("one of {}", names.join(", "));
    let s = node.as_str().ok_or_else(|| expected(node, &wanted))?;
    choices
        .iter()
        .find(|(name, _)| *name == s)
        .map(|(_, value)| *value)
        .ok_or_else(|| Problem::at(node, format!("expected {wanted}, found {s:?}")))
}

/// A DNS host name (RFC 1123 labels), optionally with a final dot.
pub(crate) fn is_dns_name(name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name);
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        // All-numeric names are mistyped IPv4 addresses, not names.
        && !name.split('.').all(|label| label.chars().all(|c| c.is_ascii_digit()))
}

/// An IP address or a DNS name: where a host is reached.
pub(crate) fn is_address(s: &str) -> bool {
    s.parse::<IpAddr>().is_ok() || is_dns_name(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(value: serde_json::Value) -> Node {
        Node::from_json(&value, Pos { line: 2, column: 9 })
    }

    #[test]
    fn ansible_truthy_forms() {
        for yes in [
            json!(true),
            json!("yes"),
            json!("True"),
            json!(1),
            json!("on"),
            json!("Y"),
        ] {
            assert_eq!(boolean(&node(yes)), Ok(true));
        }
        for no in [
            json!(false),
            json!("no"),
            json!("FALSE"),
            json!(0),
            json!("off"),
        ] {
            assert_eq!(boolean(&node(no)), Ok(false));
        }
        assert_eq!(
            boolean(&node(json!("maybe"))).unwrap_err().message,
            "expected a boolean (true/false, yes/no), found the string \"maybe\""
        );
    }

    #[test]
    fn ports_accept_numbers_and_digit_strings() {
        assert_eq!(port(&node(json!(2222))), Ok(2222));
        assert_eq!(port(&node(json!("22"))), Ok(22));
        assert_eq!(
            port(&node(json!(70000))).unwrap_err().message,
            "expected a port number (1-65535), found 70000"
        );
    }

    #[test]
    fn templates_are_refused_in_resolved_values() {
        assert!(string(&node(json!("{{ inventory_hostname }}.lab")), "a string").is_err());
    }

    #[test]
    fn dns_names() {
        assert!(is_dns_name("relay01.example.com"));
        assert!(is_dns_name("medulla"));
        assert!(is_dns_name("relay01.example.com."));
        assert!(!is_dns_name("relay_01.example.com"));
        assert!(!is_dns_name("-relay.example.com"));
        assert!(!is_dns_name("10.0.0.300"));
        assert!(is_address("10.0.0.1"));
        assert!(is_address("2001:db8::1"));
    }
}
