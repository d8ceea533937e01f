//! The crate's architecture, checked on its source (no lab needed). Data flows one way through
//! floors of rooms (the top-level modules of src/, listed bottom first in [`FLOORS`]): a room
//! imports only from the floors below its own (rooms on one floor know nothing of each other),
//! and no files import each other, directly or in a circle. A re-export (`pub use`) counts as an import of the file that defines the item, so a
//! `mod.rs` that only opens a room's door closes no circle.
//!
//! The source is read as text: comments and string literals are dropped, then every `use`
//! declaration and every path that starts with `crate::`, `super::`, `self::` or a child module
//! is resolved to the file that defines it. Test modules (`#[cfg(test)] mod tests`) and the
//! test-only `testing` room are left out: tests may reach anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::harness::repo;

/// The rooms of src/, floor by floor, bottom first.
const FLOORS: &[(&str, &[&str])] = &[
    (
        "vocabulary: Medulla's domain, secrets, shell words, input positions, progress, files written whole",
        &[
            "medulla",
            "secret",
            "sh",
            "input",
            "progress",
            "open_files",
            "atomic_file",
        ],
    ),
    ("the SSH transport, which depends on nothing else", &["ssh"]),
    (
        "what the operator gives: the command line and the inventory",
        &["cli", "inventory"],
    ),
    ("a run's settings and errors", &["settings", "error"]),
    ("hosts: many at once, and their facts", &["fleet", "facts"]),
    (
        "checks and changes",
        &["sizing", "preflight", "modules", "firewall", "flows"],
    ),
    ("the task engine", &["engine"]),
    ("verdicts", &["confirmations", "host_outcome"]),
    ("the report", &["report"]),
    ("the relay pipeline", &["pipeline"]),
    ("the edge: one module per subcommand", &["commands"]),
];

/// Rooms left out of the check: the crate's root, the binary, and the tests' builders.
const OUTSIDE: &[&str] = &["lib", "main", "testing"];

