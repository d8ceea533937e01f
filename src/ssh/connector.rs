//! Opening the sessions of a run: the credentials are shared, and so is the connection to a jump
//! host, so that ten DMZ relays behind one bastion cost one bastion connection, not ten (one SSH
//! connection per host per run, the bastion included).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::{Mutex, OnceCell};

use super::{Credentials, Endpoint, Session, SshError, Target};

/// A jump host as connected to: where, with which key, verified against which known_hosts.
type JumpKey = (Endpoint, Option<PathBuf>, PathBuf);
type JumpSlot = Arc<OnceCell<Result<Arc<Session>, SshError>>>;

/// Opens sessions for one run.
pub struct Connector<'a> {
    credentials: &'a Credentials,
    jumps: Mutex<HashMap<JumpKey, JumpSlot>>,
}

impl<'a> Connector<'a> {
    pub fn new(credentials: &'a Credentials) -> Self {
        Connector {
            credentials,
            jumps: Mutex::new(HashMap::new()),
        }
    }

    /// Connects to `target` within its connect timeout, through its jump host if it has one.
    pub async fn connect(&self, target: &Target) -> Result<Session, SshError> {
        let timeout = target.connect_timeout;
        let address = target.endpoint.address.clone();
        let connecting =
            async {
                let jump =
                    match &target.jump {
                        None => None,
                        Some(jump) => Some(self.jump_session(target, jump).await.map_err(|e| {
                            SshError::Jump {
                                jump: jump.to_string(),
                                source: Box::new(e),
                            }
                        })?),
                    };
                Session::establish(target, self.credentials, jump).await
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
            Session::establish(&bastion, self.credentials, None)
                .await
                .map(Arc::new)
        })
        .await
        .clone()
    }
}
