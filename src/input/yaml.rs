//! Raw YAML reading: text -> a tree of [`Node`]s that remember where each value and each key
//! was written, so that every later error can point at the source.
//!
//! serde-saphyr does the parsing. We deserialise into `Spanned<RawNode>` (its span-aware
//! wrapper), with duplicate keys passed through so that we can report both lines ourselves.
//! Two deliberate departures from serde-saphyr's defaults, both to read values the way Ansible
//! (PyYAML, YAML 1.1) does:
//! - booleans: serde-saphyr also reads `y`, `n` and any casing of yes/no/on/off as booleans;
//!   PyYAML only reads `yes Yes YES no No NO on On ON off Off OFF true True TRUE false False
//!   FALSE`. We look at the source text of each boolean and turn the others back into strings.
//! - numbers with a leading zero (`0644`, `010`) stay strings instead of becoming floats, so the
//!   operator's text survives (PyYAML would read octal; neither guess is worth making silently).

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{DuplicateKeyPolicy, Location, MessageFormatter, Spanned, Tagged};

use super::error::InputError;
use super::pos::Pos;

/// The position saphyr gives, as a [`Pos`] (its start when saphyr does not know).
fn pos_of(location: &Location) -> Pos {
    if *location == Location::UNKNOWN {
        return Pos::START;
    }
    Pos {
        line: usize::try_from(location.line()).unwrap_or(usize::MAX),
        column: usize::try_from(location.column()).unwrap_or(usize::MAX),
    }
}

/// A YAML value with its position.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub kind: NodeKind,
    pub pos: Pos,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum NodeKind {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Seq(Vec<Node>),
    /// Entries in source order; duplicates are kept (and reported by [`duplicate_keys`]).
    Map(Vec<Entry>),
    /// A value tagged `!vault`: Ansible Vault's text, still encrypted (the inventory decrypts
    /// it when it has the vault password).
    Vault(String),
}

/// One `key: value` pair of a YAML map.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub key: String,
    pub key_pos: Pos,
    pub value: Node,
}

