//! Loading an inventory: read its sources (`sources.rs`: files, directories, host lists, INI
//! or YAML, vault-encrypted or not), read their shape into one layout, read the vars files,
//! decrypt inline vault values, check every variable where it is written, merge per host, build
//! each host's connection. Problems are collected across all of these steps and reported
//! together; only a source that does not read (a YAML syntax error, an INI line that is not
//! one, a refused plugin) stops early (nothing after it can be trusted).
//!
//! The connection policy is the exception: a host whose connection relayctl refuses (a network
//! switch, `ansible_connection: local`, a password) still loads, with its problems, and they are
//! reported only when a command selects it ([`Inventory::select`](super::Inventory::select)).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::connection::{self, Connection};
use super::extra_vars;
use super::hosts::{Group, Host, Inventory};
use super::merge::{self, GroupOrder};
use super::names::{self, VarClass};
use super::relay;
use super::sources::{self, Document, Format};
use super::ssh_config::SshConfigs;
use super::structure::{self, Layout};
use super::templating;
use super::var_files::{self, VarFiles};
use super::vars::{Origin, VarDef, Vars};
use super::vault::{MAX_TEXTS as MAX_VAULT_TEXTS, VaultSecrets};
use crate::input::Pos;
use crate::input::error::{InputError, InputErrors};
use crate::input::paths::PathContext;
use crate::input::yaml::{self, Node, NodeKind};
use crate::secret::MASK;

/// What loading an inventory needs to know besides its sources.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// The variables the roles declare (their `defaults/`): an inventory may set them.
    pub role_vars: BTreeSet<String>,
    /// `-e` arguments, applied over every host's variables.
    pub extra_vars: Vec<String>,
    /// The vault passwords, for encrypted files and `!vault` values.
    pub vault: VaultSecrets,
}

/// The most variables and group memberships all hosts may hold together. Each host holds its
/// own copy of every variable it inherits (about 230 bytes each), so 50 000 variables in `all`
/// for 100 000 hosts, a file of less than 1 MiB, asked for a terabyte. A million (about 250
/// MB) is 100 000 hosts with ten each, or 5 000 relays with 200: more than relayctl meets.
const MAX_HELD: usize = 1_000_000;

/// Where a definition was written, which decides whether `ansible_group_priority` may be set.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    InventoryGroup,
    InventoryHost,
    VarsFile,
    CommandLine,
}

pub(crate) fn load(sources: &[PathBuf], options: &LoadOptions) -> Result<Inventory, InputErrors> {
    let mut errors = Vec::new();
    let read = sources::read(sources, &options.vault, &mut errors);
    InputErrors::finish(errors)?;
    build(sources, read.documents, &read.var_dirs, options)
}

#[cfg(test)]
/// `load` of one YAML inventory's text already read; `read_var_files: false` keeps unit tests
/// independent of whatever `group_vars/` sits in the working directory.
pub(crate) fn load_source(
    path: &Path,
    text: &str,
    read_var_files: bool,
    options: &LoadOptions,
) -> Result<Inventory, InputErrors> {
    let root = yaml::parse(path, text)?;
    let document = Document {
        file: path.to_path_buf(),
        root,
        format: Format::Yaml,
        vaulted: false,
    };
    let var_dirs = if read_var_files {
        vec![path.parent().map(Path::to_path_buf).unwrap_or_default()]
    } else {
        Vec::new()
    };
    build(&[path.to_path_buf()], vec![document], &var_dirs, options)
}

