//! Client credentials: private key files (ed25519, ECDSA, RSA; encrypted ones with a passphrase) and
//! the ssh-agent.
//!
//! Keys are loaded once per run, before any connection, so a passphrase prompt happens once and never
//! in the middle of concurrent connections.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use russh::client::{AuthResult, Handle};
use russh::keys::agent::AgentIdentity;
use russh::keys::agent::client::AgentClient;
use russh::keys::{PrivateKey, PrivateKeyWithHashAlg};

use super::SshError;
use crate::input::files;
use crate::secret::Secret;

/// Where the passphrase of an encrypted key comes from when it is needed.
#[derive(Clone, Debug, Default)]
pub enum PassphraseSource {
    /// `RELAYCTL_KEY_PASSPHRASE`, else a prompt when stdin is a terminal.
    #[default]
    EnvOrPrompt,
    /// Never ask (tests, CI): an encrypted key without the env var is an error.
    EnvOnly,
}

/// The env var that carries the passphrase of encrypted private keys.
pub const KEY_PASSPHRASE_ENV: &str = "RELAYCTL_KEY_PASSPHRASE";

/// The private keys a run may use, decrypted once, shared by every connection.
#[derive(Default)]
pub struct Credentials {
    keys: HashMap<PathBuf, Arc<PrivateKey>>,
    /// Use the ssh-agent named by `SSH_AUTH_SOCK` when it is set.
    use_agent: bool,
}

/// OpenSSH's default identities, tried when a host names no key file.
const DEFAULT_IDENTITIES: [&str; 3] = ["id_ed25519", "id_ecdsa", "id_rsa"];

impl Credentials {
    /// Loads every key file in `explicit` (each must load) and whichever default identities exist
    /// when `want_defaults`.
    pub fn load(
        explicit: &[PathBuf],
        want_defaults: bool,
        passphrase: &PassphraseSource,
    ) -> Result<Self, SshError> {
        let mut keys = HashMap::new();
        for path in explicit {
            if !keys.contains_key(path) {
                keys.insert(path.clone(), Arc::new(load_key(path, passphrase)?));
            }
        }
        if want_defaults {
            for path in default_identity_paths() {
                // A default identity that is absent or cannot be decrypted is skipped, as OpenSSH does.
                if path.exists()
                    && let Ok(key) = load_key(&path, &PassphraseSource::EnvOnly)
                {
                    keys.entry(path).or_insert_with(|| Arc::new(key));
                }
            }
        }
        Ok(Credentials {
            keys,
            use_agent: std::env::var_os("SSH_AUTH_SOCK").is_some(),
        })
    }

    /// One key file and nothing else (no agent, no default identity): to prove that this key,
    /// and only it, opens the account.
    pub fn only(key: &Path, passphrase: &PassphraseSource) -> Result<Self, SshError> {
        let mut keys = HashMap::new();
        keys.insert(key.to_path_buf(), Arc::new(load_key(key, passphrase)?));
        Ok(Credentials {
            keys,
            use_agent: false,
        })
    }

    /// Authenticates `user` on `handle`: the host's key file first, then the agent's keys, then the
    /// default identities. Returns what was tried when every method is refused.
    pub(super) async fn authenticate<H: russh::client::Handler>(
        &self,
        handle: &mut Handle<H>,
        user: &str,
        address: &str,
        key_file: Option<&Path>,
    ) -> Result<(), SshError> {
        let mut tried = Vec::new();
        if let Some(path) = key_file {
            let key = self.keys.get(path).ok_or_else(|| SshError::Key {
                path: path.to_path_buf(),
                reason: "was not loaded".into(),
            })?;
            tried.push(path.display().to_string());
            if try_key(handle, user, key.clone()).await? {
                return Ok(());
            }
        }
        if self.use_agent {
            match agent_auth(handle, user).await {
                Ok(true) => return Ok(()),
                Ok(false) => tried.push("ssh-agent".into()),
                Err(reason) => tried.push(format!("ssh-agent ({reason})")),
            }
        }
        if key_file.is_none() {
            for path in default_identity_paths() {
                if let Some(key) = self.keys.get(&path) {
                    tried.push(path.display().to_string());
                    if try_key(handle, user, key.clone()).await? {
                        return Ok(());
                    }
                }
            }
        }
        if tried.is_empty() {
            tried.push("no key file, no ssh-agent, no default identity".into());
        }
        Err(SshError::AuthRefused {
            user: user.to_string(),
            address: address.to_string(),
            tried: tried.join(", "),
        })
    }
}