#[test]
fn every_room_imports_only_from_the_floors_below_its_own() {
    let graph = Graph::of(&repo().join("src"));
    let floor = floors();
    let mut wrong = Vec::new();
    for (from, to) in graph.edges() {
        let (a, b) = (room(from), room(to));
        if a == b || OUTSIDE.contains(&a) || OUTSIDE.contains(&b) {
            continue;
        }
        let (Some(&fa), Some(&fb)) = (floor.get(a), floor.get(b)) else {
            continue; // every_room_of_src_is_on_a_floor names it
        };
        if fb >= fa {
            wrong.push(format!(
                "{} (floor {fa}: {}) imports {} (floor {fb}: {})",
                name(from),
                FLOORS[fa].0,
                name(to),
                FLOORS[fb].0
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "imports from above:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn no_files_import_each_other_in_a_circle() {
    let graph = Graph::of(&repo().join("src"));
    let circles = graph.circles();
    assert!(
        circles.is_empty(),
        "files that import each other:\n{}",
        circles.join("\n")
    );
}

#[test]
fn every_room_of_src_is_on_a_floor() {
    let graph = Graph::of(&repo().join("src"));
    let floor = floors();
    let missing: BTreeSet<&str> = graph
        .modules
        .iter()
        .map(room)
        .filter(|r| !OUTSIDE.contains(r) && !floor.contains_key(r))
        .collect();
    assert!(
        missing.is_empty(),
        "rooms on no floor (add them to FLOORS): {missing:?}"
    );
}

#[test]
fn the_check_follows_re_exports_and_reads_no_comment_or_string() {
    let dir = tempfile::tempdir().expect("temp dir");
    let write = |path: &str, text: &str| {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
        std::fs::write(path, text).expect("write");
    };
    write("lib.rs", "pub mod a;\npub mod b;\n");
    // a/mod.rs opens the door; x and y meet through it.
    write(
        "a/mod.rs",
        "mod x;\nmod y;\npub use x::Thing;\npub use y::Other;\npub fn helper() {}\n",
    );
    write(
        "a/x.rs",
        "// use crate::b; in a comment counts for nothing\nuse super::Other;\npub struct Thing;\n",
    );
    write(
        "a/y.rs",
        "pub struct Other;\nfn f() { let _ = r#\"crate::b\"#; let _ = super::Thing; }\n",
    );
    write(
        "b.rs",
        "use crate::a::Thing;\npub fn up() { crate::a::helper(); let _ = '\"'; }\n",
    );
    let graph = Graph::of(dir.path());
    assert_eq!(graph.circles(), ["a/x -> a/y -> a/x"]);
    let edges: Vec<String> = graph
        .edges()
        .map(|(from, to)| format!("{} -> {}", name(from), name(to)))
        .collect();
    assert_eq!(
        edges,
        [
            "a -> a/x",
            "a -> a/y",
            "a/x -> a/y",
            "a/y -> a/x",
            "b -> a",
            "b -> a/x"
        ]
    );
}

type Module = Vec<String>;

fn floors() -> BTreeMap<&'static str, usize> {
    FLOORS
        .iter()
        .enumerate()
        .flat_map(|(i, (_, rooms))| rooms.iter().map(move |r| (*r, i)))
        .collect()
}

fn room(module: &Module) -> &str {
    module.first().map_or("lib", String::as_str)
}

fn name(module: &Module) -> String {
    if module.is_empty() {
        "lib".into()
    } else {
        module.join("/")
    }
}

/// The files of a crate and what each imports.
struct Graph {
    modules: BTreeSet<Module>,
    imports: BTreeMap<Module, BTreeSet<Module>>,
}

impl Graph {
    fn of(src: &Path) -> Graph {
        let mut files = BTreeMap::new();
        collect(src, src, &mut files);
        let modules: BTreeSet<Module> = files.keys().cloned().collect();
        let mut reexports: BTreeMap<(Module, String), Module> = BTreeMap::new();
        let mut uses = BTreeMap::new();
        for (module, text) in &files {
            let declarations = use_declarations(text);
            for (public, tree) in &declarations {
                for (path, alias) in expand(tree) {
                    if *public && let Some(absolute) = absolute(module, &path, &modules) {
                        reexports.insert((module.clone(), alias), absolute);
                    }
                }
            }
            uses.insert(module.clone(), declarations);
        }
        let resolver = Resolver {
            modules: &modules,
            reexports: &reexports,
        };
        let mut imports: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
        for (module, text) in &files {
            let mut paths: Vec<Vec<String>> = uses[module]
                .iter()
                .flat_map(|(_, tree)| expand(tree).into_iter().map(|(path, _)| path))
                .collect();
            paths.extend(inline_paths(text));
            let found = imports.entry(module.clone()).or_default();
            for path in paths {
                if let Some(target) = absolute(module, &path, &modules)
                    .and_then(|absolute| resolver.file_of(absolute))
                    && target != *module
                {
                    found.insert(target);
                }
            }
        }
        Graph { modules, imports }
    }

    fn edges(&self) -> impl Iterator<Item = (&Module, &Module)> {
        self.imports
            .iter()
            .flat_map(|(from, to)| to.iter().map(move |t| (from, t)))
    }

    /// Each circle once, as `a -> b -> a`, from its smallest file.
    fn circles(&self) -> Vec<String> {
        let mut found = BTreeSet::new();
        for start in &self.modules {
            let mut path = vec![start];
            self.walk(start, &mut path, &mut found);
        }
        found.into_iter().collect()
    }

    fn walk<'a>(
        &'a self,
        start: &Module,
        path: &mut Vec<&'a Module>,
        found: &mut BTreeSet<String>,
    ) {
        let Some(next) = self.imports.get(*path.last().expect("non-empty")) else {
            return;
        };
        for to in next {
            if to == start {
                // Reported once, from the circle's smallest file.
                if path.iter().all(|m| *m >= start) {
                    let mut names: Vec<String> = path.iter().map(|m| name(m)).collect();
                    names.push(name(start));
                    found.insert(names.join(" -> "));
                }
            } else if to > start && !path.contains(&to) {
                path.push(to);
                self.walk(start, path, found);
                path.pop();
            }
        }
    }
}

struct Resolver<'a> {
    modules: &'a BTreeSet<Module>,
    reexports: &'a BTreeMap<(Module, String), Module>,
}

impl Resolver<'_> {
    /// The file that defines what an absolute path names: its longest prefix that is a file,
    /// through the re-exports of that file.
    fn file_of(&self, path: Module) -> Option<Module> {
        for (depth, _) in path.iter().enumerate().rev() {
            let prefix = &path[..depth + 1];
            if !self.modules.contains(prefix) {
                continue;
            }
            if let Some(next) = path.get(depth + 1)
                && let Some(target) = self.reexports.get(&(prefix.to_vec(), next.clone()))
                && target != &path[..depth + 2]
            {
                let mut rest = target.clone();
                rest.extend_from_slice(&path[depth + 2..]);
                return self.file_of(rest);
            }
            return Some(prefix.to_vec());
        }
        self.modules.contains(&Vec::new()).then(Vec::new)
    }
}

