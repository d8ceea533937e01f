//! Variable precedence: which definition wins for each host. It is Ansible's, so an inventory
//! means the same to relayctl as to `ansible-inventory --host`. From lowest to highest:
//!
//! 1. the inventory file's `all` vars;
//! 2. the inventory file's vars of the host's other groups, in group order (below);
//! 3. `group_vars/all`;
//! 4. `group_vars/<group>` of the host's other groups, in group order;
//! 5. the inventory file's host vars (every place the host is written, in file order);
//! 6. `host_vars/<host>`.
//!
//! Note what this implies (Ansible's documented order, often misread): a `group_vars/` file,
//! even `group_vars/all`, overrides the inventory file's vars of every group, a child group's
//! included; inventory-file host vars override every group variable.
//!
//! Group order: by depth (the longest chain of `children:` from `all`; a parent is shallower
//! than its children, so a child's value wins), then by `ansible_group_priority` (default 1,
//! higher wins; only read from the inventory file's group vars), then by name: sibling groups at
//! the same depth merge alphabetically, the later name winning (Ansible's rule: with groups
//! `classic_relays` and `site_a` setting the same variable, `site_a` wins). Within one place,
//! a later definition wins. A winning value replaces the whole value (maps are not deep-merged,
//! Ansible's default `hash_behaviour = replace`).

use super::names::GROUP_PRIORITY;
use super::structure::Layout;
use super::values;
use super::var_files::VarFiles;
use super::vars::{VarDef, Vars};
use crate::input::error::InputError;

/// Ansible's default `ansible_group_priority`.
const DEFAULT_PRIORITY: i64 = 1;

/// A host's groups (`all` first, then in group order) and its merged variables.
#[derive(Debug)]
pub(crate) struct Merged {
    pub groups: Vec<String>,
    pub vars: Vars,
}

/// Per-group sort keys, and the groups that list each host, computed once for the whole
/// inventory (searching every group's hosts for each host would be quadratic: minutes for an
/// inventory of 100 000 hosts).
pub(crate) struct GroupOrder {
    depth: Vec<usize>,
    priority: Vec<i64>,
    /// By host: the groups that list it under `hosts:`.
    listing: Vec<Vec<usize>>,
}

impl GroupOrder {
    /// Problems with `ansible_group_priority` values go to `errors`.
    pub(crate) fn new(layout: &Layout, errors: &mut Vec<InputError>) -> Self {
        let mut depth = vec![None; layout.groups.len()];
        for index in 0..layout.groups.len() {
            depth_of(layout, index, &mut depth);
        }
        let priority = layout
            .groups
            .iter()
            .map(|group| {
                let def = group
                    .vars
                    .iter()
                    .rev()
                    .find(|def| def.name == GROUP_PRIORITY);
                def.map_or(DEFAULT_PRIORITY, |def| {
                    match values::integer(&def.value, "a whole number") {
                        Ok(priority) => priority,
                        Err(problem) => {
                            errors.push(problem.into_error(&def.origin.file, &def.key));
                            DEFAULT_PRIORITY
                        }
                    }
                })
            })
            .collect();
        let mut listing = vec![Vec::new(); layout.hosts.len()];
        for (index, group) in layout.groups.iter().enumerate() {
            for host in &group.hosts {
                listing[*host].push(index);
            }
        }
        Self {
            depth: depth.into_iter().map(Option::unwrap_or_default).collect(),
            priority,
            listing,
        }
    }
}

/// Longest chain from `all` (depth 0); the layout has no cycles (structure.rs refuses them).
fn depth_of(layout: &Layout, index: usize, memo: &mut Vec<Option<usize>>) -> usize {
    if let Some(depth) = memo[index] {
        return depth;
    }
    let depth = layout.groups[index]
        .parents
        .iter()
        .map(|parent| depth_of(layout, *parent, memo) + 1)
        .max()
        .unwrap_or(0);
    memo[index] = Some(depth);
    depth
}

/// The groups containing `host` (directly or through children), `all` first, in group order.
fn groups_of(layout: &Layout, order: &GroupOrder, host: usize) -> Vec<usize> {
    let mut member = vec![false; layout.groups.len()];
    let mut stack = order.listing[host].clone();
    stack.push(0);
    while let Some(group) = stack.pop() {
        if !std::mem::replace(&mut member[group], true) {
            stack.extend(layout.groups[group].parents.iter().copied());
        }
    }
    let mut groups: Vec<usize> = (0..layout.groups.len()).filter(|g| member[*g]).collect();
    groups.sort_by(|a, b| {
        (order.depth[*a], order.priority[*a], &layout.groups[*a].name).cmp(&(
            order.depth[*b],
            order.priority[*b],
            &layout.groups[*b].name,
        ))
    });
    groups
}

/// Applies the precedence above for one host.
pub(crate) fn merge(layout: &Layout, files: &VarFiles, order: &GroupOrder, host: usize) -> Merged {
    let groups = groups_of(layout, order, host);
    let name = &layout.hosts[host].name;
    let no_defs: Vec<VarDef> = Vec::new();
    let group_files = |g: usize| files.groups.get(&layout.groups[g].name).unwrap_or(&no_defs);

    let layers = groups
        .iter()
        .map(|g| &layout.groups[*g].vars)
        .chain(groups.iter().map(|g| group_files(*g)))
        .chain(std::iter::once(&layout.hosts[host].vars))
        .chain(std::iter::once(files.hosts.get(name).unwrap_or(&no_defs)));

    let mut vars = Vars::default();
    // ansible_group_priority orders groups; as in Ansible, it is no variable of any host.
    for def in layers.flatten().filter(|def| def.name != GROUP_PRIORITY) {
        vars.set(def);
    }
    Merged {
        groups: groups
            .iter()
            .map(|g| layout.groups[*g].name.clone())
            .collect(),
        vars,
    }
}
