//! The controller's one hashing thread: every yescrypt hash relayctl makes, and every check of
//! a secret against a host's hash, once per distinct secret (and hash) in a run.

use std::sync::OnceLock;

use sha2::{Digest, Sha256};

use crate::secret::Secret;

/// Work for the hashing thread, and where its result goes.
enum HashJob {
    /// A hash to make for a step about to run, and what to do with it (awaited by the step's
    /// task: see [`with_hash`]).
    Hash(Secret, Box<dyn FnOnce(Result<String, String>) + Send>),
    /// Is this the host's hash of this secret? (Waited for by a plan, which is synchronous.)
    Verify(Secret, String, std::sync::mpsc::SyncSender<bool>),
}

/// The controller's one hashing thread, started on first use. yescrypt at Debian's cost takes
/// 16 MiB per hash, and at 50 relays they all want theirs at once (the user task comes first):
/// hashed on the async workers, or on tokio's pool of blocking threads, each thread kept its own
/// 16 MiB in the allocator's arena (46 MB peak for 10 relays, measured). One thread reuses one
/// block, and the workers keep the other relays' SSH traffic moving meanwhile.
///
/// One hash per secret per run ([`HashCache`]): 50 relays given one password took 50 hashes,
/// about 2 s of a core that, in a change window from a jump box or in the lab, the relays' own
/// work is waiting for. Checks of a secret against a host's hash go through it too, for the
/// same memory and so that 50 relays asking at once about one hash cost one check.
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
                    for job in queue {
                        match job {
                            HashJob::Hash(secret, then) => then(cache.hash(&secret)),
                            HashJob::Verify(secret, hash, reply) => {
                                let _ = reply.send(cache.verify(&secret, &hash));
                            }
                        }
                    }
                })
                .map(|_| jobs)
                .map_err(|e| format!("cannot start the hashing thread: {e}"))
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// The run's hash of `secret` (made on the hashing thread, one at a time), given to `then`, and
/// what `then` made of it. `then` runs on the hashing thread too: what it reads and writes on
/// the controller (a record, a generated password's file) is done there, one relay at a time,
/// and never holds up an async worker.
pub(super) async fn with_hash<T: Send + 'static>(
    secret: Secret,
    then: impl FnOnce(String) -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    let (reply, done) = tokio::sync::oneshot::channel();
    let job = HashJob::Hash(
        secret,
        Box::new(move |hash: Result<String, String>| {
            let _ = reply.send(hash.and_then(then));
        }),
    );
    hashing_thread()?
        .send(job)
        .map_err(|_| "the hashing thread is gone".to_string())?;
    done.await
        .map_err(|_| "the hashing thread is gone".to_string())?
}

/// A new yescrypt hash of the secret.
pub(super) fn new_hash(secret: &Secret) -> Result<String, String> {
    use yescrypt::PasswordHasher;
    yescrypt::Yescrypt::default()
        .hash_password(secret.expose().as_bytes())
        .map(|hash| hash.as_str().to_string())
        .map_err(|e| format!("cannot hash the password: {e}"))
}

/// The hashes made this run, by secret: a relay whose password is the same secret as another's
/// gets the same hash, salt included. The salt hides that two accounts share a password and
/// defeats precomputed tables; here the inventory gives these accounts one password on purpose,
/// and whoever cracks one relay's hash has the others' password whatever their salts, so one
/// hash gives nothing away that 50 would not. Distinct secrets (generated per relay, a
/// `medulla_password_file` per host) still get hashes of their own.
///
/// It also keeps the answers to "is this host's hash one of this secret?" (a password from the
/// environment, [`verify`]): every hash it made is, and a hash asked about is checked once.
///
/// Keyed by a digest of the secret under a key drawn for this process, so the map holds no
/// copy of a secret, and its keys are worth nothing once the run ends.
struct HashCache {
    key: [u8; 32],
    hashes: std::collections::HashMap<[u8; 32], String>,
    verified: std::collections::HashMap<([u8; 32], String), bool>,
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
            verified: std::collections::HashMap::new(),
        }
    }

    /// What the maps know `secret` by.
    fn id(&self, secret: &Secret) -> [u8; 32] {
        let mut digest = Sha256::new();
        digest.update(self.key);
        digest.update(secret.expose().as_bytes());
        digest.finalize().into()
    }

    /// The run's hash of `secret`: made on the first request, reused after.
    fn hash(&mut self, secret: &Secret) -> Result<String, String> {
        let id = self.id(secret);
        if let Some(hash) = self.hashes.get(&id) {
            return Ok(hash.clone());
        }
        let hash = new_hash(secret)?;
        self.hashes.insert(id, hash.clone());
        self.verified.insert((id, hash.clone()), true);
        Ok(hash)
    }

    /// Whether `hash` is a yescrypt hash of `secret`: checked on the first request, known after.
    fn verify(&mut self, secret: &Secret, hash: &str) -> bool {
        use yescrypt::PasswordVerifier;
        let key = (self.id(secret), hash.to_string());
        if let Some(&known) = self.verified.get(&key) {
            return known;
        }
        let matches = yescrypt::Yescrypt::default()
            .verify_password(secret.expose().as_bytes(), hash)
            .is_ok();
        self.verified.insert(key, matches);
        matches
    }
}

