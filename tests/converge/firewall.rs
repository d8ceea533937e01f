//! The relay firewall on the lab's relays: by default a table that only opens; with the drop
//! policy, the flows of the port matrix open from the peers that should reach them and from no
//! one else, once the inventory says what listens today may close; docker's own table and
//! Debian's nftables.conf untouched, the rules back after a restart, idempotence and `--check`,
//! removal in one step, and the safe apply: a ruleset nft refuses changes nothing, one that
//! locks the controller out is rolled back.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::{
    LabHost, docker, docker_exec, host, host_entry, lab_inventory, relayctl_report,
};
use crate::lab::{exclusive, listen, open_ports, reset, snapshot, task, tasks_with};

const FIREWALL_TASK: &str = "Medulla relay firewall (table inet medulla_relay)";
/// Listened on by the tests but in no row of the matrix.
const NOT_IN_MATRIX: u16 = 7777;
/// A monitoring agent's port (Zabbix's), listening on the relay before relayctl comes.
const AGENT: u16 = 10050;

/// `relayctl apply` on the lab inventory with `args`, JSON: (exit code, report, all output).
fn apply(args: &[&str]) -> (Option<i32>, Value, String) {
    let inventory = lab_inventory();
    // The firewall alone does not make a relay ready: no flow checks and verdict here.
    let mut all = vec!["apply", inventory.to_str().expect("utf-8"), "--no-flows"];
    all.extend(args);
    relayctl_report(&all, &[])
}

fn table(relay: &LabHost) -> String {
    docker_exec(
        &relay.container,
        "nft -s list table inet medulla_relay 2>/dev/null || echo absent",
    )
}

/// Docker's own table in the container (its embedded DNS); relayctl must never touch it.
fn docker_table(relay: &LabHost) -> String {
    docker_exec(&relay.container, "nft -s list table ip nat 2>/dev/null")
}

/// Debian's /etc/nftables.conf with nftables.service's state: the customer's, never relayctl's.
fn nftables_conf(relay: &LabHost) -> String {
    docker_exec(
        &relay.container,
        "sha256sum /etc/nftables.conf; systemctl is-enabled nftables.service || true",
    )
}

/// The table loads at boot from relayctl's own unit, and after nftables.service from its
/// drop-in; nftables.conf and nftables.service are as they were.
fn assert_boot_persistence(relay: &LabHost, conf_before: &str) {
    assert_eq!(
        docker_exec(
            &relay.container,
            "systemctl is-enabled relayctl-firewall-medulla_relay.service; \
             grep -c '^ExecReload=-/usr/sbin/nft -f /etc/nftables.d/medulla_relay.nft$' \
             /etc/systemd/system/nftables.service.d/relayctl-medulla_relay.conf"
        ),
        "enabled\n1"
    );
    assert_eq!(
        &nftables_conf(relay),
        conf_before,
        "nftables.conf untouched"
    );
}

fn sorted(mut ports: Vec<u16>) -> Vec<u16> {
    ports.sort_unstable();
    ports
}

