//! A become password kept by Ansible Vault, the Ansible way, on the lab's `operator` login,
//! whose sudo asks for it: encrypted by ansible-vault itself (an inline `!vault` value, and a
//! whole host_vars file with a vault id), opened by the password relayctl is given
//! (--vault-password-file, ANSIBLE_VAULT_PASSWORD_FILE), sent to sudo, and never shown; without
//! the vault password, relayctl says vault and contacts nothing.

use std::path::Path;

use crate::harness::{
    OPERATOR_PASSWORD, ansible, host, host_entry, relayctl, state_dir, stderr, stdout,
};

const VAULT_PASSWORD: &str = "lab-vault-password";

/// `ansible-vault ARGS` in `dir`, its stdout.
fn ansible_vault(dir: &Path, args: &[&str]) -> String {
    let (mut command, _scratch) = ansible("ansible-vault");
    let output = command
        .current_dir(dir)
        .args(args)
        .output()
        .expect("ansible-vault runs");
    assert!(
        output.status.success(),
        "ansible-vault {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8")
}

/// relay03 as `operator` with become, and `extra` (YAML lines under the host).
fn inventory(dir: &Path, extra: &str) -> std::path::PathBuf {
    let state = state_dir();
    let path = dir.join("inventory.yml");
    std::fs::write(
        &path,
        format!(
            "all:\n  hosts:\n    relay03:\n      ansible_host: {}\n      ansible_user: operator\n      ansible_become: true\n      \
             ansible_ssh_private_key_file: {}\n      ansible_ssh_common_args: -o UserKnownHostsFile={}\n{extra}",
            host("relay03").ip,
            state.join("id_ed25519").display(),
            state.join("known_hosts").display(),
        ),
    )
    .expect("write");
    path
}

/// `relayctl facts INVENTORY ARGS -vv --format json`: its exit code and all it printed, which
/// must hold no word of the operator's password.
fn facts(path: &Path, args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let mut all = vec![
        "facts",
        path.to_str().expect("utf-8"),
        "-vv",
        "--format",
        "json",
    ];
    all.extend(args);
    let output = relayctl(&all, env);
    let (out, err) = (stdout(&output), stderr(&output));
    for word in OPERATOR_PASSWORD.split_whitespace() {
        assert!(
            !out.contains(word) && !err.contains(word),
            "{word:?} shown:\n{out}\n{err}"
        );
    }
    (output.status.code(), out, err)
}

fn ran_as_root(out: &str, err: &str) {
    let report: serde_json::Value =
        serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    let entry = host_entry(&report, "relay03");
    assert_eq!(entry["facts"]["user"], "root", "{entry:#}\n{err}");
}

#[test]
fn a_become_password_from_an_inline_vault_value_opens_sudo_for_operator() {
    let dir = tempfile::tempdir().expect("temp dir");
    let password_file = dir.path().join("vault_password");
    std::fs::write(&password_file, format!("{VAULT_PASSWORD}\n")).expect("write");
    let encrypted = ansible_vault(
        dir.path(),
        &[
            "encrypt_string",
            "--vault-password-file",
            "vault_password",
            "--name",
            "ansible_become_password",
            OPERATOR_PASSWORD,
        ],
    );
    let indented: String = encrypted.lines().map(|l| format!("      {l}\n")).collect();
    let path = inventory(dir.path(), &indented);

    let (code, out, err) = facts(
        &path,
        &[
            "--vault-password-file",
            password_file.to_str().expect("utf-8"),
        ],
        &[],
    );
    assert_eq!(code, Some(0), "{out}\n{err}");
    ran_as_root(&out, &err);

    let (code, _, err) = facts(&path, &[], &[]);
    assert_eq!(code, Some(4), "{err}");
    assert!(
        err.contains("ansible_become_password")
            && err.contains("no vault password was given")
            && err.contains("no host was contacted"),
        "{err}"
    );
}

#[test]
fn a_become_password_from_an_encrypted_host_vars_file_with_a_vault_id_opens_sudo_for_operator() {
    let dir = tempfile::tempdir().expect("temp dir");
    let password_file = dir.path().join("vault_password");
    std::fs::write(&password_file, format!("{VAULT_PASSWORD}\n")).expect("write");
    std::fs::create_dir(dir.path().join("host_vars")).expect("mkdir");
    let vars = dir.path().join("host_vars/relay03.yml");
    std::fs::write(
        &vars,
        format!("ansible_become_password: {OPERATOR_PASSWORD}\n"),
    )
    .expect("write");
    ansible_vault(
        dir.path(),
        &[
            "encrypt",
            "--vault-id",
            "lab@vault_password",
            "host_vars/relay03.yml",
        ],
    );
    assert!(
        std::fs::read_to_string(&vars)
            .expect("read")
            .starts_with("$ANSIBLE_VAULT;1.2;AES256;lab"),
        "ansible-vault encrypted the file"
    );
    let path = inventory(dir.path(), "");
    let env = [(
        "ANSIBLE_VAULT_PASSWORD_FILE",
        password_file.to_str().expect("utf-8"),
    )];
    let (code, out, err) = facts(&path, &[], &env);
    assert_eq!(code, Some(0), "{out}\n{err}");
    ran_as_root(&out, &err);

    let (code, _, err) = facts(&path, &[], &[]);
    assert_eq!(code, Some(4), "{err}");
    assert!(
        err.contains("relay03.yml:1:1: (file): this is encrypted with Ansible Vault"),
        "{err}"
    );
}
