//! How to reach a host over SSH, from Ansible's connection variables: `ansible_host`,
//! `ansible_port`, `ansible_user`, `ansible_ssh_private_key_file`, `ansible_become*`, the ssh
//! argument variables (see `ssh_args.rs`) and `ansible_ssh_timeout`, with Ansible's older
//! `ansible_ssh_*` spellings. Setting both a name and its alias for one host is an error: which
//! one wins differs between Ansible versions, and relayctl does not guess.
//!
//! This is the connection policy, and it applies to the hosts a command selects (a network
//! switch or a `local` host beside the relays is left alone): templates in these variables are
//! resolved from the host's own variables first (`templating.rs`); a non-SSH connection, a
//! become method other than sudo to root, ssh options relayctl cannot honour, disabled
//! host-key checking and passwords are refused. A become password kept by Ansible Vault is the
//! one exception: it is used, as a secret.

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use super::names;
use super::ssh_args::{self, JumpHost, SshOptions};
use super::ssh_config::{self, SshConfigs};
use super::templating;
use super::values::{self, Problem};
use super::vars::{Var, Vars};
use crate::input::error::InputError;
use crate::input::paths::PathContext;
use crate::input::yaml::Node;
use crate::secret::Secret;
use crate::ssh::HostKeyPolicy;

/// Everything the ssh layer needs to open this host's one connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Connection {
    /// `ansible_host` (alias `ansible_ssh_host`); default: the inventory host name.
    pub address: String,
    /// `ansible_port` (alias `ansible_ssh_port`, or `host:port` under `hosts:`); default 22.
    pub port: u16,
    /// `ansible_user` (alias `ansible_ssh_user`); `None`: the controller's `$USER`, decided by
    /// the ssh layer.
    pub user: Option<String>,
    /// `ansible_ssh_private_key_file` (alias `ansible_private_key_file`); `~/` expanded, a
    /// relative path is relative to the inventory file's directory.
    pub private_key_file: Option<PathBuf>,
    /// `ansible_become`, in any of Ansible's boolean spellings. Only `sudo` to `root` exists.
    pub r#become: bool,
    /// `-o ProxyJump=...` or `-J ...` in the ssh argument variables.
    pub jump: Option<JumpHost>,
    /// `-o UserKnownHostsFile=PATH`, resolved like the key file.
    pub known_hosts_file: Option<PathBuf>,
    /// `-o StrictHostKeyChecking=yes|accept-new`; `None`: the ssh layer's default (strict).
    pub host_key_policy: Option<HostKeyPolicy>,
    /// `-o ConnectTimeout=N` or `ansible_ssh_timeout`.
    pub connect_timeout: Option<Duration>,
    /// `ansible_become_password` (or an alias) when Ansible Vault keeps it.
    pub become_password: Option<Secret>,
}

impl Connection {
    /// The stand-in for a host whose connection is refused: its name, nothing else.
    pub(crate) fn refused(host: &str) -> Self {
        Connection {
            address: host.to_owned(),
            port: 22,
            user: None,
            private_key_file: None,
            r#become: false,
            jump: None,
            known_hosts_file: None,
            host_key_policy: None,
            connect_timeout: None,
            become_password: None,
        }
    }
}

/// Ansible's switches of host-key checking: off is refused, as `StrictHostKeyChecking=no` is.
const HOST_KEY_CHECKING_VARS: [&str; 3] = [
    "ansible_host_key_checking",
    "ansible_ssh_host_key_checking",
    "ansible_paramiko_host_key_checking",
];

/// One connection variable's meaning.
enum Setting {
    Address(String),
    Port(u16),
    User(String),
    KeyFile(PathBuf),
    Become(bool),
    Ssh(SshOptions),
    Timeout(Duration),
    /// Accepted and checked, nothing to record (`ansible_connection: ssh`, `become_user: root`).
    Checked,
}

