//! The firewall a host already has, as it filters now: ufw and firewalld, every base chain of
//! nftables with its owner, its policy and the rules that drop for everyone, and iptables-legacy
//! rules that `nft` cannot see. From these, where relayctl opens the Medulla flows
//! ([`Backend`]), and what it cannot open through ([`FirewallFacts::blockers`]): in nftables an
//! accept in one base chain does not stop a drop in another, so a rule in relayctl's own table
//! is no use behind a chain of someone else's that drops (DESIGN rule 8).

use serde::Serialize;

/// Where relayctl opens the Medulla flows on a host.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    /// Nothing else filters: relayctl's own table, `inet medulla_relay`.
    Nftables,
    /// ufw is enabled: in ufw's own rules, marked as relayctl's.
    Ufw,
    /// firewalld runs: in a firewalld policy relayctl owns.
    Firewalld,
}

/// Who a base chain belongs to, from its table and the chains beside it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Owner {
    Relayctl,
    Ufw,
    Firewalld,
    Docker,
    Fail2ban,
    /// The customer's own rules (their nftables.conf, iptables, another tool).
    Other,
}

/// A base chain of the input or forward hook: where packets to (or through) the host are judged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BaseChain {
    pub family: String,
    pub table: String,
    pub chain: String,
    pub hook: String,
    pub policy: String,
    pub owner: Owner,
    /// Its rules that drop or reject whatever the source (a ban of some addresses, as
    /// fail2ban's, is not one).
    pub drops_for_everyone: Vec<String>,
}

impl BaseChain {
    fn name(&self) -> String {
        format!(
            "nft table {} {}, chain {} (hook {})",
            self.family, self.table, self.chain, self.hook
        )
    }
}

/// What filters on a host, and where relayctl opens its flows there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FirewallFacts {
    pub backend: Backend,
    /// What drops packets relayctl would open and relayctl cannot open through, each named:
    /// the firewall role refuses to change anything while one is listed.
    pub blockers: Vec<String>,
    pub ufw_enabled: bool,
    pub firewalld_active: bool,
    pub chains: Vec<BaseChain>,
    /// iptables-legacy rules that drop for everyone, or a legacy chain's drop policy: invisible
    /// to `nft`, and in force.
    pub legacy_drops: Vec<String>,
}

impl FirewallFacts {
    /// From the probe's findings: ufw.conf's `ENABLED`, firewalld's state, `nft -t list
    /// ruleset` and `iptables-legacy-save` / `ip6tables-legacy-save`, line by line.
    pub fn parse(ufw_enabled: bool, firewalld_active: bool, nft: &[&str], legacy: &[&str]) -> Self {
        let chains = base_chains(nft);
        let legacy_drops = legacy_drops(legacy);
        let ufw_loaded = chains.iter().any(|c| c.owner == Owner::Ufw);
        let backend = if firewalld_active {
            Backend::Firewalld
        } else if ufw_enabled {
            Backend::Ufw
        } else {
            Backend::Nftables
        };
        let mut blockers = Vec::new();
        if firewalld_active && ufw_enabled {
            blockers.push(
                "ufw is enabled and firewalld runs: two firewalls, relayctl cannot tell which one \
                 the customer means to keep"
                    .to_string(),
            );
        }
        if ufw_enabled && !ufw_loaded && !firewalld_active {
            blockers.push(
                "ufw is enabled in /etc/ufw/ufw.conf but its rules are not loaded: start it \
                 (`ufw enable`) or disable it, then run again"
                    .to_string(),
            );
        }
        for chain in chains
            .iter()
            .filter(|c| c.owner == Owner::Other && c.hook == "input")
        {
            if chain.policy == "drop" {
                blockers.push(format!(
                    "{}: policy drop, which drops what relayctl opens elsewhere",
                    chain.name()
                ));
            }
            for rule in &chain.drops_for_everyone {
                blockers.push(format!("{}: rule `{rule}`", chain.name()));
            }
        }
        blockers.extend(
            legacy_drops
                .iter()
                .map(|rule| format!("iptables-legacy: `{rule}` (nft cannot see these rules)")),
        );
        FirewallFacts {
            backend,
            blockers,
            ufw_enabled,
            firewalld_active,
            chains,
            legacy_drops,
        }
    }
}

