//! `firewalld_flows`: the Medulla flows opened in firewalld, where firewalld is what filters
//! (README, "Firewall").
//!
//! relayctl owns two firewalld policies, `relayctl-flows-in` (from any zone to the host) and
//! `relayctl-flows-out` (from the host to any zone), each a file of its own in
//! `/etc/firewalld/policies/`: rich rules that accept the flows, with target CONTINUE and a
//! priority that puts them before the zones, so that whatever the zones reject, the Medulla
//! flows pass, and nothing else of the customer's configuration changes. `firewall-cmd
//! --info-policy` shows them; removing them is removing the two files.
//!
//! A change keeps the guarantees of relayctl's nftables table (DESIGN rule 4): the new policy is
//! put in place and checked with `firewall-cmd --check-config` (refused: the previous files are
//! back, nothing was loaded); the guard is armed; `firewall-cmd --reload` loads it (state kept:
//! established connections go on); the previous files go back on disk at once, so that a reboot
//! before the confirmation boots the previous policy; over a NEW SSH connection the guard is
//! disarmed and only then the new files are put in place for good. nftables.service is never
//! enabled beside firewalld (its unit conflicts with firewalld's).

use crate::modules::PRESENT_ABSENT;
use std::fmt::Write as _;

use super::flows::{Direction, Flow};
use super::guard::{self, Guard, STATE_DIR};
use crate::modules::shell::{FileStat, quote};
use crate::modules::{
    Action, Applied, ArgError, ArgKind, ArgSpec, BuildContext, FileDiff, Findings, ModuleDef,
    ModuleKind, Plan, ProbeError, Provides, Rendered, Resource, Step,
};

const POLICY_DIR: &str = "/etc/firewalld/policies";
/// Before the zones (which firewalld evaluates at priority 0) and after firewalld's own
/// negative-priority policies (allow-host-ipv6 at -15000).
const PRIORITY: i32 = -100;

pub static FIREWALLD_FLOWS: ModuleDef = ModuleDef {
    name: "firewalld_flows",
    aliases: &[],
    args: &[
        ArgSpec::optional("rules", ArgKind::Flows),
        ArgSpec::optional("state", ArgKind::Choice(PRESENT_ABSENT)),
        ArgSpec::optional("rollback_timeout", ArgKind::Int),
    ],
    free_form: None,
    kind: ModuleKind::Remote(build),
};

/// One of relayctl's two policies.
struct Policy {
    /// At most 18 characters: firewalld's limit for a policy's name.
    name: &'static str,
    direction: Direction,
    /// The content it must have; `None`: it must not exist.
    wanted: Option<String>,
}

impl Policy {
    fn path(&self) -> String {
        format!("{POLICY_DIR}/{}.xml", self.name)
    }

    fn staged(&self) -> String {
        format!("{STATE_DIR}/firewalld-{}.xml.staged", self.name)
    }

    fn rollback(&self) -> String {
        format!("{STATE_DIR}/firewalld-{}.xml.rollback", self.name)
    }

    fn key(&self) -> &'static str {
        match self.direction {
            Direction::In => "fwd.in",
            Direction::Out => "fwd.out",
        }
    }

    /// The nft chain firewalld makes of an active policy's accepted rules.
    fn live_chain(&self) -> String {
        let hook = match self.direction {
            Direction::In => "IN",
            Direction::Out => "OUT",
        };
        format!("filter_{hook}_policy_{}_allow", self.name)
    }
}

struct FirewalldFlows {
    policies: [Policy; 2],
    guard: Guard,
}

fn build(args: &Rendered, _: &BuildContext) -> Result<Box<dyn Action>, ArgError> {
    let present = args.present()?;
    let flows = args.flows("rules")?;
    if present && flows.is_empty() {
        return Err(ArgError::new(
            "rules",
            "state present needs the flows to open (rules: \"{{ relay_firewall.flows }}\")",
        ));
    }
    let policy = |name, direction| {
        let chosen: Vec<&Flow> = flows.iter().filter(|f| f.direction == direction).collect();
        Policy {
            name,
            direction,
            wanted: (present && !chosen.is_empty()).then(|| policy_xml(name, direction, &chosen)),
        }
    };
    Ok(Box::new(FirewalldFlows {
        policies: [
            policy("relayctl-flows-in", Direction::In),
            policy("relayctl-flows-out", Direction::Out),
        ],
        guard: Guard::new("firewalld", guard::rollback_timeout(args)?),
    }))
}

