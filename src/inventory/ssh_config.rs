//! `~/.ssh/config` (or the file `-F FILE` names in the ssh argument variables), read as OpenSSH
//! reads it for Ansible: a host reached as an alias there (`Host relay-paris`, its `HostName`,
//! `User`, `Port`, `IdentityFile`, `ProxyJump` ...) is reached the same way by relayctl. The
//! inventory's variables win, as they do with Ansible, which passes them on ssh's command line.
//!
//! The parsing is `ssh2-config`'s (maintained, and the one crate measured here to read what
//! OpenSSH reads: options before the first `Host`, `Key=Value`, tabs; `russh-config` does
//! not). Two things are done first, here, on the text: `Include` is expanded (globs, `~`,
//! paths relative to `~/.ssh`, at most 16 levels deep as in OpenSSH), so that a file is read
//! bounded like every input; and `Match host PATTERNS` / `Match all` become the `Host` they
//! amount to (the crate does not know `Match`, and would apply what follows to the block
//! before it). Any other `Match` is refused, naming its file and line, rather than guessed.
//!
//! Read: `HostName` (with `%h`), `User`, `Port`, `IdentityFile` (the first that exists),
//! `ProxyJump` (one jump host, itself resolved through the file), `UserKnownHostsFile`,
//! `StrictHostKeyChecking`, `ConnectTimeout`. `ProxyCommand` is refused: relayctl cannot run
//! it. Every other option changes nothing relayctl relies on and is left to OpenSSH.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Duration;

use ssh2_config::{ParseRule, SshConfig};

use super::ssh_args::{self, SshOptions};
use crate::input::files;
use crate::input::paths::PathContext;

/// A user's ssh configuration, Includes and all: a few KiB; the bound keeps `/dev/zero` out.
const CONFIG_FILE: files::Limit = files::Limit {
    bytes: 1 << 20,
    kind: "an ssh configuration file",
};

/// OpenSSH's own limit of nested Includes (`READCONF_MAX_DEPTH`).
const MAX_DEPTH: usize = 16;

/// Files one configuration may read through its Includes.
const MAX_FILES: usize = 256;

/// What the configuration says for one host name.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct HostConfig {
    /// The file it comes from (for messages).
    pub file: PathBuf,
    pub host_name: Option<String>,
    pub user: Option<String>,
    pub port: Option<u16>,
    pub identity_files: Vec<PathBuf>,
    pub proxy_jump: Vec<String>,
    pub known_hosts_file: Option<String>,
    pub strict_host_key_checking: Option<String>,
    pub connect_timeout: Option<Duration>,
    pub proxy_command: Option<String>,
}

/// Parsed configurations, each read once per run whatever the number of hosts using it.
#[derive(Default)]
pub(crate) struct SshConfigs {
    parsed: HashMap<PathBuf, Result<Option<Rc<SshConfig>>, String>>,
}

impl SshConfigs {
    /// What `file` says for `host` (`explicit`: named by `-F`, so it must exist; otherwise
    /// the default `~/.ssh/config`, which may be absent: `None`).
    pub(crate) fn query(
        &mut self,
        file: &Path,
        explicit: bool,
        home: Option<&Path>,
        host: &str,
    ) -> Result<Option<HostConfig>, String> {
        let config = self
            .parsed
            .entry(file.to_path_buf())
            .or_insert_with(|| parse(file, explicit, home).map(|c| c.map(Rc::new)))
            .clone()?;
        Ok(config.map(|config| {
            let params = config.query(host);
            let unsupported = |name: &str| {
                params
                    .unsupported_fields
                    .get(name)
                    .map(|args| args.join(" "))
            };
            HostConfig {
                file: file.to_path_buf(),
                host_name: params
                    .host_name
                    .map(|name| name.replace("%h", host).replace("%%", "%")),
                user: params.user,
                port: params.port,
                identity_files: params.identity_file.unwrap_or_default(),
                proxy_jump: params.proxy_jump.unwrap_or_default(),
                known_hosts_file: unsupported("userknownhostsfile"),
                strict_host_key_checking: unsupported("stricthostkeychecking"),
                connect_timeout: params.connect_timeout,
                proxy_command: unsupported("proxycommand"),
            }
        }))
    }
}

