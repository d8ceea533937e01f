//! Pinned against files ufw 0.36.2 (Debian 12) wrote itself: a customer's rules, then the same
//! with relayctl's rules added by `ufw allow ... comment "relayctl: ..."`.

use serde_json::json;

use super::*;
use crate::modules::firewall::flows;

/// As the package installs them, before any rule.
const PACKAGE: &str = include_str!("package_user.rules");
const PACKAGE6: &str = include_str!("package_user6.rules");
/// `ufw allow 22/tcp; ufw deny proto tcp from 203.0.113.0/24 to any port 5222; ufw allow 80`.
const CUSTOMER: &str = include_str!("customer_user.rules");
const CUSTOMER6: &str = include_str!("customer_user6.rules");
/// The same, after ufw itself added the rules of [`flows`].
const WITH_RELAYCTL: &str = include_str!("with_user.rules");
const WITH_RELAYCTL6: &str = include_str!("with_user6.rules");

/// The flows the rules of `with_user.rules` were added for, in that order.
fn flows() -> Vec<Flow> {
    let flow = |direction: &str, protocol: &str, ports: &str, peers: &[&str], comment: &str| json!({"direction": direction, "protocol": protocol, "ports": ports, "peers": peers, "comment": comment});
    flows::parse(&json!([
        flow(
            "in",
            "tcp",
            "5269",
            &["192.0.2.10"],
            "XMPP server-to-server (S000)"
        ),
        flow(
            "in",
            "tcp",
            "4370-4380",
            &["192.0.2.0/28"],
            "ejabberd cluster (S000)"
        ),
        flow("in", "tcp", "5222", &[], "XMPP clients (FLUX)"),
        flow(
            "in",
            "tcp",
            "5269",
            &["2001:db8::10"],
            "XMPP server-to-server (S000)"
        ),
        flow(
            "out",
            "tcp",
            "5269",
            &["192.0.2.10"],
            "XMPP to the server (S000)"
        ),
        flow(
            "out",
            "udp",
            "4370-4380",
            &["192.0.2.10"],
            "range to the server (S000)"
        ),
        flow("out", "tcp", "443", &[], "https anywhere (S000)"),
    ]))
    .unwrap()
}

#[test]
fn relayctls_rules_are_written_as_ufw_writes_them_after_the_customers() {
    let flows = flows();
    for (customer, with, family) in [
        (CUSTOMER, WITH_RELAYCTL, Family::V4),
        (CUSTOMER6, WITH_RELAYCTL6, Family::V6),
    ] {
        let owned = owned_rules(&flows, family);
        assert_eq!(
            RulesFile::parse(customer).unwrap().with_owned(&owned),
            with,
            "{family:?}"
        );
        // Idempotent, and removed in one step back to the customer's file, byte for byte.
        let file = RulesFile::parse(with).unwrap();
        assert_eq!(file.with_owned(&owned), with);
        assert_eq!(file.with_owned(&[]), customer);
    }
}

#[test]
fn the_packages_file_without_any_rule_takes_them_and_gives_them_back() {
    for (package, family) in [(PACKAGE, Family::V4), (PACKAGE6, Family::V6)] {
        let owned = owned_rules(&flows(), family);
        let with = RulesFile::parse(package).unwrap().with_owned(&owned);
        assert!(
            with.contains("### RULES ###\n### tuple ### allow tcp"),
            "{with}"
        );
        assert!(with.ends_with("COMMIT\n"), "{with}");
        assert_eq!(RulesFile::parse(&with).unwrap().with_owned(&[]), package);
    }
}

#[test]
fn a_customers_deny_before_relayctls_rules_is_named() {
    let flows = flows();
    let denials = RulesFile::parse(CUSTOMER)
        .unwrap()
        .denials_of(&flows, Family::V4);
    assert_eq!(denials.len(), 1, "{denials:?}");
    assert!(
        denials[0].starts_with("ufw rule `deny in tcp from 203.0.113.0/24 to port 5222`"),
        "{denials:?}"
    );
    assert!(
        denials[0].contains("tcp/5222 (XMPP clients (FLUX))"),
        "{denials:?}"
    );
    // That deny is for IPv4 sources: no IPv6 flow meets it.
    assert!(
        RulesFile::parse(CUSTOMER6)
            .unwrap()
            .denials_of(&flows, Family::V6)
            .is_empty()
    );
    // A deny of a port no flow uses, or from a source no flow admits, is the customer's.
    let elsewhere = CUSTOMER.replace("deny tcp 5222", "deny tcp 5223");
    assert!(
        RulesFile::parse(&elsewhere)
            .unwrap()
            .denials_of(&flows, Family::V4)
            .is_empty()
    );
}

#[test]
fn the_loaded_rules_are_recognised_as_iptables_lists_them() {
    let flows = flows();
    let owned = owned_rules(&flows, Family::V4);
    // What `iptables -S ufw-user-input; iptables -S ufw-user-output` printed on the host.
    let live = "-N ufw-user-input\n\
        -A ufw-user-input -p tcp -m tcp --dport 22 -j ACCEPT\n\
        -A ufw-user-input -s 203.0.113.0/24 -p tcp -m tcp --dport 5222 -j DROP\n\
        -A ufw-user-input -s 192.0.2.10/32 -p tcp -m tcp --dport 5269 -j ACCEPT\n\
        -A ufw-user-input -s 192.0.2.0/28 -p tcp -m multiport --dports 4370:4380 -j ACCEPT\n\
        -A ufw-user-input -p tcp -m tcp --dport 5222 -j ACCEPT\n\
        -N ufw-user-output\n\
        -A ufw-user-output -d 192.0.2.10/32 -p tcp -m tcp --dport 5269 -j ACCEPT\n\
        -A ufw-user-output -d 192.0.2.10/32 -p udp -m multiport --dports 4370:4380 -j ACCEPT\n\
        -A ufw-user-output -p tcp -m tcp --dport 443 -j ACCEPT\n";
    assert!(all_loaded(&owned, live));
    let reloaded_without_one = live.replace(
        "-A ufw-user-input -p tcp -m tcp --dport 5222 -j ACCEPT\n",
        "",
    );
    assert!(!all_loaded(&owned, &reloaded_without_one));
}

#[test]
fn a_rule_is_relayctls_by_its_comment_only() {
    let flows = flows();
    let owned = owned_rules(&flows, Family::V4);
    assert!(owned.iter().all(|rule| is_owned(rule)));
    // ufw writes the comment hex-encoded: nothing in it reaches the file as text.
    assert!(
        owned[0].contains("comment=72656c617963746c3a20"),
        "{}",
        owned[0]
    );
    assert!(!is_owned(
        "### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in\n-A ufw-user-input -p tcp --dport 22 -j ACCEPT\n\n"
    ));
    assert!(!is_owned(
        "### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in comment=6e6f74206d696e65\n"
    ));
}
