//! One item of the confirmations and how far it is confirmed: what every item's check makes.

use serde::Serialize;

/// How far one item is confirmed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConfirmationStatus {
    /// Verified on the relay.
    Confirmed,
    /// Verified, and wrong or missing.
    NotConfirmed,
    /// What could be tried works, and part of it could not be tried from here (the ports: the
    /// flows from a Medulla server that is not the customer's, or from no workstation): not a
    /// reason to hold the relay back, and never said "confirmed".
    PartlyConfirmed,
    /// Nothing on the relay can prove it: a step to do by hand (the ITSM entity).
    Manual,
}

impl ConfirmationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Confirmed => "confirmed",
            Self::NotConfirmed => "NOT confirmed",
            Self::PartlyConfirmed => "partly confirmed",
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

impl Confirmation {
    pub fn new(
        item: u8,
        key: &'static str,
        title: &'static str,
        status: ConfirmationStatus,
        summary: impl Into<String>,
        details: Vec<String>,
    ) -> Self {
        Confirmation {
            item,
            key,
            title,
            status,
            summary: summary.into(),
            details,
        }
    }
}
