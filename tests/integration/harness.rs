//! The lab as tests see it: the hosts lab.sh started (tests/lab/.state/hosts.tsv), the relayctl
//! binary, `docker exec` to cross-check what relayctl reports, and throwaway inventories.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value;

pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The lab's `operator` password (tests/lab/lab.sh), which its sudo asks for: words that appear in
/// no output of relayctl's own, so that a test can look for each of them.
pub const OPERATOR_PASSWORD: &str = "quokka zeppelin marmalade";

pub fn state_dir() -> PathBuf {
    repo().join("tests/lab/.state")
}

/// One lab container, as lab.sh recorded it.
#[derive(Clone, Debug)]
pub struct LabHost {
    pub name: String,
    pub container: String,
    pub ip: String,
    pub role: String,
    pub relay_type: String,
    pub var_kind: String,
}

/// The running lab. Panics, failing the test, when the lab is not up: lab tests are never skipped.
pub fn lab() -> &'static [LabHost] {
    static LAB: OnceLock<Vec<LabHost>> = OnceLock::new();
    LAB.get_or_init(|| {
        let path = state_dir().join("hosts.tsv");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "the lab is not up ({}: {e}); run tests/lab/lab.sh up",
                path.display()
            )
        });
        text.lines()
            .skip(1)
            .filter(|line| !line.trim().is_empty())
            .map(|line| {
                let f: Vec<&str> = line.split('\t').collect();
                assert!(f.len() >= 6, "bad hosts.tsv line: {line:?}");
                LabHost {
                    name: f[0].into(),
                    container: f[1].into(),
                    ip: f[2].into(),
                    role: f[3].into(),
                    relay_type: f[4].into(),
                    var_kind: f[5].into(),
                }
            })
            .collect()
    })
}

pub fn host(name: &str) -> &'static LabHost {
    lab()
        .iter()
        .find(|h| h.name == name)
        .unwrap_or_else(|| panic!("no lab host {name}"))
}

/// The relay with this /var (xfs400, xfs200, root).
pub fn relay_with_var(kind: &str) -> &'static LabHost {
    lab()
        .iter()
        .find(|h| h.role == "relay" && h.var_kind == kind)
        .unwrap_or_else(|| panic!("no lab relay with /var {kind}"))
}

pub fn lab_inventory() -> PathBuf {
    repo().join("inventories/lab.yaml")
}

/// Runs relayctl with a clean environment (no agent, no secrets from the caller).
pub fn relayctl(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_relayctl"));
    command.args(args).current_dir(repo());
    for var in [
        "SSH_AUTH_SOCK",
        "RELAYCTL_BECOME_PASSWORD",
        "RELAYCTL_KEY_PASSPHRASE",
    ] {
        command.env_remove(var);
    }
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("relayctl runs")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Runs relayctl with `--format json` and parses stdout.
pub fn relayctl_json(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, Value) {
    let (code, json, _) = relayctl_report(args, env);
    (code, json)
}

/// Runs relayctl with `--format json`: its exit code, the report, and all it printed (stdout,
/// then stderr).
pub fn relayctl_report(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, Value, String) {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--format", "json"]);
    let output = relayctl(&all, env);
    let json = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "relayctl {all:?} printed no JSON ({e}); stdout: {} stderr: {}",
            stdout(&output),
            stderr(&output)
        )
    });
    let text = format!("{}{}", stdout(&output), stderr(&output));
    (output.status.code(), json, text)
}

/// The report entry of one host.
pub fn host_entry<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["hosts"]
        .as_array()
        .and_then(|hosts| hosts.iter().find(|h| h["name"] == name))
        .unwrap_or_else(|| panic!("no host {name} in {report:#}"))
}

/// `docker exec CONTAINER sh -c SCRIPT`, trimmed stdout; panics on failure.
pub fn docker_exec(container: &str, script: &str) -> String {
    let output = Command::new("docker")
        .args(["exec", container, "sh", "-c", script])
        .output()
        .expect("docker runs");
    assert!(
        output.status.success(),
        "docker exec {container} {script:?}: {}",
        stderr(&output)
    );
    stdout(&output).trim().to_string()
}

