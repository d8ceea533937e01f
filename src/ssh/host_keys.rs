//! Host-key verification against an OpenSSH known_hosts file.
//!
//! Strict by default, as OpenSSH's `StrictHostKeyChecking=yes`; `accept-new` records the key of a host
//! that has none yet. A host whose recorded key differs from the one it offers is always refused, with
//! both fingerprints, so the operator can tell a reinstalled relay from a man in the middle.
//!
//! Recording a key is one step under an exclusive `flock` on known_hosts, held from a second look
//! at the file to the append: another connection of this run, or another relayctl, that recorded
//! the host meanwhile is found there, and the key offered now is judged against its key (known if
//! the same, changed if not) instead of being recorded beside it. `~/.ssh` is made 0700 and a new
//! known_hosts 0600, as OpenSSH makes them.

use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, FileExt as _, MetadataExt as _, OpenOptionsExt as _};
use std::os::unix::io::AsRawFd as _;
use std::path::{Path, PathBuf};

use russh::keys::{HashAlg, PublicKey, known_hosts};

use super::SshError;
use crate::input::files::{self, ReadError};

/// What to do with a host that known_hosts does not list yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HostKeyPolicy {
    /// Refuse unknown hosts (OpenSSH `StrictHostKeyChecking=yes`).
    #[default]
    Strict,
    /// Record the key of a host that has no key yet; still refuse a changed key.
    AcceptNew,
}

/// The outcome of checking one offered key.
#[derive(Debug)]
pub enum Verdict {
    Known,
    Learned,
    Refused(SshError),
}

/// Times the lock is taken again when known_hosts was replaced while it was awaited.
const LOCK_ATTEMPTS: usize = 8;

/// The SHA-256 fingerprint in OpenSSH's notation (`SHA256:…`).
pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

/// Checks `offered` for `host:port` against `path` under `policy`.
pub fn verify(
    host: &str,
    port: u16,
    offered: &PublicKey,
    path: &Path,
    policy: HostKeyPolicy,
) -> Verdict {
    // russh reads a file it cannot open as an empty one: out of descriptors, or denied, every host
    // would be "unknown" (and with accept-new, recorded again). Only a missing file is empty, as
    // for OpenSSH. And it reads whatever it opens to the end: /dev/zero until memory runs out, a
    // FIFO until someone writes to it.
    match files::check_bounded(path, files::KNOWN_HOSTS) {
        Err(ReadError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Verdict::Refused(SshError::KnownHostsUnreadable {
                path: path.to_path_buf(),
                reason: e.to_string(),
            });
        }
        Ok(()) => {}
    }
    match judge(host, port, offered, path) {
        Some(verdict) => verdict,
        None => match policy {
            HostKeyPolicy::Strict => Verdict::Refused(SshError::HostKeyUnknown {
                host: display_host(host, port),
                path: path.to_path_buf(),
                offered: format!("{} {}", offered.algorithm(), fingerprint(offered)),
            }),
            HostKeyPolicy::AcceptNew => learn(host, port, offered, path),
        },
    }
}

/// `offered` against the keys `path` records for `host:port`; `None` when it records none.
fn judge(host: &str, port: u16, offered: &PublicKey, path: &Path) -> Option<Verdict> {
    let recorded = match known_hosts::known_host_keys_path(host, port, path) {
        Ok(recorded) => recorded,
        Err(e) => {
            return Some(Verdict::Refused(SshError::KnownHostsUnreadable {
                path: path.to_path_buf(),
                reason: e.to_string(),
            }));
        }
    };
    if recorded.iter().any(|(_, key)| key == offered) {
        return Some(Verdict::Known);
    }
    let same_type = recorded
        .iter()
        .find(|(_, key)| key.algorithm() == offered.algorithm());
    let (line, key) = same_type.or(recorded.first())?;
    Some(Verdict::Refused(SshError::HostKeyChanged {
        host: display_host(host, port),
        path: path.to_path_buf(),
        line: *line,
        recorded: format!("{} {}", key.algorithm(), fingerprint(key)),
        offered: format!("{} {}", offered.algorithm(), fingerprint(offered)),
    }))
}

