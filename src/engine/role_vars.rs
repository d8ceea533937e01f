//! The role variables an inventory or `-e` sets, checked before any host is contacted. Each is
//! typed twice: by its default (a number stays a number, so `31541\rDefaultEnvironment=…` is not
//! one; a line stays one line) and by the module arguments it fills (`name: "{{ medulla_user }}"`
//! makes `medulla_user` an account relayctl creates and grants sudo to, never `ALL` or `root`).
//! A value that is itself a template is checked once rendered for its host, as every argument is.

use std::collections::BTreeMap;

use serde_json::Value;

use super::catalog::Catalog;
use super::template::{is_template, sole_variable};
use crate::input::InputError;
use crate::inventory::Host;
use crate::modules::ArgKind;

/// What a role variable must be.
#[derive(Debug, Default)]
struct VarType {
    /// From its default: the kind of the default's value.
    default: Option<ArgKind>,
    /// From its uses: `(role, module.argument, kind)` for each argument it fills alone.
    uses: Vec<(String, String, ArgKind)>,
}

/// The types of every role variable of `catalog`.
fn types(catalog: &Catalog) -> BTreeMap<String, VarType> {
    let mut types: BTreeMap<String, VarType> = BTreeMap::new();
    for role in catalog.roles() {
        for (name, value, _) in &role.defaults {
            types.entry(name.clone()).or_default().default = default_kind(value);
        }
        for task in role.tasks.iter().chain(&role.handlers) {
            for (arg, value) in &task.args {
                let Some(spec) = task.module.args.iter().find(|spec| spec.name == *arg) else {
                    continue;
                };
                if let Some(name) = value.as_str().and_then(sole_variable) {
                    let uses = &mut types.entry(name.to_string()).or_default().uses;
                    let place = format!("{}.{arg}", task.module.name);
                    uses.push((role.name.clone(), place, spec.kind));
                }
            }
        }
    }
    types
}

/// What a default's value says of the variable: a number, a boolean, a line or several.
fn default_kind(value: &Value) -> Option<ArgKind> {
    match value {
        Value::Number(n) if n.is_i64() => Some(ArgKind::Int),
        Value::Bool(_) => Some(ArgKind::Bool),
        Value::String(s) if s.contains('\n') => Some(ArgKind::Text),
        Value::String(_) => Some(ArgKind::Str),
        _ => None,
    }
}

/// Every role variable that a selected host sets, checked; one error per definition.
pub fn check(catalog: &Catalog, hosts: &[&Host]) -> Vec<InputError> {
    let types = types(catalog);
    let mut errors = Vec::new();
    for host in hosts {
        for (name, var) in host.vars.iter() {
            let Some(var_type) = types.get(name) else {
                continue;
            };
            if var.value.is_null() || holds_template(&var.value) {
                continue;
            }
            let error = |message: String| {
                InputError::at(&var.origin.file, var.origin.pos(), name.clone(), message)
            };
            if let Some(kind) = var_type.default
                && let Err(e) = kind.check(&var.value)
            {
                errors.push(error(format!("{e} (its default is {})", kind_name(kind))));
                continue;
            }
            for (role, place, kind) in &var_type.uses {
                if let Err(e) = kind.check(&var.value) {
                    errors.push(error(format!("{e} (role {role} gives it to {place})")));
                    break;
                }
            }
        }
    }
    errors
}

fn holds_template(value: &Value) -> bool {
    match value {
        Value::String(s) => is_template(s),
        Value::Array(items) => items.iter().any(holds_template),
        Value::Object(map) => map.values().any(holds_template),
        _ => false,
    }
}

fn kind_name(kind: ArgKind) -> &'static str {
    match kind {
        ArgKind::Int => "a whole number",
        ArgKind::Bool => "a boolean",
        ArgKind::Text => "a text of several lines",
        _ => "one line of text",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::{self, LoadOptions};

    fn errors_for(yaml: &str) -> Vec<String> {
        let catalog = Catalog::load(None).unwrap_or_else(|e| panic!("{e}"));
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("inventory.yaml");
        std::fs::write(&path, yaml).expect("write");
        let options = LoadOptions {
            role_vars: catalog.variable_names(),
            extra_vars: Vec::new(),
            ..LoadOptions::default()
        };
        let inventory = inventory::load(std::slice::from_ref(&path), &options)
            .unwrap_or_else(|e| panic!("{e}"));
        let hosts: Vec<&Host> = inventory.hosts.iter().collect();
        check(&catalog, &hosts)
            .into_iter()
            .map(|e| e.to_string().replace(&format!("{}", path.display()), "inv"))
            .collect()
    }

    #[test]
    fn a_carriage_return_cannot_ride_a_number_into_system_conf() {
        assert_eq!(
            errors_for(
                "all:\n  hosts:\n    relay01:\n      \
                 medulla_default_limit_nproc: \"31541\\rDefaultEnvironment=LD_PRELOAD=/tmp/evil.so\"\n"
            ),
            [
                "inv:4:7: medulla_default_limit_nproc: expected a whole number, found the string \
              \"31541\\rDefaultEnvironment=LD_PRELOAD=/tmp/evil.so\" (its default is a whole number)"
            ]
        );
        // As `-e name=value` writes it, a number is text of digits: accepted.
        assert_eq!(
            errors_for(
                "all:\n  hosts:\n    relay01:\n      medulla_default_limit_nproc: \"40000\"\n"
            ),
            Vec::<String>::new()
        );
    }

    #[test]
    fn the_medulla_account_is_never_all_root_or_a_system_account() {
        let user = |name: &str| {
            errors_for(&format!(
                "all:\n  hosts:\n    relay01:\n      medulla_user: {name}\n"
            ))
        };
        assert_eq!(
            user("ALL"),
            [
                "inv:4:7: medulla_user: ALL is not an account: in a sudoers rule it stands for every \
              user of the host (role medulla_user gives it to user.name)"
            ]
        );
        assert_eq!(user("root").len(), 1, "{:?}", user("root"));
        assert!(user("root")[0].contains("root is a system account"));
        assert_eq!(user("daemon").len(), 1);
        assert_eq!(user("siveo-admin"), Vec::<String>::new());
        // A template is checked once rendered, for its host.
        assert_eq!(user("\"{{ inventory_hostname }}\""), Vec::<String>::new());
    }

    #[test]
    fn a_line_stays_one_line_and_a_text_holds_no_escape() {
        let errors = errors_for(
            "all:\n  hosts:\n    relay01:\n      medulla_user_home: \"/home/m\\u0085x\"\n      \
             medulla_coredump_limits: \"* hard core 0\\n\\u001b[2J\"\n",
        );
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].contains("U+001B (escape)"), "{errors:?}");
        assert!(errors[1].contains("U+0085 (next line)"), "{errors:?}");
    }
}