/// Reads one connection variable (any name in `names::CONNECTION_VARS`).
fn read(name: &str, node: &Node, paths: &PathContext) -> Result<Setting, Vec<Problem>> {
    let one = |p: Problem| vec![p];
    Ok(match name {
        "ansible_host" | "ansible_ssh_host" => {
            let address = values::word(node, "a host name or IP address").map_err(one)?;
            if !values::is_address(address) {
                return Err(one(Problem::at(
                    node,
                    format!("{address:?} is not a host name or IP address"),
                )));
            }
            Setting::Address(address.to_owned())
        }
        "ansible_port" | "ansible_ssh_port" => Setting::Port(values::port(node).map_err(one)?),
        "ansible_user" | "ansible_ssh_user" => {
            Setting::User(values::word(node, "a user name").map_err(one)?.to_owned())
        }
        "ansible_ssh_private_key_file" | "ansible_private_key_file" => {
            let raw = values::string(node, "a file path").map_err(one)?;
            Setting::KeyFile(paths.resolve(raw).map_err(|m| one(Problem::at(node, m)))?)
        }
        "ansible_become" => Setting::Become(values::boolean(node).map_err(one)?),
        "ansible_become_method" => {
            values::one_of(node, &[("sudo", ())]).map_err(|p| {
                one(Problem::at(
                    node,
                    format!("{}: relayctl becomes root with sudo only", p.message),
                ))
            })?;
            Setting::Checked
        }
        "ansible_become_user" => {
            values::one_of(node, &[("root", ())]).map_err(|p| {
                one(Problem::at(
                    node,
                    format!("{}: relayctl only becomes root", p.message),
                ))
            })?;
            Setting::Checked
        }
        "ansible_connection" => {
            values::one_of(node, &[("ssh", ()), ("smart", ()), ("paramiko", ())]).map_err(|p| {
                one(Problem::at(
                    node,
                    format!("{}: relayctl only connects over SSH", p.message),
                ))
            })?;
            Setting::Checked
        }
        "ansible_ssh_common_args" | "ansible_ssh_extra_args" | "ansible_ssh_args" => {
            let args = values::string(node, "a string of ssh options").map_err(one)?;
            Setting::Ssh(ssh_args::parse(args, paths).map_err(|messages| {
                messages
                    .into_iter()
                    .map(|m| Problem::at(node, m))
                    .collect::<Vec<_>>()
            })?)
        }
        "ansible_ssh_timeout" => Setting::Timeout(values::seconds(node).map_err(one)?),
        _ => Setting::Checked,
    })
}

/// Checks one definition of a connection variable, where it is written.
pub(crate) fn check(name: &str, node: &Node, paths: &PathContext) -> Vec<Problem> {
    read(name, node, paths).err().unwrap_or_default()
}

