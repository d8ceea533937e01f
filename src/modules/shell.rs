//! The shell side of modules: quoting, the helpers every snippet can call (defined once per
//! batch in [`PRELUDE`]), and the reader of what they print ([`read_findings`]).
//!
//! Snippets print findings as `key=value` lines (one line per value) and file contents as a
//! length-framed block: a line `\x1fKEY SIZE`, then exactly SIZE bytes, then a newline. The length
//! makes contents binary-safe: nothing inside a file can be mistaken for a finding.

use super::{Findings, ProbeError};

pub use crate::sh::quote;

/// Defined at the top of every batch. `PATH` is fixed (a login user's lacks the sbin
/// directories on Debian); `LC_ALL=C` keeps tools' output parseable.
pub const PRELUDE: &str = r#"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
LC_ALL=C
export PATH LC_ALL
umask 022
# f KEY VALUE: one finding.
f() { printf '%s=%s\n' "$1" "$2"; }
# fstat KEY PATH: KEY=type|owner|group|mode|size, or KEY=absent; then a regular file's content,
# length-framed, when it is at most 1 MiB, else KEY.sha256=its SHA-256. An absent path costs no
# spawn (test is built in; -L for a dangling link): on a fresh host most probed files are absent.
fstat() {
  if { [ -e "$2" ] || [ -L "$2" ]; } && _s=$(stat -c '%F|%U|%G|%a|%s' -- "$2" 2>/dev/null); then
    f "$1" "$_s"
    case $_s in
    regular*)
      _n=${_s##*|}
      if [ "$_n" -le 1048576 ]; then
        printf '\037%s %s\n' "$1" "$_n"
        cat -- "$2" || exit 1
        printf '\n'
      else
        _h=$(sha256sum <"$2") || exit 1
        f "$1.sha256" "${_h%% *}"
      fi ;;
    esac
  else
    f "$1" absent
  fi
}
# factive KEY UNIT: KEY=what `systemctl is-active UNIT` says, or KEY=inactive without a spawn when
# systemd holds no invocation link for the unit: it links one while the unit runs and unlinks it
# when the unit stops (a link may outlive a failed run: systemctl says what it is then). Each
# systemctl call is a process and work for PID 1; most probed units are not running.
factive() {
  if [ -L "/run/systemd/units/invocation:$2" ]; then f "$1" "$(systemctl is-active "$2" 2>/dev/null)"
  else f "$1" inactive; fi
}
# fline KEY PREFIX FILE: KEY=yes and true when a line of FILE starts with PREFIX, else KEY=no and
# false (an absent or unreadable FILE too): `grep -qs "^PREFIX" FILE`, read by the shell, no spawn.
fline() {
  _r=no
  if [ -r "$3" ]; then
    while IFS= read -r _l || [ -n "$_l" ]; do
      case $_l in "$2"*) _r=yes; break ;; esac
    done <"$3"
  fi
  f "$1" "$_r"
  [ "$_r" = yes ]
}
# fpasswd KEY USER: KEY=the user's passwd line, or KEY=absent.
fpasswd() {
  if _p=$(getent passwd "$2"); then f "$1" "$_p"; else f "$1" absent; fi
}
"#;

/// A file as `fstat` reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileStat {
    Absent,
    Present {
        kind: FileKind,
        owner: String,
        group: String,
        mode: u32,
        size: u64,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Regular,
    Directory,
    Symlink,
    Other,
}

impl FileKind {
    pub fn describe(self) -> &'static str {
        match self {
            FileKind::Regular => "a regular file",
            FileKind::Directory => "a directory",
            FileKind::Symlink => "a symbolic link",
            FileKind::Other => "a special file",
        }
    }
}

