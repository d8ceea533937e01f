//! Module arguments: each module declares its arguments ([`ArgSpec`]), which the role loader
//! checks before any host is contacted (unknown and missing arguments, literal values of the
//! wrong type), and which are read, once rendered for a host, through typed getters
//! ([`Rendered`]) whose errors name the argument.

use std::collections::BTreeMap;

use serde_json::Value;

use super::accounts;
use super::firewall::flows;
use crate::input::text;

/// The `state` choices of a module that makes a thing exist or not (see [`Rendered::present`]).
pub const PRESENT_ABSENT: &[&str] = &["present", "absent"];
/// One argument of a module.
#[derive(Clone, Copy, Debug)]
pub struct ArgSpec {
    pub name: &'static str,
    pub kind: ArgKind,
    pub required: bool,
}

impl ArgSpec {
    pub const fn required(name: &'static str, kind: ArgKind) -> Self {
        ArgSpec {
            name,
            kind,
            required: true,
        }
    }

    pub const fn optional(name: &'static str, kind: ArgKind) -> Self {
        ArgSpec {
            name,
            kind,
            required: false,
        }
    }
}

/// The type of an argument's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgKind {
    /// One line of text; numbers and booleans are taken as their text (`value: 31541`). No
    /// control character: a carriage return or U+0085 ends a line for systemd and others, and
    /// forges a line that was never written.
    Str,
    /// Text of several lines (a file's content): newlines and tabs, no other control character.
    Text,
    /// Text without white space or control characters (unit names, file names).
    Word,
    /// A user or group name by Debian's rule ([`accounts::check_name`]): a file's owner or group,
    /// a group to create.
    Account,
    /// An account relayctl creates, gives a password and grants sudo to: not `ALL`, `root` or a
    /// system account ([`accounts::check_managed_user`]).
    ManagedUser,
    /// Ansible's booleans: true/false, yes/no, on/off, 1/0.
    Bool,
    Int,
    /// Octal permissions written as a string (`"0644"`).
    Mode,
    /// An absolute path on the host.
    AbsPath,
    /// One of these words.
    Choice(&'static [&'static str]),
    /// A list of words, or one word.
    WordList,
    /// A list of user or group names, or one.
    AccountList,
    /// A list of lines of text, or one.
    TextList,
    /// One expression or a list of them, evaluated by the engine (`assert`'s `that`).
    Expressions,
    /// A list of flows to open in a firewall ([`super::firewall::flows`]).
    Flows,
}

impl ArgKind {
    /// Checks a value (literal, or rendered for a host); the error is a message about the value.
    pub fn check(self, value: &Value) -> Result<(), String> {
        match self {
            ArgKind::Str => line(value).map(drop),
            ArgKind::Text => text(value).map(drop),
            ArgKind::Word => word(value).map(drop),
            ArgKind::Account => account(value).map(drop),
            ArgKind::ManagedUser => managed_user(value).map(drop),
            ArgKind::Bool => boolean(value).map(drop),
            ArgKind::Int => integer(value).map(drop),
            ArgKind::Mode => mode(value).map(drop),
            ArgKind::AbsPath => abs_path(value).map(drop),
            ArgKind::Choice(choices) => choice(value, choices).map(drop),
            ArgKind::WordList => word_list(value).map(drop),
            ArgKind::AccountList => account_list(value).map(drop),
            ArgKind::TextList => text_list(value).map(drop),
            ArgKind::Expressions => expressions(value).map(drop),
            ArgKind::Flows => flows::parse(value).map(drop),
        }
    }
}

/// A wrong argument: which one and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("argument {arg}: {message}")]
pub struct ArgError {
    pub arg: String,
    pub message: String,
}

impl ArgError {
    pub fn new(arg: &str, message: impl Into<String>) -> Self {
        ArgError {
            arg: arg.to_string(),
            message: message.into(),
        }
    }
}

/// A task's arguments rendered for one host; `null` counts as absent, as Ansible's `omit`.
#[derive(Clone, Debug, Default)]
pub struct Rendered {
    values: BTreeMap<&'static str, Value>,
}

impl Rendered {
    pub fn new(values: BTreeMap<&'static str, Value>) -> Self {
        Rendered {
            values: values.into_iter().filter(|(_, v)| !v.is_null()).collect(),
        }
    }

    pub fn has(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }

    fn with<T>(
        &self,
        name: &str,
        read: impl Fn(&Value) -> Result<T, String>,
    ) -> Result<Option<T>, ArgError> {
        self.values
            .get(name)
            .map(|v| read(v).map_err(|m| ArgError::new(name, m)))
            .transpose()
    }

