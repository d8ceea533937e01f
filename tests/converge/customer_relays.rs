//! Relays set up as customers' machines are, each with one thing SIVEO would trip over during the
//! installation (issue 14): the verdict must be NOT READY and name it, or relayctl must fix it
//! completely, or refuse and leave the host as it was. Each test recreates its relay fresh,
//! sets the condition up with `docker exec`, applies as a customer would (an inventory with the
//! support key's public half only: the customer does not have SIVEO's private key), and checks
//! the report against the host.

use std::path::Path;

use serde_json::Value;

use crate::harness::{
    LabHost, TempInventory, docker_exec, host, host_entry, host_line, inventory_yaml,
    relayctl_report, state_dir,
};
use crate::lab::{customised, exclusive, listen, open_ports, snapshot, task};

/// The lab's subnet, where its workstation lives (lab.sh gives every lab a /24).
fn lab_subnet() -> String {
    let server = &host("medulla-server").ip;
    let prefix = server.rsplit_once('.').map_or(server.as_str(), |(p, _)| p);
    format!("{prefix}.0/24")
}

/// A customer's inventory: `relay` (a classic relay, with `relay_vars` in its line), the lab's
/// Medulla server and workstation, the support key's public half, the medulla passwords kept
/// in `secrets`; `vars` are more lines for `all.vars` (indented by 4).
fn customer_inventory(
    relay: &LabHost,
    relay_vars: &str,
    vars: &str,
    secrets: &Path,
) -> TempInventory {
    let all_vars = format!(
        "    itsm_entity: \"Lab entity\"\n    workstation_subnets: [{}]\n    \
         medulla_support_public_key: {}\n    \
         medulla_password_file: \"{}/{{{{ inventory_hostname }}}}/medulla_password\"\n{vars}",
        lab_subnet(),
        state_dir().join("medulla_support.pub").display(),
        secrets.display(),
    );
    let relay_line = if relay_vars.is_empty() {
        "relay_type: classic".to_string()
    } else {
        format!("relay_type: classic, {relay_vars}")
    };
    TempInventory::new(&inventory_yaml(
        &all_vars,
        &[
            ("relays", host_line(relay, &relay_line)),
            ("medulla_servers", host_line(host("medulla-server"), "")),
            ("workstations", host_line(host("workstation"), "")),
        ],
    ))
}

/// `relayctl apply INVENTORY ARGS --format json`: (exit code, the relay's entry, all output).
fn apply(
    inventory: &TempInventory,
    relay: &LabHost,
    args: &[&str],
) -> (Option<i32>, Value, String) {
    let mut all = vec!["apply", inventory.path_str()];
    all.extend(args);
    let (code, report, text) = relayctl_report(&all, &[]);
    (code, host_entry(&report, &relay.name).clone(), text)
}

/// The verdict's reasons in one line.
fn reasons(entry: &Value) -> String {
    entry["confirmations"]["reasons"]
        .as_array()
        .unwrap_or_else(|| panic!("no confirmations: {entry:#}"))
        .iter()
        .filter_map(Value::as_str)
        .collect::<Vec<_>>()
        .join("; ")
}

fn assert_not_ready(entry: &Value, naming: &[&str]) {
    assert_eq!(entry["confirmations"]["ready"], false, "{entry:#}");
    assert_eq!(entry["status"], "failed", "{entry:#}");
    let reasons = reasons(entry);
    for word in naming {
        assert!(
            reasons.contains(word),
            "the reasons do not name {word:?}: {reasons}"
        );
    }
}

/// The entry of the confirmations' `list` (`items`, `installation_checks`) with this key.
fn keyed<'a>(entry: &'a Value, list: &str, key: &str) -> &'a Value {
    entry["confirmations"][list]
        .as_array()
        .and_then(|entries| entries.iter().find(|e| e["key"] == key))
        .unwrap_or_else(|| panic!("no {key} in {list}: {entry:#}"))
}

fn item<'a>(entry: &'a Value, key: &str) -> &'a Value {
    keyed(entry, "items", key)
}

