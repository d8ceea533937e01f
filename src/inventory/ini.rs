//! INI inventories, as ansible-core 2.19's `ini` plugin reads them, turned into the tree a YAML
//! inventory makes (`group: {hosts:, children:, vars:}`), so that the rest of the loader reads
//! both formats one way.
//!
//! The plugin's rules, kept exactly: lines are stripped; blank lines and lines starting with `#`
//! or `;` are skipped; hosts before the first section belong to `ungrouped`; `[group]` lists
//! hosts, `[group:children]` groups, `[group:vars]` variables; a host line is split as the shell
//! would (Python's `shlex`, `#` starting a comment), its first word the host key (ranges and
//! `:port` as in YAML), every other word `key=value`; a `:vars` line is split at its first `=`
//! and keeps the rest of the line (a `#` there is part of the value). Values are typed by
//! `python_literal.rs`. A group named under `:children` or `:vars` must be declared by a
//! `[group]` or `[group:children]` section somewhere in the file.

use std::collections::HashSet;

use super::python_literal;
use crate::input::Pos;
use crate::input::yaml::{Entry, Node, NodeKind};

/// The most values one INI file may make: the YAML parser's own budget (serde-saphyr's 250 000),
/// so that an INI file of 8 MiB of `[0,0,0,...]` asks no more of the controller than a YAML one.
const MAX_VALUES: usize = 250_000;

/// An INI problem: where, and why (the key is the section or the line's first word).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IniError {
    pub pos: Pos,
    pub key: String,
    pub message: String,
}

/// What one line of a section holds.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Hosts,
    Children,
    Vars,
}

impl State {
    fn section(self) -> &'static str {
        match self {
            State::Hosts => "hosts",
            State::Children => "children",
            State::Vars => "vars",
        }
    }
}

/// The tree of an INI inventory, or every problem found in it. `known`: the groups the
/// inventory's earlier sources declare, which this file may name without declaring them (as
/// Ansible checks names against the inventory read so far).
pub(crate) fn parse(text: &str, known: &HashSet<String>) -> Result<Node, Vec<IniError>> {
    let mut reader = Reader {
        declared: known.clone(),
        ..Reader::default()
    };
    for (index, line) in text.lines().enumerate() {
        reader.line(index + 1, line);
    }
    reader.finish()
}

/// Whether `text` reads as an INI inventory rather than YAML: its first line that is not blank
/// or a comment is a `[section]` header or a host line (`name key=value`).
pub(crate) fn looks_like_ini(text: &str) -> bool {
    let Some(line) = text
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty() && !line.starts_with('#') && !line.starts_with(';'))
    else {
        return false;
    };
    if section_header(line).is_some() {
        return true;
    }
    // `key: value` and `- item` are YAML; a bare word or `host key=value` is INI.
    let first = line.split_whitespace().next().unwrap_or_default();
    !line.starts_with('-')
        && !first.ends_with(':')
        && !line.contains(": ")
        && !line.starts_with('{')
        && (line.split_whitespace().count() == 1 || line.contains('='))
}

#[derive(Default)]
struct Reader {
    /// Root entries, one per section (and one for the hosts before the first section).
    sections: Vec<Entry>,
    group: String,
    state: Option<State>,
    /// Groups a `[group]` or `[group:children]` section declares (`all` and `ungrouped` exist).
    declared: HashSet<String>,
    /// Groups named by `[group:vars]` or under a `:children` section, where first named.
    named: Vec<(String, Pos, String)>,
    /// Values made so far (see [`MAX_VALUES`]); past it, the lines after are not read.
    values: usize,
    errors: Vec<IniError>,
}

impl Reader {
    fn error(&mut self, pos: Pos, key: &str, message: String) {
        self.errors.push(IniError {
            pos,
            key: key.to_owned(),
            message,
        });
    }

