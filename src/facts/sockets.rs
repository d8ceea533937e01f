//! What a host serves and who is connected to it now, from one `ss -Htuanp`: the sockets that
//! listen (TCP) or wait for datagrams (UDP) on an address other hosts can reach, and the TCP
//! sessions established to them. A firewall change is measured against these (DESIGN rule 9:
//! nothing that works today is closed without the operator having seen it).

use std::net::IpAddr;

use serde::Serialize;

/// A socket other hosts can reach: its protocol, address, port and the process holding it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ListeningSocket {
    pub protocol: &'static str,
    pub address: String,
    pub port: u16,
    /// The process name, when `ss` could tell (as root).
    pub process: Option<String>,
}

/// A TCP session a host other than this one opened to a listening socket, established now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InboundSession {
    pub port: u16,
    pub peer: String,
    pub process: Option<String>,
}

/// What `ss -Htuanp` printed, one socket per line:
/// `tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:* users:(("sshd",pid=55,fd=3))`.
pub fn parse(lines: &[&str]) -> (Vec<ListeningSocket>, Vec<InboundSession>) {
    let mut listening = Vec::new();
    let mut sockets = Vec::new();
    for line in lines {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [protocol, state, _, _, local, peer, rest @ ..] = fields.as_slice() else {
            continue;
        };
        let Some((address, port)) = endpoint(local) else {
            continue;
        };
        let process = rest.first().and_then(|users| process_name(users));
        sockets.push((*protocol, *state, address, port, *peer, process));
    }
    for (protocol, state, address, port, _, process) in &sockets {
        let protocol = match (*protocol, *state) {
            ("tcp", "LISTEN") => "tcp",
            ("udp", "UNCONN") => "udp",
            _ => continue,
        };
        if reachable(address) {
            listening.push(ListeningSocket {
                protocol,
                address: address.clone(),
                port: *port,
                process: process.clone(),
            });
        }
    }
    let listens_on = |port: u16| {
        listening
            .iter()
            .any(|l| l.protocol == "tcp" && l.port == port)
    };
    let mut sessions = Vec::new();
    for (protocol, state, address, port, peer, process) in &sockets {
        if *protocol != "tcp" || *state != "ESTAB" || !reachable(address) || !listens_on(*port) {
            continue;
        }
        if let Some((peer, _)) = endpoint(peer)
            && !is_loopback(&peer)
        {
            sessions.push(InboundSession {
                port: *port,
                peer,
                process: process.clone(),
            });
        }
    }
    listening.sort_by(|a, b| (a.port, a.protocol).cmp(&(b.port, b.protocol)));
    listening.dedup_by(|a, b| a.port == b.port && a.protocol == b.protocol);
    sessions.sort_by(|a, b| (a.port, &a.peer).cmp(&(b.port, &b.peer)));
    sessions.dedup_by(|a, b| a.port == b.port && a.peer == b.peer);
    (listening, sessions)
}

/// `0.0.0.0:22`, `[::]:22`, `[::ffff:10.0.0.1]:22`, `10.0.0.5%eth0:68`: the address (canonical,
/// without its interface) and the port.
fn endpoint(text: &str) -> Option<(String, u16)> {
    let (address, port) = text.rsplit_once(':')?;
    let port = port.parse().ok()?;
    let address = address.trim_start_matches('[').trim_end_matches(']');
    let address = address.split('%').next().unwrap_or(address);
    let canonical = match address.parse::<IpAddr>() {
        Ok(ip) => ip.to_canonical().to_string(),
        Err(_) => address.to_string(),
    };
    Some((canonical, port))
}

/// `users:(("sshd",pid=55,fd=3))` → `sshd`.
fn process_name(users: &str) -> Option<String> {
    let start = users.find("((\"")? + 3;
    let end = users[start..].find('"')? + start;
    Some(users[start..end].to_string())
}

fn is_loopback(address: &str) -> bool {
    address.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// ListeningSocket on something other hosts can reach: not loopback (docker's DNS listens on
/// 127.0.0.11, sshd's forwardings on 127.0.0.1).
fn reachable(address: &str) -> bool {
    !is_loopback(address)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SS: &str = r#"udp UNCONN     0      0        127.0.0.11:57521      0.0.0.0:*
tcp LISTEN     0      4096     127.0.0.11:43395      0.0.0.0:*
tcp LISTEN     0      128         0.0.0.0:22         0.0.0.0:*     users:(("sshd",pid=55,fd=3))
tcp LISTEN     0      128            [::]:22            [::]:*     users:(("sshd",pid=55,fd=4))
tcp LISTEN     0      5           0.0.0.0:10050      0.0.0.0:*     users:(("zabbix_agentd",pid=80,fd=4))
udp UNCONN     0      0           0.0.0.0:69         0.0.0.0:*     users:(("in.tftpd",pid=90,fd=4))
tcp ESTAB      0      0      172.28.77.13:22  172.28.77.1:50412     users:(("sshd",pid=99,fd=4))
tcp ESTAB      0      0      [::ffff:172.28.77.13]:22  [::ffff:172.28.77.7]:50413  users:(("sshd",pid=98,fd=4))
tcp ESTAB      0      0      172.28.77.13:43120  172.28.77.10:5269
tcp CLOSE-WAIT 2      0      172.28.77.13:5222  172.28.77.11:52858"#;

    #[test]
    fn what_listens_for_others_and_who_is_connected() {
        let lines: Vec<&str> = SS.lines().collect();
        let (listening, sessions) = parse(&lines);
        let seen: Vec<String> = listening
            .iter()
            .map(|l| format!("{}/{} {:?}", l.protocol, l.port, l.process))
            .collect();
        assert_eq!(
            seen,
            [
                "tcp/22 Some(\"sshd\")",
                "udp/69 Some(\"in.tftpd\")",
                "tcp/10050 Some(\"zabbix_agentd\")"
            ]
        );
        // The relay's own connection out to 5269 is no session of a listener; closing ones
        // are no sessions either.
        assert_eq!(
            sessions,
            [
                InboundSession {
                    port: 22,
                    peer: "172.28.77.1".into(),
                    process: Some("sshd".into())
                },
                InboundSession {
                    port: 22,
                    peer: "172.28.77.7".into(),
                    process: Some("sshd".into())
                },
            ]
        );
    }
}