impl FileStat {
    /// Reads `fstat`'s `type|owner|group|mode|size` value.
    pub fn parse(value: &str) -> Result<FileStat, ProbeError> {
        if value == "absent" {
            return Ok(FileStat::Absent);
        }
        let bad = || ProbeError::Failed(format!("cannot read the file status {value:?}"));
        let mut fields = value.rsplitn(5, '|');
        let size = fields.next().ok_or_else(bad)?;
        let mode = fields.next().ok_or_else(bad)?;
        let group = fields.next().ok_or_else(bad)?;
        let owner = fields.next().ok_or_else(bad)?;
        let kind = fields.next().ok_or_else(bad)?;
        Ok(FileStat::Present {
            kind: match kind {
                "regular file" | "regular empty file" => FileKind::Regular,
                "directory" => FileKind::Directory,
                "symbolic link" => FileKind::Symlink,
                _ => FileKind::Other,
            },
            owner: owner.to_string(),
            group: group.to_string(),
            mode: u32::from_str_radix(mode, 8).map_err(|_| bad())?,
            size: size.parse().map_err(|_| bad())?,
        })
    }

    /// `fstat`'s finding under `key`.
    pub fn from_findings(found: &Findings, key: &str) -> Result<FileStat, ProbeError> {
        FileStat::parse(found.require(key)?)
    }
}

/// A user as `fpasswd` reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasswdEntry {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub comment: String,
    pub home: String,
    pub shell: String,
}

impl PasswdEntry {
    /// `None` for `absent`.
    pub fn parse(value: &str) -> Result<Option<PasswdEntry>, ProbeError> {
        if value == "absent" {
            return Ok(None);
        }
        let fields: Vec<&str> = value.split(':').collect();
        let [name, _, uid, gid, comment, home, shell] = fields.as_slice() else {
            return Err(ProbeError::Failed(format!(
                "cannot read the passwd entry {value:?}"
            )));
        };
        let number = |s: &str| {
            s.parse::<u32>()
                .map_err(|_| ProbeError::Failed(format!("bad number {s:?} in {value:?}")))
        };
        Ok(Some(PasswdEntry {
            name: name.to_string(),
            uid: number(uid)?,
            gid: number(gid)?,
            comment: comment.to_string(),
            home: home.to_string(),
            shell: shell.to_string(),
        }))
    }
}

