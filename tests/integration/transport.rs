//! The SSH transport against real sshd and sudo: host-key policy, key types, agent, jump host,
//! become, unreachable hosts, and one connection per host per run.

use std::process::Command;

use crate::harness::{
    OPERATOR_PASSWORD, TempInventory, docker, docker_exec, host, host_entry, host_key_fingerprint,
    host_line, inventory_yaml, relay_with_var, relayctl, relayctl_json, state_dir, stderr,
};

/// An inventory with one relay, logging in with `key` as `user`.
fn one_relay(user: &str, key: &str, known_hosts: Option<&str>) -> TempInventory {
    let relay = relay_with_var("xfs400");
    let known_hosts = known_hosts
        .map(str::to_string)
        .unwrap_or_else(|| state_dir().join("known_hosts").display().to_string());
    let extra = format!(
        "ansible_user: {user}, ansible_ssh_private_key_file: {}, ansible_ssh_common_args: \"-o UserKnownHostsFile={known_hosts}\", relay_type: classic",
        state_dir().join(key).display()
    );
    TempInventory::new(&inventory_yaml("", &[("relays", host_line(relay, &extra))]))
}

fn facts_of_one(
    inventory: &TempInventory,
    extra_args: &[&str],
    env: &[(&str, &str)],
) -> (Option<i32>, serde_json::Value) {
    let mut args = vec!["facts", inventory.path_str()];
    args.extend(extra_args);
    let (code, report) = relayctl_json(&args, env);
    let entry = host_entry(&report, &relay_with_var("xfs400").name).clone();
    (code, entry)
}

#[test]
fn every_key_type_authenticates() {
    for key in ["id_ed25519", "id_ecdsa", "id_rsa"] {
        let inventory = one_relay("admin", key, None);
        let (code, entry) = facts_of_one(&inventory, &[], &[]);
        assert_eq!(code, Some(0), "{key}: {entry:#}");
        assert_eq!(entry["status"], "ok", "{key}: {entry:#}");
    }
}

#[test]
fn an_encrypted_key_needs_its_passphrase() {
    let inventory = one_relay("admin", "id_ed25519_encrypted", None);
    let (code, entry) = facts_of_one(
        &inventory,
        &[],
        &[("RELAYCTL_KEY_PASSPHRASE", "lab-key-passphrase")],
    );
    assert_eq!(code, Some(0), "{entry:#}");
    // Without a passphrase and without a terminal to ask on: bad input, nothing contacted.
    let output = relayctl(&["facts", inventory.path_str()], &[]);
    assert_eq!(output.status.code(), Some(4));
    let message = stderr(&output);
    assert!(
        message.contains("id_ed25519_encrypted")
            && message.contains("is encrypted: set RELAYCTL_KEY_PASSPHRASE"),
        "{message}"
    );
}

#[test]
fn a_wrong_key_is_an_authentication_error() {
    let inventory = one_relay("admin", "id_wrong", None);
    let (code, entry) = facts_of_one(&inventory, &[], &[]);
    assert_eq!(code, Some(3));
    assert_eq!(entry["status"], "unreachable");
    assert_eq!(entry["error"]["kind"], "auth");
    let message = entry["error"]["message"].as_str().expect("message");
    assert!(
        message.starts_with("authentication refused for admin@"),
        "{message}"
    );
    assert!(message.contains("id_wrong"), "{message}");
}

