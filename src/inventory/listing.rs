//! What `relayctl inventory` prints: the inventory as `ansible-inventory` (ansible-core 2.19)
//! prints it, so that an operator can compare the two, and a test does (tests/integration).
//!
//! `--list`: one JSON object, keys sorted, four-space indent: each group with its direct
//! `hosts` and `children` (and, with `--export`, its own `vars`), a group with none of them left
//! out, `all` without hosts and with `ungrouped` first among its children; `_meta.hostvars`
//! holds each host's variables (merged, or with `--export` its own only), hosts without any left
//! out. `--host NAME`: that host's variables. `--graph [GROUP]`: the tree of groups and hosts.
//! A value Ansible Vault kept is never shown decrypted: an inline `!vault` value is shown as
//! Ansible shows it (`{"__ansible_vault": "$ANSIBLE_VAULT;..."}`), a value of an encrypted file
//! as `********`.

use std::collections::HashSet;

use serde_json::{Map, Value, json};

use super::hosts::{Group, Inventory};
use super::structure::{ALL, UNGROUPED};
use super::vars::Vars;

/// `ansible-inventory --list` (`export`: `--list --export`).
pub fn list(inventory: &Inventory, export: bool) -> Value {
    let mut root = Map::new();
    for group in &inventory.groups {
        let mut entry = Map::new();
        if group.name != ALL && !group.hosts.is_empty() {
            entry.insert("hosts".into(), json!(group.hosts));
        }
        let children = children(group);
        if !children.is_empty() {
            entry.insert("children".into(), json!(children));
        }
        if export && !group.vars.is_empty() {
            entry.insert("vars".into(), shown(&group.vars));
        }
        if !entry.is_empty() {
            root.insert(group.name.clone(), Value::Object(entry));
        }
    }
    let mut hostvars = Map::new();
    for host in &inventory.hosts {
        let vars = if export { &host.own_vars } else { &host.vars };
        if !vars.is_empty() {
            hostvars.insert(host.name.clone(), shown(vars));
        }
    }
    root.insert(
        "_meta".into(),
        json!({"hostvars": hostvars, "profile": "inventory_legacy"}),
    );
    Value::Object(root)
}

/// `ansible-inventory --host NAME`, or `None` for a host the inventory does not have.
pub fn host(inventory: &Inventory, name: &str) -> Option<Value> {
    inventory.host(name).map(|host| shown(&host.vars))
}

/// `ansible-inventory --graph [GROUP] [--vars]`; the error names a group that does not exist.
pub fn graph(inventory: &Inventory, top: &str, with_vars: bool) -> Result<String, String> {
    let group = find(inventory, top).ok_or_else(|| format!("no group {top:?} in the inventory"))?;
    let mut lines = Vec::new();
    let mut on_path = HashSet::new();
    graph_group(inventory, group, 0, with_vars, &mut on_path, &mut lines);
    Ok(lines.join("\n") + "\n")
}

/// JSON as ansible-inventory prints it: keys sorted, four-space indent.
pub fn to_text(value: &Value) -> String {
    use serde::Serialize;
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    // Writing a Value to memory cannot fail.
    let _ = value.serialize(&mut serializer);
    String::from_utf8_lossy(&out).into_owned() + "\n"
}

fn find<'i>(inventory: &'i Inventory, name: &str) -> Option<&'i Group> {
    inventory.groups.iter().find(|g| g.name == name)
}

/// A group's children as Ansible orders them: `ungrouped` is always the first of `all`'s.
fn children(group: &Group) -> Vec<&str> {
    let mut children: Vec<&str> = group.children.iter().map(String::as_str).collect();
    if group.name == ALL {
        children.retain(|c| *c != UNGROUPED);
        children.insert(0, UNGROUPED);
    }
    children
}

fn shown(vars: &Vars) -> Value {
    Value::Object(
        vars.iter()
            .map(|(name, var)| (name.clone(), var.listed().clone()))
            .collect(),
    )
}

