//! ufw's rules files (`/etc/ufw/user.rules`, `/etc/ufw/user6.rules`) as relayctl edits them:
//! the operator's rules kept byte for byte, relayctl's own rules (recognised by their comment)
//! replaced as a whole, appended after the operator's, written exactly as ufw 0.36 writes a rule
//! (a `### tuple ###` line, which `ufw status` and `ufw delete` read, and its iptables line), so
//! that a later `ufw allow` rewriting the file keeps them as they are.
//!
//! Also: the operator's deny and reject rules that come first and would drop a Medulla flow, and
//! the live chains as `iptables -S` lists them, to tell whether relayctl's rules are loaded.

use std::net::IpAddr;

use ipnet::IpNet;

use crate::modules::firewall::flows::{Direction, Flow};

/// What starts the comment of every rule relayctl owns.
pub(super) const OWNED_PREFIX: &str = "relayctl: ";
const RULES_START: &str = "### RULES ###\n";
const TUPLE: &str = "### tuple ### ";

/// IPv4 (`user.rules`, chains `ufw-user-*`) or IPv6 (`user6.rules`, chains `ufw6-user-*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Family {
    V4,
    V6,
}

impl Family {
    fn chain_prefix(self) -> &'static str {
        match self {
            Family::V4 => "ufw",
            Family::V6 => "ufw6",
        }
    }

    fn any(self) -> &'static str {
        match self {
            Family::V4 => "0.0.0.0/0",
            Family::V6 => "::/0",
        }
    }

    fn holds(self, net: &IpNet) -> bool {
        matches!(
            (self, net),
            (Family::V4, IpNet::V4(_)) | (Family::V6, IpNet::V6(_))
        )
    }
}

/// One rules file, cut where relayctl edits it.
#[derive(Debug)]
pub(super) struct RulesFile<'a> {
    /// Up to the first rule (the `### RULES ###` line and the blank line after it).
    head: &'a str,
    /// Each rule: its `### tuple ###` line, its iptables lines and the blank line after them.
    rules: Vec<&'a str>,
    /// From what follows the rules (`### END RULES ###`, or the package's rate limiting rules).
    tail: &'a str,
}

impl<'a> RulesFile<'a> {
    /// Reads the rules after the `### RULES ###` line: ufw's own format once it has written a
    /// rule (each rule a blank line apart, up to `### END RULES ###`), and the file as the
    /// package installs it (no rule, no end line) alike.
    pub fn parse(text: &'a str) -> Result<Self, String> {
        let mut at = text
            .find(RULES_START)
            .ok_or("no `### RULES ###` line: not a rules file ufw wrote")?
            + RULES_START.len();
        while text[at..].starts_with('\n') {
            at += 1;
        }
        let head = &text[..at];
        let mut rules = Vec::new();
        while text[at..].starts_with(TUPLE) {
            let start = at;
            // The tuple line, its iptables lines, at most one blank line.
            at += line_len(&text[at..]);
            while text[at..].starts_with("-A ") {
                at += line_len(&text[at..]);
            }
            if text[at..].starts_with('\n') {
                at += 1;
            }
            rules.push(&text[start..at]);
        }
        Ok(RulesFile {
            head,
            rules,
            tail: &text[at..],
        })
    }

    /// The file with relayctl's rules replaced by `owned` (none: removed).
    pub fn with_owned(&self, owned: &[String]) -> String {
        let mut text = self.head.to_string();
        for rule in self.rules.iter().filter(|rule| !is_owned(rule)) {
            text.push_str(rule);
        }
        for rule in owned {
            text.push_str(rule);
        }
        text.push_str(self.tail);
        text
    }

