//! Reading a file the input names (an inventory, a vars file, a role's file, a key file) with a
//! bound: only a regular file, and only up to a size no honest file of its kind comes near. A
//! path is input, and input may be hostile or mistaken: `/dev/zero` would be read until the
//! controller runs out of memory, a FIFO would block the run forever.
//!
//! The file is opened first and the opened handle is checked, never the path: a path checked
//! and then opened could be swapped for a FIFO or a device in between. The open itself does not
//! block (`O_NONBLOCK`: opening a FIFO waits for a writer otherwise); on a regular file the flag
//! changes nothing.

use std::fmt;
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

use super::error::InputError;
use super::pos::Pos;

/// How much of one kind of file relayctl reads at most, and what that kind is, for the error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limit {
    pub bytes: u64,
    pub kind: &'static str,
}

/// An inventory or a `group_vars/`/`host_vars/` file. The YAML parser stops at 250 000 values
/// anyway (serde-saphyr's budget), which a flat inventory of 60 000 hosts, each with its
/// address, reaches at 4 MiB; 8 MiB leaves room for comments and long values. relayctl's example
/// inventory, comments and all, is 9 KiB.
pub(crate) const VARS: Limit = Limit {
    bytes: 8 << 20,
    kind: "an inventory or vars file",
};

/// A file of a role of `--roles-dir` (its YAML, a template, a file of `files/`) or its
/// `relay_roles.yaml`: text written by hand (tasks, defaults, templates, configuration files);
/// the largest that relayctl ships is 5 KiB.
pub(crate) const ROLE_FILE: Limit = Limit {
    bytes: 8 << 20,
    kind: "a role's file",
};

/// An OpenSSH key file, private or public: an RSA key of 16384 bits, the largest OpenSSH makes,
/// is about 12 KiB as a private key file and 3 KiB as a public one.
pub(crate) const KEY: Limit = Limit {
    bytes: 64 << 10,
    kind: "a key file",
};

/// An OpenSSH known_hosts file, which russh reads whole on each connection: a line is 100 to 750
/// bytes (a hashed name and an Ed25519 to RSA-4096 key), so 64 MiB holds tens of thousands of
/// hosts with all their keys; an operator's is rarely over a megabyte.
pub(crate) const KNOWN_HOSTS: Limit = Limit {
    bytes: 64 << 20,
    kind: "a known_hosts file",
};

/// A password file relayctl keeps or is given: one line. 64 KiB is far more than any password.
pub(crate) const SECRET: Limit = Limit {
    bytes: 64 << 10,
    kind: "a password file",
};

/// Why a file was not read. Its text follows "cannot read FILE: ".
#[derive(Debug)]
pub(crate) enum ReadError {
    Io(std::io::Error),
    /// What the file is instead of a regular file (`a character device`).
    NotAFile(&'static str),
    TooLarge(Limit),
    NotUtf8,
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Io(e) => write!(f, "{e}"),
            ReadError::NotAFile(what) => write!(
                f,
                "it is {what}, not a regular file (relayctl reads input from regular files only)"
            ),
            ReadError::TooLarge(limit) => write!(
                f,
                "it is larger than {}, more than {} may hold",
                size(limit.bytes),
                limit.kind
            ),
            ReadError::NotUtf8 => write!(f, "it is not UTF-8 text"),
        }
    }
}

/// `8 MiB`, `64 KiB`: the limits as an operator reads them.
fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

/// The bytes of `path` when it is a regular file (after symbolic links) of at most
/// `limit.bytes`.
pub(crate) fn read_bounded(path: &Path, limit: Limit) -> Result<Vec<u8>, ReadError> {
    read_bounded_with_metadata(path, limit).map(|(bytes, _)| bytes)
}