    fn required<T>(&self, name: &str, value: Option<T>) -> Result<T, ArgError> {
        value.ok_or_else(|| ArgError::new(name, "is required"))
    }

    pub fn opt_str(&self, name: &str) -> Result<Option<String>, ArgError> {
        self.with(name, text)
    }

    pub fn str(&self, name: &str) -> Result<String, ArgError> {
        let value = self.opt_str(name)?;
        self.required(name, value)
    }

    pub fn word(&self, name: &str) -> Result<String, ArgError> {
        let value = self.with(name, word)?;
        self.required(name, value)
    }

    pub fn opt_word(&self, name: &str) -> Result<Option<String>, ArgError> {
        self.with(name, word)
    }

    pub fn bool_or(&self, name: &str, default: bool) -> Result<bool, ArgError> {
        Ok(self.with(name, boolean)?.unwrap_or(default))
    }

    pub fn opt_bool(&self, name: &str) -> Result<Option<bool>, ArgError> {
        self.with(name, boolean)
    }

    pub fn opt_int(&self, name: &str) -> Result<Option<i64>, ArgError> {
        self.with(name, integer)
    }

    pub fn opt_mode(&self, name: &str) -> Result<Option<u32>, ArgError> {
        self.with(name, mode)
    }

    pub fn abs_path(&self, name: &str) -> Result<String, ArgError> {
        let value = self.with(name, abs_path)?;
        self.required(name, value)
    }

    pub fn opt_abs_path(&self, name: &str) -> Result<Option<String>, ArgError> {
        self.with(name, abs_path)
    }

    /// The `state` of a module that makes a thing exist or not ([`PRESENT_ABSENT`]): whether it
    /// must be present, as it must when the argument is absent.
    pub fn present(&self) -> Result<bool, ArgError> {
        Ok(self.choice_or("state", PRESENT_ABSENT, "present")? == "present")
    }

    /// One of `choices`, `default` when absent.
    pub fn choice_or(
        &self,
        name: &str,
        choices: &[&str],
        default: &str,
    ) -> Result<String, ArgError> {
        Ok(self
            .with(name, |v| choice(v, choices))?
            .unwrap_or_else(|| default.to_string()))
    }

    pub fn word_list(&self, name: &str) -> Result<Vec<String>, ArgError> {
        Ok(self.with(name, word_list)?.unwrap_or_default())
    }

    pub fn text_list(&self, name: &str) -> Result<Vec<String>, ArgError> {
        Ok(self.with(name, text_list)?.unwrap_or_default())
    }

    /// The flows to open; none when absent.
    pub(crate) fn flows(&self, name: &str) -> Result<Vec<flows::Flow>, ArgError> {
        Ok(self.with(name, flows::parse)?.unwrap_or_default())
    }
}

fn describe(value: &Value) -> String {
    match value {
        Value::Null => "nothing (null)".into(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the string {s:?}"),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a map".into(),
    }
}

/// Text of several lines.
fn text(value: &Value) -> Result<String, String> {
    let s = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => return Err(format!("expected text, found {}", describe(other))),
    };
    match text::forbidden_in_text(&s) {
        Some(c) => Err(format!("{s:?} holds {}: {CONTROL}", text::describe(c))),
        None => Ok(s),
    }
}

/// One line of text.
fn line(value: &Value) -> Result<String, String> {
    let s = text(value)?;
    match text::forbidden_in_line(&s) {
        Some(c) => Err(format!("{s:?} holds {}: {CONTROL}", text::describe(c))),
        None => Ok(s),
    }
}

/// Why a control character is refused, in every message that refuses one.
const CONTROL: &str =
    "a value may hold no control character (it could end a line and forge the next)";

fn word(value: &Value) -> Result<String, String> {
    let s = line(value)?;
    if s.is_empty() || s.chars().any(char::is_whitespace) {
        return Err(format!("expected a single word, found {s:?}"));
    }
    Ok(s)
}

fn account(value: &Value) -> Result<String, String> {
    let s = line(value)?;
    accounts::check_name(&s)?;
    Ok(s)
}

fn managed_user(value: &Value) -> Result<String, String> {
    let s = line(value)?;
    accounts::check_managed_user(&s)?;
    Ok(s)
}

fn boolean(value: &Value) -> Result<bool, String> {
    let parsed = match value {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => match n.as_i64() {
            Some(1) => Some(true),
            Some(0) => Some(false),
            _ => None,
        },
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" | "1" => Some(true),
            "false" | "no" | "off" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    };
    parsed.ok_or_else(|| format!("expected true or false, found {}", describe(value)))
}

