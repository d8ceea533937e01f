//! Privilege escalation with sudo: how a script is wrapped, and how sudo's own refusals are told
//! apart from the script's failures.
//!
//! The become password travels on stdin (`sudo -S`), never in argv, and only when sudo asks for
//! it: `sudo -S` reads it from the stdin the command reads next, so a password sent where sudo
//! does not ask (a NOPASSWD rule, credentials sudo still holds) would become the command's input,
//! and the privileged shell would read it as a job (and say so, quoting it, in an error). sudo is
//! given a prompt of our own and the script announces itself first; the password goes after the
//! prompt, never after the announcement ([`PasswordExchange`], `sudo_password.rs`).

use super::SshError;
use crate::secret::{self, Secret};
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
    /// `text` with the become password (and each word of it) masked, for a message that quotes
    /// what the host printed.
    pub fn mask(&self, text: &str) -> String {
        match self {
            Become::SudoWithPassword(password) => {
                secret::mask(text, std::slice::from_ref(password))
            }
            Become::No | Become::Sudo => text.to_string(),
        }
    }

    /// For logs: how commands are escalated, never the password.
    pub fn describe(&self) -> &'static str {
        match self {
            Become::No => "as the login user",
            Become::Sudo => "as root with sudo -n",
            Become::SudoWithPassword(_) => "as root with sudo -S, password on stdin",
        }
    }
}

/// A ready command line, and for `sudo -S` how its password is handed over.
pub struct Invocation {
    pub command: String,
    pub password: Option<PasswordExchange>,
}

/// How `sudo -S` gets its password: only after it printed [`PasswordExchange::prompt`] on
/// stderr, and never once the script printed [`PasswordExchange::started`] on stdout (sudo then
/// let it run without one). Both are unique to the invocation: no host output can pass for them.
pub struct PasswordExchange {
    pub prompt: String,
    pub started: String,
    pub password: Secret,
}

/// Wraps `script` (POSIX sh) for the login shell, escalating as `escalation` says; `nonce` makes
/// the markers of a password exchange unique. `LC_ALL=C` keeps sudo's messages parseable. The
/// script's `$1` is the login's `SSH_CONNECTION`, expanded before sudo, whose `env_reset` would
/// drop it: it tells the host's view of the controller's address. `-k`: sudo asks for the
/// password even when it still holds credentials of an earlier sudo, so that a password that is
/// wrong is always found wrong.
pub fn wrap(script: &str, escalation: &Become, nonce: &str) -> Invocation {
    let sh = |script: &str| format!("sh -c {} relayctl \"$SSH_CONNECTION\"", sh::quote(script));
    match escalation {
        Become::No => Invocation {
            command: sh(script),
            password: None,
        },
        Become::Sudo => Invocation {
            command: format!("LC_ALL=C sudo -n -- {}", sh(script)),
            password: None,
        },
        Become::SudoWithPassword(password) => {
            let exchange = PasswordExchange {
                prompt: format!("[relayctl {nonce}] sudo password: "),
                started: format!("relayctl {nonce} started"),
                password: password.clone(),
            };
            let announced = format!("printf '%s\\n' {}\n{script}", sh::quote(&exchange.started));
            Invocation {
                command: format!(
                    "LC_ALL=C sudo -k -S -p {} -- {}",
                    sh::quote(&exchange.prompt),
                    sh(&announced)
                ),
                password: Some(exchange),
            }
        }
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
    fn the_become_password_is_never_in_the_command_line_and_waits_for_sudos_own_prompt() {
        let invocation = wrap(
            "id -u",
            &Become::SudoWithPassword(Secret::new("hunter2".into())),
            "ab12",
        );
        assert_eq!(
            invocation.command,
            r#"LC_ALL=C sudo -k -S -p '[relayctl ab12] sudo password: ' -- sh -c 'printf '\''%s\n'\'' '\''relayctl ab12 started'\''
id -u' relayctl "$SSH_CONNECTION""#
        );
        let exchange = invocation.password.expect("a password exchange");
        assert_eq!(exchange.prompt, "[relayctl ab12] sudo password: ");
        assert_eq!(exchange.started, "relayctl ab12 started");
        assert_eq!(exchange.password.expose(), "hunter2");
        assert!(wrap("id -u", &Become::Sudo, "ab12").password.is_none());
    }

    #[test]
    fn single_quotes_in_scripts_survive_quoting() {
        assert_eq!(
            wrap("echo 'a b'", &Become::No, "n").command,
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
