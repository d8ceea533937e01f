//! Every module that works on a host, given values an attacker or a careless operator could
//! write (quotes, `$(…)`, backticks, `;`, blanks, globbing characters), its probe and its step
//! run for real as root in the lab's scratch host: the value lands where it should, exactly as
//! written, and nothing else runs. Values with a line break, a carriage return or an escape are
//! refused before any script is made.

use std::collections::{BTreeMap, HashMap};
use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use relayctl::engine::batch::{self, Section};
use relayctl::modules::{self, Action, BuildContext, Findings, ModuleKind, Rendered, RunScope};
use relayctl::sh::quote;

use crate::harness::{LabHost, docker_exec, host, state_dir};
use crate::lab::{exclusive, reset};

/// Each would leave a file whose name starts with `pwned` if the shell ever ran it.
const DIR: &str =
    "/srv/h 'q' \"d\" $(touch /tmp/pwned-d1) `touch /tmp/pwned-d2`;touch /tmp/pwned-d3 *?[x]";
const LINE: &str =
    "v $(touch /tmp/pwned-l1) `touch /tmp/pwned-l2` 'q' \"d\"; touch /tmp/pwned-l3 | * & $HOME";
const TEXT: &str = "first $(touch /tmp/pwned-t1)\n`touch /tmp/pwned-t2` 'q' \"d\" ;|&\n* $HOME\n";
const WORD: &str =
    "x;touch${IFS}/tmp/pwned-w1$(touch${IFS}/tmp/pwned-w2)`touch${IFS}/tmp/pwned-w3`";
/// A file name: no slash, the rest as hostile (a relative `touch` lands in the shell's directory).
const NAME: &str = "n 'q' \"d\" $(touch pwned-n1) `touch pwned-n2`;touch pwned-n3 | *?[x] & $HOME";
const USER: &str = "hostile";

fn scratch() -> &'static LabHost {
    host("scratch")
}