impl Node {
    /// The value as JSON, the form variables are kept in for templates. A duplicated key keeps
    /// its last value; the duplicate itself is reported separately.
    pub(crate) fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match &self.kind {
            NodeKind::Null => Value::Null,
            NodeKind::Bool(b) => Value::Bool(*b),
            NodeKind::Number(n) => Value::Number(n.clone()),
            NodeKind::String(s) => Value::String(s.clone()),
            NodeKind::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            NodeKind::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|e| (e.key.clone(), e.value.to_json()))
                    .collect(),
            ),
            // As ansible-inventory shows a value it has not decrypted.
            NodeKind::Vault(text) => serde_json::json!({ VAULT_KEY: text }),
        }
    }

    /// Rebuilds a node from a merged variable's value; every part gets the variable's position,
    /// the finest we still know once values are merged.
    pub(crate) fn from_json(value: &serde_json::Value, pos: Pos) -> Self {
        use serde_json::Value;
        let kind = match value {
            Value::Null => NodeKind::Null,
            Value::Bool(b) => NodeKind::Bool(*b),
            Value::Number(n) => NodeKind::Number(n.clone()),
            Value::String(s) => NodeKind::String(s.clone()),
            Value::Array(items) => {
                NodeKind::Seq(items.iter().map(|v| Node::from_json(v, pos)).collect())
            }
            Value::Object(map) => NodeKind::Map(
                map.iter()
                    .map(|(k, v)| Entry {
                        key: k.clone(),
                        key_pos: pos,
                        value: Node::from_json(v, pos),
                    })
                    .collect(),
            ),
        };
        Node { kind, pos }
    }

    /// How the value reads in an error message: `the string "x"`, `a list`, ...
    pub(crate) fn describe(&self) -> String {
        match &self.kind {
            NodeKind::Null => "nothing (null)".to_owned(),
            NodeKind::Bool(b) => format!("the boolean {b}"),
            NodeKind::Number(n) => format!("the number {n}"),
            NodeKind::String(s) => format!("the string {s:?}"),
            NodeKind::Seq(_) => "a list".to_owned(),
            NodeKind::Map(_) => "a map".to_owned(),
            NodeKind::Vault(_) => "a vault-encrypted value".to_owned(),
        }
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::String(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn is_null(&self) -> bool {
        matches!(self.kind, NodeKind::Null)
    }
}

/// Parses one YAML file. A syntax error stops this file (nothing after it can be trusted) and
/// is reported at serde-saphyr's position, keyed by the nearest enclosing key we can name.
pub(crate) fn parse(file: &Path, text: &str) -> Result<Node, InputError> {
    let options = serde_saphyr::options! {
        duplicate_keys: DuplicateKeyPolicy::PassThrough,
        leading_zero_numbers_as_strings: true,
        with_snippet: false,
    };
    match serde_saphyr::from_str_with_options::<Spanned<Tagged<RawNode>>>(text, options) {
        Ok(root) => Ok(convert(root, text)),
        Err(error) => Err(syntax_error(file, text, &error)),
    }
}

fn syntax_error(file: &Path, text: &str, error: &serde_saphyr::Error) -> InputError {
    let pos = error.location().map_or(Pos::START, |l| pos_of(&l));
    let message = match error.without_snippet() {
        // serde-saphyr's own wording for these two speaks to Rust developers, not operators.
        serde_saphyr::Error::MultipleDocuments { .. } => {
            "a relayctl YAML file holds a single YAML document; remove the extra `---`".to_owned()
        }
        serde_saphyr::Error::NullIntoString { .. } => {
            "a key cannot be empty or null; name it, or quote it if `~`/`null` is meant literally"
                .to_owned()
        }
        other => {
            let text = serde_saphyr::DefaultMessageFormatter.format_message(other);
            // The formatter's contract: we must neutralise control characters ourselves.
            let text: String = text
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect();
            format!("invalid YAML: {text}")
        }
    };
    InputError::at(file, pos, nearest_key(text, pos), message)
}

/// The dotted path of the keys whose values enclose `pos`, found by replaying the parser's
/// events up to that point: the best name we can give to a place where parsing failed.
fn nearest_key(text: &str, pos: Pos) -> String {
    use serde_saphyr::granit_parser::{Event, Parser};

    enum Frame {
        /// `key` is the last key read; `in_value` is true while its value is being read.
        Map {
            key: Option<String>,
            in_value: bool,
        },
        Seq,
    }

    fn node_read(stack: &mut [Frame], key_text: Option<&str>) {
        if let Some(Frame::Map { key, in_value }) = stack.last_mut() {
            if *in_value {
                *in_value = false;
            } else {
                *key = Some(key_text.unwrap_or("?").to_owned());
                *in_value = true;
            }
        }
    }

    let mut stack: Vec<Frame> = Vec::new();
    for item in Parser::new_from_str(text) {
        let Ok((event, span)) = item else { break };
        let at = Pos {
            line: span.start.line(),
            column: span.start.col() + 1,
        };
        if at >= pos {
            break;
        }
        match event {
            Event::Scalar(value, ..) => node_read(&mut stack, Some(&value)),
            Event::Alias(_) => node_read(&mut stack, None),
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                // A container that is a key (rare, complex keys) is named `?`.
                if let Some(Frame::Map {
                    key,
                    in_value: false,
                }) = stack.last_mut()
                {
                    *key = Some("?".to_owned());
                }
                if let Some(Frame::Map { in_value, .. }) = stack.last_mut() {
                    *in_value = true;
                }
                stack.push(if matches!(event, Event::MappingStart(..)) {
                    Frame::Map {
                        key: None,
                        in_value: false,
                    }
                } else {
                    Frame::Seq
                });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                stack.pop();
                if let Some(Frame::Map { in_value, .. }) = stack.last_mut() {
                    *in_value = false;
                }
            }
            _ => {}
        }
    }
    let path: Vec<&str> = stack
        .iter()
        .filter_map(|frame| match frame {
            Frame::Map {
                key: Some(key),
                in_value: true,
            } => Some(key.as_str()),
            _ => None,
        })
        .collect();
    if path.is_empty() {
        TOP_LEVEL.to_owned()
    } else {
        path.join(".")
    }
}

/// The key under which Ansible's JSON holds a vault-encrypted value.
pub(crate) const VAULT_KEY: &str = "__ansible_vault";

/// The key used for problems about the document as a whole.
pub(crate) const TOP_LEVEL: &str = "(top level)";

