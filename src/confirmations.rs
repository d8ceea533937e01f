//! The confirmations a customer hands back to SIVEO for each relay (seed 004, "Procedure for
//! adding relays to Medulla Dedicated SaaS", step 5), each from what was verified on the relay,
//! not from what the inventory says, and a READY / NOT READY verdict with its reasons.
//!
//! The five items, in the procedure's order: the ITSM entity (a manual step in ITSM), the ports
//! opened (the flow checks), the SSH key added (the key installed for medulla, by fingerprint),
//! the medulla password with passwordless sudo (`sudo -n true` as medulla; where the password
//! file is, never the password), the relay's FQDN (`hostname -f`, and whether it resolves).

use serde::Serialize;

/// How far one item is confirmed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConfirmationStatus {
    /// Verified on the relay.
    Confirmed,
    /// Verified, and wrong or missing.
    NotConfirmed,
    /// Nothing on the relay can prove it: a step to do by hand (the ITSM entity).
    Manual,
}

impl ConfirmationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Confirmed => "confirmed",
            Self::NotConfirmed => "NOT confirmed",
            Self::Manual => "manual step",
        }
    }
}

/// One of the five items of PROC step 5.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Confirmation {
    /// 1 to 5, the procedure's order.
    pub item: u8,
    /// Stable: `itsm_entity`, `ports`, `ssh_key`, `medulla_access`, `fqdn`.
    pub key: &'static str,
    pub title: &'static str,
    pub status: ConfirmationStatus,
    /// One line for the ticket.
    pub summary: String,
    /// What was found, line by line (failing flows, fingerprints, ...).
    pub details: Vec<String>,
}

/// A relay's confirmations and verdict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Confirmations {
    /// READY: every verifiable item confirmed, sizing passed, no task failed.
    pub ready: bool,
    /// Why not ready (empty when ready).
    pub reasons: Vec<String>,
    pub items: Vec<Confirmation>,
    /// Flows only Medulla can test (its server is not the customer's): listed for SIVEO.
    pub to_confirm_by_medulla: Vec<String>,
}