/// The host's connection from its merged variables (`groups`: the host's groups, which its
/// templates may name) and the ssh configuration (`configs`, read once for all hosts), or
/// every problem of its connection policy.
pub(crate) fn build(
    host: &str,
    groups: &[String],
    vars: &Vars,
    paths: &PathContext,
    configs: &mut SshConfigs,
) -> Result<Connection, Vec<InputError>> {
    let mut errors = Vec::new();
    let resolved = resolve_templates(host, groups, vars, &mut errors);
    let vars = &resolved;
    let mut connection = Connection::refused(host);
    connection.become_password = secrets(vars, &mut errors);
    for name in HOST_KEY_CHECKING_VARS {
        if let Some(var) = vars.get(name) {
            let node = Node::from_json(&var.value, var.origin.pos());
            match values::boolean(&node) {
                Ok(true) => {}
                Ok(false) => errors.push(InputError::at(
                    &var.origin.file,
                    var.origin.pos(),
                    name,
                    format!(
                        "{name} is off: relayctl always verifies host keys; set -o StrictHostKeyChecking=accept-new \
                         in ansible_ssh_common_args to trust a host on first contact (and detect any later change)"
                    ),
                )),
                Err(problem) => errors.push(problem.into_error(&var.origin.file, name)),
            }
        }
    }
    let read_var =
        |name: &str, errors: &mut Vec<InputError>| read_merged(vars, name, paths, errors);
    let mut alias_errors = Vec::new();
    let mut port_set = false;
    for (primary, alias) in [
        ("ansible_host", "ansible_ssh_host"),
        ("ansible_port", "ansible_ssh_port"),
        ("ansible_user", "ansible_ssh_user"),
        ("ansible_ssh_private_key_file", "ansible_private_key_file"),
    ] {
        let name = match (vars.get(primary), vars.get(alias)) {
            (Some(first), Some(second)) => {
                alias_errors.push(both_set(primary, first, alias, second));
                continue;
            }
            (Some(_), None) => primary,
            (None, Some(_)) => alias,
            (None, None) => continue,
        };
        match read_var(name, &mut errors) {
            Some(Setting::Address(address)) => connection.address = address,
            Some(Setting::Port(port)) => {
                connection.port = port;
                port_set = true;
            }
            Some(Setting::User(user)) => connection.user = Some(user),
            Some(Setting::KeyFile(path)) => connection.private_key_file = Some(path),
            _ => {}
        }
    }
    if let Some(Setting::Become(on)) = read_var("ansible_become", &mut errors) {
        connection.r#become = on;
    }
    for checked_only in [
        "ansible_become_method",
        "ansible_become_user",
        "ansible_connection",
    ] {
        read_var(checked_only, &mut errors);
    }

    // Ansible puts them on the command line in this order; a conflict between them is an error.
    let mut ssh = SshOptions::default();
    let mut ssh_sources: Vec<&str> = Vec::new();
    for name in [
        "ansible_ssh_args",
        "ansible_ssh_common_args",
        "ansible_ssh_extra_args",
    ] {
        if let Some(Setting::Ssh(options)) = read_var(name, &mut errors) {
            let conflicts = merge_ssh(&mut ssh, options);
            if let (Some(option), Some(var)) = (conflicts.first(), vars.get(name)) {
                errors.push(InputError::at(
                    &var.origin.file,
                    var.origin.pos(),
                    name,
                    format!(
                        "{option} is also set, differently, in {}; set it once",
                        ssh_sources.join(", ")
                    ),
                ));
            }
            ssh_sources.push(name);
        }
    }
    if let Some(Setting::Timeout(timeout)) = read_var("ansible_ssh_timeout", &mut errors) {
        match ssh.connect_timeout {
            Some(other) if other != timeout => {
                if let Some(var) = vars.get("ansible_ssh_timeout") {
                    errors.push(InputError::at(
                        &var.origin.file,
                        var.origin.pos(),
                        "ansible_ssh_timeout",
                        format!(
                            "{} seconds here, but ConnectTimeout={} in the ssh arguments; set it once",
                            timeout.as_secs(),
                            other.as_secs()
                        ),
                    ));
                }
            }
            _ => ssh.connect_timeout = Some(timeout),
        }
    }
    // ~/.ssh/config (or -F FILE) fills what the inventory leaves unset, as with Ansible.
    let config_file = match ssh.config_file.take() {
        Some(file) => Some((file, true)),
        None => ssh_config::default_file(paths.home.as_deref()).map(|file| (file, false)),
    };
    if let Some((file, explicit)) = config_file {
        match ssh_config::fill(configs, &file, explicit, paths, &connection.address) {
            Ok(fill) => {
                if let Some(address) = fill.address {
                    connection.address = address;
                }
                if !port_set && let Some(port) = fill.port {
                    connection.port = port;
                }
                connection.user = connection.user.take().or(fill.user);
                connection.private_key_file = connection.private_key_file.take().or(fill.key_file);
                ssh.jump = ssh.jump.or(fill.options.jump);
                ssh.known_hosts_file = ssh.known_hosts_file.or(fill.options.known_hosts_file);
                ssh.host_key_policy = ssh.host_key_policy.or(fill.options.host_key_policy);
                ssh.connect_timeout = ssh.connect_timeout.or(fill.options.connect_timeout);
            }
            Err(problems) => errors.extend(problems.into_iter().map(|message| {
                InputError::at(
                    &file,
                    crate::input::Pos::START,
                    format!("Host {host}"),
                    message,
                )
            })),
        }
    }
    connection.jump = ssh.jump.flatten();
    connection.known_hosts_file = ssh.known_hosts_file;
    connection.host_key_policy = ssh.host_key_policy;
    connection.connect_timeout = ssh.connect_timeout;

    errors.extend(alias_errors);
    if errors.is_empty() {
        Ok(connection)
    } else {
        Err(errors)
    }
}

/// `vars` with the templates of its connection variables resolved; a template that does not
/// resolve is an error at the variable, and the variable is left out.
fn resolve_templates(
    host: &str,
    groups: &[String],
    vars: &Vars,
    errors: &mut Vec<InputError>,
) -> Vars {
    let mut resolved = vars.clone();
    let names = names::CONNECTION_VARS.iter().chain(&HOST_KEY_CHECKING_VARS);
    for name in names {
        let Some(var) = vars.get(name) else { continue };
        let Some(text) = var.value.as_str().filter(|t| templating::is_template(t)) else {
            continue;
        };
        match templating::render(text, host, groups, vars) {
            Ok(value) => {
                resolved.0.insert(
                    (*name).to_owned(),
                    Var {
                        value: serde_json::Value::String(value),
                        ..var.clone()
                    },
                );
            }
            Err(message) => {
                errors.push(InputError::at(
                    &var.origin.file,
                    var.origin.pos(),
                    *name,
                    message,
                ));
                resolved.0.remove(*name);
            }
        }
    }
    resolved
}

