//! End-to-end inventory tests: whole inventories (inline, or fixtures under
//! tests/fixtures/inventory/) through `load`, `select` and `plan_apply`, with the exact
//! messages an operator would read.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::json;

use super::load::load_source;
use super::*;
use crate::medulla::MedullaOffer;
use crate::ssh::HostKeyPolicy;

const FIXTURES: &str = "tests/fixtures/inventory";

/// Loads inline text as if it were `inventories/test.yaml` (no vars files are read).
fn inline(text: &str) -> Result<Inventory, InputErrors> {
    load_source(
        Path::new("inventories/test.yaml"),
        text,
        false,
        &LoadOptions::default(),
    )
}

/// Loads a fixture file (its group_vars/ and host_vars/ included), no roles, no `-e`.
fn load_file(path: &Path) -> Result<Inventory, InputErrors> {
    load(&[path.to_path_buf()], &LoadOptions::default())
}

/// Loads inline text and selects every host, as a command that contacts them all does: the
/// connection policy's problems come out here.
fn selected_all(text: &str) -> Result<(), InputErrors> {
    inline(text).and_then(|inventory| inventory.select(None).map(|_| ()))
}

fn messages<T>(result: Result<T, InputErrors>) -> Vec<String> {
    match result {
        Ok(_) => panic!("expected the input to be refused"),
        Err(errors) => errors.iter().map(ToString::to_string).collect(),
    }
}

fn fixture(path: &str) -> PathBuf {
    Path::new(FIXTURES).join(path)
}

fn var<'h>(host: &'h Host, name: &str) -> &'h serde_json::Value {
    host.vars
        .value(name)
        .unwrap_or_else(|| panic!("{} has no {name}", host.name))
}

const RELAYS: &str = "
all:
  vars:
    medulla_server_addresses: [192.0.2.10]
  children:
    relays:
      children:
        classic_relays:
          vars:
            relay_type: classic
          hosts:
            relay01:
            relay02:
        dmz_relays:
          vars:
            relay_type: dmz
          hosts:
            relay03:
    medulla_servers:
      hosts:
        medulla:
";

// --- the example inventory --------------------------------------------------------------------

#[test]
fn example_site_inventory_loads_and_plans() {
    let inventory = load_file(Path::new("inventories/site.yaml")).unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<&str> = inventory.hosts.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "relay-paris-01",
            "relay-paris-02",
            "relay-dmz-01",
            "medulla",
            "ws-paris-001"
        ]
    );

    let dmz = inventory.host("relay-dmz-01").unwrap();
    assert_eq!(dmz.groups, ["all", "relays", "site_paris", "dmz_relays"]);
    assert_eq!(
        dmz.connection.jump,
        Some(JumpHost {
            address: "bastion.example.com".into(),
            port: 22,
            user: Some("admin".into())
        })
    );
    assert_eq!(
        dmz.connection.host_key_policy,
        Some(HostKeyPolicy::AcceptNew)
    );
    assert_eq!(
        dmz.connection.connect_timeout,
        Some(Duration::from_secs(10))
    );
    assert!(dmz.connection.r#become);

    let all = inventory.select(None).unwrap();
    let planned = inventory.plan_apply(&all).unwrap_or_else(|e| panic!("{e}"));
    let roles: Vec<(&str, String)> = planned
        .iter()
        .map(|(host, role)| {
            let role = match role {
                HostRole::Relay(relay) => format!("{} relay", relay.relay_type),
                HostRole::MedullaServer => "medulla server".to_owned(),
                HostRole::Workstation => "workstation".to_owned(),
            };
            (host.name.as_str(), role)
        })
        .collect();
    assert_eq!(
        roles,
        [
            ("relay-paris-01", "classic relay".to_owned()),
            ("relay-paris-02", "classic relay".to_owned()),
            ("relay-dmz-01", "dmz relay".to_owned()),
            ("medulla", "medulla server".to_owned()),
            ("ws-paris-001", "workstation".to_owned()),
        ]
    );
    let HostRole::Relay(paris02) = &planned[1].1 else {
        panic!("relay")
    };
    assert_eq!(paris02.server_addresses, ["medulla.example.com"]);
    assert_eq!(
        paris02.server_source_addresses,
        ["94.130.207.190/32".parse::<ipnet::IpNet>().unwrap()]
    );
    assert_eq!(paris02.offer, MedullaOffer::DedicatedSaas);
    assert_eq!(paris02.sizing_profile, SizingProfile::Standard);
    assert_eq!(
        paris02.relay_fqdn.as_deref(),
        Some("relay-paris-02.example.com")
    );
    assert_eq!(
        paris02.workstation_subnets,
        [
            "10.20.0.0/16".parse::<ipnet::IpNet>().unwrap(),
            "10.21.0.0/24".parse().unwrap()
        ]
    );
    assert!(
        paris02
            .support_public_key
            .as_ref()
            .is_some_and(|k| k.source.is_none())
    );
    let HostRole::Relay(paris01) = &planned[0].1 else {
        panic!("relay")
    };
    assert_eq!(paris01.itsm_entity.as_deref(), Some("Paris > Site A"));
}

