//! One SSH connection to one host for the whole run, with many channels over it.
//!
//! A session verifies the host key, authenticates, and then runs commands, each on its own channel,
//! bounded so that OpenSSH's per-connection session limit (MaxSessions, 10 by default) is never hit.
//! A DMZ relay behind a bastion is reached through a `direct-tcpip` channel of the bastion's session.

use std::sync::Arc;
use std::time::Duration;

use russh::client::{self, Handle};
use russh::{ChannelMsg, Sig};
use tokio::sync::Semaphore;

use super::SshError;
use super::auth::Credentials;
use super::escalation::{self, Become};
use super::host_key_check::{HostKeyCheck, RefusalSlot};
use super::target::{Endpoint, Target};

/// OpenSSH allows 10 sessions per connection; keep a margin for a concurrent check connection.
const CHANNELS_PER_CONNECTION: usize = 8;
/// How long to keep retrying a channel the server refused for lack of a free session slot.
const CHANNEL_OPEN_PATIENCE: Duration = Duration::from_secs(5);
/// Keepalives every 15 s; three unanswered ones close a dead connection.
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(15);

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

/// An authenticated connection to one host.
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
    /// Connects to `target` (through its own connection to its jump host, if any), verifies the
    /// host key and authenticates, all within the connect timeout. A run uses a [`Connector`], which
    /// shares jump hosts.
    ///
    /// [`Connector`]: super::Connector
    pub async fn connect(
        target: &Target,
        credentials: Arc<Credentials>,
    ) -> Result<Session, SshError> {
        super::Connector::new(credentials).connect(target).await
    }

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
        self.run_with(script, stdin, &Become::No, self.target.command_timeout)
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
    /// runs only once its script and stdin arrived whole ([`SHELL_LOOP`]).
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
        let invocation = escalation::wrap(SHELL_LOOP, &self.target.escalation);
        let permit = self
            .channels
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| SshError::Protocol(e.to_string()))?;
        let channel = self.open_session_channel().await?;
        channel.exec(true, invocation.command.as_str()).await?;
        if let Some(prefix) = &invocation.stdin_prefix {
            channel
                .data_bytes(prefix.expose().as_bytes().to_vec())
                .await?;
        }
        Ok(PrivilegedShell {
            channel,
            _permit: permit,
        })
    }

    async fn run_with(
        &self,
        script: &str,
        stdin: &[u8],
        escalation: &Become,
        timeout: Duration,
    ) -> Result<ExecOutput, SshError> {
        let invocation = escalation::wrap(script, escalation);
        let mut input = Vec::new();
        if let Some(prefix) = &invocation.stdin_prefix {
            input.extend_from_slice(prefix.expose().as_bytes());
        }
        input.extend_from_slice(stdin);
        let output = self
            .exec_within(&invocation.command, &input, timeout)
            .await?;
        if output.exit_status != 0
            && let Some(refusal) = escalation::sudo_refusal(
                escalation,
                output.exit_status,
                &output.stderr_text(),
                &self.target.endpoint.user,
            )
        {
            return Err(refusal);
        }
        Ok(output)
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
                    ChannelMsg::ExitSignal { signal_name, .. } => {
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
            // Closing alone leaves the remote command running: kill it first.
            let _ = channel.signal(Sig::KILL).await;
            let _ = channel.close().await;
            return Err(SshError::CommandTimeout { timeout });
        }
        let exit_status = exit_status.ok_or(SshError::NoExitStatus)?;
        Ok(ExecOutput {
            exit_status,
            stdout,
            stderr,
        })
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
        let invocation = escalation::wrap(script, &self.target.escalation);
        let permit = self
            .channels
            .acquire()
            .await
            .map_err(|e| SshError::Protocol(e.to_string()))?;
        let mut channel = self.open_session_channel().await?;
        channel.exec(true, invocation.command.as_str()).await?;
        if let Some(prefix) = &invocation.stdin_prefix {
            channel
                .data_bytes(prefix.expose().as_bytes().to_vec())
                .await?;
        }
        let mut stdout = Vec::new();
        let mut stderr = Vec::new();
        let waited = tokio::time::timeout(ready_within, async {
            while let Some(message) = channel.wait().await {
                match message {
                    ChannelMsg::Data { data } => {
                        stdout.extend_from_slice(&data);
                        let text = String::from_utf8_lossy(&stdout);
                        if text.lines().any(|line| line == ready) {
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
                let _ = channel.signal(Sig::KILL).await;
                let _ = channel.close().await;
                let stderr = String::from_utf8_lossy(&stderr).trim().to_string();
                if let Some(refusal) = escalation::sudo_refusal(
                    &self.target.escalation,
                    1,
                    &stderr,
                    &self.target.endpoint.user,
                ) {
                    return Err(refusal);
                }
                Err(SshError::Protocol(match outcome {
                    Err(_) => format!("no `{ready}` within {} s: {stderr}", ready_within.as_secs()),
                    _ => format!("ended before `{ready}`: {stdout}{stderr}"),
                }))
            }
        }
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

/// The loop of the privileged shell, run by `sh -c` (under sudo, unless the login is root's).
/// Each job comes on stdin as a line `NONCE SCRIPT_LENGTH STDIN_LENGTH`, then the job's stdin,
/// then its script ([`frame_job`]). The loop reads each part exactly (`read` takes its line byte by
/// byte, `head -c` exactly its count, so nothing of the next job is consumed early) into a file,
/// runs the script with the stdin file, then prints `\x1dNONCE STATUS` on stdout and `\x1dNONCE`
/// on stderr. `$1` is the login's SSH_CONNECTION, passed on to every job as it was to a sudo of
/// its own.
///
/// A job cut short (the controller went away) never runs: the script comes last and is one brace
/// group, which sh parses whole before running any of it, so a cut anywhere (the group left open)
/// is a syntax error; cut before it, the script is empty and the loop ends. And a script that
/// arrived whole proves its stdin arrived whole before it: a step needs no size check of its own
/// data.
///
/// Spawns are what a job costs the host: one `head` per part. The script runs in a subshell of
/// the loop (a fork, no exec of a new `sh`): its variables, `exit`, `set` and traps stay its own
/// (a subshell starts with the default traps), and `.` parses the brace group whole, as `sh`
/// would. The job files are named by the loop's PID in /run (only root writes there); a login
/// user's loop (no root, facts only) takes `mktemp` names instead.
const SHELL_LOOP: &str = r#"if [ -w /run ]; then S=/run/relayctl-job.$$ I=/run/relayctl-job.$$.in
else S=$(mktemp) && I=$(mktemp) || exit 1; fi
trap 'rm -f "$S" "$I"' EXIT
trap 'exit 1' HUP INT TERM PIPE
while IFS=' ' read -r n slen dlen; do
  if [ "$dlen" = 0 ]; then
    head -c "$slen" >"$S" && [ -s "$S" ] || exit 1
    (. "$S") </dev/null
  else
    head -c "$dlen" >"$I" && head -c "$slen" >"$S" && [ -s "$S" ] || exit 1
    (. "$S") <"$I"
  fi
  r=$?
  [ "$dlen" = 0 ] || : >"$I"
  printf '\035%s %s\n' "$n" "$r"
  printf '\035%s\n' "$n" >&2
done
"#;

/// One job of the privileged shell, as [`SHELL_LOOP`] reads it: the header, the stdin, then the
/// script as one brace group (see there why).
fn frame_job(nonce: &str, script: &str, stdin: &[u8]) -> Vec<u8> {
    let framed = format!("{{\n{script}\n}}\n");
    let mut job = format!("{nonce} {} {}\n", framed.len(), stdin.len()).into_bytes();
    job.extend_from_slice(stdin);
    job.extend_from_slice(framed.as_bytes());
    job
}

/// One root shell for the whole session ([`Session::run_privileged_within`]), running the
/// host's privileged commands one after the other.
struct PrivilegedShell {
    channel: russh::Channel<client::Msg>,
    _permit: tokio::sync::OwnedSemaphorePermit,
}

impl PrivilegedShell {
    /// Runs one job; gives the shell back unless it is no longer usable (it ended, or the job
    /// overran and was killed with it).
    async fn run(
        mut self,
        script: &str,
        stdin: &[u8],
        timeout: Duration,
        target: &Target,
    ) -> (Option<PrivilegedShell>, Result<ExecOutput, SshError>) {
        let mut nonce_bytes = [0u8; 8];
        if getrandom::fill(&mut nonce_bytes).is_err() {
            return (
                None,
                Err(SshError::Protocol("no randomness for a job marker".into())),
            );
        }
        let nonce: String = nonce_bytes.iter().map(|b| format!("{b:02x}")).collect();
        let job = frame_job(&nonce, script, stdin);
        if let Err(e) = self.channel.data_bytes(job).await {
            return (None, Err(e.into()));
        }
        let out_marker = format!("\x1d{nonce} ");
        let err_marker = format!("\x1d{nonce}\n");
        let mut stdout = Vec::new();
        let mut stderr = Vec::new();
        let mut status: Option<u32> = None;
        let mut stderr_done = false;
        let mut ended: Option<u32> = None;
        let read = tokio::time::timeout(timeout, async {
            while status.is_none() || !stderr_done {
                match self.channel.wait().await {
                    Some(ChannelMsg::Data { data }) => {
                        stdout.extend_from_slice(&data);
                        if let Some(at) = find_marker(&stdout, out_marker.as_bytes()) {
                            let line = String::from_utf8_lossy(&stdout[at + out_marker.len()..]);
                            if let Some(code) = line.strip_suffix('\n') {
                                status = Some(code.trim().parse().unwrap_or(255));
                                stdout.truncate(at);
                            }
                        }
                    }
                    Some(ChannelMsg::ExtendedData { data, ext: 1 }) => {
                        stderr.extend_from_slice(&data);
                        if stderr.ends_with(err_marker.as_bytes()) {
                            stderr.truncate(stderr.len() - err_marker.len());
                            stderr_done = true;
                        }
                    }
                    Some(ChannelMsg::ExitStatus { exit_status }) => ended = Some(exit_status),
                    Some(_) => {}
                    None => return false,
                }
            }
            true
        })
        .await;
        match read {
            Ok(true) => (
                Some(self),
                Ok(ExecOutput {
                    exit_status: status.unwrap_or(255),
                    stdout,
                    stderr,
                }),
            ),
            Ok(false) => {
                // The shell ended before the job did: sudo refused, or the shell was killed.
                let text = String::from_utf8_lossy(&stderr).trim().to_string();
                let code = ended.unwrap_or(1);
                let error = escalation::sudo_refusal(
                    &target.escalation,
                    code,
                    &text,
                    &target.endpoint.user,
                )
                .unwrap_or_else(|| {
                    SshError::Protocol(format!(
                        "the privileged shell ended (status {code}): {text}"
                    ))
                });
                (None, Err(error))
            }
            Err(_) => {
                // Closing alone leaves the job running: kill it, and the shell with it.
                let _ = self.channel.signal(Sig::KILL).await;
                let _ = self.channel.close().await;
                (None, Err(SshError::CommandTimeout { timeout }))
            }
        }
    }
}

/// Where the job's end marker starts in `output`, once its line is there: the marker ends the
/// output (the shell waits for the next job after it), so only the tail is searched. The nonce
/// makes it unique: the job's own output cannot contain it, with or without a final newline.
fn find_marker(output: &[u8], marker: &[u8]) -> Option<usize> {
    // The marker, a status of at most three digits, the newline.
    let tail = output.len().saturating_sub(marker.len() + 5);
    output[tail..]
        .windows(marker.len())
        .rposition(|window| window == marker)
        .map(|at| tail + at)
}

/// A command started by [`Session::hold_privileged`], still running on the host.
pub struct HeldCommand<'a> {
    channel: russh::Channel<client::Msg>,
    _permit: tokio::sync::SemaphorePermit<'a>,
}

impl HeldCommand<'_> {
    /// Closes the command's stdin, which ends it, and waits for it to exit (within `within`,
    /// else it is killed): its exit status and what it printed since it was ready.
    pub async fn release(mut self, within: Duration) -> Result<ExecOutput, SshError> {
        self.channel.eof().await?;
        let mut stdout = Vec::new();
        let mut stderr = Vec::new();
        let mut exit_status = None;
        let drained = tokio::time::timeout(within, async {
            while let Some(message) = self.channel.wait().await {
                match message {
                    ChannelMsg::Data { data } => stdout.extend_from_slice(&data),
                    ChannelMsg::ExtendedData { data, ext: 1 } => stderr.extend_from_slice(&data),
                    ChannelMsg::ExitStatus {
                        exit_status: status,
                    } => exit_status = Some(status),
                    _ => {}
                }
            }
        })
        .await;
        if drained.is_err() {
            let _ = self.channel.signal(Sig::KILL).await;
            let _ = self.channel.close().await;
            return Err(SshError::CommandTimeout { timeout: within });
        }
        Ok(ExecOutput {
            exit_status: exit_status.ok_or(SshError::NoExitStatus)?,
            stdout,
            stderr,
        })
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

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::process::{Command, Stdio};

    use super::*;

    fn job(nonce: &str, script: &str, stdin: &[u8]) -> Vec<u8> {
        frame_job(nonce, script, stdin)
    }

    fn run_loop(input: &[u8]) -> (String, String) {
        let mut shell = Command::new("sh")
            .args(["-c", SHELL_LOOP, "relayctl", "10.0.0.1 5000 10.0.0.2 22"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("sh runs");
        shell
            .stdin
            .take()
            .expect("stdin")
            .write_all(input)
            .expect("written");
        let mut out = String::new();
        let mut err = String::new();
        shell
            .stdout
            .take()
            .expect("stdout")
            .read_to_string(&mut out)
            .expect("read");
        shell
            .stderr
            .take()
            .expect("stderr")
            .read_to_string(&mut err)
            .expect("read");
        shell.wait().expect("exits");
        (out, err)
    }

    #[test]
    fn the_privileged_shell_runs_jobs_with_exactly_their_stdin() {
        let mut input = job("a1", "head -c 2; echo; exit 3\n", b"xyz-not-read");
        input.extend(job("b2", "echo \"$1\"; echo oops >&2\n", b""));
        input.extend(job("c3", "printf 'no newline'\n", b""));
        let (out, err) = run_loop(&input);
        assert_eq!(
            out,
            "xy\n\x1da1 3\n10.0.0.1 5000 10.0.0.2 22\n\x1db2 0\nno newline\x1dc3 0\n"
        );
        assert_eq!(err, "\x1da1\noops\n\x1db2\n\x1dc3\n");
        let marker = b"\x1dc3 ";
        let output = b"no newline\x1dc3 0\n";
        assert_eq!(find_marker(output, marker), Some(10));
    }

    #[test]
    fn a_job_leaves_nothing_behind_in_the_loop() {
        // The loop's own file names, a variable, an EXIT trap, `set -e`, a working directory:
        // all the job's own, gone with its subshell.
        let mut input = job(
            "e5",
            "S=/nonexistent I=/nonexistent leak=yes; trap 'echo trap-ran' EXIT; set -e; cd /; \
             false; echo not-reached\n",
            b"",
        );
        input.extend(job(
            "f6",
            "echo \"${leak:-none} $(pwd)\"; exit 7\n",
            b"data",
        ));
        input.extend(job("g7", "cat\n", b"more"));
        let (out, err) = run_loop(&input);
        let cwd = std::env::current_dir().expect("cwd");
        assert_eq!(
            out,
            format!(
                "trap-ran\n\x1de5 1\nnone {}\n\x1df6 7\nmore\x1dg7 0\n",
                cwd.display()
            )
        );
        assert_eq!(err, "\x1de5\n\x1df6\n\x1dg7\n");
    }

    #[test]
    fn a_job_cut_short_is_never_run() {
        let marker = std::env::temp_dir().join(format!("relayctl-cut-{}", std::process::id()));
        // Were it run, what arrived would still create the file.
        let script = format!("touch {}\n# the rest of the script\n", marker.display());
        let stdin = [b'x'; 100];
        let whole = job("d4", &script, &stdin);
        let script_starts = whole.len() - script.len() - 4;
        // The controller went away in the middle of the stdin, of the script, or just before
        // the script's end.
        for cut in [30, script_starts + 10, whole.len() - 8, whole.len() - 2] {
            let (out, err) = run_loop(&whole[..cut]);
            assert!(
                !marker.exists(),
                "cut at {cut} of {}: the job ran",
                whole.len()
            );
            // sh refused the open group; nobody reads that answer, but it is not a success.
            assert!(!out.contains("\x1dd4 0"), "cut at {cut}: {out:?} {err:?}");
        }
        // Whole, it runs (so the cuts above prove the framing, not a broken job).
        let (out, _) = run_loop(&whole);
        assert_eq!(out, "\x1dd4 0\n");
        assert!(marker.exists());
        std::fs::remove_file(&marker).expect("removed");
    }
}