#[test]
fn the_firewall_opens_the_matrix_to_its_peers_only_and_survives_a_restart() {
    let _lab = exclusive();
    let (classic, dmz) = (host("relay01"), host("relay02"));
    let (server, workstation) = (host("medulla-server"), host("workstation"));
    reset(&[classic, dmz]);
    // Server -> classic relay (S000; PROC 4.1), the undocumented 80 and 5555 included; workstation
    // -> classic relay (S000); server -> DMZ (S000) and external -> DMZ (FLUX §4).
    let server_to_classic = [22, 80, 5269, 5555, 8081, 9990, 22000];
    let workstation_to_classic = [80, 111, 443, 2049, 5222, 9990];
    let server_to_dmz = [22, 4369, 4370, 4380, 5269, 8081, 22000];
    let classic_listeners = [
        80,
        111,
        443,
        2049,
        5222,
        5269,
        5555,
        8081,
        9990,
        22000,
        NOT_IN_MATRIX,
        AGENT,
    ];
    let dmz_listeners = [
        4369,
        4370,
        4380,
        5222,
        5269,
        8081,
        9990,
        22000,
        NOT_IN_MATRIX,
    ];
    // sshd listens on 22 already.
    listen(classic, &classic_listeners);
    listen(dmz, &dmz_listeners);
    assert!(
        open_ports(server, classic, &[NOT_IN_MATRIX]) == [NOT_IN_MATRIX],
        "before the firewall, every listener answers"
    );
    let docker_before = (docker_table(classic), docker_table(dmz));
    let conf_before = nftables_conf(classic);

    // The default policy only opens: what answers today still does.
    let (code, report, text) = apply(&[
        "--limit",
        "relay01",
        "-e",
        "{relay_roles: [relay_firewall]}",
    ]);
    assert_eq!(code, Some(0), "{text}");
    let firewall = task(host_entry(&report, "relay01"), FIREWALL_TASK);
    assert_eq!(firewall["status"], "changed", "{firewall:#}");
    assert!(
        table(classic).contains("policy accept;"),
        "{}",
        table(classic)
    );
    assert_eq!(
        open_ports(server, classic, &[NOT_IN_MATRIX, AGENT]),
        [NOT_IN_MATRIX, AGENT],
        "the default table closes nothing: the agent still answers"
    );
    assert_boot_persistence(classic, &conf_before);

    // The drop policy would close 7777, which answers today: refused, in --check and in apply,
    // before anything changes, until the inventory says it may close.
    let applied_open = snapshot(classic);
    let drop_only = [
        "--limit",
        "relay01",
        "-e",
        "{relay_roles: [relay_firewall], relay_firewall_input_policy: drop}",
    ];
    for run in [&drop_only[..], &[&drop_only[..], &["--check"]].concat()] {
        let (code, report, text) = apply(run);
        assert_eq!(code, Some(2), "{text}");
        let error = host_entry(&report, "relay01")["error"]["message"].to_string();
        assert!(
            error.contains("tcp/7777 (perl) is reachable from any host now")
                && error.contains("tcp/10050 (perl) is reachable from any host now")
                && error.contains("relay_firewall_close_reachable"),
            "{error}"
        );
        assert!(text.contains("tcp/10050"), "said in the output: {text}");
    }
    assert_eq!(snapshot(classic), applied_open, "nothing changed");

    let limit = [
        "--limit",
        "relay01,relay02",
        "-e",
        "{relay_roles: [relay_firewall], relay_firewall_input_policy: drop, \
         relay_firewall_close_reachable: true}",
    ];
    let (code, report, text) = apply(&limit);
    assert_eq!(code, Some(0), "{text}");
    for relay in [classic, dmz] {
        let firewall = task(host_entry(&report, &relay.name), FIREWALL_TASK);
        assert_eq!(firewall["status"], "changed", "{firewall:#}");
        let warnings = host_entry(&report, &relay.name)["warnings"].to_string();
        assert!(
            warnings.contains("firewall_cuts_off") && warnings.contains("tcp/7777"),
            "what closes is still said: {warnings}"
        );
    }

    // The lab's workstation subnet holds the server too: it gets the workstation ports as well.
    let mut server_and_workstation = [&server_to_classic[..], &workstation_to_classic[..]].concat();
    server_and_workstation.sort_unstable();
    server_and_workstation.dedup();
    assert_eq!(
        open_ports(server, classic, &[&[22], &classic_listeners[..]].concat()),
        server_and_workstation,
        "server -> classic relay"
    );
    assert_eq!(
        open_ports(server, dmz, &[&[22], &dmz_listeners[..]].concat()),
        // 5222 is open to any host on a DMZ relay (external -> DMZ); 9990 is imaging: classic only.
        sorted([server_to_dmz.to_vec(), vec![5222]].concat()),
        "server -> DMZ relay"
    );
    assert_eq!(
        open_ports(workstation, dmz, &[22, 4369, 5222, 5269, 22000]),
        [22, 5222],
        "an external host reaches a DMZ relay on 22 and 5222 only"
    );
    assert_eq!(
        (docker_table(classic), docker_table(dmz)),
        docker_before,
        "docker's own table must survive"
    );
    assert!(
        !docker_exec(
            &classic.container,
            "getent hosts relayctl-lab-medulla-server"
        )
        .is_empty(),
        "docker's DNS still answers on the relay"
    );
    assert_boot_persistence(dmz, &conf_before);

    // Idempotence, and --check changes nothing.
    let snapshots: Vec<String> = [classic, dmz].iter().map(|r| snapshot(r)).collect();
    let (code, report, text) = apply(&limit);
    assert_eq!(code, Some(0), "{text}");
    let (code, check, text) = apply(&[&limit[..], &["--check"]].concat());
    assert_eq!(code, Some(0), "{text}");
    for (relay, before) in [classic, dmz].iter().zip(&snapshots) {
        for run in [&report, &check] {
            let entry = host_entry(run, &relay.name);
            assert!(tasks_with(entry, "changed").is_empty(), "{entry:#}");
        }
        assert_eq!(&snapshot(relay), before, "{} changed", relay.name);
    }

    // The inventory decides: workstation subnets, an extra port, a removed one (5555 is in no
    // DMZ row: removing it there would be an error, so relay01 only).
    let elsewhere = [
        &["--limit", "relay01"][..],
        &[
            "-e",
            "{relay_roles: [relay_firewall], relay_firewall_input_policy: drop, \
             relay_firewall_close_reachable: true, workstation_subnets: [10.99.0.0/16], \
             relay_firewall_extra_ports: [{flow: server_to_relay, port: 7777, purpose: a test port}], \
             relay_firewall_removed_ports: [5555]}",
        ],
    ]
    .concat();
    let (code, _, text) = apply(&elsewhere);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(
        open_ports(workstation, classic, &[111, 443, 2049, 5222]),
        Vec::<u16>::new(),
        "not in the inventory's workstation subnets"
    );
    assert_eq!(
        open_ports(server, classic, &[&[22], &classic_listeners[..]].concat()),
        [22, 80, 5269, 7777, 8081, 9990, 22000],
        "the server's ports, with 7777 added and 5555 removed"
    );

    // The ruleset is back after a restart (relayctl's unit loads it at boot).
    let before_restart = table(classic);
    docker(&["restart", &classic.container]);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (code, _, _) = apply(&[&elsewhere[..], &["--check"]].concat());
        if code == Some(0) {
            break;
        }
        assert!(Instant::now() < deadline, "relay01 did not come back");
        std::thread::sleep(Duration::from_millis(500));
    }
    assert_eq!(table(classic), before_restart, "the rules after a restart");
    assert!(
        !docker_table(classic).is_empty(),
        "docker's table after a restart"
    );

    // Removal in one step: relayctl's table and include, nothing else (the backups of replaced
    // rulesets stay, as every backup relayctl keeps).
    let (code, _, text) = apply(&[&limit[..], &["-e", "relay_firewall_state=absent"]].concat());
    assert_eq!(code, Some(0), "{text}");
    for relay in [classic, dmz] {
        assert_eq!(table(relay), "absent");
        assert_eq!(
            docker_exec(
                &relay.container,
                "ls /etc/nftables.d /etc/systemd/system | grep -v 'relayctl~$' | grep -c relayctl || true"
            ),
            "0",
            "no ruleset, unit or drop-in left"
        );
        assert_eq!(nftables_conf(relay), conf_before, "nftables.conf as it was");
        assert!(
            !docker_table(relay).is_empty(),
            "docker's table after removal"
        );
    }
    // The restart ended relay01's listeners.
    listen(classic, &[NOT_IN_MATRIX]);
    for relay in [classic, dmz] {
        assert_eq!(
            open_ports(server, relay, &[NOT_IN_MATRIX]),
            [NOT_IN_MATRIX],
            "nothing filters {} any more",
            relay.name
        );
    }
}

