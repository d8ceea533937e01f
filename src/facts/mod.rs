//! Facts: what a host is, gathered in one round trip by one POSIX sh probe (no Python on the host).
//!
//! The probe prints `key=value` lines; [`Facts::parse`] turns them into typed facts, and a missing or
//! malformed key is an error that names it, so a host that answers oddly is reported, not guessed at.

mod addresses;
mod firewall;
mod sockets;
mod var_at_boot;

use std::collections::HashMap;
use std::net::IpAddr;

use serde::Serialize;

use crate::medulla::port_matrix::Protocol;
use crate::progress::HostProgress;
use crate::ssh::{Session, SshError};
pub use firewall::{Backend, BaseChain, FirewallFacts, Owner};
pub use sockets::{InboundSession, ListeningSocket, reachable_services};
pub use var_at_boot::{BootMount, BootMountKind};

/// The probe. Runs under `sh -c` (as root when the run escalates); `$1` is the login's SSH_CONNECTION.
/// Every value is on one line; `df --output` gives the filesystem of / and of /var in one call. The
/// sbin directories are added because a login user's PATH lacks them on Debian, and nft lives there.
/// Process spawns are the cost on the host, so files are read with shell builtins where possible.
pub const PROBE_SCRIPT: &str = r#"
PATH=$PATH:/usr/sbin:/sbin
ssh_connection=$1
emit() { printf '%s=%s\n' "$1" "$2"; }
if [ -r /etc/os-release ]; then . /etc/os-release; fi
emit os_id "${ID:-}"
emit os_version_id "${VERSION_ID:-}"
emit os_pretty_name "${PRETTY_NAME:-}"
debian_version=
if [ -r /etc/debian_version ]; then read -r debian_version < /etc/debian_version; fi
emit debian_version "$debian_version"
set -- $(uname -nrm)
emit hostname "$1"
emit kernel "$2"
emit arch "$3"
# What nproc counts, the CPUs this process may run on, from the kernel's list: no spawn.
vcpus=0
while read -r key value; do
  if [ "$key" = Cpus_allowed_list: ]; then
    IFS=,
    for range in $value; do
      case $range in
      *-*) vcpus=$((vcpus + ${range#*-} - ${range%-*} + 1)) ;;
      *) vcpus=$((vcpus + 1)) ;;
      esac
    done
    unset IFS
    break
  fi
done < /proc/self/status
if [ "$vcpus" = 0 ]; then vcpus=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN); fi
emit vcpus "$vcpus"
while read -r key value unit; do
  if [ "$key" = MemTotal: ]; then emit mem_total_kib "$value"; break; fi
done < /proc/meminfo
# A here-document, not a pipe: the reads run in this shell, one process less.
{ read -r header; read -r root; read -r var; } <<DF
$(df -B1 --output=source,fstype,size,target / /var 2>/dev/null)
DF
emit mount_root "$root"
emit mount_var "$var"
# How /var comes back after a reboot, when it is a filesystem of its own: its /etc/fstab line and
# a var.mount unit, each with whether the source it names is what is mounted there now
# (src/facts/var_at_boot.rs says how they are compared). Globbing is off while words are split.
set -f
set -- $var
var_source=${1:-} var_target=${4:-}
same_as_var() {
  case $2 in *bind*) [ "$1" -ef /var ]; return ;; esac
  device=$1
  case $1 in
  UUID=*) device=/dev/disk/by-uuid/${1#*=} ;;
  LABEL=*) device=/dev/disk/by-label/${1#*=} ;;
  PARTUUID=*) device=/dev/disk/by-partuuid/${1#*=} ;;
  PARTLABEL=*) device=/dev/disk/by-partlabel/${1#*=} ;;
  esac
  case $1 in *=*) if [ ! -e "$device" ]; then device=$(findfs "$1" 2>/dev/null) || device=$1; fi ;; esac
  if [ -e "$device" ] && [ -e "$var_source" ]; then [ "$device" -ef "$var_source" ]
  else [ "$device" = "$var_source" ]; fi
}
if [ "$var_target" = /var ]; then
  if [ -r /etc/fstab ]; then
    while read -r source target _ options _; do
      case $source in '' | '#'*) continue ;; esac
      if [ "$target" = /var ] || [ "$target" = /var/ ]; then
        if same_as_var "$source" "$options"; then mounted=yes; else mounted=no; fi
        emit var_fstab "$source ${options:-defaults} $mounted"
        break
      fi
    done </etc/fstab
  fi
  for unit in /etc/systemd/system/var.mount /usr/local/lib/systemd/system/var.mount /usr/lib/systemd/system/var.mount; do
    if [ -r "$unit" ]; then
      what= options=defaults
      while IFS='=' read -r key value; do
        case $key in What) what=$value ;; Options) options=$value ;; esac
      done <"$unit"
      if same_as_var "$what" "$options"; then mounted=yes; else mounted=no; fi
      emit var_mount_unit "$unit $what $options $mounted"
      break
    fi
  done
