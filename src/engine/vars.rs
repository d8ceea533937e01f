//! A host's variables, as its tasks see them. Precedence, lowest first (Ansible's):
//! role defaults < inventory (all, parent group, child group, host, then `-e` on the command
//! line, already merged by the inventory) < the values relayctl computes: the relay settings as
//! resolved, the facts (`ansible_facts`) and Ansible's magic variables (`inventory_hostname`,
//! `inventory_dir`, `group_names`, `groups`, `ansible_check_mode`).
//!
//! Two relay variables read differently in templates than in the inventory, because the role
//! needs the value, not the way it was given: `medulla_support_public_key` is the key itself
//! (the file's content when the inventory gives a path), and `relay_fqdn` is the gathered
//! `hostname -f` when the inventory does not set it.
//!
//! `relay_firewall` is computed for each relay (src/firewall/ruleset.rs): the port matrix adjusted
//! by the relay's settings, with the controller's address as the relay sees it and the Medulla
//! servers' addresses resolved once per run; templates/nftables.conf.j2 renders it.
//!
//! Variables may be templates of other variables (`"{{ inventory_dir }}/secrets"`); they are
//! rendered until none is left, and one that never renders is an error naming it.

use std::collections::HashMap;
use std::net::{IpAddr, ToSocketAddrs};
use std::path::Path;

use serde_json::{Map, Value, json};

use super::template::{Templates, is_template};
use crate::facts::Facts;
use crate::firewall::{self, ControllerEndpoint, RulesetContext};
use crate::inventory::{FirewallState, Host, Inventory, RelaySettings};

/// Everything a host's templates may use, as one JSON object.
pub type HostVars = Map<String, Value>;

/// The magic variables every host of a run shares, computed once per run.
pub struct RunVars {
    shared: HostVars,
    /// Every relay's Medulla server addresses, resolved (by the controller) to IPs for the
    /// firewall's rules; a name that does not resolve keeps its error.
    server_ips: HashMap<String, Result<Vec<IpAddr>, String>>,
}

impl RunVars {
    /// `relays`: the settings of the relays of the run, whose server addresses are resolved now.
    pub fn new<'a>(
        inventory: &Inventory,
        check_mode: bool,
        relays: impl IntoIterator<Item = &'a RelaySettings>,
    ) -> Self {
        let mut groups: Map<String, Value> = Map::new();
        for host in &inventory.hosts {
            for group in &host.groups {
                let members = groups
                    .entry(group.clone())
                    .or_insert_with(|| Value::Array(Vec::new()));
                if let Value::Array(list) = members {
                    list.push(Value::String(host.name.clone()));
                }
            }
        }
        let mut shared = Map::new();
        shared.insert("groups".into(), Value::Object(groups));
        shared.insert("ansible_check_mode".into(), json!(check_mode));
        let mut server_ips = HashMap::new();
        for relay in relays {
            for address in &relay.server_addresses {
                server_ips
                    .entry(address.clone())
                    .or_insert_with(|| resolve_address(address));
            }
        }
        RunVars { shared, server_ips }
    }

    /// The context of `relay`'s firewall ruleset, from its settings, its Medulla servers'
    /// addresses and the controller's address as the relay sees it.
    pub fn ruleset(&self, relay: &RelaySettings, facts: &Facts) -> Result<RulesetContext, String> {
        let controller = facts
            .controller_address
            .as_deref()
            .and_then(|a| a.parse::<IpAddr>().ok())
            .zip(facts.ssh_port)
            .map(|(address, ssh_port)| ControllerEndpoint {
                address: address.to_canonical(),
                ssh_port,
            });
        self.server_ips(relay)
            .and_then(|ips| firewall::ruleset_context(relay, controller, &ips))
    }

    /// Each of a relay's Medulla server addresses with the IPs it stands for: an IP itself, a
    /// name as the controller resolved it (none when it did not resolve).
    pub fn server_addresses<'a>(
        &'a self,
        relay: &'a RelaySettings,
    ) -> impl Iterator<Item = (&'a str, Vec<IpAddr>)> + 'a {
        relay.server_addresses.iter().map(|address| {
            let ips = match self.server_ips.get(address) {
                Some(Ok(found)) => found.clone(),
                Some(Err(_)) => Vec::new(),
                None => resolve_address(address).unwrap_or_default(),
            };
            (address.as_str(), ips)
        })
    }

    /// The IPs of a relay's Medulla servers.
    fn server_ips(&self, relay: &RelaySettings) -> Result<Vec<IpAddr>, String> {
        let mut ips = Vec::new();
        for address in &relay.server_addresses {
            match self.server_ips.get(address) {
                Some(Ok(found)) => ips.extend(found),
                Some(Err(e)) => return Err(e.clone()),
                None => ips.extend(resolve_address(address)?),
            }
        }
        Ok(ips)
    }
}