    /// The operator's deny and reject rules that would drop one of `flows` before relayctl's
    /// accept is reached (ufw stops at the first rule that matches).
    pub fn denials_of(&self, flows: &[Flow], family: Family) -> Vec<String> {
        let mut found = Vec::new();
        for rule in self.rules.iter().filter(|rule| !is_owned(rule)) {
            let Some(tuple) = Tuple::parse(rule) else {
                continue;
            };
            if !matches!(tuple.action, "deny" | "reject") || tuple.direction != "in" {
                continue;
            }
            if let Some(flow) = flows.iter().find(|flow| tuple.drops(flow, family)) {
                found.push(format!(
                    "ufw rule `{} {} {} from {} to port {}` comes before relayctl's and drops the Medulla flow {}/{} ({}): delete it or move it after relayctl's rules",
                    tuple.action,
                    tuple.direction,
                    tuple.protocol,
                    tuple.source,
                    tuple.ports,
                    flow.protocol,
                    flow.ports_dash(),
                    flow.comment
                ));
            }
        }
        found
    }
}

/// The length of the first line of `text`, its newline included.
fn line_len(text: &str) -> usize {
    text.find('\n').map_or(text.len(), |i| i + 1)
}

fn is_owned(rule: &str) -> bool {
    Tuple::parse(rule).is_some_and(|tuple| {
        tuple
            .comment
            .as_deref()
            .is_some_and(|c| c.starts_with(OWNED_PREFIX))
    })
}

/// A `### tuple ###` line: `ACTION PROTOCOL DPORT DST SPORT SRC DIRECTION [comment=HEX]`.
struct Tuple<'a> {
    action: &'a str,
    protocol: &'a str,
    ports: &'a str,
    source: &'a str,
    direction: &'a str,
    comment: Option<String>,
}

impl<'a> Tuple<'a> {
    fn parse(rule: &'a str) -> Option<Self> {
        let line = rule.lines().next()?.strip_prefix(TUPLE)?;
        let words: Vec<&str> = line.split(' ').collect();
        // ufw writes `allow_log` and `deny_log-all` for logged rules: the action comes first.
        let (action, protocol, ports, _dst, _sport, source) = match words.as_slice() {
            [a, p, d, dst, _, s, ..] => (*a, *p, *d, *dst, (), *s),
            _ => return None,
        };
        let direction = words.get(6).copied().unwrap_or("in");
        let direction = direction.split('_').next().unwrap_or(direction);
        let comment = words
            .iter()
            .find_map(|w| w.strip_prefix("comment="))
            .and_then(unhex);
        Some(Tuple {
            action: action.split('_').next().unwrap_or(action),
            protocol,
            ports,
            source,
            direction,
            comment,
        })
    }

    /// Whether this rule matches some packets of `flow` (same protocol, a common port, a
    /// common source address).
    fn drops(&self, flow: &Flow, family: Family) -> bool {
        if flow.direction != Direction::In
            || (self.protocol != "any" && self.protocol != flow.protocol)
        {
            return false;
        }
        let ports_meet = self.ports == "any"
            || self.ports.split(',').any(|part| {
                let (first, last) = part.split_once(':').unwrap_or((part, part));
                match (first.parse::<u16>(), last.parse::<u16>()) {
                    (Ok(first), Ok(last)) => first <= flow.last_port && flow.first_port <= last,
                    _ => false,
                }
            });
        if !ports_meet {
            return false;
        }
        let Some(source) = network(self.source) else {
            return false;
        };
        if !family.holds(&source) {
            return false;
        }
        flow.peers.is_empty()
            || flow
                .peers
                .iter()
                .any(|peer| peer.contains(&source.network()) || source.contains(&peer.network()))
    }
}

fn network(text: &str) -> Option<IpNet> {
    text.parse::<IpNet>()
        .ok()
        .or_else(|| text.parse::<IpAddr>().ok().map(IpNet::from))
}

fn hex(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

fn unhex(hex: &str) -> Option<String> {
    let bytes: Option<Vec<u8>> = (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|b| u8::from_str_radix(b, 16).ok())
        })
        .collect();
    String::from_utf8(bytes?).ok()
}

/// How ufw writes an address in a tuple and a rule: a host without its prefix length.
fn address(net: &IpNet) -> String {
    if net.prefix_len() == net.max_prefix_len() {
        net.addr().to_string()
    } else {
        net.to_string()
    }
}

