//! Pre-flight findings: things on a host that would break the Medulla installation later. They are
//! warnings, not sizing failures: the operator decides (shared/MEDULLA_FACTS.md, "Access").

use serde::Serialize;

use crate::facts::Facts;

/// The main server's XMPP domain is `pulse`: a relay with that short hostname collides with it.
/// Source: MEDULLA_FACTS.md "Access" (SIVEO's public code, medulla-tech/integration).
pub const RESERVED_SHORT_HOSTNAME: &str = "pulse";
/// The Medulla packages create `drivers` with uid 215. Source: MEDULLA_FACTS.md "Access".
pub const DRIVERS_UID: u32 = 215;
pub const DRIVERS_USER: &str = "drivers";

/// One pre-flight finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Warning {
    pub code: &'static str,
    pub message: String,
}

/// The pre-flight findings for a host; `expected_fqdn` is the inventory's `relay_fqdn`, if any.
pub fn warnings(facts: &Facts, expected_fqdn: Option<&str>) -> Vec<Warning> {
    let mut found = Vec::new();
    let mut warn = |code, message: String| found.push(Warning { code, message });
    if facts.short_hostname() == RESERVED_SHORT_HOSTNAME {
        warn(
            "hostname_pulse",
            format!(
                "short hostname is `{RESERVED_SHORT_HOSTNAME}`, the Medulla server's XMPP domain: rename the relay"
            ),
        );
    }
    if let Some(owner) = facts
        .uid_215_owner
        .as_deref()
        .filter(|owner| *owner != DRIVERS_USER)
    {
        warn(
            "uid_215_taken",
            format!(
                "uid {DRIVERS_UID} belongs to `{owner}`; the Medulla packages need it for `{DRIVERS_USER}`"
            ),
        );
    }
    match (&facts.fqdn, facts.fqdn_resolves) {
        (None, _) => warn("fqdn_missing", "`hostname -f` gives no FQDN".to_string()),
        (Some(fqdn), false) => warn(
            "fqdn_unresolvable",
            format!("FQDN {fqdn} does not resolve on the host"),
        ),
        (Some(_), true) => {
            if let Some(problem) = fqdn_not_the_host(facts) {
                warn("fqdn_not_the_host", problem);
            }
        }
    }
    if let (Some(expected), Some(fqdn)) = (expected_fqdn, &facts.fqdn)
        && !expected.eq_ignore_ascii_case(fqdn)
    {
        warn(
            "fqdn_mismatch",
            format!("inventory says relay_fqdn {expected}, the host says {fqdn}"),
        );
    }
    if facts.nft_version.is_none() {
        warn(
            "nft_missing",
            "nft is not installed (the firewall role installs nftables)".to_string(),
        );
    }
    if !facts.systemd_running {
        warn(
            "systemd_not_running",
            "systemd is not PID 1: services cannot be managed".to_string(),
        );
    }
    found
}

/// Why the FQDN, which resolves, does not lead to the host: none of its addresses is one of the
/// host's own but loopback (Debian's `127.0.1.1 relay.example.com` line, a stale DNS record).
/// `None` when it does, or when it does not resolve at all (said apart).
pub fn fqdn_not_the_host(facts: &Facts) -> Option<String> {
    let fqdn = facts.fqdn.as_deref()?;
    if facts.fqdn_addresses.is_empty() || !facts.fqdn_own_addresses().is_empty() {
        return None;
    }
    let resolved = list(&facts.fqdn_addresses);
    let loopback = facts.fqdn_addresses.iter().all(|ip| ip.is_loopback());
    let own = facts.reachable_addresses();
    Some(format!(
        "{fqdn} resolves only to {resolved}{}, not to an address of the host ({}): the name must \
         lead to it (DNS, or /etc/hosts with its address)",
        if loopback { " (loopback)" } else { "" },
        if own.is_empty() {
            "none but loopback".to_string()
        } else {
            list(&own)
        }
    ))
}

/// Two relays of a run give the same FQDN: SIVEO cannot tell them apart by the name each is
/// handed back under (PROC step 5), and at most one of them is what the name leads to.
pub fn fqdn_shared(fqdn: &str, others: &[String]) -> String {
    format!(
        "{fqdn} is also the FQDN of {}: each relay needs a name of its own",
        others.join(", ")
    )
}

/// Addresses as a report lists them: `10.0.0.21, 10.0.1.21`.
pub fn list(addresses: &[std::net::IpAddr]) -> String {
    addresses
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;

    fn facts() -> Facts {
        Facts {
            hostname: "relay1".into(),
            fqdn: Some("relay1.example.com".into()),
            ..testing::facts()
        }
    }

    fn codes(found: &[Warning]) -> Vec<&str> {
        found.iter().map(|w| w.code).collect()
    }

    #[test]
    fn a_clean_host_has_no_warnings() {
        assert_eq!(warnings(&facts(), Some("RELAY1.example.com")), []);
    }

    #[test]
    fn the_documented_pitfalls_are_reported() {
        let mut f = facts();
        f.hostname = "pulse".into();
        f.uid_215_owner = Some("backup2".into());
        f.fqdn_resolves = false;
        let found = warnings(&f, Some("relay9.example.com"));
        assert_eq!(
            codes(&found),
            [
                "hostname_pulse",
                "uid_215_taken",
                "fqdn_unresolvable",
                "fqdn_mismatch"
            ]
        );
    }

    #[test]
    fn an_fqdn_on_a_loopback_line_is_not_the_host() {
        let mut f = facts();
        f.fqdn_addresses = vec![[127, 0, 1, 1].into()];
        f.fqdn_hosts_file = vec!["127.0.1.1".into()];
        let found = warnings(&f, None);
        assert_eq!(codes(&found), ["fqdn_not_the_host"]);
        assert_eq!(
            found[0].message,
            "relay1.example.com resolves only to 127.0.1.1 (loopback), not to an address of the \
             host (192.0.2.11): the name must lead to it (DNS, or /etc/hosts with its address)"
        );
        // Another host's address is no better; one of its own among them is enough.
        f.fqdn_addresses = vec![[198, 51, 100, 7].into()];
        assert!(fqdn_not_the_host(&f).is_some_and(|m| m.contains("to 198.51.100.7, not")));
        f.fqdn_addresses.push([192, 0, 2, 11].into());
        assert_eq!(fqdn_not_the_host(&f), None);
    }

    #[test]
    fn uid_215_owned_by_drivers_is_fine() {
        let mut f = facts();
        f.uid_215_owner = Some("drivers".into());
        assert_eq!(warnings(&f, None), []);
    }
}