/// What the configuration gives a host where its inventory is silent, checked as the same
/// options on the command line are (`StrictHostKeyChecking no` is refused there too).
#[derive(Debug, Default)]
pub(crate) struct Fill {
    pub address: Option<String>,
    pub user: Option<String>,
    pub port: Option<u16>,
    pub key_file: Option<PathBuf>,
    pub options: SshOptions,
}

/// The configuration `file` for the host reached as `host`; each problem as a message.
pub(crate) fn fill(
    configs: &mut SshConfigs,
    file: &Path,
    explicit: bool,
    paths: &PathContext,
    host: &str,
) -> Result<Fill, Vec<String>> {
    let home = paths.home.as_deref();
    let Some(config) = configs
        .query(file, explicit, home, host)
        .map_err(|e| vec![e])?
    else {
        return Ok(Fill::default());
    };
    let mut problems = Vec::new();
    let mut options = SshOptions::default();
    // The error names the file and the host already.
    let said = |what: String| what;
    if let Some(command) = config
        .proxy_command
        .as_deref()
        .filter(|c| !c.eq_ignore_ascii_case("none"))
    {
        problems.push(said(format!(
            "ProxyCommand {command} is not supported: relayctl speaks SSH itself and cannot run a proxy command; \
             use ProxyJump"
        )));
    }
    let mut option = |key: &str, value: &str| {
        if let Err(e) = ssh_args::apply_option(&format!("{key}={value}"), &mut options, paths) {
            problems.push(said(e));
        }
    };
    if let Some(file) = config
        .known_hosts_file
        .as_deref()
        .and_then(|f| f.split_whitespace().next())
    {
        option("UserKnownHostsFile", file);
    }
    if let Some(policy) = config.strict_host_key_checking.as_deref() {
        // OpenSSH's `ask` prompts; with no prompt in a parallel run it is `yes`.
        let policy = if policy.eq_ignore_ascii_case("ask") {
            "yes"
        } else {
            policy
        };
        option("StrictHostKeyChecking", policy);
    }
    options.connect_timeout = config.connect_timeout.filter(|t| !t.is_zero());
    match config.proxy_jump.as_slice() {
        [] => {}
        [spec] => match ssh_args::parse_jump(spec) {
            Ok(Some(mut jump)) => {
                // The jump host may itself be an alias of this file, as for OpenSSH.
                if let Ok(Some(via)) = configs.query(file, explicit, home, &jump.address) {
                    let explicit_port = spec
                        .rsplit_once(']')
                        .map_or(spec.as_str(), |(_, rest)| rest)
                        .contains(':');
                    if !explicit_port && let Some(port) = via.port {
                        jump.port = port;
                    }
                    if let Some(name) = via.host_name {
                        jump.address = name;
                    }
                    jump.user = jump.user.or(via.user);
                }
                options.jump = Some(Some(jump));
            }
            Ok(None) => options.jump = Some(None),
            Err(e) => problems.push(said(e)),
        },
        chain => problems.push(said(format!(
            "ProxyJump {}: relayctl supports a single jump host, not a chain",
            chain.join(",")
        ))),
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Fill {
        address: config.host_name,
        user: config.user,
        port: config.port,
        key_file: config.identity_files.into_iter().find(|f| f.exists()),
        options,
    })
}

/// The default configuration file of the controller's user.
pub(crate) fn default_file(home: Option<&Path>) -> Option<PathBuf> {
    home.map(|home| home.join(".ssh/config"))
}

fn parse(file: &Path, explicit: bool, home: Option<&Path>) -> Result<Option<SshConfig>, String> {
    if !explicit && !file.exists() {
        return Ok(None);
    }
    let mut expander = Expander {
        home,
        files: 0,
        text: String::new(),
    };
    expander.file(file, 0)?;
    let mut config = SshConfig::default();
    if let Some(home) = home {
        config = config.home_dir(home);
    }
    config
        .parse(
            &mut expander.text.as_bytes(),
            ParseRule::ALLOW_UNKNOWN_FIELDS | ParseRule::ALLOW_UNSUPPORTED_FIELDS,
        )
        .map(Some)
        .map_err(|e| {
            format!(
                "{} (or a file it includes) does not parse: {e}",
                file.display()
            )
        })
}