/// Reads a section's output: `key=value` lines and length-framed contents. A line that is
/// neither is kept in `raw` (it shows up in error messages), never silently dropped.
pub fn read_findings(mut body: &[u8]) -> Result<Findings, String> {
    let mut found = Findings::default();
    while !body.is_empty() {
        let end = body.iter().position(|&b| b == b'\n').unwrap_or(body.len());
        let line = &body[..end];
        body = body.get(end + 1..).unwrap_or_default();
        if let Some(header) = line.strip_prefix(b"\x1f") {
            let header = String::from_utf8_lossy(header);
            let (key, size) = header
                .rsplit_once(' ')
                .and_then(|(k, s)| Some((k.to_string(), s.parse::<usize>().ok()?)))
                .ok_or_else(|| format!("bad content header {header:?}"))?;
            if body.len() < size + 1 || body[size] != b'\n' {
                return Err(format!(
                    "the content of {key} changed while it was read; run again"
                ));
            }
            found.contents.push((key, body[..size].to_vec()));
            body = &body[size + 1..];
            continue;
        }
        let line = String::from_utf8_lossy(line);
        match line.split_once('=') {
            Some((key, value)) if !key.is_empty() && !key.contains(' ') => {
                found.values.push((key.to_string(), value.to_string()));
            }
            _ => {
                found.raw.extend_from_slice(line.as_bytes());
                found.raw.push(b'\n');
            }
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_and_framed_contents_are_read_apart() {
        let body = b"a=1\n\x1ffile 7\nx=2\n\x1fy\n\nb=3 4\nnoise\n";
        let found = read_findings(body).expect("parses");
        assert_eq!(
            found.values,
            [("a".into(), "1".into()), ("b".into(), "3 4".into())]
        );
        assert_eq!(
            found.contents,
            [("file".to_string(), b"x=2\n\x1fy\n".to_vec())]
        );
        assert_eq!(found.raw, b"noise\n");
    }

    /// Runs `script` after the prelude in the host's sh (dash on Debian, as on the relays).
    fn run_prelude(script: &str) -> Findings {
        let output = std::process::Command::new("sh")
            .args(["-c", &format!("{PRELUDE}{script}")])
            .output()
            .expect("sh runs");
        assert!(output.status.success(), "{output:?}");
        read_findings(&output.stdout).expect("findings")
    }

    #[test]
    fn fstat_reports_files_links_and_absent_paths() {
        let dir = tempfile::tempdir().expect("tmp");
        let file = dir.path().join("file");
        std::fs::write(&file, b"two\nlines\n").expect("write");
        let dangling = dir.path().join("dangling");
        std::os::unix::fs::symlink(dir.path().join("nowhere"), &dangling).expect("link");
        let found = run_prelude(&format!(
            "fstat file {}\nfstat dir {}\nfstat dangling {}\nfstat absent {}\n",
            quote(&file.to_string_lossy()),
            quote(&dir.path().to_string_lossy()),
            quote(&dangling.to_string_lossy()),
            quote(&dir.path().join("absent").to_string_lossy()),
        ));
        let kind = |key: &str| match FileStat::from_findings(&found, key).expect("stat") {
            FileStat::Present { kind, size, .. } => Some((kind, size)),
            FileStat::Absent => None,
        };
        assert_eq!(kind("file"), Some((FileKind::Regular, 10)));
        assert_eq!(found.content("file"), Some(&b"two\nlines\n"[..]));
        assert_eq!(kind("dir").map(|(k, _)| k), Some(FileKind::Directory));
        assert_eq!(
            kind("dangling").map(|(k, _)| k),
            Some(FileKind::Symlink),
            "a dangling link is not absent: relayctl must not write through it"
        );
        assert_eq!(kind("absent"), None);
    }

    #[test]
    fn fline_answers_as_grep_does() {
        let dir = tempfile::tempdir().expect("tmp");
        let cases: [(&str, &[u8]); 6] = [
            ("first", b"ENABLED=yes\nLOGLEVEL=low\n"),
            ("later", b"# ENABLED=yes\n ENABLED=yes\nENABLED=yes # on\n"),
            ("no", b"ENABLED=no\n#ENABLED=yes\n"),
            ("unterminated", b"x=1\nENABLED=yes"),
            ("glob", b"ENABLED=*\n"),
            ("empty", b""),
        ];
        let mut script = String::new();
        for (name, content) in cases {
            let path = dir.path().join(name);
            std::fs::write(&path, content).expect("write");
            script.push_str(&format!(
                "fline {name} ENABLED=yes {}\n",
                quote(&path.to_string_lossy())
            ));
        }
        script.push_str("if fline status ENABLED=yes /dev/null; then f wrong yes; fi\n");
        script.push_str(&format!(
            "fline absent ENABLED=yes {}\n",
            quote(&dir.path().join("absent").to_string_lossy())
        ));
        script.push_str("true\n");
        let found = run_prelude(&script);
        for name in [
            "first",
            "later",
            "no",
            "unterminated",
            "glob",
            "empty",
            "absent",
        ] {
            let grep = std::process::Command::new("grep")
                .args(["-qs", "^ENABLED=yes"])
                .arg(dir.path().join(name))
                .status()
                .expect("grep runs")
                .success();
            let want = if grep { "yes" } else { "no" };
            assert_eq!(found.get(name), Some(want), "{name}");
        }
        assert_eq!(found.get("later"), Some("yes"));
        assert_eq!(found.get("glob"), Some("no"));
        assert_eq!(found.get("wrong"), None, "false when it says no");
    }

    #[test]
    fn a_content_shorter_than_announced_is_an_error() {
        assert!(read_findings(b"\x1ffile 10\nabc\n").is_err());
    }

    #[test]
    fn file_status_and_passwd_lines_parse() {
        assert_eq!(
            FileStat::parse("regular file|root|root|440|37"),
            Ok(FileStat::Present {
                kind: FileKind::Regular,
                owner: "root".into(),
                group: "root".into(),
                mode: 0o440,
                size: 37
            })
        );
        assert_eq!(FileStat::parse("absent"), Ok(FileStat::Absent));
        let entry = PasswdEntry::parse("medulla:x:1001:1001::/home/medulla:/bin/bash")
            .expect("parses")
            .expect("present");
        assert_eq!(
            (entry.uid, entry.home.as_str(), entry.shell.as_str()),
            (1001, "/home/medulla", "/bin/bash")
        );
    }
}