/// One table of a ruleset listing, as far as ownership needs it.
struct Table<'a> {
    family: &'a str,
    name: &'a str,
    chains: Vec<Chain<'a>>,
}

struct Chain<'a> {
    name: &'a str,
    hook: Option<(&'a str, &'a str)>,
    rules: Vec<&'a str>,
}

fn base_chains(lines: &[&str]) -> Vec<BaseChain> {
    let mut tables: Vec<Table> = Vec::new();
    for line in lines.iter().map(|l| l.trim()) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["table", family, name, "{"] => tables.push(Table {
                family,
                name,
                chains: Vec::new(),
            }),
            ["chain", name, "{"] => {
                if let Some(table) = tables.last_mut() {
                    table.chains.push(Chain {
                        name,
                        hook: None,
                        rules: Vec::new(),
                    });
                }
            }
            ["type", _, "hook", hook, ..] => {
                let policy = line
                    .split("policy ")
                    .nth(1)
                    .map_or("accept", |p| p.trim_end_matches(';').trim());
                if let Some(chain) = tables.last_mut().and_then(|t| t.chains.last_mut()) {
                    chain.hook = Some((hook, policy));
                }
            }
            [] | ["}"] => {}
            _ => {
                if let Some(chain) = tables.last_mut().and_then(|t| t.chains.last_mut()) {
                    chain.rules.push(line);
                }
            }
        }
    }
    let mut found = Vec::new();
    for table in &tables {
        let owner = owner(table);
        for chain in &table.chains {
            let Some((hook, policy)) = chain.hook else {
                continue;
            };
            if hook != "input" && hook != "forward" {
                continue;
            }
            found.push(BaseChain {
                family: table.family.to_string(),
                table: table.name.to_string(),
                chain: chain.name.to_string(),
                hook: hook.to_string(),
                policy: policy.to_string(),
                owner,
                drops_for_everyone: chain
                    .rules
                    .iter()
                    .filter(|rule| drops_for_everyone(rule))
                    .map(|rule| rule.to_string())
                    .collect(),
            });
        }
    }
    found
}

/// A table's owner: relayctl's and firewalld's by name; ufw's, docker's and fail2ban's by the
/// chains they add (ufw and docker share iptables' `filter` table).
fn owner(table: &Table) -> Owner {
    let has = |prefix: &str| table.chains.iter().any(|c| c.name.starts_with(prefix));
    match (table.family, table.name) {
        ("inet", "medulla_relay") => Owner::Relayctl,
        (_, "firewalld") => Owner::Firewalld,
        _ if has("ufw-") || has("ufw6-") => Owner::Ufw,
        _ if table.name.starts_with("f2b-") || has("f2b-") => Owner::Fail2ban,
        _ if has("DOCKER") => Owner::Docker,
        _ => Owner::Other,
    }
}

/// A rule that ends in drop or reject, whatever the packet's source: no `saddr` match, no
/// set lookup (a ban list), not only for invalid or already-tracked packets.
fn drops_for_everyone(rule: &str) -> bool {
    let words: Vec<&str> = rule.split_whitespace().collect();
    let verdict = words.iter().rev().find(|w| {
        !w.starts_with('#')
            && !w.chars().all(|c| c.is_ascii_digit())
            && **w != "packets"
            && **w != "bytes"
            && **w != "counter"
    });
    matches!(verdict, Some(&"drop") | Some(&"reject"))
        && !words
            .iter()
            .any(|w| *w == "saddr" || w.starts_with('@') || *w == "invalid")
}