    fn line(&mut self, number: usize, raw: &str) {
        if self.values > MAX_VALUES {
            return;
        }
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            return;
        }
        let indent = raw.len() - raw.trim_start().len();
        let column = raw[..indent].chars().count() + 1;
        let pos = Pos {
            line: number,
            column,
        };
        if let Some(header) = section_header(line) {
            return self.section(header, pos, line);
        }
        if line.starts_with('[') && line.ends_with(']') {
            return self.error(
                pos,
                line,
                format!(
                    "invalid section {line}: a section is [group], [group:children] or [group:vars], with no \
                     blank inside the brackets"
                ),
            );
        }
        if self.state.is_none() {
            // Ansible reads the lines before the first section as `[ungrouped]`.
            self.open(
                "ungrouped",
                State::Hosts,
                Pos {
                    line: number,
                    column,
                },
            );
        }
        match self.state {
            Some(State::Hosts) => self.host_line(line, pos),
            Some(State::Children) => self.child_line(line, pos),
            Some(State::Vars) => self.var_line(line, pos),
            None => {}
        }
    }

    fn section(&mut self, (group, kind): (&str, Option<&str>), pos: Pos, line: &str) {
        let state = match kind {
            None | Some("hosts") => State::Hosts,
            Some("children") => State::Children,
            Some("vars") => State::Vars,
            Some(other) => {
                self.state = None;
                self.group.clear();
                return self.error(
                    pos,
                    line,
                    format!(
                        "section {line} has the unknown type {other:?}: a section is [group], \
                         [group:children] or [group:vars]"
                    ),
                );
            }
        };
        if state == State::Vars {
            self.named.push((group.to_owned(), pos, line.to_owned()));
        } else {
            self.declared.insert(group.to_owned());
        }
        self.open(group, state, pos);
    }

    /// Starts the root entry of a section.
    fn open(&mut self, group: &str, state: State, pos: Pos) {
        self.group = group.to_owned();
        self.state = Some(state);
        let name_pos = Pos {
            line: pos.line,
            column: pos.column + 1,
        };
        self.sections.push(Entry {
            key: group.to_owned(),
            key_pos: name_pos,
            value: map(
                vec![Entry {
                    key: state.section().to_owned(),
                    key_pos: name_pos,
                    value: map(Vec::new(), name_pos),
                }],
                name_pos,
            ),
        });
    }

    /// The entries of the open section's `hosts:`, `children:` or `vars:`.
    fn section_entries(&mut self) -> Option<&mut Vec<Entry>> {
        let section = self.sections.last_mut()?;
        let NodeKind::Map(inner) = &mut section.value.kind else {
            return None;
        };
        match &mut inner.first_mut()?.value.kind {
            NodeKind::Map(entries) => Some(entries),
            _ => None,
        }
    }

    fn host_line(&mut self, line: &str, pos: Pos) {
        let words = match shlex_words(line) {
            Ok(words) => words,
            Err(message) => return self.error(pos, line, message),
        };
        let Some((host, host_column)) = words.first().cloned() else {
            return;
        };
        let at = |column: usize| Pos {
            line: pos.line,
            column: pos.column + column,
        };
        if host == "---" {
            return self.error(
                at(host_column),
                &host,
                "`---` is not a host: this file looks like YAML; give it a .yaml extension"
                    .to_owned(),
            );
        }
        let mut vars = Vec::new();
        for (word, column) in &words[1..] {
            let Some((key, value)) = word.split_once('=') else {
                return self.error(
                    at(*column),
                    &host,
                    format!("expected key=value after the host name, found {word:?}"),
                );
            };
            let value_pos = at(column + key.chars().count() + 1);
            let value = typed(value, value_pos);
            self.count(&value, pos, &host);
            vars.push(Entry {
                key: key.to_owned(),
                key_pos: at(*column),
                value,
            });
        }
        let value = if vars.is_empty() {
            Node {
                kind: NodeKind::Null,
                pos: at(host_column),
            }
        } else {
            map(vars, at(host_column))
        };
        if let Some(entries) = self.section_entries() {
            entries.push(Entry {
                key: host,
                key_pos: at(host_column),
                value,
            });
        }
    }

    fn child_line(&mut self, line: &str, pos: Pos) {
        let name = line
            .split_once('#')
            .map_or(line, |(name, _)| name)
            .trim_end();
        if name.is_empty() || name.contains([':', ']']) || name.chars().any(char::is_whitespace) {
            return self.error(
                pos,
                line,
                format!(
                    "expected a group name in [{}:children], found {line:?}",
                    self.group
                ),
            );
        }
        let parent = format!("[{}:children]", self.group);
        self.named.push((name.to_owned(), pos, parent));
        if let Some(entries) = self.section_entries() {
            entries.push(Entry {
                key: name.to_owned(),
                key_pos: pos,
                value: Node {
                    kind: NodeKind::Null,
                    pos,
                },
            });
        }
    }

    fn var_line(&mut self, line: &str, pos: Pos) {
        let Some((key, value)) = line.split_once('=') else {
            return self.error(
                pos,
                line,
                format!(
                    "expected key=value in [{}:vars], found {line:?}",
                    self.group
                ),
            );
        };
        let (key, value) = (key.trim(), value.trim());
        // The value's column: past the `=` and the blanks after it.
        let value_start = line.len()
            - line
                .split_once('=')
                .map_or("", |(_, v)| v)
                .trim_start()
                .len();
        let value_pos = Pos {
            line: pos.line,
            column: pos.column + line[..value_start].chars().count(),
        };
        let value = typed(value, value_pos);
        self.count(&value, pos, key);
        if let Some(entries) = self.section_entries() {
            entries.push(Entry {
                key: key.to_owned(),
                key_pos: pos,
                value,
            });
        }
    }

    /// Counts the values of `node`; the one that goes past [`MAX_VALUES`] says so.
    fn count(&mut self, node: &Node, pos: Pos, key: &str) {
        let before = self.values;
        self.values += values_in(node);
        if before <= MAX_VALUES && self.values > MAX_VALUES {
            self.error(
                pos,
                key,
                format!("with this line the file would hold more than {MAX_VALUES} values, more than an inventory may"),
            );
        }
    }

    fn finish(mut self) -> Result<Node, Vec<IniError>> {
        let named = std::mem::take(&mut self.named);
        let mut reported = HashSet::new();
        for (group, pos, section) in named {
            let declared = self.declared.contains(&group) || group == "all" || group == "ungrouped";
            if declared || !reported.insert(group.clone()) {
                continue;
            }
            let message = if section.ends_with(":vars]") {
                format!(
                    "{section} sets variables of {group:?}, a group no [{group}] or [{group}:children] section declares"
                )
            } else {
                format!(
                    "{section} names {group:?}, a group no [{group}] or [{group}:children] section declares"
                )
            };
            self.error(pos, &group, message);
        }
        if !self.errors.is_empty() {
            return Err(self.errors);
        }
        Ok(map(self.sections, Pos::START))
    }
}