// --- YAML and structure -------------------------------------------------------------------------

#[test]
fn yaml_syntax_error_names_the_position_and_nearest_key() {
    assert_eq!(
        messages(inline(
            "all:\n  hosts:\n    relay01:\n      relay_type: [classic\n    relay02:\n"
        )),
        [
            "inventories/test.yaml:5:12: all.hosts.relay01.relay_type: invalid YAML: illegal placement of ':' indicator"
        ]
    );
}

#[test]
fn unknown_structural_keys_get_a_suggestion() {
    assert_eq!(
        messages(inline(
            "all:\n  childs:\n    relays:\n  host:\n    relay01:\n  var:\n    x: 1\n  relay_type: classic\n  hosts:\n    relay02:\n"
        )),
        [
            "inventories/test.yaml:2:3: all.childs: unknown key \"childs\" in group all (a group only has hosts, \
             children and vars); did you mean children?",
            "inventories/test.yaml:4:3: all.host: unknown key \"host\" in group all (a group only has hosts, \
             children and vars); did you mean hosts?",
            "inventories/test.yaml:6:3: all.var: unknown key \"var\" in group all (a group only has hosts, \
             children and vars); did you mean vars?",
            "inventories/test.yaml:8:3: all.relay_type: unknown key \"relay_type\" in group all (a group only has \
             hosts, children and vars); variables go under `vars:`, hosts under `hosts:`, groups under `children:`",
        ]
    );
}

#[test]
fn section_names_as_variables_are_indentation_slips() {
    assert_eq!(
        messages(inline(
            "all:\n  hosts:\n    relay01:\n      vars:\n        relay_type: classic\n  vars:\n    hosts:\n      relay02:\n"
        )),
        [
            "inventories/test.yaml:4:7: all.hosts.relay01.vars: vars cannot be a variable name: host variables go \
             directly under the host, without `vars:`",
            "inventories/test.yaml:7:5: all.vars.hosts: hosts cannot be a variable name: a `hosts:` section here is \
             probably mis-indented",
        ]
    );
}

#[test]
fn hosts_written_as_a_list_say_how_to_write_them() {
    assert_eq!(
        messages(inline("all:\n  hosts:\n    - relay01\n    - relay02\n")),
        [
            "inventories/test.yaml:3:5: all.hosts: `hosts:` must be a map of names, each followed by `:` (`relay01:`), \
          not a list (`- relay01`)"
        ]
    );
}

#[test]
fn a_host_twice_in_one_group_is_a_duplicate_naming_both_lines() {
    assert_eq!(
        messages(inline(
            "all:\n  hosts:\n    relay01:\n      ansible_host: 192.0.2.1\n    relay01:\n      ansible_host: 192.0.2.2\n"
        )),
        [
            "inventories/test.yaml:5:5: all.hosts.relay01: duplicate key: \"relay01\" is already defined at line 3, \
          column 5 of the same map; YAML keeps only one of them, so merge the two entries"
        ]
    );
}

#[test]
fn a_host_in_two_groups_is_one_host_in_both() {
    let inventory = inline(
        "all:\n  children:\n    a:\n      hosts:\n        relay01:\n          x: 1\n    b:\n      hosts:\n        relay01:\n          y: 2\n",
    )
    .unwrap();
    assert_eq!(inventory.hosts.len(), 1);
    let host = &inventory.hosts[0];
    assert_eq!(host.groups, ["all", "a", "b"]);
    assert_eq!((var(host, "x"), var(host, "y")), (&json!(1), &json!(2)));
}