/// `path` as written in `module`, made absolute from the crate's root; `None` for what is not
/// the crate's (std, other crates, local names).
fn absolute(module: &Module, path: &[String], modules: &BTreeSet<Module>) -> Option<Module> {
    let mut base = module.clone();
    let mut rest = path;
    match path.first().map(String::as_str) {
        Some("crate") => {
            base.clear();
            rest = &path[1..];
        }
        Some("self") => rest = &path[1..],
        Some("super") => {
            while rest.first().is_some_and(|s| s == "super") {
                base.pop()?;
                rest = &rest[1..];
            }
        }
        Some(first) => {
            let mut child = module.clone();
            child.push(first.to_string());
            if !modules.contains(&child) {
                return None;
            }
        }
        None => return None,
    }
    base.extend(rest.iter().cloned());
    Some(base)
}

/// Every `.rs` file below `dir`, by module path, with its code (tests, comments and strings
/// left out).
fn collect(root: &Path, dir: &Path, files: &mut BTreeMap<Module, String>) {
    for entry in std::fs::read_dir(dir).expect("src reads").flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(root, &path, files);
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let relative = path.strip_prefix(root).expect("below src");
        let mut module: Module = relative
            .with_extension("")
            .iter()
            .map(|s| s.to_string_lossy().into_owned())
            .collect();
        if matches!(module.last().map(String::as_str), Some("mod" | "lib")) {
            module.pop();
        }
        // The binary, the tests' builders and the test modules kept in files of their own.
        if module == ["main"]
            || module.first().is_some_and(|r| r == "testing")
            || module.last().is_some_and(|m| m == "tests")
        {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("a source file reads");
        files.insert(module, code(&text));
    }
}

/// The code of a file: its test module cut off, comments and string contents dropped.
fn code(text: &str) -> String {
    let text = match text.find("\n#[cfg(test)]\nmod tests {") {
        Some(at) => &text[..at],
        None => text,
    };
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            i += 2;
            while i + 1 < chars.len() && !(chars[i] == '*' && chars[i + 1] == '/') {
                i += 1;
            }
            i += 2;
        } else if c == 'r' && matches!(next, Some('"' | '#')) && raw_prefix(&chars, i) {
            let mut hashes = 0;
            let mut j = i + 1;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            loop {
                if j >= chars.len() {
                    break;
                }
                if chars[j] == '"' && (0..hashes).all(|k| chars.get(j + 1 + k) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            out.push_str("\"\"");
            i = j;
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' && (chars.get(i + 2) == Some(&'\'') || next == Some('\\')) {
            // A char literal ('"', '\''); a lifetime has no closing quote.
            i += 1;
            while i < chars.len() && chars[i] != '\'' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("' '");
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// Whether the `r` at `at` opens a raw string (`r"`, `br"`) rather than ending a name.
fn raw_prefix(chars: &[char], at: usize) -> bool {
    let before = |n: usize| at.checked_sub(n).and_then(|i| chars.get(i));
    !ident(before(1)) || (before(1) == Some(&'b') && !ident(before(2)))
}

fn ident(c: Option<&char>) -> bool {
    c.is_some_and(|c| c.is_alphanumeric() || *c == '_')
}

/// The code's tokens: identifiers, `::`, and single punctuation characters.
fn tokens(code: &str) -> Vec<String> {
    let chars: Vec<char> = code.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && ident(Some(&chars[i])) {
                i += 1;
            }
            tokens.push(chars[start..i].iter().collect());
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            tokens.push("::".into());
            i += 2;
        } else {
            if !c.is_whitespace() {
                tokens.push(c.to_string());
            }
            i += 1;
        }
    }
    tokens
}

/// A `use` tree: a path, then either nothing, a glob, or a group of trees.
#[derive(Debug)]
struct UseTree {
    path: Vec<String>,
    alias: Option<String>,
    group: Option<Vec<UseTree>>,
}

/// Every `use` declaration of the code, and whether it re-exports (`pub`, `pub(crate)`, ...).
fn use_declarations(code: &str) -> Vec<(bool, UseTree)> {
    let tokens = tokens(code);
    let mut found = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if tokens[i] == "use" {
            let public = i >= 1 && (tokens[i - 1] == "pub" || tokens[i - 1] == ")");
            let mut at = i + 1;
            let tree = use_tree(&tokens, &mut at);
            found.push((public, tree));
            i = at;
        } else {
            i += 1;
        }
    }
    found
}

