//! The inventory sources a run is given (`-i`, several times, or several positional
//! arguments), read as ansible-core 2.19 reads them: a YAML file, an INI file, a directory of
//! inventories, or a comma-separated host list. Each becomes one or more documents (a tree of
//! groups, the shape of a YAML inventory) and the directory its `group_vars/` and `host_vars/`
//! are read from.
//!
//! A directory is read as Ansible reads one: every file below it, in order of their paths,
//! except hidden ones, `group_vars/`, `host_vars/` and `vars_plugins/`, and the extensions
//! Ansible ignores there (`.md`, `.txt`, `.cfg`, `.bak`, `~` ...); its own `group_vars/` and
//! `host_vars/` apply (not those of its subdirectories). A file is YAML when its extension is
//! `.yml`, `.yaml` or `.json`; otherwise it is INI when it reads as INI (a `[section]` or a host
//! line first), else YAML. A vault-encrypted file is decrypted first.
//!
//! What stays out is refused by name, never half-read: an inventory plugin's configuration
//! (`plugin: amazon.aws.aws_ec2`), an inventory script (`#!` first), a TOML inventory.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::ini;
use super::vault::{self, VaultSecrets};
use crate::input::Pos;
use crate::input::error::InputError;
use crate::input::files;
use crate::input::walk;
use crate::input::yaml::{self, Entry, Node, NodeKind};

const FILE_KEY: &str = "(file)";

/// Extensions Ansible skips in an inventory directory (`INVENTORY_IGNORE_EXTS`).
const IGNORED_EXTENSIONS: [&str; 12] = [
    ".pyc", ".pyo", ".swp", ".bak", "~", ".rpm", ".md", ".txt", ".rst", ".orig", ".cfg", ".retry",
];

/// The most bytes all the inventory files of a run may hold together: four files at their own
/// limit (`files::VARS`). A directory of 10 000 files of 8 MiB each would otherwise be parsed
/// whole, each tree kept, until the controller ran out of memory.
const MAX_TOTAL_BYTES: usize = 32 << 20;

/// Names Ansible never reads as inventories in a directory.
const IGNORED_NAMES: [&str; 3] = ["host_vars", "group_vars", "vars_plugins"];

/// How a document was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Yaml,
    Ini,
    HostList,
}

/// One inventory document: a tree of groups.
#[derive(Debug)]
pub(crate) struct Document {
    pub file: PathBuf,
    pub root: Node,
    pub format: Format,
    /// The file was vault-encrypted: every value in it is a secret.
    pub vaulted: bool,
}

/// What the sources hold.
#[derive(Debug, Default)]
pub(crate) struct Read {
    pub documents: Vec<Document>,
    /// The directories whose `group_vars/` and `host_vars/` apply, in order (a later one wins).
    pub var_dirs: Vec<PathBuf>,
}

/// Reads every source, in order; problems go to `errors`.
pub(crate) fn read(
    sources: &[PathBuf],
    vault: &VaultSecrets,
    errors: &mut Vec<InputError>,
) -> Read {
    let mut read = Read::default();
    let mut known = HashSet::new();
    let mut budget = MAX_TOTAL_BYTES;
    for source in sources {
        match std::fs::metadata(source) {
            Ok(metadata) if metadata.is_dir() => {
                let walk = walk::files_below(source, &ignored);
                errors
                    .extend((walk.unreadable.iter()).map(|(dir, e)| files::unreadable_dir(dir, e)));
                if walk.files.is_empty() && walk.unreadable.is_empty() {
                    errors.push(InputError::at(
                        source,
                        Pos::START,
                        FILE_KEY,
                        "this inventory directory holds no inventory file",
                    ));
                }
                for file in &walk.files {
                    read.documents
                        .extend(document(file, vault, &mut known, &mut budget, errors));
                }
                read.var_dirs.push(source.clone());
            }
            Ok(_) => {
                read.documents
                    .extend(document(source, vault, &mut known, &mut budget, errors));
                read.var_dirs
                    .push(source.parent().map(Path::to_path_buf).unwrap_or_default());
            }
            Err(_) if source.to_string_lossy().contains(',') => {
                read.documents.push(host_list(source));
            }
            Err(e) => errors.push(InputError::at(
                source,
                Pos::START,
                FILE_KEY,
                format!("cannot read the inventory: {e}"),
            )),
        }
    }
    // A directory named twice is read once, where it was named last: the same precedence.
    let mut seen = HashSet::new();
    let mut dirs: Vec<PathBuf> = read
        .var_dirs
        .iter()
        .rev()
        .filter(|dir| seen.insert((*dir).clone()))
        .cloned()
        .collect();
    dirs.reverse();
    read.var_dirs = dirs;
    read
}