fn build(
    sources: &[PathBuf],
    documents: Vec<Document>,
    var_dirs: &[PathBuf],
    options: &LoadOptions,
) -> Result<Inventory, InputErrors> {
    let first = sources.first().cloned().unwrap_or_default();
    let mut errors = Vec::new();
    for document in documents.iter().filter(|d| d.format == Format::Yaml) {
        yaml::duplicate_keys(&document.file, &document.root, "", &mut errors);
    }
    let mut layout = structure::read(
        documents.iter().map(|d| (d.file.as_path(), &d.root)),
        &mut errors,
    );
    if layout.hosts.is_empty() && errors.is_empty() {
        errors.push(InputError::at(
            &first,
            Pos::START,
            yaml::TOP_LEVEL,
            "this inventory defines no host; list hosts under a group's `hosts:` (see inventories/site.yaml)",
        ));
    }
    let mut files = var_files::read(var_dirs, &layout, &options.vault, &mut errors);
    let extra = extra_vars::parse(&options.extra_vars, &mut errors);
    let vaulted: HashSet<&Path> = documents
        .iter()
        .filter(|d| d.vaulted)
        .map(|d| d.file.as_path())
        .collect();
    decrypt_all(
        &mut layout,
        &mut files,
        &vaulted,
        &options.vault,
        &mut errors,
    );

    // Each definition is checked once, where it is written, so that a bad value inherited by
    // fifty hosts is reported once, at its own line. A connection variable's problems are the
    // connection policy's: kept for the hosts whose value it is.
    let mut checks = Checks::default();
    let inventory_groups = layout
        .groups
        .iter()
        .flat_map(|g| &g.vars)
        .map(|d| (d, Place::InventoryGroup));
    let inventory_hosts = layout
        .hosts
        .iter()
        .flat_map(|h| &h.vars)
        .map(|d| (d, Place::InventoryHost));
    let vars_files = files
        .groups
        .values()
        .chain(files.hosts.values())
        .flatten()
        .map(|d| (d, Place::VarsFile));
    let command_line = extra.iter().map(|d| (d, Place::CommandLine));
    for (def, place) in inventory_groups
        .chain(inventory_hosts)
        .chain(vars_files)
        .chain(command_line)
    {
        check_definition(def, place, &options.role_vars, &mut checks, &mut errors);
    }

    let order = GroupOrder::new(&layout, &mut errors);
    let mut hosts = Vec::with_capacity(layout.hosts.len());
    let mut held = 0;
    let mut ssh_configs = SshConfigs::default();
    for (index, decl) in layout.hosts.iter().enumerate() {
        let mut merged = merge::merge(&layout, &files, &order, index);
        for def in &extra {
            merged.vars.set(def);
        }
        held += merged.vars.len() + merged.groups.len();
        if held > MAX_HELD {
            errors.push(InputError::at(
                &decl.file,
                decl.pos,
                decl.key.clone(),
                format!(
                    "with {}, the hosts would hold {held} variables and groups, more than the {MAX_HELD} an inventory \
                     may give them (each host holds its own copy of the variables of its groups)",
                    decl.name
                ),
            ));
            break;
        }
        let paths = PathContext::for_inventory(&decl.file);
        let (connection, problems) =
            host_connection(&decl.name, &merged, &paths, &checks, &mut ssh_configs);
        let own_vars = Vars::from_defs(
            decl.vars
                .iter()
                .chain(files.hosts.get(&decl.name).into_iter().flatten()),
        );
        hosts.push(Host {
            name: decl.name.clone(),
            groups: merged.groups,
            vars: merged.vars,
            own_vars,
            connection,
            origin: Origin::new(&decl.file, decl.pos),
            problems,
        });
    }
    InputErrors::finish(errors)?;
    let groups = groups(&layout, &files);
    Ok(Inventory {
        path: first,
        sources: sources.to_vec(),
        hosts,
        groups,
        unused_ansible: checks.unused_ansible.into_iter().collect(),
    })
}

/// What checking every definition found besides errors.
#[derive(Default)]
struct Checks {
    /// Problems of connection variables, by the definition they are about.
    connection: HashMap<Origin, Vec<InputError>>,
    /// Ansible variables relayctl does not use, each where first written.
    unused_ansible: BTreeMap<String, Origin>,
}

/// The host's connection, or a stand-in and the problems that refuse it.
fn host_connection(
    name: &str,
    merged: &merge::Merged,
    paths: &PathContext,
    checks: &Checks,
    ssh_configs: &mut SshConfigs,
) -> (Connection, Vec<InputError>) {
    let mut problems: Vec<InputError> = names::CONNECTION_VARS
        .iter()
        .filter_map(|var| merged.vars.get(var))
        .filter_map(|var| checks.connection.get(&var.origin))
        .flatten()
        .cloned()
        .collect();
    let failed: HashSet<&Origin> = checks.connection.keys().collect();
    let connection = match connection::build(name, &merged.groups, &merged.vars, paths, ssh_configs)
    {
        Ok(connection) => Some(connection),
        Err(found) => {
            // Values that failed their own check are already reported, at their value.
            problems.extend(found.into_iter().filter(|e| {
                let at = Origin::new(
                    &e.file,
                    Pos {
                        line: e.line,
                        column: e.column,
                    },
                );
                !failed.contains(&at)
            }));
            None
        }
    };
    match connection {
        Some(connection) if problems.is_empty() => (connection, problems),
        _ => (Connection::refused(name), problems),
    }
}

/// The groups as a listing shows them: direct children and hosts, and each group's own
/// variables (the inventory's, then its `group_vars/` files').
fn groups(layout: &Layout, files: &VarFiles) -> Vec<Group> {
    layout
        .groups
        .iter()
        .map(|group| {
            let vars = Vars::from_defs(
                group
                    .vars
                    .iter()
                    .chain(files.groups.get(&group.name).into_iter().flatten()),
            );
            Group {
                name: group.name.clone(),
                children: group
                    .children
                    .iter()
                    .map(|c| layout.groups[*c].name.clone())
                    .collect(),
                hosts: group
                    .hosts
                    .iter()
                    .map(|h| layout.hosts[*h].name.clone())
                    .collect(),
                vars,
            }
        })
        .collect()
}