#[test]
fn top_level_groups_are_children_of_all_and_lone_hosts_are_ungrouped() {
    let inventory =
        inline("relays:\n  hosts:\n    relay01:\nall:\n  hosts:\n    loner:\n").unwrap();
    assert_eq!(inventory.host("relay01").unwrap().groups, ["all", "relays"]);
    assert_eq!(
        inventory.host("loner").unwrap().groups,
        ["all", "ungrouped"]
    );
}

#[test]
fn host_ranges_and_ports_in_host_keys() {
    let inventory =
        inline("all:\n  hosts:\n    relay[01:03]:2222:\n      ansible_user: ops\n").unwrap();
    let names: Vec<&str> = inventory.hosts.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(names, ["relay01", "relay02", "relay03"]);
    assert!(inventory.hosts.iter().all(|h| h.connection.port == 2222));
}

#[test]
fn group_cycles_are_refused() {
    assert_eq!(
        messages(inline(
            "all:\n  children:\n    a:\n      children:\n        b:\n          children:\n            a:\n          hosts:\n            h:\n"
        )),
        [
            "inventories/test.yaml:7:13: all.children.a.children.b.children.a: a cannot be a child of b: b is already \
          inside a (a group cycle)"
        ]
    );
}

#[test]
fn an_empty_inventory_is_refused() {
    assert_eq!(
        messages(inline("# nothing yet\n")),
        [
            "inventories/test.yaml:1:1: (top level): this inventory defines no host; list hosts under a group's \
          `hosts:` (see inventories/site.yaml)"
        ]
    );
}

// --- variable names -----------------------------------------------------------------------------

#[test]
fn every_mistake_of_a_file_is_reported_in_one_run() {
    assert_eq!(
        messages(load_file(&fixture("errors/inventory.yaml"))),
        [
            "tests/fixtures/inventory/errors/inventory.yaml:4:5: all.vars.relay_typ: unknown relayctl variable \
             relay_typ; did you mean relay_type?",
            "tests/fixtures/inventory/errors/inventory.yaml:5:5: all.vars.ansible_hots: unknown Ansible variable \
             ansible_hots: neither Ansible nor relayctl reads it; did you mean ansible_host?",
            "tests/fixtures/inventory/errors/inventory.yaml:8:26: all.vars.workstation_subnets: expected a list of \
             subnets in CIDR notation, found the string \"10.0.0.0/8\"; write it as a list: [10.0.0.0/8]",
            "tests/fixtures/inventory/errors/inventory.yaml:11:7: all.children.relays.childs: unknown key \"childs\" \
             in group relays (a group only has hosts, children and vars); did you mean children?",
            "tests/fixtures/inventory/errors/inventory.yaml:13:7: all.children.relays.host: unknown key \"host\" in \
             group relays (a group only has hosts, children and vars); did you mean hosts?",
            "tests/fixtures/inventory/errors/inventory.yaml:17:23: all.children.relays.hosts.relay02.relay_type: \
             expected one of classic, dmz, found \"clasic\"",
            "tests/fixtures/inventory/errors/inventory.yaml:18:33: \
             all.children.relays.hosts.relay02.workstation_subnets[0]: 10.1.2.3/16 has host bits set; did you mean \
             10.1.0.0/16?",
            "tests/fixtures/inventory/errors/inventory.yaml:20:9: all.children.relays.hosts.relay02: duplicate key: \
             \"relay02\" is already defined at line 16, column 9 of the same map; YAML keeps only one of them, so \
             merge the two entries",
        ]
    );
}

#[test]
fn passwords_are_refused_for_the_hosts_a_command_selects() {
    assert_eq!(
        messages(selected_all(
            "all:\n  hosts:\n    relay01:\n      ansible_ssh_pass: secret\n      ansible_become_password: hunter2\n"
        )),
        [
            "inventories/test.yaml:4:7: ansible_ssh_pass: relayctl logs in with SSH keys (ansible_ssh_private_key_file, \
             ~/.ssh/config or the ssh-agent), not with a password: remove ansible_ssh_pass for this host",
            "inventories/test.yaml:5:7: ansible_become_password: secrets are not kept in clear in inventories: \
             encrypt ansible_become_password with Ansible Vault (`ansible-vault encrypt_string`) and give the vault \
             password, or remove it and give the become password in the RELAYCTL_BECOME_PASSWORD environment \
             variable or at the prompt (-K)",
        ]
    );
}

