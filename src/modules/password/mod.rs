//! A user's password, managed from the controller without ever showing it.
//!
//! The password comes from an environment variable the operator sets, else from a file on the
//! controller, else it is generated and kept in that file (mode 0600, in a 0700 directory that
//! also gets a `.gitignore`, so it is not committed with the inventory; a directory someone else
//! owns or could write to is refused, as they could swap the file in it). It reaches the host only
//! as a yescrypt hash (Debian 12's own scheme), over stdin to `chpasswd -e`.
//!
//! Idempotence without re-hashing, and without a record anyone could test guesses against:
//! after setting a password kept in a file, relayctl records beside it (`…applied`, 0600) the
//! hashes it set from the file and the file's identity when the secret was read (device, inode,
//! size, mtime and ctime in ns), nothing derived from the secret. A later run compares the
//! host's current hash and the file as it is now with the record: both as recorded, nothing to
//! do (no hashing at all: a no-op run on 50 relays reads 50 small files); the file was written
//! since (even with the same text) or someone ran `passwd`, the password is set again. The
//! record gives a reader the host's yescrypt hash and no faster way to test a guess. A record of
//! an older relayctl (a SHA-256 of the hash and the secret) matches nothing: the password is set
//! once more and the record rewritten.
//!
//! A password from the environment has no file to bind a record to, and a record binding the
//! hash to the secret itself would be a faster test of guesses than the hash: the secret is
//! checked against the host's hash with yescrypt instead, once per distinct secret and hash in a
//! run (relays set in one run share one hash), and nothing is written on the controller.
//!
//! Files: this one (the password, where it comes from, whether the host has it, and the password
//! a step sets), `registry.rs` (the run's passwords, one per file), `record.rs` (the record
//! beside a password file), `hashing.rs` (the one hashing thread), `secrets_dir.rs` (the
//! directories and files kept private on the controller), `generate.rs` (made-up passwords).

mod generate;
mod hashing;
mod record;
// Reached from outside by its own path: it holds ManagedPassword, so this file re-exporting it
// would close a circle.
pub(super) mod registry;
mod secrets_dir;

pub use secrets_dir::write_controller_file;

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use futures::FutureExt;
use futures::future::BoxFuture;

use super::{ArgError, ControllerFile, Preparation, Prepared};
use crate::secret::Secret;
use generate::generate_password;
use record::{FileIdentity, read_kept};
use secrets_dir::check_private;

/// Where the password comes from this run.
#[derive(Clone, Debug)]
pub enum Source {
    /// The operator's environment variable.
    Env(String),
    /// The password file, as it was when its secret was read.
    File(FileIdentity),
    /// Generated now; written to the password file just before it is first set, once for
    /// every relay that names the file (they share this cell through the run's registry).
    Generated(Arc<OnceLock<Result<FileIdentity, String>>>),
}

/// A managed password: the secret, its file, and where it came from.
#[derive(Clone, Debug)]
pub struct ManagedPassword {
    pub secret: Secret,
    pub file: PathBuf,
    pub source: Source,
}

