//! Bad input stops the run before any host is contacted, with an error naming file, line and key,
//! and input that would exhaust the controller (a device or a FIFO for a file, a range of a
//! hundred million hosts, a directory that contains itself) is refused within seconds and in
//! bounded memory: those tests run relayctl under a memory limit and a deadline, so that a
//! regression fails the test instead of taking the machine down or hanging.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{TempInventory, relayctl, repo, stderr};

/// The address space relayctl gets in the bounded tests. A run on bad input needs a few tens
/// of MiB; the threads of the async runtime reserve a few MiB each, however many cores.
const MEMORY_LIMIT: u64 = 1 << 30;

/// How long a bounded run may take: refusing bad input takes milliseconds, but a debug build
/// shares the machine with the other tests.
const DEADLINE: Duration = Duration::from_secs(20);

/// A relay that no one answers (TEST-NET-1, RFC 5737): had relayctl tried to connect, it would
/// have exited 3 after its timeout, not 4.
const UNREACHABLE_RELAY: &str = "all:\n  vars:\n    medulla_server_addresses: [192.0.2.10]\n    \
    ansible_ssh_common_args: -o ConnectTimeout=1\n  hosts:\n    \
    relay1: {ansible_host: 192.0.2.1, relay_type: classic}\n";

/// Runs relayctl with `args` under [`MEMORY_LIMIT`] and [`DEADLINE`] (killed, and the test
/// failed, past it): its exit code and its stderr.
fn relayctl_bounded(args: &[&str]) -> (Option<i32>, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_relayctl"));
    command
        .args(args)
        .current_dir(repo())
        .env_remove("SSH_AUTH_SOCK")
        .env_remove("RELAYCTL_KEY_PASSPHRASE")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    // SAFETY: setrlimit is async-signal-safe, and the closure touches nothing else.
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: MEMORY_LIMIT,
                rlim_max: MEMORY_LIMIT,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
    let started = Instant::now();
    let mut child = command.spawn().expect("relayctl starts");
    let mut pipe = child.stderr.take().expect("stderr piped");
    // Read while the child runs: a full pipe would block it.
    let reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = pipe.read_to_end(&mut text);
        String::from_utf8_lossy(&text).into_owned()
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for relayctl") {
            break status;
        }
        if started.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("relayctl {args:?} still ran after {DEADLINE:?}: killed");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let err = reader.join().expect("stderr read");
    (status.code(), err)
}

/// `apply --check ARGS` under [`relayctl_bounded`]: it must exit 4, as bad input does before any
/// host is contacted; its error lines.
fn refused(args: &[&str]) -> Vec<String> {
    let mut all = vec!["apply", "--check"];
    all.extend(args);
    let (code, err) = relayctl_bounded(&all);
    assert_eq!(code, Some(4), "{err}");
    error_lines(&err)
}

/// The error for the misspelt `relay_typ` that [`ranges_inventory`] and others write on line 3,
/// so that relayctl reads every host and still exits 4.
fn typo_error(inventory: &TempInventory) -> String {
    format!(
        "{}:3:5: all.vars.relay_typ: unknown relayctl variable relay_typ; did you mean \
         relay_type?",
        inventory.path.display()
    )
}

/// The `error: ` lines of relayctl's stderr, without the prefix.
fn error_lines(err: &str) -> Vec<String> {
    err.lines()
        .filter_map(|l| l.strip_prefix("error: "))
        .map(str::to_string)
        .collect()
}

/// The error for an input file at `path` that is `what` (`a FIFO (named pipe)`) instead of a
/// regular file.
fn not_a_file(path: &Path, what: &str) -> String {
    format!(
        "{}:1:1: (file): cannot read this file: it is {what}, not a regular file (relayctl reads \
         input from regular files only)",
        path.display()
    )
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(status.success(), "mkfifo {}", path.display());
}

fn symlink(target: &str, link: &Path) {
    std::os::unix::fs::symlink(target, link).expect("symlink");
}

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
fn a_relay_said_to_serve_no_workstation_with_workstation_subnets_names_both() {
    let (code, err, inventory) = apply(
        "all:\n  vars:\n    medulla_server_addresses: [10.0.0.1]\n    relay_serves_workstations: false\n  \
         hosts:\n    relay1:\n      relay_type: classic\n      workstation_subnets: [10.1.0.0/16]\n",
    );
    assert_eq!(code, Some(4), "{err}");
    assert_eq!(
        error_lines(&err),
        [format!(
            "{}:4:5: relay1.relay_serves_workstations: relay_serves_workstations is false (no \
             workstation uses relay1), yet workstation_subnets lists 10.1.0.0/16: remove one of them",
            inventory.path.display()
        )],
        "{err}"
    );
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
    assert_eq!(
        err.lines().next(),
        Some(
            format!(
                "error: {}:3:13: all.hosts.relay1: invalid YAML: unclosed bracket '{{'",
                inventory.path.display()
            )
            .as_str()
        ),
        "{err}"
    );
}

