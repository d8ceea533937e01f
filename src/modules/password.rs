//! A user's password, managed from the controller without ever showing it.
//!
//! The password comes from an environment variable the operator sets, else from a file on the
//! controller, else it is generated and kept in that file (mode 0600, in a 0700 directory that
//! also gets a `.gitignore`, so it is not committed with the inventory; a directory someone else
//! owns or could write to is refused, as they could swap the file in it). It reaches the host only
//! as a yescrypt hash (Debian 12's own scheme), over stdin to `chpasswd -e`.
//!
//! Idempotence without re-hashing: after setting a password, relayctl records beside the
//! password file (`…applied`, 0600) the hash it set and a fingerprint binding that hash to the
//! secret. A later run compares the host's current hash and the current secret with the record:
//! equal, nothing to do (no hashing at all); different (the secret file was edited, someone ran
//! `passwd`), the password is set again.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use futures::FutureExt;
use futures::future::BoxFuture;

use super::{ArgError, ControllerFile, Preparation, Prepared};
use crate::atomic_file;
use crate::secret::Secret;

/// Generated passwords: 24 characters from an alphabet without look-alikes (no 0/O, 1/l/I),
/// about 138 bits, typed by hand without doubt when SIVEO needs it.
const GENERATED_LENGTH: usize = 24;
const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// Where the password comes from this run.
#[derive(Clone, Debug)]
pub enum Source {
    /// The operator's environment variable.
    Env(String),
    /// The password file, as it exists.
    File,
    /// Generated now; written to the password file before it is set on the host.
    Generated,
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
            if matches!(known.source, Source::Generated) && !generate {
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
        match std::fs::read_to_string(&file) {
            Ok(text) => {
                check_private(&file)?;
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
                    source: Source::File,
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && generate => Ok(ManagedPassword {
                secret: generate_password()?,
                file,
                source: Source::Generated,
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
            Source::File => format!("kept in {}", self.file.display()),
            Source::Generated => format!("generated into {}", self.file.display()),
        }
    }

    /// True when `current_hash` (the host's) is the hash relayctl set for this very secret.
    pub fn is_current(&self, current_hash: &str) -> bool {
        let Ok(record) = std::fs::read_to_string(self.record_path()) else {
            return false;
        };
        let mut lines = record.lines();
        lines.next() == Some(current_hash)
            && lines.next() == Some(fingerprint(current_hash, &self.secret).as_str())
    }

    /// A new yescrypt hash of the secret.
    pub fn hash(&self) -> Result<String, String> {
        use yescrypt::PasswordHasher;
        yescrypt::Yescrypt::default()
            .hash_password(self.secret.expose().as_bytes())
            .map(|hash| hash.as_str().to_string())
            .map_err(|e| format!("cannot hash the password: {e}"))
    }

    /// What the controller writes before the password is set (a generated secret) and after
    /// (the record of what was set).
    pub fn controller_files(&self, hash: &str) -> (Vec<ControllerFile>, Vec<ControllerFile>) {
        let before = match self.source {
            Source::Generated => vec![ControllerFile {
                path: self.file.clone(),
                content: Secret::new(format!("{}\n", self.secret.expose())),
            }],
            Source::Env(_) | Source::File => Vec::new(),
        };
        let after = vec![ControllerFile {
            path: self.record_path(),
            content: Secret::new(format!("{hash}\n{}\n", fingerprint(hash, &self.secret))),
        }];
        (before, after)
    }

    /// The password to set for `user` when a step runs: hashed only then (see [`PasswordToSet`]).
    pub fn to_set(&self, user: &str) -> PasswordToSet {
        PasswordToSet {
            user: user.to_string(),
            password: self.clone(),
        }
    }

    fn record_path(&self) -> PathBuf {
        let mut name = self.file.file_name().unwrap_or_default().to_os_string();
        name.push(".applied");
        self.file.with_file_name(name)
    }
}

/// A password a step sets with `chpasswd -e`. Hashing (yescrypt: 16 MiB and tens of ms of CPU)
/// waits until the step is about to run, so `--check`, which only plans, never pays for it.
#[derive(Debug)]
pub struct PasswordToSet {
    user: String,
    password: ManagedPassword,
}

/// A hash to make, and where its result goes.
type HashJob = (
    PasswordToSet,
    tokio::sync::oneshot::Sender<Result<Prepared, String>>,
);

/// The controller's one hashing thread, started on first use. yescrypt at Debian's cost takes
/// 16 MiB per hash, and at 50 relays they all want theirs at once (the user task comes first):
/// hashed on the async workers, or on tokio's pool of blocking threads, each thread kept its own
/// 16 MiB in the allocator's arena (46 MB peak for 10 relays, measured). One thread reuses one
/// block, and the workers keep the other relays' SSH traffic moving meanwhile.
///
/// One hash per secret per run ([`HashCache`]): 50 relays given one password took 50 hashes,
/// about 2 s of a core that, in a change window from a jump box or in the lab, the relays' own
/// work is waiting for.
fn hashing_thread() -> Result<&'static std::sync::mpsc::Sender<HashJob>, String> {
    static THREAD: std::sync::OnceLock<Result<std::sync::mpsc::Sender<HashJob>, String>> =
        std::sync::OnceLock::new();
    THREAD
        .get_or_init(|| {
            let (jobs, queue) = std::sync::mpsc::channel::<HashJob>();
            std::thread::Builder::new()
                .name("relayctl-hash".into())
                .spawn(move || {
                    let mut cache = HashCache::new();
                    for (password, reply) in queue {
                        let _ = reply.send(password.hash_now(&mut cache));
                    }
                })
                .map(|_| jobs)
                .map_err(|e| format!("cannot start the hashing thread: {e}"))
        })
        .as_ref()
        .map_err(Clone::clone)
}

impl PasswordToSet {
    /// Hashes the secret (on the hashing thread, one at a time): the `user:hash` line for
    /// chpasswd's stdin, and the controller files to write before and after the step.
    pub async fn hash(self) -> Result<Prepared, String> {
        let (reply, hashed) = tokio::sync::oneshot::channel();
        hashing_thread()?
            .send((self, reply))
            .map_err(|_| "the hashing thread is gone".to_string())?;
        hashed
            .await
            .map_err(|_| "the hashing thread is gone".to_string())?
    }

    fn hash_now(&self, cache: &mut HashCache) -> Result<Prepared, String> {
        let hash = cache.hash(&self.password)?;
        let (before, after) = self.password.controller_files(&hash);
        Ok(Prepared {
            stdin: format!("{}:{hash}\n", self.user).into_bytes(),
            before,
            after,
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

/// The hashes made this run, by secret: a relay whose password is the same secret as another's
/// gets the same hash, salt included. The salt hides that two accounts share a password and
/// defeats precomputed tables; here the inventory gives these accounts one password on purpose,
/// and whoever cracks one relay's hash has the others' password whatever their salts, so one
/// hash gives nothing away that 50 would not. Distinct secrets (generated per relay, a
/// `medulla_password_file` per host) still get hashes of their own.
///
/// Keyed by a digest of the secret under a key drawn for this process, so the map holds no
/// copy of a secret, and its keys are worth nothing once the run ends.
struct HashCache {
    key: [u8; 32],
    hashes: std::collections::HashMap<[u8; 32], String>,
}

impl HashCache {
    fn new() -> Self {
        let mut key = [0u8; 32];
        // Without randomness the key stays zero: the digests are then plain SHA-256 of the
        // secrets, still in this process's memory only, and the hashes are made all the same.
        let _ = getrandom::fill(&mut key);
        HashCache {
            key,
            hashes: std::collections::HashMap::new(),
        }
    }

    /// The run's hash of `password`'s secret: made on the first request, reused after.
    fn hash(&mut self, password: &ManagedPassword) -> Result<String, String> {
        let mut digest = Sha256::new();
        digest.update(self.key);
        digest.update(password.secret.expose().as_bytes());
        let id: [u8; 32] = digest.finalize().into();
        if let Some(hash) = self.hashes.get(&id) {
            return Ok(hash.clone());
        }
        let hash = password.hash()?;
        self.hashes.insert(id, hash.clone());
        Ok(hash)
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

/// Binds a hash to a secret without storing anything the secret could be recovered from more
/// easily than from the password file beside it.
fn fingerprint(hash: &str, secret: &Secret) -> String {
    let mut digest = Sha256::new();
    digest.update(b"relayctl password record\0");
    digest.update(hash.as_bytes());
    digest.update(b"\0");
    digest.update(secret.expose().as_bytes());
    digest
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn generate_password() -> Result<Secret, ArgError> {
    let mut password = String::with_capacity(GENERATED_LENGTH);
    // Rejection sampling keeps every character equally likely.
    let limit = 256 - 256 % ALPHABET.len();
    while password.len() < GENERATED_LENGTH {
        let mut bytes = [0u8; 64];
        getrandom::fill(&mut bytes).map_err(|e| {
            ArgError::new(
                "password_file",
                format!("no randomness to generate a password: {e}"),
            )
        })?;
        for b in bytes {
            if (b as usize) < limit && password.len() < GENERATED_LENGTH {
                password.push(ALPHABET[b as usize % ALPHABET.len()] as char);
            }
        }
    }
    Ok(Secret::new(password))
}

/// A secret file must not be readable by anyone but its owner.
fn check_private(file: &Path) -> Result<(), ArgError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(file)
        .map_err(|e| ArgError::new("password_file", format!("{}: {e}", file.display())))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(ArgError::new(
            "password_file",
            format!(
                "{} is readable by others (mode {:04o}); run chmod 600 on it",
                file.display(),
                mode & 0o7777
            ),
        ));
    }
    Ok(())
}

/// Writes a controller secret file: 0600, created in a 0700 directory (which also gets a
/// `.gitignore` of `*` when relayctl creates it), through a temporary file and a rename.
pub fn write_controller_file(file: &ControllerFile) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    let dir = parent_dir(&file.path);
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        let top = secrets_root(dir);
        let ignore = top.join(".gitignore");
        // symlink_metadata: a dangling link there is not "missing", and is not written through.
        if ignore.symlink_metadata().is_err() {
            atomic_file::replace(
                &ignore,
                b"# Written by relayctl: secrets are never committed.\n*\n",
                0o644,
            )?;
        }
    }
    check_directories(&file.path, euid()).map_err(std::io::Error::other)?;
    atomic_file::replace(&file.path, file.content.expose().as_bytes(), 0o600)
}

/// The user relayctl runs as.
fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// The directories that keep `file` (its own, up to the outermost `secrets` above it) must be
/// `uid`'s and writable by no one else: whoever can write one could swap the password file, or
/// its record, for one of their own between two runs, or between a check and a write.
fn check_directories(file: &Path, uid: u32) -> Result<(), String> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let dir = parent_dir(file);
    let top = secrets_root(dir);
    for dir in dir.ancestors() {
        let meta = std::fs::metadata(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        if meta.uid() != uid {
            return Err(format!(
                "{} is owned by uid {}, not by uid {uid} who runs relayctl: its owner could swap \
                 the password files in it",
                dir.display(),
                meta.uid()
            ));
        }
        let mode = meta.permissions().mode();
        let who = match (mode & 0o020 != 0, mode & 0o002 != 0) {
            (false, false) => None,
            (true, false) => Some("its group"),
            (false, true) => Some("others"),
            (true, true) => Some("its group and others"),
        };
        if let Some(who) = who {
            return Err(format!(
                "{} is writable by {who} (mode {:04o}): another local user could swap the \
                 password files in it; run chmod 700 on it",
                dir.display(),
                mode & 0o7777
            ));
        }
        if dir == top {
            break;
        }
    }
    Ok(())
}

/// The directory `file` is in.
fn parent_dir(file: &Path) -> &Path {
    match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// The outermost directory named `secrets` above `dir`, or `dir` itself.
fn secrets_root(dir: &Path) -> &Path {
    dir.ancestors()
        .find(|a| a.file_name().is_some_and(|n| n == "secrets"))
        .unwrap_or(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_passwords_use_the_alphabet_and_differ() {
        let a = generate_password().expect("random");
        let b = generate_password().expect("random");
        assert_eq!(a.expose().len(), GENERATED_LENGTH);
        assert!(a.expose().bytes().all(|c| ALPHABET.contains(&c)));
        assert_ne!(a.expose(), b.expose());
    }

    #[test]
    fn a_record_matches_only_its_hash_and_secret() {
        let dir = tempfile::tempdir().expect("tmp");
        let password = ManagedPassword {
            secret: Secret::new("s3cret".into()),
            file: dir.path().join("secrets/relay01/medulla_password"),
            source: Source::Generated,
        };
        assert!(!password.is_current("$y$abc"), "no record yet");
        let (before, after) = password.controller_files("$y$abc");
        for file in before.iter().chain(&after) {
            write_controller_file(file).expect("write");
        }
        assert!(password.is_current("$y$abc"));
        assert!(!password.is_current("$y$other"), "someone ran passwd");
        let edited = ManagedPassword {
            secret: Secret::new("changed".into()),
            ..password.clone()
        };
        assert!(!edited.is_current("$y$abc"), "the secret file was edited");
        let written = std::fs::read_to_string(&password.file).expect("kept");
        assert_eq!(written, "s3cret\n");
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode(&password.file), 0o600);
        assert_eq!(mode(password.file.parent().expect("dir")), 0o700);
        assert!(dir.path().join("secrets/.gitignore").exists());
    }

    #[test]
    fn a_symlink_planted_at_the_temp_name_never_receives_the_password() {
        let dir = tempfile::tempdir().expect("tmp");
        let secrets = dir.path().join("secrets/relay01");
        std::fs::create_dir_all(&secrets).expect("dir");
        use std::os::unix::fs::PermissionsExt;
        for dir in [dir.path().join("secrets"), secrets.clone()] {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).expect("chmod");
        }
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "").expect("victim");
        std::os::unix::fs::symlink(&victim, secrets.join(".medulla_password.relayctl-tmp"))
            .expect("plant");
        let file = ControllerFile {
            path: secrets.join("medulla_password"),
            content: Secret::new("s3cret\n".into()),
        };
        write_controller_file(&file).expect("written");
        assert_eq!(std::fs::read_to_string(&victim).expect("victim"), "");
        assert_eq!(
            std::fs::read_to_string(&file.path).expect("written"),
            "s3cret\n"
        );
        let written = std::fs::symlink_metadata(&file.path).expect("written");
        assert!(written.file_type().is_file());
        assert_eq!(written.permissions().mode() & 0o777, 0o600);
        let mut names: Vec<String> = std::fs::read_dir(&secrets)
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [".medulla_password.relayctl-tmp", "medulla_password"]
        );
    }

    #[test]
    fn a_secrets_directory_others_can_write_to_is_refused_for_reading_and_writing() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tmp");
        let secrets = dir.path().join("secrets");
        let relay = secrets.join("relay01");
        std::fs::create_dir_all(&relay).expect("dir");
        let file = relay.join("medulla_password");
        std::fs::write(&file, "kept\n").expect("write");
        let chmod = |path: &Path, mode: u32| {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod")
        };
        chmod(&file, 0o600);
        chmod(&secrets, 0o700);
        for (writable, mode, who) in [
            (&relay, 0o770, "its group"),
            (&relay, 0o757, "others"),
            (&secrets, 0o777, "its group and others"),
        ] {
            chmod(&relay, 0o700);
            chmod(writable, mode);
            let expected = format!(
                "{} is writable by {who} (mode {mode:04o}): another local user could swap the \
                 password files in it; run chmod 700 on it",
                writable.display()
            );
            let error = ManagedPassword::resolve(None, file.clone(), true).unwrap_err();
            assert_eq!(error.message, expected);
            let record = ControllerFile {
                path: relay.join("medulla_password.applied"),
                content: Secret::new("record\n".into()),
            };
            let error = write_controller_file(&record).unwrap_err();
            assert_eq!(error.to_string(), expected);
            assert!(!record.path.exists(), "nothing written");
        }
        chmod(&secrets, 0o700);
        chmod(&relay, 0o700);
        let password = ManagedPassword::resolve(None, file, true).expect("private again");
        assert_eq!(password.secret.expose(), "kept");
    }

    #[test]
    fn a_secrets_directory_owned_by_another_user_is_refused() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().expect("tmp");
        let relay = dir.path().join("secrets/relay01");
        std::fs::create_dir_all(&relay).expect("dir");
        let owner = std::fs::metadata(&relay).expect("meta").uid();
        let someone_else = if owner == 4242 { 4243 } else { 4242 };
        let error = check_directories(&relay.join("medulla_password"), someone_else).unwrap_err();
        assert_eq!(
            error,
            format!(
                "{} is owned by uid {owner}, not by uid {someone_else} who runs relayctl: its \
                 owner could swap the password files in it",
                relay.display()
            )
        );
        assert_eq!(
            check_directories(&relay.join("medulla_password"), owner),
            Ok(())
        );
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
            assert!(matches!(password.source, Source::Generated));
            let same = password.secret.expose() == resolved[0].secret.expose();
            assert!(same, "relay {i} got a password of its own");
        }
        let own = ManagedPassword::resolve(None, dir.path().join("secrets/relay02/pw"), true)
            .expect("ok");
        assert_ne!(
            own.secret.expose(),
            resolved[0].secret.expose(),
            "another file"
        );
        // What each relay writes before it sets its password is the one secret.
        let written: Vec<String> = resolved
            .iter()
            .map(|p| p.controller_files("$y$h").0[0].content.expose().to_string())
            .collect();
        assert!(
            written.iter().all(|w| *w == written[0]),
            "{}",
            written.len()
        );
    }

