//! Flow checks: a relay is ready when its flows work, not when a rule exists (seed 004, "FLUX
//! Test"; PROC step 5 asks the customer to confirm the ports are open). For every row of the
//! relay's adjusted port matrix, a TCP connection is made in the direction the documentation
//! says the flow is initiated: from the Medulla server and a workstation of the inventory to the
//! relay, from the relay to the server and the workstation.
//!
//! - `plan.rs`: which checks a relay gets, from which host to which address;
//! - `scripts.rs`: the listener opened on the relay for ports nothing listens on yet, the
//!   connect test run on the initiating host, and the parsers of what they print;
//! - `run.rs`: carrying a relay's checks out over the run's sessions, all at once.

pub mod plan;
pub mod run;
pub mod scripts;

use serde::Serialize;

use crate::medulla::port_matrix::{Flow, Protocol};

/// How one flow check ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FlowOutcome {
    /// The TCP connection was made.
    Open,
    /// Refused: the packet got through and was turned back (nothing listens, or a reject rule).
    Refused,
    /// No answer within the timeout: dropped on the way (a firewall).
    Filtered,
    /// The connect failed otherwise (no route to host, ...): `detail` says how.
    Error,
    /// UDP: a connect proves nothing, and no real probe of these services is possible here.
    NotTestable,
    /// The initiating host is not ours to use (the SaaS server): Medulla confirms these.
    ToConfirm,
    /// The check could not be made (no workstation in the inventory, a peer unreachable):
    /// `detail` says why.
    NotChecked,
}

impl FlowOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Refused => "refused",
            Self::Filtered => "filtered",
            Self::Error => "error",
            Self::NotTestable => "not testable by connect",
            Self::ToConfirm => "to be confirmed by Medulla",
            Self::NotChecked => "not checked",
        }
    }
}

/// Whether a temporary listener was opened on the relay for an inbound check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Listener {
    /// Something already listened on the port (Medulla, sshd): used as is.
    Existing,
    /// relayctl listened on the port for the check, and closed it afterwards.
    Temporary,
}

/// One flow, checked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FlowResult {
    pub flow: Flow,
    pub protocol: Protocol,
    pub port: u16,
    /// The inventory name of the host the connection starts from.
    pub from: String,
    /// The inventory name of the host it goes to (or the address, for a server not in the
    /// inventory).
    pub to: String,
    /// The address connected to.
    pub address: String,
    pub purpose: String,
    /// Where the flow is documented (the matrix row's source).
    pub source: String,
    pub result: FlowOutcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub elapsed_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listener: Option<Listener>,
}

impl FlowResult {
    /// `Some(true)`: the flow is confirmed; `Some(false)`: it fails; `None`: it cannot be told
    /// here (UDP, the SaaS server's side, no peer to start from).
    ///
    /// A refusal confirms a flow to a workstation: the packet crossed every firewall and the
    /// workstation answered; whether it runs VNC or RDP yet is its own business. Towards the
    /// Medulla server or a relay (where a listener was opened if need be), something must
    /// listen: a refusal fails.
    pub fn passed(&self) -> Option<bool> {
        match self.result {
            FlowOutcome::Open => Some(true),
            FlowOutcome::Refused => Some(self.flow == Flow::RelayToWorkstation),
            FlowOutcome::Filtered | FlowOutcome::Error => Some(false),
            FlowOutcome::NotTestable | FlowOutcome::ToConfirm | FlowOutcome::NotChecked => None,
        }
    }

    /// `medulla-server -> relay01 tcp/5269 (XMPP server-to-server)`.
    pub fn describe(&self) -> String {
        format!(
            "{} -> {} {}/{} ({})",
            self.from, self.to, self.protocol, self.port, self.purpose
        )
    }

    /// The result in words: `open in 3 ms`, `filtered (no answer in 3 s)`, ...
    pub fn result_text(&self) -> String {
        let mut text = self.result.as_str().to_string();
        if let Some(ms) = self.elapsed_ms {
            text.push_str(&format!(" in {ms} ms"));
        }
        if let Some(detail) = &self.detail {
            text.push_str(&format!(" ({detail})"));
        }
        text
    }
}
