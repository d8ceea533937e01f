//! `ansible_ssh_common_args` / `ansible_ssh_extra_args` / `ansible_ssh_args`: the OpenSSH
//! command-line options Ansible passes to `ssh`. relayctl speaks SSH itself (russh), so it reads
//! the options it can honour — a jump host, a known_hosts file, the host-key policy, a connect
//! timeout — and refuses every other one by name: an option silently dropped would mean a
//! connection that is not the one the operator asked for.

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use crate::input::paths::PathContext;
use crate::ssh::HostKeyPolicy;

/// The options found in one argument string. `jump: Some(None)` is an explicit
/// `ProxyJump=none`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SshOptions {
    pub jump: Option<Option<JumpHost>>,
    pub known_hosts_file: Option<PathBuf>,
    pub host_key_policy: Option<HostKeyPolicy>,
    pub connect_timeout: Option<Duration>,
    /// `-F FILE`: the ssh configuration file to read instead of `~/.ssh/config`.
    pub config_file: Option<PathBuf>,
}

/// The bastion a host is reached through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JumpHost {
    pub address: String,
    /// Default 22.
    pub port: u16,
    /// `None`: the ssh layer decides (as for the target host).
    pub user: Option<String>,
}

const SUPPORTED: &str =
    "ProxyJump (or -J), UserKnownHostsFile, StrictHostKeyChecking, ConnectTimeout, -F";

/// Parses an argument string the way Ansible splits it (POSIX shell words). Every problem is
/// reported, not just the first.
pub(crate) fn parse(args: &str, paths: &PathContext) -> Result<SshOptions, Vec<String>> {
    let words = split_words(args).map_err(|e| vec![e])?;
    let mut options = SshOptions::default();
    let mut problems = Vec::new();
    let mut words = words.into_iter();
    while let Some(word) = words.next() {
        let (flag, attached) = match word.strip_prefix('-') {
            Some(rest) if !rest.is_empty() => {
                rest.split_at(rest.chars().next().map_or(0, char::len_utf8))
            }
            _ => {
                problems.push(format!(
                    "unexpected argument {word:?}: only ssh options (-o Key=Value, -J) belong here"
                ));
                continue;
            }
        };
        let mut value = || -> Option<String> {
            if attached.is_empty() {
                words.next()
            } else {
                Some(attached.to_owned())
            }
        };
        let result = match flag {
            "o" => match value() {
                Some(option) => apply_option(&option, &mut options, paths),
                None => Err("-o needs an option (-o Key=Value)".to_owned()),
            },
            "J" => match value() {
                Some(spec) => {
                    parse_jump(&spec).and_then(|jump| set(&mut options.jump, jump, "ProxyJump"))
                }
                None => Err("-J needs a jump host (-J [user@]host[:port])".to_owned()),
            },
            "F" => match value() {
                Some(file) => paths
                    .resolve(&file)
                    .map_err(|e| format!("-F: {e}"))
                    .and_then(|path| set(&mut options.config_file, path, "-F")),
                None => Err("-F needs an ssh configuration file (-F FILE)".to_owned()),
            },
            _ => Err(format!(
                "ssh flag -{flag} is not supported by relayctl, which cannot honour it silently; remove it \
                 (supported: {SUPPORTED})"
            )),
        };
        if let Err(problem) = result {
            problems.push(problem);
        }
    }
    if problems.is_empty() {
        Ok(options)
    } else {
        Err(problems)
    }
}