/// Decrypts the `!vault` values of every definition (when a vault password was given; without
/// one they stay encrypted, as Ansible lists them) and marks the values of vault-encrypted
/// files: each becomes a secret a listing never shows.
fn decrypt_all(
    layout: &mut Layout,
    files: &mut VarFiles,
    vaulted: &HashSet<&Path>,
    vault: &VaultSecrets,
    errors: &mut Vec<InputError>,
) {
    // Counted before any is decrypted: each costs 10 000 rounds of PBKDF2.
    if !vault.is_empty() {
        let mut count = 0;
        let all = (layout.groups.iter().flat_map(|g| &g.vars))
            .chain(layout.hosts.iter().flat_map(|h| &h.vars))
            .chain(files.groups.values().flatten())
            .chain(files.hosts.values().flatten());
        for def in all {
            count += vault_texts(&def.value);
            if count > MAX_VAULT_TEXTS {
                errors.push(InputError::at(
                    &def.origin.file,
                    def.origin.pos(),
                    def.key.clone(),
                    format!(
                        "with this value the inventory would hold more than {MAX_VAULT_TEXTS} vault-encrypted values, \
                         more than relayctl decrypts in one run"
                    ),
                ));
                return;
            }
        }
    }
    let definitions = layout
        .groups
        .iter_mut()
        .flat_map(|g| g.vars.iter_mut())
        .chain(layout.hosts.iter_mut().flat_map(|h| h.vars.iter_mut()))
        .chain(files.groups.values_mut().flatten())
        .chain(files.hosts.values_mut().flatten());
    for def in definitions {
        if vaulted.contains(def.origin.file.as_path()) {
            def.listing = Some(serde_json::Value::String(MASK.to_owned()));
        }
        if vault.is_empty() || vault_texts(&def.value) == 0 {
            continue;
        }
        let listing = def.value.to_json();
        let mut problems = Vec::new();
        decrypt_node(&mut def.value, vault, &mut problems);
        if problems.is_empty() {
            def.listing.get_or_insert(listing);
        }
        errors.extend(
            problems.into_iter().map(|(pos, message)| {
                InputError::at(&def.origin.file, pos, def.key.clone(), message)
            }),
        );
    }
}

fn vault_texts(node: &Node) -> usize {
    match &node.kind {
        NodeKind::Vault(_) => 1,
        NodeKind::Seq(items) => items.iter().map(vault_texts).sum(),
        NodeKind::Map(entries) => entries.iter().map(|e| vault_texts(&e.value)).sum(),
        _ => 0,
    }
}

fn decrypt_node(node: &mut Node, vault: &VaultSecrets, problems: &mut Vec<(Pos, String)>) {
    match &mut node.kind {
        NodeKind::Vault(text) => match vault.decrypt(text) {
            Ok(plain) => node.kind = NodeKind::String(plain.expose().to_owned()),
            Err(message) => problems.push((node.pos, message)),
        },
        NodeKind::Seq(items) => items
            .iter_mut()
            .for_each(|i| decrypt_node(i, vault, problems)),
        NodeKind::Map(entries) => entries
            .iter_mut()
            .for_each(|e| decrypt_node(&mut e.value, vault, problems)),
        _ => {}
    }
}

/// What the paths a definition writes are relative to: the inventory's directory, for a
/// definition in a `group_vars/` or `host_vars/` file too (the directory that holds them).
fn paths_of(file: &Path) -> PathContext {
    let vars_dir = file.ancestors().find(|dir| {
        dir.file_name()
            .is_some_and(|name| name == "group_vars" || name == "host_vars")
    });
    match vars_dir {
        Some(dir) => PathContext::for_inventory(dir),
        None => PathContext::for_inventory(file),
    }
}

fn check_definition(
    def: &VarDef,
    place: Place,
    role_vars: &BTreeSet<String>,
    checks: &mut Checks,
    errors: &mut Vec<InputError>,
) {
    let class = match names::classify(def, role_vars) {
        Ok(class) => class,
        Err(error) => {
            errors.push(error);
            return;
        }
    };
    let paths = paths_of(&def.origin.file);
    let problems = match class {
        VarClass::Connection => {
            // A template is resolved for each host, from its own variables (`connection.rs`).
            if !def.value.as_str().is_some_and(templating::is_template) {
                let problems = connection::check(&def.name, &def.value, &paths);
                if !problems.is_empty() {
                    checks.connection.insert(
                        def.origin.clone(),
                        problems
                            .into_iter()
                            .map(|p| p.into_error(&def.origin.file, &def.key))
                            .collect(),
                    );
                }
            }
            return;
        }
        VarClass::Relay => relay::check(&def.name, &def.value, &paths),
        VarClass::Ansible => {
            checks
                .unused_ansible
                .entry(def.name.clone())
                .or_insert_with(|| def.origin.clone());
            return;
        }
        VarClass::GroupPriority if place != Place::InventoryGroup => {
            let why = match place {
                Place::VarsFile => "it is read before group_vars/ files are",
                Place::CommandLine => "it orders the inventory's groups",
                _ => "it orders groups, not hosts",
            };
            errors.push(InputError::at(
                &def.origin.file,
                def.origin.pos(),
                def.key.clone(),
                format!("ansible_group_priority can only be set in the inventory file's group vars: {why}"),
            ));
            return;
        }
        // Its value is checked while ordering groups; a secret, with the connection.
        VarClass::GroupPriority | VarClass::Secret | VarClass::Role | VarClass::Free => Vec::new(),
    };
    errors.extend(
        problems
            .into_iter()
            .map(|p| p.into_error(&def.origin.file, &def.key)),
    );
}
