//! Templates in connection variables, resolved from the host's own variables, as Ansible
//! resolves `ansible_user: "{{ admin_user }}"` or `ansible_host: "{{ ip | default('10.0.0.1') }}"`
//! before it connects.
//!
//! A connection must be known before anything runs, and a template here is read on the
//! controller: so it may name the host's variables and `inventory_hostname`,
//! `inventory_hostname_short` and `group_names`, with minijinja's filters (`default`, `lower`,
//! `replace` ...), and nothing else. `lookup`, `query`, `hostvars[...]`, `groups` and the
//! other names that reach past the host (another host, a file, the environment, a command)
//! are refused, named. A template that names a variable itself a template is rendered again,
//! a few times at most; the fuel of the engine bounds each rendering.

use std::collections::HashSet;

use minijinja::{Environment, UndefinedBehavior};
use serde_json::{Map, Value};

use super::vars::Vars;

/// Names a connection template may not use: each reaches past the host's own variables.
const OUTSIDE: &[&str] = &[
    "lookup",
    "query",
    "q",
    "hostvars",
    "groups",
    "vars",
    "environment",
    "playbook_dir",
    "inventory_dir",
    "inventory_file",
    "ansible_facts",
    "omit",
];

/// A template naming a template naming a template ...: past this, it is a loop.
const MAX_PASSES: usize = 8;

/// How much work one rendering may do (minijinja's fuel): a filter chain of an honest template
/// uses tens.
const FUEL: u64 = 10_000;

/// Whether a value is a template to resolve.
pub(crate) fn is_template(text: &str) -> bool {
    text.contains("{{") || text.contains("{%")
}

/// The value of the template `text` for the host `name` in `groups` with `vars`; the error says
/// why, for the operator.
pub(crate) fn render(
    text: &str,
    name: &str,
    groups: &[String],
    vars: &Vars,
) -> Result<String, String> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_fuel(Some(FUEL));
    for global in [
        "range",
        "dict",
        "debug",
        "namespace",
        "lipsum",
        "cycler",
        "joiner",
    ] {
        env.remove_global(global);
    }
    let mut context: Map<String, Value> = vars.to_json();
    context.insert("inventory_hostname".into(), Value::String(name.to_owned()));
    context.insert(
        "inventory_hostname_short".into(),
        Value::String(name.split('.').next().unwrap_or(name).to_owned()),
    );
    let own_groups: Vec<Value> = groups
        .iter()
        .filter(|g| *g != "all" && *g != "ungrouped")
        .map(|g| Value::String(g.clone()))
        .collect();
    context.insert("group_names".into(), Value::Array(own_groups));
    let context = minijinja::Value::from(minijinja::value::Serde(&context));

    let mut current = text.to_owned();
    let mut seen = HashSet::new();
    for _ in 0..MAX_PASSES {
        if !is_template(&current) {
            return Ok(current);
        }
        if !seen.insert(current.clone()) {
            break;
        }
        let template = env
            .template_from_str(&current)
            .map_err(|e| format!("the template {current:?} does not parse: {}", describe(&e)))?;
        let mut outside: Vec<String> = template
            .undeclared_variables(false)
            .into_iter()
            .filter(|used| OUTSIDE.contains(&used.as_str()) && !vars.contains(used))
            .collect();
        outside.sort();
        if let Some(used) = outside.first() {
            return Err(format!(
                "the template {current:?} uses {used}, which reaches past this host's own variables: a connection \
                 variable's template may name only the host's variables, inventory_hostname and group_names"
            ));
        }
        current = template.render(&context).map_err(|e| {
            format!(
                "the template {current:?} cannot be resolved: {}",
                describe(&e)
            )
        })?;
    }
    Err(format!(
        "the template {text:?} still reads as a template after {MAX_PASSES} renderings: variables that name \
         each other in a loop"
    ))
}

/// minijinja's error, without the debug dump of the template.
fn describe(error: &minijinja::Error) -> String {
    match error.detail() {
        Some(detail) => format!("{} ({detail})", error.kind()),
        None => error.kind().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::Pos;
    use crate::inventory::vars::{Origin, Var};
    use serde_json::json;
    use std::path::Path;

    fn vars(list: &[(&str, Value)]) -> Vars {
        Vars(
            list.iter()
                .map(|(name, value)| {
                    (
                        (*name).to_owned(),
                        Var {
                            value: value.clone(),
                            origin: Origin::new(Path::new("i.yaml"), Pos::START),
                            listing: None,
                        },
                    )
                })
                .collect(),
        )
    }

    fn render_for(text: &str, list: &[(&str, Value)]) -> Result<String, String> {
        render(
            text,
            "relay01.lab.test",
            &["all".into(), "relays".into()],
            &vars(list),
        )
    }

    #[test]
    fn the_host_s_own_variables_and_filters_resolve() {
        assert_eq!(
            render_for("{{ admin_user }}", &[("admin_user", json!("ops"))]).as_deref(),
            Ok("ops")
        );
        assert_eq!(
            render_for("{{ missing | default('admin') }}", &[]).as_deref(),
            Ok("admin")
        );
        assert_eq!(
            render_for(
                "{{ inventory_hostname_short }}-{{ group_names | join(',') }}",
                &[]
            )
            .as_deref(),
            Ok("relay01-relays")
        );
        assert_eq!(
            render_for(
                "{{ a }}",
                &[("a", json!("{{ b }}")), ("b", json!("10.0.0.1"))]
            )
            .as_deref(),
            Ok("10.0.0.1")
        );
        assert_eq!(render_for("plain", &[]).as_deref(), Ok("plain"));
    }

    #[test]
    fn what_reaches_past_the_host_is_refused_by_name() {
        for (template, used) in [
            ("{{ lookup('env', 'HOME') }}", "lookup"),
            ("{{ hostvars['relay02'].ansible_host }}", "hostvars"),
            ("{{ groups['all'][0] }}", "groups"),
            ("{{ query('file', '/etc/passwd') }}", "query"),
        ] {
            let error = render_for(template, &[]).expect_err("refused");
            assert!(
                error.contains(&format!("uses {used}, which reaches past")),
                "{error}"
            );
        }
        assert!(
            render_for("{{ nowhere }}", &[])
                .expect_err("undefined")
                .contains("undefined")
        );
        assert!(
            render_for(
                "{{ a }}",
                &[("a", json!("{{ b }}")), ("b", json!("{{ a }}"))]
            )
            .expect_err("a loop")
            .contains("in a loop")
        );
        assert!(render_for("{% for x in range(10**9) %}x{% endfor %}", &[]).is_err());
    }
}
