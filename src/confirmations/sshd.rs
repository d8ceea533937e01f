//! sshd as SIVEO will meet it: its effective configuration for the medulla user connecting from
//! each address the Medulla server connects from (`sshd -T -C user=…,host=…,addr=…`, so that
//! `Match` blocks apply), read into what decides a key login, and the directive that would
//! refuse it, named as sshd_config(5) writes it.
//!
//! Patterns are matched as sshd's match.c does for these directives: `*` and `?` wildcards;
//! `USER@HOST` in AllowUsers/DenyUsers, HOST an address, a CIDR network or a name pattern.

use std::net::IpAddr;

use ipnet::IpNet;

use crate::facts::{Facts, ListeningSocket};

/// What decides a key login in sshd's effective configuration (`sshd -T` prints every
/// directive lower-case, one value a line, lists of users and groups one entry a line).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SshdConfig {
    pub ports: Vec<u16>,
    pub listen_addresses: Vec<String>,
    pub allow_users: Vec<String>,
    pub deny_users: Vec<String>,
    pub allow_groups: Vec<String>,
    pub deny_groups: Vec<String>,
    pub pubkey_authentication: bool,
    /// The AuthorizedKeysFile patterns, tokens unexpanded (`.ssh/authorized_keys`, `%h/…`).
    pub authorized_keys_files: Vec<String>,
    /// `any`, or the lists of methods one of which must all succeed (`publickey,password`).
    pub authentication_methods: Vec<String>,
    /// `none`, or a command that gives keys besides the files.
    pub authorized_keys_command: String,
    pub strict_modes: bool,
}

impl SshdConfig {
    /// Reads the `sshd -T` lines the access probe kept (`port 22`, `allowusers admin`, …).
    pub fn parse<'a>(lines: impl IntoIterator<Item = &'a str>) -> Self {
        let mut config = SshdConfig {
            pubkey_authentication: true,
            strict_modes: true,
            authorized_keys_command: "none".into(),
            ..SshdConfig::default()
        };
        for line in lines {
            let (key, value) = line.split_once(' ').unwrap_or((line, ""));
            let value = value.trim();
            let words = || value.split_whitespace().map(str::to_string);
            match key {
                "port" => config.ports.extend(value.parse::<u16>().ok()),
                "listenaddress" => config.listen_addresses.push(value.to_string()),
                "allowusers" => config.allow_users.extend(words()),
                "denyusers" => config.deny_users.extend(words()),
                "allowgroups" => config.allow_groups.extend(words()),
                "denygroups" => config.deny_groups.extend(words()),
                "pubkeyauthentication" => config.pubkey_authentication = value == "yes",
                "authorizedkeysfile" => config.authorized_keys_files = words().collect(),
                "authenticationmethods" => config.authentication_methods = words().collect(),
                "authorizedkeyscommand" => config.authorized_keys_command = value.to_string(),
                "strictmodes" => config.strict_modes = value == "yes",
                _ => {}
            }
        }
        config
    }

    /// Why sshd would refuse `user` (member of `groups`) a key login from `addr` (reverse name
    /// `host`), each naming its directive; empty when it lets the user in.
    pub fn refusals(&self, user: &str, groups: &[String], host: &str, addr: &str) -> Vec<String> {
        let mut refusals = Vec::new();
        if !self.pubkey_authentication {
            refusals.push("PubkeyAuthentication no: sshd takes no key".to_string());
        }
        if self.authorized_keys_files.iter().all(|f| f == "none")
            && self.authorized_keys_command == "none"
        {
            refusals.push("AuthorizedKeysFile none: sshd reads no key file".to_string());
        }
        if let Some(pattern) = self
            .deny_users
            .iter()
            .find(|p| user_matches(p, user, host, addr))
        {
            refusals.push(format!("DenyUsers {pattern}: {user} is denied"));
        }
        if !self.allow_users.is_empty()
            && !self
                .allow_users
                .iter()
                .any(|p| user_matches(p, user, host, addr))
        {
            refusals.push(format!(
                "AllowUsers {}: {user} from {addr} is not among them",
                self.allow_users.join(" ")
            ));
        }
        if let Some(pattern) = self
            .deny_groups
            .iter()
            .find(|p| groups.iter().any(|g| glob(p, g)))
        {
            refusals.push(format!("DenyGroups {pattern}: {user} is in a denied group"));
        }
        if !self.allow_groups.is_empty()
            && !self
                .allow_groups
                .iter()
                .any(|p| groups.iter().any(|g| glob(p, g)))
        {
            refusals.push(format!(
                "AllowGroups {}: {user} is in none of them (its groups: {})",
                self.allow_groups.join(" "),
                groups.join(" ")
            ));
        }
        // One list must be the key alone: SIVEO logs in with its key (PROC step 3).
        let methods = &self.authentication_methods;
        if !methods.is_empty()
            && !methods
                .iter()
                .any(|list| list == "any" || list.split(',').all(|m| m == "publickey"))
        {
            refusals.push(format!(
                "AuthenticationMethods {}: a key alone does not log in",
                methods.join(" ")
            ));
        }
        refusals
    }
}

