//! The inventory file's shape, as Ansible's YAML inventory plugin reads it: a map of groups
//! (normally just `all`; any other top-level group is a child of `all`), each group a map of
//! `hosts`, `children` and `vars`. A group may appear in several places (under several
//! parents): its definitions are merged, vars in file order. A host may appear in several
//! groups: its vars are host vars wherever they are written, merged in file order.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::entity_name::{self, Entity};
use super::host_pattern;
use super::vars::{Origin, VarDef};
use crate::input::Pos;
use crate::input::error::InputError;
use crate::input::suggest;
use crate::input::yaml::{self, Entry, Node, NodeKind};

pub(crate) const ALL: &str = "all";

pub(crate) const UNGROUPED: &str = "ungrouped";
const SECTIONS: [&str; 3] = ["hosts", "children", "vars"];

/// The most hosts an inventory may have: ten times the most one key may stand for
/// (`host_pattern::MAX_HOSTS_PER_KEY`). relayctl drives thousands of relays at most, but an
/// inventory shared with Ansible may list a customer's workstations too; 100 000 hosts load in
/// about 3 s and 300 MB (a debug build), and the bound keeps an inventory of ranges from asking
/// for more than the controller has.
pub(crate) const MAX_HOSTS: usize = 100_000;

/// The most groups an inventory may have, `all` included: a group per site, or even per relay,
/// of thousands of relays. Each group is a name to look up, and a level of `children:` to
/// walk for each of its hosts; the bound keeps a generated inventory (a group per host of
/// 100 000) from taking minutes to read.
pub(crate) const MAX_GROUPS: usize = 10_000;

/// The groups and hosts of an inventory file, before precedence.
#[derive(Debug, Default)]
pub(crate) struct Layout {
    /// Index 0 is `all`.
    pub groups: Vec<Group>,
    /// In order of first appearance.
    pub hosts: Vec<HostDecl>,
    /// Index in `groups` by name: a search of `groups` for every name written was quadratic
    /// (100 000 groups took a minute to read).
    by_name: HashMap<String, usize>,
}

#[derive(Debug)]
pub(crate) struct Group {
    pub name: String,
    pub children: Vec<usize>,
    pub parents: Vec<usize>,
    /// Hosts listed directly under this group.
    pub hosts: Vec<usize>,
    pub vars: Vec<VarDef>,
}

#[derive(Debug)]
pub(crate) struct HostDecl {
    pub name: String,
    /// The inventory file where the host was first written, and where in it (its key).
    pub file: PathBuf,
    pub pos: Pos,
    pub key: String,
    /// Host vars from every place the host is written, in file order.
    pub vars: Vec<VarDef>,
}

impl Layout {
    pub(crate) fn group(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// Adds the group `name` (not there yet) with these parents; its index.
    fn add_group(&mut self, name: &str, parents: Vec<usize>) -> usize {
        self.groups.push(Group {
            name: name.to_owned(),
            children: Vec::new(),
            parents,
            hosts: Vec::new(),
            vars: Vec::new(),
        });
        let index = self.groups.len() - 1;
        self.by_name.insert(name.to_owned(), index);
        index
    }
}

/// Reads the trees of the inventory's documents, in order, into one layout (a group or a host
/// written in several is one group or host, as with Ansible's several sources); structural
/// problems go to `errors` and the rest is kept, so that one run reports as much as possible.
pub(crate) fn read<'d>(
    documents: impl IntoIterator<Item = (&'d Path, &'d Node)>,
    errors: &mut Vec<InputError>,
) -> Layout {
    let mut reader = Reader {
        file: PathBuf::new(),
        layout: Layout::default(),
        host_index: HashMap::new(),
        listed: HashSet::new(),
        too_many_hosts: false,
        too_many_groups: false,
        errors,
    };
    reader.layout.add_group(ALL, Vec::new());
    for (file, root) in documents {
        reader.file = file.to_path_buf();
        match &root.kind {
            NodeKind::Null => {}
            NodeKind::Map(entries) => {
                for entry in entries {
                    reader.group(entry, &entry.key, None);
                }
            }
            _ => reader.error(
                root.pos,
                yaml::TOP_LEVEL,
                format!(
                    "the top level must be a map of groups (normally `all:`), found {}",
                    root.describe()
                ),
            ),
        }
    }
    reader.attach_orphans_to_all();
    reader.fill_ungrouped();
    reader.check_name_clashes();
    reader.layout
}