/// The module `name` with `args`, checked as the engine checks rendered arguments, then built.
fn action(
    name: &str,
    args: &[(&'static str, Value)],
    template: &str,
) -> Result<Box<dyn Action>, String> {
    let def = modules::find(name).expect("a module");
    let mut values = BTreeMap::new();
    for (arg, value) in args {
        let spec = def
            .args
            .iter()
            .find(|s| s.name == *arg)
            .expect("an argument");
        spec.kind
            .check(value)
            .map_err(|e| format!("argument {arg}: {e}"))?;
        values.insert(spec.name, value.clone());
    }
    let ModuleKind::Remote(build) = &def.kind else {
        panic!("{name} works on the host");
    };
    let template = template.to_string();
    let render_template = move |_: &str| Ok(template.clone());
    let role_file = |_: &str| Err("no files".to_string());
    let controller_path = |p: &str| Ok(PathBuf::from(p));
    let run = RunScope::default();
    let ctx = BuildContext {
        render_template: &render_template,
        role_file: &role_file,
        controller_path: &controller_path,
        command_timeout: Duration::from_secs(120),
        run: &run,
    };
    build(&Rendered::new(values), &ctx).map_err(|e| e.to_string())
}

/// One batch on the scratch host, as root, as the engine sends it.
fn on_scratch(section: Section) -> Findings {
    let (script, stdin) = batch::assemble(&[&section]);
    let mut child = Command::new("docker")
        .args(["exec", "-i", &scratch().container, "sh", "-c", &script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("docker runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&stdin)
        .expect("stdin written");
    let output = child.wait_with_output().expect("docker ends");
    let mut found: HashMap<usize, Findings> =
        batch::parse(&[&section], &output.stdout, &output.stderr).expect("the batch answers");
    found.remove(&section.id).expect("its section")
}

/// Probe, plan, step, as `apply` does: `Ok(changed)`, or why it failed.
fn converge(action: &dyn Action) -> Result<bool, String> {
    let found = match action.probe() {
        Some(probe) => on_scratch(Section::probe(0, probe)),
        None => Findings::default(),
    };
    let mut plan = action.plan(&found).map_err(|e| e.to_string())?;
    let Some(mut step) = plan.step.take() else {
        return Ok(false);
    };
    futures::executor::block_on(step.finish())?;
    let done = on_scratch(Section::step(0, step.script, step.stdin, step.raw_output));
    action.applied(&done).map(|_| true)
}

fn on_host(script: &str) -> String {
    docker_exec(&scratch().container, script)
}

#[test]
fn hostile_values_land_as_written_and_nothing_else_runs() {
    let _lab = exclusive();
    reset(&[scratch()]);
    let dir = json!(DIR);
    let file = |name: &str| json!(format!("{DIR}/{name}"));
    let key = std::fs::read_to_string(state_dir().join("medulla_support.pub")).expect("a key");
    let key_line = format!(
        "{} {LINE}",
        key.split_whitespace().take(2).collect::<Vec<_>>().join(" ")
    );

    let changed = |name: &str, args: &[(&'static str, Value)], template: &str| {
        let action = action(name, args, template).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(converge(action.as_ref()), Ok(true), "{name} {args:?}");
        // Once is enough: the host is now as the arguments say.
        let again = action.probe().map(|p| on_scratch(Section::probe(0, p)));
        let plan = action.plan(&again.unwrap_or_default()).expect("a plan");
        assert!(!plan.is_change(), "{name}: {:?}", plan.changes);
    };
    changed(
        "file",
        &[("path", dir.clone()), ("state", json!("directory"))],
        "",
    );
    changed(
        "file",
        &[("path", file(NAME)), ("state", json!("touch"))],
        "",
    );
    changed(
        "copy",
        &[("dest", file("copy")), ("content", json!(TEXT))],
        "",
    );
    changed(
        "template",
        &[("src", json!("t.j2")), ("dest", file("template"))],
        TEXT,
    );
    changed(
        "ini_file",
        &[
            ("path", file("x.ini")),
            ("section", json!(LINE)),
            ("option", json!("opt")),
            ("value", json!(LINE)),
        ],
        "",
    );
    changed(
        "user",
        &[("name", json!(USER)), ("comment", json!(LINE))],
        "",
    );
    changed(
        "authorized_key",
        &[("user", json!(USER)), ("key", json!(key_line))],
        "",
    );
    changed(
        "sudoers",
        &[
            ("name", json!("hostile")),
            ("user", json!(USER)),
            (
                "commands",
                json!([format!("/usr/bin/printf {}", LINE.replace(['"', '\''], ""))]),
            ),
        ],
        "",
    );
    // What cannot exist fails, and runs nothing on the way.
    let fails = |name: &str, args: &[(&'static str, Value)], template: &str| {
        let outcome = action(name, args, template).and_then(|a| converge(a.as_ref()));
        assert!(outcome.is_err(), "{name} {args:?}: {outcome:?}");
    };
    fails("package", &[("name", json!([WORD]))], "");
    fails(
        "service",
        &[("name", json!(WORD)), ("state", json!("started"))],
        "",
    );
    fails("nftables", &[("template", json!("t.j2"))], TEXT);
    // A command runs in its directory unless what it creates is there: the file touched above
    // is found under its hostile name, one that is not there is not.
    let command = |creates: Value| {
        let args = [
            ("cmd", json!("true")),
            ("chdir", dir.clone()),
            ("creates", creates),
        ];
        converge(action("command", &args, "").expect("a command").as_ref())
    };
    assert_eq!(command(file(NAME)), Ok(false));
    assert_eq!(command(file(&format!("absent {NAME}"))), Ok(true));

    let q = |path: &str| quote(path);
    assert_eq!(on_host(&format!("test -d {} && echo dir", q(DIR))), "dir");
    assert_eq!(
        on_host(&format!(
            "test -f {} && echo file",
            q(&format!("{DIR}/{NAME}"))
        )),
        "file"
    );
    for name in ["copy", "template"] {
        assert_eq!(
            on_host(&format!("cat {}; echo end", q(&format!("{DIR}/{name}")))),
            format!("{TEXT}end")
        );
    }
    assert_eq!(
        on_host(&format!("cat {}", q(&format!("{DIR}/x.ini")))),
        format!("[{LINE}]\nopt = {LINE}")
    );
    assert_eq!(
        on_host(&format!("getent passwd {USER} | cut -d: -f5")),
        LINE
    );
    assert_eq!(
        on_host(&format!("cat ~{USER}/.ssh/authorized_keys")),
        key_line
    );
    assert!(
        on_host("cat /etc/sudoers.d/hostile").contains(&LINE.replace(['"', '\''], "")),
        "the rule holds the command as written"
    );
    assert_eq!(
        // Exactly what an injected touch would make; the hostile path's own parts have more.
        on_host("find / /tmp -xdev -regex '.*/pwned-[a-z][0-9]' 2>/dev/null"),
        "",
        "nothing but the intended effect ran"
    );
}

#[test]
fn a_line_break_carriage_return_or_escape_is_refused_before_any_script() {
    for value in [
        "a\nb",
        "31541\rDefaultEnvironment=LD_PRELOAD=/tmp/evil.so",
        "a\u{1b}[2Jb",
        "a\u{85}b",
    ] {
        for (module, arg) in [
            ("ini_file", "value"),
            ("user", "comment"),
            ("authorized_key", "key"),
        ] {
            let mut args: Vec<(&'static str, Value)> = vec![(arg, json!(value))];
            match module {
                "ini_file" => args.extend([("path", json!("/tmp/x.ini")), ("option", json!("o"))]),
                "user" => args.push(("name", json!(USER))),
                _ => args.push(("user", json!(USER))),
            }
            let error = action(module, &args, "").err().unwrap_or_default();
            assert!(
                error.starts_with(&format!("argument {arg}: "))
                    && error.contains("control character"),
                "{module}.{arg} = {value:?}: {error:?}"
            );
        }
    }
}