#[test]
fn sshd_allowusers_without_medulla_is_not_ready_and_names_allowusers() {
    let _lab = exclusive();
    let relay = host("relay01");
    let _customised = customised(&[relay]);
    // The customer's hardening lets its own admins in, and nobody else.
    sshd_drop_in(relay, "AllowUsers admin operator");
    let secrets = tempfile::tempdir().expect("temp dir");
    let inventory = customer_inventory(relay, "", "", secrets.path());
    let (code, entry, text) = apply(&inventory, relay, &[]);
    assert_eq!(code, Some(2), "{text}");
    assert_not_ready(&entry, &["AllowUsers"]);
    assert_eq!(
        item(&entry, "ssh_key")["status"],
        "not_confirmed",
        "{entry:#}"
    );
    // What the report says is what sshd says, for medulla from the Medulla server.
    let server = &host("medulla-server").ip;
    let effective = docker_exec(
        &relay.container,
        &format!("sshd -T -C user=medulla,host={server},addr={server} | grep -i '^allowusers'"),
    );
    assert!(effective.contains("allowusers admin"), "{effective}");
}

#[test]
fn sshd_on_another_port_than_relay_ssh_port_is_not_ready_and_nothing_stands_in_for_it() {
    let _lab = exclusive();
    let relay = host("relay01");
    let _customised = customised(&[relay]);
    sshd_drop_in(relay, "Port 2222");
    // relayctl reaches sshd where it listens; the inventory says SIVEO will use 22.
    let known_hosts = tempfile::NamedTempFile::new().expect("temp file");
    let lab_known = std::fs::read_to_string(state_dir().join("known_hosts")).expect("known_hosts");
    let moved: String = lab_known
        .lines()
        .filter(|l| l.starts_with(&format!("{} ", relay.ip)))
        .map(|l| format!("[{}]:2222{}\n", relay.ip, &l[relay.ip.len()..]))
        .collect();
    std::fs::write(known_hosts.path(), format!("{lab_known}{moved}")).expect("write");
    let secrets = tempfile::tempdir().expect("temp dir");
    let inventory = customer_inventory(
        relay,
        &format!(
            "ansible_port: 2222, ansible_ssh_common_args: \"-o UserKnownHostsFile={}\"",
            known_hosts.path().display()
        ),
        "",
        secrets.path(),
    );
    let (code, entry, text) = apply(&inventory, relay, &[]);
    assert_eq!(code, Some(2), "{text}");
    assert_not_ready(&entry, &["2222", "relay_ssh_port"]);
    // The server's SSH flow met no stand-in listener: it fails, saying sshd is not there.
    let ssh = entry["flows"]
        .as_array()
        .and_then(|f| {
            f.iter()
                .find(|f| f["flow"] == "server_to_relay" && f["port"] == 22)
        })
        .unwrap_or_else(|| panic!("no server -> relay 22 flow: {entry:#}"));
    assert_ne!(ssh["result"], "open", "{ssh:#}");
    assert_ne!(ssh["listener"], "temporary", "{ssh:#}");
    assert!(
        ssh["detail"].as_str().is_some_and(|d| d.contains("sshd")),
        "{ssh:#}"
    );
    assert_eq!(
        docker_exec(&relay.container, "ss -Hltn 'sport = :22'"),
        "",
        "nothing listens on 22"
    );
}

#[test]
fn an_fqdn_only_on_127_0_1_1_is_not_ready() {
    let _lab = exclusive();
    let relay = host("relay01");
    let _customised = customised(&[relay]);
    // What the Debian installer writes when DHCP gave no domain: the name on a loopback address.
    docker_exec(
        &relay.container,
        &format!(
            "printf '127.0.0.1\\tlocalhost\\n127.0.1.1\\t{0}.lab.test {0}\\n' >/etc/hosts",
            relay.name
        ),
    );
    let fqdn = format!("{}.lab.test", relay.name);
    assert_eq!(docker_exec(&relay.container, "hostname -f"), fqdn);
    let secrets = tempfile::tempdir().expect("temp dir");
    let inventory = customer_inventory(relay, "", "", secrets.path());
    let (code, entry, text) = apply(&inventory, relay, &[]);
    assert_eq!(code, Some(2), "{text}");
    assert_not_ready(&entry, &["127.0.1.1"]);
    assert_eq!(item(&entry, "fqdn")["status"], "not_confirmed");
    assert_eq!(
        docker_exec(
            &relay.container,
            &format!("getent ahosts {fqdn} | cut -d' ' -f1 | sort -u")
        ),
        "127.0.1.1"
    );
}

