//! The ufw module's plans, from findings as its probe prints them on a host whose rules files
//! ufw wrote (`rules_file/*.rules`).

use serde_json::json;

use super::*;
use crate::modules::firewall::flows;

const CUSTOMER: &str = include_str!("rules_file/customer_user.rules");
const CUSTOMER6: &str = include_str!("rules_file/customer_user6.rules");

fn action(flows: serde_json::Value) -> UfwFlows {
    UfwFlows {
        flows: flows::parse(&flows).unwrap(),
        guard: Guard::new("ufw", 60),
    }
}

fn medulla() -> UfwFlows {
    action(json!([
        {"direction": "in", "protocol": "tcp", "ports": "5269", "peers": ["192.0.2.10", "2001:db8::10"], "comment": "XMPP (S000)"},
        {"direction": "in", "protocol": "tcp", "ports": "4370-4380", "peers": ["192.0.2.10"], "comment": "ejabberd (S000)"},
    ]))
}

fn findings(v4: &str, v6: &str, enabled: bool, live4: &[&str]) -> Findings {
    let mut found = Findings::from_values(&[
        ("ufw.bin", "yes"),
        ("ufw.ipv6", "yes"),
        ("ufw.enabled", if enabled { "yes" } else { "no" }),
        ("ufw.armed", "no"),
    ]);
    for (key, text) in [("ufw.v4", v4), ("ufw.v6", v6)] {
        found.values.push((
            key.into(),
            format!("regular file|root|root|640|{}", text.len()),
        ));
        found.contents.push((key.into(), text.as_bytes().to_vec()));
    }
    for line in live4 {
        found.values.push(("ufw.live4".into(), line.to_string()));
    }
    found
}

#[test]
fn an_enabled_ufw_gets_the_rules_loaded_under_the_guard_and_written_after_the_confirmation() {
    let plan = medulla()
        .plan(&findings(CUSTOMER, CUSTOMER6, true, &[]))
        .unwrap();
    assert!(
        plan.changes[0].starts_with("open the Medulla flows in ufw (2 flows"),
        "{:?}",
        plan.changes
    );
    let step = plan.step.unwrap();
    let script = &step.script;
    let test = script.find("iptables-restore --test").unwrap();
    let arm = script.find("systemd-run").unwrap();
    let load = script
        .find("iptables-restore -n <'/etc/ufw/.user.rules.relayctl-staged'")
        .unwrap();
    assert!(test < arm && arm < load, "{script}");
    assert!(
        !script.contains("mv -f"),
        "the files stay as they were until confirmed: {script}"
    );
    assert!(script.contains("ip6tables-restore -n <'/etc/ufw/.user6.rules.relayctl-staged'"));
    let confirm = step.confirm.unwrap();
    let disarm = confirm
        .step
        .script
        .find("rm '/run/relayctl/firewall-ufw.armed'")
        .unwrap();
    let install = confirm.step.script.find("mv -f").unwrap();
    assert!(disarm < install, "{}", confirm.step.script);
    assert!(
        confirm
            .revert
            .contains("iptables-restore -n <'/etc/ufw/user.rules'")
    );
    let stdin = String::from_utf8(step.stdin).unwrap();
    assert!(stdin.starts_with(CUSTOMER.split("### END RULES ###").next().unwrap()));
    assert_eq!(
        stdin.matches("comment=72656c617963746c3a20").count(),
        3,
        "two IPv4 rules, one IPv6: {stdin}"
    );
}

#[test]
fn rules_in_the_files_and_loaded_are_unchanged_and_rules_not_loaded_are_loaded() {
    let action = medulla();
    let wanted = |text: &str, family| {
        RulesFile::parse(text)
            .unwrap()
            .with_owned(&owned_rules(&action.flows, family))
    };
    let (v4, v6) = (wanted(CUSTOMER, Family::V4), wanted(CUSTOMER6, Family::V6));
    let live = [
        "-A ufw-user-input -s 192.0.2.10/32 -p tcp -m tcp --dport 5269 -j ACCEPT",
        "-A ufw-user-input -s 192.0.2.10/32 -p tcp -m multiport --dports 4370:4380 -j ACCEPT",
    ];
    let mut found = findings(&v4, &v6, true, &live);
    found.values.push((
        "ufw.live6".into(),
        "-A ufw6-user-input -s 2001:db8::10/128 -p tcp -m tcp --dport 5269 -j ACCEPT".into(),
    ));
    assert!(!action.plan(&found).unwrap().is_change());
    let plan = action.plan(&findings(&v4, &v6, true, &live[..1])).unwrap();
    assert!(
        plan.changes[0].starts_with("load relayctl's rules into ufw again"),
        "{:?}",
        plan.changes
    );
}

#[test]
fn a_customers_deny_of_a_medulla_port_fails_the_task_before_anything_changes() {
    let action = action(json!([
        {"direction": "in", "protocol": "tcp", "ports": "5222", "peers": [], "comment": "XMPP clients (FLUX)"},
    ]));
    let Err(ProbeError::Failed(message)) = action.plan(&findings(CUSTOMER, CUSTOMER6, true, &[]))
    else {
        panic!("the deny of 5222 from 203.0.113.0/24 comes first");
    };
    assert!(
        message.contains("deny in tcp from 203.0.113.0/24 to port 5222"),
        "{message}"
    );
}

#[test]
fn absent_removes_relayctls_rules_and_where_ufw_is_off_only_the_files_change() {
    let with = medulla();
    let v4 = RulesFile::parse(CUSTOMER)
        .unwrap()
        .with_owned(&owned_rules(&with.flows, Family::V4));
    let absent = action(json!([]));
    let plan = absent.plan(&findings(&v4, CUSTOMER6, false, &[])).unwrap();
    assert_eq!(plan.changes[0], "remove relayctl's rules from ufw");
    let step = plan.step.unwrap();
    assert!(step.confirm.is_none(), "nothing is loaded");
    assert!(!step.script.contains("iptables-restore"));
    assert_eq!(
        String::from_utf8(step.stdin).unwrap(),
        format!("{CUSTOMER}{CUSTOMER6}")
    );
    assert!(
        !absent
            .plan(&findings(CUSTOMER, CUSTOMER6, true, &[]))
            .unwrap()
            .is_change()
    );
    let mut no_ufw = Findings::from_values(&[("ufw.bin", "no"), ("ufw.armed", "no")]);
    assert!(!absent.plan(&no_ufw).unwrap().is_change());
    no_ufw.values.clear();
    no_ufw.values.push(("ufw.bin".into(), "no".into()));
    assert!(matches!(with.plan(&no_ufw), Err(ProbeError::Missing(..))));
}
