//! Bad input stops the run before any host is contacted, with an error naming file, line and key.

use crate::harness::{TempInventory, relayctl, stderr};

/// Runs `apply --check` on `yaml` and returns (exit code, stderr).
fn apply(yaml: &str) -> (Option<i32>, String, TempInventory) {
    let inventory = TempInventory::new(yaml);
    let output = relayctl(&["apply", "--check", inventory.path_str()], &[]);
    (output.status.code(), stderr(&output), inventory)
}

#[test]
fn a_typo_in_a_relay_variable_names_file_line_and_key() {
    let (code, err, inventory) = apply(
        "all:\n  vars:\n    medulla_server_addresses: [10.0.0.1]\n  hosts:\n    relay1:\n      relay_typ: classic\n",
    );
    assert_eq!(code, Some(4), "{err}");
    assert!(
        err.contains(&format!("{}:6:", inventory.path.display())),
        "{err}"
    );
    assert!(
        err.contains("relay_typ") && err.contains("relay_type"),
        "{err}"
    );
    assert!(err.contains("no host was contacted"), "{err}");
}

#[test]
fn a_missing_server_address_names_the_host() {
    let (code, err, inventory) = apply("all:\n  hosts:\n    relay1:\n      relay_type: classic\n");
    assert_eq!(code, Some(4), "{err}");
    assert!(err.contains(&inventory.path.display().to_string()), "{err}");
    assert!(
        err.contains("relay1") && err.contains("medulla_server_addresses"),
        "{err}"
    );
}

#[test]
fn a_yaml_syntax_error_names_the_line() {
    let (code, err, inventory) = apply("all:\n  hosts:\n    relay1: {relay_type: classic\n");
    assert_eq!(code, Some(4), "{err}");
    assert!(err.contains(&inventory.path.display().to_string()), "{err}");
}

#[test]
fn a_bad_command_line_option_exits_5() {
    let output = relayctl(&["apply", "--no-such-flag", "x.yaml"], &[]);
    assert_eq!(output.status.code(), Some(5));
}