/// One `Key=Value` or `Key Value` option (keys are case-insensitive, as in ssh).
pub(crate) fn apply_option(
    option: &str,
    options: &mut SshOptions,
    paths: &PathContext,
) -> Result<(), String> {
    let option = option.trim();
    let split = option
        .find(|c: char| c == '=' || c.is_whitespace())
        .unwrap_or(option.len());
    let (key, value) = option.split_at(split);
    let value = value
        .trim_start_matches(|c: char| c == '=' || c.is_whitespace())
        .trim();
    if value.is_empty() {
        return Err(format!("ssh option {key} needs a value ({key}=...)"));
    }
    match key.to_ascii_lowercase().as_str() {
        "proxyjump" => set(&mut options.jump, parse_jump(value)?, "ProxyJump"),
        "userknownhostsfile" => {
            if value.split_whitespace().count() > 1 {
                return Err(format!(
                    "UserKnownHostsFile={value}: relayctl reads a single known_hosts file"
                ));
            }
            if value == "/dev/null" {
                return Err(
                    "UserKnownHostsFile=/dev/null throws host keys away, and relayctl always verifies host keys; \
                     name a real file (it is created with accept-new)"
                        .to_owned(),
                );
            }
            let path = paths
                .resolve(value)
                .map_err(|e| format!("UserKnownHostsFile: {e}"))?;
            set(&mut options.known_hosts_file, path, "UserKnownHostsFile")
        }
        "stricthostkeychecking" => {
            let policy = match value.to_ascii_lowercase().as_str() {
                "yes" => HostKeyPolicy::Strict,
                "accept-new" => HostKeyPolicy::AcceptNew,
                "no" | "off" => {
                    return Err(format!(
                        "StrictHostKeyChecking={value} is refused: relayctl always verifies host keys; use \
                         StrictHostKeyChecking=accept-new to trust a host on first contact (and detect any later change)"
                    ));
                }
                _ => {
                    return Err(format!(
                        "StrictHostKeyChecking={value} is not supported (there is no prompt in a parallel run); \
                         use yes or accept-new"
                    ));
                }
            };
            set(
                &mut options.host_key_policy,
                policy,
                "StrictHostKeyChecking",
            )
        }
        "connecttimeout" => match value.parse::<u64>() {
            Ok(secs) if secs > 0 => set(
                &mut options.connect_timeout,
                Duration::from_secs(secs),
                "ConnectTimeout",
            ),
            _ => Err(format!(
                "ConnectTimeout needs a number of seconds (1 or more), found {value:?}"
            )),
        },
        _ => Err(format!(
            "ssh option {key} is not supported by relayctl, which cannot honour it silently; remove it \
             (supported: {SUPPORTED})"
        )),
    }
}

fn set<T: PartialEq>(slot: &mut Option<T>, value: T, name: &str) -> Result<(), String> {
    match slot {
        Some(existing) if *existing != value => {
            Err(format!("{name} is given twice with different values"))
        }
        _ => {
            *slot = Some(value);
            Ok(())
        }
    }
}

/// `[ssh://][user@]host[:port]`, with `[v6]:port` for IPv6; `none` means no jump host.
pub(crate) fn parse_jump(spec: &str) -> Result<Option<JumpHost>, String> {
    let spec = spec.trim();
    if spec.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    if spec.contains(',') {
        return Err(format!(
            "ProxyJump={spec}: relayctl supports a single jump host, not a chain"
        ));
    }
    let bare = spec.strip_prefix("ssh://").unwrap_or(spec);
    let (user, host_port) = match bare.rsplit_once('@') {
        Some((user, rest)) if !user.is_empty() => (Some(user.to_owned()), rest),
        Some(_) => return Err(format!("ProxyJump={spec}: empty user before '@'")),
        None => (None, bare),
    };
    let (address, port) = if let Some(rest) = host_port.strip_prefix('[') {
        let (address, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("ProxyJump={spec}: '[' without a closing ']'"))?;
        match after.strip_prefix(':') {
            Some(port) => (address, Some(port)),
            None if after.is_empty() => (address, None),
            None => return Err(format!("ProxyJump={spec}: unexpected {after:?} after ']'")),
        }
    } else if host_port.matches(':').count() == 1 {
        let (address, port) = host_port.split_once(':').unwrap_or((host_port, ""));
        (address, Some(port))
    } else {
        // No colon, or a bare IPv6 address.
        (host_port, None)
    };
    if !super::values::is_address(address) {
        return Err(format!(
            "ProxyJump={spec}: {address:?} is not a host name or IP address"
        ));
    }
    let port = match port {
        None => 22,
        Some(p) => match p.parse::<u16>() {
            Ok(p) if p > 0 => p,
            _ => return Err(format!("ProxyJump={spec}: {p:?} is not a port number")),
        },
    };
    Ok(Some(JumpHost {
        address: address.to_owned(),
        port,
        user,
    }))
}