#[test]
fn a_var_mounted_by_hand_is_not_ready() {
    let _lab = exclusive();
    let relay = host("relay01");
    let _customised = customised(&[relay]);
    // Mounted, the right size and type, and in no /etc/fstab line: gone after a reboot.
    docker_exec(
        &relay.container,
        "grep -v '[[:space:]]/var[[:space:]]' /etc/fstab >/tmp/fstab; cat /tmp/fstab >/etc/fstab",
    );
    let secrets = tempfile::tempdir().expect("temp dir");
    let inventory = customer_inventory(relay, "", "", secrets.path());
    let (code, entry, text) = apply(&inventory, relay, &[]);
    assert_eq!(code, Some(2), "{text}");
    assert_not_ready(&entry, &["/var", "reboot"]);
    assert!(
        docker_exec(&relay.container, "findmnt -n --fstab /var || echo none") == "none",
        "the lab's relay has no fstab line for /var now"
    );
    assert!(docker_exec(&relay.container, "findmnt -n -o FSTYPE /var") == "xfs");
}

#[test]
fn a_classic_relay_without_workstation_subnets_is_not_ready_unless_the_inventory_says_so() {
    let _lab = exclusive();
    let relay = host("relay01");
    let _customised = customised(&[relay]);
    let secrets = tempfile::tempdir().expect("temp dir");
    // A dedicated-SaaS inventory: the relay and the server's address, no workstation anywhere.
    let yaml = format!(
        "{}    relays:\n      hosts:\n{}",
        inventory_yaml(
            &format!(
                "    itsm_entity: \"Lab entity\"\n    medulla_support_public_key: {}\n    \
                 medulla_password_file: \"{}/{{{{ inventory_hostname }}}}/medulla_password\"\n",
                state_dir().join("medulla_support.pub").display(),
                secrets.path().display(),
            ),
            &[],
        ),
        host_line(relay, "relay_type: classic")
    );
    let inventory = TempInventory::new(&yaml);
    let (code, entry, text) = apply(&inventory, relay, &[]);
    assert_eq!(code, Some(2), "{text}");
    assert_not_ready(&entry, &["workstation_subnets"]);
    // After installation its workstations' PXE, XMPP, HTTP and NFS would be dropped: the
    // relay's table admits no workstation.
    let table = docker_exec(&relay.container, "nft list table inet medulla_relay");
    assert!(!table.contains("workstations"), "{table}");

    let (code, entry, text) = apply(
        &inventory,
        relay,
        &["-e", "{relay_serves_workstations: false}"],
    );
    assert_eq!(code, Some(0), "{text}");
    assert_ready(&entry);
}

#[test]
fn a_host_without_sudo_logged_into_as_root_gets_sudo_and_medulla_sudo_works() {
    let _lab = exclusive();
    let relay = host("relay01");
    let _customised = customised(&[relay]);
    // A Debian installed with a root password: no sudo at all; the operator logs in as root.
    allow_root_login(relay);
    docker_exec(
        &relay.container,
        "SUDO_FORCE_REMOVE=yes DEBIAN_FRONTEND=noninteractive dpkg --purge sudo >/dev/null && \
         rm -f /etc/sudoers.d/admin /etc/sudoers.d/operator",
    );
    assert_eq!(
        docker_exec(&relay.container, "command -v sudo || echo none"),
        "none"
    );
    let secrets = tempfile::tempdir().expect("temp dir");
    let inventory = customer_inventory(relay, "ansible_user: root", "", secrets.path());
    let (code, entry, text) = apply(&inventory, relay, &[]);
    assert_eq!(code, Some(0), "{text}");
    assert_ready(&entry);
    assert_eq!(
        docker_exec(
            &relay.container,
            "dpkg-query -W -f '${db:Status-Status}' sudo"
        ),
        "installed"
    );
    docker_exec(&relay.container, "runuser -u medulla -- sudo -n true");
    assert_eq!(item(&entry, "medulla_access")["status"], "confirmed");
}

