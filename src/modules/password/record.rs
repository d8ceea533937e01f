//! The record kept beside a password file (`…applied`, 0600): the file's identity when its secret
//! was read (device, inode, size, mtime and ctime in ns) and the hashes relayctl set from it,
//! nothing derived from the secret. It tells a later run, without hashing, that the host still
//! has what the file holds; any write to the file, or a `passwd` on the host, and it no longer
//! does.

use std::path::{Path, PathBuf};

use crate::input::files;
use crate::modules::ControllerFile;
use crate::secret::Secret;

/// The header of a record: a record of another form (an older relayctl's) is no one's.
const RECORD_HEADER: &str = "relayctl password record 2";

/// Hashes a record keeps for one file, the newest last: relays added to a shared file over
/// several runs each got the hash of their run, and all stay current.
const RECORD_HASHES: usize = 64;

/// What tells one version of a file from another without reading it: any write changes the
/// ctime (and maybe the size), a replacement the inode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileIdentity {
    dev: u64,
    ino: u64,
    size: u64,
    mtime_ns: i128,
    ctime_ns: i128,
}

impl FileIdentity {
    fn of(meta: &std::fs::Metadata) -> Self {
        use std::os::unix::fs::MetadataExt;
        let ns = |s: i64, n: i64| i128::from(s) * 1_000_000_000 + i128::from(n);
        FileIdentity {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mtime_ns: ns(meta.mtime(), meta.mtime_nsec()),
            ctime_ns: ns(meta.ctime(), meta.ctime_nsec()),
        }
    }

    /// The record's line for it.
    fn line(&self) -> String {
        format!(
            "file {} {} {} {} {}",
            self.dev, self.ino, self.size, self.mtime_ns, self.ctime_ns
        )
    }
}

/// True when the record beside `file` says `hash` was set from the file as `identity` says it is.
pub(super) fn holds(file: &Path, identity: &FileIdentity, hash: &str) -> bool {
    read_record(&record_path(file))
        .is_some_and(|(line, hashes)| line == identity.line() && hashes.iter().any(|h| h == hash))
}

/// The record beside `file` once `hash` is set from it, as `identity` says it is.
pub(super) fn with_hash(file: &Path, identity: &FileIdentity, hash: &str) -> ControllerFile {
    let path = record_path(file);
    let line = identity.line();
    // The hashes already set from this very file stay current beside the new one.
    let mut hashes = match read_record(&path) {
        Some((recorded, hashes)) if recorded == line => hashes,
        _ => Vec::new(),
    };
    hashes.retain(|h| h != hash);
    hashes.push(hash.to_string());
    let keep_from = hashes.len().saturating_sub(RECORD_HASHES);
    let mut text = format!("{RECORD_HEADER}\n{line}\n");
    for hash in &hashes[keep_from..] {
        text.push_str(hash);
        text.push('\n');
    }
    ControllerFile {
        path,
        content: Secret::new(text),
    }
}

fn record_path(file: &Path) -> PathBuf {
    let mut name = file.file_name().unwrap_or_default().to_os_string();
    name.push(".applied");
    file.with_file_name(name)
}

/// A record's file identity line and its hashes; `None` when there is none, or one of another
/// form.
fn read_record(path: &Path) -> Option<(String, Vec<String>)> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut lines = text.lines();
    if lines.next() != Some(RECORD_HEADER) {
        return None;
    }
    let identity = lines.next()?.to_string();
    Some((identity, lines.map(str::to_string).collect()))
}