fi
set +f
fqdn=$(hostname -f 2>/dev/null) || fqdn=
emit fqdn "$fqdn"
# What the FQDN resolves to through the system's resolver (/etc/hosts, DNS), an address a line;
# and the /etc/hosts lines that name it, read by the shell: a name only a hosts line gives is
# said so. Globbing is off while words are split.
set -f
if [ -n "$fqdn" ] && resolved=$(getent ahosts "$fqdn" 2>/dev/null); then
  emit fqdn_resolves yes
  IFS='
'
  for line in $resolved; do emit fqdn_address "${line%% *}"; done
  unset IFS
else emit fqdn_resolves no; fi
if [ -n "$fqdn" ] && [ -r /etc/hosts ]; then
  while read -r address names; do
    case $address in '' | '#'*) continue ;; esac
    for name in ${names%%#*}; do
      if [ "$name" = "$fqdn" ]; then emit fqdn_hosts_file "$address"; fi
    done
  done </etc/hosts
fi
set +f
# The host's own addresses, read by the shell: IPv4 from the kernel's routing trie (a local
# /32 line follows its address), IPv6 from if_inet6.
address=
while read -r first second third; do
  case $first in
  '|--') address=$second ;;
  /32) if [ "$second $third" = "host LOCAL" ]; then emit local_address "$address"; fi ;;
  esac
done </proc/net/fib_trie
if [ -r /proc/net/if_inet6 ]; then
  while read -r address _; do emit local_address "$address"; done </proc/net/if_inet6
fi
if [ -d /run/systemd/system ]; then emit systemd_running yes; else emit systemd_running no; fi
# systemd's version from its shared library's name (libsystemd-shared-252.so: Debian 12 keeps it
# in the multiarch directory), without the 4 ms of systemctl --version, which still answers where
# the library is not found.
systemd_version=
for lib in /usr/lib/*/systemd/libsystemd-shared-*.so /usr/lib/systemd/libsystemd-shared-*.so /lib/systemd/libsystemd-shared-*.so; do
  [ -e "$lib" ] || continue
  systemd_version=${lib##*/libsystemd-shared-}
  systemd_version=${systemd_version%%[!0-9]*}
  break
done
if [ -z "$systemd_version" ]; then
  set -- $(systemctl --version 2>/dev/null)
  systemd_version=${2:-}
