//! The nftables module's plans, from findings as the probe prints them.

use super::*;

const DEBIAN_CONF: &str = "#!/usr/sbin/nft -f\n\nflush ruleset\n\ntable inet filter {\n\tchain input {\n\t\ttype filter hook input priority filter;\n\t}\n}\n";
const RENDERED: &str = "table inet medulla_relay {\n\tchain input {\n\t\ttype filter hook input priority filter; policy drop;\n\t}\n}\n";

fn action(ruleset: Option<&str>) -> Nftables {
    let paths = TablePaths::new(DEFAULT_TABLE);
    Nftables {
        ruleset: ruleset.map(|r| ruleset_file(r, &paths).into_bytes()),
        guard: Guard::new(&paths.table, 60),
        boot: Boot::new(&paths.table, &paths.ruleset),
        paths,
    }
}

fn push_file(found: &mut Findings, key: &str, content: Option<&[u8]>) {
    match content {
        None => found.values.push((key.into(), "absent".into())),
        Some(bytes) => {
            found.values.push((
                key.into(),
                format!("regular file|root|root|644|{}", bytes.len()),
            ));
            found.contents.push((key.into(), bytes.to_vec()));
        }
    }
}

/// The probe's findings: the live table's digest, the applied one, the table's file, and
/// whether the boot unit and drop-in are in place and enabled (Debian's nftables.conf beside).
fn findings(live: &str, applied: &str, file: Option<&[u8]>, boot_in_place: bool) -> Findings {
    let mut found = Findings::from_values(&[
        ("nft.bin", "yes"),
        ("nft.live", live),
        ("nft.applied", applied),
        ("nft.armed", "no"),
        ("nft.service_enabled", "disabled"),
        ("nft.service_active", "inactive"),
        ("nft.unit_enabled", if boot_in_place { "yes" } else { "no" }),
    ]);
    let boot = {
        let paths = TablePaths::new(DEFAULT_TABLE);
        Boot::new(&paths.table, &paths.ruleset)
    };
    let (unit, dropin) = (boot.unit(), boot.dropin());
    push_file(&mut found, "nft.file", file);
    push_file(
        &mut found,
        "nft.unit",
        boot_in_place.then_some(unit.as_bytes()),
    );
    push_file(
        &mut found,
        "nft.dropin",
        boot_in_place.then_some(dropin.as_bytes()),
    );
    push_file(&mut found, "nft.conf", Some(DEBIAN_CONF.as_bytes()));
    found
}

#[test]
fn a_template_may_define_only_relayctls_table() {
    let paths = TablePaths::new(DEFAULT_TABLE);
    assert!(check_owns_only(RENDERED, &paths).is_ok());
    for bad in [
        "flush ruleset\ntable inet medulla_relay {\n}\n",
        "table inet medulla_relay {\n}\ntable ip nat {\n}\n",
        "delete table ip nat\ntable inet medulla_relay {\n}\n",
        "table inet other {\n}\n",
    ] {
        assert!(check_owns_only(bad, &paths).is_err(), "{bad}");
    }
}

#[test]
fn a_fresh_host_gets_the_table_loaded_confirmed_and_persisted() {
    let action = action(Some(RENDERED));
    let plan = action
        .plan(&findings("absent", "none", None, false))
        .unwrap();
    assert_eq!(plan.changes[0], "load table inet medulla_relay");
    assert!(
        plan.changes
            .iter()
            .any(|c| c.contains("enable relayctl-firewall-medulla_relay.service"))
    );
    assert!(
        !plan.changes.iter().any(|c| c.contains("nftables.conf")),
        "Debian's nftables.conf is not relayctl's: {:?}",
        plan.changes
    );
    let step = plan.step.unwrap();
    assert!(step.script.contains("nft -c -f"));
    assert!(step.script.contains("systemd-run"));
    let confirm = step
        .confirm
        .expect("a load is confirmed over a new connection");
    // Persisting comes after the disarm, in the confirmation, never before.
    assert!(!step.script.contains("sysinit.target.wants"));
    let disarm = confirm
        .step
        .script
        .find("rm '/run/relayctl/firewall-medulla_relay.armed'");
    let enable = confirm.step.script.find("sysinit.target.wants");
    assert!(disarm.unwrap() < enable.unwrap(), "{}", confirm.step.script);
    assert!(
        !confirm.step.stdin.is_empty(),
        "the boot unit travels with the confirmation"
    );
}

#[test]
fn an_applied_table_with_its_file_and_config_is_unchanged() {
    let action = action(Some(RENDERED));
    let file = action.ruleset.clone().unwrap();
    let plan = action
        .plan(&findings("abc", "abc", Some(&file), true))
        .unwrap();
    assert!(!plan.is_change(), "{:?}", plan.changes);
}

#[test]
fn a_live_table_changed_behind_relayctls_back_is_reloaded() {
    let action = action(Some(RENDERED));
    let file = action.ruleset.clone().unwrap();
    let plan = action
        .plan(&findings("def", "abc", Some(&file), true))
        .unwrap();
    assert!(
        plan.changes[0].starts_with("reload table"),
        "{:?}",
        plan.changes
    );
    assert!(plan.step.unwrap().confirm.is_some());
}

#[test]
fn a_missing_boot_unit_alone_is_put_back_without_touching_the_table() {
    let action = action(Some(RENDERED));
    let file = action.ruleset.clone().unwrap();
    let plan = action
        .plan(&findings("abc", "abc", Some(&file), false))
        .unwrap();
    assert_eq!(plan.changes.len(), 3, "{:?}", plan.changes);
    let step = plan.step.unwrap();
    assert!(step.confirm.is_none());
    assert!(!step.script.contains("nft -f"));
}

#[test]
fn absent_removes_the_table_its_file_and_boot_unit_only() {
    let action = action(None);
    let file = b"whatever".to_vec();
    let plan = action
        .plan(&findings("abc", "abc", Some(&file), true))
        .unwrap();
    assert_eq!(plan.changes.len(), 3, "{:?}", plan.changes);
    let script = plan.step.unwrap().script;
    assert!(script.contains("nft delete table inet medulla_relay"));
    assert!(!script.contains("flush"));
    assert!(!script.contains("/etc/nftables.conf"));
    let nothing = action
        .plan(&findings("absent", "none", None, false))
        .unwrap();
    assert!(!nothing.is_change(), "{:?}", nothing.changes);
}

#[test]
fn an_armed_rollback_stops_the_task() {
    let action = action(Some(RENDERED));
    let mut found = findings("absent", "none", None, false);
    found.values.push(("nft.armed".into(), "yes".into()));
    assert!(matches!(action.plan(&found), Err(ProbeError::Failed(_))));
}