#[test]
fn a_refused_connection_is_reported_only_for_the_hosts_selected() {
    let text = "all:\n  children:\n    switches:\n      vars:\n        ansible_connection: network_cli\n        \
                ansible_network_os: ios\n        ansible_password: admin\n        ansible_port: 70000\n      hosts:\n        \
                sw1:\n    relays:\n      hosts:\n        relay01:\n";
    let inventory = inline(text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(selected(&inventory, "relays"), ["relay01"]);
    assert_eq!(
        messages(inventory.select(Some("sw1"))),
        [
            "inventories/test.yaml:5:29: all.children.switches.vars.ansible_connection: expected one of ssh, smart, paramiko, \
             found \"network_cli\": relayctl only connects over SSH",
            "inventories/test.yaml:7:9: ansible_password: relayctl logs in with SSH keys \
             (ansible_ssh_private_key_file, ~/.ssh/config or the ssh-agent), not with a password: remove \
             ansible_password for this host",
            "inventories/test.yaml:8:23: all.children.switches.vars.ansible_port: expected a port number (1-65535), found 70000",
        ]
    );
}

#[test]
fn irrelevant_ansible_vars_are_accepted_and_free_vars_kept_for_templates() {
    let inventory = inline(
        "all:\n  vars:\n    ansible_python_interpreter: /usr/bin/python3\n    ansible_connection: ssh\n    \
         ntp_servers: [ntp1.example.com]\n  hosts:\n    relay01:\n",
    )
    .unwrap();
    assert_eq!(
        var(&inventory.hosts[0], "ntp_servers"),
        &json!(["ntp1.example.com"])
    );
    assert_eq!(
        messages(selected_all(
            "all:\n  vars:\n    ansible_connection: local\n  hosts:\n    relay01:\n"
        )),
        [
            "inventories/test.yaml:3:25: all.vars.ansible_connection: expected one of ssh, smart, paramiko, found \
          \"local\": relayctl only connects over SSH"
        ]
    );
}

#[test]
fn vars_keep_their_origin() {
    let inventory = inline("all:\n  vars:\n    site: paris\n  hosts:\n    relay01:\n").unwrap();
    let site = inventory.hosts[0].vars.get("site").unwrap();
    assert_eq!(site.origin.to_string(), "inventories/test.yaml:3:5");
    assert_eq!(
        inventory.hosts[0].origin.to_string(),
        "inventories/test.yaml:5:5"
    );
}

// --- precedence ---------------------------------------------------------------------------------

#[test]
fn precedence_follows_ansible() {
    let inventory =
        load_file(&fixture("precedence/inventory.yaml")).unwrap_or_else(|e| panic!("{e}"));
    let h1 = inventory.host("h1").unwrap();
    assert_eq!(h1.groups, ["all", "parent", "child"]);
    for (name, expected) in [
        // all < parent < child < host, in the inventory file
        ("only_all", "all-inventory"),
        ("parent_vs_child", "child-inventory"),
        ("level", "host-inventory"),
        // group_vars/ files override every inventory-file group var, even a deeper group's
        ("from_all_file", "group_vars/all"),
        ("deep_inventory_vs_all_file", "group_vars/all"),
        // among files, the deeper group wins; a directory's files merge in lexical order
        ("files_level", "group_vars/child/10-first"),
        ("dir_order", "group_vars/child/20-second"),
        // host_vars/ files override the inventory's host vars
        ("host_level", "host_vars/h1"),
    ] {
        assert_eq!(var(h1, name), &json!(expected), "{name}");
    }
    assert_eq!(
        h1.vars.get("dir_order").unwrap().origin.file,
        fixture("precedence/group_vars/child/20-second.yaml")
    );

    // Siblings at the same depth merge alphabetically: b_sibling is applied last and wins.
    let h2 = inventory.host("h2").unwrap();
    assert_eq!(
        h2.groups,
        ["all", "a_sibling", "b_sibling", "parent", "child"]
    );
    assert_eq!(var(h2, "sibling"), &json!("b_sibling"));
    assert_eq!(var(h2, "level"), &json!("child-inventory"));
}

#[test]
fn group_priority_reorders_siblings() {
    let inventory = inline(
        "all:\n  children:\n    a_sibling:\n      vars:\n        sibling: a\n        ansible_group_priority: 10\n      \
         hosts:\n        h:\n    b_sibling:\n      vars:\n        sibling: b\n      hosts:\n        h:\n",
    )
    .unwrap();
    assert_eq!(var(&inventory.hosts[0], "sibling"), &json!("a"));
    assert_eq!(inventory.hosts[0].groups, ["all", "b_sibling", "a_sibling"]);
    // It orders groups and is no host's variable, as ansible-inventory --host shows.
    assert!(!inventory.hosts[0].vars.contains("ansible_group_priority"));
}

#[test]
fn ambiguous_vars_files_are_reported() {
    assert_eq!(
        messages(load_file(&fixture("ambiguous/inventory.yaml"))),
        [
            "tests/fixtures/inventory/ambiguous/group_vars/relays.yaml:1:1: (file): both \
          tests/fixtures/inventory/ambiguous/group_vars/relays.yml and \
          tests/fixtures/inventory/ambiguous/group_vars/relays.yaml hold variables for relays; Ansible would read \
          only the first and silently ignore this one: merge them"
        ]
    );
}

// --- connection ---------------------------------------------------------------------------------

#[test]
fn jump_host_and_host_key_options_from_ssh_args() {
    let inventory = inline(
        "all:\n  hosts:\n    relay03:\n      ansible_host: 198.51.100.21\n      ansible_ssh_extra_args: \
         -J ops@[2001:db8::7]:2200 -o UserKnownHostsFile=known_hosts -o StrictHostKeyChecking=yes\n",
    )
    .unwrap();
    let connection = &inventory.hosts[0].connection;
    assert_eq!(
        connection.jump,
        Some(JumpHost {
            address: "2001:db8::7".into(),
            port: 2200,
            user: Some("ops".into())
        })
    );
    assert_eq!(
        connection.known_hosts_file,
        Some(PathBuf::from("inventories/known_hosts"))
    );
    assert_eq!(connection.host_key_policy, Some(HostKeyPolicy::Strict));
}

#[test]
fn strict_host_key_checking_no_is_refused() {
    assert_eq!(
        messages(selected_all(
            "all:\n  hosts:\n    relay01:\n      ansible_ssh_common_args: '-o StrictHostKeyChecking=no'\n"
        )),
        [
            "inventories/test.yaml:4:32: all.hosts.relay01.ansible_ssh_common_args: StrictHostKeyChecking=no is \
          refused: relayctl always verifies host keys; use StrictHostKeyChecking=accept-new to trust a host on \
          first contact (and detect any later change)"
        ]
    );
}

#[test]
fn relative_key_paths_are_relative_to_the_inventory() {
    let inventory = inline(
        "all:\n  vars:\n    ansible_ssh_private_key_file: keys/admin_ed25519\n  hosts:\n    relay01:\n",
    )
    .unwrap();
    assert_eq!(
        inventory.hosts[0].connection.private_key_file,
        Some(PathBuf::from("inventories/keys/admin_ed25519"))
    );
}

// --- relay variables and plan_apply -------------------------------------------------------------

#[test]
fn plan_apply_requires_relay_vars_and_names_the_host() {
    let inventory = inline("all:\n  children:\n    relays:\n      hosts:\n        relay01:\n        relay02:\n          relay_type: dmz\n").unwrap();
    let hosts = inventory.select(None).unwrap();
    let errors: Vec<String> = inventory
        .plan_apply(&hosts)
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        errors,
        [
            "inventories/test.yaml:5:9: relay01.relay_type: relay01 is a relay (it is in neither medulla_servers nor \
             workstations) and has no relay_type; set relay_type (classic or dmz) in its host vars or in the vars of \
             one of its groups (relays)",
            "inventories/test.yaml:5:9: relay01.medulla_server_addresses: relay01 is a relay (it is in neither \
             medulla_servers nor workstations) and has no medulla_server_addresses; set medulla_server_addresses \
             (the Medulla server's IP addresses or DNS names) in its host vars or in the vars of one of its groups \
             (relays)",
            "inventories/test.yaml:6:9: relay02.medulla_server_addresses: relay02 is a relay (it is in neither \
             medulla_servers nor workstations) and has no medulla_server_addresses; set medulla_server_addresses \
             (the Medulla server's IP addresses or DNS names) in its host vars or in the vars of one of its groups \
             (relays)",
        ]
    );
}

