//! The engine's promises on the lab's relays, fresh: `--check` changes nothing and announces
//! exactly what `apply` then changes; a second `apply` changes nothing; the result is what the
//! dedicated-SaaS procedure asks for (medulla logs in with the support key, `sudo -n true` works,
//! the prerequisites are set) and the medulla password shows up in no output.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;

use serde_json::Value;

use crate::harness::{
    LabHost, docker_exec, host, host_entry, lab, lab_inventory, relayctl, relayctl_report,
    state_dir, stderr, stdout,
};
use crate::lab::{exclusive, password_is, reset, snapshot, task, tasks_with};

fn relays() -> Vec<&'static LabHost> {
    lab().iter().filter(|h| h.role == "relay").collect()
}

/// `relayctl ARGS --format json -e …` on the lab inventory, the medulla passwords kept in
/// `secrets`: (exit code, report, stdout + stderr).
fn run(args: &[&str], secrets: &std::path::Path) -> (Option<i32>, Value, String) {
    let inventory = lab_inventory();
    let password_file = format!(
        "{{medulla_password_file: \"{}/{{{{ inventory_hostname }}}}/medulla_password\"}}",
        secrets.display()
    );
    let mut all = vec![
        "apply",
        inventory.to_str().expect("utf-8"),
        "-e",
        &password_file,
    ];
    all.extend(args);
    relayctl_report(&all, &[])
}

/// Per relay, the tasks with this status.
fn by_host(report: &Value, status: &str) -> BTreeMap<String, Vec<String>> {
    relays()
        .iter()
        .map(|r| {
            (
                r.name.clone(),
                tasks_with(host_entry(report, &r.name), status),
            )
        })
        .collect()
}

#[test]
fn check_changes_nothing_and_announces_exactly_what_apply_does_then_nothing_is_left() {
    let _lab = exclusive();
    let relays = relays();
    reset(&relays);
    let secrets = tempfile::tempdir().expect("temp dir");
    let fresh: Vec<String> = relays.iter().map(|r| snapshot(r)).collect();

    // --check on fresh relays: every host exactly as it was, no secret written.
    let (code, check, mut outputs) = run(&["--check"], secrets.path());
    assert_eq!(code, Some(2), "relay03's /var fails sizing: {outputs}");
    let after_check: Vec<String> = relays.iter().map(|r| snapshot(r)).collect();
    for ((relay, before), after) in relays.iter().zip(&fresh).zip(&after_check) {
        assert_eq!(before, after, "--check changed {}", relay.name);
        // No login as medulla was tried before medulla exists (fail2ban counts failed logins).
        assert_eq!(
            docker_exec(
                &relay.container,
                "journalctl -q --no-pager _COMM=sshd | grep -c medulla || true"
            ),
            "0",
            "{}",
            relay.name
        );
    }
    assert_eq!(
        std::fs::read_dir(secrets.path()).expect("dir").count(),
        0,
        "--check wrote a password file"
    );
    let would_change = by_host(&check, "changed");
    for relay in &relays {
        let host = host_entry(&check, &relay.name);
        assert!(tasks_with(host, "failed").is_empty(), "{host:#}");
        // The key needs the user that the first task would create: "would change", not a failure.
        let key = task(
            host,
            "SIVEO's support key in medulla's authorized_keys (PROC step 3)",
        );
        assert_eq!(key["status"], "changed", "{key:#}");
        // The login check cannot be made before the user exists: pending, not failed.
        let login = task(
            host,
            "medulla logs in with the support key and runs sudo -n true",
        );
        assert_eq!(login["status"], "pending", "{login:#}");
        assert_eq!(
            would_change[&relay.name].len(),
            8,
            "user, sudoers, key, limits, two system.conf settings, the handler, the firewall: {:?}",
            would_change[&relay.name]
        );
    }
    // Without the relay whose sizing fails, pending changes give their own exit code.
    let (code, _, text) = run(&["--check", "--limit", "relays:!relay03"], secrets.path());
    assert_eq!(code, Some(6), "{text}");

    // apply: exactly what --check announced.
    let (code, applied, text) = run(&[], secrets.path());
    outputs.push_str(&text);
    assert_eq!(code, Some(2), "{text}");
    assert_eq!(by_host(&applied, "changed"), would_change);
    for relay in &relays {
        let host = host_entry(&applied, &relay.name);
        assert!(tasks_with(host, "failed").is_empty(), "{host:#}");
        let login = task(
            host,
            "medulla logs in with the support key and runs sudo -n true",
        );
        assert_eq!(login["status"], "ok", "{login:#}");
        // Notified by two tasks, run once.
        let handlers: Vec<&Value> = host["tasks"]
            .as_array()
            .expect("tasks")
            .iter()
            .filter(|t| t["handler"] == true)
            .collect();
        assert_eq!(handlers.len(), 1, "{handlers:#?}");
        assert_eq!(handlers[0]["task"], "re-execute systemd");
    }

    // A second apply: nothing to do, and no handler runs.
    let (code, again, text) = run(&["-vv"], secrets.path());
    outputs.push_str(&text);
    assert_eq!(code, Some(2), "{text}");
    for relay in &relays {
        let host = host_entry(&again, &relay.name);
        assert_eq!(host["counts"]["changed"], 0, "{host:#}");
        assert_eq!(host["counts"]["failed"], 0, "{host:#}");
        assert!(
            host["tasks"]
                .as_array()
                .expect("tasks")
                .iter()
                .all(|t| t["handler"] == false),
            "{host:#}"
        );
    }
    let (code, _, text) = run(&["--check", "--limit", "relays:!relay03"], secrets.path());
    assert_eq!(code, Some(0), "nothing pending after apply: {text}");
    let human = relayctl(
        &[
            "apply",
            lab_inventory().to_str().expect("utf-8"),
            "-vv",
            "-e",
            &format!(
                "{{medulla_password_file: \"{}/{{{{ inventory_hostname }}}}/medulla_password\"}}",
                secrets.path().display()
            ),
        ],
        &[],
    );
    outputs.push_str(&stdout(&human));
    outputs.push_str(&stderr(&human));

    for relay in &relays {
        verify_relay(relay, secrets.path(), &outputs);
    }
}

