//! What a relay's run carries: the stage of the run, its inventory entry and settings, what
//! every relay of the run shares, and the session and tools its steps work with.

use crate::engine::{self, Catalog, vars};
use crate::flows::plan::Peers;
use crate::flows::run::PeerSessions;
use crate::inventory::{Host, Inventory, RelaySettings};
use crate::modules::RunScope;
use crate::progress::HostProgress;
use crate::ssh::{Connector, Session};

/// What a run does on each relay after its facts, sizing and pre-flight warnings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stage {
    /// Run the relay's roles (`apply`).
    pub roles: bool,
    /// Check the flows and gather the confirmations (`apply` but in `--check`, `flows`).
    pub flows: bool,
}

/// One relay of the run: its inventory entry, its settings and the roles it runs.
#[derive(Clone)]
pub(super) struct RelayJob<'a> {
    pub host: &'a Host,
    pub relay: RelaySettings,
    pub roles: Vec<String>,
}

/// What every relay's work shares.
pub(super) struct Shared<'a> {
    pub catalog: &'a Catalog,
    pub inventory: &'a Inventory,
    pub run_vars: vars::RunVars,
    pub options: engine::Options,
    pub stage: Stage,
    pub peers: Peers,
    pub peer_sessions: PeerSessions,
    /// What the modules keep for this run (one password for every relay that names one
    /// password file), dropped with it.
    pub run_scope: RunScope,
}

/// A relay's job with its session, its progress and the run's connector (for the checks that
/// need a connection of their own): what each step of its run works with.
pub(super) struct RelayContext<'a> {
    pub session: &'a Session,
    pub job: &'a RelayJob<'a>,
    pub shared: &'a Shared<'a>,
    pub log: &'a HostProgress,
    pub connector: &'a Connector,
}