#[test]
fn a_bad_command_line_option_exits_5() {
    let output = relayctl(&["apply", "--no-such-flag", "x.yaml"], &[]);
    assert_eq!(output.status.code(), Some(5));
}

// --- input that would exhaust the controller ---------------------------------------------------

#[test]
fn a_device_given_as_the_inventory_is_refused_without_reading_it() {
    assert_eq!(
        refused(&["/dev/zero"]),
        [
            "/dev/zero:1:1: (file): cannot read the inventory: it is a character device, not a \
             regular file (relayctl reads input from regular files only)"
        ]
    );
}

#[test]
fn an_inventory_larger_than_8_mib_is_refused() {
    let inventory = TempInventory::new(UNREACHABLE_RELAY);
    let mut text = UNREACHABLE_RELAY.to_owned();
    text.push_str(&"# padding\n".repeat((8 << 20) / 10 + 1));
    std::fs::write(&inventory.path, text).expect("write");
    assert_eq!(
        refused(&[inventory.path_str()]),
        [format!(
            "{}:1:1: (file): cannot read the inventory: it is larger than 8 MiB, more than an \
             inventory or vars file may hold",
            inventory.path.display()
        )]
    );
}

#[test]
fn a_vars_file_that_is_a_fifo_is_refused_without_waiting_for_a_writer() {
    let inventory = TempInventory::new(UNREACHABLE_RELAY);
    let dir = inventory.path.with_file_name("group_vars");
    std::fs::create_dir(&dir).expect("mkdir");
    mkfifo(&dir.join("all.yml"));
    assert_eq!(
        refused(&[inventory.path_str()]),
        [not_a_file(&dir.join("all.yml"), "a FIFO (named pipe)")]
    );
}

#[test]
fn a_vars_file_linked_to_a_device_is_refused_without_reading_it() {
    let inventory = TempInventory::new(UNREACHABLE_RELAY);
    let dir = inventory.path.with_file_name("host_vars").join("relay1");
    std::fs::create_dir_all(&dir).expect("mkdir");
    symlink("/dev/zero", &dir.join("zero.yml"));
    assert_eq!(
        refused(&[inventory.path_str()]),
        [not_a_file(&dir.join("zero.yml"), "a character device")]
    );
}

#[test]
fn a_support_key_path_to_a_device_is_refused_without_reading_it() {
    let inventory = TempInventory::new(
        "all:\n  vars:\n    medulla_server_addresses: [192.0.2.10]\n  hosts:\n    relay1:\n      \
         ansible_host: 192.0.2.1\n      relay_type: classic\n      \
         medulla_support_public_key: /dev/zero\n",
    );
    assert_eq!(
        refused(&[inventory.path_str()]),
        [format!(
            "{}:8:35: all.hosts.relay1.medulla_support_public_key: cannot read the support key \
             file /dev/zero: it is a character device, not a regular file (relayctl reads input \
             from regular files only)",
            inventory.path.display()
        )]
    );
}

#[test]
fn a_private_key_file_that_is_a_device_is_refused_without_reading_it() {
    let inventory = TempInventory::new(&UNREACHABLE_RELAY.replace(
        "relay_type: classic}",
        "relay_type: classic, ansible_ssh_private_key_file: /dev/zero}",
    ));
    let (code, err) = relayctl_bounded(&["apply", "--check", inventory.path_str()]);
    assert_eq!(code, Some(4), "{err}");
    assert_eq!(
        err.trim_end(),
        "relayctl: private key /dev/zero: it is a character device, not a regular file \
         (relayctl reads input from regular files only)"
    );
}

#[test]
fn role_files_that_are_a_device_or_a_fifo_are_refused_without_reading_them() {
    let inventory = TempInventory::new(UNREACHABLE_RELAY);
    let roles = inventory.path.with_file_name("roles");
    let role = roles.join("medulla_user");
    std::fs::create_dir_all(role.join("tasks")).expect("mkdir");
    std::fs::create_dir_all(role.join("defaults")).expect("mkdir");
    std::fs::write(role.join("tasks/main.yaml"), "- command: true\n").expect("write");
    symlink("/dev/zero", &role.join("defaults/main.yaml"));
    mkfifo(&roles.join("relay_roles.yaml"));
    let roles_dir = roles.to_str().expect("utf-8 path");
    assert_eq!(
        refused(&[inventory.path_str(), "--roles-dir", roles_dir]),
        [
            not_a_file(&role.join("defaults/main.yaml"), "a character device"),
            not_a_file(&roles.join("relay_roles.yaml"), "a FIFO (named pipe)"),
        ]
    );
}

