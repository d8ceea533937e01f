//! One SSH connection to one host for the whole run, with many channels over it.
//!
//! A session verifies the host key, authenticates, and then runs commands, each on its own channel,
//! bounded so that OpenSSH's per-connection session limit (MaxSessions, 10 by default) is never hit.
//! A DMZ relay behind a bastion is reached through a `direct-tcpip` channel of the bastion's session.

use std::sync::Arc;
use std::time::Duration;

use russh::client::{self, Handle};
use tokio::sync::Semaphore;

use super::SshError;
use super::auth::Credentials;
use super::channel::{self, ExecOutput, OnSignal};
use super::escalation::{self, Become};
use super::held_command::HeldCommand;
use super::host_key_check::{HostKeyCheck, RefusalSlot};
use super::privileged_shell::{PrivilegedShell, SHELL_LOOP};
use super::sudo_password;
use super::target::{Endpoint, Target};

/// OpenSSH allows 10 sessions per connection; keep a margin for a concurrent check connection.
const CHANNELS_PER_CONNECTION: usize = 8;
/// How long to keep retrying a channel the server refused for lack of a free session slot.
const CHANNEL_OPEN_PATIENCE: Duration = Duration::from_secs(5);
/// Keepalives every 15 s; three unanswered ones close a dead connection.
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(15);

/// An authenticated connection to one host, opened by the run's [`super::Connector`] (which shares
/// jump hosts).
pub struct Session {
    handle: Handle<HostKeyCheck>,
    target: Target,
    channels: Arc<Semaphore>,
    /// The privileged shell every root command of the host goes through, started on first use
    /// (see [`PrivilegedShell`]).
    shell: tokio::sync::Mutex<Option<PrivilegedShell>>,
    /// The bastion's session, kept alive for as long as the tunnel through it is used; shared by
    /// every host behind the same bastion.
    _jump: Option<Arc<Session>>,
}

impl Session {
    /// Key exchange and authentication to `target`, over a TCP connection of our own or, when
    /// `jump` is given, over a `direct-tcpip` channel of the jump host's session.
    pub(super) async fn establish(
        target: &Target,
        credentials: &Credentials,
        jump: Option<Arc<Session>>,
    ) -> Result<Session, SshError> {
        let endpoint = &target.endpoint;
        let (handler, refusal) =
            HostKeyCheck::new(endpoint, &target.known_hosts, target.host_key_policy);
        let mut handle = match &jump {
            None => {
                let stream =
                    tokio::net::TcpStream::connect((endpoint.address.as_str(), endpoint.port))
                        .await
                        .map_err(|e| unreachable(endpoint, e))?;
                // Small request/response exchanges: Nagle's delay would add to every round trip.
                let _ = stream.set_nodelay(true);
                handshake(stream, handler, &refusal, endpoint).await?
            }
            Some(bastion) => {
                let channel = bastion
                    .handle
                    .channel_open_direct_tcpip(
                        endpoint.address.clone(),
                        u32::from(endpoint.port),
                        "127.0.0.1",
                        0,
                    )
                    .await
                    .map_err(|e| SshError::Jump {
                        jump: bastion.target.endpoint.to_string(),
                        source: Box::new(unreachable(endpoint, e)),
                    })?;
                handshake(channel.into_stream(), handler, &refusal, endpoint).await?
            }
        };
        credentials
            .authenticate(
                &mut handle,
                &endpoint.user,
                &endpoint.address,
                target.key_file.as_deref(),
            )
            .await?;
        Ok(Session {
            handle,
            target: target.clone(),
            channels: Arc::new(Semaphore::new(CHANNELS_PER_CONNECTION)),
            shell: tokio::sync::Mutex::new(None),
            _jump: jump,
        })
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    /// Runs a POSIX sh script as the login user.
    pub async fn run(&self, script: &str, stdin: &[u8]) -> Result<ExecOutput, SshError> {
        let command = escalation::wrap(script, &Become::No, "").command;
        self.exec_within(&command, stdin, self.target.command_timeout)
            .await
    }

    /// Runs a POSIX sh script as root through the target's become method. A refusal by sudo is an
    /// error of its own, distinct from the script failing.
    pub async fn run_privileged(&self, script: &str, stdin: &[u8]) -> Result<ExecOutput, SshError> {
        self.run_privileged_within(script, stdin, self.target.command_timeout)
            .await
    }

    /// [`Session::run_privileged`] with its own time limit (a package installation may need
    /// more than a probe).
    ///
    /// Every such command of the session goes to one privileged shell, started by the first: one
    /// sudo per host per run instead of one per command (sudo's PAM session and logging are the
    /// costliest part of a small command on the host), and for every step the guarantee that it
    /// runs only once its script and stdin arrived whole (`SHELL_LOOP`, in privileged_shell.rs).
    pub async fn run_privileged_within(
        &self,
        script: &str,
        stdin: &[u8],
        timeout: Duration,
    ) -> Result<ExecOutput, SshError> {
        let mut slot = self.shell.lock().await;
        let shell = match slot.take() {
            Some(shell) => shell,
            None => self.start_shell().await?,
        };
        let (shell, result) = shell.run(script, stdin, timeout, &self.target).await;
        *slot = shell;
        result
    }

    /// Starts the privileged shell: sudo once (when escalating), then the loop of [`SHELL_LOOP`].
    async fn start_shell(&self) -> Result<PrivilegedShell, SshError> {
        let permit = self
            .channels
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| SshError::Protocol(e.to_string()))?;
        // The loop prints nothing before its first job: nothing of what it printed is lost.
        let (channel, _) = self.start_privileged(SHELL_LOOP).await?;
        Ok(PrivilegedShell::new(channel, permit))
    }

