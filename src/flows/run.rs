//! Carrying out a relay's flow checks over the run's sessions, all at once: the listener on the
//! relay for inbound ports nothing listens on yet, then, concurrently, one connect test from each
//! host that initiates flows (the relay, the Medulla server, the workstation), then the listener
//! is released.
//!
//! The peers (Medulla servers, the workstation) are shared by every relay of the run: each gets
//! one SSH connection, opened by the first relay that needs it ([`PeerSessions`]).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::join_all;
use tokio::sync::{Mutex, OnceCell};

use super::plan::{Check, Origin};
use super::scripts::{self, LISTENER_READY};
use super::{FlowOutcome, FlowResult};
use crate::medulla::port_matrix::Flow;
use crate::progress::HostProgress;
use crate::ssh::{Connector, Session, Target};

/// How long a flow's TCP connection may take before it counts as filtered.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// How long the listener may take to open its ports.
const LISTENER_READY_WITHIN: Duration = Duration::from_secs(15);
/// The longest a listener lives if nothing ends it (its stdin normally does, within seconds).
const LISTENER_LIFETIME: Duration = Duration::from_secs(300);

type Slot = Arc<OnceCell<Result<Arc<Session>, String>>>;

/// One connection per peer for the whole run, opened on first use.
pub struct PeerSessions {
    targets: HashMap<String, Target>,
    slots: Mutex<HashMap<String, Slot>>,
}

impl PeerSessions {
    /// `targets`: how to reach each peer, by inventory name.
    pub fn new(targets: HashMap<String, Target>) -> Self {
        PeerSessions {
            targets,
            slots: Mutex::new(HashMap::new()),
        }
    }

    /// The session to peer `name` (the same for every relay; a failure is shared too).
    async fn session(&self, name: &str, connector: &Connector) -> Result<Arc<Session>, String> {
        let Some(target) = self.targets.get(name) else {
            return Err(format!("{name} is not a host of the inventory"));
        };
        let slot = self
            .slots
            .lock()
            .await
            .entry(name.to_string())
            .or_default()
            .clone();
        slot.get_or_init(|| async {
            connector
                .connect(target)
                .await
                .map(Arc::new)
                .map_err(|e| e.to_string())
        })
        .await
        .clone()
    }

    /// Closes every peer connection opened.
    pub async fn close(self) {
        for slot in self.slots.into_inner().into_values() {
            if let Some(Ok(session)) = Arc::into_inner(slot).and_then(OnceCell::into_inner)
                && let Some(session) = Arc::into_inner(session)
            {
                session.close().await;
            }
        }
    }
}

/// Runs a relay's checks and returns their results, in plan order.
pub async fn check_relay(
    relay: &Session,
    checks: Vec<Check>,
    peers: &PeerSessions,
    connector: &Connector,
    log: &HostProgress,
) -> Vec<FlowResult> {
    let started = Instant::now();
    let mut listen_ports: Vec<u16> = checks
        .iter()
        .filter(|c| c.needs_listener())
        .map(|c| c.flow.port)
        .collect();
    listen_ports.sort_unstable();
    listen_ports.dedup();
    log.step(&format!("checking {} flows", checks.len()));

    let mut listener_note = None;
    let mut listening = BTreeMap::new();
    let held = if listen_ports.is_empty() {
        None
    } else {
        let script = scripts::listener(&listen_ports, LISTENER_LIFETIME);
        match relay
            .hold_privileged(&script, LISTENER_READY, LISTENER_READY_WITHIN)
            .await
        {
            Ok((held, said)) => {
                listening = scripts::parse_listener(&said);
                Some(held)
            }
            Err(e) => {
                listener_note = Some(format!("no temporary listener: {e}"));
                None
            }
        }
    };

    let mut by_origin: BTreeMap<Origin, Vec<usize>> = BTreeMap::new();
    for (index, check) in checks.iter().enumerate() {
        if !check.decided {
            by_origin
                .entry(check.origin.clone())
                .or_default()
                .push(index);
        }
    }
    let tests = by_origin.iter().map(|(origin, indexes)| {
        let checks = &checks;
        async move {
            let session = match origin {
                Origin::Relay => Ok(None),
                Origin::Peer(name) => peers.session(name, connector).await.map(Some),
            };
            let targets: Vec<scripts::Target> = indexes
                .iter()
                .map(|&id| scripts::Target {
                    id,
                    address: &checks[id].flow.address,
                    port: checks[id].flow.port,
                })
                .collect();
            let script = scripts::connect_test(&targets, CONNECT_TIMEOUT);
            let output = match &session {
                Err(e) => Err(format!(
                    "cannot connect to {}: {e}",
                    match origin {
                        Origin::Peer(name) => name.as_str(),
                        Origin::Relay => "the relay",
                    }
                )),
                Ok(None) => relay.run(&script, b"").await.map_err(|e| e.to_string()),
                Ok(Some(peer)) => peer.run(&script, b"").await.map_err(|e| e.to_string()),
            };
            (
                origin,
                indexes,
                output.map(|o| scripts::parse_connect(&o.stdout_text())),
            )
        }
    });
    let outputs = join_all(tests).await;

    if let Some(held) = held
        && let Err(e) = held.release(Duration::from_secs(10)).await
    {
        log.detail(&format!("releasing the temporary listener: {e}"));
    }

    let mut results: Vec<FlowResult> = checks.iter().map(|c| c.flow.clone()).collect();
    for (origin, indexes, output) in outputs {
        for &id in indexes {
            let flow = &mut results[id];
            match &output {
                Ok(found) => match found.get(&id) {
                    Some((outcome, ms, detail)) => {
                        flow.result = *outcome;
                        flow.elapsed_ms = Some(*ms);
                        flow.detail = detail.clone();
                    }
                    None => flow.detail = Some("the connect test printed nothing for it".into()),
                },
                Err(e) => {
                    // A Medulla server the controller cannot reach is SIVEO's to test.
                    flow.result = match (origin, flow.flow) {
                        (Origin::Peer(_), Flow::ServerToRelay) => FlowOutcome::ToConfirm,
                        _ => FlowOutcome::NotChecked,
                    };
                    flow.detail = Some(e.clone());
                }
            }
            if flow.flow.is_inbound() {
                match listening.get(&flow.port) {
                    Some(Ok(listener)) => flow.listener = Some(*listener),
                    Some(Err(why)) if flow.passed() == Some(false) => {
                        flow.detail = Some(format!("no temporary listener: {why}"));
                    }
                    _ if flow.passed() == Some(false) => {
                        flow.detail = flow.detail.take().or(listener_note.clone());
                    }
                    _ => {}
                }
            }
        }
    }
    log.detail(&format!(
        "checked {} flows in {} ms",
        results.len(),
        started.elapsed().as_millis()
    ));
    results
}
