//! `relayctl inventory`: the inventory as relayctl reads it, on the command line. It contacts
//! no host and refuses no host for its connection policy; the commands that connect refuse the
//! hosts they select, and only those. (Compared with ansible-inventory in `ansible_parity.rs`.)

use serde_json::{Value, json};

use crate::harness::{relayctl, stderr, stdout};

/// A directory holding `files` (name, text); lives as long as the returned guard.
fn files(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
    dir
}

const MIXED: &str = "\
[linux]
relay01 ansible_host=192.0.2.1 relay_type=classic ansible_ssh_pipelining=True

[switches]
sw1 ansible_host=192.0.2.250

[switches:vars]
ansible_connection=network_cli
ansible_network_os=ios
ansible_password=admin
";

#[test]
fn a_switch_beside_the_relays_is_listed_and_refused_only_when_selected() {
    let dir = files(&[("hosts", MIXED)]);
    let inventory = dir.path().join("hosts");
    let inventory = inventory.to_str().expect("utf-8");
    let output = relayctl(&["inventory", inventory, "--list", "-v"], &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let listed: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(listed["switches"], json!({"hosts": ["sw1"]}));
    assert_eq!(
        listed["_meta"]["hostvars"]["sw1"]["ansible_connection"],
        json!("network_cli")
    );
    assert!(
        stderr(&output)
            .contains("note: relayctl does not use the Ansible variable ansible_network_os"),
        "{}",
        stderr(&output)
    );

    let output = relayctl(&["apply", "--check", inventory, "--limit", "sw1"], &[]);
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(
        err.contains("switches.vars.ansible_connection: expected one of ssh, smart, paramiko, found \"network_cli\"")
            && err.contains("ansible_password: relayctl logs in with SSH keys"),
        "{err}"
    );
    // The relay alone is not refused for the switch: it fails later, for its own relay variables.
    let output = relayctl(&["apply", "--check", inventory, "--limit", "linux"], &[]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(4), "{err}");
    assert!(
        !err.contains("network_cli") && err.contains("medulla_server_addresses"),
        "{err}"
    );
}

#[test]
fn several_inventories_merge_in_order_the_positional_ones_first() {
    let dir = files(&[
        (
            "a.yml",
            "all:\n  vars: {site: a, only_a: 1}\n  hosts:\n    h1:\n",
        ),
        ("b.ini", "h2\n[all:vars]\nsite=b\n"),
    ]);
    let (a, b) = (dir.path().join("a.yml"), dir.path().join("b.ini"));
    let (a, b) = (a.to_str().expect("utf-8"), b.to_str().expect("utf-8"));
    for sources in [vec![a, b], vec![a, "-i", b], vec!["-i", a, "-i", b]] {
        let mut args = vec!["inventory"];
        args.extend(sources);
        args.extend(["--host", "h1"]);
        let output = relayctl(&args, &[]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{args:?}: {}",
            stderr(&output)
        );
        let vars: Value = serde_json::from_str(&stdout(&output)).expect("JSON");
        assert_eq!(vars, json!({"only_a": 1, "site": "b"}), "{args:?}");
    }
}

#[test]
fn a_host_or_group_the_inventory_does_not_have_is_bad_input() {
    let dir = files(&[("hosts", "h1\n")]);
    let inventory = dir.path().join("hosts");
    let inventory = inventory.to_str().expect("utf-8");
    let output = relayctl(&["inventory", inventory, "--host", "h2"], &[]);
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("no host \"h2\""),
        "{}",
        stderr(&output)
    );
    let output = relayctl(&["inventory", inventory, "--graph", "nope"], &[]);
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    let output = relayctl(&["inventory", inventory, "--graph"], &[]);
    assert_eq!(stdout(&output), "@all:\n  |--@ungrouped:\n  |  |--h1\n");
    // A vault option is no inventory.
    for args in [
        &["inventory", "--list"][..],
        &["inventory", "--list", "--vault-id", "x"],
    ] {
        let output = relayctl(args, &[]);
        assert_eq!(
            output.status.code(),
            Some(5),
            "{args:?}: no inventory is a bad option"
        );
    }
}
