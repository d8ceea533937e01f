//! The one root shell of a session: the host's privileged commands run as its jobs, one after the
//! other, so that a host costs one sudo per run, not one per command.

use std::time::Duration;

use russh::ChannelMsg;
use russh::client;

use super::SshError;
use super::channel::{self, ExecOutput};
use super::escalation;
use super::target::Target;

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
/// user's loop (no root, facts only) takes `mktemp` names instead. They are private (umask 077):
/// a job's stdin may be a password's hash on its way to `chpasswd -e`. Jobs inherit that umask;
/// the engine's batches set their own (022) for the files their steps create.
pub(super) const SHELL_LOOP: &str = r#"umask 077
if [ -w /run ]; then S=/run/relayctl-job.$$ I=/run/relayctl-job.$$.in
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
///
/// [`Session::run_privileged_within`]: super::Session::run_privileged_within
pub(super) struct PrivilegedShell {
    channel: russh::Channel<client::Msg>,
    _permit: tokio::sync::OwnedSemaphorePermit,
}

impl PrivilegedShell {
    /// The shell running [`SHELL_LOOP`] on `channel`, which keeps `permit` (its channel slot).
    pub(super) fn new(
        channel: russh::Channel<client::Msg>,
        permit: tokio::sync::OwnedSemaphorePermit,
    ) -> Self {
        PrivilegedShell {
            channel,
            _permit: permit,
        }
    }

    /// Runs one job; gives the shell back unless it is no longer usable (it ended, or the job
    /// overran and was killed with it).
    pub(super) async fn run(
        mut self,
        script: &str,
        stdin: &[u8],
        timeout: Duration,
        target: &Target,
    ) -> (Option<PrivilegedShell>, Result<ExecOutput, SshError>) {
        let nonce = match channel::nonce() {
            Ok(nonce) => nonce,
            Err(e) => return (None, Err(e)),
        };
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
        // Not `channel::read_to_end`: the channel is the shell's and stays open for the next job,
        // so a job ends at its two markers, and the channel's end means the shell itself ended.
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
                let text = target
                    .escalation
                    .mask(String::from_utf8_lossy(&stderr).trim());
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
                channel::kill(&self.channel).await;
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
    fn a_jobs_stdin_file_is_readable_by_root_alone() {
        let (out, _) = run_loop(&job(
            "h8",
            "stat -c %a \"$I\"; cat >/dev/null\n",
            b"medulla:$y$j9T$hash",
        ));
        assert_eq!(out, "600\n\x1dh8 0\n");
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
