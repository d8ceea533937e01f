//! The relay variables that are lists, checked item by item (each problem names its item):
//! `medulla_server_addresses`, `relay_roles`, `workstation_subnets`.

use std::collections::HashSet;
use std::net::IpAddr;

use ipnet::IpNet;

use super::values::{self, Problem};
use crate::input::yaml::{Node, NodeKind};

/// A list of IPs or DNS names; one string is taken as a one-item list.
pub(super) fn server_addresses(node: &Node) -> Result<Vec<String>, Vec<Problem>> {
    let items: Vec<&Node> = match &node.kind {
        NodeKind::String(_) => vec![node],
        NodeKind::Seq(items) => items.iter().collect(),
        _ => {
            return Err(vec![values::expected(
                node,
                "a list of IP addresses or DNS names",
            )]);
        }
    };
    if items.is_empty() {
        return Err(vec![Problem::at(
            node,
            "the list is empty; name at least one Medulla server",
        )]);
    }
    let mut problems = Vec::new();
    let mut addresses = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let in_list = matches!(node.kind, NodeKind::Seq(_));
        let located = |p: Problem| if in_list { p.in_item(i) } else { p };
        match values::word(item, "an IP address or DNS name") {
            Ok(address) if !values::is_address(address) => {
                problems.push(located(Problem::at(
                    item,
                    format!("{address:?} is not an IP address or DNS name"),
                )));
            }
            Ok(address) if addresses.iter().any(|a| a == address) => {
                problems.push(located(Problem::at(
                    item,
                    format!("{address} is listed twice"),
                )));
            }
            Ok(address) => addresses.push(address.to_owned()),
            Err(problem) => problems.push(located(problem)),
        }
    }
    if problems.is_empty() {
        Ok(addresses)
    } else {
        Err(problems)
    }
}

/// A list of role names (checked against the roles that exist once they are loaded).
pub(super) fn role_names(node: &Node) -> Result<Vec<String>, Vec<Problem>> {
    let NodeKind::Seq(items) = &node.kind else {
        return Err(vec![values::expected(node, "a list of role names")]);
    };
    let mut problems = Vec::new();
    let mut names = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match values::word(item, "a role name") {
            Ok(name) if names.iter().any(|n| n == name) => {
                problems.push(Problem::at(item, format!("{name} is listed twice")).in_item(i));
            }
            Ok(name) => names.push(name.to_owned()),
            Err(problem) => problems.push(problem.in_item(i)),
        }
    }
    if problems.is_empty() {
        Ok(names)
    } else {
        Err(problems)
    }
}

/// A list of networks in CIDR notation, written as networks (no host bits).
pub(super) fn subnets(node: &Node) -> Result<Vec<IpNet>, Vec<Problem>> {
    let NodeKind::Seq(items) = &node.kind else {
        let example = node
            .as_str()
            .map_or_else(|| "[10.1.0.0/16]".to_owned(), |s| format!("[{s}]"));
        return Err(vec![Problem::at(
            node,
            format!(
                "expected a list of subnets in CIDR notation, found {}; write it as a list: {example}",
                node.describe()
            ),
        )]);
    };
    let mut problems = Vec::new();
    let mut networks: Vec<IpNet> = Vec::new();
    let mut seen = HashSet::new();
    for (i, item) in items.iter().enumerate() {
        let parsed = match values::string(item, "a subnet in CIDR notation (e.g. 10.1.0.0/16)") {
            Err(problem) => Err(problem),
            Ok(text) => match text.trim().parse::<IpNet>() {
                Ok(net) if net.trunc() != net => Err(Problem::at(
                    item,
                    format!("{text} has host bits set; did you mean {}?", net.trunc()),
                )),
                Ok(net) if !seen.insert(net) => {
                    Err(Problem::at(item, format!("{net} is listed twice")))
                }
                Ok(net) => Ok(net),
                Err(_) if text.trim().parse::<IpAddr>().is_ok() => {
                    let bits = if text.contains(':') { 128 } else { 32 };
                    Err(Problem::at(
                        item,
                        format!(
                            "{text} is an address, not a subnet; a single address is written {}/{bits}",
                            text.trim()
                        ),
                    ))
                }
                Err(_) => Err(Problem::at(
                    item,
                    format!(
                        "expected a subnet in CIDR notation (e.g. 10.1.0.0/16), found {text:?}"
                    ),
                )),
            },
        };
        match parsed {
            Ok(net) => networks.push(net),
            Err(problem) => problems.push(problem.in_item(i)),
        }
    }
    if problems.is_empty() {
        Ok(networks)
    } else {
        Err(problems)
    }
}
