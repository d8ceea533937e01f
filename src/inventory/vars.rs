//! Variables: free YAML values (kept as JSON for templates) that remember the file, line and
//! column they were defined at, so that a later check (sizing, templates, flows) can still
//! point the operator at the source.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::input::Pos;
use crate::input::yaml::Node;

/// Where a variable was defined: the position of its key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Origin {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
}

impl Origin {
    pub(crate) fn new(file: &Path, pos: Pos) -> Self {
        Self {
            file: file.to_path_buf(),
            line: pos.line,
            column: pos.column,
        }
    }

    pub(crate) fn pos(&self) -> Pos {
        Pos {
            line: self.line,
            column: self.column,
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

/// One variable's effective value for a host, and where that value came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Var {
    pub value: serde_json::Value,
    pub origin: Origin,
    /// What a listing shows instead of the value: set for a value Ansible Vault kept (the
    /// vault text as Ansible shows it, or the mask for a value of an encrypted file), so that
    /// a decrypted value is never shown. `None`: the value itself.
    #[serde(skip)]
    pub listing: Option<serde_json::Value>,
}

impl Var {
    /// Whether the value was decrypted from Ansible Vault: a secret.
    pub fn is_secret(&self) -> bool {
        self.listing.is_some()
    }

    /// The value as a listing shows it.
    pub fn listed(&self) -> &serde_json::Value {
        self.listing.as_ref().unwrap_or(&self.value)
    }
}

/// A host's variables after precedence has been applied, by name.
///
/// Serialises as a plain map of values (origins left out), the shape templates expect.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Vars(pub BTreeMap<String, Var>);

impl Vars {
    pub fn get(&self, name: &str) -> Option<&Var> {
        self.0.get(name)
    }

    pub fn value(&self, name: &str) -> Option<&serde_json::Value> {
        self.0.get(name).map(|var| &var.value)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    pub fn iter(&self) -> std::collections::btree_map::Iter<'_, String, Var> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The values alone, as one JSON object (for a template context).
    pub fn to_json(&self) -> serde_json::Map<String, serde_json::Value> {
        self.0
            .iter()
            .map(|(name, var)| (name.clone(), var.value.clone()))
            .collect()
    }

    /// The variables these definitions give, a later one winning.
    pub(crate) fn from_defs<'d>(defs: impl IntoIterator<Item = &'d VarDef>) -> Self {
        let mut vars = Vars::default();
        for def in defs {
            vars.set(def);
        }
        vars
    }

    pub(crate) fn set(&mut self, def: &VarDef) {
        self.0.insert(
            def.name.clone(),
            Var {
                value: def.value.to_json(),
                origin: def.origin.clone(),
                listing: def.listing.clone(),
            },
        );
    }
}

impl Serialize for Vars {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(name, var)| (name, &var.value)))
    }
}

impl<'a> IntoIterator for &'a Vars {
    type Item = (&'a String, &'a Var);
    type IntoIter = std::collections::btree_map::Iter<'a, String, Var>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// One definition of a variable as written (a group's `vars:`, a host entry, a vars file),
/// before precedence picks the winner for each host.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct VarDef {
    pub name: String,
    pub value: Node,
    /// Position of the key.
    pub origin: Origin,
    /// Dotted YAML path of the key in its file, for error messages.
    pub key: String,
    /// For a value decrypted from Ansible Vault: what a listing shows instead (see [`Var`]).
    pub listing: Option<serde_json::Value>,
}
