//! The relay firewall on relays that already filter, as customers' do: ufw on, a foreign
//! nftables chain or iptables-legacy rule that drops, the customer's own nftables.conf. The
//! Medulla flows are opened where the relay filters, each change guarded, persisted across a
//! reboot, removable in one step; what relayctl cannot open through fails the relay, named,
//! before anything changes.

use serde_json::Value;

use crate::harness::{LabHost, docker_exec, host, host_entry, lab_inventory, relayctl_report};
use crate::lab::{
    Customised, customised, exclusive, listen, open_ports, reboot, snapshot, task, tasks_with,
};

const UFW_TASK: &str = "Medulla relay flows in ufw";
const FIREWALLD_TASK: &str = "Medulla relay flows in firewalld";
const TABLE_TASK: &str = "Medulla relay firewall (table inet medulla_relay)";
/// Listened on, in no row of the matrix.
const NOT_IN_MATRIX: u16 = 7777;
/// Server -> classic relay (S000; PROC 4.1), with the workstation ports: the lab's workstation
/// subnet holds the server too.
const SERVER_TO_CLASSIC: [u16; 11] = [22, 80, 111, 443, 2049, 5222, 5269, 5555, 8081, 9990, 22000];
const FIREWALL_ONLY: &str = "{relay_roles: [relay_firewall]}";

/// `relayctl apply` of the firewall role on relay01, with `args`: (exit code, report, output).
fn apply(args: &[&str]) -> (Option<i32>, Value, String) {
    let inventory = lab_inventory();
    let mut all = vec![
        "apply",
        inventory.to_str().expect("utf-8"),
        "--no-flows",
        "--limit",
        "relay01",
        "-e",
        FIREWALL_ONLY,
    ];
    all.extend(args);
    relayctl_report(&all, &[])
}

fn server_ports() -> Vec<u16> {
    let mut ports = SERVER_TO_CLASSIC.to_vec();
    ports.sort_unstable();
    ports.dedup();
    ports
}

/// relay01 fresh, listening on every server port of the matrix and on [`NOT_IN_MATRIX`], and
/// recreated once the test ends.
fn fresh_relay01() -> (Customised, &'static LabHost) {
    let relay = host("relay01");
    let customised = customised(&[relay]);
    let mut ports: Vec<u16> = server_ports().into_iter().filter(|p| *p != 22).collect();
    ports.push(NOT_IN_MATRIX);
    listen(relay, &ports);
    (customised, relay)
}

/// ufw's files and its live user chains: what "ufw as it was" means.
fn ufw_state(relay: &LabHost) -> String {
    docker_exec(
        &relay.container,
        "sha256sum /etc/ufw/user.rules /etc/ufw/user6.rules; \
         iptables -S ufw-user-input; ip6tables -S ufw6-user-input",
    )
}

