//! `--limit`: Ansible host patterns. Terms are separated by `,` (or by `:` when there is no
//! comma); a term is a host name, a group name, `all` (or `*`), or a glob with `*` and `?`
//! matched against host and group names. `!term` removes hosts, `&term` keeps only hosts also
//! in the term. As in Ansible, plain terms are added first, then `&` terms intersect, then `!`
//! terms exclude, whatever their order; with only `&`/`!` terms the start is `all`. The result is
//! in inventory order.
//!
//! Every term must match something (a misspelt exclusion would otherwise apply to the very
//! host it was meant to spare), and the whole pattern must select at least one host. Ansible's
//! regex terms (`~...`) and subscripts (`group[0]`) are not supported and say so.

use std::collections::HashSet;
use std::path::Path;

use super::hosts::{Host, Inventory};
use crate::input::Pos;
use crate::input::error::{InputError, InputErrors};
use crate::input::suggest;

/// Errors about the pattern are reported against this pseudo-file, column = the term's place.
const LIMIT_FILE: &str = "--limit";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Add,
    Intersect,
    Exclude,
}

struct Term<'p> {
    op: Op,
    body: &'p str,
    /// 1-based character column of the term in the pattern.
    column: usize,
}

pub(crate) fn select<'i>(
    inventory: &'i Inventory,
    limit: &str,
) -> Result<Vec<&'i Host>, InputErrors> {
    let terms = split(limit);
    let mut errors = Vec::new();
    let error = |column: usize, key: &str, message: String| {
        InputError::at(Path::new(LIMIT_FILE), Pos { line: 1, column }, key, message)
    };

    let mut matched: Vec<(Op, HashSet<&str>)> = Vec::new();
    for term in &terms {
        match matches(inventory, term.body) {
            Ok(hosts) if hosts.is_empty() => {
                let names = inventory.hosts.iter().map(|h| h.name.as_str()).chain(
                    inventory
                        .hosts
                        .iter()
                        .flat_map(|h| h.groups.iter().map(String::as_str)),
                );
                errors.push(error(
                    term.column,
                    term.body,
                    format!(
                        "matches no host or group in {}{}",
                        inventory.path.display(),
                        suggest::hint(term.body, unique(names))
                    ),
                ));
            }
            Ok(hosts) => matched.push((term.op, hosts)),
            Err(message) => errors.push(error(term.column, term.body, message)),
        }
    }
    if terms.is_empty() {
        errors.push(error(
            1,
            limit,
            "the pattern names no host or group".to_owned(),
        ));
    }
    InputErrors::finish(errors)?;

    let mut selected: HashSet<&str> = HashSet::new();
    let adds: Vec<&HashSet<&str>> = matched
        .iter()
        .filter(|(op, _)| *op == Op::Add)
        .map(|(_, h)| h)
        .collect();
    if adds.is_empty() {
        selected.extend(inventory.hosts.iter().map(|h| h.name.as_str()));
    }
    for hosts in adds {
        selected.extend(hosts);
    }
    for (_, hosts) in matched.iter().filter(|(op, _)| *op == Op::Intersect) {
        selected.retain(|h| hosts.contains(h));
    }
    for (_, hosts) in matched.iter().filter(|(op, _)| *op == Op::Exclude) {
        selected.retain(|h| !hosts.contains(h));
    }
    let hosts: Vec<&Host> = inventory
        .hosts
        .iter()
        .filter(|h| selected.contains(h.name.as_str()))
        .collect();
    if hosts.is_empty() {
        InputErrors::finish(vec![error(
            1,
            limit,
            "this pattern selects no host".to_owned(),
        )])?;
    }
    Ok(hosts)
}

fn unique<'a>(names: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut seen = HashSet::new();
    names.filter(|n| seen.insert(*n)).collect()
}

/// The hosts one term's body stands for (empty: nothing matched).
fn matches<'i>(inventory: &'i Inventory, body: &str) -> Result<HashSet<&'i str>, String> {
    if body.starts_with('~') {
        return Err(
            "regular-expression patterns (~...) are not supported; use names, groups and * globs"
                .to_owned(),
        );
    }
    if body.contains('[') || body.contains(']') {
        return Err(
            "subscripts and ranges in patterns are not supported; use names, groups and * globs"
                .to_owned(),
        );
    }
    if body.starts_with('@') {
        return Err("@file patterns are not supported; list the hosts instead".to_owned());
    }
    let all = body == "all" || body == "*";
    let is_glob = body.contains('*') || body.contains('?');
    Ok(inventory
        .hosts
        .iter()
        .filter(|host| {
            all || if is_glob {
                glob(body, &host.name) || host.groups.iter().any(|g| glob(body, g))
            } else {
                host.name == body || host.groups.iter().any(|g| g == body)
            }
        })
        .map(|host| host.name.as_str())
        .collect())
}

/// Splits on `,`, else on `:` outside brackets (unless the whole pattern is an IPv6 address).
fn split(limit: &str) -> Vec<Term<'_>> {
    let separator = if limit.contains(',') {
        ','
    } else if limit
        .trim()
        .trim_start_matches(['!', '&'])
        .parse::<std::net::Ipv6Addr>()
        .is_ok()
    {
        '\n' // never present: the pattern is one term
    } else {
        ':'
    };
    let mut terms = Vec::new();
    let mut start = 0;
    let mut depth = 0usize;
    let mut pieces = Vec::new();
    for (i, c) in limit.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            c if c == separator && depth == 0 => {
                pieces.push((start, &limit[start..i]));
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    pieces.push((start, &limit[start..]));
    for (offset, piece) in pieces {
        let leading = piece.len() - piece.trim_start().len();
        let trimmed = piece.trim();
        if trimmed.is_empty() {
            continue;
        }
        let (op, body, skip) = if let Some(body) = trimmed.strip_prefix('!') {
            (Op::Exclude, body, 1)
        } else if let Some(body) = trimmed.strip_prefix('&') {
            (Op::Intersect, body, 1)
        } else {
            (Op::Add, trimmed, 0)
        };
        let column = limit[..offset + leading + skip].chars().count() + 1;
        terms.push(Term { op, body, column });
    }
    terms
}

/// Shell-style glob: `*` any run of characters, `?` one character; case-sensitive.
fn glob(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut pi, mut ni) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            backtrack = Some((pi, ni));
            pi += 1;
        } else if let Some((star, matched)) = backtrack {
            pi = star + 1;
            ni = matched + 1;
            backtrack = Some((star, matched + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob("relay0*", "relay01"));
        assert!(glob("*", ""));
        assert!(glob("r?lay*1", "relay01"));
        assert!(!glob("relay0*", "relay10"));
        assert!(glob("*relays", "classic_relays"));
    }

    #[test]
    fn splitting_and_columns() {
        let terms = split("relays:!relay02:&site_a");
        let shown: Vec<(Op, &str, usize)> =
            terms.iter().map(|t| (t.op, t.body, t.column)).collect();
        assert_eq!(
            shown,
            [
                (Op::Add, "relays", 1),
                (Op::Exclude, "relay02", 9),
                (Op::Intersect, "site_a", 18)
            ]
        );
        let terms = split("relay01, relay02");
        assert_eq!(
            terms.iter().map(|t| (t.body, t.column)).collect::<Vec<_>>(),
            [("relay01", 1), ("relay02", 10)]
        );
        assert_eq!(split("2001:db8::1").len(), 1);
    }
}