fn default_identity_paths() -> Vec<PathBuf> {
    let Some(home) = std::env::home_dir() else {
        return Vec::new();
    };
    DEFAULT_IDENTITIES
        .iter()
        .map(|name| home.join(".ssh").join(name))
        .collect()
}

fn load_key(path: &Path, passphrase: &PassphraseSource) -> Result<PrivateKey, SshError> {
    let key_error = |reason: String| SshError::Key {
        path: path.to_path_buf(),
        reason,
    };
    // russh's load_secret_key would read any file to its end, /dev/zero included.
    let text = files::read_text(path, files::KEY).map_err(|e| key_error(e.to_string()))?;
    match russh::keys::decode_secret_key(&text, None) {
        Ok(key) => Ok(key),
        Err(russh::keys::Error::KeyIsEncrypted) => {
            let secret = match (std::env::var(KEY_PASSPHRASE_ENV), passphrase) {
                (Ok(value), _) => Secret::new(value),
                (Err(_), PassphraseSource::EnvOrPrompt)
                    if std::io::IsTerminal::is_terminal(&std::io::stdin()) =>
                {
                    let prompt = format!("Passphrase for {}: ", path.display());
                    Secret::new(
                        rpassword::prompt_password(prompt).map_err(|e| key_error(e.to_string()))?,
                    )
                }
                _ => {
                    return Err(key_error(format!(
                        "is encrypted: set {KEY_PASSPHRASE_ENV} or run from a terminal to be asked"
                    )));
                }
            };
            russh::keys::decode_secret_key(&text, Some(secret.expose())).map_err(|e| {
                key_error(format!("cannot decrypt it with the passphrase given ({e})"))
            })
        }
        Err(e) => Err(key_error(e.to_string())),
    }
}

async fn try_key<H: russh::client::Handler>(
    handle: &mut Handle<H>,
    user: &str,
    key: Arc<PrivateKey>,
) -> Result<bool, SshError> {
    // OpenSSH >= 8.8 refuses SHA-1 RSA signatures: ask the server which RSA hash it wants.
    let hash = if key.algorithm().is_rsa() {
        handle.best_supported_rsa_hash().await?.flatten()
    } else {
        None
    };
    let result = handle
        .authenticate_publickey(user, PrivateKeyWithHashAlg::new(key, hash))
        .await?;
    Ok(matches!(result, AuthResult::Success))
}

async fn agent_auth<H: russh::client::Handler>(
    handle: &mut Handle<H>,
    user: &str,
) -> Result<bool, String> {
    let mut agent = AgentClient::connect_env()
        .await
        .map_err(|e| e.to_string())?;
    let identities = agent
        .request_identities()
        .await
        .map_err(|e| e.to_string())?;
    for identity in identities {
        let AgentIdentity::PublicKey { key, .. } = identity else {
            continue;
        };
        let hash = if key.algorithm().is_rsa() {
            handle
                .best_supported_rsa_hash()
                .await
                .map_err(|e| e.to_string())?
                .flatten()
        } else {
            None
        };
        match handle
            .authenticate_publickey_with(user, key, hash, &mut agent)
            .await
        {
            Ok(AuthResult::Success) => return Ok(true),
            Ok(AuthResult::Failure { .. }) => continue,
            Err(e) => return Err(format!("{e:?}")),
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use russh::keys::ssh_key::LineEnding;
    use russh::keys::ssh_key::private::Ed25519Keypair;

    fn refusal(path: &Path) -> String {
        match Credentials::only(path, &PassphraseSource::EnvOnly) {
            Ok(_) => panic!("{} was loaded", path.display()),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn a_key_file_is_read_only_if_it_is_a_regular_file_of_at_most_64_kib() {
        let dir = tempfile::tempdir().expect("temp dir");
        let key = PrivateKey::from(Ed25519Keypair::from_seed(&[7; 32]));
        let text = key.to_openssh(LineEnding::LF).expect("encode");
        let path = dir.path().join("id_ed25519");
        std::fs::write(&path, text.as_bytes()).expect("write");
        assert!(Credentials::only(&path, &PassphraseSource::EnvOnly).is_ok());

        let padded = dir.path().join("padded");
        std::fs::write(&padded, format!("{}{}", *text, "\n".repeat(64 << 10))).expect("write");
        assert_eq!(
            refusal(&padded),
            format!(
                "private key {}: it is larger than 64 KiB, more than a key file may hold",
                padded.display()
            )
        );
        assert_eq!(
            refusal(Path::new("/dev/zero")),
            "private key /dev/zero: it is a character device, not a regular file (relayctl reads \
             input from regular files only)"
        );
    }
}