/// A password file's text, and its identity and mode as they were before it was read: a write
/// that races the read changes the ctime after, and the record then matches no later run.
pub(super) fn read_kept(file: &Path) -> std::io::Result<(String, FileIdentity, u32)> {
    use std::os::unix::fs::PermissionsExt;
    // Bounded, and never blocking on a FIFO planted where the password should be.
    let (bytes, meta) =
        files::read_bounded_with_metadata(file, files::SECRET).map_err(|e| match e {
            files::ReadError::Io(e) => e,
            other => std::io::Error::other(other.to_string()),
        })?;
    let text = String::from_utf8(bytes)
        .map_err(|_| std::io::Error::other(files::ReadError::NotUtf8.to_string()))?;
    Ok((text, FileIdentity::of(&meta), meta.permissions().mode()))
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::super::registry::Passwords;
    use super::super::tests::{next_run, record_of, set};
    use super::super::{ManagedPassword, Source};

    /// A password file `content` kept as relayctl keeps it: 0600 in 0700 `secrets/relay01/`.
    fn kept_file(dir: &Path, content: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let relay = dir.join("secrets/relay01");
        std::fs::create_dir_all(&relay).expect("dir");
        for dir in [dir.join("secrets"), relay.clone()] {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).expect("chmod");
        }
        let file = relay.join("medulla_password");
        std::fs::write(&file, content).expect("write");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        file
    }

    /// The record of `file` as it is now, holding `hashes`.
    fn record_text(file: &Path, hashes: &[&str]) -> String {
        let mut text = format!("relayctl password record 2\n{}\n", identity_line(file));
        for hash in hashes {
            text.push_str(hash);
            text.push('\n');
        }
        text
    }

    /// The identity line a record binds: device, inode, size, mtime and ctime in ns.
    fn identity_line(file: &Path) -> String {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(file).expect("meta");
        let ns = |s: i64, n: i64| i128::from(s) * 1_000_000_000 + i128::from(n);
        format!(
            "file {} {} {} {} {}",
            meta.dev(),
            meta.ino(),
            meta.size(),
            ns(meta.mtime(), meta.mtime_nsec()),
            ns(meta.ctime(), meta.ctime_nsec())
        )
    }

    #[tokio::test]
    async fn the_record_beside_a_password_file_holds_its_identity_and_the_hash_nothing_of_the_secret()
     {
        let dir = tempfile::tempdir().expect("tmp");
        let run = Passwords::default();
        let file = kept_file(dir.path(), "s3cret\n");
        let password = run.resolve(None, file.clone(), false).expect("reads");
        let (hash, record) = set(&password).await;
        assert!(hash.starts_with("$y$"), "{hash}");
        assert_eq!(record, record_text(&file, &[&hash]));
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(record_of(&file))
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let later = next_run(&file);
        assert!(later.is_current(&hash), "an unchanged file and hash");
        assert!(!later.is_current("$y$j9T$someone$ranpasswd"));
    }

    #[tokio::test]
    async fn a_password_file_rewritten_even_with_the_same_text_is_set_again() {
        let dir = tempfile::tempdir().expect("tmp");
        let run = Passwords::default();
        let file = kept_file(dir.path(), "s3cret\n");
        let password = run.resolve(None, file.clone(), false).expect("reads");
        let (hash, _) = set(&password).await;
        assert!(next_run(&file).is_current(&hash));
        // Rewritten in place: the same inode, a new ctime (and a size, should the text differ).
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&file, "s3cret\n").expect("rewrite");
        assert!(
            !next_run(&file).is_current(&hash),
            "the file was written since"
        );
        // Replaced by a copy: another inode.
        let copy = dir.path().join("copy");
        std::fs::copy(&file, &copy).expect("copy");
        std::fs::rename(&copy, &file).expect("replace");
        assert!(!next_run(&file).is_current(&hash), "another file now");
    }

    #[test]
    fn a_fifo_where_the_password_file_should_be_is_refused_without_waiting_for_a_writer() {
        let dir = tempfile::tempdir().expect("tmp");
        let fifo = dir.path().join("medulla_password");
        let path = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).expect("path");
        // SAFETY: a NUL-terminated path that lives across the call.
        assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o600) }, 0, "mkfifo");
        let error = super::read_kept(&fifo).expect_err("a FIFO is no password file");
        assert!(error.to_string().contains("a FIFO (named pipe)"), "{error}");
        let huge = dir.path().join("huge");
        std::fs::write(&huge, vec![b'x'; 65 << 10]).expect("write");
        let error = super::read_kept(&huge).expect_err("too large");
        assert!(error.to_string().contains("larger than 64 KiB"), "{error}");
    }

    #[test]
    fn an_unchanged_password_file_is_current_without_any_hashing() {
        let dir = tempfile::tempdir().expect("tmp");
        let file = kept_file(dir.path(), "s3cret\n");
        // A hash yescrypt could not even parse: only a record that is never checked against the
        // secret, by hashing, can call it current.
        let fake = "$y$not$a$hash";
        std::fs::write(record_of(&file), record_text(&file, &[fake])).expect("record");
        let started = std::time::Instant::now();
        for _ in 0..50 {
            assert!(next_run(&file).is_current(fake));
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        let from_env = ManagedPassword {
            source: Source::Env("RELAYCTL_MEDULLA_PASSWORD".into()),
            ..next_run(&file)
        };
        assert!(!from_env.is_current(fake), "from the environment: checked");
    }

    #[tokio::test]
    async fn the_hashes_set_from_one_unchanged_file_over_several_runs_all_stay_current() {
        let dir = tempfile::tempdir().expect("tmp");
        let file = kept_file(dir.path(), "s3cret\n");
        // relay01, set from this file in an earlier run.
        let earlier = "$y$j9T$earlier$run";
        std::fs::write(record_of(&file), record_text(&file, &[earlier])).expect("record");
        // relay02, added to the inventory since, set now.
        let (hash, record) = set(&next_run(&file)).await;
        assert_eq!(record, record_text(&file, &[earlier, &hash]));
        let later = next_run(&file);
        assert!(later.is_current(earlier) && later.is_current(&hash));
        // A record of the file as it was before an edit is no longer anyone's.
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&file, "new\n").expect("edit");
        let (new_hash, record) = set(&next_run(&file)).await;
        assert_eq!(record, record_text(&file, &[&new_hash]));
    }
}
