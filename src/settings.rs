//! Settings resolution: the command line, the environment and the inventory's connection variables
//! become, for each host, one SSH [`Target`]. Precedence: command line > inventory > defaults.

use std::path::PathBuf;
use std::time::Duration;

use crate::cli::RunArgs;
use crate::inventory::Host;
use crate::secret::Secret;
use crate::ssh::{Become, Endpoint, HostKeyPolicy, Target, host_keys};

/// The env var that carries the sudo password when `--ask-become-pass` is not given.
pub const BECOME_PASSWORD_ENV: &str = "RELAYCTL_BECOME_PASSWORD";
/// Without `--forks`, every host at once, up to this many.
pub const DEFAULT_MAX_FORKS: usize = 256;
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether a command needs root on the hosts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Privilege {
    /// Everything runs as root: through sudo unless the login user is root (`apply`).
    Root,
    /// As the inventory says (`ansible_become`) (`facts`).
    AsInventorySays,
}

/// Run-wide settings, resolved once.
#[derive(Debug)]
pub struct RunSettings {
    pub forks: Option<usize>,
    pub host_key_policy: Option<HostKeyPolicy>,
    pub known_hosts: Option<PathBuf>,
    pub connect_timeout: Option<Duration>,
    pub command_timeout: Duration,
    pub become_password: Option<Secret>,
    pub verbosity: u8,
    /// The open-file limit in force (raised to the hard limit): one socket per host in flight.
    pub open_files: u64,
}

impl RunSettings {
    /// Resolves the settings; asks for the become password now, once, when asked to.
    pub fn resolve(args: &RunArgs) -> std::io::Result<Self> {
        let become_password = if args.ask_become_pass {
            Some(Secret::new(rpassword::prompt_password(
                "BECOME password: ",
            )?))
        } else {
            std::env::var(BECOME_PASSWORD_ENV).ok().map(Secret::new)
        };
        Ok(RunSettings {
            forks: args.forks.map(|n| n as usize),
            host_key_policy: args.host_key_policy,
            known_hosts: args.known_hosts.clone(),
            connect_timeout: args.connect_timeout.map(Duration::from_secs),
            command_timeout: Duration::from_secs(args.command_timeout),
            become_password,
            verbosity: args.verbose,
            open_files: crate::open_files::raise(),
        })
    }

    /// The run's own secrets, masked in every output.
    pub fn secrets(&self) -> Vec<Secret> {
        self.become_password.iter().cloned().collect()
    }

    /// How many hosts to work on at once: as asked (else every host up to the default bound),
    /// and never more than the open-file limit lets have a socket each.
    pub fn forks_for(&self, hosts: usize) -> usize {
        self.forks
            .unwrap_or(DEFAULT_MAX_FORKS)
            .min(crate::open_files::hosts_within(self.open_files))
            .clamp(1, hosts.max(1))
    }

    /// The SSH target for `host`.
    pub fn target(&self, host: &Host, privilege: Privilege) -> Target {
        let connection = &host.connection;
        let user = connection.user.clone().unwrap_or_else(controller_user);
        let escalate = match privilege {
            Privilege::Root => user != "root",
            Privilege::AsInventorySays => connection.r#become,
        };
        // A become password the inventory keeps in Ansible Vault is this host's own: it wins
        // over the run's (-K, RELAYCTL_BECOME_PASSWORD), as Ansible's variable wins over its
        // --ask-become-pass.
        let password = connection
            .become_password
            .as_ref()
            .or(self.become_password.as_ref());
        let escalation = match (escalate, password) {
            (false, _) => Become::No,
            (true, None) => Become::Sudo,
            (true, Some(password)) => Become::SudoWithPassword(password.clone()),
        };
        Target {
            endpoint: Endpoint {
                address: connection.address.clone(),
                port: connection.port,
                user: user.clone(),
            },
            key_file: connection.private_key_file.clone(),
            jump: connection.jump.as_ref().map(|jump| Endpoint {
                address: jump.address.clone(),
                port: jump.port,
                user: jump.user.clone().unwrap_or_else(|| user.clone()),
            }),
            known_hosts: self
                .known_hosts
                .clone()
                .or_else(|| connection.known_hosts_file.clone())
                .unwrap_or_else(host_keys::default_known_hosts),
            host_key_policy: self
                .host_key_policy
                .or(connection.host_key_policy)
                .unwrap_or_default(),
            connect_timeout: self
                .connect_timeout
                .or(connection.connect_timeout)
                .unwrap_or(DEFAULT_CONNECT_TIMEOUT),
            command_timeout: self.command_timeout,
            escalation,
        }
    }
}

