//! Opening the sessions of a run: the credentials are shared, and so is the connection to a jump
//! host, so that ten DMZ relays behind one bastion cost one bastion connection, not ten (one SSH
//! connection per host per run, the bastion included).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::{Mutex, OnceCell};

use super::{Become, Credentials, Endpoint, PassphraseSource, Session, SshError, Target};

/// A jump host as connected to: where, with which key, verified against which known_hosts.
type JumpKey = (Endpoint, Option<PathBuf>, PathBuf);
type JumpSlot = Arc<OnceCell<Result<Arc<Session>, SshError>>>;

/// Opens sessions for one run; clones share the credentials and the jump-host connections.
#[derive(Clone)]
pub struct Connector {
    credentials: Arc<Credentials>,
    jumps: Arc<Mutex<HashMap<JumpKey, JumpSlot>>>,
}

impl Connector {
    pub fn new(credentials: Arc<Credentials>) -> Self {
        Connector {
            credentials,
            jumps: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Connects to `target` within its connect timeout, through its jump host if it has one.
    pub async fn connect(&self, target: &Target) -> Result<Session, SshError> {
        self.connect_with(target, &self.credentials, target).await
    }

    /// Proves that `user` can log in to `target`'s host with the private key `key` alone (no
    /// agent, no other identity) and run `command`: a new connection (through the run's shared
    /// jump host, if any), closed at once. The error says what failed.
    pub async fn check_login(
        &self,
        target: &Target,
        user: &str,
        key: &std::path::Path,
        command: &str,
    ) -> Result<(), String> {
        let credentials =
            Credentials::only(key, &PassphraseSource::EnvOnly).map_err(|e| e.to_string())?;
        let login = Target {
            endpoint: Endpoint {
                user: user.to_string(),
                ..target.endpoint.clone()
            },
            key_file: Some(key.to_path_buf()),
            escalation: Become::No,
            ..target.clone()
        };
        let session = self
            .connect_with(&login, &credentials, target)
            .await
            .map_err(|e| format!("login as {user} failed: {e}"))?;
        let output = session.run(command, b"").await;
        session.close().await;
        let output = output.map_err(|e| format!("{command} as {user}: {e}"))?;
        if output.exit_status == 0 {
            Ok(())
        } else {
            Err(format!(
                "{user} logged in, but {command} exited with {}: {}",
                output.exit_status,
                output.stderr_text().trim()
            ))
        }
    }

    /// Connects to `target` with `credentials`; the jump host, if any, is reached as `via` says
    /// (its key file and known_hosts), with the run's credentials.
    async fn connect_with(
        &self,
        target: &Target,
        credentials: &Credentials,
        via: &Target,
    ) -> Result<Session, SshError> {
        let timeout = target.connect_timeout;
        let address = target.endpoint.address.clone();
        let connecting =
            async {
                let jump =
                    match &target.jump {
                        None => None,
                        Some(jump) => Some(self.jump_session(via, jump).await.map_err(|e| {
                            SshError::Jump {
                                jump: jump.to_string(),
                                source: Box::new(e),
                            }
                        })?),
                    };
                Session::establish(target, credentials, jump).await
            };
        tokio::time::timeout(timeout, connecting)
            .await
            .unwrap_or(Err(SshError::ConnectTimeout { address, timeout }))
    }

    /// The session to `jump`, opened by the first host that needs it and shared with the others.
    /// A failure is shared too: every host behind a bastion that refused us reports the same error.
    async fn jump_session(
        &self,
        target: &Target,
        jump: &Endpoint,
    ) -> Result<Arc<Session>, SshError> {
        let bastion = Target {
            endpoint: jump.clone(),
            jump: None,
            ..target.clone()
        };
        let key = (
            jump.clone(),
            bastion.key_file.clone(),
            bastion.known_hosts.clone(),
        );
        let slot = self.jumps.lock().await.entry(key).or_default().clone();
        slot.get_or_init(|| async {
            Session::establish(&bastion, &self.credentials, None)
                .await
                .map(Arc::new)
        })
        .await
        .clone()
    }
}