#[test]
fn a_vars_directory_that_links_to_itself_is_read_once() {
    let inventory = TempInventory::new(UNREACHABLE_RELAY);
    let all = inventory.path.with_file_name("group_vars").join("all");
    std::fs::create_dir_all(&all).expect("mkdir");
    std::fs::write(all.join("main.yml"), "relay_typ: classic\n").expect("write");
    // Each link doubles the paths of every level: 2^depth walks before this was bounded.
    symlink(".", &all.join("a"));
    symlink(".", &all.join("b"));
    assert_eq!(
        refused(&[inventory.path_str()]),
        [format!(
            "{}:1:1: relay_typ: unknown relayctl variable relay_typ; did you mean relay_type?",
            all.join("main.yml").display()
        )]
    );
}

/// An inventory of `keys` host keys `rN-[1:10000]`, one relay group, and a misspelt variable
/// in `all.vars` (line 3), so that relayctl reads every host and exits 4 without contacting any.
fn ranges_inventory(keys: usize) -> TempInventory {
    let mut yaml = "all:\n  vars:\n    relay_typ: classic\n  hosts:\n".to_owned();
    for i in 0..keys {
        yaml.push_str(&format!("    r{i}-[1:10000]:\n"));
    }
    TempInventory::new(&yaml)
}

#[test]
fn an_inventory_of_100000_hosts_is_read_within_seconds() {
    let inventory = ranges_inventory(10);
    assert_eq!(refused(&[inventory.path_str()]), [typo_error(&inventory)]);
}

#[test]
fn a_host_range_of_a_hundred_million_hosts_is_refused() {
    let inventory = TempInventory::new("all:\n  hosts:\n    r[0:9999][0:9999]:\n");
    assert_eq!(
        refused(&[inventory.path_str()]),
        [format!(
            "{}:3:5: all.hosts.r[0:9999][0:9999]: \"r[0:9999][0:9999]\" stands for 100000000 \
             hosts, more than the 10000 one host key may stand for",
            inventory.path.display()
        )]
    );
}

#[test]
fn an_inventory_of_more_than_100000_hosts_is_refused() {
    let inventory = ranges_inventory(12);
    let path = inventory.path.display();
    assert_eq!(
        refused(&[inventory.path_str()]),
        [
            typo_error(&inventory),
            format!(
                "{path}:15:5: all.hosts.r10-[1:10000]: with this key the inventory would have \
                 110000 hosts, more than the 100000 an inventory may have"
            ),
        ]
    );
}

// --- names that would be paths or terminal sequences ----------------------------------------------

#[test]
fn a_group_or_host_named_dot_or_dot_dot_is_refused() {
    let inventory = TempInventory::new(
        "all:\n  children:\n    \"..\":\n      hosts:\n        relay1:\n    relays:\n      hosts:\n        \
         .:\n        relay2/x:\n",
    );
    // Read as vars, group_vars/.. would be the inventory's directory, this file included.
    std::fs::create_dir(inventory.path.with_file_name("group_vars")).expect("mkdir");
    let path = inventory.path.display();
    assert_eq!(
        refused(&[inventory.path_str()]),
        [
            format!(
                "{path}:3:5: all.children...: \"..\" is not a usable group name: group_vars/.. \
                 would be the inventory's own directory"
            ),
            format!(
                "{path}:8:9: all.children.relays.hosts..: \".\" is not a usable host name: \
                 host_vars/. would be host_vars/ itself"
            ),
            format!(
                "{path}:9:9: all.children.relays.hosts.relay2/x: \"relay2/x\" is not a usable \
                 host name: '/' is not allowed (host_vars/relay2/x would be a path below another \
                 directory)"
            ),
        ]
    );
}

#[test]
fn a_host_name_with_an_escape_is_refused_and_never_printed_raw() {
    let inventory = TempInventory::new(
        "all:\n  hosts:\n    \"relay\\ec\": {ansible_host: 192.0.2.1, relay_type: classic, \
         medulla_server_addresses: [192.0.2.10]}\n",
    );
    let (code, err) = relayctl_bounded(&["apply", "--check", inventory.path_str()]);
    assert_eq!(code, Some(4), "{err}");
    assert!(!err.contains('\u{1b}'), "{err:?}");
    assert_eq!(
        error_lines(&err),
        [format!(
            "{}:3:5: all.hosts.relay\\u{{1b}}c: \"relay\\u{{1b}}c\" is not a usable host name: it \
             holds U+001B (escape), a control character, which would reach the operator's \
             terminal as it is",
            inventory.path.display()
        )]
    );
}