/// Why SIVEO would not reach sshd on `port` (relay_ssh_port), from where sshd really listens
/// (the facts' sockets held by sshd); `None` when it listens there, on every address or on one
/// the FQDN leads to. Without the sockets (ss could not run), sshd's own `Port` lines
/// (`configs`) are all there is to go by.
pub fn listening_problem(facts: &Facts, port: u16, configs: &[&SshdConfig]) -> Option<String> {
    let Some(sshd) = facts.sshd_sockets() else {
        let ports: Vec<u16> = configs
            .iter()
            .flat_map(|c| c.ports.iter().copied())
            .collect();
        return (!ports.is_empty() && !ports.contains(&port)).then(|| {
            format!(
                "sshd's Port is {}, not relay_ssh_port {port}, where SIVEO connects",
                join(&ports)
            )
        });
    };
    if sshd.is_empty() {
        return Some(format!(
            "no sshd listens on this relay (ss shows no socket of sshd): SIVEO connects to port {port}"
        ));
    }
    let on_port: Vec<&ListeningSocket> = sshd.iter().filter(|s| s.port == port).copied().collect();
    if on_port.is_empty() {
        let mut ports: Vec<u16> = sshd.iter().map(|s| s.port).collect();
        ports.sort_unstable();
        ports.dedup();
        return Some(format!(
            "sshd listens on port {}, not on relay_ssh_port {port}, where SIVEO connects (Port in sshd_config)",
            join(&ports)
        ));
    }
    let own = facts.fqdn_own_addresses();
    let reachable = on_port.iter().any(|s| {
        s.on_every_address()
            || s.address
                .parse::<IpAddr>()
                .is_ok_and(|ip| own.contains(&ip.to_canonical()))
    });
    if reachable {
        return None;
    }
    let bound: Vec<String> = on_port.iter().map(|s| s.address.clone()).collect();
    Some(if on_port.iter().all(|s| s.loopback_only()) {
        format!(
            "sshd listens on port {port} on {} only (ListenAddress): no other host reaches it",
            bound.join(", ")
        )
    } else {
        format!(
            "sshd listens on port {port} on {} only (ListenAddress), not on an address the FQDN leads to",
            bound.join(", ")
        )
    })
}

