//! A command's channel read to its end: what the command printed and how it ended, within a time
//! limit past which the command is killed on the host.

use std::time::Duration;

use russh::client::Msg;
use russh::{Channel, ChannelMsg, Sig};

use super::SshError;

/// What a command printed and how it ended.
#[derive(Debug, Clone)]
pub struct ExecOutput {
    pub exit_status: u32,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl ExecOutput {
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

/// What [`read_to_end`] makes of an `exit-signal`, which a command killed by a signal sends
/// instead of an exit status.
pub(super) enum OnSignal {
    /// Status 137 (128 + KILL, whatever the signal) and a line on stderr that names the signal:
    /// what [`Session::exec`] reports.
    ///
    /// [`Session::exec`]: super::Session::exec
    Status137,
    /// Nothing: the command then ends without a status, [`SshError::NoExitStatus`] (what the
    /// release of a held command reports).
    NoStatus,
}

/// Reads `channel` to its end, within `timeout`: past it, the command is killed and the read fails
/// with [`SshError::CommandTimeout`].
pub(super) async fn read_to_end(
    channel: &mut Channel<Msg>,
    timeout: Duration,
    on_signal: OnSignal,
) -> Result<ExecOutput, SshError> {
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    let mut exit_status = None;
    // Drain until the channel ends: the exit status may arrive before the last output.
    let drained = tokio::time::timeout(timeout, async {
        while let Some(message) = channel.wait().await {
            match message {
                ChannelMsg::Data { data } => stdout.extend_from_slice(&data),
                ChannelMsg::ExtendedData { data, ext: 1 } => stderr.extend_from_slice(&data),
                ChannelMsg::ExitStatus {
                    exit_status: status,
                } => exit_status = Some(status),
                ChannelMsg::ExitSignal { signal_name, .. }
                    if matches!(on_signal, OnSignal::Status137) =>
                {
                    stderr.extend_from_slice(
                        format!("killed by signal {signal_name:?}\n").as_bytes(),
                    );
                    exit_status = Some(128 + 9);
                }
                _ => {}
            }
        }
    })
    .await;
    if drained.is_err() {
        kill(channel).await;
        return Err(SshError::CommandTimeout { timeout });
    }
    let exit_status = exit_status.ok_or(SshError::NoExitStatus)?;
    Ok(ExecOutput {
        exit_status,
        stdout,
        stderr,
    })
}

/// A random marker for what a command prints (16 hex digits): no output of a host can forge it.
pub(super) fn nonce() -> Result<String, SshError> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes)
        .map_err(|e| SshError::Protocol(format!("no randomness for a marker: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Ends the command running on `channel`, and the channel. Closing alone leaves the remote command
/// running: it is killed first.
pub(super) async fn kill(channel: &Channel<Msg>) {
    let _ = channel.signal(Sig::KILL).await;
    let _ = channel.close().await;
}