fi
emit systemd_version "$systemd_version"
set -- $(nft --version 2>/dev/null)
emit nft_version "${2#v}"
uid_215_owner=$(getent passwd 215) || uid_215_owner=
emit uid_215_owner "${uid_215_owner%%:*}"
# One id for both: `uid=0(root) gid=…`, the name in parentheses (none for a uid without one).
set -- $(id)
uid=${1#uid=}
user=${uid#*\(}
user=${user%\)}
uid=${uid%%\(*}
emit user "$user"
if [ "$uid" = 0 ]; then emit sudo root
elif sudo -n true >/dev/null 2>&1; then emit sudo passwordless
elif command -v sudo >/dev/null 2>&1; then emit sudo needs_password
else emit sudo absent; fi
emit ssh_connection "$ssh_connection"
# Only where the run uses them ($read_firewall, set by relayctl: its firewall role, its flow
# checks, `relayctl facts`): they are a third of the probe's time.
emit firewall_read "$read_firewall"
if [ "$read_firewall" = yes ]; then
  # The firewall as it filters now, and what is served and who is connected: relayctl opens the
  # Medulla flows where the host filters, and says what a change would cut off. Files are read with
  # builtins; firewalld's state only where it is installed; legacy iptables only where its tables
  # exist (an empty /proc list means none, and nothing to spawn).
  ufw=no
  if [ -r /etc/ufw/ufw.conf ]; then
    while IFS='=' read -r key value; do [ "$key" = ENABLED ] && ufw=$value; done </etc/ufw/ufw.conf
  fi
  emit ufw_enabled "$ufw"
  # systemd links a unit's invocation id while it runs: no link, firewalld is not running, and
  # nothing is spawned (systemctl is-active costs 7 ms and work of PID 1); a link may outlive a
  # failed run, so systemctl says what it is then.
  if [ ! -x /usr/sbin/firewalld ]; then emit firewalld absent
  elif [ -L /run/systemd/units/invocation:firewalld.service ]; then emit firewalld "$(systemctl is-active firewalld.service 2>/dev/null)"
  else emit firewalld inactive; fi
  nft -t list ruleset 2>/dev/null | while IFS= read -r line; do emit nft "$line"; done
  for family in ip ip6; do
    if read -r table 2>/dev/null </proc/net/${family}_tables_names; then
      ${family}tables-legacy-save 2>/dev/null | while IFS= read -r line; do emit legacy "$line"; done
    fi
  done
  # Every TCP and UDP socket with its process (root sees them all): what listens, and who is
  # connected to it. One line each: the output is split on newlines with globbing off
  # (`0.0.0.0:*` is no pattern), in this shell rather than a pipe's subshell.
  if sockets=$(ss -Htuanp 2>/dev/null); then
    emit sockets_known yes
    set -f
    IFS='
'
    for socket in $sockets; do emit socket "$socket"; done
    unset IFS
    set +f
  else emit sockets_known no; fi
fi
"#;

/// A mounted filesystem as `df` reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Filesystem {
    pub source: String,
    pub fstype: String,
    pub size_bytes: u64,
    /// The mount point of the filesystem holding the path: `/` for a /var that is not separate.
    pub mount_point: String,
}

/// What sudo does for the login user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SudoAccess {
    /// The probe already ran as root (escalated, or logged in as root).
    Root,
    Passwordless,
    NeedsPassword,
    Absent,
}

/// The typed facts of one host.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Facts {
    pub os_id: String,
    pub os_version_id: String,
    pub os_pretty_name: String,
    /// `/etc/debian_version`, e.g. `12.12`: the point release, which os-release does not give.
    pub debian_version: Option<String>,
    pub arch: String,
    pub kernel: String,
    pub vcpus: u32,
    pub memory_bytes: u64,
    pub root: Filesystem,
    pub var: Filesystem,
    /// /var lives on the root filesystem (not a separate mount).
    pub var_on_root: bool,
    /// How /var is mounted at boot: its /etc/fstab line, its var.mount unit (none for a /var
    /// on the root filesystem, or mounted by hand).
    pub var_at_boot: Vec<BootMount>,
    pub hostname: String,
    pub fqdn: Option<String>,
    pub fqdn_resolves: bool,
    /// What the FQDN resolves to on the host (`getent ahosts`), each address once.
    pub fqdn_addresses: Vec<IpAddr>,
    /// The addresses /etc/hosts gives the FQDN, as written there (`127.0.1.1` on a Debian
    /// installed without a domain).
    pub fqdn_hosts_file: Vec<String>,
    /// The host's own addresses, loopback included, each once.
    pub local_addresses: Vec<IpAddr>,
    pub systemd_running: bool,
    pub systemd_version: Option<u32>,
    pub nft_version: Option<String>,
    /// The user owning uid 215, which the Medulla packages reserve for `drivers`.
    pub uid_215_owner: Option<String>,
    /// The user the probe ran as.
    pub user: String,
    pub sudo: SudoAccess,
    /// The controller's address as the host sees it (first field of SSH_CONNECTION): the
    /// bastion's, when the controller goes through one.
    pub controller_address: Option<String>,
    /// The port the controller's SSH connection reached (fourth field of SSH_CONNECTION): the
    /// port the firewall must keep open to it.
    pub ssh_port: Option<u16>,
    /// The firewall the host has, and where relayctl opens its flows there; `None` where the run
    /// did not read it ([`Gather::firewall`]).
    pub firewall: Option<FirewallFacts>,
    /// Every listening TCP socket and bound UDP socket, loopback ones too; `None` when ss could
    /// not run, or the run did not read them (read with the firewall).
    pub listening: Option<Vec<ListeningSocket>>,
    /// TCP sessions other hosts have open to them now.
    pub sessions: Vec<InboundSession>,
}

