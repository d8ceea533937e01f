//! `relayctl facts` reports what the hosts really are: every fact is cross-checked with docker exec.

use crate::harness::{docker_exec, host, host_entry, lab, lab_inventory, relayctl_json};

#[test]
fn facts_match_what_docker_exec_sees_on_every_lab_host() {
    let inventory = lab_inventory();
    let (code, report) = relayctl_json(&["facts", inventory.to_str().expect("utf-8")], &[]);
    assert_eq!(code, Some(0), "{report:#}");
    let in_inventory = lab()
        .iter()
        .filter(|h| matches!(h.role.as_str(), "relay" | "server" | "workstation"));
    let mut checked = 0;
    for lab_host in in_inventory {
        let entry = host_entry(&report, &lab_host.name);
        assert_eq!(entry["status"], "ok", "{entry:#}");
        let facts = &entry["facts"];
        let c = &lab_host.container;
        assert_eq!(
            facts["hostname"],
            docker_exec(c, "hostname"),
            "{}",
            lab_host.name
        );
        assert_eq!(
            facts["fqdn"],
            docker_exec(c, "hostname -f"),
            "{}",
            lab_host.name
        );
        assert_eq!(facts["fqdn_resolves"], true);
        // Where the name leads, and the host's own addresses, as the resolver and ip see them.
        let strings = |value: &serde_json::Value| -> Vec<String> {
            let mut list: Vec<String> = value
                .as_array()
                .unwrap_or_else(|| panic!("not a list: {value}"))
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect();
            list.sort();
            list
        };
        let words = |text: String| -> Vec<String> {
            let mut list: Vec<String> = text.split_whitespace().map(str::to_string).collect();
            list.sort();
            list.dedup();
            list
        };
        assert_eq!(
            strings(&facts["fqdn_addresses"]),
            words(docker_exec(
                c,
                "getent ahosts \"$(hostname -f)\" | cut -d' ' -f1"
            )),
            "{}",
            lab_host.name
        );
        assert_eq!(
            strings(&facts["local_addresses"]),
            words(docker_exec(
                c,
                "ip -o addr show | awk '{ sub(\"/.*\", \"\", $4); print $4 }'"
            )),
            "{}",
            lab_host.name
        );
        assert_eq!(
            strings(&facts["fqdn_hosts_file"]),
            words(docker_exec(
                c,
                "awk -v n=\"$(hostname -f)\" '{ for (i = 2; i <= NF; i++) if ($i == n) print $1 }' /etc/hosts"
            )),
            "{}",
            lab_host.name
        );
        assert_eq!(facts["os_id"], "debian");
        assert_eq!(facts["os_version_id"], "12");
        assert_eq!(
            facts["debian_version"],
            docker_exec(c, "cat /etc/debian_version")
        );
        assert_eq!(facts["arch"], docker_exec(c, "uname -m"));
        assert_eq!(facts["vcpus"].to_string(), docker_exec(c, "nproc"));
        let mem_kib: u64 = docker_exec(
            c,
            "sed -n 's/^MemTotal: *\\([0-9]*\\) kB/\\1/p' /proc/meminfo",
        )
        .parse()
        .expect("kib");
        assert_eq!(facts["memory_bytes"], mem_kib * 1024);
        let var = docker_exec(
            c,
            "stat -f -c '%T' /var; df -B1 --output=size,target /var | tail -n 1",
        );
        let mut var = var.split_whitespace();
        let fstype = var.next().expect("fstype");
        let size: u64 = var.next().expect("size").parse().expect("size");
        let target = var.next().expect("target");
        assert_eq!(
            facts["var"]["fstype"],
            if fstype == "overlayfs" {
                "overlay"
            } else {
                fstype
            },
            "{}",
            lab_host.name
        );
        assert_eq!(facts["var"]["size_bytes"], size, "{}", lab_host.name);
        assert_eq!(facts["var_on_root"], target == "/", "{}", lab_host.name);
        let uid_215 = docker_exec(c, "getent passwd 215 | cut -d: -f1");
        assert_eq!(
            facts["uid_215_owner"],
            if uid_215.is_empty() {
                serde_json::Value::Null
            } else {
                uid_215.into()
            }
        );
        let nft = docker_exec(c, "nft --version | sed 's/^nftables v\\([^ ]*\\).*/\\1/'");
        assert_eq!(facts["nft_version"], nft);
        assert_eq!(facts["systemd_running"], true);
        assert_eq!(
            facts["user"], "admin",
            "facts run as the login user unless ansible_become says otherwise"
        );
        assert_eq!(facts["sudo"], "passwordless");
        // The listening sockets: what ss shows in the container, socket for socket (as admin,
        // ss names no other user's process: the facts of `apply` are gathered as root).
        let sockets = |lines: Vec<String>| {
            let mut sockets: Vec<String> = lines;
            sockets.sort();
            sockets
        };
        let reported = sockets(
            facts["listening"]
                .as_array()
                .unwrap_or_else(|| panic!("no listening sockets: {facts:#}"))
                .iter()
                .map(|s| {
                    format!("{} {} {}", s["protocol"], s["address"], s["port"]).replace('"', "")
                })
                .collect(),
        );
        let seen = sockets(
            docker_exec(c, "ss -Htuln")
                .lines()
                .map(|l| {
                    let f: Vec<&str> = l.split_whitespace().collect();
                    let (address, port) = f[4].rsplit_once(':').expect("address:port");
                    let address = address.trim_matches(|c| c == '[' || c == ']');
                    let address = address.split('%').next().unwrap_or(address);
                    format!("{} {address} {port}", f[0])
                })
                .collect(),
        );
        assert_eq!(reported, seen, "{}", lab_host.name);
        assert!(
            reported.contains(&"tcp 0.0.0.0 22".to_string()),
            "{reported:?}"
        );
        checked += 1;
    }
    assert!(
        checked >= 5,
        "expected at least 3 relays, the server and the workstation; checked {checked}"
    );
}