// --- the support key ------------------------------------------------------------------------------

const ED25519: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPKhEyqiDNIFdzAccwYa8Hzi+lrGFN9AKumk8xzTZbLy";

/// An unreachable relay whose `medulla_support_public_key` is `value` (YAML), line 4 column 33.
fn relay_with_support_key(value: &str) -> TempInventory {
    TempInventory::new(&format!(
        "all:\n  vars:\n    medulla_server_addresses: [192.0.2.10]\n    \
         medulla_support_public_key: {value}\n  hosts:\n    \
         relay1: {{ansible_host: 192.0.2.1, relay_type: classic}}\n"
    ))
}

#[test]
fn a_support_key_with_a_second_line_is_refused() {
    // YAML's "\n" in a double-quoted value: the comment ends, a key with options begins.
    let inventory = relay_with_support_key(&format!(
        "\"{ED25519} support\\ncommand=\\\"touch /tmp/pwned\\\",no-pty {ED25519} attacker\""
    ));
    assert_eq!(
        refused(&[inventory.path_str()]),
        [format!(
            "{}:4:33: all.vars.medulla_support_public_key: the key holds U+000A (newline): a \
             support key is one line, `ssh-ed25519 AAAAC3Nz... comment`, with no control \
             character, its comment included",
            inventory.path.display()
        )]
    );
}

#[test]
fn a_support_key_file_with_options_is_refused() {
    let inventory = relay_with_support_key("support.pub");
    let key = inventory.path.with_file_name("support.pub");
    std::fs::write(&key, format!("command=\"touch /tmp/pwned\" {ED25519} x\n")).expect("write");
    assert_eq!(
        refused(&[inventory.path_str()]),
        [format!(
            "{}:4:33: all.vars.medulla_support_public_key: {}: the key starts with \
             \"command=\\\"touch\", not with its type (ssh-ed25519, ssh-rsa, ecdsa-sha2-...): a \
             support key is taken without authorized_keys options",
            inventory.path.display(),
            key.display()
        )]
    );
}

#[test]
fn an_inventory_of_more_than_10000_groups_is_refused_within_seconds() {
    let mut yaml = "all:\n  vars:\n    relay_typ: classic\n  hosts:\n    relay1:\n".to_owned();
    for i in 0..10_001 {
        yaml.push_str(&format!("g{i}:\n  hosts:\n    relay1:\n"));
    }
    let inventory = TempInventory::new(&yaml);
    let path = inventory.path.display();
    assert_eq!(
        refused(&[inventory.path_str()]),
        [
            typo_error(&inventory),
            format!(
                "{path}:30003:1: g9999: with this group the inventory would have 10001 groups, \
                 more than the 10000 an inventory may have"
            ),
        ]
    );
}

#[test]
fn a_variable_name_of_a_mebibyte_is_refused_within_seconds() {
    // An explicit key (`? `) may be as long as the file; a suggestion compared it, character
    // by character, with every name relayctl knows.
    let name = "relay_".to_owned() + &"x".repeat(1 << 20);
    let inventory = TempInventory::new(&format!(
        "all:\n  vars:\n    ? {name}\n    : 1\n  hosts:\n    relay1:\n"
    ));
    let lines = refused(&[inventory.path_str()]);
    assert_eq!(lines.len(), 1, "{} lines", lines.len());
    assert!(
        lines[0].starts_with(&format!(
            "{}:3:7: all.vars.relay_xxx",
            inventory.path.display()
        )),
        "{}",
        &lines[0][..400]
    );
    // After the name, the hint: relayctl's own names, not a suggestion built from the name.
    let hint = lines[0].rsplit("xxx").next().expect("the name");
    assert!(
        hint.starts_with(
            " (the relay_* names belong to relayctl: relay_type, relay_fqdn, \
             relay_serves_workstations, relay_roles, relay_ssh_port, relay_firewall_state, "
        ) && hint.ends_with(')')
            && hint.len() < 1_000,
        "{hint}"
    );
}