/// Reports every key written twice in the same map, anywhere in the tree, naming both lines.
/// (serde-saphyr would stop at the first and name only the second occurrence.)
pub(crate) fn duplicate_keys(file: &Path, root: &Node, path: &str, errors: &mut Vec<InputError>) {
    match &root.kind {
        NodeKind::Map(entries) => {
            let mut first: HashMap<&str, Pos> = HashMap::new();
            for entry in entries {
                let key_path = join(path, &entry.key);
                if let Some(earlier) = first.get(entry.key.as_str()) {
                    errors.push(InputError::at(
                        file,
                        entry.key_pos,
                        key_path.clone(),
                        format!(
                            "duplicate key: {:?} is already defined at line {}, column {} of the same map; \
                             YAML keeps only one of them, so merge the two entries",
                            entry.key, earlier.line, earlier.column
                        ),
                    ));
                } else {
                    first.insert(&entry.key, entry.key_pos);
                }
                duplicate_keys(file, &entry.value, &key_path, errors);
            }
        }
        NodeKind::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                duplicate_keys(file, item, &format!("{path}[{i}]"), errors);
            }
        }
        _ => {}
    }
}

/// `parent.child`, or `child` at the top.
pub(crate) fn join(parent: &str, child: &str) -> String {
    if parent.is_empty() {
        child.to_owned()
    } else {
        format!("{parent}.{child}")
    }
}

/// What serde-saphyr hands us: any YAML value, keys as strings, each part with its span.
enum RawNode {
    Null,
    Bool(bool),
    Signed(i64),
    Unsigned(u64),
    Float(f64),
    String(String),
    Seq(Vec<Spanned<Tagged<RawNode>>>),
    Map(Vec<(Spanned<String>, Spanned<Tagged<RawNode>>)>),
}

