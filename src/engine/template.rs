//! Templates and expressions: Jinja2's syntax as Ansible uses it, by minijinja.
//!
//! Undefined variables are errors, never empty strings (a task that would write
//! `/home//.ssh` because of a typo must fail), and the error names the variable. A string that
//! is exactly one `{{ expression }}` gives the expression's own value (a list, a number, `none`),
//! as Ansible's native types do; any other templated string gives a string. Files of a role's
//! `templates/` keep their trailing newline (Ansible's template module does too).

use minijinja::syntax::SyntaxConfig;
use minijinja::{Environment, ErrorKind, UndefinedBehavior, Value};

/// The work one render or evaluation may do (minijinja's fuel: about one unit per instruction,
/// and one per 64 bytes allocated or written). The largest template relayctl ships (a classic
/// relay's ruleset) takes about 10 000; a role may still render a file of 64 MiB (about 2.1
/// million: the string, then its output), which the lab's interrupted-transfer test does. A
/// template that loops over itself stops at about 256 MB and 0.1 s of a release build (0.75 s
/// of a debug one), measured with a nested range loop, not after seconds and gigabytes.
pub const RENDER_FUEL: u64 = 4_000_000;

/// How deep includes, macros and nested blocks may go: ours go 3 deep.
const RECURSION_LIMIT: usize = 100;

/// The template engine of a run, shared by every host.
pub struct Templates {
    env: Environment<'static>,
}

/// Whether `text` holds template syntax.
pub fn is_template(text: &str) -> bool {
    text.contains("{{") || text.contains("{%") || text.contains("{#")
}