fn map(entries: Vec<Entry>, pos: Pos) -> Node {
    Node {
        kind: NodeKind::Map(entries),
        pos,
    }
}

fn values_in(node: &Node) -> usize {
    1 + match &node.kind {
        NodeKind::Seq(items) => items.iter().map(values_in).sum(),
        NodeKind::Map(entries) => entries.iter().map(|e| values_in(&e.value)).sum(),
        _ => 0,
    }
}

/// A value as Ansible types it: a Python literal, else the text.
fn typed(value: &str, pos: Pos) -> Node {
    match python_literal::eval(value) {
        Some(json) => Node::from_json(&json, pos),
        None => Node {
            kind: NodeKind::String(value.to_owned()),
            pos,
        },
    }
}

/// `[group]` or `[group:kind]`, then blanks and maybe a `#` comment (the plugin's pattern:
/// the name has no `:`, `]` or blank; the kind is a word).
fn section_header(line: &str) -> Option<(&str, Option<&str>)> {
    let inner = line.strip_prefix('[')?;
    let close = inner.find(']')?;
    let rest = inner[close + 1..].trim_start();
    if !rest.is_empty() && !rest.starts_with('#') {
        return None;
    }
    let inside = &inner[..close];
    let (name, kind) = match inside.split_once(':') {
        Some((name, kind)) => (name, Some(kind)),
        None => (inside, None),
    };
    let word = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_');
    if name.is_empty() || name.contains(['[', ']']) || name.chars().any(char::is_whitespace) {
        return None;
    }
    if kind.is_some_and(|k| !word(k)) {
        return None;
    }
    Some((name, kind))
}