/// Why a host's facts could not be gathered.
#[derive(Debug, thiserror::Error)]
pub enum FactsError {
    /// The probe could not run (the connection, sudo, a timeout).
    #[error(transparent)]
    Ssh(#[from] SshError),
    /// The probe ran and failed.
    #[error("facts probe exited with {status}: {stderr}")]
    Exited { status: u32, stderr: String },
    /// The probe's output could not be understood.
    #[error(transparent)]
    Unreadable(#[from] UnreadableOutput),
}

/// The probe's output could not be understood: what is wrong with it.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("facts probe: {0}")]
pub struct UnreadableOutput(pub String);

/// What of the facts a run reads beyond what every run needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gather {
    /// The firewall as it filters and the sockets (ufw, firewalld, the nftables ruleset,
    /// iptables-legacy, ss): for the firewall role, the flow checks and `relayctl facts`. About
    /// 10 ms of a 34 ms probe on a lab relay, which a run of other roles need not pay.
    pub firewall: bool,
}

impl Gather {
    pub const EVERYTHING: Gather = Gather { firewall: true };
}

/// Gathers the facts of the session's host in one round trip, escalated as its target says.
pub async fn gather(
    session: &Session,
    log: &HostProgress,
    what: Gather,
) -> Result<Facts, FactsError> {
    log.step("gathering facts");
    let started = std::time::Instant::now();
    // A constant word, never a value from elsewhere.
    let read_firewall = if what.firewall { "yes" } else { "no" };
    let script = format!("read_firewall={read_firewall}\n{PROBE_SCRIPT}");
    let output = session.run_privileged(&script, b"").await?;
    log.detail(&format!(
        "facts probe ({}) exited {} in {} ms",
        session.target().escalation.describe(),
        output.exit_status,
        started.elapsed().as_millis()
    ));
    if output.exit_status != 0 {
        return Err(FactsError::Exited {
            status: output.exit_status,
            stderr: output.stderr_text().trim().to_string(),
        });
    }
    Ok(Facts::parse(&output.stdout_text())?)
}

impl Facts {
    /// Parses the probe's `key=value` lines.
    pub fn parse(output: &str) -> Result<Facts, UnreadableOutput> {
        let values: HashMap<&str, &str> = output
            .lines()
            .filter_map(|line| line.split_once('='))
            .map(|(k, v)| (k, v.trim()))
            .collect();
        let get = |key: &str| -> Result<&str, UnreadableOutput> {
            values
                .get(key)
                .copied()
                .ok_or_else(|| UnreadableOutput(format!("missing `{key}` in the output")))
        };
        let optional = |key: &str| -> Result<Option<String>, UnreadableOutput> {
            Ok(Some(get(key)?)
                .filter(|v| !v.is_empty())
                .map(str::to_string))
        };
        let number = |key: &str| -> Result<u64, UnreadableOutput> {
            let raw = get(key)?;
            raw.parse()
                .map_err(|_| UnreadableOutput(format!("`{key}` is not a number: {raw:?}")))
        };
        let yes = |key: &str| -> Result<bool, UnreadableOutput> {
            match get(key)? {
                "yes" => Ok(true),
                "no" => Ok(false),
                other => Err(UnreadableOutput(format!(
                    "`{key}` is neither yes nor no: {other:?}"
                ))),
            }
        };
        let every = |key: &str| -> Vec<&str> {
            output
                .lines()
                .filter_map(|line| line.split_once('='))
                .filter(|(k, _)| *k == key)
                .map(|(_, v)| v)
                .collect()
        };
        // Values as one word or address: without the spaces around them.
        let trimmed = |key: &str| every(key).into_iter().map(str::trim);
        let (firewall, listening, sessions) = if yes("firewall_read")? {
            let (listening, sessions) = sockets::parse(&every("socket"));
            let firewall = FirewallFacts::parse(
                get("ufw_enabled")? == "yes",
                get("firewalld")? == "active",
                &every("nft"),
                &every("legacy"),
            );
            (
                Some(firewall),
                yes("sockets_known")?.then_some(listening),
                sessions,
            )
        } else {
            (None, None, Vec::new())
        };
        let root = parse_filesystem(get("mount_root")?, "mount_root")?;
        let var = parse_filesystem(get("mount_var")?, "mount_var")?;
        let vcpus = number("vcpus")?;
        Ok(Facts {
            os_id: get("os_id")?.to_string(),
            os_version_id: get("os_version_id")?.to_string(),
            os_pretty_name: get("os_pretty_name")?.to_string(),
            debian_version: optional("debian_version")?,
            arch: get("arch")?.to_string(),
            kernel: get("kernel")?.to_string(),
            vcpus: u32::try_from(vcpus)
                .map_err(|_| UnreadableOutput(format!("`vcpus` out of range: {vcpus}")))?,
            memory_bytes: number("mem_total_kib")?.saturating_mul(1024),
            var_on_root: var.mount_point == root.mount_point,
            var_at_boot: trimmed("var_fstab")
                .filter_map(|line| var_at_boot::parse(BootMountKind::Fstab, line))
                .chain(
                    trimmed("var_mount_unit")
                        .filter_map(|line| var_at_boot::parse(BootMountKind::MountUnit, line)),
                )
                .collect(),
            root,
            var,
            hostname: get("hostname")?.to_string(),
            fqdn: optional("fqdn")?,
            fqdn_resolves: yes("fqdn_resolves")?,
            fqdn_addresses: addresses::distinct(trimmed("fqdn_address")),
            fqdn_hosts_file: trimmed("fqdn_hosts_file").map(str::to_string).collect(),
            local_addresses: addresses::distinct(trimmed("local_address")),
            systemd_running: yes("systemd_running")?,
            systemd_version: optional("systemd_version")?.and_then(|v| v.parse().ok()),
            nft_version: optional("nft_version")?,
            uid_215_owner: optional("uid_215_owner")?,
            user: get("user")?.to_string(),
            sudo: match get("sudo")? {
                "root" => SudoAccess::Root,
                "passwordless" => SudoAccess::Passwordless,
                "needs_password" => SudoAccess::NeedsPassword,
                "absent" => SudoAccess::Absent,
                other => {
                    return Err(UnreadableOutput(format!(
                        "`sudo` has an unknown value {other:?}"
                    )));
                }
            },
            controller_address: optional("ssh_connection")?
                .and_then(|c| c.split_whitespace().next().map(str::to_string)),
            ssh_port: optional("ssh_connection")?
                .and_then(|c| c.split_whitespace().nth(3).and_then(|p| p.parse().ok())),
            firewall,
            listening,
            sessions,
        })
    }