#[test]
fn load_does_not_require_relay_vars_but_checks_present_ones() {
    assert!(inline("all:\n  hosts:\n    anyhost:\n").is_ok());
    assert_eq!(
        messages(inline(
            "all:\n  hosts:\n    relay01:\n      workstation_subnets: [10.0.0.0/8, 192.168.1.0/33]\n"
        )),
        [
            "inventories/test.yaml:4:41: all.hosts.relay01.workstation_subnets[1]: expected a subnet in CIDR notation \
          (e.g. 10.1.0.0/16), found \"192.168.1.0/33\""
        ]
    );
}

#[test]
fn firewall_variable_mistakes_name_the_file_line_and_key() {
    assert_eq!(
        messages(inline(
            "all:
  hosts:
    relay01:
      relay_firewall_extra_ports:
        - {flow: server_to_rely, port: 8080, purpose: monitoring}
        - flow: workstation_to_relay
          port: 70000
        - flow: relay_to_server
          port: 9100
      relay_firewall_removed_ports: [5555, 69/icmp]
      relay_firewall_rollback_timeout: 5
"
        )),
        [
            "inventories/test.yaml:5:18: all.hosts.relay01.relay_firewall_extra_ports[0].flow: expected one of \
             server_to_relay, relay_to_server, workstation_to_relay, relay_to_workstation, external_to_relay, \
             relay_to_internet, found \"server_to_rely\"; did you mean server_to_relay?",
            "inventories/test.yaml:6:11: all.hosts.relay01.relay_firewall_extra_ports[1]: missing purpose: say \
             what the port is for; it becomes the rule's comment in the ruleset",
            "inventories/test.yaml:7:17: all.hosts.relay01.relay_firewall_extra_ports[1].port: 70000 is not a \
             port number (1-65535)",
            "inventories/test.yaml:8:11: all.hosts.relay01.relay_firewall_extra_ports[2]: missing purpose: say \
             what the port is for; it becomes the rule's comment in the ruleset",
            "inventories/test.yaml:10:44: all.hosts.relay01.relay_firewall_removed_ports[1]: expected tcp or udp \
             after the / in \"69/icmp\", found \"icmp\"",
            "inventories/test.yaml:11:40: all.hosts.relay01.relay_firewall_rollback_timeout: expected a number of \
             seconds (15-3600), found 5: the relay waits this long for relayctl's new SSH connection before it \
             restores the previous ruleset",
        ]
    );
}