/// An IP as written, else the addresses a DNS name resolves to on the controller.
fn resolve_address(address: &str) -> Result<Vec<IpAddr>, String> {
    if let Ok(ip) = address.parse::<IpAddr>() {
        return Ok(vec![ip]);
    }
    let mut ips: Vec<IpAddr> = (address, 0)
        .to_socket_addrs()
        .map_err(|e| format!("medulla_server_addresses: cannot resolve {address}: {e}"))?
        .map(|socket| socket.ip())
        .collect();
    ips.sort();
    ips.dedup();
    Ok(ips)
}

/// Builds a relay's variables from the defaults of the roles it runs, its inventory entry and
/// what was gathered on it. `firewall_needed`: one of its roles renders the firewall, so a
/// ruleset that cannot be computed fails the host (otherwise `relay_firewall` is left out).
///
/// Only what operators and role authors wrote (role defaults, inventory, `-e`) may be a template
/// of other variables. What relayctl computes and what the relay says about itself (its facts,
/// `relay_fqdn` from `hostname -f`) are data: a relay whose PRETTY_NAME reads `{{ 7 * 7 }}` is
/// shown as it reads, never evaluated on the controller.
pub fn relay_vars(
    defaults: &[(String, Value)],
    run: &RunVars,
    host: &Host,
    relay: &RelaySettings,
    facts: &Facts,
    templates: &Templates,
    firewall_needed: bool,
) -> Result<HostVars, String> {
    let mut vars = Map::new();
    for (name, value) in defaults {
        vars.insert(name.clone(), value.clone());
    }
    for (name, var) in host.vars.iter() {
        vars.insert(name.clone(), var.value.clone());
    }
    let computed = computed_vars(run, host, relay, facts, firewall_needed)?;
    let written: Vec<String> = vars
        .keys()
        .filter(|name| !computed.contains_key(*name))
        .cloned()
        .collect();
    vars.extend(computed);
    resolve(&mut vars, &written, templates)?;
    Ok(vars)
}

/// What relayctl computes for a relay: its settings as resolved, the run's and the host's magic
/// variables, its facts, and its firewall's ruleset context.
fn computed_vars(
    run: &RunVars,
    host: &Host,
    relay: &RelaySettings,
    facts: &Facts,
    firewall_needed: bool,
) -> Result<HostVars, String> {
    let mut vars = match json!({
        "relay_type": relay.relay_type,
        "medulla_server_addresses": relay.server_addresses,
        "medulla_server_source_addresses": relay.server_source_addresses.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "medulla_offer": relay.offer,
        "relay_fqdn": relay.relay_fqdn.clone().or_else(|| facts.fqdn.clone()),
        "itsm_entity": relay.itsm_entity,
        "workstation_subnets": relay.workstation_subnets.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "relay_serves_workstations": relay.serves_workstations,
        "medulla_support_public_key": relay.support_public_key.as_ref().map(|k| k.public_key.clone()),
        "sizing_profile": relay.sizing_profile,
        "relay_ssh_port": relay.firewall.ssh_port,
        "relay_firewall_state": relay.firewall.state,
        "relay_firewall_rollback_timeout": relay.firewall.rollback_timeout.as_secs(),
    }) {
        Value::Object(values) => values,
        _ => Map::new(),
    };
    vars.extend(run.shared.clone());
    let group_names: Vec<&String> = host
        .groups
        .iter()
        .filter(|g| *g != "all" && *g != "ungrouped")
        .collect();
    vars.insert("inventory_hostname".into(), json!(host.name));
    // The inventory file that declared the host, as Ansible's inventory_file: with several
    // sources or a directory of them, each host's own (secrets/ beside it, by default).
    let inventory_file =
        std::path::absolute(&host.origin.file).unwrap_or_else(|_| host.origin.file.clone());
    let inventory_dir = inventory_file
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    vars.insert("inventory_file".into(), json!(inventory_file));
    vars.insert("inventory_dir".into(), json!(inventory_dir));
    vars.insert(
        "inventory_hostname_short".into(),
        json!(host.name.split('.').next().unwrap_or(&host.name)),
    );
    vars.insert("group_names".into(), json!(group_names));
    vars.insert("ansible_facts".into(), json!(facts));
    match run.ruleset(relay, facts) {
        Ok(ruleset) => {
            vars.insert("relay_firewall".into(), json!(ruleset));
        }
        Err(e) if firewall_needed && relay.firewall.state == FirewallState::Present => {
            return Err(format!("relay_firewall: {e}"));
        }
        Err(_) => {}
    }
    Ok(vars)
}

/// Renders the variables `written` names whose values are templates, until none is left; the
/// others are their context, as they are.
fn resolve(vars: &mut HostVars, written: &[String], templates: &Templates) -> Result<(), String> {
    let mut pending: Vec<String> = written
        .iter()
        .filter(|name| vars.get(*name).is_some_and(has_template))
        .cloned()
        .collect();
    pending.sort();
    while !pending.is_empty() {
        // Pending variables are left out of the context: one that uses another still pending
        // waits for the next round.
        let mut context = vars.clone();
        for name in &pending {
            context.remove(name);
        }
        let context = minijinja::Value::from(minijinja::value::Serde(&context));
        let mut progress = false;
        let mut still = Vec::new();
        let mut first_error = None;
        for name in pending {
            match templates.render_value(&vars[&name], &context) {
                Ok(value) => {
                    vars.insert(name, value);
                    progress = true;
                }
                Err(e) => {
                    first_error.get_or_insert_with(|| format!("variable {name}: {e}"));
                    still.push(name);
                }
            }
        }
        if !progress {
            return Err(first_error.unwrap_or_default());
        }
        pending = still;
    }
    Ok(())
}

