//! Privilege escalation with sudo: how a script is wrapped, and how sudo's own refusals are told
//! apart from the script's failures.
//!
//! The become password travels on stdin (`sudo -S`), never in argv; `-k` makes sudo ignore cached
//! credentials so the password line is always consumed by sudo and never reaches the script's stdin.

use super::SshError;
use crate::secret::Secret;
use crate::sh;

/// How commands that need root are run.
#[derive(Clone, Debug, Default)]
pub enum Become {
    /// Run as the login user.
    #[default]
    No,
    /// `sudo -n`: passwordless sudo.
    Sudo,
    /// `sudo -S` with this password on stdin.
    SudoWithPassword(Secret),
}

impl Become {
    /// For logs: how commands are escalated, never the password.
    pub fn describe(&self) -> &'static str {
        match self {
            Become::No => "as the login user",
            Become::Sudo => "as root with sudo -n",
            Become::SudoWithPassword(_) => "as root with sudo -S, password on stdin",
        }
    }
}

/// A ready command line and the bytes to send on stdin before the caller's own input.
pub struct Invocation {
    pub command: String,
    pub stdin_prefix: Option<Secret>,
}

/// Wraps `script` (POSIX sh) for the login shell, escalating as `escalation` says. `LC_ALL=C` keeps
/// sudo's messages parseable. The script's `$1` is the login's `SSH_CONNECTION`, expanded before sudo,
/// whose `env_reset` would drop it: it tells the host's view of the controller's address.
pub fn wrap(script: &str, escalation: &Become) -> Invocation {
    let sh = format!("sh -c {} relayctl \"$SSH_CONNECTION\"", sh::quote(script));
    match escalation {
        Become::No => Invocation {
            command: sh,
            stdin_prefix: None,
        },
        Become::Sudo => Invocation {
            command: format!("LC_ALL=C sudo -n -- {sh}"),
            stdin_prefix: None,
        },
        Become::SudoWithPassword(password) => Invocation {
            command: format!("LC_ALL=C sudo -k -S -p '' -- {sh}"),
            stdin_prefix: Some(Secret::new(format!("{}\n", password.expose()))),
        },
    }
}

/// Recognises sudo's own refusals in a failed command's stderr (sudo exits 1 when it refuses).
pub fn sudo_refusal(
    escalation: &Become,
    exit_status: u32,
    stderr: &str,
    user: &str,
) -> Option<SshError> {
    if matches!(escalation, Become::No) || (exit_status != 1 && exit_status != 127) {
        return None;
    }
    let user = user.to_string();
    let first_sudo_line = || {
        stderr
            .lines()
            .find(|line| line.starts_with("sudo:"))
            .unwrap_or("")
            .trim()
            .to_string()
    };
    if stderr.contains("sudo: not found") || stderr.contains("sudo: command not found") {
        return Some(SshError::BecomeNotAllowed {
            user,
            detail: "sudo is not installed".into(),
        });
    }
    if stderr.contains("sudo: a password is required") {
        return Some(SshError::BecomePasswordRequired { user });
    }
    if stderr.contains("incorrect password attempt")
        || stderr.contains("sudo: no password was provided")
    {
        return Some(SshError::BecomePasswordRejected { user });
    }
    if stderr.contains("is not in the sudoers file")
        || stderr.contains("is not allowed to execute")
        || stderr.contains("may not run sudo")
    {
        return Some(SshError::BecomeNotAllowed {
            user,
            detail: first_sudo_line(),
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_become_password_is_never_in_the_command_line() {
        let invocation = wrap(
            "id -u",
            &Become::SudoWithPassword(Secret::new("hunter2".into())),
        );
        assert!(
            !invocation.command.contains("hunter2"),
            "{}",
            invocation.command
        );
        assert_eq!(
            invocation.command,
            r#"LC_ALL=C sudo -k -S -p '' -- sh -c 'id -u' relayctl "$SSH_CONNECTION""#
        );
        assert_eq!(
            invocation.stdin_prefix.expect("password on stdin").expose(),
            "hunter2\n"
        );
    }

    #[test]
    fn single_quotes_in_scripts_survive_quoting() {
        assert_eq!(
            wrap("echo 'a b'", &Become::No).command,
            r#"sh -c 'echo '\''a b'\''' relayctl "$SSH_CONNECTION""#
        );
    }

    #[test]
    fn sudo_refusals_are_told_apart() {
        let required = sudo_refusal(
            &Become::Sudo,
            1,
            "sudo: a password is required\n",
            "operator",
        );
        assert!(
            matches!(required, Some(SshError::BecomePasswordRequired { .. })),
            "{required:?}"
        );
        let password = Become::SudoWithPassword(Secret::new("x".into()));
        let rejected = sudo_refusal(
            &password,
            1,
            "sudo: 1 incorrect password attempt\n",
            "operator",
        );
        assert!(
            matches!(rejected, Some(SshError::BecomePasswordRejected { .. })),
            "{rejected:?}"
        );
        let denied = sudo_refusal(&Become::Sudo, 1, "bob is not in the sudoers file.\n", "bob");
        assert!(
            matches!(denied, Some(SshError::BecomeNotAllowed { .. })),
            "{denied:?}"
        );
    }

    #[test]
    fn a_script_failure_is_not_a_sudo_refusal() {
        assert!(sudo_refusal(&Become::Sudo, 1, "grep: nothing\n", "admin").is_none());
        assert!(
            sudo_refusal(&Become::Sudo, 2, "sudo: a password is required\n", "admin").is_none()
        );
        assert!(sudo_refusal(&Become::No, 1, "sudo: a password is required\n", "admin").is_none());
    }
}
