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

mod generate;
mod hashing;
mod record;
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
use secrets_dir::{check_directories, check_private, euid, parent_dir};

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
    /// Resolves the password: `env` if set, else `file` if it exists, else a generated one when
    /// `generate`. A password file readable by others is refused.
    pub fn resolve(env: Option<&str>, file: PathBuf, generate: bool) -> Result<Self, ArgError> {
        if let Some(var) = env
            && let Ok(value) = std::env::var(var)
        {
            if value.is_empty() {
                return Err(ArgError::new(
                    "password_env",
                    format!("{var} is set but empty"),
                ));
            }
            return Ok(ManagedPassword {
                secret: Secret::new(value),
                file,
                source: Source::Env(var.to_string()),
            });
        }
        // A directory that does not exist yet is made private when the password is written.
        if parent_dir(&file).exists() {
            check_directories(&file, euid()).map_err(|e| ArgError::new("password_file", e))?;
        }
        let mut kept = KEPT.lock().unwrap_or_else(|p| p.into_inner());
        let key = canonical(&file);
        if let Some(known) = kept.get(&key) {
            if matches!(known.source, Source::Generated(_)) && !generate {
                // As if this relay had come first: it may not generate the missing file.
                return Err(not_found(&file));
            }
            return Ok(ManagedPassword {
                file,
                ..known.clone()
            });
        }
        let password = Self::read_or_generate(file, generate)?;
        kept.insert(key, password.clone());
        Ok(password)
    }

    /// The password kept in `file`, or a new one to keep there when `generate`.
    fn read_or_generate(file: PathBuf, generate: bool) -> Result<Self, ArgError> {
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
    /// chpasswd's stdin, and the controller files to write before and after the step.
    pub async fn hash(self) -> Result<Prepared, String> {
        let secret = self.password.secret.clone();
        hashing::with_hash(secret, move |hash| self.prepared(&hash)).await
    }

    fn prepared(&self, hash: &str) -> Result<Prepared, String> {
        Ok(Prepared {
            stdin: format!("{}:{hash}\n", self.user).into_bytes(),
            before: Vec::new(),
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

/// The run's passwords, by the canonical path of their file: every relay that names one file
/// gets the one secret read from it, or generated for it, once. Two relays that generated
/// a password each for a shared file would both write it, and all but the last would then be
/// set to a password the file no longer holds.
///
/// A process-wide map, because a module's builder (a plain `fn` of the task's arguments and a
/// `BuildContext` the engine makes per task) is given nothing that lives for the run, and
/// relayctl runs one command per process: the process's map is the run's. Keys are canonical,
/// so that `secrets/./x`, a link to the inventory's directory and the path itself meet.
static KEPT: std::sync::Mutex<std::collections::BTreeMap<PathBuf, ManagedPassword>> =
    std::sync::Mutex::new(std::collections::BTreeMap::new());

/// `file`'s canonical path, even before it exists: its nearest existing ancestor resolved
/// (links, `.`, `..`), the missing rest as written. A missing rest with `..` in it can never be
/// created as written: the path is then its own key.
fn canonical(file: &Path) -> PathBuf {
    let mut missing = Vec::new();
    let mut existing = file;
    loop {
        if let Ok(mut path) = existing.canonicalize() {
            path.extend(missing.iter().rev());
            return path;
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                missing.push(name);
                existing = parent;
            }
            _ => return file.to_path_buf(),
        }
    }
}

fn not_found(file: &Path) -> ArgError {
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
    use super::*;

    /// What a later run finds: the file read afresh (this process's registry is the run's).
    pub(super) fn next_run(file: &Path) -> ManagedPassword {
        KEPT.lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&canonical(file));
        ManagedPassword::resolve(None, file.to_path_buf(), false).expect("resolves")
    }

    /// Sets `password` as a step would: prepared (hashed), its controller files written before
    /// and after. The hash set, and the record's text.
    pub(super) async fn set(password: &ManagedPassword) -> (String, String) {
        let prepared = password.to_set("medulla").hash().await.expect("hashed");
        for file in prepared.before.iter().chain(&prepared.after) {
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
        assert!(prepared.before.is_empty() && prepared.after.is_empty());
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
    async fn relays_sharing_a_generated_file_write_it_once_and_agree_on_its_record() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().expect("tmp");
        let file = dir.path().join("secrets/all/medulla_password");
        let relays: Vec<ManagedPassword> = (0..3)
            .map(|_| ManagedPassword::resolve(None, file.clone(), true).expect("generated"))
            .collect();
        let (hash, record) = set(&relays[0]).await;
        let inode = std::fs::metadata(&file).expect("written").ino();
        for relay in &relays[1..] {
            assert_eq!(set(relay).await, (hash.clone(), record.clone()));
            assert_eq!(std::fs::metadata(&file).expect("kept").ino(), inode);
        }
        let kept = std::fs::read_to_string(&file).expect("kept");
        assert!(kept == format!("{}\n", relays[0].secret.expose()));
        assert!(
            next_run(&file).is_current(&hash),
            "every relay's hash, current"
        );
    }

    #[tokio::test]
    async fn a_generated_password_is_kept_0600_in_a_0700_directory_git_ignores() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tmp");
        let file = dir.path().join("secrets/relay01/medulla_password");
        let password = ManagedPassword::resolve(None, file.clone(), true).expect("generated");
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

    #[test]
    fn relays_naming_one_missing_file_share_one_password_generated_once() {
        let dir = tempfile::tempdir().expect("tmp");
        let shared = dir.path().join("secrets/all/medulla_password");
        // The same file, as other relays' variables may spell it: through `.`, and through a
        // link to the inventory's directory.
        let dotted = dir.path().join("secrets/./all/medulla_password");
        std::os::unix::fs::symlink(dir.path(), dir.path().join("inventory")).expect("link");
        let linked = dir.path().join("inventory/secrets/all/medulla_password");
        let relays: Vec<PathBuf> = (0..16)
            .map(|i| [&shared, &dotted, &linked][i % 3].clone())
            .collect();
        // Relays render their tasks concurrently.
        let resolved: Vec<ManagedPassword> = std::thread::scope(|scope| {
            let threads: Vec<_> = relays
                .iter()
                .map(|file| {
                    scope.spawn(|| ManagedPassword::resolve(None, file.clone(), true).expect("ok"))
                })
                .collect();
            threads
                .into_iter()
                .map(|t| t.join().expect("resolved"))
                .collect()
        });
        for (i, password) in resolved.iter().enumerate() {
            assert!(matches!(password.source, Source::Generated(_)));
            let same = password.secret.expose() == resolved[0].secret.expose();
            assert!(same, "relay {i} got a password of its own");
        }
        let own = ManagedPassword::resolve(None, dir.path().join("secrets/relay02/pw"), true)
            .expect("ok");
        let differ = own.secret.expose() != resolved[0].secret.expose();
        assert!(differ, "another file, another password");
    }
}
