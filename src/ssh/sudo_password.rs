//! The become password handed to `sudo -S` only when sudo asks for it (see
//! [`PasswordExchange`]): the command's channel is read until sudo prints the invocation's own
//! prompt (the password is sent, once) or the script announces it runs (nothing is sent: sudo
//! needed no password). A second prompt means sudo refused the password: the command is killed
//! before a second try could count against the account.

use std::time::Duration;

use russh::client::Msg;
use russh::{Channel, ChannelMsg};

use super::SshError;
use super::channel;
use super::escalation::{self, PasswordExchange};
use super::target::Target;

/// How long sudo may take to start the command beyond the connect timeout: PAM's delay after a
/// wrong password (2 s on Debian) and a loaded host's sudo.
const SUDO_GRACE: Duration = Duration::from_secs(20);

/// Carries out the exchange on `channel`, whose command was wrapped with `exchange`. Returns what
/// the command printed on stdout after its announcement (the rest of the chunk it came in).
pub(super) async fn exchange(
    channel: &mut Channel<Msg>,
    exchange: &PasswordExchange,
    target: &Target,
) -> Result<Vec<u8>, SshError> {
    let within = target.connect_timeout.saturating_add(SUDO_GRACE);
    let started = format!("{}\n", exchange.started);
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    let mut sent = false;
    let mut ended = None;
    let outcome = tokio::time::timeout(within, async {
        while let Some(message) = channel.wait().await {
            match message {
                ChannelMsg::Data { data } => {
                    stdout.extend_from_slice(&data);
                    if let Some(at) = find(&stdout, started.as_bytes()) {
                        return Ok(stdout.split_off(at + started.len()));
                    }
                }
                ChannelMsg::ExtendedData { data, ext: 1 } => {
                    stderr.extend_from_slice(&data);
                    match count(&stderr, exchange.prompt.as_bytes()) {
                        0 => {}
                        1 if !sent => {
                            let line = format!("{}\n", exchange.password.expose());
                            channel.data_bytes(line.into_bytes()).await?;
                            sent = true;
                        }
                        1 => {}
                        _ => {
                            return Err(SshError::BecomePasswordRejected {
                                user: target.endpoint.user.clone(),
                            });
                        }
                    }
                }
                ChannelMsg::ExitStatus { exit_status } => ended = Some(exit_status),
                _ => {}
            }
        }
        // sudo ended without starting the command: it refused the user, or the password.
        let text = target
            .escalation
            .mask(String::from_utf8_lossy(&stderr).trim());
        let code = ended.unwrap_or(1);
        Err(
            escalation::sudo_refusal(&target.escalation, code, &text, &target.endpoint.user)
                .unwrap_or_else(|| {
                    SshError::Protocol(format!(
                        "sudo ended before the command started (status {code}): {text}"
                    ))
                }),
        )
    })
    .await;
    match outcome {
        Ok(Ok(rest)) => Ok(rest),
        Ok(Err(error)) => {
            channel::kill(channel).await;
            Err(error)
        }
        Err(_) => {
            channel::kill(channel).await;
            let text = target
                .escalation
                .mask(String::from_utf8_lossy(&stderr).trim());
            Err(SshError::Protocol(format!(
                "sudo did not start the command within {} s{}",
                within.as_secs(),
                if text.is_empty() {
                    String::new()
                } else {
                    format!(" (it said: {text})")
                }
            )))
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .filter(|w| *w == needle)
        .count()
}