/// A policy file as firewalld reads it: each flow a rich rule per peer (or one for any address),
/// its purpose in an XML comment.
fn policy_xml(name: &str, direction: Direction, flows: &[&Flow]) -> String {
    let (ingress, egress, peer_element, what) = match direction {
        Direction::In => ("ANY", "HOST", "source", "into"),
        Direction::Out => ("HOST", "ANY", "destination", "out of"),
    };
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <!-- Managed by relayctl: replaced as a whole on every apply (edit the inventory, not this file). -->\n\
         <policy priority=\"{PRIORITY}\" target=\"CONTINUE\">\n\
         \x20 <short>{name}</short>\n\
         \x20 <description>relayctl: the Medulla flows {what} this relay</description>\n\
         \x20 <ingress-zone name=\"{ingress}\"/>\n\
         \x20 <egress-zone name=\"{egress}\"/>\n"
    );
    for flow in flows {
        let _ = writeln!(xml, "  <!-- relayctl: {} -->", xml_comment(&flow.comment));
        let port = format!(
            "    <port port=\"{}\" protocol=\"{}\"/>\n    <accept/>\n  </rule>\n",
            flow.ports_dash(),
            flow.protocol
        );
        if flow.peers.is_empty() {
            xml.push_str("  <rule>\n");
            xml.push_str(&port);
        }
        for peer in &flow.peers {
            let family = match peer {
                ipnet::IpNet::V4(_) => "ipv4",
                ipnet::IpNet::V6(_) => "ipv6",
            };
            let _ = write!(
                xml,
                "  <rule family=\"{family}\">\n    <{peer_element} address=\"{peer}\"/>\n{port}"
            );
        }
    }
    xml.push_str("</policy>\n");
    xml
}

/// Text an XML comment can hold: no `--`, no `-` at its end.
fn xml_comment(text: &str) -> String {
    let mut safe = text.replace("--", "- -");
    while safe.ends_with('-') {
        safe.pop();
    }
    safe
}