fn error_of(report: &Value) -> String {
    host_entry(report, "relay01")["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn ufw_on_the_relay_gets_the_medulla_flows_in_its_own_rules_and_gives_them_back() {
    let _lab = exclusive();
    let (_customised, relay) = fresh_relay01();
    let server = host("medulla-server");
    docker_exec(
        &relay.container,
        "ufw default deny incoming >/dev/null && ufw allow 22/tcp >/dev/null && ufw --force enable >/dev/null",
    );
    let all_ports = [&server_ports()[..], &[NOT_IN_MATRIX]].concat();
    assert_eq!(
        open_ports(server, relay, &all_ports),
        [22],
        "ufw drops the rest today"
    );
    let before = ufw_state(relay);

    let (code, report, text) = apply(&[]);
    assert_eq!(code, Some(0), "{text}");
    let entry = host_entry(&report, "relay01");
    assert_eq!(task(entry, UFW_TASK)["status"], "changed", "{entry:#}");
    assert_eq!(
        task(entry, TABLE_TASK)["status"],
        "ok",
        "no table of relayctl's beside ufw"
    );
    assert_eq!(
        open_ports(server, relay, &all_ports),
        server_ports(),
        "the server ports open through ufw, 7777 still closed"
    );
    let status = docker_exec(&relay.container, "ufw status");
    assert!(
        status.contains("5269/tcp") && status.contains("# relayctl: "),
        "relayctl's rules are ufw rules, recognisable: {status}"
    );
    assert_eq!(
        docker_exec(
            &relay.container,
            "nft list table inet medulla_relay >/dev/null 2>&1 && echo table || echo none; systemctl is-enabled nftables.service || true"
        ),
        "none\ndisabled"
    );

    // The flows work through ufw, and the report says where they were opened.
    let inventory = lab_inventory();
    let (code, report, text) = relayctl_report(
        &[
            "flows",
            inventory.to_str().expect("utf-8"),
            "--limit",
            "relay01,medulla-server,workstation",
        ],
        &[],
    );
    // Only the firewall role ran: NOT READY for the medulla account, the ports are the point.
    assert_eq!(code, Some(2), "{text}");
    let ports = host_entry(&report, "relay01")["confirmations"]["items"]
        .as_array()
        .and_then(|items| items.iter().find(|i| i["key"] == "ports"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(ports["status"], "confirmed", "{ports:#}");
    assert!(
        ports["details"]
            .to_string()
            .contains("ufw, where relayctl opens the flows"),
        "{ports:#}"
    );

    // Idempotent, and --check changes nothing.
    let applied = snapshot(relay);
    for args in [&[][..], &["--check"]] {
        let (code, report, text) = apply(args);
        assert_eq!(code, Some(0), "{text}");
        let entry = host_entry(&report, "relay01");
        assert!(tasks_with(entry, "changed").is_empty(), "{entry:#}");
    }
    assert_eq!(snapshot(relay), applied);

    // A reboot: ufw loads its own files, relayctl's rules with them.
    reboot(relay);
    listen(relay, &[5269, NOT_IN_MATRIX]);
    assert_eq!(
        open_ports(server, relay, &[5269, NOT_IN_MATRIX]),
        [5269],
        "after a reboot"
    );
    let (code, report, text) = apply(&[]);
    assert_eq!(code, Some(0), "{text}");
    assert!(tasks_with(host_entry(&report, "relay01"), "changed").is_empty());

    // Removal in one step: ufw as it was, files and live rules.
    let (code, _, text) = apply(&["-e", "relay_firewall_state=absent"]);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(ufw_state(relay), before, "ufw as it was");
    assert_eq!(open_ports(server, relay, &[5269]), Vec::<u16>::new());
}

/// firewalld's permanent configuration and what it has loaded: what "firewalld as it was" means.
fn firewalld_state(relay: &LabHost) -> String {
    docker_exec(
        &relay.container,
        "ls /etc/firewalld/policies; firewall-cmd --get-policies; firewall-cmd --list-all",
    )
}

#[test]
fn firewalld_on_the_relay_gets_the_medulla_flows_in_policies_of_relayctls_own() {
    let _lab = exclusive();
    let (_customised, relay) = fresh_relay01();
    let server = host("medulla-server");
    docker_exec(
        &relay.container,
        // firewall-cmd --state waits for firewalld to have loaded its rules.
        "systemctl enable --now firewalld.service 2>/dev/null && firewall-cmd --state >/dev/null",
    );
    let all_ports = [&server_ports()[..], &[NOT_IN_MATRIX]].concat();
    assert_eq!(
        open_ports(server, relay, &all_ports),
        [22],
        "firewalld's public zone admits SSH only"
    );
    let before = firewalld_state(relay);

    let (code, report, text) = apply(&[]);
    assert_eq!(code, Some(0), "{text}");
    let entry = host_entry(&report, "relay01");
    assert_eq!(
        task(entry, FIREWALLD_TASK)["status"],
        "changed",
        "{entry:#}"
    );
    assert_eq!(
        open_ports(server, relay, &all_ports),
        server_ports(),
        "the server ports open through firewalld, 7777 still closed"
    );
    assert_eq!(
        docker_exec(
            &relay.container,
            "systemctl is-enabled nftables.service || true; nft list table inet medulla_relay >/dev/null 2>&1 && echo table || echo none"
        ),
        "disabled\nnone",
        "no nftables.service, no table of relayctl's beside firewalld"
    );

    let applied = snapshot(relay);
    for args in [&[][..], &["--check"]] {
        let (code, report, text) = apply(args);
        assert_eq!(code, Some(0), "{text}");
        let entry = host_entry(&report, "relay01");
        assert!(tasks_with(entry, "changed").is_empty(), "{entry:#}");
    }
    assert_eq!(snapshot(relay), applied);

    reboot(relay);
    listen(relay, &[5269, NOT_IN_MATRIX]);
    assert_eq!(
        open_ports(server, relay, &[5269, NOT_IN_MATRIX]),
        [5269],
        "after a reboot"
    );

    let (code, _, text) = apply(&["-e", "relay_firewall_state=absent"]);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(firewalld_state(relay), before, "firewalld as it was");
    assert_eq!(open_ports(server, relay, &[5269]), Vec::<u16>::new());
}

#[test]
fn removing_the_only_rule_that_lets_the_controller_in_is_rolled_back() {
    let _lab = exclusive();
    let (_customised, relay) = fresh_relay01();
    docker_exec(
        &relay.container,
        "ufw default deny incoming >/dev/null && ufw allow 22/tcp >/dev/null && ufw --force enable >/dev/null",
    );
    let (code, _, text) = apply(&[]);
    assert_eq!(code, Some(0), "{text}");
    // The operator deletes their own SSH rule: relayctl's is the one left that admits the
    // controller. Removing relayctl's rules would lock it out.
    docker_exec(&relay.container, "ufw delete allow 22/tcp >/dev/null");
    let before = ufw_state(relay);
    let (code, report, text) = apply(&[
        "-e",
        "relay_firewall_state=absent",
        "-e",
        "ansible_ssh_timeout=3",
    ]);
    assert_eq!(code, Some(2), "{text}");
    let failed = task(host_entry(&report, "relay01"), UFW_TASK);
    let message = failed["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("a new SSH connection to the host failed after the change")
            && message.contains("rolled back over the current connection"),
        "{failed:#}"
    );
    assert_eq!(
        ufw_state(relay),
        before,
        "ufw's rules as they were, relayctl's included"
    );
    assert_eq!(
        docker_exec(
            &relay.container,
            "ls -A /run/relayctl /etc/ufw | grep -v -e 'relayctl~$' -e ':$' | grep -c relayctl || true"
        ),
        "0",
        "no token, no staged file"
    );
    let (code, _, text) = apply(&["--check"]);
    assert_eq!(code, Some(0), "a new connection works again: {text}");
}

#[test]
fn a_foreign_chain_or_a_legacy_rule_that_drops_fails_the_relay_naming_it_and_nothing_changes() {
    let _lab = exclusive();
    let (_customised, relay) = fresh_relay01();
    docker_exec(
        &relay.container,
        "nft add table inet customer && \
         nft add chain inet customer input '{ type filter hook input priority 10; policy drop; }' && \
         nft add rule inet customer input tcp dport 22 accept",
    );
    let before = snapshot(relay);
    for args in [&[][..], &["--check"]] {
        let (code, report, text) = apply(args);
        assert_eq!(code, Some(2), "{text}");
        let error = error_of(&report);
        assert!(
            error.contains("nft table inet customer, chain input (hook input): policy drop"),
            "{error}"
        );
        assert!(tasks_with(host_entry(&report, "relay01"), "changed").is_empty());
    }
    assert_eq!(snapshot(relay), before, "nothing changed");

    docker_exec(
        &relay.container,
        "nft delete table inet customer && iptables-legacy -A INPUT -p tcp --dport 9999 -j DROP",
    );
    let before = snapshot(relay);
    let (code, report, text) = apply(&[]);
    assert_eq!(code, Some(2), "{text}");
    let error = error_of(&report);
    assert!(
        error.contains("iptables-legacy: `-A INPUT -p tcp -m tcp --dport 9999 -j DROP`"),
        "{error}"
    );
    assert_eq!(snapshot(relay), before, "nothing changed");

    // A run whose tags leave the firewall alone neither reads it nor fails for it.
    let (code, report, text) = apply(&["--skip-tags", "relay_firewall"]);
    assert_eq!(code, Some(0), "{text}");
    let entry = host_entry(&report, "relay01");
    assert!(entry["facts"]["firewall"].is_null(), "{entry:#}");
    assert!(entry["facts"]["listening"].is_null(), "{entry:#}");
}

#[test]
fn the_customers_nftables_conf_keeps_its_meaning_and_relayctls_table_survives_its_reloads() {
    let _lab = exclusive();
    let (_customised, relay) = fresh_relay01();
    let server = host("medulla-server");
    // Debian's layout: flush ruleset first, then the customer's own table (a ban list and a
    // counter, nothing that drops for everyone).
    docker_exec(
        &relay.container,
        "cat >/etc/nftables.conf <<'EOF'\n\
         #!/usr/sbin/nft -f\n\
         flush ruleset\n\
         table inet customer {\n\
         \tchain input {\n\
         \t\ttype filter hook input priority filter; policy accept;\n\
         \t\tip saddr 203.0.113.0/24 drop\n\
         \t\ttcp dport 9 counter\n\
         \t}\n\
         }\n\
         EOF\n\
         systemctl enable --now nftables.service",
    );
    let conf = docker_exec(&relay.container, "sha256sum /etc/nftables.conf");
    let drop_the_rest = [
        "-e",
        "{relay_firewall_input_policy: drop, relay_firewall_close_reachable: true}",
    ];
    let (code, _, text) = apply(&drop_the_rest);
    assert_eq!(code, Some(0), "{text}");
    let flows_work = |when: &str| {
        assert_eq!(
            open_ports(server, relay, &[5269, NOT_IN_MATRIX]),
            [5269],
            "the Medulla flows through relayctl's table, {when}"
        );
    };
    flows_work("after apply");
    for _ in 0..2 {
        docker_exec(&relay.container, "systemctl reload nftables.service");
    }
    let tables = docker_exec(&relay.container, "nft list tables");
    assert_eq!(
        tables
            .lines()
            .filter(|l| *l == "table inet customer")
            .count(),
        1,
        "the customer's table once: {tables}"
    );
    assert_eq!(
        docker_exec(
            &relay.container,
            "nft list chain inet customer input | grep -c 'dport 9'"
        ),
        "1",
        "their rules once"
    );
    assert!(tables.contains("table inet medulla_relay"), "{tables}");
    flows_work("after two reloads of nftables.service");
    assert_eq!(
        docker_exec(&relay.container, "sha256sum /etc/nftables.conf"),
        conf,
        "their conf untouched"
    );

    reboot(relay);
    listen(relay, &[5269, NOT_IN_MATRIX]);
    flows_work("after a reboot");
    let tables = docker_exec(&relay.container, "nft list tables");
    assert!(
        tables.contains("table inet customer") && tables.contains("table inet medulla_relay"),
        "{tables}"
    );
    let (code, report, text) = apply(&drop_the_rest);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        tasks_with(host_entry(&report, "relay01"), "changed").is_empty(),
        "{text}"
    );
}