/// One text from a file and the files it includes, `Match host` made `Host`.
struct Expander<'h> {
    home: Option<&'h Path>,
    files: usize,
    text: String,
}

impl Expander<'_> {
    fn file(&mut self, file: &Path, depth: usize) -> Result<(), String> {
        self.files += 1;
        if self.files > MAX_FILES {
            return Err(format!(
                "{}: the ssh configuration includes more than {MAX_FILES} files",
                file.display()
            ));
        }
        let text = files::read_text(file, CONFIG_FILE)
            .map_err(|e| format!("cannot read the ssh configuration {}: {e}", file.display()))?;
        // The Host line in force, to restore after an Include that opened blocks of its own.
        let mut block: Option<String> = None;
        for (index, raw) in text.lines().enumerate() {
            let line = raw.trim();
            let (keyword, args) = split_keyword(line);
            match keyword.to_ascii_lowercase().as_str() {
                "include" => {
                    if depth + 1 > MAX_DEPTH {
                        return Err(format!(
                            "{}:{}: Include nested more than {MAX_DEPTH} deep",
                            file.display(),
                            index + 1
                        ));
                    }
                    let before = self.text.len();
                    for pattern in args.split_whitespace() {
                        for included in self.included(pattern)? {
                            self.file(&included, depth + 1)?;
                        }
                    }
                    let opened_blocks = self.text[before..].lines().any(|l| {
                        let (k, _) = split_keyword(l.trim());
                        k.eq_ignore_ascii_case("host")
                    });
                    if opened_blocks && let Some(host) = &block {
                        self.text.push_str(host);
                        self.text.push('\n');
                    }
                }
                "match" => {
                    let host = match_as_host(args).ok_or_else(|| {
                        format!(
                            "{}:{}: `{line}`: relayctl reads `Match host PATTERNS` and `Match all`, not other Match \
                             criteria; write the hosts as a Host block",
                            file.display(),
                            index + 1
                        )
                    })?;
                    self.text.push_str(&host);
                    self.text.push('\n');
                    block = Some(host);
                }
                "host" => {
                    self.text.push_str(line);
                    self.text.push('\n');
                    block = Some(line.to_owned());
                }
                _ => {
                    self.text.push_str(line);
                    self.text.push('\n');
                }
            }
        }
        Ok(())
    }

    /// The files an Include pattern names: `~/` is the home, a relative path is below
    /// `~/.ssh`, globs are expanded in lexical order (as OpenSSH does).
    fn included(&self, pattern: &str) -> Result<Vec<PathBuf>, String> {
        let ssh_dir = self.home.map(|h| h.join(".ssh"));
        let path = if let Some(rest) = pattern.strip_prefix("~/") {
            self.home
                .map(|h| h.join(rest))
                .ok_or_else(|| format!("Include {pattern}: the home directory is unknown"))?
        } else if Path::new(pattern).is_absolute() {
            PathBuf::from(pattern)
        } else {
            ssh_dir
                .map(|d| d.join(pattern))
                .ok_or_else(|| format!("Include {pattern}: the home directory is unknown"))?
        };
        let mut found: Vec<PathBuf> = glob::glob(&path.to_string_lossy())
            .map_err(|e| format!("Include {pattern}: {e}"))?
            .filter_map(Result::ok)
            .filter(|p| p.is_file())
            .collect();
        found.sort();
        Ok(found)
    }
}

/// `Keyword args` or `Keyword=args`.
fn split_keyword(line: &str) -> (&str, &str) {
    let end = line
        .find(|c: char| c.is_whitespace() || c == '=')
        .unwrap_or(line.len());
    let (keyword, rest) = line.split_at(end);
    let rest = rest.trim_start();
    let rest = rest.strip_prefix('=').unwrap_or(rest).trim();
    (keyword, rest)
}