/// What the procedure asks for is on the relay, and its password only in its file.
fn verify_relay(relay: &LabHost, secrets: &std::path::Path, outputs: &str) {
    let on = |script: &str| docker_exec(&relay.container, script);
    assert_eq!(
        on("stat -c '%U:%G %a' /etc/sudoers.d/medulla; cat /etc/sudoers.d/medulla | tail -n 1"),
        "root:root 440\nmedulla ALL=(ALL) NOPASSWD: ALL"
    );
    assert_eq!(
        on("stat -c '%U:%G %a' /home/medulla/.ssh /home/medulla/.ssh/authorized_keys"),
        "medulla:medulla 700\nmedulla:medulla 600"
    );
    let support = std::fs::read_to_string(state_dir().join("medulla_support.pub")).expect("key");
    assert_eq!(on("cat /home/medulla/.ssh/authorized_keys"), support.trim());
    assert_eq!(
        on("getent passwd medulla | cut -d: -f6,7"),
        "/home/medulla:/bin/bash"
    );
    assert_eq!(
        on("cat /etc/security/limits.d/10-coredump-debian.conf"),
        "* hard core infinity\nroot hard core infinity\n* soft core 0\nroot soft core 0"
    );
    assert_eq!(
        on("grep -E '^DefaultLimit(NPROC|SIGPENDING)=' /etc/systemd/system.conf"),
        "DefaultLimitNPROC=31541\nDefaultLimitSIGPENDING=31541"
    );
    // The handler re-executed systemd: the running manager has the new limits.
    assert_eq!(
        on("systemctl show -p DefaultLimitNPROC -p DefaultLimitSIGPENDING"),
        "DefaultLimitNPROC=31541\nDefaultLimitSIGPENDING=31541"
    );
    // Edited in place: Debian's system.conf (as on the untouched medulla-server container) with
    // exactly its two commented-out lines set.
    let pristine = docker_exec(
        &host("medulla-server").container,
        "cat /etc/systemd/system.conf",
    );
    assert_eq!(
        on("cat /etc/systemd/system.conf"),
        pristine
            .replace("#DefaultLimitNPROC=\n", "DefaultLimitNPROC=31541\n")
            .replace(
                "#DefaultLimitSIGPENDING=\n",
                "DefaultLimitSIGPENDING=31541\n"
            )
    );
    // One backup per edit, none for the runs that changed nothing; the first is Debian's file.
    assert_eq!(
        on("ls /etc/systemd/ | grep -c '^system.conf\\..*\\.relayctl~$'"),
        "2"
    );
    assert_eq!(
        on("cat \"$(ls -d /etc/systemd/system.conf.*.relayctl~ | sort | head -n 1)\""),
        pristine
    );

    // The password: in a 0600 file in a 0700 directory, set on the relay (yescrypt), printed nowhere.
    let file = secrets.join(&relay.name).join("medulla_password");
    let mode =
        |p: &std::path::Path| std::fs::metadata(p).expect("exists").permissions().mode() & 0o777;
    assert_eq!(mode(&file), 0o600);
    assert_eq!(mode(file.parent().expect("dir")), 0o700);
    let password = std::fs::read_to_string(&file).expect("password");
    let password = password.trim();
    assert!(password.len() >= 20, "a generated password");
    assert!(!outputs.contains(password), "the password was printed");
    assert!(
        password_is(relay, "medulla", password),
        "the relay's hash is not the file's password"
    );

    // Independently of relayctl: OpenSSH logs in as medulla with the support key, sudo works.
    let ssh = std::process::Command::new("ssh")
        .args([
            "-F",
            state_dir().join("ssh_config").to_str().expect("utf-8"),
        ])
        .args([
            "-i",
            state_dir().join("medulla_support").to_str().expect("utf-8"),
        ])
        .args(["-l", "medulla", &relay.name, "sudo -n true && id -un"])
        .output()
        .expect("ssh runs");
    assert!(ssh.status.success(), "{}: {}", relay.name, stderr(&ssh));
    assert_eq!(stdout(&ssh).trim(), "medulla");
}
