//! A root command kept running on a host while the controller does other work (the temporary
//! listener of the flow checks), and its release.

use std::time::Duration;

use russh::ChannelMsg;
use russh::client;

use super::SshError;
use super::channel::{self, ExecOutput, OnSignal};
use super::escalation;
use super::target::Target;

/// A command started by [`Session::hold_privileged`], still running on the host.
///
/// [`Session::hold_privileged`]: super::Session::hold_privileged
pub struct HeldCommand<'a> {
    channel: russh::Channel<client::Msg>,
    _permit: tokio::sync::SemaphorePermit<'a>,
}

impl<'a> HeldCommand<'a> {
    /// Waits for the command started on `channel` to print the line `ready` (see
    /// [`Session::hold_privileged`]); kills it if it does not.
    ///
    /// [`Session::hold_privileged`]: super::Session::hold_privileged
    pub(super) async fn wait_ready(
        mut channel: russh::Channel<client::Msg>,
        permit: tokio::sync::SemaphorePermit<'a>,
        printed: Vec<u8>,
        ready: &str,
        ready_within: Duration,
        target: &Target,
    ) -> Result<(HeldCommand<'a>, String), SshError> {
        let is_ready = |stdout: &[u8]| String::from_utf8_lossy(stdout).lines().any(|l| l == ready);
        // What it printed while sudo started it may hold the line already.
        let mut stdout = printed;
        let mut stderr = Vec::new();
        // Not `channel::read_to_end`: the command must go on running, so the reading stops at
        // `ready`; the channel's end before it is a failure, whatever the exit status.
        let waited = tokio::time::timeout(ready_within, async {
            if is_ready(&stdout) {
                return true;
            }
            while let Some(message) = channel.wait().await {
                match message {
                    ChannelMsg::Data { data } => {
                        stdout.extend_from_slice(&data);
                        if is_ready(&stdout) {
                            return true;
                        }
                    }
                    ChannelMsg::ExtendedData { data, ext: 1 } => stderr.extend_from_slice(&data),
                    _ => {}
                }
            }
            false
        })
        .await;
        let stdout = String::from_utf8_lossy(&stdout).into_owned();
        match waited {
            Ok(true) => Ok((
                HeldCommand {
                    channel,
                    _permit: permit,
                },
                stdout,
            )),
            outcome => {
                channel::kill(&channel).await;
                let stderr = target
                    .escalation
                    .mask(String::from_utf8_lossy(&stderr).trim());
                let stdout = target.escalation.mask(&stdout);
                if let Some(refusal) =
                    escalation::sudo_refusal(&target.escalation, 1, &stderr, &target.endpoint.user)
                {
                    return Err(refusal);
                }
                Err(SshError::Protocol(match outcome {
                    Err(_) => format!("no `{ready}` within {} s: {stderr}", ready_within.as_secs()),
                    _ => format!("ended before `{ready}`: {stdout}{stderr}"),
                }))
            }
        }
    }

    /// Closes the command's stdin, which ends it, and waits for it to exit (within `within`,
    /// else it is killed): its exit status and what it printed since it was ready.
    pub async fn release(mut self, within: Duration) -> Result<ExecOutput, SshError> {
        self.channel.eof().await?;
        channel::read_to_end(&mut self.channel, within, OnSignal::NoStatus).await
    }
}