#[test]
fn the_ssh_agent_authenticates_when_no_key_file_is_named() {
    let agent_dir = tempfile::tempdir().expect("temp dir");
    let socket = agent_dir.path().join("agent.sock");
    let mut agent = Command::new("ssh-agent")
        .args(["-D", "-a"])
        .arg(&socket)
        .spawn()
        .expect("ssh-agent starts");
    for _ in 0..50 {
        if socket.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let added = Command::new("ssh-add")
        .arg(state_dir().join("id_ecdsa"))
        .env("SSH_AUTH_SOCK", &socket)
        .output()
        .expect("ssh-add");
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );

    let relay = relay_with_var("xfs400");
    let extra = format!(
        "ansible_ssh_common_args: \"-o UserKnownHostsFile={}\", relay_type: classic",
        state_dir().join("known_hosts").display()
    );
    // No ansible_ssh_private_key_file anywhere: only the agent holds an authorized key.
    let yaml = inventory_yaml("", &[("relays", host_line(relay, &extra))])
        .lines()
        .filter(|line| !line.contains("ansible_ssh_private_key_file"))
        .collect::<Vec<_>>()
        .join("\n");
    let inventory = TempInventory::new(&yaml);
    let home = tempfile::tempdir().expect("empty home");
    let home_str = home.path().to_str().expect("utf-8");
    let socket_str = socket.to_str().expect("utf-8");
    let (with_agent, entry) = facts_of_one(
        &inventory,
        &[],
        &[("SSH_AUTH_SOCK", socket_str), ("HOME", home_str)],
    );
    let (without_agent, _) = facts_of_one(&inventory, &[], &[("HOME", home_str)]);
    let _ = agent.kill();
    let _ = agent.wait();
    assert_eq!(with_agent, Some(0), "{entry:#}");
    assert_eq!(
        without_agent,
        Some(3),
        "without the agent nothing authorizes us"
    );
}

#[test]
fn a_changed_host_key_is_refused_with_both_fingerprints() {
    let relay = relay_with_var("xfs400");
    let impostor = relay_with_var("root");
    // known_hosts claims the relay's address has the other relay's keys.
    let real = std::fs::read_to_string(state_dir().join("known_hosts")).expect("lab known_hosts");
    let forged: String = real
        .lines()
        .filter(|line| line.starts_with(&format!("{} ", impostor.ip)))
        .map(|line| format!("{}\n", line.replacen(&impostor.ip, &relay.ip, 1)))
        .collect();
    let dir = tempfile::tempdir().expect("temp dir");
    let known_hosts = dir.path().join("known_hosts");
    std::fs::write(&known_hosts, forged).expect("write forged known_hosts");
    let inventory = one_relay("admin", "id_ed25519", known_hosts.to_str());
    for policy in ["strict", "accept-new"] {
        let (code, entry) = facts_of_one(&inventory, &["--host-key-policy", policy], &[]);
        assert_eq!(code, Some(3), "{policy}: {entry:#}");
        assert_eq!(entry["error"]["kind"], "host_key_changed", "{entry:#}");
        let message = entry["error"]["message"].as_str().expect("message");
        assert!(message.contains(&relay.ip), "{message}");
        assert!(
            message.contains(&host_key_fingerprint(&impostor.container, "ed25519")),
            "recorded key: {message}"
        );
        assert!(
            message.contains(&host_key_fingerprint(&relay.container, "ed25519")),
            "offered key: {message}"
        );
    }
}

#[test]
fn an_unknown_host_is_refused_by_default_and_recorded_with_accept_new() {
    let dir = tempfile::tempdir().expect("temp dir");
    let known_hosts = dir.path().join("known_hosts");
    std::fs::write(&known_hosts, "").expect("empty known_hosts");
    let inventory = one_relay("admin", "id_ed25519", known_hosts.to_str());
    let (code, entry) = facts_of_one(&inventory, &[], &[]);
    assert_eq!(code, Some(3));
    assert_eq!(entry["error"]["kind"], "host_key_unknown", "{entry:#}");

    let (code, entry) = facts_of_one(&inventory, &["--host-key-policy", "accept-new"], &[]);
    assert_eq!(code, Some(0), "{entry:#}");
    let recorded = std::fs::read_to_string(&known_hosts).expect("known_hosts");
    let relay = relay_with_var("xfs400");
    assert!(
        recorded
            .trim_start()
            .starts_with(&format!("{} ssh-", relay.ip)),
        "{recorded}"
    );
    // Now known: strict accepts it.
    let (code, _) = facts_of_one(&inventory, &[], &[]);
    assert_eq!(code, Some(0));
}