fn graph_group(
    inventory: &Inventory,
    group: &Group,
    depth: usize,
    with_vars: bool,
    on_path: &mut HashSet<String>,
    lines: &mut Vec<String>,
) {
    lines.push(graph_line(&format!("@{}:", group.name), depth));
    if !on_path.insert(group.name.clone()) {
        return;
    }
    for child in children(group) {
        if let Some(child) = find(inventory, child) {
            graph_group(inventory, child, depth + 1, with_vars, on_path, lines);
        } else if child == UNGROUPED {
            lines.push(graph_line("@ungrouped:", depth + 1));
        }
    }
    if group.name != ALL {
        for name in &group.hosts {
            lines.push(graph_line(name, depth + 1));
            if with_vars && let Some(host) = inventory.host(name) {
                vars_lines(&host.vars, depth + 2, lines);
            }
        }
    }
    if with_vars {
        vars_lines(&group.vars, depth + 1, lines);
    }
    on_path.remove(&group.name);
}

fn graph_line(name: &str, depth: usize) -> String {
    if depth == 0 {
        name.to_owned()
    } else {
        format!("{}--{name}", "  |".repeat(depth))
    }
}

fn vars_lines(vars: &Vars, depth: usize, lines: &mut Vec<String>) {
    for (name, var) in vars.iter() {
        let value = match var.listed() {
            Value::String(text) => text.clone(),
            other => python_repr(other),
        };
        lines.push(graph_line(&format!("{{{name} = {value}}}"), depth));
    }
}

/// A value as Python prints it (`--graph --vars` shows `str(value)`).
fn python_repr(value: &Value) -> String {
    match value {
        Value::Null => "None".to_owned(),
        Value::Bool(true) => "True".to_owned(),
        Value::Bool(false) => "False".to_owned(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(python_repr).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!(
                    "{}: {}",
                    python_repr(&Value::String(k.clone())),
                    python_repr(v)
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::LoadOptions;
    use crate::inventory::load::load_source;
    use std::path::Path;

    fn inventory(text: &str) -> Inventory {
        load_source(
            Path::new("inventories/test.yaml"),
            text,
            false,
            &LoadOptions::default(),
        )
        .unwrap_or_else(|e| panic!("{e}"))
    }

    const TEXT: &str = "all:\n  vars:\n    top: 1\n  children:\n    b:\n      hosts:\n        h2: {x: [1, 2], y: {a: b}}\n    \
                        a:\n      vars: {av: 1}\n      hosts:\n        h1:\n      children:\n        empty:\n";

    #[test]
    fn list_is_ansible_inventory_s_shape() {
        let shown = list(&inventory(TEXT), false);
        assert_eq!(
            shown,
            json!({
                "_meta": {
                    "hostvars": {
                        "h1": {"av": 1, "top": 1},
                        "h2": {"top": 1, "x": [1, 2], "y": {"a": "b"}},
                    },
                    "profile": "inventory_legacy",
                },
                "a": {"children": ["empty"], "hosts": ["h1"]},
                "all": {"children": ["ungrouped", "b", "a"]},
                "b": {"hosts": ["h2"]},
            })
        );
        let exported = list(&inventory(TEXT), true);
        assert_eq!(exported["a"]["vars"], json!({"av": 1}));
        assert_eq!(exported["all"]["vars"], json!({"top": 1}));
        assert_eq!(
            exported["_meta"]["hostvars"],
            json!({"h2": {"x": [1, 2], "y": {"a": "b"}}})
        );
        assert!(to_text(&shown).starts_with("{\n    \"_meta\": {\n        \"hostvars\": {\n"));
    }

    #[test]
    fn graph_is_ansible_inventory_s_tree() {
        assert_eq!(
            graph(&inventory(TEXT), "all", true).expect("graph"),
            "@all:\n  |--@ungrouped:\n  |--@b:\n  |  |--h2\n  |  |  |--{top = 1}\n  |  |  |--{x = [1, 2]}\n  |  |  |--{y = {'a': 'b'}}\n  \
             |--@a:\n  |  |--@empty:\n  |  |--h1\n  |  |  |--{av = 1}\n  |  |  |--{top = 1}\n  |  |--{av = 1}\n  |--{top = 1}\n"
        );
        assert_eq!(
            graph(&inventory(TEXT), "a", false).expect("graph"),
            "@a:\n  |--@empty:\n  |--h1\n"
        );
        assert!(graph(&inventory(TEXT), "nope", false).is_err());
        assert_eq!(
            host(&inventory(TEXT), "h1"),
            Some(json!({"av": 1, "top": 1}))
        );
    }
}