/// The variable a string names when it is exactly `{{ name }}`: the argument it fills takes the
/// variable's value as it is.
pub fn sole_variable(text: &str) -> Option<&str> {
    sole_expression(text).filter(|expr| {
        !expr.is_empty() && expr.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// The expression of a string that is one `{{ … }}` and nothing else.
fn sole_expression(text: &str) -> Option<&str> {
    let inner = text.trim().strip_prefix("{{")?.strip_suffix("}}")?;
    (!inner.contains("{{") && !inner.contains("}}")).then_some(inner.trim())
}

impl Default for Templates {
    fn default() -> Self {
        Templates::new()
    }
}

impl Templates {
    pub fn new() -> Self {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_fuel(Some(RENDER_FUEL));
        env.set_recursion_limit(RECURSION_LIMIT);
        if let Ok(syntax) = SyntaxConfig::builder().keep_trailing_newline(true).build() {
            env.set_syntax(syntax);
        }
        // Ansible's `quote`: one shell word.
        env.add_filter("quote", |s: String| crate::sh::quote(&s));
        Templates { env }
    }

    /// Checks the syntax of a templated string.
    pub fn check_template(&self, source: &str) -> Result<(), String> {
        match sole_expression(source) {
            Some(expr) => self.check_expression(expr),
            None => self
                .env
                .template_from_str(source)
                .map(drop)
                .map_err(|e| describe(&e)),
        }
    }

    /// Checks the syntax of an expression (`when:`, `changed_when:`, `that:`).
    pub fn check_expression(&self, source: &str) -> Result<(), String> {
        self.env
            .compile_expression(source)
            .map(drop)
            .map_err(|e| describe(&e))
    }

    /// Adds a role's template file under `name`, checking its syntax.
    pub fn add_file(&mut self, name: String, source: String) -> Result<(), String> {
        self.env
            .add_template_owned(name, source)
            .map_err(|e| describe(&e))
    }

    /// Renders a role's template file.
    pub fn render_file(&self, name: &str, ctx: &Value) -> Result<String, String> {
        let template = self.env.get_template(name).map_err(|e| describe(&e))?;
        template
            .render(ctx)
            .map_err(|e| self.explain(&e, || template.undeclared_variables(true), ctx))
    }

    /// Evaluates an expression to a value; an expression that comes to an undefined value
    /// (`{{ nope }}`) is an error too, as printing it would be.
    pub fn eval(&self, expr: &str, ctx: &Value) -> Result<Value, String> {
        let compiled = self
            .env
            .compile_expression(expr)
            .map_err(|e| describe(&e))?;
        let names = || compiled.undeclared_variables(true);
        match compiled.eval(ctx) {
            Ok(value) if value.is_undefined() => Err(self.explain(
                &minijinja::Error::from(ErrorKind::UndefinedError),
                names,
                ctx,
            )),
            Ok(value) => Ok(value),
            Err(e) => Err(self.explain(&e, names, ctx)),
        }
    }

    /// Evaluates a condition: its truth, as Jinja2's `if` sees it.
    pub fn is_true(&self, expr: &str, ctx: &Value) -> Result<bool, String> {
        self.eval(expr, ctx).map(|v| v.is_true())
    }

    /// Renders every templated string in a YAML value.
    pub fn render_value(
        &self,
        value: &serde_json::Value,
        ctx: &Value,
    ) -> Result<serde_json::Value, String> {
        use serde_json::Value as Json;
        Ok(match value {
            Json::String(s) if is_template(s) => match sole_expression(s) {
                Some(expr) => {
                    let result = self.eval(expr, ctx)?;
                    serde_json::to_value(&result).map_err(|e| e.to_string())?
                }
                None => Json::String(self.render_str(s, ctx)?),
            },
            Json::Array(items) => Json::Array(
                items
                    .iter()
                    .map(|item| self.render_value(item, ctx))
                    .collect::<Result<_, _>>()?,
            ),
            Json::Object(map) => Json::Object(
                map.iter()
                    .map(|(k, v)| Ok((k.clone(), self.render_value(v, ctx)?)))
                    .collect::<Result<_, String>>()?,
            ),
            other => other.clone(),
        })
    }

    fn render_str(&self, source: &str, ctx: &Value) -> Result<String, String> {
        let template = self
            .env
            .template_from_str(source)
            .map_err(|e| describe(&e))?;
        template
            .render(ctx)
            .map_err(|e| self.explain(&e, || template.undeclared_variables(true), ctx))
    }

    /// An undefined-variable error names the variable; others say what minijinja says.
    fn explain(
        &self,
        error: &minijinja::Error,
        names: impl FnOnce() -> std::collections::HashSet<String>,
        ctx: &Value,
    ) -> String {
        if error.kind() == ErrorKind::UndefinedError {
            let mut names: Vec<String> = names().into_iter().collect();
            names.sort();
            if let Some(missing) = names.iter().find(|name| !resolves(name, ctx)) {
                return format!("undefined variable {missing}");
            }
        }
        describe(error)
    }
}

/// Whether a dotted variable path (`ansible_facts.fqdn`) has a value in the context.
fn resolves(path: &str, ctx: &Value) -> bool {
    let mut value = ctx.clone();
    for part in path.split('.') {
        match value.get_attr(part) {
            Ok(next) if !next.is_undefined() => value = next,
            _ => return false,
        }
    }
    true
}

/// minijinja's message, without the template name it gives to strings.
fn describe(error: &minijinja::Error) -> String {
    let mut text = error.kind().to_string();
    if let Some(detail) = error.detail() {
        text = format!("{text}: {detail}");
    }
    if let Some(line) = error.line()
        && line > 1
    {
        text = format!("{text} (line {line})");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctx(value: serde_json::Value) -> Value {
        Value::from(minijinja::value::Serde(&value))
    }

    #[test]
    fn a_sole_expression_keeps_its_type() {
        let t = Templates::new();
        let c = ctx(json!({"ports": [22, 5222], "key": null, "name": "medulla"}));
        assert_eq!(
            t.render_value(&json!("{{ ports }}"), &c),
            Ok(json!([22, 5222]))
        );
        assert_eq!(t.render_value(&json!("{{ key }}"), &c), Ok(json!(null)));
        assert_eq!(
            t.render_value(&json!("/home/{{ name }}/.ssh"), &c),
            Ok(json!("/home/medulla/.ssh"))
        );
    }

    #[test]
    fn an_undefined_variable_is_named() {
        let t = Templates::new();
        let c = ctx(json!({"ansible_facts": {"fqdn": "r.example.com"}}));
        assert_eq!(
            t.render_value(&json!("/home/{{ medula_user }}"), &c),
            Err("undefined variable medula_user".into())
        );
        assert_eq!(
            t.eval("ansible_facts.hostname == 'x'", &c),
            Err("undefined variable ansible_facts.hostname".into())
        );
    }

    #[test]
    fn conditions_may_test_for_definedness() {
        let t = Templates::new();
        let c = ctx(json!({"a": 1, "n": null}));
        assert_eq!(t.is_true("b is defined", &c), Ok(false));
        assert_eq!(t.is_true("a is defined and a == 1", &c), Ok(true));
        assert_eq!(t.is_true("n is none", &c), Ok(true));
    }

    #[test]
    fn syntax_errors_are_found_before_rendering() {
        let t = Templates::new();
        assert!(t.check_template("{{ a }").is_err());
        assert!(t.check_template("{% if a %}x").is_err());
        assert!(t.check_expression("a ==").is_err());
        assert!(t.check_template("plain {{ a | quote }}").is_ok());
    }

    #[test]
    fn a_template_that_would_loop_for_seconds_runs_out_of_fuel() {
        let t = Templates::new();
        let nested =
            "{% for a in range(10000) %}{% for b in range(10000) %}x{% endfor %}{% endfor %}";
        let error = t
            .render_value(&json!(nested), &ctx(json!({})))
            .expect_err("stopped");
        assert!(error.starts_with("engine ran out of fuel"), "{error}");
        // What relayctl's own largest templates need stays far below the budget (the ruleset's
        // snapshot tests render under it).
        assert_eq!(
            t.render_value(&json!("{{ 6 * 7 }}"), &ctx(json!({}))),
            Ok(json!(42))
        );
    }

    #[test]
    fn files_keep_their_trailing_newline() {
        let mut t = Templates::new();
        t.add_file("r/x.j2".into(), "{{ a }}\n".into())
            .expect("valid");
        assert_eq!(
            t.render_file("r/x.j2", &ctx(json!({"a": 1}))),
            Ok("1\n".into())
        );
    }
}