#[test]
fn a_stopped_host_is_unreachable_while_the_others_complete() {
    let scratch = host("scratch");
    let relay = relay_with_var("xfs400");
    let hosts =
        host_line(relay, "relay_type: classic") + &host_line(scratch, "relay_type: classic");
    let inventory = TempInventory::new(&inventory_yaml("", &[("relays", hosts)]));
    docker(&["stop", "-t", "1", &scratch.container]);
    let (code, report) = relayctl_json(
        &["facts", inventory.path_str(), "--connect-timeout", "4"],
        &[],
    );
    docker(&["start", &scratch.container]);
    assert_eq!(code, Some(3), "{report:#}");
    assert_eq!(host_entry(&report, &relay.name)["status"], "ok");
    let stopped = host_entry(&report, &scratch.name);
    assert_eq!(stopped["status"], "unreachable");
    assert_eq!(stopped["error"]["kind"], "unreachable");
    assert!(
        stopped["error"]["message"]
            .as_str()
            .expect("message")
            .starts_with("unreachable: "),
        "{stopped:#}"
    );
}

#[test]
fn sudo_asking_for_a_password_is_a_clear_become_error_and_the_password_goes_over_stdin() {
    let inventory = one_relay("operator", "id_ed25519", None);
    let name = &relay_with_var("xfs400").name;
    let (code, report) = relayctl_json(&["apply", "--check", inventory.path_str()], &[]);
    assert_eq!(code, Some(3), "{report:#}");
    let entry = host_entry(&report, name);
    assert_eq!(entry["error"]["kind"], "become");
    assert_eq!(
        entry["error"]["message"],
        "become failed: sudo asks operator for a password; give it with --ask-become-pass or RELAYCTL_BECOME_PASSWORD, or grant NOPASSWD"
    );

    let (code, report) = relayctl_json(
        &["apply", "--check", inventory.path_str()],
        &[("RELAYCTL_BECOME_PASSWORD", "not-the-password")],
    );
    assert_eq!(code, Some(3));
    assert_eq!(
        host_entry(&report, name)["error"]["message"],
        "become failed: sudo refused the become password for operator"
    );

    let password = OPERATOR_PASSWORD;
    let output = relayctl(
        &[
            "apply",
            "--check",
            inventory.path_str(),
            "--format",
            "json",
            "-vv",
        ],
        &[("RELAYCTL_BECOME_PASSWORD", password)],
    );
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        stderr(&output)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(
        host_entry(&report, name)["facts"]["user"],
        "root",
        "{report:#}"
    );
    assert!(
        !text.contains(password),
        "the become password leaked into the output"
    );
    // Not in any process's argv on the host either: sudo read it from stdin.
    let container = &relay_with_var("xfs400").container;
    let auth_log = docker_exec(
        container,
        &format!("journalctl --no-pager -o cat | grep -c '{password}' || true"),
    );
    assert_eq!(auth_log, "0");
}

#[test]
fn the_jump_host_key_is_verified_too() {
    let dmz = crate::harness::relay_with_var("xfs200");
    let bastion = host("bastion");
    let dir = tempfile::tempdir().expect("temp dir");
    let known_hosts = dir.path().join("known_hosts");
    // The relay is known, the bastion is not: strict refuses at the bastion.
    let real = std::fs::read_to_string(state_dir().join("known_hosts")).expect("lab known_hosts");
    let only_relay: String = real
        .lines()
        .filter(|l| l.starts_with(&format!("{} ", dmz.ip)))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&known_hosts, only_relay).expect("write");
    let extra = format!(
        "ansible_ssh_common_args: \"-o UserKnownHostsFile={} -o ProxyJump=admin@{}\", relay_type: dmz",
        known_hosts.display(),
        bastion.ip
    );
    let inventory = TempInventory::new(&inventory_yaml("", &[("relays", host_line(dmz, &extra))]));
    let (code, report) = relayctl_json(&["facts", inventory.path_str()], &[]);
    assert_eq!(code, Some(3), "{report:#}");
    let entry = host_entry(&report, &dmz.name);
    assert_eq!(entry["error"]["kind"], "host_key_unknown");
    let message = entry["error"]["message"].as_str().expect("message");
    assert!(
        message.starts_with(&format!(
            "through jump host admin@{}: host key unknown for {}",
            bastion.ip, bastion.ip
        )),
        "{message}"
    );
}

