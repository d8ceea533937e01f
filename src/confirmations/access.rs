//! The access probe: the medulla account as the relay has it, and sshd as SIVEO will meet it,
//! read as root in one round trip (run beside the flow checks): the account, its groups and
//! whether a password is set (never the hash itself); for each address the Medulla server
//! connects from, sshd's effective configuration (`sshd -T -C`); the key files sshd reads for
//! the account (its AuthorizedKeysFile, tokens expanded) with their owners and modes for
//! StrictModes; then, as the account through PAM (`runuser`, as a login would), whether it can
//! read them, its core-dump limits, and `sudo -n true`; systemd's manager limits and the files
//! that set them, the PAM limits files' core lines; whether the clock is synchronised.
//!
//! Everything the relay prints is data: each value is read into a field, never run or rendered.

use super::sshd::SshdConfig;
use crate::sh::quote;

/// Where the Medulla server connects from, as sshd sees it: the address, and the name its
/// `Match Host` would see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    pub host: String,
    pub addr: String,
}

/// sshd's effective configuration for the account from one source, or why it could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SshdView {
    pub source: Source,
    pub config: Result<SshdConfig, String>,
}

/// A file sshd reads the account's keys from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyFile {
    /// As AuthorizedKeysFile writes it (`.ssh/authorized_keys`).
    pub pattern: String,
    /// Expanded for the account: `/home/medulla/.ssh/authorized_keys`.
    pub path: String,
    pub lines: Vec<String>,
}

/// The account's core-dump limits as a process of it has them (/proc/self/limits: bytes, or
/// `unlimited`; not `ulimit -c`, whose unit is the shell's own: dash counts 512-byte blocks).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CoreLimits {
    pub hard: Option<String>,
    pub soft: Option<String>,
    /// The hard limit of the root shell `runuser` starts from: PAM cannot raise a hard limit
    /// above it where root lacks CAP_SYS_RESOURCE (in a container).
    pub root_hard: Option<String>,
}

/// A configuration file the probe read, with the lines of it that matter (numbered from 1).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConfFile {
    pub path: String,
    pub lines: Vec<(usize, String)>,
}

/// What the access probe found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessFacts {
    pub user_exists: bool,
    pub home: String,
    pub uid: String,
    /// `id -Gn`: its primary group first.
    pub groups: Vec<String>,
    /// `set`, `locked` (`!` or `*`) or `none`.
    pub password: String,
    /// `sudo -n true` run as the user: `Err(what it said)` when it failed.
    pub sudo: Result<(), String>,
    pub sshd: Vec<SshdView>,
    /// The files the sources' AuthorizedKeysFile name, each once, that exist.
    pub key_files: Vec<KeyFile>,
    /// `uid mode path` of each key file and its directories up to the home (or /), as sshd's
    /// StrictModes checks them.
    pub modes: Vec<String>,
    /// Key files the account cannot read (sshd reads them as the account).
    pub unreadable: Vec<String>,
    pub core: CoreLimits,
    /// systemd's manager values (`systemctl show`): `DefaultLimitNPROC`, `…Soft`, ….
    pub manager: Vec<(String, String)>,
    /// system.conf and every drop-in of system.conf.d, each with its `[Manager]` lines that set
    /// DefaultLimitNPROC or DefaultLimitSIGPENDING; in the probe's order, not systemd's.
    pub manager_files: Vec<ConfFile>,
    /// limits.conf and limits.d/*.conf, in pam_limits' order, each with its `core` lines
    /// (`DOMAIN TYPE core VALUE`).
    pub limits_files: Vec<ConfFile>,
    /// Whether the clock is synchronised, as timedatectl's NTPSynchronized says it: `None`
    /// when it could not be read.
    pub time_synchronized: Option<bool>,
}

impl AccessFacts {
    /// What the probe says before it has said anything: no account, no password, sudo not
    /// shown to work.
    pub fn nothing_found() -> Self {
        AccessFacts {
            user_exists: false,
            home: String::new(),
            uid: String::new(),
            groups: Vec::new(),
            password: "none".into(),
            sudo: Err("the probe said nothing".into()),
            sshd: Vec::new(),
            key_files: Vec::new(),
            modes: Vec::new(),
            unreadable: Vec::new(),
            core: CoreLimits::default(),
            manager: Vec::new(),
            manager_files: Vec::new(),
            limits_files: Vec::new(),
            time_synchronized: None,
        }
    }
}