impl<'de> Deserialize<'de> for RawNode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RawVisitor;

        impl<'de> Visitor<'de> for RawVisitor {
            type Value = RawNode;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any YAML value")
            }
            fn visit_unit<E: de::Error>(self) -> Result<RawNode, E> {
                Ok(RawNode::Null)
            }
            fn visit_none<E: de::Error>(self) -> Result<RawNode, E> {
                Ok(RawNode::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<RawNode, D::Error> {
                RawNode::deserialize(d)
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<RawNode, E> {
                Ok(RawNode::Bool(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawNode, E> {
                Ok(RawNode::Signed(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawNode, E> {
                Ok(RawNode::Unsigned(v))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawNode, E> {
                Ok(RawNode::Float(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawNode, E> {
                Ok(RawNode::String(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<RawNode, E> {
                Ok(RawNode::String(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawNode, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(RawNode::Seq(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawNode, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(RawNode::Map(entries))
            }
        }

        deserializer.deserialize_any(RawVisitor)
    }
}

/// PyYAML's (YAML 1.1) boolean spellings: the ones Ansible reads as booleans.
const PYYAML_BOOLEANS: [&str; 18] = [
    "yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE", "on",
    "On", "ON", "off", "Off", "OFF",
];

fn convert(raw: Spanned<Tagged<RawNode>>, text: &str) -> Node {
    let pos = pos_of(&raw.referenced);
    let Tagged(value, tag) = raw.value;
    let kind = match value {
        // Ansible's tag for a vault-encrypted value; any other tag leaves the value as it is.
        RawNode::String(s) if tag.as_deref() == Some("!vault") => NodeKind::Vault(s),
        RawNode::Null => NodeKind::Null,
        RawNode::Bool(b) => match source_text(&raw.defined, text) {
            Some(written) if !PYYAML_BOOLEANS.contains(&written) && is_plain_word(written) => {
                NodeKind::String(written.to_owned())
            }
            _ => NodeKind::Bool(b),
        },
        RawNode::Signed(n) => NodeKind::Number(n.into()),
        RawNode::Unsigned(n) => NodeKind::Number(n.into()),
        RawNode::Float(f) => match serde_json::Number::from_f64(f) {
            Some(n) => NodeKind::Number(n),
            // JSON has no NaN or infinity: keep what was written.
            None => NodeKind::String(
                source_text(&raw.defined, text).map_or_else(|| f.to_string(), str::to_owned),
            ),
        },
        RawNode::String(s) => NodeKind::String(s),
        RawNode::Seq(items) => {
            NodeKind::Seq(items.into_iter().map(|item| convert(item, text)).collect())
        }
        RawNode::Map(entries) => NodeKind::Map(
            entries
                .into_iter()
                .map(|(key, value)| Entry {
                    key_pos: pos_of(&key.referenced),
                    key: key.value,
                    value: convert(value, text),
                })
                .collect(),
        ),
    };
    Node { kind, pos }
}

/// The exact source text of a scalar, when serde-saphyr knows its byte range.
fn source_text<'t>(location: &Location, text: &'t str) -> Option<&'t str> {
    let span = location.span();
    let start = usize::try_from(span.byte_offset()?).ok()?;
    let len = usize::try_from(span.byte_len()?).ok()?;
    text.get(start..start.checked_add(len)?)
}

/// Guards the boolean correction: only a bare word (not a tagged or odd span) is rewritten.
fn is_plain_word(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphabetic())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse_ok(text: &str) -> Node {
        parse(Path::new("t.yaml"), text).expect("valid YAML")
    }

    fn render(text: &str) -> String {
        parse(Path::new("inventories/site.yaml"), text)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn booleans_follow_pyyaml_not_yaml_1_1_extensions() {
        let node = parse_ok("a: yes\nb: n\nc: Y\nd: off\ne: 'no'\nf: yEs\ng: TRUE\n");
        assert_eq!(
            node.to_json(),
            json!({"a": true, "b": "n", "c": "Y", "d": false, "e": "no", "f": "yEs", "g": true})
        );
    }

    #[test]
    fn a_vault_tagged_value_is_kept_encrypted_and_other_tags_are_ignored() {
        let node = parse_ok(
            "a: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6162\nb: !unsafe '{{ x }}'\nc: [!vault x]\n",
        );
        assert_eq!(
            node.to_json(),
            json!({
                "a": {"__ansible_vault": "$ANSIBLE_VAULT;1.1;AES256\n6162\n"},
                "b": "{{ x }}",
                "c": [{"__ansible_vault": "x"}],
            })
        );
    }

    #[test]
    fn leading_zero_numbers_stay_strings() {
        let node = parse_ok("mode: 0644\nport: 22\nratio: 1.5\nneg: -3\n");
        assert_eq!(
            node.to_json(),
            json!({"mode": "0644", "port": 22, "ratio": 1.5, "neg": -3})
        );
    }

    #[test]
    fn keys_and_values_carry_their_positions() {
        let node = parse_ok("all:\n  vars:\n    relay_type: classic\n");
        let NodeKind::Map(top) = &node.kind else {
            panic!("map")
        };
        let NodeKind::Map(all) = &top[0].value.kind else {
            panic!("map")
        };
        let NodeKind::Map(vars) = &all[0].value.kind else {
            panic!("map")
        };
        assert_eq!(vars[0].key_pos, Pos { line: 3, column: 5 });
        assert_eq!(
            vars[0].value.pos,
            Pos {
                line: 3,
                column: 17
            }
        );
    }

    #[test]
    fn anchors_and_merge_keys_are_resolved() {
        let node = parse_ok("base: &b\n  x: 1\nother:\n  <<: *b\n  y_: 2\n");
        assert_eq!(
            node.to_json(),
            json!({"base": {"x": 1}, "other": {"x": 1, "y_": 2}})
        );
    }

    #[test]
    fn syntax_error_names_position_and_nearest_key() {
        assert_eq!(
            render("all:\n  hosts:\n    relay01:\n      a: [1, 2\n    relay02:\n"),
            "inventories/site.yaml:5:12: all.hosts.relay01.a: invalid YAML: illegal placement of ':' indicator"
        );
        assert_eq!(
            render("all:\n  vars:\n    a: 1\n   b: 2\n"),
            "inventories/site.yaml:4:4: all.vars: invalid YAML: while parsing a block mapping, did not find expected key"
        );
    }

    #[test]
    fn tab_indentation_is_a_syntax_error_at_the_tab() {
        assert_eq!(
            render("all:\n\thosts:\n"),
            "inventories/site.yaml:2:2: all: invalid YAML: tabs disallowed within this context (block indentation)"
        );
    }

    #[test]
    fn second_document_and_null_key_get_operator_wording() {
        assert_eq!(
            render("all: {}\n---\nb: 2\n"),
            "inventories/site.yaml:3:1: (top level): a relayctl YAML file holds a single YAML document; remove the extra `---`"
        );
        assert_eq!(
            render("all:\n  vars:\n    ~: x\n"),
            "inventories/site.yaml:3:5: all.vars: a key cannot be empty or null; name it, or quote it if `~`/`null` is meant literally"
        );
    }

    #[test]
    fn duplicate_keys_name_both_lines() {
        let file = Path::new("site.yaml");
        let node =
            parse_ok("all:\n  hosts:\n    relay01:\n    relay02:\n    relay01:\n      x: 1\n");
        let mut errors = Vec::new();
        duplicate_keys(file, &node, "", &mut errors);
        let rendered: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            rendered,
            [
                "site.yaml:5:5: all.hosts.relay01: duplicate key: \"relay01\" is already defined at line 3, column 5 \
              of the same map; YAML keeps only one of them, so merge the two entries"
            ]
        );
    }
}