#[test]
fn an_existing_medulla_with_another_home_is_refused_and_left_as_it_was() {
    let _lab = exclusive();
    let relay = host("relay01");
    let _customised = customised(&[relay]);
    docker_exec(
        &relay.container,
        "useradd -m -d /srv/medulla -s /bin/bash medulla && \
         install -d -m 0700 -o medulla -g medulla /srv/medulla/.ssh && \
         echo 'their own file' >/srv/medulla/notes && chown medulla: /srv/medulla/notes",
    );
    let listing = "find /srv/medulla -printf '%p %u %m %s\\n' | sort";
    let before = (snapshot(relay), docker_exec(&relay.container, listing));
    let secrets = tempfile::tempdir().expect("temp dir");
    let inventory = customer_inventory(relay, "", "", secrets.path());

    for args in [&["--check"][..], &[]] {
        let (code, entry, text) = apply(&inventory, relay, args);
        assert_eq!(code, Some(2), "{args:?}: {text}");
        let user = task(
            &entry,
            "user medulla, its password kept on the controller (PROC steps 2 and 5)",
        );
        assert_eq!(user["status"], "failed", "{args:?}: {user:#}");
        let message = user["message"].as_str().unwrap_or_default();
        for word in ["/srv/medulla", "/home/medulla", "medulla_user_home"] {
            assert!(message.contains(word), "{args:?}: {message}");
        }
        let after = (snapshot(relay), docker_exec(&relay.container, listing));
        assert!(before == after, "{args:?}: the relay changed");
    }
    assert_eq!(
        docker_exec(
            &relay.container,
            "test -e /home/medulla && echo exists || echo absent"
        ),
        "absent"
    );

    // The way out the message gives: keep the home. Then the relay is ready, SIVEO's key where
    // sshd reads it for that account, the account's own files untouched.
    let (code, entry, text) = apply(&inventory, relay, &["-e", "medulla_user_home=/srv/medulla"]);
    assert_eq!(code, Some(0), "{text}");
    assert_ready(&entry);
    assert_eq!(
        docker_exec(
            &relay.container,
            "cat /srv/medulla/notes; getent passwd medulla | cut -d: -f6"
        ),
        "their own file\n/srv/medulla"
    );
    docker_exec(
        &relay.container,
        "test -s /srv/medulla/.ssh/authorized_keys",
    );
}

fn assert_ready(entry: &Value) {
    assert_eq!(entry["confirmations"]["ready"], true, "{}", reasons(entry));
}

/// Adds an sshd_config drop-in on the relay and restarts sshd with it (checked first).
fn sshd_drop_in(relay: &LabHost, lines: &str) {
    docker_exec(
        &relay.container,
        &format!(
            "printf '%s\\n' '{lines}' >/etc/ssh/sshd_config.d/customer.conf && sshd -t && \
             systemctl restart ssh"
        ),
    );
}
#[test]
fn two_relays_with_one_fqdn_both_fail_and_name_each_other() {
    let _lab = exclusive();
    let (relay01, relay02) = (host("relay01"), host("relay02"));
    let _customised = customised(&[relay01, relay02]);
    // relay02 was cloned from relay01 and kept its name: alone, each looks right.
    docker_exec(
        &relay02.container,
        &format!(
            "hostname {0} && printf '127.0.0.1\\tlocalhost\\n{1}\\t{0}.lab.test {0}\\n' >/etc/hosts",
            relay01.name, relay02.ip
        ),
    );
    let inventory = crate::harness::lab_inventory();
    let (code, report, text) = relayctl_report(
        &[
            "apply",
            "--check",
            inventory.to_str().expect("utf-8"),
            "--limit",
            &format!("{},{}", relay01.name, relay02.name),
        ],
        &[],
    );
    assert_eq!(code, Some(2), "{text}");
    let fqdn = format!("{}.lab.test", relay01.name);
    for (relay, other) in [(relay01, relay02), (relay02, relay01)] {
        let entry = host_entry(&report, &relay.name);
        assert_eq!(entry["status"], "failed", "{entry:#}");
        assert_eq!(
            docker_exec(&relay.container, "hostname -f"),
            fqdn,
            "{}",
            relay.name
        );
        let message = entry["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(&format!("{fqdn} is also the FQDN of {}", other.name)),
            "{message}"
        );
    }
}

#[test]
fn the_servers_source_addresses_are_admitted_checked_and_shown() {
    let _lab = exclusive();
    let relay = host("relay01");
    let other = host("workstation");
    let _customised = customised(&[relay]);
    // SIVEO's platform connects from an address its name does not resolve to: here, the lab's
    // workstation stands for it.
    let secrets = tempfile::tempdir().expect("temp dir");
    let inventory = customer_inventory(
        relay,
        &format!("medulla_server_source_addresses: [{}]", other.ip),
        "",
        secrets.path(),
    );
    let (code, entry, text) = apply(&inventory, relay, &[]);
    assert_eq!(code, Some(0), "{text}");
    assert_ready(&entry);
    let sources = &entry["confirmations"]["server_sources"];
    assert_eq!(
        sources,
        &serde_json::json!([
            host("medulla-server").ip,
            format!("{} (medulla_server_source_addresses)", other.ip)
        ]),
        "{entry:#}"
    );
    // The firewall admits the server's flows from it (5269 is the server's alone)...
    docker_exec(
        &relay.container,
        &format!(
            "nft get element inet medulla_relay medulla_servers_v4 '{{ {} }}'",
            other.ip
        ),
    );
    listen(relay, &[5269]);
    assert_eq!(open_ports(other, relay, &[5269]), [5269]);
    // ... and sshd's configuration was checked for medulla from there too.
    let key = item(&entry, "ssh_key");
    assert!(
        key["summary"]
            .as_str()
            .is_some_and(|s| s.ends_with(&format!(
                "from {}, {}",
                host("medulla-server").ip,
                other.ip
            ))),
        "{key:#}"
    );
}