/// POSIX-shell word splitting, as Python's `shlex.split` (which Ansible uses) does it:
/// whitespace separates words; single quotes are literal; double quotes allow `\"`, `\\`, `\$`
/// and `` \` ``; a backslash outside quotes escapes the next character.
pub(crate) fn split_words(s: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err("unterminated single quote in ssh arguments".to_owned()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => word.push(c),
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => {
                                return Err("unterminated double quote in ssh arguments".to_owned());
                            }
                        },
                        Some(c) => word.push(c),
                        None => return Err("unterminated double quote in ssh arguments".to_owned()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(c) = chars.next() {
                    word.push(c);
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::input::paths::test_context as paths;

    fn jump(address: &str, port: u16, user: Option<&str>) -> Option<Option<JumpHost>> {
        Some(Some(JumpHost {
            address: address.to_owned(),
            port,
            user: user.map(str::to_owned),
        }))
    }

    #[test]
    fn jump_host_forms() {
        let parsed = |args: &str| parse(args, &paths()).unwrap().jump;
        assert_eq!(
            parsed("-o ProxyJump=admin@bastion.example.com:2222"),
            jump("bastion.example.com", 2222, Some("admin"))
        );
        assert_eq!(parsed("-J bastion"), jump("bastion", 22, None));
        assert_eq!(parsed("-Jops@10.0.0.1"), jump("10.0.0.1", 22, Some("ops")));
        assert_eq!(
            parsed("-o 'ProxyJump ssh://ops@[2001:db8::1]:2200'"),
            jump("2001:db8::1", 2200, Some("ops"))
        );
        assert_eq!(parsed("-oproxyjump=none"), Some(None));
        assert_eq!(
            parse("-J a,b", &paths()).unwrap_err(),
            ["ProxyJump=a,b: relayctl supports a single jump host, not a chain"]
        );
    }

    #[test]
    fn host_key_options() {
        let options = parse(
            "-o StrictHostKeyChecking=accept-new -o UserKnownHostsFile=~/.ssh/relays_known_hosts -o ConnectTimeout=5",
            &paths(),
        )
        .unwrap();
        assert_eq!(options.host_key_policy, Some(HostKeyPolicy::AcceptNew));
        assert_eq!(
            options.known_hosts_file,
            Some(PathBuf::from("/home/op/.ssh/relays_known_hosts"))
        );
        assert_eq!(options.connect_timeout, Some(Duration::from_secs(5)));
        assert_eq!(
            parse("-o UserKnownHostsFile=known_hosts", &paths())
                .unwrap()
                .known_hosts_file,
            Some(PathBuf::from("inventories/known_hosts"))
        );
    }

    #[test]
    fn strict_host_key_checking_no_is_refused() {
        assert_eq!(
            parse("-o StrictHostKeyChecking=no", &paths()).unwrap_err(),
            [
                "StrictHostKeyChecking=no is refused: relayctl always verifies host keys; use \
              StrictHostKeyChecking=accept-new to trust a host on first contact (and detect any later change)"
            ]
        );
        assert!(parse("-o UserKnownHostsFile=/dev/null", &paths()).is_err());
    }

    #[test]
    fn every_unsupported_option_is_named() {
        assert_eq!(
            parse("-o ControlMaster=auto -C -o ForwardAgent=yes", &paths()).unwrap_err(),
            [
                "ssh option ControlMaster is not supported by relayctl, which cannot honour it silently; remove it \
                 (supported: ProxyJump (or -J), UserKnownHostsFile, StrictHostKeyChecking, ConnectTimeout, -F)",
                "ssh flag -C is not supported by relayctl, which cannot honour it silently; remove it \
                 (supported: ProxyJump (or -J), UserKnownHostsFile, StrictHostKeyChecking, ConnectTimeout, -F)",
                "ssh option ForwardAgent is not supported by relayctl, which cannot honour it silently; remove it \
                 (supported: ProxyJump (or -J), UserKnownHostsFile, StrictHostKeyChecking, ConnectTimeout, -F)",
            ]
        );
    }

    #[test]
    fn shell_words() {
        assert_eq!(
            split_words(r#"-o "ProxyJump=a b" -o 'X=$y' c\ d"#).unwrap(),
            ["-o", "ProxyJump=a b", "-o", "X=$y", "c d"]
        );
        assert!(split_words("-o 'open").is_err());
    }
}