struct Reader<'a> {
    /// The document being read.
    file: PathBuf,
    layout: Layout,
    host_index: HashMap<String, usize>,
    /// (group, host) for every host listed under a group's `hosts:`: a search of the group's
    /// list for each host would be quadratic, minutes for an inventory of 100 000 hosts.
    listed: HashSet<(usize, usize)>,
    /// Set once a key would take the inventory past [`MAX_HOSTS`]: that key says so, the keys
    /// after it are left out.
    too_many_hosts: bool,
    /// The same for [`MAX_GROUPS`].
    too_many_groups: bool,
    errors: &'a mut Vec<InputError>,
}

impl Reader<'_> {
    fn error(&mut self, pos: Pos, key: &str, message: String) {
        self.errors
            .push(InputError::at(&self.file, pos, key, message));
    }

    /// One group definition: `entry.key` is the group name, `path` its dotted path.
    fn group(&mut self, entry: &Entry, path: &str, parent: Option<usize>) {
        let name = entry.key.as_str();
        if let Err(message) = entity_name::check(name, Entity::Group) {
            self.error(entry.key_pos, path, message);
            return;
        }
        let Some(index) = self.group_index(name, entry.key_pos, path) else {
            return;
        };
        if let Some(parent) = parent {
            self.add_child(parent, index, entry.key_pos, path);
        }
        let value = &entry.value;
        let sections = match &value.kind {
            NodeKind::Null => return,
            NodeKind::Map(sections) => sections,
            _ => {
                self.error(
                    value.pos,
                    path,
                    format!(
                        "a group must be a map with `hosts:`, `children:` and/or `vars:`, found {}",
                        value.describe()
                    ),
                );
                return;
            }
        };
        for section in sections {
            let section_path = yaml::join(path, &section.key);
            match section.key.as_str() {
                "hosts" => self.hosts(&section.value, &section_path, index),
                "children" => self.children(&section.value, &section_path, index),
                "vars" => {
                    let defs = self.var_map(&section.value, &section_path, "vars");
                    self.layout.groups[index].vars.extend(defs);
                }
                other => {
                    let hint = suggest::hint(other, SECTIONS);
                    let hint = if hint.is_empty() {
                        "; variables go under `vars:`, hosts under `hosts:`, groups under `children:`".to_owned()
                    } else {
                        hint
                    };
                    self.error(
                        section.key_pos,
                        &section_path,
                        format!("unknown key {other:?} in group {name} (a group only has hosts, children and vars){hint}"),
                    );
                }
            }
        }
    }

    /// The group named `name`, added if it is new and the inventory has room for it.
    fn group_index(&mut self, name: &str, pos: Pos, path: &str) -> Option<usize> {
        if let Some(index) = self.layout.group(name) {
            return Some(index);
        }
        if self.layout.groups.len() >= MAX_GROUPS {
            if !self.too_many_groups {
                let total = self.layout.groups.len() + 1;
                self.error(
                    pos,
                    path,
                    format!(
                        "with this group the inventory would have {total} groups, more than the {MAX_GROUPS} an inventory may have"
                    ),
                );
            }
            self.too_many_groups = true;
            return None;
        }
        Some(self.layout.add_group(name, Vec::new()))
    }

    fn add_child(&mut self, parent: usize, child: usize, pos: Pos, path: &str) {
        let (parent_name, child_name) = (
            self.layout.groups[parent].name.clone(),
            self.layout.groups[child].name.clone(),
        );
        if child == 0 {
            self.error(
                pos,
                path,
                format!("`all` is the root group: it cannot be a child of {parent_name}"),
            );
            return;
        }
        if parent == child || self.is_ancestor(child, parent) {
            self.error(
                pos,
                path,
                format!("{child_name} cannot be a child of {parent_name}: {parent_name} is already inside {child_name} (a group cycle)"),
            );
            return;
        }
        if !self.layout.groups[parent].children.contains(&child) {
            self.layout.groups[parent].children.push(child);
            self.layout.groups[child].parents.push(parent);
        }
    }

    /// Whether `ancestor` is `group` or contains it, through children links.
    fn is_ancestor(&self, ancestor: usize, group: usize) -> bool {
        let mut stack = vec![group];
        let mut seen = vec![false; self.layout.groups.len()];
        while let Some(g) = stack.pop() {
            if g == ancestor {
                return true;
            }
            if !std::mem::replace(&mut seen[g], true) {
                stack.extend(self.layout.groups[g].parents.iter().copied());
            }
        }
        false
    }

    /// A `hosts:` or `children:` section must be a map of names; Ansible also takes one bare
    /// name, and so do we. A list is the usual slip: say how to write it.
    fn name_map(&mut self, value: &Node, path: &str, what: &str) -> Vec<Entry> {
        match &value.kind {
            NodeKind::Null => Vec::new(),
            NodeKind::Map(entries) => entries.clone(),
            NodeKind::String(name) => vec![Entry {
                key: name.clone(),
                key_pos: value.pos,
                value: Node {
                    kind: NodeKind::Null,
                    pos: value.pos,
                },
            }],
            NodeKind::Seq(_) => {
                self.error(
                    value.pos,
                    path,
                    format!(
                        "{what} must be a map of names, each followed by `:` (`relay01:`), not a list (`- relay01`)"
                    ),
                );
                Vec::new()
            }
            _ => {
                self.error(
                    value.pos,
                    path,
                    format!("{what} must be a map of names, found {}", value.describe()),
                );
                Vec::new()
            }
        }
    }

    fn hosts(&mut self, value: &Node, path: &str, group: usize) {
        for entry in self.name_map(value, path, "`hosts:`") {
            let host_path = yaml::join(path, &entry.key);
            let key = match host_pattern::parse(&entry.key) {
                Ok(key) => key,
                Err(message) => {
                    self.error(entry.key_pos, &host_path, message);
                    continue;
                }
            };
            if self.too_many_hosts {
                continue;
            }
            let new_hosts = (key.names.iter())
                .filter(|name| !self.host_index.contains_key(*name))
                .count();
            let total = self.layout.hosts.len() + new_hosts;
            if total > MAX_HOSTS {
                self.error(
                    entry.key_pos,
                    &host_path,
                    format!(
                        "with this key the inventory would have {total} hosts, more than the {MAX_HOSTS} an inventory may have"
                    ),
                );
                self.too_many_hosts = true;
                continue;
            }
            let mut defs = Vec::new();
            // `relay01:2222` sets ansible_port; explicit host vars still override it, as in Ansible.
            if let Some(port) = key.port {
                defs.push(VarDef {
                    name: "ansible_port".to_owned(),
                    value: Node {
                        kind: NodeKind::Number(port.into()),
                        pos: entry.key_pos,
                    },
                    origin: Origin::new(&self.file, entry.key_pos),
                    key: host_path.clone(),
                    listing: None,
                });
            }
            match &entry.value.kind {
                NodeKind::Null | NodeKind::Map(_) => {
                    defs.extend(self.var_map(&entry.value, &host_path, "host vars"))
                }
                _ => self.error(
                    entry.value.pos,
                    &host_path,
                    format!(
                        "a host is followed by nothing or by a map of its variables, found {}",
                        entry.value.describe()
                    ),
                ),
            }
            for name in key.names {
                let index = match self.host_index.get(&name) {
                    Some(index) => *index,
                    None => {
                        self.layout.hosts.push(HostDecl {
                            name: name.clone(),
                            file: self.file.clone(),
                            pos: entry.key_pos,
                            key: host_path.clone(),
                            vars: Vec::new(),
                        });
                        self.host_index.insert(name, self.layout.hosts.len() - 1);
                        self.layout.hosts.len() - 1
                    }
                };
                self.layout.hosts[index].vars.extend(defs.iter().cloned());
                if self.listed.insert((group, index)) {
                    self.layout.groups[group].hosts.push(index);
                }
            }
        }
    }

    fn children(&mut self, value: &Node, path: &str, parent: usize) {
        for entry in self.name_map(value, path, "`children:`") {
            let child_path = yaml::join(path, &entry.key);
            self.group(&entry, &child_path, Some(parent));
        }
    }

    /// A map of variables (group `vars:` or a host's entry) into definitions.
    fn var_map(&mut self, value: &Node, path: &str, what: &str) -> Vec<VarDef> {
        match &value.kind {
            NodeKind::Null => Vec::new(),
            NodeKind::Map(entries) => {
                let mut defs = Vec::with_capacity(entries.len());
                for entry in entries {
                    let key = yaml::join(path, &entry.key);
                    // `relay01: {vars: {...}}` or a `hosts:` indented one level too deep would
                    // otherwise become a variable that nothing reads.
                    if SECTIONS.contains(&entry.key.as_str()) {
                        let hint = if what == "host vars" && entry.key == "vars" {
                            "host variables go directly under the host, without `vars:`".to_owned()
                        } else {
                            format!("a `{}:` section here is probably mis-indented", entry.key)
                        };
                        self.error(
                            entry.key_pos,
                            &key,
                            format!("{} cannot be a variable name: {hint}", entry.key),
                        );
                        continue;
                    }
                    defs.push(VarDef {
                        name: entry.key.clone(),
                        value: entry.value.clone(),
                        origin: Origin::new(&self.file, entry.key_pos),
                        key,
                        listing: None,
                    });
                }
                defs
            }
            _ => {
                self.error(
                    value.pos,
                    path,
                    format!(
                        "{what} must be a map of `name: value`, found {}",
                        value.describe()
                    ),
                );
                Vec::new()
            }
        }
    }

    /// Ansible makes every group without a parent a child of `all`.
    fn attach_orphans_to_all(&mut self) {
        for index in 1..self.layout.groups.len() {
            if self.layout.groups[index].parents.is_empty() {
                self.layout.groups[0].children.push(index);
                self.layout.groups[index].parents.push(0);
            }
        }
    }

    /// Hosts in no group but `all` belong to `ungrouped`, and only they do (as in Ansible).
    fn fill_ungrouped(&mut self) {
        let mut in_a_group = vec![false; self.layout.hosts.len()];
        for group in self
            .layout
            .groups
            .iter()
            .skip(1)
            .filter(|g| g.name != UNGROUPED)
        {
            for host in &group.hosts {
                in_a_group[*host] = true;
            }
        }
        let lonely: Vec<usize> = (0..self.layout.hosts.len())
            .filter(|h| !in_a_group[*h])
            .collect();
        let existing = self.layout.group(UNGROUPED);
        if lonely.is_empty() && existing.is_none() {
            return;
        }
        let index = match existing {
            Some(index) => index,
            None => {
                let index = self.layout.add_group(UNGROUPED, vec![0]);
                self.layout.groups[0].children.push(index);
                index
            }
        };
        self.layout.groups[index].hosts = lonely;
    }

    /// A name that is both a host and a group makes `--limit` and `group_vars/` ambiguous.
    fn check_name_clashes(&mut self) {
        let clashes: Vec<(Pos, String, String)> = self
            .layout
            .hosts
            .iter()
            .filter(|host| self.layout.group(&host.name).is_some())
            .map(|host| (host.pos, host.key.clone(), host.name.clone()))
            .collect();
        for (pos, key, name) in clashes {
            self.error(
                pos,
                &key,
                format!("{name} is both a group and a host; rename one (--limit and group_vars/ could not tell them apart)"),
            );
        }
    }
}