#[test]
fn firewall_variables_reach_the_relay_settings() {
    let inventory = inline(
        "all:\n  vars:\n    relay_type: dmz\n    medulla_server_addresses: [192.0.2.10]\n    relay_ssh_port: 2222\n  \
         hosts:\n    relay01:\n      relay_firewall_filter_output: yes\n      relay_firewall_removed_ports: [\"4370-4380\"]\n",
    )
    .unwrap();
    let hosts = inventory.select(None).unwrap();
    let planned = inventory.plan_apply(&hosts).unwrap();
    let HostRole::Relay(relay) = &planned[0].1 else {
        panic!("relay")
    };
    assert_eq!(relay.firewall.ssh_port, 2222);
    assert!(relay.firewall.filter_output);
    assert_eq!(relay.firewall.removed_ports[0].to_string(), "4370-4380/tcp");
    assert!(relay.firewall.undocumented_ports, "the default");
}

#[test]
fn a_null_relay_var_unsets_the_group_value() {
    let inventory = inline(&format!("{RELAYS}        relay04:\n")).unwrap();
    assert!(inventory.host("relay04").is_some());
    let inventory = inline(
        "all:\n  vars:\n    relay_type: classic\n    medulla_server_addresses: m.example.com\n    relay_fqdn: \
         default.example.com\n  hosts:\n    relay01:\n      relay_fqdn: ~\n",
    )
    .unwrap();
    let hosts = inventory.select(None).unwrap();
    let planned = inventory.plan_apply(&hosts).unwrap();
    let HostRole::Relay(relay) = &planned[0].1 else {
        panic!("relay")
    };
    assert_eq!(relay.relay_fqdn, None);
    assert_eq!(relay.server_addresses, ["m.example.com"]);
}