/// relayctl's rules for `family`, each as ufw writes it: one per peer of the family, or one for
/// any address when a flow names no peer.
pub(super) fn owned_rules(flows: &[Flow], family: Family) -> Vec<String> {
    let mut rules = Vec::new();
    for flow in flows {
        let peers: Vec<Option<&IpNet>> = if flow.peers.is_empty() {
            vec![None]
        } else {
            flow.peers
                .iter()
                .filter(|peer| family.holds(peer))
                .map(Some)
                .collect()
        };
        for peer in peers {
            rules.push(rule(flow, family, peer.map(address)));
        }
    }
    rules
}

/// One rule, exactly as `ufw allow [in|out] proto P from|to PEER port PORTS comment C` writes it.
fn rule(flow: &Flow, family: Family, peer: Option<String>) -> String {
    let any = family.any();
    let ports = flow.ports_colon();
    let comment = hex(&format!("{OWNED_PREFIX}{}", flow.comment));
    let range = flow.first_port != flow.last_port;
    let port_match = if range {
        format!("-m multiport --dports {ports}")
    } else {
        format!("--dport {ports}")
    };
    let chain = family.chain_prefix();
    let protocol = flow.protocol;
    match flow.direction {
        Direction::In => {
            let source = peer.as_deref().unwrap_or(any);
            let source_match = peer
                .as_deref()
                .map(|p| format!(" -s {p}"))
                .unwrap_or_default();
            format!(
                "{TUPLE}allow {protocol} {ports} {any} any {source} in comment={comment}\n\
                 -A {chain}-user-input -p {protocol} {port_match}{source_match} -j ACCEPT\n\n"
            )
        }
        Direction::Out => {
            let destination = peer.as_deref().unwrap_or(any);
            let destination_match = peer
                .as_deref()
                .map(|p| format!("-d {p} "))
                .unwrap_or_default();
            let matches = if range {
                format!("{port_match} {}", destination_match.trim_end())
                    .trim_end()
                    .to_string()
            } else {
                format!("{destination_match}{port_match}")
            };
            format!(
                "{TUPLE}allow {protocol} {ports} {destination} any {any} out comment={comment}\n\
                 -A {chain}-user-output -p {protocol} {matches} -j ACCEPT\n\n"
            )
        }
    }
}

/// A rule of a user chain reduced to what it matches and does, whichever way it is written
/// (`-s 192.0.2.1` or `-s 192.0.2.1/32`, with or without `-m tcp`, options in any order).
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Match {
    chain: String,
    protocol: String,
    ports: String,
    source: String,
    destination: String,
    target: String,
}

/// The `-A` lines of `text` (a rules file, or what `iptables -S` prints), reduced.
pub(super) fn matches(text: &str) -> Vec<Match> {
    text.lines()
        .filter_map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let value = |flag: &str| {
                words
                    .windows(2)
                    .find(|w| w[0] == flag)
                    .map(|w| w[1].to_string())
            };
            let host = |flag: &str| {
                value(flag)
                    .and_then(|a| network(&a))
                    .map(|n| n.to_string())
                    .unwrap_or_default()
            };
            (words.first() == Some(&"-A")).then(|| Match {
                chain: value("-A").unwrap_or_default(),
                protocol: value("-p").unwrap_or_default(),
                ports: value("--dport")
                    .or_else(|| value("--dports"))
                    .unwrap_or_default(),
                source: host("-s"),
                destination: host("-d"),
                target: value("-j").unwrap_or_default(),
            })
        })
        .collect()
}

/// Whether every rule of `owned` is loaded in `live` (what `iptables -S` lists of the chains).
pub(super) fn all_loaded(owned: &[String], live: &str) -> bool {
    let live = matches(live);
    owned
        .iter()
        .flat_map(|rule| matches(rule))
        .all(|wanted| live.contains(&wanted))
}

#[cfg(test)]
mod tests;
