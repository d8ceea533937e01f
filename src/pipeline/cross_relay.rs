//! Checks across the relays of a run, once every relay has answered: two relays that give the
//! same FQDN cannot both be handed back to SIVEO under it (PROC step 5), whatever each one
//! looks like alone.

use std::collections::BTreeMap;

use crate::host_outcome::CheckFailure;
use crate::preflight;
use crate::report::HostFindings;

/// Marks every relay whose FQDN (`hostname -f`, compared as DNS compares names) another relay
/// of `relays` also gives: a failure of the relay, and its item 5 not confirmed.
pub(super) fn mark_shared_fqdns<'a>(
    relays: impl IntoIterator<Item = (&'a str, &'a mut HostFindings)>,
) {
    let mut relays: Vec<(&str, &mut HostFindings)> = relays.into_iter().collect();
    let mut by_fqdn: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (index, (_, findings)) in relays.iter().enumerate() {
        if let Some(fqdn) = findings.facts.as_ref().and_then(|f| f.fqdn.as_deref()) {
            let key = fqdn.trim_end_matches('.').to_ascii_lowercase();
            by_fqdn.entry(key).or_default().push(index);
        }
    }
    for (fqdn, sharing) in by_fqdn.into_iter().filter(|(_, s)| s.len() > 1) {
        let names: Vec<String> = sharing.iter().map(|&i| relays[i].0.to_string()).collect();
        for (position, &index) in sharing.iter().enumerate() {
            let others: Vec<String> = names
                .iter()
                .enumerate()
                .filter(|(other, _)| *other != position)
                .map(|(_, name)| name.clone())
                .collect();
            let why = preflight::fqdn_shared(&fqdn, &others);
            let findings = &mut relays[index].1;
            if let Some(confirmations) = &mut findings.confirmations {
                confirmations.fqdn_shared(&why);
            }
            findings.problems.push(CheckFailure::SharedFqdn(why));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::Facts;
    use crate::testing;

    fn relay(fqdn: &str) -> HostFindings {
        HostFindings {
            facts: Some(Facts {
                fqdn: Some(fqdn.into()),
                ..testing::facts()
            }),
            ..HostFindings::default()
        }
    }

    #[test]
    fn relays_that_share_an_fqdn_fail_and_name_each_other() {
        let mut a = relay("relay.example.com");
        let mut b = relay("RELAY.example.com.");
        let mut c = relay("other.example.com");
        mark_shared_fqdns([
            ("relay01", &mut a),
            ("relay02", &mut b),
            ("relay03", &mut c),
        ]);
        let problems = |f: &HostFindings| -> Vec<String> {
            f.problems.iter().map(ToString::to_string).collect()
        };
        assert_eq!(
            problems(&a),
            ["relay.example.com is also the FQDN of relay02: each relay needs a name of its own"]
        );
        assert_eq!(
            problems(&b),
            ["relay.example.com is also the FQDN of relay01: each relay needs a name of its own"]
        );
        assert!(c.problems.is_empty());
    }
}