/// The become password when Ansible Vault keeps it; every other secret is refused here.
fn secrets(vars: &Vars, errors: &mut Vec<InputError>) -> Option<Secret> {
    let mut become_password = None;
    for (name, var) in vars.iter().filter(|(name, _)| names::is_secret(name)) {
        if let Some(locked) = still_encrypted(name, var) {
            errors.push(locked);
            continue;
        }
        let refuse =
            |message: String| InputError::at(&var.origin.file, var.origin.pos(), name, message);
        if names::BECOME_PASSWORD_VARS.contains(&name.as_str()) && var.is_secret() {
            let text = match &var.value {
                serde_json::Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            match &become_password {
                Some(existing) if *existing != Secret::new(text.clone()) => {
                    errors.push(refuse(format!(
                        "{name} is another become password for this host, different from the one already set; \
                         keep only one of them"
                    )));
                }
                _ => become_password = Some(Secret::new(text)),
            }
        } else if names::LOGIN_PASSWORD_VARS.contains(&name.as_str()) {
            errors.push(refuse(format!(
                "relayctl logs in with SSH keys (ansible_ssh_private_key_file, ~/.ssh/config or the ssh-agent), not \
                 with a password: remove {name} for this host"
            )));
        } else if names::BECOME_PASSWORD_VARS.contains(&name.as_str()) {
            errors.push(refuse(format!(
                "secrets are not kept in clear in inventories: encrypt {name} with Ansible Vault \
                 (`ansible-vault encrypt_string`) and give the vault password, or remove it and give the become \
                 password in the RELAYCTL_BECOME_PASSWORD environment variable or at the prompt (-K)"
            )));
        } else {
            errors.push(refuse(format!(
                "{name} is a password relayctl has no use for: relayctl connects over SSH with keys; remove it for \
                 this host"
            )));
        }
    }
    become_password
}

/// Reads a merged variable; its problems (rare: definitions were checked already) go to `errors`.
fn read_merged(
    vars: &Vars,
    name: &str,
    paths: &PathContext,
    errors: &mut Vec<InputError>,
) -> Option<Setting> {
    let var = vars.get(name)?;
    if let Some(locked) = still_encrypted(name, var) {
        errors.push(locked);
        return None;
    }
    let node = Node::from_json(&var.value, var.origin.pos());
    match read(name, &node, paths) {
        Ok(setting) => Some(setting),
        Err(problems) => {
            errors.extend(
                problems
                    .into_iter()
                    .map(|p| p.into_error(&var.origin.file, name)),
            );
            None
        }
    }
}

/// The error for a value Ansible Vault keeps that no vault password given opened (it is still
/// the vault text, as a listing shows it).
fn still_encrypted(name: &str, var: &Var) -> Option<InputError> {
    let locked = var
        .value
        .as_object()
        .is_some_and(|map| map.len() == 1 && map.contains_key(crate::input::yaml::VAULT_KEY));
    locked.then(|| {
        InputError::at(
            &var.origin.file,
            var.origin.pos(),
            name,
            "this value is encrypted with Ansible Vault and no vault password was given: use \
             --vault-password-file, --vault-id, --ask-vault-pass or ANSIBLE_VAULT_PASSWORD_FILE",
        )
    })
}

/// Adds `more` to `into`; returns the options both set differently (`into` keeps its value).
fn merge_ssh(into: &mut SshOptions, more: SshOptions) -> Vec<&'static str> {
    fn take<T: PartialEq>(
        slot: &mut Option<T>,
        value: Option<T>,
        name: &'static str,
        conflicts: &mut Vec<&'static str>,
    ) {
        match (slot.as_ref(), value) {
            (Some(existing), Some(value)) if *existing != value => conflicts.push(name),
            (None, Some(value)) => *slot = Some(value),
            _ => {}
        }
    }
    let mut conflicts = Vec::new();
    take(&mut into.jump, more.jump, "ProxyJump", &mut conflicts);
    take(
        &mut into.known_hosts_file,
        more.known_hosts_file,
        "UserKnownHostsFile",
        &mut conflicts,
    );
    take(
        &mut into.host_key_policy,
        more.host_key_policy,
        "StrictHostKeyChecking",
        &mut conflicts,
    );
    take(
        &mut into.connect_timeout,
        more.connect_timeout,
        "ConnectTimeout",
        &mut conflicts,
    );
    take(
        &mut into.config_file,
        more.config_file,
        "-F",
        &mut conflicts,
    );
    conflicts
}