/// `Match host a,b` as `Host a b`; `Match all` as `Host *`; anything else `None`.
fn match_as_host(args: &str) -> Option<String> {
    let words: Vec<&str> = args.split_whitespace().collect();
    match words.as_slice() {
        [all] if all.eq_ignore_ascii_case("all") => Some("Host *".to_owned()),
        [host, patterns] if host.eq_ignore_ascii_case("host") => Some(format!(
            "Host {}",
            patterns.split(',').collect::<Vec<_>>().join(" ")
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::write_file as write;

    #[test]
    fn aliases_includes_and_match_host_resolve_as_openssh_resolves_them() {
        let home = tempfile::tempdir().expect("temp dir");
        let config = write(
            home.path(),
            ".ssh/config",
            "ConnectTimeout=7\nHost relay-paris\n\tHostName 10.0.0.%h\n  Port 2222\nHost *.dmz\n  Include dmz.d/*.conf\n  \
             User dmzadmin\nMatch host relay-lyon,relay-nice\n  User lyon\nHost *\n  User admin\n  \
             IdentityFile ~/.ssh/id_relays\n  UserKnownHostsFile ~/.ssh/relays_known_hosts\n  StrictHostKeyChecking accept-new\n",
        );
        write(
            home.path(),
            ".ssh/dmz.d/10-jump.conf",
            "ProxyJump bastion\nHost bastion\n  HostName 192.0.2.1\n",
        );
        let mut configs = SshConfigs::default();
        let mut query = |host: &str| {
            configs
                .query(&config, false, Some(home.path()), host)
                .expect("parsed")
                .expect("present")
        };
        let paris = query("relay-paris");
        assert_eq!(paris.host_name.as_deref(), Some("10.0.0.relay-paris"));
        assert_eq!(
            (paris.port, paris.user.as_deref()),
            (Some(2222), Some("admin"))
        );
        assert_eq!(paris.connect_timeout, Some(Duration::from_secs(7)));
        assert_eq!(paris.identity_files, [home.path().join(".ssh/id_relays")]);
        assert_eq!(
            paris.strict_host_key_checking.as_deref(),
            Some("accept-new")
        );
        assert_eq!(
            paris.known_hosts_file.as_deref(),
            Some("~/.ssh/relays_known_hosts")
        );
        let dmz = query("r1.dmz");
        assert_eq!(dmz.proxy_jump, ["bastion"]);
        // The block of `Host *.dmz` goes on after its Include opened `Host bastion`.
        assert_eq!(dmz.user.as_deref(), Some("dmzadmin"));
        assert_eq!(query("bastion").host_name.as_deref(), Some("192.0.2.1"));
        assert_eq!(query("relay-nice").user.as_deref(), Some("lyon"));
        assert_eq!(query("other").user.as_deref(), Some("admin"));
    }

    #[test]
    fn other_match_criteria_an_absent_file_and_an_include_loop() {
        let home = tempfile::tempdir().expect("temp dir");
        let config = write(
            home.path(),
            ".ssh/config",
            "Host a\n  User x\nMatch user root\n  User y\n",
        );
        let error = SshConfigs::default()
            .query(&config, false, Some(home.path()), "a")
            .expect_err("refused");
        assert_eq!(
            error,
            format!(
                "{}:3: `Match user root`: relayctl reads `Match host PATTERNS` and `Match all`, not other Match \
                 criteria; write the hosts as a Host block",
                config.display()
            )
        );
        let absent = home.path().join(".ssh/absent");
        assert_eq!(
            SshConfigs::default().query(&absent, false, Some(home.path()), "a"),
            Ok(None)
        );
        assert!(
            SshConfigs::default()
                .query(&absent, true, Some(home.path()), "a")
                .is_err()
        );
        let looping = write(home.path(), ".ssh/loop", "Include loop\n");
        assert!(
            SshConfigs::default()
                .query(&looping, true, Some(home.path()), "a")
                .expect_err("a loop")
                .contains("more than")
        );
    }
}
