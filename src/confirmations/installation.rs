//! What SIVEO's installation needs next besides the five items of PROC step 5, checked on the
//! relay as it is: each check passes, fails (the relay is not ready) or warns (said in the
//! report, the relay may still be ready), and cites where the need comes from.
//!
//! - `workstations`: a classic relay serves its site's workstations (PXE, XMPP, HTTP, NFS from
//!   them: seed 000), so its firewall needs their networks, unless the inventory says on
//!   purpose that no workstation uses it (`relay_serves_workstations: false`).

use serde::Serialize;

use crate::inventory::RelaySettings;
use crate::medulla::RelayType;

/// How one installation check ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckOutcome {
    Ok,
    /// SIVEO's installation would trip over it: the relay is not ready.
    Failed,
    /// Worth fixing, not a reason to hold the relay back.
    Warning,
}

impl CheckOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Failed => "FAILED",
            Self::Warning => "warning",
        }
    }
}

/// One check of what the installation needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InstallationCheck {
    /// Stable: `workstations`, `limits`, `time`.
    pub key: &'static str,
    pub title: &'static str,
    pub status: CheckOutcome,
    pub summary: String,
    pub details: Vec<String>,
    /// Where the need is documented.
    pub source: &'static str,
}

/// A classic relay's workstation networks; `None` for a DMZ relay, which serves none (its
/// clients come from outside, on 22 and 5222: FLUX §4).
pub fn workstations(relay: &RelaySettings) -> Option<InstallationCheck> {
    if relay.relay_type != RelayType::Classic {
        return None;
    }
    let networks: Vec<String> = relay
        .workstation_subnets
        .iter()
        .map(ToString::to_string)
        .collect();
    let (status, summary) = match (networks.is_empty(), relay.serves_workstations) {
        (false, _) => (
            CheckOutcome::Ok,
            format!(
                "the firewall admits the workstations of {}",
                networks.join(", ")
            ),
        ),
        (true, false) => (
            CheckOutcome::Ok,
            "no workstation uses this relay (relay_serves_workstations: false)".to_string(),
        ),
        (true, true) => (
            CheckOutcome::Failed,
            "workstation_subnets is empty: the firewall admits no workstation, so once Medulla \
             is installed its workstations' PXE, XMPP, HTTP and NFS are dropped; list their \
             networks, or set relay_serves_workstations: false if no workstation uses this relay"
                .to_string(),
        ),
    };
    Some(InstallationCheck {
        key: "workstations",
        title: "Workstation networks",
        status,
        summary,
        details: Vec::new(),
        source: "seed 000 (classic relay: workstation -> relay flows); seed 004 ARCH",
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;

    #[test]
    fn a_classic_relay_needs_its_workstation_networks_unless_it_serves_none() {
        let mut relay = testing::relay();
        let check = workstations(&relay).expect("a classic relay");
        assert_eq!(
            (check.status, check.summary.as_str()),
            (
                CheckOutcome::Ok,
                "the firewall admits the workstations of 10.10.0.0/16"
            )
        );
        relay.workstation_subnets.clear();
        let check = workstations(&relay).expect("a classic relay");
        assert_eq!(check.status, CheckOutcome::Failed);
        assert!(check.summary.starts_with("workstation_subnets is empty"));
        relay.serves_workstations = false;
        assert_eq!(
            workstations(&relay).map(|c| c.status),
            Some(CheckOutcome::Ok)
        );
        relay.relay_type = RelayType::Dmz;
        assert_eq!(workstations(&relay), None);
    }
}