impl FirewalldFlows {
    fn restore_old(&self) -> String {
        self.policies
            .iter()
            .map(|p| {
                format!(
                    "if [ -e {r} ]; then cp -p {r} {d}; else rm -f {d}; fi",
                    r = quote(&p.rollback()),
                    d = quote(&p.path())
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn install_new(&self) -> String {
        self.policies
            .iter()
            .map(|p| match p.wanted {
                Some(_) => format!(
                    "cp {s} {d} && chmod 0644 {d}",
                    s = quote(&p.staged()),
                    d = quote(&p.path())
                ),
                None => format!("rm -f {}", quote(&p.path())),
            })
            .collect::<Vec<_>>()
            .join(" && ")
    }

    fn cleanup(&self) -> String {
        let files: Vec<String> = self
            .policies
            .iter()
            .flat_map(|p| [quote(&p.staged()), quote(&p.rollback())])
            .collect();
        format!("rm -f {}", files.join(" "))
    }

    /// Keep the previous files, stage the new ones (from stdin, in order).
    fn stage_script(&self) -> String {
        let mut script = format!(
            "mkdir -p -m 0700 {state} && mkdir -p {dir} || exit 1\n",
            state = quote(STATE_DIR),
            dir = quote(POLICY_DIR)
        );
        for p in &self.policies {
            let _ = writeln!(
                script,
                "if [ -e {d} ]; then cp -p {d} {r} || exit 1; else rm -f {r}; fi",
                d = quote(&p.path()),
                r = quote(&p.rollback())
            );
            if let Some(xml) = &p.wanted {
                let _ = writeln!(
                    script,
                    "( umask 077; head -c {} >{} ) || exit 1",
                    xml.len(),
                    quote(&p.staged())
                );
            }
        }
        script
    }

    fn load_script(&self) -> String {
        let (restore, cleanup) = (self.restore_old(), self.cleanup());
        let undo = format!("{restore}; firewall-cmd --reload >&2");
        format!(
            "{refuse}{stage}\
             if ! {{ {install}; }}; then {restore}; {cleanup}; exit 1; fi\n\
             if ! firewall-cmd --check-config >&2; then {restore}; {cleanup}; echo 'firewall-cmd --check-config refused the configuration with the new policy; nothing was changed' >&2; exit 3; fi\n\
             {arm}\
             if ! firewall-cmd --reload >&2; then\n\
             \x20 {undo}; {stand_down}; {cleanup}\n\
             \x20 echo 'firewall-cmd --reload failed; firewalld has its previous configuration again' >&2; exit 1\n\
             fi\n\
             {restore} || exit 1\n",
            refuse = self.guard.refuse_if_armed(),
            stage = self.stage_script(),
            install = self.install_new(),
            arm = self.guard.arm(&undo, &cleanup),
            stand_down = self.guard.stand_down(),
        )
    }

    /// Without firewalld running: the files change, nothing is loaded.
    fn write_only_script(&self) -> String {
        format!(
            "{stage}{{ {install}; }} || exit 1\n{cleanup}\n",
            stage = self.stage_script(),
            install = self.install_new(),
            cleanup = self.cleanup()
        )
    }
}

impl Action for FirewalldFlows {
    fn probe(&self) -> Option<String> {
        let [inbound, outbound] = &self.policies;
        Some(format!(
            "if [ -x /usr/sbin/firewalld ]; then\n\
             \x20 f fwd.bin yes\n\
             \x20 fstat fwd.in {in_path}\n\
             \x20 fstat fwd.out {out_path}\n\
             \x20 factive fwd.active firewalld.service\n\
             \x20 if [ -L /run/systemd/units/invocation:firewalld.service ]; then\n\
             \x20   for _c in {in_chain} {out_chain}; do\n\
             \x20     if nft list chain inet firewalld \"$_c\" >/dev/null 2>&1; then f fwd.live \"$_c\"; fi\n\
             \x20   done\n\
             \x20 fi\n\
             else f fwd.bin no; fi\n\
             {armed}",
            in_path = quote(&inbound.path()),
            out_path = quote(&outbound.path()),
            in_chain = quote(&inbound.live_chain()),
            out_chain = quote(&outbound.live_chain()),
            armed = self.guard.probe("fwd.armed"),
        ))
    }

    fn plan(&self, found: &Findings) -> Result<Plan, ProbeError> {
        let present = self.policies.iter().any(|p| p.wanted.is_some());
        if found.require("fwd.bin")? != "yes" {
            if !present {
                return Ok(Plan::unchanged());
            }
            return Err(ProbeError::Missing(
                Resource::Path("/usr/sbin/firewalld".into()),
                "firewalld is not installed".into(),
            ));
        }
        if found.get("fwd.armed") == Some("yes") {
            return Err(ProbeError::Failed(format!(
                "a firewall rollback is armed on the host ({}): a run is confirming a change, or died before it could; the host restores firewalld's previous policy within {} s at most, then try again",
                self.guard.token, self.guard.timeout
            )));
        }
        let active = found.require("fwd.active")? == "active";
        let mut files_current = true;
        let mut loaded = true;
        let mut diff = None;
        for policy in &self.policies {
            let stat = FileStat::from_findings(found, policy.key())?;
            let current = found.content(policy.key());
            if current.map(<[u8]>::to_vec) != policy.wanted.as_ref().map(|w| w.as_bytes().to_vec())
                || (stat == FileStat::Absent) != policy.wanted.is_none()
            {
                files_current = false;
                diff = diff.or(Some(FileDiff {
                    path: policy.path(),
                    before: current.map(|c| String::from_utf8_lossy(c).into_owned()),
                    after: policy.wanted.clone(),
                }));
            }
            let live = found
                .values
                .iter()
                .any(|(k, v)| k == "fwd.live" && *v == policy.live_chain());
            loaded &= !active || live == policy.wanted.is_some();
        }
        if files_current && loaded {
            return Ok(Plan::unchanged());
        }
        let mut changes = vec![if !present {
            "remove relayctl's policies from firewalld".to_string()
        } else if files_current {
            "load relayctl's firewalld policies again: they are in its configuration but not loaded"
                .to_string()
        } else {
            "open the Medulla flows in firewalld (policies relayctl-flows-in and -out, before the zones)"
                .to_string()
        }];
        let stdin: Vec<u8> = self
            .policies
            .iter()
            .filter_map(|p| p.wanted.as_ref())
            .flat_map(|xml| xml.bytes())
            .collect();
        let step = if active {
            changes.push(format!(
                "restore firewalld's previous policy unless a new SSH connection confirms within {} s",
                self.guard.timeout
            ));
            Step {
                script: self.load_script(),
                stdin,
                confirm: Some(self.guard.confirmation(
                    Step {
                        script: format!(
                            "{disarm}{{ {install}; }} || exit 1\n{cleanup}\n",
                            disarm = self.guard.disarm(),
                            install = self.install_new(),
                            cleanup = self.cleanup()
                        ),
                        ..Step::default()
                    },
                    &format!(
                        "{}; firewall-cmd --reload >&2; {}",
                        self.restore_old(),
                        self.cleanup()
                    ),
                    "firewalld's previous policy",
                )),
                ..Step::default()
            }
        } else {
            changes.push("firewalld is not running: its files change, nothing is loaded".into());
            Step {
                script: self.write_only_script(),
                stdin,
                ..Step::default()
            }
        };
        Ok(Plan {
            changes,
            diff,
            step: Some(step),
            provides: vec![Provides::Resource(Resource::Path(POLICY_DIR.into()))],
        })
    }

    fn applied(&self, output: &Findings) -> Result<Applied, String> {
        if output.exit_status != 0 {
            return Err(output.failure_text());
        }
        Ok(Applied::default())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::modules::firewall::flows;

    fn action(state: &str) -> FirewalldFlows {
        let flows = flows::parse(&json!([
            {"direction": "in", "protocol": "tcp", "ports": "5269", "peers": ["192.0.2.10", "2001:db8::10"], "comment": "XMPP -- S2S (S000)"},
            {"direction": "in", "protocol": "tcp", "ports": "5222", "peers": [], "comment": "XMPP clients (FLUX)"},
            {"direction": "out", "protocol": "udp", "ports": "4370-4380", "peers": ["192.0.2.10"], "comment": "range-"},
        ]))
        .unwrap();
        let present = state == "present";
        let policy = |name, direction| {
            let chosen: Vec<&Flow> = flows.iter().filter(|f| f.direction == direction).collect();
            Policy {
                name,
                direction,
                wanted: (present && !chosen.is_empty())
                    .then(|| policy_xml(name, direction, &chosen)),
            }
        };
        FirewalldFlows {
            policies: [
                policy("relayctl-flows-in", Direction::In),
                policy("relayctl-flows-out", Direction::Out),
            ],
            guard: Guard::new("firewalld", 60),
        }
    }

    fn findings(active: bool, files: [Option<&str>; 2], live: &[&str]) -> Findings {
        let mut found = Findings::from_values(&[
            ("fwd.bin", "yes"),
            ("fwd.active", if active { "active" } else { "inactive" }),
            ("fwd.armed", "no"),
        ]);
        for (key, file) in ["fwd.in", "fwd.out"].into_iter().zip(files) {
            match file {
                None => found.values.push((key.into(), "absent".into())),
                Some(text) => {
                    found.values.push((
                        key.into(),
                        format!("regular file|root|root|644|{}", text.len()),
                    ));
                    found.contents.push((key.into(), text.as_bytes().to_vec()));
                }
            }
        }
        for chain in live {
            found.values.push(("fwd.live".into(), chain.to_string()));
        }
        found
    }

    #[test]
    fn the_policy_is_rich_rules_per_peer_before_the_zones() {
        let action = action("present");
        let xml = action.policies[0].wanted.clone().unwrap();
        insta::assert_snapshot!(xml);
        assert!(!xml.contains("S2S -- "), "no -- inside an XML comment");
        let out = action.policies[1].wanted.clone().unwrap();
        assert!(
            out.contains("<destination address=\"192.0.2.10/32\"/>"),
            "{out}"
        );
        assert!(out.contains("<!-- relayctl: range -->"), "{out}");
    }

    #[test]
    fn a_running_firewalld_gets_the_policy_checked_guarded_reloaded_then_confirmed() {
        let action = action("present");
        let plan = action.plan(&findings(true, [None, None], &[])).unwrap();
        let step = plan.step.unwrap();
        let s = &step.script;
        let check = s.find("firewall-cmd --check-config").unwrap();
        let arm = s.find("systemd-run").unwrap();
        let reload = s.rfind("if ! firewall-cmd --reload").unwrap();
        assert!(check < arm && arm < reload, "{s}");
        assert!(
            s.trim_end().ends_with("|| exit 1")
                && s[reload..].contains("rm -f '/etc/firewalld/policies/relayctl-flows-in.xml'"),
            "the previous (no) policy is back on disk until confirmed: {s}"
        );
        assert!(!s.contains("nftables.service"));
        let confirm = step.confirm.unwrap();
        assert!(
            confirm
                .step
                .script
                .starts_with("if ! rm '/run/relayctl/firewall-firewalld.armed'")
        );
        assert!(confirm.revert.contains("firewall-cmd --reload"));
    }

    #[test]
    fn in_place_and_loaded_is_unchanged_otherwise_loaded_or_removed() {
        let action = action("present");
        let files = [
            action.policies[0].wanted.as_deref(),
            action.policies[1].wanted.as_deref(),
        ];
        let live = [
            "filter_IN_policy_relayctl-flows-in_allow",
            "filter_OUT_policy_relayctl-flows-out_allow",
        ];
        assert!(
            !action
                .plan(&findings(true, files, &live))
                .unwrap()
                .is_change()
        );
        let reload = action.plan(&findings(true, files, &live[..1])).unwrap();
        assert!(reload.changes[0].starts_with("load relayctl's firewalld policies again"));
        let absent = self::action("absent");
        let plan = absent.plan(&findings(false, files, &[])).unwrap();
        assert_eq!(plan.changes[0], "remove relayctl's policies from firewalld");
        assert!(
            plan.step.unwrap().confirm.is_none(),
            "firewalld is not running"
        );
        assert!(
            !absent
                .plan(&findings(true, [None, None], &[]))
                .unwrap()
                .is_change()
        );
    }
}
