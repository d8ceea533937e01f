//! The access probe: the medulla account as the relay has it, and sshd as SIVEO will meet it,
//! read as root in one round trip (run beside the flow checks): the account, its groups and
//! whether a password is set (never the hash itself); for each address the Medulla server
//! connects from, sshd's effective configuration (`sshd -T -C`); the key files sshd reads for
//! the account (its AuthorizedKeysFile, tokens expanded) with their owners and modes for
//! StrictModes; then, as the account through PAM (`runuser`, as a login would), whether it can
//! read them, its core-dump limits, and `sudo -n true`.
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

/// The account's core-dump limits as a process of it has them (`ulimit -Hc`, `-Sc`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CoreLimits {
    pub hard: Option<String>,
    pub soft: Option<String>,
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

/// The probe for `user` connecting from `sources` (run as root).
pub fn probe(user: &str, sources: &[Source]) -> String {
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
if [ -n "$p" ]; then
  if o=$(runuser -u "$u" -- sh -c 'for k; do [ -r "$k" ] || echo "unreadable=$k"; done
printf core_hard=; ulimit -Hc; printf core_soft=; ulimit -Sc
printf sudo_says=; exec sudo -n true 2>&1' sh $files 2>&1); then f sudo ok; else f sudo failed; fi
  for l in $o; do f as_user "$l"; done
else f sudo "failed"; f as_user "no user $u"; fi
unset IFS
set +f
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

/// Reads [`probe`]'s output.
pub fn parse(output: &str) -> AccessFacts {
    let mut facts = AccessFacts {
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
    };
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
        );
        assert!(script.contains("u='medulla'"), "{script}");
        assert!(script.contains("from 'x; reboot' '$(id)'"), "{script}");
    }

    #[test]
    fn the_probe_runs_in_sh_and_reads_what_sshd_and_the_account_say() {
        // No sshd, no account here: what the probe says of them is still well-formed.
        let output = std::process::Command::new("sh")
            .args(["-c", &probe("relayctl-no-such-user", &sources())])
            .output()
            .expect("sh runs");
        let facts = parse(&String::from_utf8_lossy(&output.stdout));
        assert!(!facts.user_exists);
        assert_eq!(facts.sshd.len(), 1);
        assert_eq!(facts.sshd[0].source, sources()[0]);
        assert!(facts.sudo.is_err());
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
             as_user=sudo_says=sudo: a password is required\n",
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
    }
}