impl ManagedPassword {
    /// The password kept in `file`, or a new one to keep there when `generate`.
    pub(super) fn read_or_generate(file: PathBuf, generate: bool) -> Result<Self, ArgError> {
        match read_kept(&file) {
            Ok((text, identity, mode)) => {
                check_private(&file, mode)?;
                let secret = text.trim_end_matches(['\n', '\r']).to_string();
                if secret.is_empty() {
                    return Err(ArgError::new(
                        "password_file",
                        format!("{} is empty", file.display()),
                    ));
                }
                Ok(ManagedPassword {
                    secret: Secret::new(secret),
                    file,
                    source: Source::File(identity),
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && generate => Ok(ManagedPassword {
                secret: generate_password()?,
                file,
                source: Source::Generated(Arc::default()),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(not_found(&file)),
            Err(e) => Err(ArgError::new(
                "password_file",
                format!("cannot read {}: {e}", file.display()),
            )),
        }
    }

    /// For plans and reports: where the password is, never what it is.
    pub fn describe(&self) -> String {
        match &self.source {
            Source::Env(var) => format!("from ${var}"),
            Source::File(_) => format!("kept in {}", self.file.display()),
            Source::Generated(_) => format!("generated into {}", self.file.display()),
        }
    }

    /// True when `current_hash` (the host's) is a hash relayctl set for this very secret. For a
    /// password kept in a file: the record says so, and the file is as it was then (no hashing).
    /// From the environment: yescrypt says so (see [`hashing::verify`]).
    pub fn is_current(&self, current_hash: &str) -> bool {
        match &self.source {
            Source::Env(_) => hashing::verify(&self.secret, current_hash),
            Source::File(identity) => record::holds(&self.file, identity, current_hash),
            // Made this run: no host has it yet.
            Source::Generated(_) => false,
        }
    }

    /// The record to write once `hash` is set: the password file's identity and the hashes set
    /// from it (none from the environment). A generated password's file is written first,
    /// once for every relay that shares it: it then has one identity for all their records.
    fn record(&self, hash: &str) -> Result<Vec<ControllerFile>, String> {
        let identity = match &self.source {
            Source::Env(_) => return Ok(Vec::new()),
            Source::File(identity) => *identity,
            Source::Generated(written) => written.get_or_init(|| self.keep()).clone()?,
        };
        Ok(vec![record::with_hash(&self.file, &identity, hash)])
    }

    /// Writes a generated secret into its file; the identity of the file as written, read
    /// back to make sure it holds this secret.
    fn keep(&self) -> Result<FileIdentity, String> {
        let content = Secret::new(format!("{}\n", self.secret.expose()));
        let cannot =
            |e: &dyn std::fmt::Display| format!("cannot write {}: {e}", self.file.display());
        write_controller_file(&ControllerFile {
            path: self.file.clone(),
            content: content.clone(),
        })
        .map_err(|e| cannot(&e))?;
        let (text, identity, _) = read_kept(&self.file).map_err(|e| cannot(&e))?;
        if text != content.expose() {
            return Err(cannot(&"it was changed while it was written"));
        }
        Ok(identity)
    }

    /// The password to set for `user` when a step runs: hashed only then (see [`PasswordToSet`]).
    pub fn to_set(&self, user: &str) -> PasswordToSet {
        PasswordToSet {
            user: user.to_string(),
            password: self.clone(),
        }
    }
}

/// A password a step sets with `chpasswd -e`. Hashing (yescrypt: 16 MiB and tens of ms of CPU)
/// waits until the step is about to run, so `--check`, which only plans, never pays for it (a
/// password from the environment is checked against the host's hash by its plan:
/// [`hashing::verify`]).
#[derive(Debug)]
pub struct PasswordToSet {
    user: String,
    password: ManagedPassword,
}

impl PasswordToSet {
    /// Hashes the secret (on the hashing thread, one at a time): the `user:hash` line for
    /// chpasswd's stdin, and the controller files to write once the step succeeded.
    pub async fn hash(self) -> Result<Prepared, String> {
        let secret = self.password.secret.clone();
        hashing::with_hash(secret, move |hash| self.prepared(&hash)).await
    }

    fn prepared(&self, hash: &str) -> Result<Prepared, String> {
        Ok(Prepared {
            stdin: format!("{}:{hash}\n", self.user).into_bytes(),
            after: self.password.record(hash)?,
        })
    }
}

/// The step that sets the password (`chpasswd -e`) gets its `user:hash` line at the end of its
/// stdin only when it runs.
impl Preparation for PasswordToSet {
    fn prepare(self: Box<Self>) -> BoxFuture<'static, Result<Prepared, String>> {
        self.hash().boxed()
    }
}

pub(super) fn not_found(file: &Path) -> ArgError {
    ArgError::new(
        "password_file",
        format!(
            "cannot read {}: it does not exist (and generate_password is false)",
            file.display()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::registry::Passwords;
    use super::*;

    /// What a later run finds: the file read afresh (a new run, a registry of its own).
    pub(super) fn next_run(file: &Path) -> ManagedPassword {
        Passwords::default()
            .resolve(None, file.to_path_buf(), false)
            .expect("resolves")
    }

    /// Sets `password` as a step would: prepared (hashed), its controller files written after.
    /// The hash set, and the record's text.
    pub(super) async fn set(password: &ManagedPassword) -> (String, String) {
        let prepared = password.to_set("medulla").hash().await.expect("hashed");
        for file in &prepared.after {
            write_controller_file(file).expect("written");
        }
        let stdin = String::from_utf8(prepared.stdin).expect("text");
        let hash = stdin.trim_end().trim_start_matches("medulla:").to_string();
        let record = std::fs::read_to_string(record_of(&password.file)).unwrap_or_default();
        (hash, record)
    }

    pub(super) fn record_of(file: &Path) -> PathBuf {
        file.with_file_name("medulla_password.applied")
    }

    #[tokio::test]
    async fn a_password_from_the_environment_leaves_no_record_and_is_checked_against_the_hash() {
        let dir = tempfile::tempdir().expect("tmp");
        let file = dir.path().join("secrets/relay01/medulla_password");
        let password = ManagedPassword {
            secret: Secret::new("from-the-env".into()),
            file: file.clone(),
            source: Source::Env("RELAYCTL_MEDULLA_PASSWORD".into()),
        };
        let prepared = password.to_set("medulla").hash().await.expect("hashed");
        assert!(prepared.after.is_empty());
        let stdin = String::from_utf8(prepared.stdin).expect("text");
        let hash = stdin.trim_end().trim_start_matches("medulla:");
        assert!(password.is_current(hash), "the hash set this run");
        let other = ManagedPassword {
            secret: Secret::new("another".into()),
            ..password.clone()
        };
        let by_hand = hashing::new_hash(&other.secret).expect("hash");
        assert!(!password.is_current(&by_hand), "someone set another");
        assert!(
            other.is_current(&by_hand),
            "a hash not made this run, checked by yescrypt"
        );
        assert!(!password.is_current("$6$salt$sha512crypt"), "not yescrypt");
        let costlier = hash.replacen("$j9T$", "$jAT$", 1);
        assert!(!password.is_current(&costlier), "not relayctl's parameters");
        assert!(
            !dir.path().join("secrets").exists(),
            "nothing on the controller"
        );
    }

    #[tokio::test]
    async fn a_generated_password_is_kept_0600_in_a_0700_directory_git_ignores() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tmp");
        let run = Passwords::default();
        let file = dir.path().join("secrets/relay01/medulla_password");
        let password = run.resolve(None, file.clone(), true).expect("generated");
        assert!(!password.is_current("$y$abc"), "a new password");
        assert!(!file.exists(), "written only when it is set");
        set(&password).await;
        let kept = std::fs::read_to_string(&file).expect("kept");
        assert!(kept == format!("{}\n", password.secret.expose()));
        let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode(&file), 0o600);
        assert_eq!(mode(&record_of(&file)), 0o600);
        assert_eq!(mode(file.parent().expect("dir")), 0o700);
        assert_eq!(mode(&dir.path().join("secrets")), 0o700);
        let ignore = std::fs::read_to_string(dir.path().join("secrets/.gitignore")).expect("kept");
        assert!(ignore.ends_with("\n*\n"), "{ignore}");
    }
}
