//! The roles of a run: the ones embedded in the binary, overridden role by role by those of
//! `--roles-dir`, and `relay_roles.yaml`, the data that says which roles run, in which order, on
//! each relay type (an inventory overrides it per host with `relay_roles`).
//!
//! Every role is loaded and checked when the run starts, before any host is contacted.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::role::{self, Role, RoleFiles};
use super::template::Templates;
use crate::input::Pos;
use crate::input::files;
use crate::input::walk;
use crate::input::yaml::{self, NodeKind};
use crate::input::{InputError, InputErrors, suggest};
use crate::inventory::Var;
use crate::medulla::RelayType;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

/// The file that lists the roles of each relay type.
const RELAY_ROLES_FILE: &str = "relay_roles.yaml";

/// Every role of a run, checked, with the templates they carry.
pub struct Catalog {
    roles: BTreeMap<String, Role>,
    defaults: BTreeMap<RelayType, Vec<String>>,
    /// The names of relayctl's shared templates (`templates/` beside `roles/`).
    shared_templates: BTreeSet<String>,
    pub templates: Templates,
}

/// Where shared templates are registered in [`Templates`]: no role directory can be named so.
const SHARED_PREFIX: &str = "@shared";

impl Catalog {
    /// Loads the embedded roles, then those of `roles_dir` (a role there replaces the embedded
    /// one of the same name; its `relay_roles.yaml`, if any, replaces the embedded one).
    pub fn load(roles_dir: Option<&Path>) -> Result<Catalog, InputErrors> {
        let mut sources = embedded_sources();
        let mut errors = Vec::new();
        if let Some(dir) = roles_dir {
            read_dir_sources(dir, &mut sources, &mut errors);
        }
        let mut templates = Templates::new();
        let mut shared_templates = BTreeSet::new();
        for (name, bytes) in embedded::SHARED_TEMPLATES {
            let added = String::from_utf8(bytes.to_vec())
                .map_err(|_| "not UTF-8 text".to_string())
                .and_then(|text| templates.add_file(format!("{SHARED_PREFIX}/{name}"), text));
            match added {
                Ok(()) => {
                    shared_templates.insert(name.to_string());
                }
                Err(e) => errors.push(InputError::at(
                    &Path::new("templates").join(name),
                    Pos::START,
                    *name,
                    e,
                )),
            }
        }
        let mut roles = BTreeMap::new();
        for files in sources.roles.values() {
            let role = role::load(files, &mut templates, &mut errors);
            roles.insert(role.name.clone(), role);
        }
        let defaults = read_relay_roles(&sources.relay_roles, &roles, &mut errors);
        InputErrors::finish(errors)?;
        Ok(Catalog {
            roles,
            defaults,
            shared_templates,
            templates,
        })
    }

    /// The registered name of template `src` for `role`: the role's own `templates/src`, else
    /// relayctl's shared one (so a role can replace a shared template with its own).
    pub fn template_name(&self, role: &Role, src: &str) -> Option<String> {
        if role.templates.contains(src) {
            Some(format!("{}/{src}", role.name))
        } else if self.shared_templates.contains(src) {
            Some(format!("{SHARED_PREFIX}/{src}"))
        } else {
            None
        }
    }

    pub fn role(&self, name: &str) -> Option<&Role> {
        self.roles.get(name)
    }

    /// Every role, by name.
    pub fn roles(&self) -> impl Iterator<Item = &Role> {
        self.roles.values()
    }

    /// The roles a relay of this type runs unless its inventory says otherwise.
    pub fn default_roles(&self, relay_type: RelayType) -> &[String] {
        self.defaults.get(&relay_type).map_or(&[], Vec::as_slice)
    }

    /// The names of every role default: variables an inventory may set.
    pub fn variable_names(&self) -> BTreeSet<String> {
        self.roles
            .values()
            .flat_map(|role| role.defaults.iter().map(|(name, _, _)| name.clone()))
            .collect()
    }