/// Keyed by the alias alone, so that the same pair inherited by many hosts is reported once.
fn both_set(primary: &str, first: &Var, alias: &str, second: &Var) -> InputError {
    InputError::at(
        &second.origin.file,
        second.origin.pos(),
        alias,
        format!(
            "{alias} is another name for {primary}, which is also set (at {}); keep only one of them",
            first.origin
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::Pos;
    use crate::inventory::vars::{Origin, Var};
    use serde_json::json;
    use std::collections::BTreeMap;
    use std::path::Path;

    use crate::input::paths::test_context as paths;

    fn vars(list: &[(&str, serde_json::Value)]) -> Vars {
        Vars(
            list.iter()
                .enumerate()
                .map(|(i, (name, value))| {
                    let origin = Origin::new(
                        Path::new("site.yaml"),
                        Pos {
                            line: i + 1,
                            column: 5,
                        },
                    );
                    (
                        (*name).to_owned(),
                        Var {
                            value: value.clone(),
                            origin,
                            listing: None,
                        },
                    )
                })
                .collect::<BTreeMap<_, _>>(),
        )
    }

    #[test]
    fn defaults_come_from_the_host_name() {
        let connection = build(
            "relay01",
            &[],
            &Vars::default(),
            &paths(),
            &mut SshConfigs::default(),
        )
        .unwrap();
        assert_eq!(connection.address, "relay01");
        assert_eq!(connection.port, 22);
        assert_eq!(connection.user, None);
        assert!(!connection.r#become);
    }

    #[test]
    fn aliases_and_truthy_become() {
        let connection = build(
            "relay01",
            &[],
            &vars(&[
                ("ansible_ssh_host", json!("10.0.0.11")),
                ("ansible_ssh_port", json!("2222")),
                ("ansible_user", json!("admin")),
                ("ansible_private_key_file", json!("keys/admin")),
                ("ansible_become", json!("yes")),
                ("ansible_become_method", json!("sudo")),
                ("ansible_ssh_timeout", json!(7)),
            ]),
            &paths(),
            &mut SshConfigs::default(),
        )
        .unwrap();
        assert_eq!(connection.address, "10.0.0.11");
        assert_eq!(connection.port, 2222);
        assert_eq!(connection.user.as_deref(), Some("admin"));
        assert_eq!(
            connection.private_key_file,
            Some(PathBuf::from("inventories/keys/admin"))
        );
        assert!(connection.r#become);
        assert_eq!(connection.connect_timeout, Some(Duration::from_secs(7)));
    }

    #[test]
    fn jump_host_from_common_args() {
        let connection = build(
            "relay03",
            &[],
            &vars(&[(
                "ansible_ssh_common_args",
                json!("-o ProxyJump=ops@bastion.example.com:2222"),
            )]),
            &paths(),
            &mut SshConfigs::default(),
        )
        .unwrap();
        assert_eq!(
            connection.jump,
            Some(JumpHost {
                address: "bastion.example.com".into(),
                port: 2222,
                user: Some("ops".into())
            })
        );
    }

    #[test]
    fn a_name_and_its_alias_together_are_refused() {
        let errors = build(
            "relay01",
            &[],
            &vars(&[
                ("ansible_host", json!("10.0.0.1")),
                ("ansible_ssh_host", json!("10.0.0.2")),
            ]),
            &paths(),
            &mut SshConfigs::default(),
        )
        .unwrap_err();
        assert_eq!(
            errors[0].to_string(),
            "site.yaml:2:5: ansible_ssh_host: ansible_ssh_host is another name for ansible_host, which is also set \
             (at site.yaml:1:5); keep only one of them"
        );
    }

    #[test]
    fn conflicting_ssh_options_are_refused() {
        let errors = build(
            "relay01",
            &[],
            &vars(&[
                ("ansible_ssh_common_args", json!("-J bastion1")),
                ("ansible_ssh_extra_args", json!("-J bastion2")),
            ]),
            &paths(),
            &mut SshConfigs::default(),
        )
        .unwrap_err();
        assert_eq!(
            errors[0].to_string(),
            "site.yaml:2:5: ansible_ssh_extra_args: ProxyJump is also set, differently, in ansible_ssh_common_args; set it once"
        );
    }

    #[test]
    fn become_only_sudo_to_root() {
        let node = Node::from_json(
            &json!("su"),
            Pos {
                line: 3,
                column: 28,
            },
        );
        assert_eq!(
            check("ansible_become_method", &node, &paths())[0].message,
            "expected one of sudo, found \"su\": relayctl becomes root with sudo only"
        );
        let node = Node::from_json(
            &json!("medulla"),
            Pos {
                line: 3,
                column: 28,
            },
        );
        assert_eq!(
            check("ansible_become_user", &node, &paths())[0].message,
            "expected one of root, found \"medulla\": relayctl only becomes root"
        );
    }
}