/// relay01 fresh, with the real firewall applied.
fn relay01_with_the_real_firewall() -> &'static LabHost {
    let relay = host("relay01");
    reset(&[relay]);
    let (code, _, text) = apply(&[
        "--limit",
        "relay01",
        "-e",
        "{relay_roles: [relay_firewall]}",
    ]);
    assert_eq!(code, Some(0), "{text}");
    relay
}

/// Applies the real firewall on relay01, then a test-only ruleset role: (exit code, the failing
/// task, all output, relay01's table before).
fn apply_bad_ruleset(role: &str) -> (Option<i32>, Value, String, String) {
    let relay = relay01_with_the_real_firewall();
    let before = table(relay);
    let bad_roles = format!("{{relay_roles: [{role}]}}");
    let (code, report, text) = apply(&[
        "--limit",
        "relay01",
        "--roles-dir",
        "tests/fixtures/roles",
        "-e",
        &bad_roles,
        "-e",
        "ansible_ssh_timeout=3",
    ]);
    let entry = host_entry(&report, "relay01");
    let failed = entry["tasks"]
        .as_array()
        .and_then(|tasks| tasks.iter().find(|t| t["status"] == "failed"))
        .cloned()
        .unwrap_or_else(|| panic!("no failed task: {entry:#}"));
    (code, failed, text, before)
}

/// After a rollback: the previous table, nothing armed, a new connection works.
fn assert_rolled_back(relay: &LabHost, before: &str) {
    assert_eq!(table(relay), before, "the previous table is back");
    assert_eq!(
        docker_exec(
            &relay.container,
            "ls /run/relayctl; ls /etc/nftables.d; systemctl list-timers --all --no-legend 'relayctl-*' | wc -l"
        ),
        "medulla_relay.nft\n0",
        "no token, no staged file, no timer left"
    );
    let (code, _, text) = apply(&[
        "--limit",
        "relay01",
        "--check",
        "-e",
        "{relay_roles: [relay_firewall]}",
    ]);
    assert_eq!(
        code,
        Some(0),
        "a new connection works and the firewall is as applied: {text}"
    );
}