    /// Checks a host's `relay_roles` against the roles that exist.
    pub fn check_role_list(&self, names: &[String], var: &Var, host: &str) -> Vec<InputError> {
        names
            .iter()
            .enumerate()
            .filter(|(_, name)| !self.roles.contains_key(*name))
            .map(|(i, name)| {
                InputError::at(
                    &var.origin.file,
                    var.origin.pos(),
                    format!("{host}.relay_roles[{i}]"),
                    format!(
                        "no role named {name}{}; roles: {}",
                        suggest::hint(name, self.roles.keys().map(String::as_str)),
                        self.roles.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                )
            })
            .collect()
    }
}

/// Role files by role name, and the relay_roles file, with their display paths.
struct Sources {
    roles: BTreeMap<String, RoleFiles>,
    relay_roles: (PathBuf, Vec<u8>),
}

fn embedded_sources() -> Sources {
    let mut roles: BTreeMap<String, RoleFiles> = BTreeMap::new();
    let mut relay_roles = (PathBuf::from("roles").join(RELAY_ROLES_FILE), Vec::new());
    for (path, bytes) in embedded::ROLES {
        if *path == RELAY_ROLES_FILE {
            relay_roles.1 = bytes.to_vec();
            continue;
        }
        let Some((role, rest)) = path.split_once('/') else {
            continue;
        };
        roles
            .entry(role.to_string())
            .or_insert_with(|| RoleFiles {
                name: role.to_string(),
                dir: PathBuf::from("roles").join(role),
                files: BTreeMap::new(),
            })
            .files
            .insert(rest.to_string(), bytes.to_vec());
    }
    Sources { roles, relay_roles }
}

/// Adds the roles of `dir` over the embedded ones.
fn read_dir_sources(dir: &Path, sources: &mut Sources, errors: &mut Vec<InputError>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            errors.push(InputError::at(
                dir,
                Pos::START,
                "--roles-dir",
                format!("cannot read the roles directory: {e}"),
            ));
            return;
        }
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        if name.starts_with('.') {
            continue;
        }
        if name == RELAY_ROLES_FILE && !path.is_dir() {
            match files::read_bounded(&path, files::ROLE_FILE) {
                Ok(bytes) => sources.relay_roles = (path, bytes),
                Err(e) => errors.push(files::unreadable(&path, &e)),
            }
        } else if path.is_dir() {
            let mut role_files = BTreeMap::new();
            let walk = walk::files_below(&path, &|_| false);
            errors.extend((walk.unreadable.iter()).map(|(dir, e)| files::unreadable_dir(dir, e)));
            for file in walk.files {
                match files::read_bounded(&file, files::ROLE_FILE) {
                    Ok(bytes) => {
                        let relative = file.strip_prefix(&path).unwrap_or(&file);
                        role_files.insert(relative.to_string_lossy().into_owned(), bytes);
                    }
                    Err(e) => errors.push(files::unreadable(&file, &e)),
                }
            }
            sources.roles.insert(
                name.clone(),
                RoleFiles {
                    name,
                    dir: path,
                    files: role_files,
                },
            );
        }
    }
}