#[test]
fn support_key_file_relative_to_the_inventory() {
    let inventory = load_file(&fixture("support_key/good.yaml")).unwrap_or_else(|e| panic!("{e}"));
    let hosts = inventory.select(None).unwrap();
    let planned = inventory
        .plan_apply(&hosts)
        .unwrap_or_else(|e| panic!("{e}"));
    let HostRole::Relay(relay) = &planned[0].1 else {
        panic!("relay")
    };
    let key = relay.support_public_key.as_ref().unwrap();
    assert_eq!(key.source, Some(fixture("support_key/keys/support.pub")));
    assert!(
        key.public_key
            .starts_with("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5")
    );
}

#[test]
fn unreadable_or_invalid_support_key_files_are_errors_at_the_var() {
    let errors = messages(load_file(&fixture("support_key/bad.yaml")));
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(
        errors[0].starts_with(
            "tests/fixtures/inventory/support_key/bad.yaml:7:35: all.hosts.relay01.medulla_support_public_key: \
             tests/fixtures/inventory/support_key/keys/not_a_key.pub: not a valid OpenSSH public key ("
        ),
        "{}",
        errors[0]
    );
    assert_eq!(
        errors[1],
        "tests/fixtures/inventory/support_key/bad.yaml:9:35: all.hosts.relay02.medulla_support_public_key: cannot \
         read the support key file tests/fixtures/inventory/support_key/keys/missing.pub: No such file or directory \
         (os error 2)"
    );
}

// --- --limit ------------------------------------------------------------------------------------

fn selected(inventory: &Inventory, limit: &str) -> Vec<String> {
    inventory
        .select(Some(limit))
        .unwrap_or_else(|e| panic!("{e}"))
        .iter()
        .map(|h| h.name.clone())
        .collect()
}

#[test]
fn limit_patterns() {
    let inventory = inline(RELAYS).unwrap();
    assert_eq!(
        selected(&inventory, "relays:!relay02"),
        ["relay01", "relay03"]
    );
    assert_eq!(
        selected(&inventory, "relay0*"),
        ["relay01", "relay02", "relay03"]
    );
    assert_eq!(
        selected(&inventory, "classic_relays:&relays"),
        ["relay01", "relay02"]
    );
    assert_eq!(selected(&inventory, "!relays"), ["medulla"]);
    assert_eq!(
        selected(&inventory, "relay03,medulla"),
        ["relay03", "medulla"]
    );
    assert_eq!(
        selected(&inventory, "all:&*_relays:!dmz*"),
        ["relay01", "relay02"]
    );
    // Inventory order, whatever the pattern order.
    assert_eq!(
        selected(&inventory, "relay02:relay01"),
        ["relay01", "relay02"]
    );
}

#[test]
fn limit_term_matching_nothing_is_an_error_naming_it() {
    let inventory = inline(RELAYS).unwrap();
    let errors = messages(inventory.select(Some("relays:!relay2:&dmz")));
    assert_eq!(
        errors,
        [
            "--limit:1:9: relay2: matches no host or group in inventories/test.yaml; did you mean relay02?",
            "--limit:1:17: dmz: matches no host or group in inventories/test.yaml",
        ]
    );
    let errors = messages(inventory.select(Some("classic_relays:&dmz_relays")));
    assert_eq!(
        errors,
        ["--limit:1:1: classic_relays:&dmz_relays: this pattern selects no host"]
    );
}

#[test]
fn a_line_break_in_the_itsm_entity_cannot_forge_a_line_of_the_ticket() {
    assert_eq!(
        messages(inline(
            "all:\n  hosts:\n    relay01:\n      itsm_entity: \"Paris\\n- SSH key added: confirmed\"\n"
        )),
        [
            "inventories/test.yaml:4:20: all.hosts.relay01.itsm_entity: \"Paris\\n- SSH key added: \
             confirmed\" holds U+000A (newline): a value may hold no control character"
        ]
    );
    assert_eq!(
        messages(selected_all(
            "all:\n  hosts:\n    relay01:\n      ansible_user: \"admin\\u001b[31m\"\n"
        )),
        [
            "inventories/test.yaml:4:21: all.hosts.relay01.ansible_user: \"admin\\u{1b}[31m\" \
             holds U+001B (escape): a value may hold no control character"
        ]
    );
}

