//! Hosts reached through `~/.ssh/config` (or `-F FILE` in ansible_ssh_common_args), as Ansible
//! reaches them through OpenSSH: an alias the inventory names, resolved to the relay behind the
//! lab's bastion, with the user, key and known_hosts the configuration gives.

use crate::harness::{host, host_entry, relayctl_json, state_dir};

/// The configuration: `dmz-alias` is the DMZ relay, through `bastion-alias`, both known by
/// aliases only; everything else (user, key, known_hosts) comes from `Host *`.
fn config() -> String {
    let state = state_dir();
    format!(
        "# written by tests/integration/ssh_config.rs\nHost dmz-alias\n\tHostName {relay}\n  ProxyJump bastion-alias\n\
         Host bastion-alias\n  HostName={bastion}\nHost *\n  User admin\n  IdentityFile {key}\n  \
         UserKnownHostsFile {known_hosts}\n  StrictHostKeyChecking yes\n",
        relay = dmz().ip,
        bastion = host("bastion").ip,
        key = state.join("id_ed25519").display(),
        known_hosts = state.join("known_hosts").display(),
    )
}

fn dmz() -> &'static crate::harness::LabHost {
    crate::harness::lab()
        .iter()
        .find(|h| h.role == "relay" && h.relay_type == "dmz")
        .expect("a dmz relay")
}

/// Runs `facts` on an inventory naming only `dmz-alias`; asserts the relay answered, seeing the
/// bastion as its SSH client.
fn facts_reach_the_dmz_relay(inventory_text: &str, home: &std::path::Path) {
    let dir = tempfile::tempdir().expect("temp dir");
    let inventory = dir.path().join("hosts");
    std::fs::write(&inventory, inventory_text).expect("write");
    let (code, report) = relayctl_json(
        &["facts", inventory.to_str().expect("utf-8")],
        &[("HOME", home.to_str().expect("utf-8"))],
    );
    assert_eq!(code, Some(0), "{report:#}");
    let entry = host_entry(&report, "dmz-alias");
    assert_eq!(
        entry["facts"]["fqdn"],
        format!("{}.lab.test", dmz().name),
        "{entry:#}"
    );
    assert_eq!(
        entry["facts"]["controller_address"],
        host("bastion").ip,
        "{entry:#}"
    );
}

#[test]
fn an_alias_of_the_user_s_ssh_config_reaches_a_relay_through_the_bastion() {
    let home = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(home.path().join(".ssh")).expect("mkdir");
    std::fs::write(home.path().join(".ssh/config"), config()).expect("write");
    facts_reach_the_dmz_relay("dmz-alias\n", home.path());
}

#[test]
fn an_alias_of_the_file_minus_f_names_reaches_a_relay_through_the_bastion() {
    let home = tempfile::tempdir().expect("temp dir");
    let file = home.path().join("lab_ssh_config");
    std::fs::write(&file, config()).expect("write");
    // No ~/.ssh/config in this home: the file comes from -F alone.
    facts_reach_the_dmz_relay(
        &format!(
            "all:\n  hosts:\n    dmz-alias:\n  vars:\n    ansible_ssh_common_args: -F {}\n",
            file.display()
        ),
        home.path(),
    );
}