    /// The short hostname (`pulse` for `pulse.example.com`).
    pub fn short_hostname(&self) -> &str {
        self.hostname.split('.').next().unwrap_or(&self.hostname)
    }

    /// The TCP sockets sshd listens on; `None` when the sockets are not known (ss could not
    /// run).
    pub fn sshd_sockets(&self) -> Option<Vec<&ListeningSocket>> {
        self.listening.as_ref().map(|sockets| {
            sockets
                .iter()
                .filter(|s| s.protocol == Protocol::Tcp && s.process.as_deref() == Some("sshd"))
                .collect()
        })
    }

    /// The host's own addresses that another host can reach: not loopback.
    pub fn reachable_addresses(&self) -> Vec<IpAddr> {
        self.local_addresses
            .iter()
            .copied()
            .filter(|ip| !ip.is_loopback())
            .collect()
    }

    /// The FQDN's addresses that are the host's own and not loopback: where the name leads to
    /// this host.
    pub fn fqdn_own_addresses(&self) -> Vec<IpAddr> {
        let own = self.reachable_addresses();
        self.fqdn_addresses
            .iter()
            .copied()
            .filter(|ip| own.contains(ip))
            .collect()
    }

    /// "Debian GNU/Linux 12 (bookworm), 12.12" style: the release and the point release.
    pub fn os_summary(&self) -> String {
        match &self.debian_version {
            Some(point) if self.os_id == "debian" => format!("{} [{point}]", self.os_pretty_name),
            _ => self.os_pretty_name.clone(),
        }
    }
}

/// `df --output=source,fstype,size,target` line: `/dev/vda1 ext4 21003583488 /`.
fn parse_filesystem(line: &str, key: &str) -> Result<Filesystem, UnreadableOutput> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let [source, fstype, size, mount_point] = fields.as_slice() else {
        return Err(UnreadableOutput(format!(
            "`{key}` is not `source fstype size target`: {line:?}"
        )));
    };
    Ok(Filesystem {
        source: source.to_string(),
        fstype: fstype.to_string(),
        size_bytes: size
            .parse()
            .map_err(|_| UnreadableOutput(format!("`{key}` has a bad size: {line:?}")))?,
        mount_point: mount_point.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
os_id=debian
os_version_id=12
os_pretty_name=Debian GNU/Linux 12 (bookworm)
debian_version=12.12
arch=x86_64
kernel=6.1.0-37-amd64
vcpus=4
mem_total_kib=8038492
mount_root=/dev/vda1 ext4 21003583488 /
mount_var=/dev/vdb1 xfs 429496729600 /var
var_fstab=UUID=6a1d0b1c defaults yes
hostname=relay-lyon
fqdn=relay-lyon.example.com
fqdn_resolves=yes
fqdn_address=10.1.2.50
fqdn_address=10.1.2.50
local_address=127.0.0.1
local_address=10.1.2.50
local_address=127.0.0.1
local_address=fe800000000000000242ac1c5165fffe
systemd_running=yes
systemd_version=252
nft_version=1.0.6
uid_215_owner=
user=root
sudo=root
ssh_connection=10.1.2.3 50022 10.1.2.50 22
firewall_read=yes
ufw_enabled=no
firewalld=absent
sockets_known=yes
socket=tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:* users:((\"sshd\",pid=54,fd=3))
socket=tcp LISTEN 0 128 [::]:22 [::]:* users:((\"sshd\",pid=54,fd=4))
socket=udp UNCONN 0 0 127.0.0.11:57226 0.0.0.0:*
";

    #[test]
    fn a_probe_output_parses_into_typed_facts() {
        let facts = Facts::parse(SAMPLE).expect("sample parses");
        assert_eq!(facts.vcpus, 4);
        assert_eq!(facts.memory_bytes, 8_038_492 * 1024);
        assert_eq!(facts.var.fstype, "xfs");
        assert!(!facts.var_on_root);
        assert_eq!(facts.var_at_boot.len(), 1);
        assert!(facts.var_at_boot[0].mounted && facts.var_at_boot[0].at_boot());
        assert_eq!(facts.uid_215_owner, None);
        assert_eq!(facts.controller_address.as_deref(), Some("10.1.2.3"));
        assert_eq!(facts.ssh_port, Some(22));
        assert_eq!(facts.os_summary(), "Debian GNU/Linux 12 (bookworm) [12.12]");
        assert_eq!(
            facts.fqdn_addresses,
            ["10.1.2.50".parse::<IpAddr>().unwrap()]
        );
        assert_eq!(facts.fqdn_hosts_file, Vec::<String>::new());
        assert_eq!(
            facts.local_addresses,
            ["127.0.0.1", "10.1.2.50", "fe80::242:ac1c:5165:fffe"]
                .map(|a| a.parse::<IpAddr>().unwrap())
        );
        let listening = facts.listening.expect("ss ran");
        assert_eq!(listening.len(), 3);
        assert_eq!(listening[1].describe(), "tcp [::]:22 (sshd)");
        assert_eq!(listening[2].process, None);
    }

    #[test]
    fn var_on_the_root_filesystem_is_detected() {
        let output = SAMPLE.replace(
            "mount_var=/dev/vdb1 xfs 429496729600 /var",
            "mount_var=/dev/vda1 ext4 21003583488 /",
        );
        assert!(Facts::parse(&output).expect("parses").var_on_root);
    }

    #[test]
    fn a_run_that_reads_no_firewall_has_none() {
        let start = SAMPLE
            .find("firewall_read=yes")
            .expect("the sample reads it");
        let output = SAMPLE[..start].to_string() + "firewall_read=no\n";
        let facts = Facts::parse(&output).expect("parses");
        assert_eq!((facts.firewall, facts.listening), (None, None));
        assert!(facts.sessions.is_empty());
        // Read, it is there.
        let facts = Facts::parse(SAMPLE).expect("parses");
        assert!(facts.firewall.is_some() && facts.listening.is_some());
    }

    #[test]
    fn a_missing_key_is_named() {
        let output = SAMPLE.replace("vcpus=4\n", "");
        assert_eq!(
            Facts::parse(&output),
            Err(UnreadableOutput("missing `vcpus` in the output".into()))
        );
    }
}