#[test]
fn ctrl_c_interrupts_a_run_with_exit_99() {
    let relay = relay_with_var("xfs400");
    // An address of the lab network where nothing answers: the connection hangs until interrupted.
    let silent = format!("{}.250", relay.ip.rsplit_once('.').expect("ipv4").0);
    let yaml = inventory_yaml(
        "",
        &[(
            "relays",
            format!("        silent: {{ansible_host: {silent}, relay_type: classic}}\n"),
        )],
    );
    let inventory = TempInventory::new(&yaml);
    let child = Command::new(env!("CARGO_BIN_EXE_relayctl"))
        .args(["facts", inventory.path_str(), "--connect-timeout", "60"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("relayctl starts");
    std::thread::sleep(std::time::Duration::from_millis(500));
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let started = std::time::Instant::now();
    let output = child.wait_with_output().expect("relayctl ends");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(
        output.status.code(),
        Some(99),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("interrupted"));
}

#[test]
fn limit_selects_hosts_by_ansible_pattern() {
    let inventory = crate::harness::lab_inventory();
    let (code, report) = relayctl_json(
        &[
            "facts",
            inventory.to_str().expect("utf-8"),
            "--limit",
            "relays:!dmz_relays",
            "--forks",
            "1",
        ],
        &[],
    );
    assert_eq!(code, Some(0), "{report:#}");
    let names: std::collections::BTreeSet<&str> = report["hosts"]
        .as_array()
        .expect("hosts")
        .iter()
        .map(|h| h["name"].as_str().expect("name"))
        .collect();
    let classic_relays: std::collections::BTreeSet<&str> = crate::harness::lab()
        .iter()
        .filter(|h| h.role == "relay" && h.relay_type == "classic")
        .map(|h| h.name.as_str())
        .collect();
    assert_eq!(names, classic_relays);
}

/// Each host in flight holds a socket. Under a soft open-file limit of 32 (the hard one as it
/// is), relayctl raises its own, and 40 connections at once all answer. Under a hard limit of 48,
/// 40 sockets could not be open at once: relayctl works within it, and all still answer.
#[test]
fn the_open_file_limit_is_raised_and_bounds_the_hosts_in_flight() {
    let direct = [
        "relay01",
        "relay03",
        "medulla-server",
        "workstation",
        "bastion",
    ]
    .map(host);
    let lines: String = (0..40)
        .map(|i| {
            format!(
                "        alias{i:02}: {{ansible_host: {}}}\n",
                direct[i % direct.len()].ip
            )
        })
        .collect();
    let inventory = TempInventory::new(&inventory_yaml("", &[("aliases", lines)]));
    for limit in ["ulimit -Sn 32", "ulimit -n 48"] {
        let output = Command::new("sh")
            .args([
                "-c",
                &format!("{limit} && exec \"$0\" \"$@\""),
                env!("CARGO_BIN_EXE_relayctl"),
                "facts",
                inventory.path_str(),
                "--forks",
                "40",
                "--format",
                "json",
            ])
            .env_remove("SSH_AUTH_SOCK")
            .output()
            .expect("relayctl runs");
        let report: serde_json::Value = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("{limit}: no JSON ({e}): {}", stderr(&output)));
        let hosts = report["hosts"].as_array().expect("hosts");
        let failed: Vec<String> = hosts
            .iter()
            .filter(|h| h["status"] != "ok")
            .map(|h| format!("{}: {}", h["name"], h["error"]["message"]))
            .collect();
        assert_eq!(hosts.len(), 40, "{limit}");
        assert!(failed.is_empty(), "{limit}: {failed:#?}");
        assert_eq!(output.status.code(), Some(0), "{limit}");
    }
}
