//! Host-key verification against an OpenSSH known_hosts file.
//!
//! Strict by default, as OpenSSH's `StrictHostKeyChecking=yes`; `accept-new` records the key of a host
//! that has none yet. A host whose recorded key differs from the one it offers is always refused, with
//! both fingerprints, so the operator can tell a reinstalled relay from a man in the middle.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use russh::keys::{HashAlg, PublicKey, known_hosts};

use super::SshError;

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

/// Serialises appends to known_hosts files: many hosts may be learned at once.
static LEARN_LOCK: Mutex<()> = Mutex::new(());

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
    // for OpenSSH.
    if let Err(e) = std::fs::File::open(path)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        return Verdict::Refused(SshError::KnownHostsUnreadable {
            path: path.to_path_buf(),
            reason: e.to_string(),
        });
    }
    let recorded = match known_hosts::known_host_keys_path(host, port, path) {
        Ok(recorded) => recorded,
        Err(e) => {
            return Verdict::Refused(SshError::KnownHostsUnreadable {
                path: path.to_path_buf(),
                reason: e.to_string(),
            });
        }
    };
    if recorded.iter().any(|(_, key)| key == offered) {
        return Verdict::Known;
    }
    let same_type = recorded
        .iter()
        .find(|(_, key)| key.algorithm() == offered.algorithm());
    let other_type = recorded.first();
    match (same_type, other_type) {
        (Some((line, key)), _) | (None, Some((line, key))) => {
            Verdict::Refused(SshError::HostKeyChanged {
                host: display_host(host, port),
                path: path.to_path_buf(),
                line: *line,
                recorded: format!("{} {}", key.algorithm(), fingerprint(key)),
                offered: format!("{} {}", offered.algorithm(), fingerprint(offered)),
            })
        }
        (None, None) => match policy {
            HostKeyPolicy::Strict => Verdict::Refused(SshError::HostKeyUnknown {
                host: display_host(host, port),
                path: path.to_path_buf(),
                offered: format!("{} {}", offered.algorithm(), fingerprint(offered)),
            }),
            HostKeyPolicy::AcceptNew => {
                let _guard = LEARN_LOCK
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                match known_hosts::learn_known_hosts_path(host, port, offered, path) {
                    Ok(()) => Verdict::Learned,
                    Err(e) => Verdict::Refused(SshError::KnownHostsUnreadable {
                        path: path.to_path_buf(),
                        reason: format!("cannot record the new key: {e}"),
                    }),
                }
            }
        },
    }
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
}
