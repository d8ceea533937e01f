//! One become password for a fleet whose logins differ: sudo gets it where it asks for it (the
//! lab's `operator`) and nowhere else (`admin`, whose sudo needs none), for the privileged shell
//! (`apply`) and for a command held open (the flow checks' listener), and no word of it shows in
//! any output, in any format.

use std::path::Path;

use serde_json::Value;

use crate::harness::{
    OPERATOR_PASSWORD, TempInventory, host, host_entry, host_line, inventory_yaml, relayctl,
    stderr, stdout,
};
use crate::lab::{exclusive, reset};

/// relay01 as admin (NOPASSWD), relay02 as operator (sudo asks), the Medulla server as a peer.
fn both_logins() -> TempInventory {
    let relays = format!(
        "{}{}",
        host_line(host("relay01"), "relay_type: classic"),
        // The lab's DMZ /var is on-premise size (200 GB; dedicated SaaS asks 400 GB).
        host_line(
            host("relay02"),
            "relay_type: dmz, medulla_offer: on_premise, ansible_user: operator",
        ),
    );
    TempInventory::new(&inventory_yaml(
        "",
        &[
            ("medulla_servers", host_line(host("medulla-server"), "")),
            ("relays", relays),
        ],
    ))
}

/// `relayctl ARGS` with the become password set: (exit code, stdout, stderr).
fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let output = relayctl(args, &[("RELAYCTL_BECOME_PASSWORD", OPERATOR_PASSWORD)]);
    (output.status.code(), stdout(&output), stderr(&output))
}

/// Every word of the password that `text` holds.
fn words_in(text: &str) -> Vec<&'static str> {
    OPERATOR_PASSWORD
        .split_whitespace()
        .filter(|word| text.contains(word))
        .collect()
}

fn files_in(dir: &Path) -> String {
    let mut all = String::new();
    for entry in std::fs::read_dir(dir).expect("report dir").flatten() {
        all.push_str(&std::fs::read_to_string(entry.path()).expect("a report file"));
    }
    all
}

#[test]
fn one_become_password_serves_a_passwordless_and_a_password_login_and_no_word_of_it_is_shown() {
    let _lab = exclusive();
    // Fresh relays: the flow checks below must open their own listeners through sudo, which a
    // listener an earlier test left on a port would stand in for.
    reset(&[host("relay01"), host("relay02")]);
    let inventory = both_logins();
    let path = inventory.path_str();

    // The privileged shell, both ways.
    let (code, json, err) = run(&["apply", "--check", path, "--format", "json", "-vv"]);
    let report: Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
    for name in ["relay01", "relay02"] {
        let entry = host_entry(&report, name);
        assert_ne!(entry["status"], "unreachable", "{entry:#}\n{err}");
        assert_eq!(
            entry["facts"]["user"], "root",
            "{name} ran as root: {entry:#}"
        );
        assert!(
            !entry["tasks"].as_array().expect("tasks").is_empty(),
            "{name}'s tasks were probed: {entry:#}"
        );
    }
    assert!(matches!(code, Some(0 | 6)), "{code:?}: {json}\n{err}");
    let mut shown = vec![json, err];

    // A command held open through sudo: the flow checks' listener on each relay.
    let dir = tempfile::tempdir().expect("temp dir");
    let report_dir = dir.path().join("report");
    let (code, json, err) = run(&[
        "flows",
        path,
        "--format",
        "json",
        "-vv",
        "--report",
        report_dir.to_str().expect("utf-8"),
    ]);
    let report: Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
    assert_ne!(code, Some(3), "no host unreachable: {json}\n{err}");
    for name in ["relay01", "relay02"] {
        let entry = host_entry(&report, name);
        let temporary = entry["flows"]
            .as_array()
            .expect("flows")
            .iter()
            .filter(|f| f["listener"] == "temporary")
            .count();
        assert!(
            temporary > 0,
            "{name}: the listener held through sudo served its ports: {entry:#}"
        );
    }
    shown.extend([json, err, files_in(&report_dir)]);

    // The other formats, both commands.
    for format in ["human", "junit"] {
        for command in ["apply", "flows"] {
            let mut args = vec![command, path, "--format", format, "-v"];
            if command == "apply" {
                args.push("--check");
            }
            let (code, out, err) = run(&args);
            assert_ne!(code, Some(3), "{command} --format {format}: {out}\n{err}");
            shown.extend([out, err]);
        }
    }
    for text in &shown {
        assert_eq!(words_in(text), Vec::<&str>::new(), "in:\n{text}");
    }
}