#[test]
fn variables_copied_to_every_host_are_bounded() {
    // 50 000 variables in `all` for 100 000 hosts: five billion copies, one per host and
    // variable, in a file of less than 1 MiB.
    let mut yaml = "all:\n  vars:\n".to_owned();
    for i in 0..50_000 {
        yaml.push_str(&format!("    v{i}: {i}\n"));
    }
    yaml.push_str("  hosts:\n");
    for i in 0..10 {
        yaml.push_str(&format!("    r{i}-[1:10000]:\n"));
    }
    let inventory = TempInventory::new(&yaml);
    assert_eq!(
        refused(&[inventory.path_str()]),
        [format!(
            "{}:50004:5: all.hosts.r0-[1:10000]: with r0-20, the hosts would hold 1000040 \
             variables and groups, more than the 1000000 an inventory may give them (each host \
             holds its own copy of the variables of its groups)",
            inventory.path.display()
        )]
    );
}

#[test]
fn groups_inherited_by_every_host_are_bounded() {
    // 9 999 groups above one group of 30 000 hosts: each host is in all 10 000.
    let mut yaml = "all:\n  hosts:\n    h1:\n".to_owned();
    for i in 0..9_998 {
        yaml.push_str(&format!("g{i}:\n  children:\n    leaf:\n"));
    }
    yaml.push_str("leaf:\n  hosts:\n    r[1:10000]:\n    s[1:10000]:\n    t[1:10000]:\n");
    let inventory = TempInventory::new(&yaml);
    assert_eq!(
        refused(&[inventory.path_str()]),
        [format!(
            "{}:30000:5: leaf.hosts.r[1:10000]: with r100, the hosts would hold 1000002 \
             variables and groups, more than the 1000000 an inventory may give them (each host \
             holds its own copy of the variables of its groups)",
            inventory.path.display()
        )]
    );
}

#[test]
fn a_directory_of_inventories_holding_more_than_32_mib_is_refused_within_bounds() {
    let dir = tempfile::tempdir().expect("temp dir");
    // Five files just under the 8 MiB of one: the fifth takes the directory past 32 MiB.
    let padding = "x".repeat((8 << 20) - 1000);
    for i in 0..5 {
        std::fs::write(
            dir.path().join(format!("{i}.yaml")),
            format!("all:\n  vars:\n    padding: {padding}\n  hosts:\n    relay{i}:\n"),
        )
        .expect("write");
    }
    assert_eq!(
        refused(&[dir.path().to_str().expect("utf-8")]),
        [format!(
            "{}:1:1: (file): with this file the inventory's sources would hold more than 32 MiB, more than \
             relayctl reads for one inventory",
            dir.path().join("4.yaml").display()
        )]
    );
}

#[test]
fn an_ini_value_of_a_million_items_is_refused_within_bounds() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("hosts");
    let items = vec!["0"; 1_000_000].join(",");
    std::fs::write(
        &path,
        format!("[relays]\nrelay1\n[relays:vars]\nbig=[{items}]\n"),
    )
    .expect("write");
    let errors = refused(&[path.to_str().expect("utf-8")]);
    assert_eq!(
        errors,
        [format!(
            "{}:4:1: big: with this line the file would hold more than 250000 values, more than an inventory may",
            path.display()
        )]
    );
}

#[test]
fn more_than_1000_vault_values_are_refused_before_any_is_decrypted() {
    let dir = tempfile::tempdir().expect("temp dir");
    // `ansible-vault encrypt_string` of "inline-secret", vault password `vaultpw`: 1001 times.
    let vaulted = "!vault |\n          $ANSIBLE_VAULT;1.1;AES256\n          \
        35363233653866323435363039623138343438643737663661623132303034353337356461313264\n          \
        6535643038623066376533666264666361653436376466390a363037333266343664623936376135\n          \
        36303635623839613363346437303163343732333033636263653537663866633165393362306433\n          \
        6331313261613463370a333165323865353937323138386533323235396563396161343631306235\n          3864\n";
    let mut text = "all:\n  hosts:\n    relay1:\n".to_owned();
    for i in 0..1001 {
        text.push_str(&format!("      secret{i}: {vaulted}"));
    }
    let inventory = dir.path().join("inventory.yaml");
    std::fs::write(&inventory, text).expect("write");
    let password = dir.path().join("vault_password");
    std::fs::write(&password, "vaultpw\n").expect("write");
    let errors = refused(&[
        inventory.to_str().expect("utf-8"),
        "--vault-password-file",
        password.to_str().expect("utf-8"),
    ]);
    assert_eq!(
        errors,
        [format!(
            "{}:7004:7: all.hosts.relay1.secret1000: with this value the inventory would hold more than 1000 \
             vault-encrypted values, more than relayctl decrypts in one run",
            inventory.display()
        )]
    );
}