#[test]
fn limits_overridden_by_a_later_drop_in_or_limits_file_are_not_ready_and_named() {
    let _lab = exclusive();
    let relay = host("relay01");
    let _customised = customised(&[relay]);
    // The customer's own tuning, read after what the role writes: a drop-in (spaces around `=`
    // are systemd's too) and a limits.d file after the role's.
    docker_exec(
        &relay.container,
        "mkdir -p /etc/systemd/system.conf.d && \
         printf '[Manager]\\nDefaultLimitNPROC = 4096\\n' >/etc/systemd/system.conf.d/50-site.conf && \
         printf '* soft core unlimited\\n' >/etc/security/limits.d/99-debug.conf",
    );
    let secrets = tempfile::tempdir().expect("temp dir");
    // As root over SSH: a login's hard core limit, which sudo in a container would cap to 0.
    allow_root_login(relay);
    let inventory = customer_inventory(relay, "ansible_user: root", "", secrets.path());
    let (code, entry, text) = apply(&inventory, relay, &[]);
    assert_eq!(code, Some(2), "{text}");
    assert_not_ready(
        &entry,
        &[
            "systemd applies DefaultLimitNPROC=4096, not 31541",
            "/etc/systemd/system.conf.d/50-site.conf:2: DefaultLimitNPROC = 4096 is read last",
            "/etc/security/limits.d/99-debug.conf:1: * soft core unlimited",
        ],
    );
    assert_eq!(check(&entry, "limits")["status"], "failed", "{entry:#}");
    // What the report says is what systemd and PAM apply.
    assert_eq!(
        docker_exec(
            &relay.container,
            "systemctl show -p DefaultLimitNPROC --value"
        ),
        "4096"
    );
    assert_eq!(
        docker_exec(&relay.container, "runuser -u medulla -- sh -c 'ulimit -Sc'"),
        "unlimited"
    );

    // The customer removes both; systemd keeps 4096 until it re-reads its configuration, and
    // the role has nothing to change (system.conf is right): said so, still not ready.
    docker_exec(
        &relay.container,
        "rm /etc/systemd/system.conf.d/50-site.conf /etc/security/limits.d/99-debug.conf",
    );
    let (code, entry, text) = apply(&inventory, relay, &[]);
    assert_eq!(code, Some(2), "{text}");
    assert_not_ready(
        &entry,
        &["DefaultLimitNPROC=4096, not 31541: systemd has not re-read its configuration"],
    );
    // PAM reads its files at each login: the core-dump limits are right at once.
    let reasons = reasons(&entry);
    assert!(!reasons.contains("from PAM"), "{reasons}");

    docker_exec(&relay.container, "systemctl daemon-reexec");
    let (code, entry, text) = apply(&inventory, relay, &[]);
    assert_eq!(code, Some(0), "{text}");
    assert_ready(&entry);
    let limits = check(&entry, "limits");
    assert_eq!(limits["status"], "ok", "{limits:#}");
    assert_eq!(
        docker_exec(
            &relay.container,
            "systemctl show -p DefaultLimitNPROC -p DefaultLimitSIGPENDING --value; \
             runuser -u medulla -- sh -c 'ulimit -Hc; ulimit -Sc'"
        ),
        "31541\n31541\nunlimited\n0"
    );
}

/// An installation check of the relay's report, by its key.
fn check<'a>(entry: &'a Value, key: &str) -> &'a Value {
    keyed(entry, "installation_checks", key)
}

/// Lets the lab's key log in as root on the relay (Debian's PermitRootLogin prohibit-password
/// takes a key): a root shell that sudo did not make, whose hard core limit is sshd's (sudo
/// leaves 0, which root in a container may not raise again).
fn allow_root_login(relay: &LabHost) {
    docker_exec(
        &relay.container,
        "install -d -m 0700 /root/.ssh && cp /home/admin/.ssh/authorized_keys /root/.ssh/",
    );
}
