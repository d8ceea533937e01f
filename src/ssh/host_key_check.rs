//! Host key verification during key exchange: the russh client handler of every connection.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use russh::client;
use russh::keys::PublicKeyOrCertificate;

use super::SshError;
use super::host_keys::{self, HostKeyPolicy, Verdict};
use super::target::Endpoint;

/// The russh handler: verifies the server key against known_hosts and keeps the reason of a refusal so
/// that the connect error says why (a bare "unknown key" would not tell a changed key from a new one).
pub(super) struct HostKeyCheck {
    host: String,
    port: u16,
    known_hosts: PathBuf,
    policy: HostKeyPolicy,
    refusal: RefusalSlot,
}

/// Where the handler leaves the reason it refused a host key.
#[derive(Clone, Default)]
pub(super) struct RefusalSlot(Arc<Mutex<Option<SshError>>>);

impl RefusalSlot {
    fn put(&self, e: SshError) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
    }

    pub(super) fn take(&self) -> Option<SshError> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

impl HostKeyCheck {
    pub(super) fn new(
        endpoint: &Endpoint,
        known_hosts: &Path,
        policy: HostKeyPolicy,
    ) -> (Self, RefusalSlot) {
        let refusal = RefusalSlot::default();
        let handler = HostKeyCheck {
            host: endpoint.address.clone(),
            port: endpoint.port,
            known_hosts: known_hosts.to_path_buf(),
            policy,
            refusal: refusal.clone(),
        };
        (handler, refusal)
    }
}

impl client::Handler for HostKeyCheck {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        offered: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let PublicKeyOrCertificate::PublicKey { key, .. } = offered else {
            self.refusal.put(SshError::Protocol(
                "host certificates are not supported".into(),
            ));
            return Ok(false);
        };
        match host_keys::verify(&self.host, self.port, key, &self.known_hosts, self.policy) {
            Verdict::Known | Verdict::Learned => Ok(true),
            Verdict::Refused(e) => {
                self.refusal.put(e);
                Ok(false)
            }
        }
    }
}
