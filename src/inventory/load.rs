//! Loading an inventory: read and parse the file, read its shape, read the vars files, check
//! every variable where it is written, merge per host, build each host's connection. Problems
//! are collected across all of these steps and reported together; only a YAML syntax error in
//! the inventory file itself stops early (nothing after it can be trusted).

use std::collections::{BTreeSet, HashSet};
use std::path::Path;

use super::connection;
use super::extra_vars;
use super::hosts::{Host, Inventory};
use super::merge::{self, GroupOrder};
use super::names::{self, VarClass};
use super::relay;
use super::structure;
use super::var_files::{self, VarFiles};
use super::vars::{Origin, VarDef};
use crate::input::Pos;
use crate::input::error::{InputError, InputErrors};
use crate::input::files;
use crate::input::paths::PathContext;
use crate::input::yaml;

/// What loading an inventory needs to know besides the file.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// The variables the roles declare (their `defaults/`): an inventory may set them.
    pub role_vars: BTreeSet<String>,
    /// `-e` arguments, applied over every host's variables.
    pub extra_vars: Vec<String>,
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

pub(crate) fn load(path: &Path, options: &LoadOptions) -> Result<Inventory, InputErrors> {
    let text = files::read_text(path, files::VARS).map_err(|e| {
        InputError::at(
            path,
            Pos::START,
            "(file)",
            format!("cannot read the inventory: {e}"),
        )
    })?;
    load_source(path, &text, true, options)
}

/// `load` on text already read; `read_var_files: false` keeps unit tests independent of
/// whatever `group_vars/` sits in the working directory.
pub(crate) fn load_source(
    path: &Path,
    text: &str,
    read_var_files: bool,
    options: &LoadOptions,
) -> Result<Inventory, InputErrors> {
    let root = yaml::parse(path, text).map_err(|mut error| {
        if looks_like_ini(text) {
            error.message = INI_HINT.to_owned();
        }
        error
    })?;
    let mut errors = Vec::new();
    yaml::duplicate_keys(path, &root, "", &mut errors);
    let layout = structure::read(path, &root, &mut errors);
    if layout.hosts.is_empty() && errors.is_empty() {
        errors.push(InputError::at(
            path,
            Pos::START,
            yaml::TOP_LEVEL,
            "this inventory defines no host; list hosts under a group's `hosts:` (see inventories/site.yaml)",
        ));
    }
    let files = if read_var_files {
        let dir = path.parent().unwrap_or(Path::new(""));
        var_files::read(dir, &layout, &mut errors)
    } else {
        VarFiles::default()
    };
    let paths = PathContext::for_inventory(path);
    let extra = extra_vars::parse(&options.extra_vars, &mut errors);

    // Each definition is checked once, where it is written, so that a bad value inherited by
    // fifty hosts is reported once, at its own line.
    let mut failed: HashSet<Origin> = HashSet::new();
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
        let before = errors.len();
        check_definition(def, place, &paths, &options.role_vars, &mut errors);
        if errors.len() > before {
            failed.insert(def.origin.clone());
        }
    }

    let order = GroupOrder::new(&layout, &mut errors);
    let mut hosts = Vec::with_capacity(layout.hosts.len());
    let mut held = 0;
    for (index, decl) in layout.hosts.iter().enumerate() {
        let mut merged = merge::merge(&layout, &files, &order, index);
        for def in &extra {
            merged.vars.set(def);
        }
        held += merged.vars.len() + merged.groups.len();
        if held > MAX_HELD {
            errors.push(InputError::at(
                path,
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
        let connection = match connection::build(&decl.name, &merged.vars, &paths) {
            Ok(connection) => Some(connection),
            Err(problems) => {
                // Values that failed their own check are already reported, at their value.
                errors.extend(problems.into_iter().filter(|e| {
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
        if let Some(connection) = connection {
            hosts.push(Host {
                name: decl.name.clone(),
                groups: merged.groups,
                vars: merged.vars,
                connection,
                origin: Origin::new(path, decl.pos),
            });
        }
    }
    InputErrors::finish(errors)?;
    Ok(Inventory {
        path: path.to_path_buf(),
        hosts,
    })
}

const INI_HINT: &str = "this looks like an INI inventory; relayctl reads Ansible's YAML inventory \
                        format (`ansible-inventory -i FILE --list --yaml` converts one)";

/// An INI inventory's first line is a `[group]` header, which YAML cannot make sense of.
fn looks_like_ini(text: &str) -> bool {
    text.lines()
        .map(str::trim)
        .find(|line| !line.is_empty() && !line.starts_with('#') && !line.starts_with(';'))
        .is_some_and(|line| {
            line.starts_with('[')
                && line.ends_with(']')
                && !line.contains(',')
                && !line.contains(' ')
        })
}

fn check_definition(
    def: &VarDef,
    place: Place,
    paths: &PathContext,
    role_vars: &BTreeSet<String>,
    errors: &mut Vec<InputError>,
) {
    let class = match names::classify(def, role_vars) {
        Ok(class) => class,
        Err(error) => {
            errors.push(error);
            return;
        }
    };
    let problems = match class {
        VarClass::Connection => connection::check(&def.name, &def.value, paths),
        VarClass::Relay => relay::check(&def.name, &def.value, paths),
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
        // Its value is checked while ordering groups.
        VarClass::GroupPriority | VarClass::Ignored | VarClass::Role | VarClass::Free => Vec::new(),
    };
    errors.extend(
        problems
            .into_iter()
            .map(|p| p.into_error(&def.origin.file, &def.key)),
    );
}
