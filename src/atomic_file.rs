//! A controller file replaced whole, in one rename: the password file and its record, the
//! report's files. The content goes to a temporary file beside the target, under a random name,
//! created by this call alone (`O_EXCL`) and never through a link (`O_NOFOLLOW`), with its mode
//! set at creation; then it is synced and renamed over the target. A link or a file planted at a
//! name the writer would use is never written through, and a reader sees the old file or the
//! new one, never half of one.

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

/// Random names tried before giving up: a clash of 128 random bits is someone else's doing.
const ATTEMPTS: usize = 4;

/// Replaces `path` with `content`, created with `mode` (less the umask), through a temporary
/// file beside it; the directory must exist. On failure no temporary file is left.
pub fn replace(path: &Path, content: &[u8], mode: u32) -> std::io::Result<()> {
    let (tmp, mut out) = create_temporary(path, mode)?;
    let written = out
        .write_all(content)
        .and_then(|()| out.sync_all())
        .and_then(|()| std::fs::rename(&tmp, path));
    drop(out);
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    // The rename is durable only once the directory is: a password set on a host must not
    // outlive, after a crash, the file that keeps it on the controller.
    std::fs::File::open(directory(path))?.sync_all()
}

/// A new file beside `path` under a random name, opened for writing.
fn create_temporary(path: &Path, mode: u32) -> std::io::Result<(PathBuf, std::fs::File)> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut last = None;
    for _ in 0..ATTEMPTS {
        let tmp = directory(path).join(format!(".{name}.{}.relayctl-tmp", random_hex()?));
        match create_exclusive(&tmp, mode) {
            Ok(file) => return Ok((tmp, file)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no temporary name")))
}

/// Creates `path`, which must not exist, not even as a link, with `mode` from the start: the
/// content is never readable by anyone the final mode would not let in.
fn create_exclusive(path: &Path, mode: u32) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .mode(mode)
        .open(path)
}

fn directory(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// 128 random bits in hex: a name nobody can plant a link at in advance.
fn random_hex() -> std::io::Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| std::io::Error::other(format!("no randomness for a temporary name: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_file_is_replaced_whole_with_its_mode_and_no_temporary_file_is_left() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("secret");
        std::fs::write(&path, "old\n").expect("old");
        replace(&path, b"new\n", 0o600).expect("replaced");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "new\n");
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the old file's 0644 is not kept");
        assert_eq!(names(dir.path()), ["secret"]);
    }

    /// A file a planted link points to.
    fn victim(dir: &Path) -> PathBuf {
        let victim = dir.join("victim");
        std::fs::write(&victim, "untouched").expect("victim");
        victim
    }

    fn assert_untouched(victim: &Path) {
        let text = std::fs::read_to_string(victim).expect("victim");
        assert_eq!(text, "untouched", "written through a link");
    }

    #[test]
    fn a_link_at_the_name_is_never_followed_not_even_a_dangling_one() {
        let dir = tempfile::tempdir().expect("tmp");
        let victim = victim(dir.path());
        let planted = dir.path().join("planted");
        std::os::unix::fs::symlink(&victim, &planted).expect("plant");
        let dangling = dir.path().join("dangling");
        std::os::unix::fs::symlink(dir.path().join("nowhere"), &dangling).expect("plant");
        for link in [&planted, &dangling] {
            let error = create_exclusive(link, 0o600).expect_err("refused");
            assert_eq!(error.kind(), std::io::ErrorKind::AlreadyExists, "{error}");
        }
        assert_untouched(&victim);
        assert!(!dir.path().join("nowhere").exists());
    }

    #[test]
    fn a_link_at_the_target_is_replaced_not_written_through() {
        let dir = tempfile::tempdir().expect("tmp");
        let victim = victim(dir.path());
        let path = dir.path().join("report.md");
        std::os::unix::fs::symlink(&victim, &path).expect("plant");
        replace(&path, b"report", 0o644).expect("replaced");
        assert_untouched(&victim);
        let meta = std::fs::symlink_metadata(&path).expect("meta");
        assert!(meta.file_type().is_file());
    }

    #[test]
    fn temporary_names_are_never_the_same_twice() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("f");
        let (a, _) = create_temporary(&path, 0o600).expect("first");
        let (b, _) = create_temporary(&path, 0o600).expect("second");
        assert_ne!(a, b);
        let name = a.file_name().expect("name").to_string_lossy().into_owned();
        assert!(
            name.starts_with(".f.") && name.ends_with(".relayctl-tmp"),
            "{name}"
        );
    }

    #[test]
    fn a_failed_rename_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("summary.md");
        std::fs::create_dir(&path).expect("a directory in the way");
        std::fs::write(path.join("x"), "").expect("not empty");
        assert!(replace(&path, b"x", 0o644).is_err());
        assert_eq!(names(dir.path()), ["summary.md"]);
    }
}