/// `relay_roles.yaml`: `classic: [role, …]` and `dmz: [role, …]`, every role existing.
fn read_relay_roles(
    (file, bytes): &(PathBuf, Vec<u8>),
    roles: &BTreeMap<String, Role>,
    errors: &mut Vec<InputError>,
) -> BTreeMap<RelayType, Vec<String>> {
    let mut lists = BTreeMap::new();
    let text = String::from_utf8_lossy(bytes);
    let root = match yaml::parse(file, &text) {
        Ok(root) => root,
        Err(e) => {
            errors.push(e);
            return lists;
        }
    };
    let NodeKind::Map(entries) = &root.kind else {
        errors.push(InputError::at(
            file,
            root.pos,
            yaml::TOP_LEVEL,
            "expected a map of relay type to its list of roles (classic: […], dmz: […])",
        ));
        return lists;
    };
    for entry in entries {
        let relay_type = match entry.key.as_str() {
            "classic" => RelayType::Classic,
            "dmz" => RelayType::Dmz,
            other => {
                errors.push(InputError::at(
                    file,
                    entry.key_pos,
                    other,
                    format!(
                        "unknown relay type {other}{}; expected classic or dmz",
                        suggest::hint(other, ["classic", "dmz"])
                    ),
                ));
                continue;
            }
        };
        let NodeKind::Seq(items) = &entry.value.kind else {
            errors.push(InputError::at(
                file,
                entry.value.pos,
                entry.key.clone(),
                format!(
                    "expected a list of role names, found {}",
                    entry.value.describe()
                ),
            ));
            continue;
        };
        let mut names = Vec::new();
        for (i, item) in items.iter().enumerate() {
            match item.as_str() {
                Some(name) if roles.contains_key(name) => names.push(name.to_string()),
                _ => {
                    let written = item.as_str().unwrap_or_default();
                    errors.push(InputError::at(
                        file,
                        item.pos,
                        format!("{}[{i}]", entry.key),
                        format!(
                            "no role named {written:?}{}",
                            suggest::hint(written, roles.keys().map(String::as_str))
                        ),
                    ));
                }
            }
        }
        lists.insert(relay_type, names);
    }
    for (relay_type, name) in [(RelayType::Classic, "classic"), (RelayType::Dmz, "dmz")] {
        if !lists.contains_key(&relay_type) {
            errors.push(InputError::at(
                file,
                Pos::START,
                name,
                format!("no role list for {name} relays"),
            ));
        }
    }
    lists
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_roles_load_and_list_their_variables() {
        let catalog = Catalog::load(None).unwrap_or_else(|e| panic!("{e}"));
        for relay_type in [RelayType::Classic, RelayType::Dmz] {
            assert_eq!(
                catalog.default_roles(relay_type),
                ["medulla_user", "medulla_prereqs", "relay_firewall"]
            );
        }
        let names = catalog.variable_names();
        for name in [
            "medulla_user",
            "medulla_password_file",
            "medulla_default_limit_nproc",
        ] {
            assert!(names.contains(name), "{name} in {names:?}");
        }
        let user = catalog.role("medulla_user").expect("role");
        let modules: Vec<&str> = user.tasks.iter().map(|t| t.module.name).collect();
        assert_eq!(
            modules[..2],
            ["package", "user"],
            "sudo first, then the account"
        );
    }

    #[test]
    fn a_roles_dir_overrides_an_embedded_role_and_reports_what_is_wrong() {
        let dir = tempfile::tempdir().expect("tmp");
        let tasks = dir.path().join("medulla_user/tasks");
        std::fs::create_dir_all(&tasks).expect("dir");
        std::fs::write(tasks.join("main.yaml"), "- name: x\n  command: true\n").expect("write");
        let catalog = Catalog::load(Some(dir.path())).unwrap_or_else(|e| panic!("{e}"));
        let role = catalog.role("medulla_user").expect("role");
        assert_eq!(role.tasks.len(), 1);
        assert!(role.defaults.is_empty(), "the whole role is replaced");

        std::fs::write(
            dir.path().join(RELAY_ROLES_FILE),
            "classic: [medulla_usr]\n",
        )
        .expect("write");
        let errors = Catalog::load(Some(dir.path())).err().expect("refused");
        let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            [
                format!(
                    "{}:1:1: dmz: no role list for dmz relays",
                    dir.path().join(RELAY_ROLES_FILE).display()
                ),
                format!(
                    "{}:1:11: classic[0]: no role named \"medulla_usr\"; did you mean medulla_user?",
                    dir.path().join(RELAY_ROLES_FILE).display()
                ),
            ]
        );
    }
}