#[test]
fn a_ruleset_that_refuses_new_ssh_connections_is_rolled_back_at_once() {
    let _lab = exclusive();
    let (code, failed, text, before) = apply_bad_ruleset("firewall_lockout");
    assert_eq!(code, Some(2), "{text}");
    let message = failed["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("a new SSH connection to the host failed after the change")
            && message.contains("rolled back over the current connection"),
        "{failed:#}"
    );
    assert_rolled_back(host("relay01"), &before);
}

#[test]
fn a_ruleset_that_cuts_the_controller_off_is_rolled_back_by_the_host_itself() {
    let _lab = exclusive();
    let started = Instant::now();
    let (code, failed, text, before) = apply_bad_ruleset("firewall_blackout");
    assert_eq!(code, Some(2), "{text}");
    let message = failed["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("a new SSH connection to the host failed after the change"),
        "{failed:#}"
    );
    // The host restored its previous table by itself: the timer fired and took the token.
    assert!(
        message.contains("already rolled back by itself")
            || message.contains("restores the previous table by itself"),
        "{failed:#}"
    );
    let deadline = started + Duration::from_secs(90);
    while table(host("relay01")) != before {
        assert!(Instant::now() < deadline, "the host did not roll back");
        std::thread::sleep(Duration::from_millis(500));
    }
    assert_rolled_back(host("relay01"), &before);
}

#[test]
fn a_ruleset_nft_refuses_changes_nothing() {
    let _lab = exclusive();
    let relay = relay01_with_the_real_firewall();
    let before = snapshot(relay);
    let (code, report, text) = apply(&[
        "--limit",
        "relay01",
        "--roles-dir",
        "tests/fixtures/roles",
        "-e",
        "{relay_roles: [firewall_broken]}",
    ]);
    assert_eq!(code, Some(2), "{text}");
    let failed = task(
        host_entry(&report, "relay01"),
        "a ruleset with a syntax error",
    );
    assert_eq!(failed["status"], "failed", "{failed:#}");
    assert!(
        failed["message"]
            .as_str()
            .is_some_and(|m| m.contains("nft -c refused the new ruleset; nothing was changed")),
        "{failed:#}"
    );
    assert_eq!(snapshot(relay), before, "the host is as it was");
    assert_eq!(
        docker_exec(&relay.container, "ls -A /etc/nftables.d /run/relayctl"),
        "/etc/nftables.d:\nmedulla_relay.nft\n\n/run/relayctl:",
        "no staged file, no token"
    );
}

/// Each `systemctl` call is a process on the relay and work for its PID 1, on every relay of a
/// run at once: the facts take systemd's version from its library, and the firewall role's
/// probes ask systemd only about units that run (firewalld and nftables.service do not, here)
/// and read its own unit's `WantedBy=` link from the disk. What is left is the customer's
/// nftables.service, which may be enabled by any of its own means, and the changes themselves.
#[test]
fn the_firewall_probes_ask_systemd_only_what_the_disk_cannot_say() {
    let _lab = exclusive();
    let relay = host("relay01");
    reset(&[relay]);
    // A systemctl that logs its arguments, first in the PATH every probe and sudo sets.
    docker_exec(
        &relay.container,
        "printf '#!/bin/sh\\necho \"$*\" >>/run/systemctl-calls\\nexec /usr/bin/systemctl \"$@\"\\n' \
         >/usr/local/sbin/systemctl && chmod 755 /usr/local/sbin/systemctl",
    );
    let calls = || {
        docker_exec(
            &relay.container,
            "cat /run/systemctl-calls 2>/dev/null; rm -f /run/systemctl-calls",
        )
    };
    let firewall_only = [
        "--limit",
        "relay01",
        "-e",
        "{relay_roles: [relay_firewall]}",
    ];
    let (code, report, output) = apply(&firewall_only);
    assert_eq!(code, Some(0), "{output}");
    assert_eq!(
        tasks_with(host_entry(&report, "relay01"), "changed"),
        [format!("relay_firewall : {FIREWALL_TASK}")]
    );
    let cold = calls();
    for asked in [
        "--version",
        "is-active",
        "is-enabled relayctl-firewall-medulla_relay.service",
    ] {
        assert!(!cold.contains(asked), "systemctl {asked} in {cold:?}");
    }
    assert!(cold.contains("is-enabled nftables.service"), "{cold:?}");

    let (code, report, output) = apply(&firewall_only);
    assert_eq!(code, Some(0), "{output}");
    assert!(tasks_with(host_entry(&report, "relay01"), "changed").is_empty());
    assert_eq!(calls(), "is-enabled nftables.service", "a no-op run");
    // The link read from the disk is what systemd says of the unit.
    assert_eq!(
        docker_exec(
            &relay.container,
            "/usr/bin/systemctl is-enabled relayctl-firewall-medulla_relay.service"
        ),
        "enabled"
    );
    reset(&[relay]);
}
