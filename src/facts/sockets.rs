//! What a host serves and who is connected to it now, from one `ss -Htuanp` as root: every TCP
//! socket that listens and every bound UDP socket, with the process that holds it, and the TCP
//! sessions other hosts have established to them. Several checks read it: which ports sshd
//! really listens on (the SSH key confirmation), and what a firewall change would cut off
//! (DESIGN rule 9: nothing that works today is closed without the operator having seen it).

use std::net::IpAddr;

use serde::Serialize;

use crate::medulla::port_matrix::Protocol;

/// One listening socket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ListeningSocket {
    pub protocol: Protocol,
    /// Without IPv6 brackets or an interface scope (`%eth0`), an IPv4-mapped address as IPv4:
    /// `0.0.0.0`, `::`, `*` (every address of both families), `192.0.2.5`.
    pub address: String,
    pub port: u16,
    /// The first process holding it (`sshd`), when ss names one (a socket of another network
    /// namespace, such as docker's embedded DNS, has none).
    pub process: Option<String>,
}

impl ListeningSocket {
    /// Reached on every address of the host: `0.0.0.0`, `::` or `*`.
    pub fn on_every_address(&self) -> bool {
        matches!(self.address.as_str(), "0.0.0.0" | "::" | "*")
    }

    /// Bound to loopback only: not reachable from another host (docker's DNS listens on
    /// 127.0.0.11, sshd's forwardings on 127.0.0.1).
    pub fn loopback_only(&self) -> bool {
        is_loopback(&self.address)
    }

    /// `tcp 0.0.0.0:22 (sshd)`.
    pub fn describe(&self) -> String {
        let address = if self.address.contains(':') {
            format!("[{}]", self.address)
        } else {
            self.address.clone()
        };
        match &self.process {
            Some(process) => format!("{} {address}:{} ({process})", self.protocol, self.port),
            None => format!("{} {address}:{}", self.protocol, self.port),
        }
    }
}

/// A TCP session a host other than this one opened to a listening socket, established now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InboundSession {
    pub port: u16,
    pub peer: String,
    pub process: Option<String>,
}

/// What `ss -Htuanp` printed, one socket per line:
/// `tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:* users:(("sshd",pid=55,fd=3))`. Every listening
/// socket in ss's order, and the sessions established to a reachable one.
pub fn parse(lines: &[&str]) -> (Vec<ListeningSocket>, Vec<InboundSession>) {
    let mut listening = Vec::new();
    let mut established = Vec::new();
    for line in lines {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [protocol, state, _, _, local, peer, rest @ ..] = fields.as_slice() else {
            continue;
        };
        let (Some(protocol), Some((address, port))) =
            (Protocol::from_name(protocol), endpoint(local))
        else {
            continue;
        };
        let process = rest.first().and_then(|users| process_name(users));
        match (protocol, *state) {
            (Protocol::Tcp, "LISTEN") | (Protocol::Udp, "UNCONN") => {
                listening.push(ListeningSocket {
                    protocol,
                    address,
                    port,
                    process,
                })
            }
            (Protocol::Tcp, "ESTAB") if !is_loopback(&address) => {
                established.push((port, *peer, process))
            }
            _ => {}
        }
    }
    let listens_on = |port: u16| {
        listening
            .iter()
            .any(|l| l.protocol == Protocol::Tcp && l.port == port && !l.loopback_only())
    };
    let mut sessions: Vec<InboundSession> = established
        .into_iter()
        .filter(|(port, _, _)| listens_on(*port))
        .filter_map(|(port, peer, process)| {
            let (peer, _) = endpoint(peer)?;
            (!is_loopback(&peer)).then_some(InboundSession {
                port,
                peer,
                process,
            })
        })
        .collect();
    sessions.sort_by(|a, b| (a.port, &a.peer).cmp(&(b.port, &b.peer)));
    sessions.dedup_by(|a, b| a.port == b.port && a.peer == b.peer);
    (listening, sessions)
}

/// The services other hosts can reach: one per protocol and port (sshd listens on 0.0.0.0 and
/// `::` alike), by port.
pub fn reachable_services(listening: &[ListeningSocket]) -> Vec<&ListeningSocket> {
    let mut services: Vec<&ListeningSocket> =
        listening.iter().filter(|l| !l.loopback_only()).collect();
    services.sort_by_key(|l| (l.port, l.protocol.to_string()));
    services.dedup_by(|a, b| a.port == b.port && a.protocol == b.protocol);
    services
}

/// `0.0.0.0:22`, `[::]:22`, `[::ffff:10.0.0.1]:22`, `10.0.0.5%eth0:68`, `*:9090`: the address
/// (canonical, without its interface) and the port.
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
        assert_eq!(listening.len(), 6, "{listening:?}");
        let seen: Vec<String> = reachable_services(&listening)
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

    /// The socket of one line of ss, if it is a listening one.
    fn one(line: &str) -> Option<ListeningSocket> {
        parse(&[line]).0.into_iter().next()
    }

    #[test]
    fn ss_lines_become_sockets_with_their_process() {
        let sshd = one(r#"tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:* users:(("sshd",pid=54,fd=3),("sshd",pid=60,fd=3))"#)
            .expect("parses");
        assert_eq!(
            sshd,
            ListeningSocket {
                protocol: Protocol::Tcp,
                address: "0.0.0.0".into(),
                port: 22,
                process: Some("sshd".into()),
            }
        );
        assert!(sshd.on_every_address());
        assert_eq!(sshd.describe(), "tcp 0.0.0.0:22 (sshd)");

        let v6 = one(r#"tcp LISTEN 0 128 [::]:2222 [::]:* users:(("sshd",pid=54,fd=4))"#)
            .expect("parses");
        assert_eq!((v6.address.as_str(), v6.port), ("::", 2222));
        assert_eq!(v6.describe(), "tcp [::]:2222 (sshd)");

        let scoped = one(
            r#"udp UNCONN 0 0 127.0.0.53%lo:53 0.0.0.0:* users:(("systemd-resolve",pid=1,fd=12))"#,
        )
        .expect("parses");
        assert_eq!(scoped.address, "127.0.0.53");
        assert!(scoped.loopback_only());

        let link = one("udp UNCONN 0 0 [fe80::1%eth0]:546 [::]:*").expect("parses");
        assert_eq!((link.address.as_str(), link.process), ("fe80::1", None));

        let any =
            one(r#"tcp LISTEN 0 4096 *:9090 *:* users:(("node",pid=7,fd=20))"#).expect("parses");
        assert!(any.on_every_address());
    }

    #[test]
    fn other_lines_are_not_sockets() {
        for line in [
            "",
            "Netid State",
            "raw UNCONN 0 0 *:ipv6-icmp *:*",
            "tcp LISTEN 0 1",
        ] {
            assert_eq!(one(line), None, "{line:?}");
        }
    }
}
