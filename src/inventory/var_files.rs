//! `group_vars/` and `host_vars/` beside the inventory file, read as Ansible's `host_group_vars`
//! plugin reads them: for a group or host NAME, `NAME` (a file, or a directory of files),
//! `NAME.yml`, `NAME.yaml` or `NAME.json`. A directory is read recursively, files in lexical
//! order of their paths, hidden files and `*~` backups skipped, files with other extensions
//! (`README.md`) ignored; a later file overrides an earlier one.
//!
//! Two departures from Ansible, both to avoid silent surprises: when several of those forms
//! exist for one name (say `relays.yml` and `relays/`), Ansible reads only the first and ignores
//! the others, relayctl reports the ambiguity; an unreadable file is an error, not a warning.
//! Files naming no group or host of this inventory are ignored, as in Ansible: inventories that
//! share a directory (site.yaml, lab.yaml) may share `group_vars/`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::structure::Layout;
use super::vars::{Origin, VarDef};
use super::vault::{self, VaultSecrets};
use crate::input::Pos;
use crate::input::error::InputError;
use crate::input::files;
use crate::input::walk;
use crate::input::yaml::{self, NodeKind};
use crate::secret::MASK;

const EXTENSIONS: [&str; 3] = ["yml", "yaml", "json"];
const FILE_KEY: &str = "(file)";

/// Variables from the vars files, by group name and by host name, each list in file order.
#[derive(Debug, Default)]
pub(crate) struct VarFiles {
    pub groups: HashMap<String, Vec<VarDef>>,
    pub hosts: HashMap<String, Vec<VarDef>>,
}

/// Reads the vars files for every group and host of `layout` in each of `dirs`, in order: for
/// one group or host, the definitions of a later directory come after (and so win over) those
/// of an earlier one, as with Ansible's several inventory sources.
pub(crate) fn read(
    dirs: &[PathBuf],
    layout: &Layout,
    vault: &VaultSecrets,
    errors: &mut Vec<InputError>,
) -> VarFiles {
    let mut files = VarFiles::default();
    for dir in dirs {
        let groups = layout.groups.iter().map(|g| g.name.as_str());
        read_all(
            &dir.join("group_vars"),
            groups,
            &mut files.groups,
            vault,
            errors,
        );
        let hosts = layout.hosts.iter().map(|h| h.name.as_str());
        read_all(
            &dir.join("host_vars"),
            hosts,
            &mut files.hosts,
            vault,
            errors,
        );
    }
    files
}

/// The definitions of each of `names` in `dir`, after those already in `into`.
fn read_all<'n>(
    dir: &Path,
    names: impl Iterator<Item = &'n str>,
    into: &mut HashMap<String, Vec<VarDef>>,
    vault: &VaultSecrets,
    errors: &mut Vec<InputError>,
) {
    for name in names {
        let defs = read_entity(dir, name, vault, errors);
        if !defs.is_empty() {
            into.entry(name.to_owned()).or_default().extend(defs);
        }
    }
}

/// All definitions for one group or host, in file order.
fn read_entity(
    dir: &Path,
    name: &str,
    vault: &VaultSecrets,
    errors: &mut Vec<InputError>,
) -> Vec<VarDef> {
    if !dir.is_dir() {
        return Vec::new();
    }
    let candidates: Vec<PathBuf> = std::iter::once(dir.join(name))
        .chain(
            EXTENSIONS
                .iter()
                .map(|ext| dir.join(format!("{name}.{ext}"))),
        )
        .filter(|path| path.exists())
        .collect();
    let Some(chosen) = candidates.first() else {
        return Vec::new();
    };
    if let Some(other) = candidates.get(1) {
        errors.push(InputError::at(
            other,
            Pos::START,
            FILE_KEY,
            format!(
                "both {} and {} hold variables for {name}; Ansible would read only the first and silently ignore \
                 this one: merge them",
                chosen.display(),
                other.display()
            ),
        ));
    }
    let mut paths = Vec::new();
    if chosen.is_dir() {
        let walk = walk::files_below(chosen, &|name| name.ends_with('~'));
        errors.extend((walk.unreadable.iter()).map(|(dir, e)| files::unreadable_dir(dir, e)));
        paths.extend(
            walk.files
                .into_iter()
                .filter(|path| match path.extension() {
                    None => true,
                    Some(ext) => EXTENSIONS.iter().any(|e| ext == *e),
                }),
        );
    } else {
        paths.push(chosen.clone());
    }
    paths
        .iter()
        .flat_map(|path| read_file(path, vault, errors))
        .collect()
}

/// One vars file: a map of `name: value` (or nothing at all). A vault-encrypted file is
/// decrypted first, and each of its values is then a secret.
fn read_file(path: &Path, vault: &VaultSecrets, errors: &mut Vec<InputError>) -> Vec<VarDef> {
    let text = match files::read_text(path, files::VARS) {
        Ok(text) => text,
        Err(e) => {
            errors.push(files::unreadable(path, &e));
            return Vec::new();
        }
    };
    let (text, vaulted) = if vault::is_vault(&text) {
        match vault.decrypt(&text) {
            Ok(plain) => (plain.expose().to_owned(), true),
            Err(e) => {
                errors.push(InputError::at(path, Pos::START, FILE_KEY, e));
                return Vec::new();
            }
        }
    } else {
        (text, false)
    };
    let root = match yaml::parse(path, &text) {
        Ok(root) => root,
        Err(error) => {
            errors.push(error);
            return Vec::new();
        }
    };
    yaml::duplicate_keys(path, &root, "", errors);
    match root.kind {
        NodeKind::Null => Vec::new(),
        NodeKind::Map(entries) => entries
            .into_iter()
            .map(|entry| VarDef {
                origin: Origin::new(path, entry.key_pos),
                key: entry.key.clone(),
                name: entry.key,
                value: entry.value,
                listing: vaulted.then(|| serde_json::Value::String(MASK.to_owned())),
            })
            .collect(),
        _ => {
            errors.push(InputError::at(
                path,
                root.pos,
                yaml::TOP_LEVEL,
                format!(
                    "a vars file must be a map of `name: value`, found {}",
                    root.describe()
                ),
            ));
            Vec::new()
        }
    }
}