/// The controller's user name, OpenSSH's default login user.
fn controller_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "root".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> RunSettings {
        RunSettings {
            forks: None,
            host_key_policy: None,
            known_hosts: None,
            connect_timeout: None,
            command_timeout: Duration::from_secs(300),
            become_password: None,
            verbosity: 0,
            open_files: 1 << 20,
        }
    }

    fn host(yaml: &str) -> (tempfile::TempDir, Host) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("inventory.yaml");
        std::fs::write(&path, yaml).expect("write");
        let inventory = crate::inventory::load(
            std::slice::from_ref(&path),
            &crate::inventory::LoadOptions::default(),
        )
        .expect("valid inventory");
        let host = inventory.hosts.into_iter().next().expect("one host");
        (dir, host)
    }

    const BEHIND_BASTION: &str = "all:\n  hosts:\n    relay1:\n      ansible_host: 10.0.0.5\n      \
        ansible_user: admin\n      ansible_ssh_common_args: >-\n        -o StrictHostKeyChecking=accept-new \
        -o UserKnownHostsFile=/srv/known_hosts -o ConnectTimeout=7 -o ProxyJump=bastion.example.com:2222\n";

    #[test]
    fn the_inventory_decides_when_the_command_line_is_silent() {
        let (_dir, host) = host(BEHIND_BASTION);
        let target = settings().target(&host, Privilege::Root);
        assert_eq!(target.host_key_policy, HostKeyPolicy::AcceptNew);
        assert_eq!(target.known_hosts, PathBuf::from("/srv/known_hosts"));
        assert_eq!(target.connect_timeout, Duration::from_secs(7));
        let jump = target.jump.expect("a jump host");
        assert_eq!(
            (jump.address.as_str(), jump.port, jump.user.as_str()),
            ("bastion.example.com", 2222, "admin")
        );
    }

    #[test]
    fn the_command_line_overrides_the_inventory() {
        let (_dir, host) = host(BEHIND_BASTION);
        let cli = RunSettings {
            host_key_policy: Some(HostKeyPolicy::Strict),
            known_hosts: Some(PathBuf::from("/tmp/kh")),
            connect_timeout: Some(Duration::from_secs(3)),
            ..settings()
        };
        let target = cli.target(&host, Privilege::Root);
        assert_eq!(target.host_key_policy, HostKeyPolicy::Strict);
        assert_eq!(target.known_hosts, PathBuf::from("/tmp/kh"));
        assert_eq!(target.connect_timeout, Duration::from_secs(3));
    }

    #[test]
    fn apply_escalates_unless_logged_in_as_root_and_facts_follow_ansible_become() {
        let (_dir, admin) = host("all:\n  hosts:\n    r1: {ansible_user: admin}\n");
        let (_dir2, root) = host("all:\n  hosts:\n    r1: {ansible_user: root}\n");
        let (_dir3, becomes) =
            host("all:\n  hosts:\n    r1: {ansible_user: admin, ansible_become: yes}\n");
        assert!(matches!(
            settings().target(&admin, Privilege::Root).escalation,
            Become::Sudo
        ));
        assert!(matches!(
            settings().target(&root, Privilege::Root).escalation,
            Become::No
        ));
        assert!(matches!(
            settings()
                .target(&admin, Privilege::AsInventorySays)
                .escalation,
            Become::No
        ));
        assert!(matches!(
            settings()
                .target(&becomes, Privilege::AsInventorySays)
                .escalation,
            Become::Sudo
        ));
        let with_password = RunSettings {
            become_password: Some(Secret::new("pw".into())),
            ..settings()
        };
        assert!(matches!(
            with_password.target(&admin, Privilege::Root).escalation,
            Become::SudoWithPassword(_)
        ));
    }

    #[test]
    fn a_become_password_from_vault_is_the_host_s_own_and_wins_over_the_run_s() {
        // `ansible-vault encrypt_string` of "inline-secret", vault password `vaultpw`.
        let vaulted: String = [
            "$ANSIBLE_VAULT;1.1;AES256",
            "35363233653866323435363039623138343438643737663661623132303034353337356461313264",
            "6535643038623066376533666264666361653436376466390a363037333266343664623936376135",
            "36303635623839613363346437303163343732333033636263653537663866633165393362306433",
            "6331313261613463370a333165323865353937323138386533323235396563396161343631306235",
            "3864",
        ]
        .iter()
        .map(|line| format!("        {line}\n"))
        .collect();
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("inventory.yaml");
        let yaml = format!(
            "all:\n  hosts:\n    r1:\n      ansible_user: operator\n      ansible_become_password: !vault |\n{vaulted}    \
             r2:\n      ansible_user: operator\n"
        );
        std::fs::write(&path, yaml).expect("write");
        let options = crate::inventory::LoadOptions {
            vault: crate::inventory::VaultSecrets::with_password("vaultpw"),
            ..Default::default()
        };
        let inventory = crate::inventory::load(std::slice::from_ref(&path), &options)
            .unwrap_or_else(|e| panic!("{e}"));
        let run = RunSettings {
            become_password: Some(Secret::new("from -K".into())),
            ..settings()
        };
        let password = |host: &Host| match run.target(host, Privilege::Root).escalation {
            Become::SudoWithPassword(secret) => secret.expose().to_owned(),
            other => panic!("{other:?}"),
        };
        assert_eq!(password(&inventory.hosts[0]), "inline-secret");
        assert_eq!(password(&inventory.hosts[1]), "from -K");
        assert_eq!(
            inventory
                .secrets()
                .iter()
                .map(Secret::expose)
                .collect::<Vec<_>>(),
            ["inline-secret"]
        );
    }

    #[test]
    fn forks_default_to_every_host_up_to_the_bound() {
        assert_eq!(settings().forks_for(3), 3);
        assert_eq!(settings().forks_for(1000), DEFAULT_MAX_FORKS);
        assert_eq!(
            RunSettings {
                forks: Some(5),
                ..settings()
            }
            .forks_for(3),
            3
        );
        assert_eq!(
            RunSettings {
                forks: Some(2),
                ..settings()
            }
            .forks_for(3),
            2
        );
        // Debian's default soft limit, had it not been raised: a socket each, and room left.
        assert_eq!(
            RunSettings {
                forks: Some(5000),
                open_files: 1024,
                ..settings()
            }
            .forks_for(5000),
            1024 - crate::open_files::RESERVED as usize
        );
    }
}