/// [`read_bounded`], with the metadata of the file read (its identity and mode, not those of
/// whatever the path names a moment later). A FIFO or a device is refused without blocking.
pub(crate) fn read_bounded_with_metadata(
    path: &Path,
    limit: Limit,
) -> Result<(Vec<u8>, std::fs::Metadata), ReadError> {
    let (file, metadata) = open_regular(path)?;
    // One byte past the limit tells a file at the limit from a larger one (the size in the
    // metadata may change while the file is read, so it is not trusted).
    let mut bytes = Vec::new();
    file.take(limit.bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > limit.bytes {
        return Err(ReadError::TooLarge(limit));
    }
    Ok((bytes, metadata))
}

/// Whether `path` is a file that another reader may read whole: a regular file (after symbolic
/// links) no larger than `limit.bytes`, looked at without reading it and without blocking on a
/// FIFO.
pub(crate) fn check_bounded(path: &Path, limit: Limit) -> Result<(), ReadError> {
    let (_, metadata) = open_regular(path)?;
    if metadata.len() > limit.bytes {
        return Err(ReadError::TooLarge(limit));
    }
    Ok(())
}

/// `path` opened for reading when it is a regular file (after symbolic links), with the
/// metadata of what was opened. Opened without blocking: a FIFO is refused, not waited on.
fn open_regular(path: &Path) -> Result<(std::fs::File, std::fs::Metadata), ReadError> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(ReadError::Io)?;
    let metadata = file.metadata().map_err(ReadError::Io)?;
    if !metadata.file_type().is_file() {
        return Err(ReadError::NotAFile(describe(metadata.file_type())));
    }
    Ok((file, metadata))
}

/// The problem of a file that was not read, at its start and keyed `(file)` as every problem
/// with a file as a whole.
pub(crate) fn unreadable(path: &Path, error: &ReadError) -> InputError {
    InputError::at(
        path,
        Pos::START,
        "(file)",
        format!("cannot read this file: {error}"),
    )
}

/// The same for a directory a walk (`walk.rs`) did not read.
pub(crate) fn unreadable_dir(dir: &Path, error: &std::io::Error) -> InputError {
    InputError::at(
        dir,
        Pos::START,
        "(file)",
        format!("cannot read this directory: {error}"),
    )
}

/// [`read_bounded`], as UTF-8 text.
pub(crate) fn read_text(path: &Path, limit: Limit) -> Result<String, ReadError> {
    String::from_utf8(read_bounded(path, limit)?).map_err(|_| ReadError::NotUtf8)
}

fn describe(file_type: std::fs::FileType) -> &'static str {
    if file_type.is_dir() {
        "a directory"
    } else if file_type.is_char_device() {
        "a character device"
    } else if file_type.is_block_device() {
        "a block device"
    } else if file_type.is_fifo() {
        "a FIFO (named pipe)"
    } else if file_type.is_socket() {
        "a socket"
    } else {
        "not a file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: Limit = Limit {
        bytes: 4,
        kind: "a test file",
    };

    #[test]
    fn a_regular_file_up_to_the_limit_is_read() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("f");
        std::fs::write(&path, "abcd").expect("write");
        assert_eq!(read_text(&path, SMALL).expect("read"), "abcd");
    }

    #[test]
    fn a_file_past_the_limit_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("f");
        std::fs::write(&path, "abcde").expect("write");
        let error = read_bounded(&path, SMALL).expect_err("refused");
        assert_eq!(
            error.to_string(),
            "it is larger than 4 bytes, more than a test file may hold"
        );
        assert_eq!(
            ReadError::TooLarge(VARS).to_string(),
            "it is larger than 8 MiB, more than an inventory or vars file may hold"
        );
        assert_eq!(
            ReadError::TooLarge(KEY).to_string(),
            "it is larger than 64 KiB, more than a key file may hold"
        );
    }

    #[test]
    fn a_device_is_refused_without_being_read() {
        let error = read_bounded(Path::new("/dev/zero"), VARS).expect_err("refused");
        assert_eq!(
            error.to_string(),
            "it is a character device, not a regular file (relayctl reads input from regular files only)"
        );
    }

    #[test]
    fn a_fifo_is_refused_without_waiting_for_a_writer() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("fifo");
        let c_path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).expect("path");
        // SAFETY: a valid NUL-terminated path; mkfifo touches nothing else.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
        let error = read_bounded(&path, VARS).expect_err("refused");
        assert!(matches!(error, ReadError::NotAFile("a FIFO (named pipe)")));
    }

    #[test]
    fn a_directory_and_text_that_is_not_utf8_are_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert!(matches!(
            read_bounded(dir.path(), VARS),
            Err(ReadError::NotAFile("a directory"))
        ));
        let path = dir.path().join("f");
        std::fs::write(&path, [0xff, 0xfe]).expect("write");
        assert!(matches!(read_text(&path, SMALL), Err(ReadError::NotUtf8)));
    }
}