fn ignored(name: &str) -> bool {
    IGNORED_NAMES.contains(&name) || IGNORED_EXTENSIONS.iter().any(|ext| name.ends_with(ext))
}

/// One file as a document; `known`: the groups earlier documents name, which an INI file may
/// name without declaring them, and to which this one's are added.
fn document(
    path: &Path,
    vault: &VaultSecrets,
    known: &mut HashSet<String>,
    budget: &mut usize,
    errors: &mut Vec<InputError>,
) -> Option<Document> {
    if *budget == 0 {
        // Said once, at the file that went past it.
        return None;
    }
    let document = read_document(path, vault, known, budget, errors)?;
    group_names(&document.root, known);
    Some(document)
}

/// Every group a document's tree names (its top-level keys, and the keys of `children:`).
fn group_names(root: &Node, names: &mut HashSet<String>) {
    let NodeKind::Map(groups) = &root.kind else {
        return;
    };
    for group in groups {
        names.insert(group.key.clone());
        if let NodeKind::Map(sections) = &group.value.kind {
            for section in sections.iter().filter(|s| s.key == "children") {
                group_names(&section.value, names);
            }
        }
    }
}

fn read_document(
    path: &Path,
    vault: &VaultSecrets,
    known: &HashSet<String>,
    budget: &mut usize,
    errors: &mut Vec<InputError>,
) -> Option<Document> {
    let refuse = |errors: &mut Vec<InputError>, message: String| {
        errors.push(InputError::at(path, Pos::START, FILE_KEY, message));
        None
    };
    let text = match files::read_text(path, files::VARS) {
        Ok(text) => text,
        Err(e) => return refuse(errors, format!("cannot read the inventory: {e}")),
    };
    if text.len() > *budget {
        *budget = 0;
        return refuse(
            errors,
            format!(
                "with this file the inventory's sources would hold more than {} MiB, more than relayctl reads \
                 for one inventory",
                MAX_TOTAL_BYTES >> 20
            ),
        );
    }
    *budget -= text.len();
    let extension = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    if extension.as_deref() == Some("toml") {
        return refuse(
            errors,
            "a TOML inventory: relayctl reads YAML and INI inventories; convert it once with \
             `ansible-inventory -i FILE --list --yaml > inventory.yaml`"
                .to_owned(),
        );
    }
    if text.starts_with("#!") {
        return refuse(
            errors,
            "an inventory script (it starts with #!): relayctl does not run inventory scripts; export its hosts \
             once with `ansible-inventory -i FILE --list --yaml > inventory.yaml`"
                .to_owned(),
        );
    }
    let (text, vaulted) = if vault::is_vault(&text) {
        match vault.decrypt(&text) {
            Ok(plain) => (plain.expose().to_owned(), true),
            Err(e) => return refuse(errors, e),
        }
    } else {
        (text, false)
    };
    let yaml_extension = matches!(extension.as_deref(), Some("yml" | "yaml" | "json"));
    if !yaml_extension && ini::looks_like_ini(&text) {
        return match ini::parse(&text, known) {
            Ok(root) => Some(Document {
                file: path.to_path_buf(),
                root,
                format: Format::Ini,
                vaulted,
            }),
            Err(problems) => {
                errors.extend(
                    problems
                        .into_iter()
                        .map(|p| InputError::at(path, p.pos, p.key, p.message)),
                );
                None
            }
        };
    }
    let root = match yaml::parse(path, &text) {
        Ok(root) => root,
        Err(error) => {
            errors.push(error);
            return None;
        }
    };
    if let NodeKind::Map(entries) = &root.kind
        && let Some(plugin) = entries.iter().find(|e| e.key == "plugin")
    {
        let name = plugin
            .value
            .as_str()
            .map_or_else(|| plugin.value.describe(), str::to_owned);
        errors.push(InputError::at(
            path,
            plugin.key_pos,
            "plugin",
            format!(
                "the configuration of the inventory plugin {name}: relayctl reads static inventories, it runs no \
                 inventory plugin; export the hosts once with `ansible-inventory -i FILE --list --yaml > inventory.yaml`"
            ),
        ));
        return None;
    }
    Some(Document {
        file: path.to_path_buf(),
        root,
        format: Format::Yaml,
        vaulted,
    })
}

