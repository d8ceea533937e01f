//! The `rules` argument of the ufw and firewalld modules: the flows to open, as the firewall role
//! passes them (`rules: "{{ relay_firewall.flows }}"`, computed by relayctl from the port
//! matrix). Each value is checked here, since each reaches a file on the host: a direction, a
//! protocol, a port range, addresses or networks (none: any address) and a comment of one line.

use std::net::IpAddr;

use ipnet::IpNet;
use serde_json::Value;

/// Where a flow goes, seen from the relay.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    In,
    Out,
}

/// One flow to open.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Flow {
    pub direction: Direction,
    /// `tcp` or `udp`.
    pub protocol: &'static str,
    pub first_port: u16,
    pub last_port: u16,
    /// The other end's addresses: where an inbound flow comes from, where an outbound one
    /// goes. Empty: any address.
    pub peers: Vec<IpNet>,
    /// What the flow is for, and its source in the Medulla documentation.
    pub comment: String,
}

impl Flow {
    /// `5269` or `4370:4380`, as iptables and ufw write a port range.
    pub fn ports_colon(&self) -> String {
        self.ports_with(':')
    }

    /// `5269` or `4370-4380`, as firewalld writes a port range.
    pub fn ports_dash(&self) -> String {
        self.ports_with('-')
    }

    fn ports_with(&self, separator: char) -> String {
        if self.first_port == self.last_port {
            self.first_port.to_string()
        } else {
            format!("{}{separator}{}", self.first_port, self.last_port)
        }
    }
}

/// The longest comment kept: ufw stores it hex-encoded in a rule, firewalld in an XML file.
const COMMENT_MAX: usize = 200;

/// Reads the list of flows; the error names the flow (by its index) and the key.
pub(crate) fn parse(value: &Value) -> Result<Vec<Flow>, String> {
    let Value::Array(items) = value else {
        return Err(
            "expected a list of flows ({direction, protocol, ports, peers, comment})".into(),
        );
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| flow(item).map_err(|e| format!("flow {i}: {e}")))
        .collect()
}

fn flow(item: &Value) -> Result<Flow, String> {
    let Value::Object(map) = item else {
        return Err("expected a map {direction, protocol, ports, peers, comment}".into());
    };
    for key in map.keys() {
        if !["direction", "protocol", "ports", "peers", "comment"].contains(&key.as_str()) {
            return Err(format!("unknown key {key:?}"));
        }
    }
    let text = |key: &str| -> Result<&str, String> {
        map.get(key)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("{key}: expected a string"))
    };
    let direction = match text("direction")? {
        "in" => Direction::In,
        "out" => Direction::Out,
        other => return Err(format!("direction: {other:?} is not in or out")),
    };
    let protocol = match text("protocol")? {
        "tcp" => "tcp",
        "udp" => "udp",
        other => return Err(format!("protocol: {other:?} is not tcp or udp")),
    };
    let (first_port, last_port) = ports(map.get("ports"))?;
    let peers = match map.get("peers") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(peers)) => peers
            .iter()
            .map(|peer| {
                peer.as_str()
                    .and_then(network)
                    .ok_or_else(|| format!("peers: {peer} is not an IP address or network"))
            })
            .collect::<Result<_, _>>()?,
        Some(other) => return Err(format!("peers: expected a list, found {other}")),
    };
    let comment = text("comment")?;
    if comment.chars().count() > COMMENT_MAX {
        return Err(format!("comment: longer than {COMMENT_MAX} characters"));
    }
    if comment.chars().any(char::is_control) {
        return Err(format!("comment: {comment:?} holds a control character"));
    }
    Ok(Flow {
        direction,
        protocol,
        first_port,
        last_port,
        peers,
        comment: comment.to_string(),
    })
}

/// `5269`, `"5269"` or `"4370-4380"`: a port or a range, 1 to 65535, first to last.
fn ports(value: Option<&Value>) -> Result<(u16, u16), String> {
    let port = |text: &str| text.parse::<u16>().ok().filter(|p| *p != 0);
    let range = match value {
        Some(Value::Number(n)) => n
            .as_u64()
            .and_then(|n| u16::try_from(n).ok())
            .filter(|p| *p != 0)
            .map(|p| (p, p)),
        Some(Value::String(text)) => match text.split_once('-') {
            None => port(text).map(|p| (p, p)),
            Some((first, last)) => port(first).zip(port(last)),
        },
        _ => None,
    };
    range.filter(|(first, last)| first <= last).ok_or_else(|| {
        format!(
            "ports: expected a port (1-65535) or a range FIRST-LAST, found {}",
            value.map_or("nothing".into(), Value::to_string)
        )
    })
}

/// An address (a network of one) or a network, in its canonical form: an IPv4-mapped IPv6
/// address is the IPv4 address its packets carry.
fn network(text: &str) -> Option<IpNet> {
    if let Ok(net) = text.parse::<IpNet>() {
        return Some(net.trunc());
    }
    text.parse::<IpAddr>()
        .ok()
        .map(|ip| IpNet::from(ip.to_canonical()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn flows_are_read_with_their_ranges_and_peers() {
        let flows = parse(&json!([
            {"direction": "in", "protocol": "tcp", "ports": "4370-4380",
             "peers": ["192.0.2.10", "2001:db8::/64", "10.1.2.3/8"], "comment": "ejabberd (S000)"},
            {"direction": "out", "protocol": "udp", "ports": 69, "peers": [], "comment": "tftp"},
        ]))
        .unwrap();
        assert_eq!(flows[0].ports_colon(), "4370:4380");
        assert_eq!(flows[0].ports_dash(), "4370-4380");
        assert_eq!(
            flows[0].peers,
            ["192.0.2.10/32", "2001:db8::/64", "10.0.0.0/8"].map(|n| n.parse::<IpNet>().unwrap())
        );
        assert_eq!(flows[1].direction, Direction::Out);
        assert_eq!(flows[1].ports_colon(), "69");
        assert!(flows[1].peers.is_empty());
    }

    #[test]
    fn each_bad_value_is_refused_naming_the_flow_and_key() {
        let base = json!({"direction": "in", "protocol": "tcp", "ports": 22, "peers": [], "comment": "ssh"});
        for (key, bad, expected) in [
            ("direction", json!("sideways"), "flow 0: direction"),
            ("protocol", json!("icmp"), "flow 0: protocol"),
            ("ports", json!("10-5"), "flow 0: ports"),
            ("ports", json!(0), "flow 0: ports"),
            ("ports", json!("22; reboot"), "flow 0: ports"),
            ("peers", json!(["192.0.2.1 ; reboot"]), "flow 0: peers"),
            ("comment", json!("a\nforged line"), "flow 0: comment"),
            ("colour", json!("red"), "flow 0: unknown key"),
        ] {
            let mut flow = base.clone();
            flow[key] = bad;
            let error = parse(&json!([flow])).expect_err(key);
            assert!(error.starts_with(expected), "{error}");
        }
    }
}