/// Records `offered` for a host `path` had no key for when it was first read: under the lock,
/// the file is read again, and a key recorded meanwhile judges `offered` instead.
fn learn(host: &str, port: u16, offered: &PublicKey, path: &Path) -> Verdict {
    let cannot = |reason: String| {
        Verdict::Refused(SshError::KnownHostsUnreadable {
            path: path.to_path_buf(),
            reason: format!("cannot record the new key: {reason}"),
        })
    };
    let file = match lock(path) {
        Ok(file) => file,
        Err(e) => return cannot(e.to_string()),
    };
    if let Some(verdict) = judge(host, port, offered, path) {
        return verdict;
    }
    let key = match offered.to_openssh() {
        Ok(key) => key,
        Err(e) => return cannot(e.to_string()),
    };
    let mut line = format!("{} {key}\n", display_host(host, port));
    // A file whose last line has no end gets one first, or the new line would join it.
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut last = [0u8; 1];
    if size > 0 && file.read_at(&mut last, size - 1).is_ok() && last[0] != b'\n' {
        line.insert(0, '\n');
    }
    // One write in append mode: the line lands whole at the end.
    match (&file).write_all(line.as_bytes()) {
        Ok(()) => Verdict::Learned,
        Err(e) => cannot(e.to_string()),
    }
    // The lock goes with `file`, once the line is written.
}

/// known_hosts opened for appending (made 0600, in a directory made 0700, when missing) and
/// locked exclusively: by whole-file `flock`, which other relayctl processes take too, and
/// which two opens in one process contend for as well (each has its own open file).
fn lock(path: &Path) -> std::io::Result<std::fs::File> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && !dir.exists()
    {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    for _ in 0..LOCK_ATTEMPTS {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .mode(0o600)
            .custom_flags(libc::O_CLOEXEC)
            .open(path)?;
        loop {
            // SAFETY: flock only acts on the descriptor, which `file` owns and keeps open.
            if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } == 0 {
                break;
            }
            let error = std::io::Error::last_os_error();
            if error.kind() != std::io::ErrorKind::Interrupted {
                return Err(error);
            }
        }
        // A file replaced while the lock was awaited (`ssh-keygen -R` writes a new one and
        // renames it) is locked in vain: the next writer locks the new one.
        let (locked, now) = (file.metadata()?, std::fs::metadata(path)?);
        if (locked.dev(), locked.ino()) == (now.dev(), now.ino()) {
            return Ok(file);
        }
    }
    Err(std::io::Error::other(
        "it was replaced each time it was locked",
    ))
}

/// The default known_hosts file, as OpenSSH's: `~/.ssh/known_hosts`.
pub fn default_known_hosts() -> PathBuf {
    std::env::home_dir()
        .unwrap_or_else(|| PathBuf::from("/root"))
        .join(".ssh")
        .join("known_hosts")
}