fn has_template(value: &Value) -> bool {
    match value {
        Value::String(s) => is_template(s),
        Value::Array(items) => items.iter().any(has_template),
        Value::Object(map) => map.values().any(has_template),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(names: &[&str]) -> Vec<String> {
        names.iter().map(ToString::to_string).collect()
    }

    fn vars(pairs: Value) -> HostVars {
        match pairs {
            Value::Object(map) => map,
            _ => unreachable!("tests pass objects"),
        }
    }

    #[test]
    fn templated_variables_resolve_in_any_order() {
        let mut v = vars(json!({
            "c": "{{ b }}/c",
            "b": "{{ a }}/b",
            "a": "/base",
            "n": 3,
        }));
        resolve(&mut v, &names(&["a", "b", "c", "n"]), &Templates::new()).expect("resolves");
        assert_eq!(v["c"], json!("/base/b/c"));
        assert_eq!(v["n"], json!(3));
    }

    #[test]
    fn what_a_relay_says_about_itself_is_data_never_a_template() {
        use crate::inventory::{self, HostRole, LoadOptions};
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("inventory.yaml");
        std::fs::write(
            &path,
            "all:\n  hosts:\n    relay01:\n      relay_type: classic\n      \
             medulla_server_addresses: [192.0.2.10]\n      \
             shown: \"{{ ansible_facts.os_pretty_name }}\"\n      fqdn_seen: \"{{ relay_fqdn }}\"\n",
        )
        .expect("write");
        let inventory =
            inventory::load(std::slice::from_ref(&path), &LoadOptions::default()).expect("loads");
        let selected = inventory.select(None).expect("selects");
        let planned = inventory.plan_apply(&selected).expect("plans");
        let (host, HostRole::Relay(relay)) = &planned[0] else {
            panic!("a relay");
        };
        let facts = Facts {
            os_pretty_name: "{{ 7 * 7 }}".into(),
            fqdn: Some("{# relay01 {% for x in y %}".into()),
            ..crate::testing::facts()
        };
        let run = RunVars::new(&inventory, false, [relay.as_ref()]);
        let vars = relay_vars(&[], &run, host, relay, &facts, &Templates::new(), false)
            .expect("the relay's own text renders nothing and fails nothing");
        assert_eq!(vars["shown"], json!("{{ 7 * 7 }}"));
        assert_eq!(vars["fqdn_seen"], json!("{# relay01 {% for x in y %}"));
        assert_eq!(vars["relay_fqdn"], json!("{# relay01 {% for x in y %}"));
        assert_eq!(
            vars["ansible_facts"]["os_pretty_name"],
            json!("{{ 7 * 7 }}")
        );
    }

    #[test]
    fn inventory_dir_is_the_directory_of_the_file_that_declares_the_host() {
        use crate::inventory::{self, HostRole, LoadOptions};
        let dir = tempfile::tempdir().expect("temp dir");
        let inventories = dir.path().join("prod");
        crate::testing::write_file(
            &inventories,
            "base.yaml",
            "all:\n  vars:\n    medulla_server_addresses: [192.0.2.10]\n",
        );
        crate::testing::write_file(
            &inventories,
            "sites/paris.ini",
            "relay01 relay_type=classic\n",
        );
        let inventory =
            inventory::load(std::slice::from_ref(&inventories), &LoadOptions::default())
                .unwrap_or_else(|e| panic!("{e}"));
        let selected = inventory.select(None).expect("selects");
        let planned = inventory.plan_apply(&selected).expect("plans");
        let (host, HostRole::Relay(relay)) = &planned[0] else {
            panic!("a relay");
        };
        let run = RunVars::new(&inventory, false, [relay.as_ref()]);
        let vars = relay_vars(
            &[],
            &run,
            host,
            relay,
            &crate::testing::facts(),
            &Templates::new(),
            false,
        )
        .expect("vars");
        assert_eq!(vars["inventory_dir"], json!(inventories.join("sites")));
        assert_eq!(
            vars["inventory_file"],
            json!(inventories.join("sites/paris.ini"))
        );
    }

    #[test]
    fn an_undefined_or_circular_variable_is_named() {
        let mut v = vars(json!({"a": "{{ nope }}"}));
        assert_eq!(
            resolve(&mut v, &names(&["a"]), &Templates::new()),
            Err("variable a: undefined variable nope".into())
        );
        let mut v = vars(json!({"a": "{{ b }}", "b": "{{ a }}"}));
        assert!(resolve(&mut v, &names(&["a", "b"]), &Templates::new()).is_err());
    }
}