/// The directives of `sshd -T` the probe keeps: what decides a key login.
const SSHD_KEYS: &[&str] = &[
    "port",
    "listenaddress",
    "allowusers",
    "denyusers",
    "allowgroups",
    "denygroups",
    "pubkeyauthentication",
    "authorizedkeysfile",
    "authenticationmethods",
    "authorizedkeyscommand",
    "strictmodes",
];

/// adjtimex(2)'s system call number on the relay's architecture (`uname -m`), where the probe
/// knows it: the clock's state is read through it (see [`probe`]).
fn adjtimex_number(arch: &str) -> Option<u32> {
    match arch {
        "x86_64" => Some(159),
        "aarch64" => Some(171),
        _ => None,
    }
}

/// The probe for `user` connecting from `sources` (run as root) on a relay of architecture
/// `arch` (`uname -m`).
pub fn probe(user: &str, sources: &[Source], arch: &str) -> String {
    // Whether the clock is synchronised, as systemd-timedated decides NTPSynchronized: the
    // kernel's maximum error (adjtimex(2), struct timex's maxerror: byte 24 on a 64-bit
    // kernel, in µs) under 16 s. Read with one perl (perl-base is essential) rather than with
    // timedatectl, whose D-Bus activation of timedated made the flow checks of one lab relay
    // about 200 ms longer. No known system call: not read, and the report says so.
    let clock = match adjtimex_number(arch) {
        Some(number) => format!(
            r#"if t=$(perl -e '$t = "\0" x 208; syscall({number}, $t) >= 0 or exit 1; print unpack("x24 q", $t) < 16000000 ? "yes" : "no"' 2>/dev/null); then f ntp "$t"; else f ntp unknown; fi"#
        ),
        None => "f ntp unknown".to_string(),
    };
    let sources: Vec<String> = sources
        .iter()
        .map(|s| format!("{} {}", quote(&s.host), quote(&s.addr)))
        .collect();
    let keep: Vec<String> = SSHD_KEYS.iter().map(|k| format!("{k}\\ *")).collect();
    format!(
        r#"PATH=$PATH:/usr/sbin:/sbin
u={user}
f() {{ printf '%s=%s\n' "$1" "$2"; }}
nl='
'
if p=$(getent passwd "$u"); then f user yes; else f user no; fi
h=${{p#*:*:*:*:*:}}; h=${{h%%:*}}
uid=${{p#*:*:}}; uid=${{uid%%:*}}
f home "$h"
f uid "$uid"
if [ -n "$p" ]; then f groups "$(id -Gn "$u" 2>/dev/null)"; fi
s=$(getent shadow "$u") || s=
s=${{s#*:}}; s=${{s%%:*}}
case $s in '') f password none ;; '!'* | '*'*) f password locked ;; *) f password set ;; esac
# sshd's effective configuration for the account from each source; the AuthorizedKeysFile
# patterns are gathered, each once. Globbing is off while words are split.
set -f
patterns=
from() {{
  f sshd_source "$1 $2"
  if o=$(sshd -T -C "user=$u,host=$1,addr=$2" 2>&1); then
    IFS=$nl
    for l in $o; do
      case $l in
      {keep}) f sshd "$l" ;;
      esac
      case $l in
      authorizedkeysfile\ *)
        for pattern in ${{l#* }}; do
          case " $patterns " in *" $pattern "*) ;; *) patterns="$patterns $pattern" ;; esac
        done
        ;;
      esac
    done
    unset IFS
  else
    f sshd_error "${{o%%"$nl"*}}"
  fi
}}
{sources}
# The files those patterns name for the account (sshd_config(5): %h, %u, %U, %%, ~/; relative
# to the home), read as root; each with its directories up to the home for StrictModes.
expand() {{
  rest=$1 path=
  case $rest in '~/'*) rest=%h/${{rest#??}} ;; esac
  while :; do
    case $rest in
    *%*)
      path=$path${{rest%%"%"*}}
      rest=${{rest#*"%"}}
      case $rest in h*) path=$path$h ;; u*) path=$path$u ;; U*) path=$path$uid ;; %*) path=$path% ;; esac
      rest=${{rest#?}}
      ;;
    *) path=$path$rest; break ;;
    esac
  done
  case $path in /*) ;; *) path=$h/$path ;; esac
}}
files= check=
if [ -n "$p" ]; then
  for pattern in $patterns; do
    [ "$pattern" = none ] && continue
    expand "$pattern"
    [ -f "$path" ] || continue
    f keyfile "$pattern $path"
    while IFS= read -r l || [ -n "$l" ]; do f key "$l"; done <"$path"
    files="$files$nl$path" check="$check$nl$path"
    d=$path
    while [ "$d" != "$h" ] && [ "$d" != / ] && [ -n "$d" ]; do
      d=${{d%/*}}; d=${{d:-/}}
      case "$nl$check$nl" in *"$nl$d$nl"*) ;; *) check="$check$nl$d" ;; esac
    done
  done
fi
IFS=$nl
if [ -n "$check" ]; then
  for l in $(stat -c '%u %a %n' -- $check 2>/dev/null); do f mode "$l"; done
fi
# As the account, through PAM as a login (pam_limits): can it read its key files, its
# core-dump limits, then sudo in the same process (exec): no process more than sudo alone.
# sudo leaves this shell a hard core limit of 0: raised back first where root may (a login
# starts from sshd's, unlimited), and said, since what cannot be raised caps what PAM gives.
ulimit -Hc unlimited 2>/dev/null
while IFS=' ' read -r a b c d soft hard _; do
  [ "$a $b $c $d" = 'Max core file size' ] && f root_core_hard "$hard"
done </proc/self/limits
if [ -n "$p" ]; then
  if o=$(runuser -u "$u" -- sh -c 'for k; do [ -r "$k" ] || echo "unreadable=$k"; done
while read -r a b c d soft hard _; do
  if [ "$a $b $c $d" = "Max core file size" ]; then echo "core_soft=$soft"; echo "core_hard=$hard"; fi
done </proc/self/limits
printf sudo_says=; exec sudo -n true 2>&1' sh $files 2>&1); then f sudo ok; else f sudo failed; fi
  for l in $o; do f as_user "$l"; done
else f sudo "failed"; f as_user "no user $u"; fi
# systemd's manager limits as it applies them (OS item 3): one systemctl; then, read by the
# shell alone, the files that set them (system.conf and every drop-in; the order systemd reads
# them in is worked out by relayctl) and the core lines of the PAM limits files (OS item 1).
for l in $(systemctl show -p DefaultLimitNPROC -p DefaultLimitNPROCSoft -p DefaultLimitSIGPENDING -p DefaultLimitSIGPENDINGSoft 2>/dev/null); do
  f manager "$l"
done
unset IFS
set +f
for c in /etc/systemd/system.conf /etc/systemd/system.conf.d/*.conf /run/systemd/system.conf.d/*.conf /usr/local/lib/systemd/system.conf.d/*.conf /usr/lib/systemd/system.conf.d/*.conf; do
  # A drop-in linked to /dev/null sets nothing and still hides its namesakes: kept.
  [ -r "$c" ] || continue
  f manager_file "$c"
  n=0 section=
  while read -r l || [ -n "$l" ]; do
    n=$((n + 1))
    case $l in
    '['*) section=$l ;;
    DefaultLimitNPROC=* | DefaultLimitNPROC[[:blank:]]*=* | DefaultLimitSIGPENDING=* | DefaultLimitSIGPENDING[[:blank:]]*=*)
      [ "$section" = '[Manager]' ] && f manager_line "$n $l"
      ;;
    esac
  done <"$c"
done
for c in /etc/security/limits.conf /etc/security/limits.d/*.conf; do
  [ -r "$c" ] || continue
  f limits_file "$c"
  n=0
  while read -r domain type item value _ || [ -n "$domain" ]; do
    n=$((n + 1))
    case $domain in '' | '#'*) continue ;; esac
    [ "$item" = core ] && f limits_line "$n $domain $type $item ${{value%%#*}}"
  done <"$c"
done
{clock}
"#,
        user = quote(user),
        keep = keep.join(" | "),
        sources = sources
            .iter()
            .map(|s| format!("from {s}"))
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

/// Closes the sshd view being read, if any: its lines, or the error sshd gave.
fn finish(
    current: &mut Option<Source>,
    lines: &mut Vec<String>,
    error: Option<String>,
    facts: &mut AccessFacts,
) {
    if let Some(source) = current.take() {
        let config = match error {
            Some(e) => Err(e),
            None => Ok(SshdConfig::parse(lines.iter().map(String::as_str))),
        };
        facts.sshd.push(SshdView { source, config });
    }
    lines.clear();
}

/// Adds `N TEXT` to the file being read.
fn push_line(file: Option<&mut ConfFile>, value: &str) {
    if let (Some(file), Some((n, text))) = (file, value.split_once(' '))
        && let Ok(n) = n.parse()
    {
        file.lines.push((n, text.to_string()));
    }
}

/// Reads [`probe`]'s output.
pub fn parse(output: &str) -> AccessFacts {
    let mut facts = AccessFacts::nothing_found();
    let mut sudo_ok = false;
    let mut sudo_says = None;
    let mut as_user_other = Vec::new();
    let mut sshd_lines: Vec<String> = Vec::new();
    let mut current: Option<Source> = None;
    for line in output.lines() {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        match key {
            "user" => facts.user_exists = value == "yes",
            "home" => facts.home = value.to_string(),
            "uid" => facts.uid = value.to_string(),
            "groups" => facts.groups = value.split_whitespace().map(str::to_string).collect(),
            "password" => facts.password = value.to_string(),
            "sshd_source" => {
                finish(&mut current, &mut sshd_lines, None, &mut facts);
                let (host, addr) = value.split_once(' ').unwrap_or((value, ""));
                current = Some(Source {
                    host: host.to_string(),
                    addr: addr.to_string(),
                });
            }
            "sshd" => sshd_lines.push(value.to_string()),
            "sshd_error" => {
                let error = if value.is_empty() {
                    "sshd -T failed".to_string()
                } else {
                    value.to_string()
                };
                finish(&mut current, &mut sshd_lines, Some(error), &mut facts);
            }
            "keyfile" => {
                finish(&mut current, &mut sshd_lines, None, &mut facts);
                let (pattern, path) = value.split_once(' ').unwrap_or((value, value));
                facts.key_files.push(KeyFile {
                    pattern: pattern.to_string(),
                    path: path.to_string(),
                    lines: Vec::new(),
                });
            }
            "key" => {
                if let Some(file) = facts.key_files.last_mut() {
                    file.lines.push(value.to_string());
                }
            }
            "mode" => facts.modes.push(value.to_string()),
            "root_core_hard" => facts.core.root_hard = Some(value.to_string()),
            "manager" => {
                if let Some((name, limit)) = value.split_once('=') {
                    facts.manager.push((name.to_string(), limit.to_string()));
                }
            }
            "manager_file" => facts.manager_files.push(ConfFile {
                path: value.to_string(),
                lines: Vec::new(),
            }),
            "manager_line" => push_line(facts.manager_files.last_mut(), value),
            "limits_file" => facts.limits_files.push(ConfFile {
                path: value.to_string(),
                lines: Vec::new(),
            }),
            "limits_line" => push_line(facts.limits_files.last_mut(), value),
            "ntp" => {
                facts.time_synchronized = match value {
                    "yes" => Some(true),
                    "no" => Some(false),
                    _ => None,
                }
            }
            "sudo" => sudo_ok = value == "ok",
            "as_user" => match value.split_once('=') {
                Some(("unreadable", path)) => facts.unreadable.push(path.to_string()),
                Some(("core_hard", limit)) => facts.core.hard = Some(limit.to_string()),
                Some(("core_soft", limit)) => facts.core.soft = Some(limit.to_string()),
                Some(("sudo_says", said)) => sudo_says = Some(said.to_string()),
                _ => as_user_other.push(value.to_string()),
            },
            _ => {}
        }
    }
    finish(&mut current, &mut sshd_lines, None, &mut facts);
    facts.sudo = if sudo_ok {
        Ok(())
    } else {
        Err(sudo_says
            .filter(|s| !s.is_empty())
            .or_else(|| as_user_other.first().cloned())
            .unwrap_or_else(|| "failed".to_string()))
    };
    facts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources() -> Vec<Source> {
        vec![Source {
            host: "medulla.example.com".into(),
            addr: "203.0.113.7".into(),
        }]
    }

    #[test]
    fn the_probe_quotes_what_it_is_given() {
        let script = probe(
            "medulla",
            &[Source {
                host: "x; reboot".into(),
                addr: "$(id)".into(),
            }],
            "x86_64",
        );
        assert!(script.contains("u='medulla'"), "{script}");
        assert!(script.contains("from 'x; reboot' '$(id)'"), "{script}");
    }

    #[test]
    fn the_probe_runs_in_sh_and_reads_what_sshd_and_the_account_say() {
        // No sshd, no account here: what the probe says of them is still well-formed.
        let output = std::process::Command::new("sh")
            .args([
                "-c",
                &probe("relayctl-no-such-user", &sources(), std::env::consts::ARCH),
            ])
            .output()
            .expect("sh runs");
        let facts = parse(&String::from_utf8_lossy(&output.stdout));
        assert!(!facts.user_exists);
        assert_eq!(facts.sshd.len(), 1);
        assert_eq!(facts.sshd[0].source, sources()[0]);
        assert!(facts.sudo.is_err());
        // The clock's state is read through adjtimex wherever its number is known (perl is
        // essential on Debian); the limits files are listed as they exist here.
        if adjtimex_number(std::env::consts::ARCH).is_some() {
            assert!(facts.time_synchronized.is_some(), "{output:?}");
        }
        let limits_conf = "/etc/security/limits.conf";
        assert_eq!(
            facts.limits_files.iter().any(|f| f.path == limits_conf),
            std::path::Path::new(limits_conf).exists()
        );
        assert!(probe("u", &sources(), "riscv64").ends_with("f ntp unknown\n"));
    }

    #[test]
    fn output_reads_into_the_account_sshd_and_the_key_files() {
        let facts = parse(
            "user=yes\nhome=/home/medulla\ngroups=medulla adm\npassword=set\n\
             sshd_source=medulla.example.com 203.0.113.7\nsshd=port 22\nsshd=allowusers admin\n\
             sshd=authorizedkeysfile .ssh/authorized_keys\n\
             sshd_source=other 198.51.100.1\nsshd_error=/etc/ssh/sshd_config line 3: Bad option\n\
             keyfile=.ssh/authorized_keys /home/medulla/.ssh/authorized_keys\n\
             key=ssh-ed25519 AAAA one\nkey=# a comment\nmode=1001 600 /home/medulla/.ssh/authorized_keys\n\
             sudo=failed\nas_user=core_hard=unlimited\nas_user=core_soft=0\n\
             as_user=sudo_says=sudo: a password is required\n\
             manager=DefaultLimitNPROC=31541\nmanager_file=/etc/systemd/system.conf\n\
             manager_line=40 DefaultLimitNPROC=31541\nmanager_file=/etc/systemd/system.conf.d/a b.conf\n\
             limits_file=/etc/security/limits.conf\nlimits_file=/etc/security/limits.d/99-x.conf\n\
             limits_line=1 * soft core 1024\nlimits_line=x not a line number\nntp=no\n",
        );
        assert!(facts.user_exists);
        assert_eq!(facts.groups, ["medulla", "adm"]);
        assert_eq!(facts.sshd.len(), 2);
        let first = facts.sshd[0].config.as_ref().expect("read");
        assert_eq!(first.allow_users, ["admin"]);
        assert_eq!(
            facts.sshd[1].config,
            Err("/etc/ssh/sshd_config line 3: Bad option".into())
        );
        assert_eq!(
            facts.key_files[0].lines,
            ["ssh-ed25519 AAAA one", "# a comment"]
        );
        assert_eq!(facts.modes, ["1001 600 /home/medulla/.ssh/authorized_keys"]);
        assert_eq!(facts.core.hard.as_deref(), Some("unlimited"));
        assert_eq!(facts.core.soft.as_deref(), Some("0"));
        assert_eq!(facts.sudo, Err("sudo: a password is required".into()));
        assert_eq!(
            facts.manager,
            [("DefaultLimitNPROC".to_string(), "31541".to_string())]
        );
        let files =
            |files: &[ConfFile]| -> Vec<String> { files.iter().map(|f| f.path.clone()).collect() };
        assert_eq!(
            files(&facts.manager_files),
            [
                "/etc/systemd/system.conf",
                "/etc/systemd/system.conf.d/a b.conf"
            ]
        );
        assert_eq!(
            facts.manager_files[0].lines,
            [(40, "DefaultLimitNPROC=31541".to_string())]
        );
        assert_eq!(facts.limits_files.len(), 2);
        assert_eq!(
            facts.limits_files[1],
            ConfFile {
                path: "/etc/security/limits.d/99-x.conf".into(),
                lines: vec![(1, "* soft core 1024".into())],
            }
        );
        assert_eq!(facts.time_synchronized, Some(false));
    }
}