fn join(ports: &[u16]) -> String {
    ports
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `USER[@HOST]` against the user and where it connects from.
fn user_matches(pattern: &str, user: &str, host: &str, addr: &str) -> bool {
    match pattern.split_once('@') {
        None => glob(pattern, user),
        Some((user_pattern, host_pattern)) => {
            glob(user_pattern, user) && host_matches(host_pattern, host, addr)
        }
    }
}

/// A host pattern of AllowUsers/DenyUsers: a CIDR network, else a wildcard pattern of the
/// address or the name.
fn host_matches(pattern: &str, host: &str, addr: &str) -> bool {
    if let Ok(net) = pattern.parse::<IpNet>() {
        return addr
            .parse::<IpAddr>()
            .is_ok_and(|ip| net.contains(&ip.to_canonical()));
    }
    glob(pattern, addr) || glob(&pattern.to_ascii_lowercase(), &host.to_ascii_lowercase())
}

/// sshd's wildcard match: `*` any run of characters, `?` one character.
pub fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    // The classic backtracking matcher: at most one saved `*` position.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((star_pi, star_ti)) = star {
            pi = star_pi + 1;
            ti = star_ti + 1;
            star = Some((star_pi, star_ti + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(lines: &str) -> SshdConfig {
        SshdConfig::parse(lines.lines())
    }

    /// Debian 12's defaults as `sshd -T` prints them (the lines the probe keeps).
    const DEBIAN: &str = "port 22\nlistenaddress [::]:22\nlistenaddress 0.0.0.0:22\n\
        pubkeyauthentication yes\nstrictmodes yes\nauthorizedkeyscommand none\n\
        authorizedkeysfile .ssh/authorized_keys .ssh/authorized_keys2\nauthenticationmethods any";

    fn refusals(extra: &str) -> Vec<String> {
        config(&format!("{DEBIAN}\n{extra}")).refusals(
            "medulla",
            &["medulla".into()],
            "medulla.example.com",
            "203.0.113.7",
        )
    }

    #[test]
    fn debian_defaults_let_medulla_in() {
        let debian = config(DEBIAN);
        assert_eq!(debian.ports, [22]);
        assert_eq!(
            debian.authorized_keys_files,
            [".ssh/authorized_keys", ".ssh/authorized_keys2"]
        );
        assert_eq!(refusals(""), Vec::<String>::new());
    }

    #[test]
    fn each_refusal_names_its_directive() {
        assert_eq!(
            refusals("allowusers admin\nallowusers operator"),
            ["AllowUsers admin operator: medulla from 203.0.113.7 is not among them"]
        );
        assert_eq!(refusals("allowusers med*"), Vec::<String>::new());
        assert_eq!(
            refusals("denyusers *@203.0.113.0/24"),
            ["DenyUsers *@203.0.113.0/24: medulla is denied"]
        );
        assert_eq!(
            refusals("allowgroups sshusers"),
            ["AllowGroups sshusers: medulla is in none of them (its groups: medulla)"]
        );
        assert_eq!(
            refusals("denygroups medul?a"),
            ["DenyGroups medul?a: medulla is in a denied group"]
        );
        assert_eq!(
            refusals("pubkeyauthentication no"),
            ["PubkeyAuthentication no: sshd takes no key"]
        );
        assert_eq!(
            refusals("authorizedkeysfile none"),
            ["AuthorizedKeysFile none: sshd reads no key file"]
        );
        assert_eq!(
            refusals("authenticationmethods publickey,password"),
            ["AuthenticationMethods publickey,password: a key alone does not log in"]
        );
        assert_eq!(
            refusals("authenticationmethods publickey,password publickey"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn allowusers_hosts_match_the_address_the_network_or_the_name() {
        let from = |pattern: &str| {
            config(&format!("{DEBIAN}\nallowusers {pattern}"))
                .refusals("medulla", &[], "medulla.example.com", "203.0.113.7")
                .is_empty()
        };
        assert!(from("medulla@203.0.113.7"));
        assert!(from("medulla@203.0.113.*"));
        assert!(from("medulla@203.0.113.0/24"));
        assert!(from("medulla@*.EXAMPLE.com"));
        assert!(!from("medulla@10.0.0.0/8"));
        assert!(!from("admin@203.0.113.7"));
    }

    #[test]
    fn sshd_must_listen_on_relay_ssh_port_where_the_fqdn_leads() {
        use crate::medulla::port_matrix::Protocol;
        let sshd = |address: &str, port: u16| ListeningSocket {
            protocol: Protocol::Tcp,
            address: address.into(),
            port,
            process: Some("sshd".into()),
        };
        let with = |sockets: Vec<ListeningSocket>| crate::facts::Facts {
            listening: Some(sockets),
            ..crate::testing::facts()
        };
        assert_eq!(
            listening_problem(&with(vec![sshd("0.0.0.0", 22)]), 22, &[]),
            None
        );
        assert_eq!(
            listening_problem(&with(vec![sshd("192.0.2.11", 22)]), 22, &[]),
            None
        );
        assert_eq!(
            listening_problem(&with(vec![sshd("0.0.0.0", 2222), sshd("::", 2222)]), 22, &[]),
            Some(
                "sshd listens on port 2222, not on relay_ssh_port 22, where SIVEO connects (Port in \
                 sshd_config)"
                    .into()
            )
        );
        assert_eq!(
            listening_problem(&with(vec![sshd("127.0.0.1", 22)]), 22, &[]),
            Some(
                "sshd listens on port 22 on 127.0.0.1 only (ListenAddress): no other host reaches it"
                    .into()
            )
        );
        assert!(
            listening_problem(&with(vec![sshd("10.9.9.9", 22)]), 22, &[])
                .is_some_and(|p| p.ends_with("not on an address the FQDN leads to"))
        );
        let mut nothing = with(Vec::new());
        assert!(listening_problem(&nothing, 22, &[]).is_some_and(|p| p.starts_with("no sshd")));
        // Without ss, sshd's own Port lines decide.
        nothing.listening = None;
        let on_2222 = config("port 2222");
        assert!(listening_problem(&nothing, 22, &[&on_2222]).is_some());
        assert_eq!(listening_problem(&nothing, 2222, &[&on_2222]), None);
    }

    #[test]
    fn wildcards_match_as_sshds() {
        assert!(glob("*", ""));
        assert!(glob("m*a", "medulla"));
        assert!(glob("*ll*", "medulla"));
        assert!(glob("me?ulla", "medulla"));
        assert!(!glob("me?ulla", "meulla"));
        assert!(!glob("medulla", "medulla2"));
        assert!(glob("*a*b", "xaxxb"));
    }
}
