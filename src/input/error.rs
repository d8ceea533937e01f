//! Input errors: every problem names the file, line, column and key it is about, so an
//! operator can jump straight to it. Validation collects all problems before reporting.

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

use super::pos::Pos;
use super::text;

/// One problem found in an input file (an inventory, a `group_vars`/`host_vars` file, a role file) or
/// in a command-line value (a `--limit` pattern, an `-e` variable).
///
/// Rendered as `FILE:LINE:COLUMN: KEY: MESSAGE`. `key` is the dotted YAML path of the offending
/// node (`all.children.relays.hosts.relay01.relay_type`), or `HOST.VAR` when a host lacks a
/// variable, or the pattern term for `--limit` problems (whose `file` is `--limit`).
///
/// A control character in any part (a host name, a value quoted in the message) is shown
/// escaped (`\u{1b}`): an error is one line, and never steers the operator's terminal.
#[derive(Debug, Clone, PartialEq, Eq, Hash, thiserror::Error)]
#[error(
    "{}:{line}:{column}: {}: {}",
    text::escaped(&file.display().to_string()),
    text::escaped(key),
    text::escaped(message)
)]
pub struct InputError {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub key: String,
    pub message: String,
}

impl InputError {
    pub(crate) fn at(
        file: &Path,
        pos: Pos,
        key: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            file: file.to_path_buf(),
            line: pos.line,
            column: pos.column,
            key: key.into(),
            message: message.into(),
        }
    }
}

/// Every problem found in one pass, in file order then line order. Never empty when returned
/// as an error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct InputErrors(pub Vec<InputError>);

impl InputErrors {
    pub fn iter(&self) -> std::slice::Iter<'_, InputError> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Deduplicates and orders problems, or returns `Ok(())` when there are none.
    ///
    /// Duplicates arise because a value defined once (say in `all.vars`) is checked again for
    /// every host that inherits it; the operator must see it once. Files keep the order in which
    /// they first produced a problem (the inventory first), lines ascend within a file.
    pub(crate) fn finish(errors: Vec<InputError>) -> Result<(), Self> {
        if errors.is_empty() {
            return Ok(());
        }
        let mut seen = HashSet::new();
        let mut unique: Vec<InputError> = errors
            .into_iter()
            .filter(|e| seen.insert(e.clone()))
            .collect();
        let mut file_rank: Vec<PathBuf> = Vec::new();
        for error in &unique {
            if !file_rank.contains(&error.file) {
                file_rank.push(error.file.clone());
            }
        }
        unique.sort_by_key(|e| {
            let rank = file_rank
                .iter()
                .position(|f| *f == e.file)
                .unwrap_or(usize::MAX);
            (rank, e.line, e.column)
        });
        Err(Self(unique))
    }
}

impl From<InputError> for InputErrors {
    fn from(error: InputError) -> Self {
        Self(vec![error])
    }
}

impl IntoIterator for InputErrors {
    type Item = InputError;
    type IntoIter = std::vec::IntoIter<InputError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a InputErrors {
    type Item = &'a InputError;
    type IntoIter = std::slice::Iter<'a, InputError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// One problem per line, so a terminal, a CI log and `grep` all read it the same way.
impl fmt::Display for InputErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(file: &str, line: usize, message: &str) -> InputError {
        InputError::at(Path::new(file), Pos { line, column: 3 }, "k", message)
    }

    #[test]
    fn renders_file_line_column_key_and_message() {
        let e = err(
            "inventories/site.yaml",
            12,
            "expected one of classic, dmz, found \"clasic\"",
        );
        assert_eq!(
            e.to_string(),
            "inventories/site.yaml:12:3: k: expected one of classic, dmz, found \"clasic\""
        );
    }

    #[test]
    fn control_characters_are_shown_escaped() {
        let e = InputError::at(
            Path::new("inv\n.yaml"),
            Pos { line: 3, column: 5 },
            "all.hosts.relay\u{1b}c",
            "unknown variable x\ry",
        );
        assert_eq!(
            e.to_string(),
            "inv\\n.yaml:3:5: all.hosts.relay\\u{1b}c: unknown variable x\\ry"
        );
    }

    #[test]
    fn finish_dedupes_and_orders_by_file_of_first_problem_then_line() {
        let errors = vec![
            err("site.yaml", 9, "b"),
            err("group_vars/all.yaml", 2, "c"),
            err("site.yaml", 3, "a"),
            err("site.yaml", 9, "b"),
        ];
        let InputErrors(list) = InputErrors::finish(errors).unwrap_err();
        let lines: Vec<String> = list.iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            [
                "site.yaml:3:3: k: a",
                "site.yaml:9:3: k: b",
                "group_vars/all.yaml:2:3: k: c"
            ]
        );
    }

    #[test]
    fn finish_without_problems_is_ok() {
        assert_eq!(InputErrors::finish(Vec::new()), Ok(()));
    }
}