    /// Runs one command line on a new channel, feeding `stdin`, within the command timeout. A command
    /// that overruns is killed, not left running on the host.
    pub async fn exec(&self, command: &str, stdin: &[u8]) -> Result<ExecOutput, SshError> {
        self.exec_within(command, stdin, self.target.command_timeout)
            .await
    }

    async fn exec_within(
        &self,
        command: &str,
        stdin: &[u8],
        timeout: Duration,
    ) -> Result<ExecOutput, SshError> {
        let _permit = self
            .channels
            .acquire()
            .await
            .map_err(|e| SshError::Protocol(e.to_string()))?;
        let mut channel = self.open_session_channel().await?;
        channel.exec(true, command).await?;
        if !stdin.is_empty() {
            channel.data_bytes(stdin.to_vec()).await?;
        }
        channel.eof().await?;

        channel::read_to_end(&mut channel, timeout, OnSignal::Status137).await
    }

    /// Starts `script` as root and keeps it running: returns once it printed the line `ready`
    /// (with everything it printed before), or fails if it ends or stays silent for `ready_within`.
    /// The command lives until [`HeldCommand::release`] closes its stdin, or until this
    /// connection ends, whichever comes first: a command meant to read its stdin to the end is
    /// never left behind on the host.
    pub async fn hold_privileged(
        &self,
        script: &str,
        ready: &str,
        ready_within: Duration,
    ) -> Result<(HeldCommand<'_>, String), SshError> {
        let permit = self
            .channels
            .acquire()
            .await
            .map_err(|e| SshError::Protocol(e.to_string()))?;
        let (channel, printed) = self.start_privileged(script).await?;
        HeldCommand::wait_ready(channel, permit, printed, ready, ready_within, &self.target).await
    }

    /// Opens a channel and starts `script` on it through the target's become method, the
    /// password (if any) given to sudo when it asks for it. The stdin stays open: the privileged
    /// shell reads its jobs from it, and a held command lives until it closes. Returns the
    /// channel and what the command already printed on stdout.
    async fn start_privileged(
        &self,
        script: &str,
    ) -> Result<(russh::Channel<client::Msg>, Vec<u8>), SshError> {
        let invocation = escalation::wrap(script, &self.target.escalation, &channel::nonce()?);
        let mut channel = self.open_session_channel().await?;
        channel.exec(true, invocation.command.as_str()).await?;
        let printed = match &invocation.password {
            Some(exchange) => sudo_password::exchange(&mut channel, exchange, &self.target).await?,
            None => Vec::new(),
        };
        Ok((channel, printed))
    }

    /// Opens a session channel. sshd frees a session slot only once it has reaped the command's
    /// process, a little after the channel closed on our side: under load (sudo's PAM sessions) a
    /// freshly freed permit can meet a full server. A refused open is retried briefly.
    async fn open_session_channel(&self) -> Result<russh::Channel<client::Msg>, SshError> {
        let mut delay = Duration::from_millis(5);
        let deadline = tokio::time::Instant::now() + CHANNEL_OPEN_PATIENCE;
        loop {
            match self.handle.channel_open_session().await {
                Err(russh::Error::ChannelOpenFailure(_))
                    if tokio::time::Instant::now() < deadline =>
                {
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_millis(200));
                }
                other => return Ok(other?),
            }
        }
    }

    /// Closes the connection politely.
    pub async fn close(self) {
        let _ = self
            .handle
            .disconnect(russh::Disconnect::ByApplication, "", "en")
            .await;
    }
}

fn client_config() -> client::Config {
    client::Config {
        keepalive_interval: Some(KEEPALIVE_INTERVAL),
        keepalive_max: 3,
        // Keep the default algorithm preferences: overriding kex disables the strict-KEX mitigation.
        ..Default::default()
    }
}

/// Key exchange over `stream`. A refused host key is reported with the handler's reason, not as the
/// bare protocol error russh returns for it.
async fn handshake<S>(
    stream: S,
    handler: HostKeyCheck,
    refusal: &RefusalSlot,
    endpoint: &Endpoint,
) -> Result<Handle<HostKeyCheck>, SshError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    client::connect_stream(Arc::new(client_config()), stream, handler)
        .await
        .map_err(|e| {
            refusal.take().unwrap_or_else(|| match e {
                russh::Error::IO(io) => unreachable(endpoint, io),
                other => SshError::Protocol(other.to_string()),
            })
        })
}

fn unreachable(endpoint: &Endpoint, reason: impl std::fmt::Display) -> SshError {
    SshError::Unreachable {
        address: format!("{}:{}", endpoint.address, endpoint.port),
        reason: reason.to_string(),
    }
}