/// `host1,host2:2222,` as Ansible's `host_list` plugin reads it: hosts of `ungrouped`.
fn host_list(source: &Path) -> Document {
    let text = source.to_string_lossy();
    let mut column = 1;
    let mut hosts = Vec::new();
    for item in text.split(',') {
        let name = item.trim();
        if !name.is_empty() {
            let pos = Pos { line: 1, column };
            hosts.push(Entry {
                key: name.to_owned(),
                key_pos: pos,
                value: Node {
                    kind: NodeKind::Null,
                    pos,
                },
            });
        }
        column += item.chars().count() + 1;
    }
    let node = |kind| Node {
        kind,
        pos: Pos::START,
    };
    let root = node(NodeKind::Map(vec![Entry {
        key: "ungrouped".to_owned(),
        key_pos: Pos::START,
        value: node(NodeKind::Map(vec![Entry {
            key: "hosts".to_owned(),
            key_pos: Pos::START,
            value: node(NodeKind::Map(hosts)),
        }])),
    }]));
    Document {
        file: source.to_path_buf(),
        root,
        format: Format::HostList,
        vaulted: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::write_file as write;

    fn messages(errors: &[InputError]) -> Vec<String> {
        errors.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_directory_is_every_inventory_file_below_it_in_order() {
        let dir = tempfile::tempdir().expect("temp dir");
        let base = dir.path();
        write(base, "20-web.ini", "[web]\nweb01\n");
        write(base, "10-all.yaml", "all:\n  hosts:\n    a:\n");
        write(base, "sub/hosts", "b\n");
        write(base, "README.md", "# not an inventory\n");
        write(base, ".hidden", "x\n");
        write(base, "group_vars/all.yml", "x: 1\n");
        let mut errors = Vec::new();
        let read = read(&[base.to_path_buf()], &VaultSecrets::default(), &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        let files: Vec<(String, Format)> = read
            .documents
            .iter()
            .map(|d| {
                (
                    d.file
                        .strip_prefix(base)
                        .expect("below")
                        .display()
                        .to_string(),
                    d.format,
                )
            })
            .collect();
        assert_eq!(
            files,
            [
                ("10-all.yaml".to_owned(), Format::Yaml),
                ("20-web.ini".to_owned(), Format::Ini),
                ("sub/hosts".to_owned(), Format::Ini),
            ]
        );
        assert_eq!(read.var_dirs, [base.to_path_buf()]);
    }

    #[test]
    fn plugins_scripts_and_toml_are_refused_by_name() {
        let dir = tempfile::tempdir().expect("temp dir");
        let base = dir.path();
        let plugin = write(
            base,
            "aws_ec2.yml",
            "plugin: amazon.aws.aws_ec2\nregions: [eu-west-3]\n",
        );
        let script = write(
            base,
            "inventory.py",
            "#!/usr/bin/env python3\nprint('{}')\n",
        );
        let toml = write(base, "hosts.toml", "[all.hosts]\n");
        let mut errors = Vec::new();
        read(
            &[plugin.clone(), script.clone(), toml.clone()],
            &VaultSecrets::default(),
            &mut errors,
        );
        let messages = messages(&errors);
        assert!(
            messages[0].starts_with(&format!(
                "{}:1:1: plugin: the configuration of the inventory plugin amazon.aws.aws_ec2: relayctl reads \
                 static inventories",
                plugin.display()
            )),
            "{messages:?}"
        );
        assert!(messages[1].contains("an inventory script"), "{messages:?}");
        assert!(messages[2].contains("a TOML inventory"), "{messages:?}");
    }

    #[test]
    fn a_host_list_and_an_encrypted_file() {
        let mut errors = Vec::new();
        let read_list = read(
            &[PathBuf::from("relay01,relay02:2222,")],
            &VaultSecrets::default(),
            &mut errors,
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            read_list.documents[0].root.to_json(),
            serde_json::json!({"ungrouped": {"hosts": {"relay01": null, "relay02:2222": null}}})
        );
        assert!(read_list.var_dirs.is_empty());

        let dir = tempfile::tempdir().expect("temp dir");
        // `ansible-vault encrypt` (vault password `vaultpw`) of "all:\n  hosts:\n    h1:\n".
        let file = write(
            dir.path(),
            "hosts.yml",
            super::super::vault::tests_support::ENCRYPTED_INVENTORY,
        );
        let read_vaulted = read(
            std::slice::from_ref(&file),
            &VaultSecrets::with_password("vaultpw"),
            &mut errors,
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert!(read_vaulted.documents[0].vaulted);
        assert_eq!(
            read_vaulted.documents[0].root.to_json(),
            serde_json::json!({"all": {"hosts": {"h1": null}}})
        );
        read(
            std::slice::from_ref(&file),
            &VaultSecrets::default(),
            &mut errors,
        );
        assert_eq!(
            messages(&errors),
            [format!(
                "{}:1:1: (file): this is encrypted with Ansible Vault and no vault password was given: use \
                 --vault-password-file, --vault-id, --ask-vault-pass or ANSIBLE_VAULT_PASSWORD_FILE",
                file.display()
            )]
        );
    }
}