fn display_host(host: &str, port: u16) -> String {
    if port == 22 {
        host.to_string()
    } else {
        format!("[{host}]:{port}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_A: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3aLq454yWBdwLWbieU1ebz9/cu7/QEXn9OIeZJ";
    const KEY_B: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIA6rWI3G2sz07DnfFlrouTcysQlj2P+jpNSOEWD9OJ3X";

    fn key(b64: &str) -> PublicKey {
        russh::keys::parse_public_key_base64(b64).expect("test key parses")
    }

    fn known_hosts_with(line: &str) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().expect("temp file");
        std::fs::write(file.path(), line).expect("write known_hosts");
        file
    }

    #[test]
    fn a_known_hosts_file_that_cannot_be_opened_is_an_error_not_an_unknown_host() {
        let file = known_hosts_with("");
        // A path below a regular file: open fails, and not with "not found".
        let path = file.path().join("known_hosts");
        for policy in [HostKeyPolicy::Strict, HostKeyPolicy::AcceptNew] {
            let verdict = verify("10.0.0.1", 22, &key(KEY_A), &path, policy);
            assert!(
                matches!(
                    verdict,
                    Verdict::Refused(SshError::KnownHostsUnreadable { .. })
                ),
                "{policy:?}: {verdict:?}"
            );
        }
        // A missing file is an empty one.
        let missing = std::env::temp_dir().join("relayctl-no-such-known-hosts");
        let verdict = verify("10.0.0.1", 22, &key(KEY_A), &missing, HostKeyPolicy::Strict);
        assert!(
            matches!(verdict, Verdict::Refused(SshError::HostKeyUnknown { .. })),
            "{verdict:?}"
        );
    }

    /// russh would read each of these to its end: /dev/zero until memory runs out, a FIFO until
    /// something writes to it, a huge file for as long as it takes, on every connection.
    #[test]
    fn a_known_hosts_that_is_no_regular_file_or_too_large_is_refused_without_reading_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let fifo = dir.path().join("fifo");
        let name = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).expect("path");
        // SAFETY: mkfifo reads the NUL-terminated path it is given and nothing else.
        assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
        let huge = dir.path().join("huge");
        // Sparse: as large as it says, without writing it.
        std::fs::File::create(&huge)
            .and_then(|f| f.set_len(files::KNOWN_HOSTS.bytes + 1))
            .expect("huge file");
        let cases = [
            (
                Path::new("/dev/zero"),
                "it is a character device, not a regular file",
            ),
            (
                fifo.as_path(),
                "it is a FIFO (named pipe), not a regular file",
            ),
            (
                huge.as_path(),
                "it is larger than 64 MiB, more than a known_hosts file may hold",
            ),
        ];
        for (path, why) in cases {
            for policy in [HostKeyPolicy::Strict, HostKeyPolicy::AcceptNew] {
                match verify("10.0.0.1", 22, &key(KEY_A), path, policy) {
                    Verdict::Refused(SshError::KnownHostsUnreadable { reason, .. }) => {
                        assert!(reason.starts_with(why), "{}: {reason}", path.display());
                    }
                    verdict => panic!("{}, {policy:?}: {verdict:?}", path.display()),
                }
            }
        }
        assert_eq!(
            std::fs::metadata(&huge).expect("huge").len(),
            files::KNOWN_HOSTS.bytes + 1
        );
    }

    #[test]
    fn a_recorded_key_is_known() {
        let file = known_hosts_with(&format!("10.0.0.1 ssh-ed25519 {KEY_A}\n"));
        let verdict = verify(
            "10.0.0.1",
            22,
            &key(KEY_A),
            file.path(),
            HostKeyPolicy::Strict,
        );
        assert!(matches!(verdict, Verdict::Known), "{verdict:?}");
    }

    #[test]
    fn a_changed_key_is_refused_with_both_fingerprints_even_with_accept_new() {
        let file = known_hosts_with(&format!("# comment\n10.0.0.1 ssh-ed25519 {KEY_A}\n"));
        let verdict = verify(
            "10.0.0.1",
            22,
            &key(KEY_B),
            file.path(),
            HostKeyPolicy::AcceptNew,
        );
        let Verdict::Refused(err) = verdict else {
            panic!("changed key accepted: {verdict:?}")
        };
        let message = err.to_string();
        assert!(message.contains(&fingerprint(&key(KEY_A))), "{message}");
        assert!(message.contains(&fingerprint(&key(KEY_B))), "{message}");
        assert!(
            message.contains(":1"),
            "names the known_hosts line: {message}"
        );
    }

    #[test]
    fn an_unknown_host_is_refused_when_strict_and_learned_with_accept_new() {
        let file = known_hosts_with(&format!("10.0.0.9 ssh-ed25519 {KEY_A}\n"));
        let strict = verify(
            "10.0.0.1",
            2222,
            &key(KEY_B),
            file.path(),
            HostKeyPolicy::Strict,
        );
        assert!(
            matches!(strict, Verdict::Refused(SshError::HostKeyUnknown { .. })),
            "{strict:?}"
        );
        let learned = verify(
            "10.0.0.1",
            2222,
            &key(KEY_B),
            file.path(),
            HostKeyPolicy::AcceptNew,
        );
        assert!(matches!(learned, Verdict::Learned), "{learned:?}");
        let again = verify(
            "10.0.0.1",
            2222,
            &key(KEY_B),
            file.path(),
            HostKeyPolicy::Strict,
        );
        assert!(matches!(again, Verdict::Known), "{again:?}");
        let text = std::fs::read_to_string(file.path()).expect("read back");
        assert!(text.contains("[10.0.0.1]:2222 ssh-ed25519 "), "{text}");
    }

    #[test]
    fn a_known_hosts_made_by_accept_new_is_0600_in_a_0700_ssh_directory() {
        use std::os::unix::fs::PermissionsExt;
        let home = tempfile::tempdir().expect("tmp");
        let path = home.path().join(".ssh/known_hosts");
        let learned = verify("10.0.0.1", 22, &key(KEY_A), &path, HostKeyPolicy::AcceptNew);
        assert!(matches!(learned, Verdict::Learned), "{learned:?}");
        let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode(&home.path().join(".ssh")), 0o700);
        assert_eq!(mode(&path), 0o600);
        // The operator's own file keeps its mode.
        let theirs = known_hosts_with(&format!("10.0.0.9 ssh-ed25519 {KEY_B}"));
        std::fs::set_permissions(theirs.path(), std::fs::Permissions::from_mode(0o644))
            .expect("chmod");
        let learned = verify(
            "10.0.0.1",
            22,
            &key(KEY_A),
            theirs.path(),
            HostKeyPolicy::AcceptNew,
        );
        assert!(matches!(learned, Verdict::Learned), "{learned:?}");
        assert_eq!(mode(theirs.path()), 0o644);
        let text = std::fs::read_to_string(theirs.path()).expect("read");
        assert_eq!(
            text,
            format!("10.0.0.9 ssh-ed25519 {KEY_B}\n10.0.0.1 ssh-ed25519 {KEY_A}\n"),
            "appended on a line of its own"
        );
    }

    /// What went wrong in a try, if anything: the racers' verdicts (sorted) are not `expected`,
    /// or `path` does not record exactly one key for the new host.
    fn wrong_try<S: AsRef<str> + std::fmt::Debug>(
        attempt: usize,
        verdicts: &[S],
        expected: [&str; 2],
        path: &Path,
    ) -> Option<String> {
        let recorded = known_hosts::known_host_keys_path("10.0.0.7", 22, path)
            .expect("known_hosts parses")
            .len();
        let judged: Vec<&str> = verdicts.iter().map(AsRef::as_ref).collect();
        (judged != expected || recorded != 1)
            .then(|| format!("try {attempt}: {verdicts:?}, {recorded} keys recorded"))
    }

    fn assert_every_try_right(wrong: &[String]) {
        let tries = wrong.join("\n");
        assert!(wrong.is_empty(), "{} of 200 tries:\n{tries}", wrong.len());
    }

    /// How a racer was judged, in a word.
    fn word(verdict: &Verdict) -> &'static str {
        match verdict {
            Verdict::Known => "known",
            Verdict::Learned => "learned",
            Verdict::Refused(SshError::HostKeyChanged { .. }) => "changed",
            Verdict::Refused(_) => "refused",
        }
    }

    #[test]
    fn two_connections_racing_to_learn_one_new_host_record_one_key_and_judge_the_other_by_it() {
        let mut wrong = Vec::new();
        for attempt in 0..200 {
            let dir = tempfile::tempdir().expect("tmp");
            let path = dir.path().join("known_hosts");
            // Half the tries offer one key twice (a relay and a second connection to it), half
            // two keys (a relay and whoever answers for its address too).
            let offered = if attempt % 2 == 0 {
                [KEY_A, KEY_B]
            } else {
                [KEY_A, KEY_A]
            };
            let barrier = std::sync::Barrier::new(2);
            let mut verdicts: Vec<&str> = std::thread::scope(|scope| {
                let racers: Vec<_> = offered
                    .iter()
                    .map(|b64| {
                        let (barrier, path) = (&barrier, &path);
                        scope.spawn(move || {
                            barrier.wait();
                            let verdict =
                                verify("10.0.0.7", 22, &key(b64), path, HostKeyPolicy::AcceptNew);
                            word(&verdict)
                        })
                    })
                    .collect();
                racers
                    .into_iter()
                    .map(|r| r.join().expect("racer"))
                    .collect()
            });
            verdicts.sort();
            let expected = if offered[0] == offered[1] {
                ["known", "learned"]
            } else {
                ["changed", "learned"]
            };
            wrong.extend(wrong_try(attempt, &verdicts, expected, &path));
        }
        assert_every_try_right(&wrong);
    }

    /// Set by [`two_relayctl_processes_learning_one_new_host_record_one_key`] for the copies of
    /// this test binary it starts: `PATH\nKEY\nSTART` (nanoseconds since the epoch).
    const RACER: &str = "RELAYCTL_TEST_KNOWN_HOSTS_RACER";

    #[test]
    fn two_relayctl_processes_learning_one_new_host_record_one_key() {
        if let Ok(spec) = std::env::var(RACER) {
            // A racer: waits for the common start, learns, says how it was judged.
            let mut lines = spec.lines();
            let (path, b64, start) = (
                PathBuf::from(lines.next().expect("path")),
                lines.next().expect("key").to_string(),
                lines.next().expect("start").parse::<u128>().expect("start"),
            );
            let now = || {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .expect("clock")
                    .as_nanos()
            };
            while now() < start {
                std::hint::spin_loop();
            }
            let verdict = verify("10.0.0.7", 22, &key(&b64), &path, HostKeyPolicy::AcceptNew);
            println!("racer: {}", word(&verdict));
            return;
        }
        let exe = std::env::current_exe().expect("the test binary");
        let name =
            "ssh::host_keys::tests::two_relayctl_processes_learning_one_new_host_record_one_key";
        let mut wrong = Vec::new();
        for attempt in 0..200 {
            let dir = tempfile::tempdir().expect("tmp");
            let path = dir.path().join("known_hosts");
            let start = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("clock")
                .as_nanos()
                + 15_000_000;
            let racers: Vec<std::process::Child> = [KEY_A, KEY_B]
                .iter()
                .map(|b64| {
                    std::process::Command::new(&exe)
                        .args(["--exact", name, "--nocapture", "--test-threads=1"])
                        .env(RACER, format!("{}\n{b64}\n{start}", path.display()))
                        .stdout(std::process::Stdio::piped())
                        .stderr(std::process::Stdio::null())
                        .spawn()
                        .expect("a racer starts")
                })
                .collect();
            let mut verdicts: Vec<String> = racers
                .into_iter()
                .map(|racer| {
                    let output = racer.wait_with_output().expect("a racer ends");
                    String::from_utf8_lossy(&output.stdout)
                        .lines()
                        // After libtest's "test NAME ... " on the same line.
                        .find_map(|l| l.split_once("racer: ").map(|(_, verdict)| verdict))
                        .unwrap_or("no verdict")
                        .to_string()
                })
                .collect();
            verdicts.sort();
            wrong.extend(wrong_try(attempt, &verdicts, ["changed", "learned"], &path));
        }
        assert_every_try_right(&wrong);
    }
}