/// Python's `shlex.split(line, comments=True)`, each word with the 0-based column where it
/// starts: blanks split words; `'...'` is literal; in `"..."` a backslash escapes only `"` and
/// `\`; outside quotes a backslash escapes the next character; `#` outside quotes ends the line.
fn shlex_words(line: &str) -> Result<Vec<(String, usize)>, String> {
    let mut words = Vec::new();
    let mut word: Option<(String, usize)> = None;
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => {
                words.extend(word.take());
            }
            '#' => break,
            '\'' | '"' => {
                let (text, _) = word.get_or_insert_with(|| (String::new(), i));
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(format!("no closing quotation ({c}) in {line:?}")),
                        Some(&q) if q == c => break,
                        Some('\\') if c == '"' && matches!(chars.get(i + 1), Some('"' | '\\')) => {
                            i += 1;
                            text.push(chars[i]);
                        }
                        Some(&other) => text.push(other),
                    }
                    i += 1;
                }
            }
            '\\' => {
                let (text, _) = word.get_or_insert_with(|| (String::new(), i));
                i += 1;
                match chars.get(i) {
                    Some(&next) => text.push(next),
                    None => return Err(format!("no escaped character after \\ in {line:?}")),
                }
            }
            c => word.get_or_insert_with(|| (String::new(), i)).0.push(c),
        }
        i += 1;
    }
    words.extend(word);
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tree(text: &str) -> serde_json::Value {
        parse(text, &HashSet::new())
            .unwrap_or_else(|e| panic!("{e:?}"))
            .to_json()
    }

    fn errors(text: &str) -> Vec<String> {
        parse(text, &HashSet::new())
            .expect_err("refused")
            .into_iter()
            .map(|e| format!("{}:{}: {}: {}", e.pos.line, e.pos.column, e.key, e.message))
            .collect()
    }

    #[test]
    fn sections_hosts_before_them_and_typed_values() {
        let text = "\
# a comment
lonely ansible_host=10.0.0.1 n=1 b=yes s=\"a b\" l='[1, 2]' z=0644 t=True # the rest is a comment

[web]
web[01:02]:2222 http=8080
; another comment
[web:vars]
greeting = hello world # kept
port=80

[app:children]
web  # a comment
";
        assert_eq!(
            tree(text)["ungrouped"],
            json!({"hosts": {"lonely": {
                "ansible_host": "10.0.0.1", "n": 1, "b": "yes", "s": "a b", "l": [1, 2], "z": "0644", "t": true
            }}})
        );
        assert_eq!(tree(text)["app"], json!({"children": {"web": null}}));
        let root = parse(text, &HashSet::new()).expect("parsed");
        let NodeKind::Map(sections) = &root.kind else {
            panic!("a map")
        };
        let keys: Vec<&str> = sections.iter().map(|s| s.key.as_str()).collect();
        assert_eq!(keys, ["ungrouped", "web", "web", "app"]);
        assert_eq!(
            sections[1].value.to_json(),
            json!({"hosts": {"web[01:02]:2222": {"http": 8080}}})
        );
        assert_eq!(
            sections[0].value.to_json()["hosts"]["lonely"]["s"],
            json!("a b")
        );
        assert_eq!(
            sections[2].value.to_json()["vars"]["greeting"],
            json!("hello world # kept")
        );
        assert_eq!(sections[1].key_pos, Pos { line: 4, column: 2 });
    }

    #[test]
    fn undeclared_groups_and_bad_lines_are_named() {
        assert_eq!(
            errors(
                "[a:children]\nb\n[c:vars]\nx=1\n[d:hosts2]\n[e f]\n[g]\nh k\n[a:vars]\nnothing\n"
            ),
            [
                "5:1: [d:hosts2]: section [d:hosts2] has the unknown type \"hosts2\": a section is [group], \
                 [group:children] or [group:vars]",
                "6:1: [e f]: invalid section [e f]: a section is [group], [group:children] or [group:vars], \
                 with no blank inside the brackets",
                "8:3: h: expected key=value after the host name, found \"k\"",
                "10:1: nothing: expected key=value in [a:vars], found \"nothing\"",
                "2:1: b: [a:children] names \"b\", a group no [b] or [b:children] section declares",
                "3:1: c: [c:vars] sets variables of \"c\", a group no [c] or [c:children] section declares",
            ]
        );
        let known = HashSet::from(["b".to_owned()]);
        assert!(parse("[a:children]\nb\n", &known).is_ok());
        assert_eq!(
            errors("h x='open\n"),
            ["1:1: h x='open: no closing quotation (') in \"h x='open\""]
        );
    }

    #[test]
    fn shell_words_as_shlex_splits_them() {
        let words = |line: &str| -> Vec<String> {
            shlex_words(line)
                .expect("split")
                .into_iter()
                .map(|(w, _)| w)
                .collect()
        };
        assert_eq!(
            words(r#"h a="x \" y" b='c d' e=f\ g"#),
            ["h", "a=x \" y", "b=c d", "e=f g"]
        );
        assert_eq!(words("h a=b#c d"), ["h", "a=b"]);
        assert_eq!(words(r#"h a="\n""#), ["h", "a=\\n"]);
        assert_eq!(
            shlex_words("h  a=1").expect("split")[1],
            ("a=1".to_owned(), 3)
        );
    }

    #[test]
    fn ini_is_told_from_yaml() {
        assert!(looks_like_ini("[relays]\nrelay01\n"));
        assert!(looks_like_ini(
            "# hosts\nrelay01 ansible_host=10.0.0.1\n[relays]\n"
        ));
        assert!(looks_like_ini("relay01\n"));
        assert!(!looks_like_ini("all:\n  hosts:\n"));
        assert!(!looks_like_ini("- a\n"));
        assert!(!looks_like_ini("{all: {}}\n"));
    }
}
