//! What Medulla is and what it requires of a relay, as data with its sources (DESIGN rule 7):
//! the relay types and the offers (here), the port matrix (`port_matrix.rs`). The bottom of the
//! crate: the inventory reads these, the firewall, the sizing and the flow checks use them, and
//! they depend on nothing of relayctl's own.

pub mod port_matrix;

use std::fmt;

use serde::Serialize;

/// Classic relays serve workstations (imaging, packages); DMZ relays only relay XMPP and
/// ejabberd clustering for mobile clients (MEDULLA_FACTS: ARCH, S000).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RelayType {
    Classic,
    Dmz,
}

/// How Medulla is delivered: the dedicated-SaaS relay procedure (seed 004 PROC) or on premise.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MedullaOffer {
    DedicatedSaas,
    OnPremise,
}

impl RelayType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Classic => "classic",
            Self::Dmz => "dmz",
        }
    }
}

impl MedullaOffer {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DedicatedSaas => "dedicated_saas",
            Self::OnPremise => "on_premise",
        }
    }
}

impl fmt::Display for RelayType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for MedullaOffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