fn integer(value: &Value) -> Result<i64, String> {
    match value {
        Value::Number(n) if n.is_i64() => Ok(n.as_i64().unwrap_or_default()),
        Value::String(s) if s.trim().parse::<i64>().is_ok() => {
            Ok(s.trim().parse().unwrap_or_default())
        }
        other => Err(format!(
            "expected a whole number, found {}",
            describe(other)
        )),
    }
}

/// Octal permissions. A YAML number is refused: `644` would be read as decimal, the classic
/// Ansible trap; `0644` (which the YAML reader keeps as text) and `"644"` are octal.
fn mode(value: &Value) -> Result<u32, String> {
    let Value::String(s) = value else {
        return Err(format!(
            "expected octal permissions as a quoted string such as \"0644\", found {}",
            describe(value)
        ));
    };
    let digits = s.trim();
    if (3..=4).contains(&digits.len()) && digits.chars().all(|c| ('0'..='7').contains(&c)) {
        return u32::from_str_radix(digits, 8).map_err(|e| e.to_string());
    }
    Err(format!(
        "expected octal permissions such as \"0644\", found {s:?}"
    ))
}

fn abs_path(value: &Value) -> Result<String, String> {
    let s = line(value)?;
    if !s.starts_with('/') {
        return Err(format!(
            "expected an absolute path on the host, found {s:?}"
        ));
    }
    Ok(s)
}

fn choice(value: &Value, choices: &[&str]) -> Result<String, String> {
    let s = text(value)?;
    if choices.contains(&s.as_str()) {
        Ok(s)
    } else {
        Err(format!(
            "expected one of {}, found {s:?}{}",
            choices.join(", "),
            crate::input::suggest::hint(&s, choices.iter().copied())
        ))
    }
}

fn word_list(value: &Value) -> Result<Vec<String>, String> {
    match value {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| word(item).map_err(|m| format!("[{i}]: {m}")))
            .collect(),
        single => Ok(vec![word(single)?]),
    }
}

fn account_list(value: &Value) -> Result<Vec<String>, String> {
    match value {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| account(item).map_err(|m| format!("[{i}]: {m}")))
            .collect(),
        single => Ok(vec![account(single)?]),
    }
}

fn text_list(value: &Value) -> Result<Vec<String>, String> {
    match value {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| line(item).map_err(|m| format!("[{i}]: {m}")))
            .collect(),
        single => Ok(vec![line(single)?]),
    }
}

fn expressions(value: &Value) -> Result<Vec<String>, String> {
    text_list(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn modes_are_octal_strings_and_a_bare_number_is_refused() {
        assert_eq!(mode(&json!("0644")), Ok(0o644));
        assert_eq!(mode(&json!("440")), Ok(0o440));
        assert!(mode(&json!(644)).unwrap_err().contains("quoted string"));
        assert!(mode(&json!("0648")).is_err());
        assert!(mode(&json!("u+rw")).is_err());
    }

    #[test]
    fn booleans_read_as_ansible_reads_them() {
        for yes in [
            json!(true),
            json!("yes"),
            json!("On"),
            json!(1),
            json!("true"),
        ] {
            assert_eq!(boolean(&yes), Ok(true), "{yes}");
        }
        for no in [json!(false), json!("no"), json!("OFF"), json!(0)] {
            assert_eq!(boolean(&no), Ok(false), "{no}");
        }
        assert!(boolean(&json!("maybe")).is_err());
    }

    #[test]
    fn choices_suggest_the_closest() {
        assert_eq!(
            choice(&json!("presnt"), &["present", "absent"]),
            Err("expected one of present, absent, found \"presnt\"; did you mean present?".into())
        );
    }

    #[test]
    fn null_arguments_are_absent() {
        let args = Rendered::new(BTreeMap::from([("a", json!(null)), ("b", json!("x"))]));
        assert!(!args.has("a"));
        assert_eq!(args.opt_str("a"), Ok(None));
        assert_eq!(args.str("a"), Err(ArgError::new("a", "is required")));
        assert_eq!(args.word_list("b"), Ok(vec!["x".to_string()]));
    }

    #[test]
    fn numbers_are_text_where_text_is_expected() {
        assert_eq!(text(&json!(31541)), Ok("31541".into()));
        assert!(word(&json!("two words")).is_err());
        assert!(abs_path(&json!("etc/passwd")).is_err());
    }
}