pub fn docker(args: &[&str]) {
    let output = Command::new("docker")
        .args(args)
        .output()
        .expect("docker runs");
    assert!(
        output.status.success(),
        "docker {args:?}: {}",
        stderr(&output)
    );
}

/// A throwaway inventory for tests: YAML text written in a temp dir; the dir lives as long as this.
pub struct TempInventory {
    /// Removed when the inventory is dropped.
    _dir: tempfile::TempDir,
    pub path: PathBuf,
}

impl TempInventory {
    pub fn new(yaml: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("inventory.yaml");
        std::fs::write(&path, yaml).expect("write inventory");
        TempInventory { _dir: dir, path }
    }

    pub fn path_str(&self) -> &str {
        self.path.to_str().expect("utf-8 path")
    }
}

/// Inventory lines for one lab host: `name: {ansible_host: ip, …extra}`.
pub fn host_line(host: &LabHost, extra: &str) -> String {
    if extra.is_empty() {
        format!("        {}: {{ansible_host: {}}}\n", host.name, host.ip)
    } else {
        format!(
            "        {}: {{ansible_host: {}, {extra}}}\n",
            host.name, host.ip
        )
    }
}

/// An inventory of lab hosts with the lab's connection defaults, and `vars` (YAML lines, indented
/// by 4) in `all.vars`. `groups` maps a group name to its host lines.
pub fn inventory_yaml(vars: &str, groups: &[(&str, String)]) -> String {
    let state = state_dir();
    let mut yaml = format!(
        "all:\n  vars:\n    ansible_user: admin\n    ansible_ssh_private_key_file: {}\n    \
         ansible_ssh_common_args: \"-o UserKnownHostsFile={}\"\n    medulla_server_addresses: [{}]\n    \
         sizing_profile: lab\n{vars}  children:\n",
        state.join("id_ed25519").display(),
        state.join("known_hosts").display(),
        host("medulla-server").ip,
    );
    for (group, hosts) in groups {
        yaml.push_str(&format!("    {group}:\n      hosts:\n{hosts}"));
    }
    yaml
}

/// The SHA-256 fingerprint of a container's host key of `key_type` (ed25519, ecdsa, rsa).
pub fn host_key_fingerprint(container: &str, key_type: &str) -> String {
    let line = docker_exec(
        container,
        &format!("ssh-keygen -lf /etc/ssh/ssh_host_{key_type}_key.pub"),
    );
    line.split_whitespace()
        .nth(1)
        .expect("fingerprint field")
        .to_string()
}

/// A program of the virtualenv with ansible-core that tests/lab/ansible-venv.sh makes
/// (`RELAYCTL_ANSIBLE_VENV`, default /var/lib/relayctl-lab/ansible-venv), run from an empty
/// directory with a home of its own, so that no ansible.cfg, group_vars/ or vault password of
/// the machine's changes what it reads. Panics, failing the test, when the virtualenv is not
/// made: these tests are never skipped.
pub fn ansible(program: &str) -> (Command, tempfile::TempDir) {
    let venv = std::env::var_os("RELAYCTL_ANSIBLE_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/lib/relayctl-lab/ansible-venv"));
    let path = venv.join("bin").join(program);
    assert!(
        path.exists(),
        "{} is missing: run tests/lab/ansible-venv.sh (tests/run.sh does)",
        path.display()
    );
    let scratch = tempfile::tempdir().expect("temp dir");
    let mut command = Command::new(path);
    command
        .current_dir(scratch.path())
        .env("HOME", scratch.path())
        .env("ANSIBLE_HOME", scratch.path())
        .env("ANSIBLE_LOCAL_TEMP", scratch.path())
        .env_remove("ANSIBLE_CONFIG")
        .env_remove("ANSIBLE_VAULT_PASSWORD_FILE")
        .env_remove("ANSIBLE_INVENTORY");
    (command, scratch)
}
