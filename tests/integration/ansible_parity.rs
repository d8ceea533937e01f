//! The acceptance of issue 15: every inventory of a corpus the project writes itself
//! (tests/fixtures/ansible_corpus/: nested children, INI with ranges and :vars, hosts before the
//! first section, a directory inventory, group_vars/host_vars files and directories, several
//! sources, vault files and inline values, ssh_config aliases, network and Windows hosts beside
//! Linux ones, a host list) reads the same with `relayctl inventory` as with ansible-core's
//! `ansible-inventory` (from PyPI, tests/lab/ansible-venv.sh): `--list` and `--list --export`
//! give the same JSON (hosts, groups with their children, every host's variables), `--graph`
//! the same tree (ancestors included). One exception, on purpose: a value of a vault-encrypted
//! file, which ansible-inventory prints decrypted, relayctl prints as `********`.
//!
//! Each case is a directory with a `sources` file (one inventory source a line, relative to the
//! case, or a host list) and, for vault, a `vault_password` file.

use std::path::PathBuf;

use serde_json::Value;

use crate::harness::{ansible, relayctl, repo, stderr};

const CORPUS: &str = "tests/fixtures/ansible_corpus";
const MASK: &str = "********";

struct Case {
    name: String,
    sources: Vec<String>,
    vault_password: Option<PathBuf>,
}

fn cases() -> Vec<Case> {
    let mut cases: Vec<Case> = std::fs::read_dir(repo().join(CORPUS))
        .expect("the corpus")
        .flatten()
        .filter(|entry| entry.path().join("sources").is_file())
        .map(|entry| {
            let dir = entry.path();
            let sources = std::fs::read_to_string(dir.join("sources"))
                .expect("sources")
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|line| {
                    let path = dir.join(line.trim());
                    if path.exists() {
                        path.display().to_string()
                    } else {
                        line.trim().to_owned()
                    }
                })
                .collect();
            let vault = dir.join("vault_password");
            Case {
                name: entry.file_name().to_string_lossy().into_owned(),
                sources,
                vault_password: vault.exists().then_some(vault),
            }
        })
        .collect();
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    cases
}

/// `-i SOURCE ...` and the vault password, as both commands take them.
fn arguments<'a>(case: &'a Case, mode: &[&'a str]) -> Vec<&'a str> {
    let mut args: Vec<&str> = Vec::new();
    for source in &case.sources {
        args.extend(["-i", source.as_str()]);
    }
    if let Some(file) = &case.vault_password {
        args.extend(["--vault-password-file", file.to_str().expect("utf-8")]);
    }
    args.extend(mode);
    args
}

fn ansible_output(case: &Case, mode: &[&str]) -> String {
    let (mut command, _scratch) = ansible("ansible-inventory");
    let output = command
        .args(arguments(case, mode))
        .output()
        .expect("ansible-inventory runs");
    assert!(
        output.status.success(),
        "ansible-inventory on {}: {}",
        case.name,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8")
}

fn relayctl_output(case: &Case, mode: &[&str]) -> String {
    let mut args = vec!["inventory"];
    args.extend(arguments(case, mode));
    let output = relayctl(&args, &[]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "relayctl inventory on {}: {}",
        case.name,
        stderr(&output)
    );
    String::from_utf8(output.stdout).expect("utf-8")
}

/// Where `ansible` and `relayctl` differ, as `path: ansible's value != relayctl's`; a string
/// relayctl masks is taken as equal (and counted in `masked`).
fn differences(
    path: &str,
    ansible: &Value,
    relayctl: &Value,
    masked: &mut usize,
    out: &mut Vec<String>,
) {
    match (ansible, relayctl) {
        (Value::String(a), Value::String(r)) if r == MASK && a != MASK => *masked += 1,
        (Value::Object(a), Value::Object(r)) => {
            for key in a.keys().chain(r.keys().filter(|k| !a.contains_key(*k))) {
                let inner = format!("{path}.{key}");
                match (a.get(key), r.get(key)) {
                    (Some(a), Some(r)) => differences(&inner, a, r, masked, out),
                    (a, r) => out.push(format!("{inner}: {a:?} != {r:?}")),
                }
            }
        }
        (Value::Array(a), Value::Array(r)) if a.len() == r.len() => {
            for (i, (a, r)) in a.iter().zip(r).enumerate() {
                differences(&format!("{path}[{i}]"), a, r, masked, out);
            }
        }
        (a, r) if a == r => {}
        (a, r) => out.push(format!("{path}: {a} != {r}")),
    }
}

#[test]
fn every_inventory_of_the_corpus_reads_as_ansible_inventory_reads_it() {
    let cases = cases();
    let names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "directory",
            "host_list",
            "ini_ranges",
            "mixed_network",
            "nested_children",
            "several_sources",
            "ssh_aliases",
            "vault"
        ]
    );
    let mut found = Vec::new();
    let mut masked = 0;
    for case in &cases {
        for mode in [&["--list"][..], &["--list", "--export"]] {
            let ansible: Value = serde_json::from_str(&ansible_output(case, mode)).expect("JSON");
            let relayctl: Value = serde_json::from_str(&relayctl_output(case, mode)).expect("JSON");
            assert!(
                ansible["_meta"]["hostvars"]
                    .as_object()
                    .is_some_and(|h| !h.is_empty())
                    || mode.len() == 2
                    || case.name == "host_list",
                "{}: ansible-inventory listed no variables",
                case.name
            );
            differences(
                &format!("{} {}", case.name, mode.join(" ")),
                &ansible,
                &relayctl,
                &mut masked,
                &mut found,
            );
        }
        let (ansible, relayctl) = (
            ansible_output(case, &["--graph"]),
            relayctl_output(case, &["--graph"]),
        );
        if ansible != relayctl {
            found.push(format!(
                "{} --graph:\nansible-inventory:\n{ansible}relayctl:\n{relayctl}",
                case.name
            ));
        }
    }
    assert!(
        found.is_empty(),
        "relayctl reads the corpus differently:\n{}",
        found.join("\n")
    );
    // The vault case's encrypted files: two relays' two values, and relay02's own (in --list),
    // then the group's two and the host's one (in --export).
    assert_eq!(masked, 8, "values of vault-encrypted files masked");
}

#[test]
fn the_comparison_sees_a_difference() {
    let cases = cases();
    let case = |name: &str| cases.iter().find(|c| c.name == name).expect("case");
    let ansible: Value =
        serde_json::from_str(&ansible_output(case("ini_ranges"), &["--list"])).expect("JSON");
    let mut relayctl: Value =
        serde_json::from_str(&relayctl_output(case("ini_ranges"), &["--list"])).expect("JSON");
    let mut found = Vec::new();
    let mut masked = 0;
    differences("", &ansible, &relayctl, &mut masked, &mut found);
    assert!(found.is_empty(), "{found:?}");
    // One variable typed differently (the number 110 as the string "110") is a difference.
    relayctl["_meta"]["hostvars"]["node01"]["max_pods"] = Value::String("110".into());
    differences("", &ansible, &relayctl, &mut masked, &mut found);
    assert_eq!(found, [r#"._meta.hostvars.node01.max_pods: 110 != "110""#]);
}