#[test]
fn the_lab_relays_have_the_var_they_were_built_with() {
    let inventory = lab_inventory();
    let (_, report) = relayctl_json(
        &[
            "facts",
            inventory.to_str().expect("utf-8"),
            "--limit",
            "relays",
        ],
        &[],
    );
    for (kind, gib) in [("xfs400", 400u64), ("xfs200", 200)] {
        let relay = lab().iter().find(|h| h.var_kind == kind).expect("relay");
        let facts = &host_entry(&report, &relay.name)["facts"];
        assert_eq!(facts["var"]["fstype"], "xfs");
        assert_eq!(facts["var"]["mount_point"], "/var");
        let size = facts["var"]["size_bytes"].as_u64().expect("size");
        // mkfs.xfs keeps a little for its log and metadata.
        assert!(
            size > (gib << 30) * 99 / 100 && size <= gib << 30,
            "{kind}: {size}"
        );
        // lab.sh writes its /etc/fstab line: the one mounted now.
        let at_boot = &facts["var_at_boot"];
        assert_eq!(
            at_boot.as_array().map(Vec::len),
            Some(1),
            "{kind}: {at_boot:#}"
        );
        assert_eq!(at_boot[0]["kind"], "fstab");
        assert_eq!(
            at_boot[0]["source"],
            docker_exec(&relay.container, "findmnt -n --fstab -o SOURCE /var")
        );
        assert_eq!(
            at_boot[0]["source"],
            docker_exec(&relay.container, "findmnt -n -o SOURCE /var")
        );
        assert_eq!(at_boot[0]["mounted"], true);
    }
}

#[test]
fn a_dmz_relay_is_reached_through_the_bastion() {
    let dmz = lab()
        .iter()
        .find(|h| h.role == "relay" && h.relay_type == "dmz")
        .expect("a dmz relay");
    let inventory = lab_inventory();
    let (code, report) = relayctl_json(
        &[
            "facts",
            inventory.to_str().expect("utf-8"),
            "--limit",
            &dmz.name,
        ],
        &[],
    );
    assert_eq!(code, Some(0), "{report:#}");
    let entry = host_entry(&report, &dmz.name);
    // The relay sees the bastion, not the controller, as its SSH client.
    assert_eq!(
        entry["facts"]["controller_address"],
        host("bastion").ip,
        "{entry:#}"
    );
    assert!(
        entry["connection"]
            .as_str()
            .expect("connection")
            .contains(" via "),
        "{entry:#}"
    );
}