/// True when `hash` (a host's) is a yescrypt hash of `secret` made with relayctl's parameters.
/// Asked by a plan, which is synchronous: the plan's worker waits for the hashing thread's
/// answer (tens of ms, once per distinct secret and hash in the run; at once after that).
/// A hash of other parameters is not relayctl's, and is never computed: a relay's shadow line
/// could otherwise ask the controller for any amount of memory and time.
pub(super) fn verify(secret: &Secret, hash: &str) -> bool {
    if !made_as_relayctl_makes(hash) {
        return false;
    }
    let Ok(jobs) = hashing_thread() else {
        return false;
    };
    let (reply, answer) = std::sync::mpsc::sync_channel(1);
    if jobs
        .send(HashJob::Verify(secret.clone(), hash.to_string(), reply))
        .is_err()
    {
        return false;
    }
    answer.recv().unwrap_or(false)
}

/// `$y$PARAMS$salt$hash` with the parameters relayctl hashes with.
fn made_as_relayctl_makes(hash: &str) -> bool {
    static OURS: OnceLock<String> = OnceLock::new();
    let ours = OURS.get_or_init(|| yescrypt::Params::default().to_string());
    let fields: Vec<&str> = hash.split('$').collect();
    matches!(fields.as_slice(), ["", "y", params, _, _] if params == ours)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::super::{ManagedPassword, Source};
    use super::*;

    #[test]
    fn the_hash_is_yescrypt() {
        let password = ManagedPassword {
            secret: Secret::new("pw".into()),
            file: PathBuf::from("/nonexistent"),
            source: Source::Env("PW".into()),
        };
        assert!(new_hash(&password.secret).expect("hash").starts_with("$y$"));
    }

    #[test]
    fn one_secret_is_hashed_once_per_run_and_each_hash_verifies_its_secret() {
        use yescrypt::PasswordVerifier;
        let password = |secret: &str, host: &str| ManagedPassword {
            secret: Secret::new(secret.into()),
            file: PathBuf::from(format!("/secrets/{host}/medulla_password")),
            source: Source::Env("PW".into()),
        };
        let mut cache = HashCache::new();
        let first = cache
            .hash(&password("shared", "relay01").secret)
            .expect("hash");
        let again = cache
            .hash(&password("shared", "relay02").secret)
            .expect("hash");
        let other = cache
            .hash(&password("its own", "relay03").secret)
            .expect("hash");
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
            .hash(&password("shared", "relay01").secret)
            .expect("hash");
        assert_ne!(first, next_run, "a new run draws a new salt");
    }

    #[test]
    fn a_hosts_hash_is_checked_against_a_secret_once_per_run() {
        let secret = |text: &str| Secret::new(text.into());
        let password = ManagedPassword {
            secret: secret("shared"),
            file: PathBuf::from("/secrets/relay01/medulla_password"),
            source: Source::Env("PW".into()),
        };
        let mut cache = HashCache::new();
        let made = cache.hash(&password.secret).expect("hash");
        assert!(cache.verify(&secret("shared"), &made), "made here: known");
        assert_eq!(cache.verified.len(), 1, "without checking it");
        let earlier = new_hash(&password.secret).expect("an earlier run's hash");
        assert!(cache.verify(&secret("shared"), &earlier));
        assert!(!cache.verify(&secret("other"), &earlier));
        assert_eq!(cache.verified.len(), 3);
        assert!(
            cache.verify(&secret("shared"), &earlier),
            "asked again: known"
        );
        assert_eq!(cache.verified.len(), 3);
        assert!(made_as_relayctl_makes(&made) && made_as_relayctl_makes(&earlier));
        assert!(!made_as_relayctl_makes("$6$salt$sha512crypt"));
        assert!(!made_as_relayctl_makes(&made.replacen("$j9T$", "$jFT$", 1)));
    }
}