fn use_tree(tokens: &[String], at: &mut usize) -> UseTree {
    let mut tree = UseTree {
        path: Vec::new(),
        alias: None,
        group: None,
    };
    while let Some(token) = tokens.get(*at) {
        match token.as_str() {
            "::" => *at += 1,
            "{" => {
                *at += 1;
                let mut group = Vec::new();
                while tokens.get(*at).is_some_and(|t| t != "}") {
                    group.push(use_tree(tokens, at));
                    if tokens.get(*at).is_some_and(|t| t == ",") {
                        *at += 1;
                    }
                }
                *at += 1;
                tree.group = Some(group);
                return tree;
            }
            "*" => {
                *at += 1;
                return tree;
            }
            "as" => {
                tree.alias = tokens.get(*at + 1).cloned();
                *at += 2;
                return tree;
            }
            "," | "}" | ";" => return tree,
            name => {
                tree.path.push(name.to_string());
                *at += 1;
            }
        }
    }
    tree
}

/// Every path a tree brings in, with the name it is known by.
fn expand(tree: &UseTree) -> Vec<(Vec<String>, String)> {
    let Some(group) = &tree.group else {
        let mut path = tree.path.clone();
        if path.last().is_some_and(|s| s == "self") {
            path.pop();
        }
        let known_as = tree
            .alias
            .clone()
            .or_else(|| path.last().cloned())
            .unwrap_or_default();
        return vec![(path, known_as)];
    };
    group
        .iter()
        .flat_map(expand)
        .map(|(inner, known_as)| {
            let mut path = tree.path.clone();
            path.extend(inner);
            (path, known_as)
        })
        .collect()
}

/// The paths written in the code outside `use` declarations: `a::b::c` sequences.
fn inline_paths(code: &str) -> Vec<Vec<String>> {
    let tokens = tokens(code);
    let mut paths = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if tokens[i] == "use" {
            while i < tokens.len() && tokens[i] != ";" {
                i += 1;
            }
            continue;
        }
        let starts_path = ident(tokens[i].chars().next().as_ref())
            && tokens.get(i + 1).is_some_and(|t| t == "::")
            && (i == 0 || tokens[i - 1] != "::");
        if !starts_path {
            i += 1;
            continue;
        }
        let mut path = vec![tokens[i].clone()];
        let mut j = i + 1;
        while tokens.get(j).is_some_and(|t| t == "::")
            && tokens
                .get(j + 1)
                .is_some_and(|t| ident(t.chars().next().as_ref()))
        {
            path.push(tokens[j + 1].clone());
            j += 2;
        }
        paths.push(path);
        i = j;
    }
    paths
}

/// Whether a line names python as a program (`python3 -c`, `/usr/bin/python`), not as part of
/// an identifier (`python_literal`, the Ansible variable `ansible_python_interpreter`).
fn runs_python(line: &str) -> bool {
    let lower = line.to_lowercase();
    lower.match_indices("python").any(|(at, _)| {
        let before = lower[..at].chars().next_back();
        let after = lower[at + "python".len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
            && !after.is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
    })
}

#[test]
fn a_program_named_python_is_told_from_an_identifier() {
    assert!(runs_python("o=$(python3 -c 'print(1)')"));
    assert!(runs_python("exec /usr/bin/python \"$@\""));
    assert!(!runs_python("match python_literal::eval(value) {"));
    assert!(!runs_python("\"ansible_interpreter_python_fallback\","));
    assert!(!runs_python("other => python_repr(other),"));
}

/// The lab's hosts have python3 (ufw and firewalld are written in it), and relayctl is agentless:
/// no script relayctl sends may run it, or a lab test could pass only because python is there.
/// Every string of src/ outside tests, and every line of roles/ and templates/, is searched for
/// python named as a program.
#[test]
fn nothing_relayctl_sends_to_a_host_runs_python() {
    fn files(dir: &Path, found: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                files(&path, found);
            } else {
                found.push(path);
            }
        }
    }
    let mut paths = Vec::new();
    for dir in ["src", "roles", "templates"] {
        files(&repo().join(dir), &mut paths);
    }
    let mut offending = Vec::new();
    for path in paths {
        let is_rust = path.extension().is_some_and(|e| e == "rs");
        if is_rust && path.file_name().is_some_and(|n| n == "tests.rs") {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        // Test modules come last in a source file.
        let code = if is_rust {
            text.split("#[cfg(test)]").next().unwrap_or("")
        } else {
            &text
        };
        for (number, line) in code.lines().enumerate() {
            let trimmed = line.trim_start();
            if is_rust && (trimmed.starts_with("//") || trimmed.starts_with("//!")) {
                continue;
            }
            if runs_python(line) {
                offending.push(format!("{}:{}: {line}", path.display(), number + 1));
            }
        }
    }
    assert!(offending.is_empty(), "{offending:#?}");
}