    #[test]
    fn a_password_file_readable_by_others_is_refused() {
        let dir = tempfile::tempdir().expect("tmp");
        let file = dir.path().join("pw");
        std::fs::write(&file, "x\n").expect("write");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let error = ManagedPassword::resolve(None, file.clone(), true).unwrap_err();
        assert!(error.message.contains("chmod 600"), "{error}");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        let password = ManagedPassword::resolve(None, file, true).expect("reads");
        assert_eq!(password.secret.expose(), "x");
    }

    #[test]
    fn the_hash_is_yescrypt() {
        let password = ManagedPassword {
            secret: Secret::new("pw".into()),
            file: PathBuf::from("/nonexistent"),
            source: Source::File,
        };
        assert!(password.hash().expect("hash").starts_with("$y$"));
    }

    #[test]
    fn one_secret_is_hashed_once_per_run_and_each_hash_verifies_its_secret() {
        use yescrypt::PasswordVerifier;
        let password = |secret: &str, host: &str| ManagedPassword {
            secret: Secret::new(secret.into()),
            file: PathBuf::from(format!("/secrets/{host}/medulla_password")),
            source: Source::File,
        };
        let mut cache = HashCache::new();
        let first = cache.hash(&password("shared", "relay01")).expect("hash");
        let again = cache.hash(&password("shared", "relay02")).expect("hash");
        let other = cache.hash(&password("its own", "relay03")).expect("hash");
        assert_eq!(first, again, "the same secret, the run's one hash");
        assert_ne!(first, other, "another secret, another hash");
        assert_eq!(cache.hashes.len(), 2);
        for (secret, hash) in [("shared", &first), ("its own", &other)] {
            let parsed = yescrypt::PasswordHashRef::new(hash).expect("a crypt(3) hash");
            yescrypt::Yescrypt::default()
                .verify_password(secret.as_bytes(), parsed)
                .expect("the hash is of its secret");
        }
        let next_run = HashCache::new()
            .hash(&password("shared", "relay01"))
            .expect("hash");
        assert_ne!(first, next_run, "a new run draws a new salt");
    }
}