/// `iptables-legacy-save` lines that drop for everyone: a built-in chain's DROP policy
/// (`:INPUT DROP [0:0]`), or a rule to DROP or REJECT without a source (`-s`).
fn legacy_drops(lines: &[&str]) -> Vec<String> {
    let mut table = "";
    let mut drops = Vec::new();
    for line in lines.iter().map(|l| l.trim()) {
        if let Some(name) = line.strip_prefix('*') {
            table = name;
            continue;
        }
        if table != "filter" {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            [chain, "DROP", ..] if *chain == ":INPUT" => drops.push(format!("{chain} policy DROP")),
            ["-A", "INPUT", rest @ ..] => {
                let target = rest.windows(2).find(|w| w[0] == "-j").map(|w| w[1]);
                if matches!(target, Some("DROP" | "REJECT")) && !rest.contains(&"-s") {
                    drops.push(line.to_string());
                }
            }
            _ => {}
        }
    }
    drops
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<&str> {
        text.lines().collect()
    }

    const UFW: &str = "table ip filter {
\tchain ufw-before-input {
\t}
\tchain INPUT {
\t\ttype filter hook input priority filter; policy drop;
\t\tcounter packets 0 bytes 0 jump ufw-before-input
\t}
\tchain FORWARD {
\t\ttype filter hook forward priority filter; policy drop;
\t}
\tchain DOCKER-USER {
\t}
}
table inet f2b-table {
\tchain f2b-chain {
\t\ttype filter hook input priority filter - 1; policy accept;
\t\ttcp dport 22 ip saddr @addr-set-sshd reject with icmp port-unreachable
\t}
}";

    #[test]
    fn ufw_and_fail2ban_are_no_one_elses_chains() {
        let facts = FirewallFacts::parse(true, false, &lines(UFW), &[]);
        assert_eq!(facts.backend, Backend::Ufw);
        assert_eq!(facts.blockers, Vec::<String>::new());
        let owners: Vec<(&str, Owner)> = facts
            .chains
            .iter()
            .map(|c| (c.chain.as_str(), c.owner))
            .collect();
        assert_eq!(
            owners,
            [
                ("INPUT", Owner::Ufw),
                ("FORWARD", Owner::Ufw),
                ("f2b-chain", Owner::Fail2ban)
            ]
        );
        assert!(
            facts.chains[2].drops_for_everyone.is_empty(),
            "a ban is not a drop for everyone"
        );
    }

    #[test]
    fn a_customers_chain_that_drops_and_legacy_rules_are_named() {
        let nft = "table inet filter {
\tchain input {
\t\ttype filter hook input priority filter; policy accept;
\t\tct state invalid drop
\t\ttcp dport 22 accept
\t\tcounter packets 3 bytes 180 drop
\t}
}
table inet medulla_relay {
\tchain input {
\t\ttype filter hook input priority filter; policy drop;
\t}
}";
        let legacy = "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -s 10.0.0.0/8 -j DROP\n-A INPUT -p tcp --dport 10050 -j REJECT\nCOMMIT\n";
        let facts = FirewallFacts::parse(false, false, &lines(nft), &lines(legacy));
        assert_eq!(facts.backend, Backend::Nftables);
        assert_eq!(
            facts.blockers,
            [
                "nft table inet filter, chain input (hook input): rule `counter packets 3 bytes 180 drop`",
                "iptables-legacy: `-A INPUT -p tcp --dport 10050 -j REJECT` (nft cannot see these rules)"
            ]
        );
        let drop_policy = "table ip filter {\n\tchain INPUT {\n\t\ttype filter hook input priority filter; policy drop;\n\t}\n}";
        assert_eq!(
            FirewallFacts::parse(false, false, &lines(drop_policy), &[]).blockers,
            [
                "nft table ip filter, chain INPUT (hook input): policy drop, which drops what relayctl opens elsewhere"
            ]
        );
    }

    #[test]
    fn firewalld_wins_and_two_firewalls_are_refused() {
        assert_eq!(
            FirewallFacts::parse(false, true, &[], &[]).backend,
            Backend::Firewalld
        );
        let both = FirewallFacts::parse(true, true, &[], &[]);
        assert_eq!(both.blockers.len(), 1, "{:?}", both.blockers);
        let not_loaded = FirewallFacts::parse(true, false, &[], &[]);
        assert!(
            not_loaded.blockers[0].contains("not loaded"),
            "{:?}",
            not_loaded.blockers
        );
    }
}