#[test]
fn templates_in_connection_variables_resolve_from_the_host_s_own_variables() {
    let inventory = inline(
        "all:\n  vars:\n    admin_user: ops\n    ansible_user: \"{{ admin_user }}\"\n    \
         ansible_host: \"{{ host_ip | default(inventory_hostname ~ '.lab.test') }}\"\n  hosts:\n    \
         relay01:\n      host_ip: 10.0.0.1\n    relay02:\n    relay03:\n      \
         ansible_port: \"{{ lookup('env', 'PORT') }}\"\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let hosts = inventory
        .select(Some("relay01,relay02"))
        .unwrap_or_else(|e| panic!("{e}"));
    let reached: Vec<(&str, Option<&str>)> = hosts
        .iter()
        .map(|h| (h.connection.address.as_str(), h.connection.user.as_deref()))
        .collect();
    assert_eq!(
        reached,
        [("10.0.0.1", Some("ops")), ("relay02.lab.test", Some("ops"))]
    );
    // The listing keeps the template as written, as ansible-inventory does.
    assert_eq!(
        var(&inventory.hosts[0], "ansible_user"),
        &json!("{{ admin_user }}")
    );
    assert_eq!(
        messages(inventory.select(Some("relay03"))),
        [
            "inventories/test.yaml:11:7: ansible_port: the template \"{{ lookup('env', 'PORT') }}\" uses lookup, \
             which reaches past this host's own variables: a connection variable's template may name only the \
             host's variables, inventory_hostname and group_names"
        ]
    );
}

#[test]
fn an_ssh_config_alias_is_reached_as_openssh_reaches_it_and_the_inventory_wins() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("ssh_config"),
        "Host relay-paris\n  HostName 192.0.2.11\n  User admin\n  Port 2222\n  ProxyJump jump\n  \
         UserKnownHostsFile ~/.ssh/relays_known_hosts\n  StrictHostKeyChecking accept-new\n  ConnectTimeout 4\n\
         Host jump\n  HostName 192.0.2.1\n  User ops\nHost lax\n  StrictHostKeyChecking no\n",
    )
    .expect("write");
    let path = dir.path().join("hosts");
    std::fs::write(
        &path,
        "relay-paris\nrelay-lyon ansible_user=root ansible_port=22\nrelay-lyon-alias ansible_host=relay-paris ansible_user=root\nlax\n\
         [all:vars]\nansible_ssh_common_args=-F ssh_config\n",
    )
    .expect("write");
    let inventory = load(std::slice::from_ref(&path), &LoadOptions::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let connection = |name: &str| {
        inventory
            .select(Some(name))
            .unwrap_or_else(|e| panic!("{e}"))[0]
            .connection
            .clone()
    };
    let paris = connection("relay-paris");
    assert_eq!(
        (paris.address.as_str(), paris.port, paris.user.as_deref()),
        ("192.0.2.11", 2222, Some("admin"))
    );
    assert_eq!(
        paris.jump,
        Some(JumpHost {
            address: "192.0.2.1".into(),
            port: 22,
            user: Some("ops".into())
        })
    );
    assert_eq!(paris.host_key_policy, Some(HostKeyPolicy::AcceptNew));
    assert_eq!(paris.connect_timeout, Some(Duration::from_secs(4)));
    assert!(
        paris
            .known_hosts_file
            .as_ref()
            .is_some_and(|f| f.ends_with(".ssh/relays_known_hosts"))
    );
    // The inventory's variables win over the configuration's, as Ansible's command line does.
    let alias = connection("relay-lyon-alias");
    assert_eq!(
        (alias.address.as_str(), alias.port, alias.user.as_deref()),
        ("192.0.2.11", 2222, Some("root"))
    );
    let lyon = connection("relay-lyon");
    assert_eq!(
        (lyon.address.as_str(), lyon.port, lyon.jump.as_ref()),
        ("relay-lyon", 22, None)
    );
    let refused = messages(inventory.select(Some("lax")));
    assert_eq!(
        refused,
        [format!(
            "{}:1:1: Host lax: StrictHostKeyChecking=no is refused: relayctl always verifies host keys; use \
             StrictHostKeyChecking=accept-new to trust a host on first contact (and detect any later change)",
            dir.path().join("ssh_config").display(),
        )]
    );
}
