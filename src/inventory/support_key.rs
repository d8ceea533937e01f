//! `medulla_support_public_key`: the public key SIVEO attaches to the relay request, which goes
//! into the `medulla` user's authorized_keys (PROC step 3). Given inline (`ssh-ed25519 AAAA...
//! comment`) or as the path of a `.pub` file (`~/` and relative paths as for other inventory
//! paths). Either way it must parse as an OpenSSH public key now, not fail on the host later.

use std::path::PathBuf;

use russh::keys::{Algorithm, PublicKey};
use serde::Serialize;

use super::values::{self, Problem};
use crate::input::paths::PathContext;
use crate::input::yaml::Node;
use crate::input::{files, text};

/// A validated support key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SupportKey {
    /// The OpenSSH line as written (`ssh-ed25519 AAAA... comment`).
    pub public_key: String,
    /// The file it was read from, when given as a path.
    pub source: Option<PathBuf>,
}

/// Reads and validates the variable's value (reading the file when it names one).
pub(crate) fn read(node: &Node, paths: &PathContext) -> Result<SupportKey, Problem> {
    // Said as a key's problem, which tells more than any value's would.
    if let Some(c) = node
        .as_str()
        .and_then(|s| text::forbidden_in_line(s.trim()))
    {
        return Err(Problem::at(node, control_character(c)));
    }
    let raw = values::string(node, "an OpenSSH public key or the path of a .pub file")?.trim();
    if looks_inline(raw) {
        parse_line(raw).map_err(|why| Problem::at(node, why))?;
        return Ok(SupportKey {
            public_key: raw.to_owned(),
            source: None,
        });
    }
    let path = paths.resolve(raw).map_err(|why| Problem::at(node, why))?;
    let text = files::read_text(&path, files::KEY).map_err(|e| {
        Problem::at(
            node,
            format!("cannot read the support key file {}: {e}", path.display()),
        )
    })?;
    if text.contains("PRIVATE KEY-----") {
        return Err(Problem::at(
            node,
            format!(
                "{} is a private key; give the public key (the .pub file) instead",
                path.display()
            ),
        ));
    }
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let [line] = lines.as_slice() else {
        return Err(Problem::at(
            node,
            format!(
                "{} must hold exactly one public key, found {} lines",
                path.display(),
                lines.len()
            ),
        ));
    };
    parse_line(line).map_err(|why| Problem::at(node, format!("{}: {why}", path.display())))?;
    Ok(SupportKey {
        public_key: (*line).to_owned(),
        source: Some(path),
    })
}

/// An OpenSSH key line starts with its algorithm; base64 key material gives away a key whose
/// algorithm is mistyped. Anything else is taken for a path.
fn looks_inline(raw: &str) -> bool {
    let first = raw.split_whitespace().next().unwrap_or_default();
    KEY_TYPES.iter().any(|p| first.starts_with(p)) || raw.contains(" AAAA")
}

/// How the names of OpenSSH's key types begin (`ssh-ed25519`, `ecdsa-sha2-nistp256`,
/// `sk-ssh-ed25519@openssh.com`).
const KEY_TYPES: [&str; 3] = ["ssh-", "ecdsa-", "sk-"];

/// One OpenSSH public key line, as it will be written into authorized_keys: the key's type
/// first, then its material and comment. A newline in the comment would end the line there and
/// start another, a key with `command=` options of the writer's choosing (and OpenSSH's parser
/// takes the rest of a line, newlines included, for the comment); options before the type would
/// restrict or redirect SIVEO's access; a control character would reach terminals as it is.
fn control_character(c: char) -> String {
    format!(
        "the key holds {}: a support key is one line, `ssh-ed25519 AAAAC3Nz... comment`, with no \
         control character, its comment included",
        text::describe(c)
    )
}

fn parse_line(line: &str) -> Result<PublicKey, String> {
    if let Some(c) = text::forbidden_in_line(line) {
        return Err(control_character(c));
    }
    let is_type = |word: &str| KEY_TYPES.iter().any(|prefix| word.starts_with(prefix));
    let mut words = line.split_whitespace();
    let first = words.next().unwrap_or_default();
    // Text before a type is options (anything else is not a key, as OpenSSH's parser says).
    if !is_type(first) && words.any(is_type) {
        return Err(format!(
            "the key starts with {first:?}, not with its type (ssh-ed25519, ssh-rsa, \
             ecdsa-sha2-...): a support key is taken without authorized_keys options"
        ));
    }
    let key = PublicKey::from_openssh(line).map_err(|e| {
        format!("not a valid OpenSSH public key ({e}); expected a line like `ssh-ed25519 AAAAC3Nz... comment`")
    })?;
    if key.algorithm() == Algorithm::Dsa {
        return Err(
            "DSA keys are refused by the OpenSSH of Debian 12; ask for an ed25519 or RSA key"
                .to_owned(),
        );
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::Pos;
    use serde_json::json;
    use std::path::Path;

    pub(crate) const ED25519: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPKhEyqiDNIFdzAccwYa8Hzi+lrGFN9AKumk8xzTZbLy support@example.invalid";

    fn node(value: &str) -> Node {
        Node::from_json(
            &json!(value),
            Pos {
                line: 7,
                column: 33,
            },
        )
    }

    fn paths(dir: &Path) -> PathContext {
        PathContext {
            base_dir: dir.to_path_buf(),
            home: None,
        }
    }

    #[test]
    fn inline_key() {
        let key = read(&node(ED25519), &paths(Path::new("."))).unwrap();
        assert_eq!(
            key,
            SupportKey {
                public_key: ED25519.to_owned(),
                source: None
            }
        );
    }

    #[test]
    fn inline_key_with_broken_material() {
        let problem = read(
            &node("ssh-ed25519 AAAAnotbase64!! x"),
            &paths(Path::new(".")),
        )
        .unwrap_err();
        assert!(
            problem
                .message
                .starts_with("not a valid OpenSSH public key ("),
            "{}",
            problem.message
        );
    }

    #[test]
    fn key_file_relative_to_the_inventory() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("keys")).unwrap();
        std::fs::write(dir.path().join("keys/support.pub"), format!("{ED25519}\n")).unwrap();
        let key = read(&node("keys/support.pub"), &paths(dir.path())).unwrap();
        assert_eq!(key.public_key, ED25519);
        assert_eq!(key.source, Some(dir.path().join("keys/support.pub")));
    }

    #[test]
    fn private_key_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("id"),
            "-----BEGIN OPENSSH PRIVATE KEY-----\nxx\n",
        )
        .unwrap();
        let problem = read(&node("id"), &paths(dir.path())).unwrap_err();
        assert!(
            problem
                .message
                .ends_with("is a private key; give the public key (the .pub file) instead")
        );
    }

    /// A second key, with options, after a newline in the first one's comment: what ended up in
    /// medulla's authorized_keys before this was refused.
    fn smuggled() -> String {
        format!("{ED25519}\ncommand=\"touch /tmp/pwned\",no-pty {ED25519} attacker")
    }

    #[test]
    fn an_inline_key_is_one_line_without_control_characters() {
        let problem = read(&node(&smuggled()), &paths(Path::new("."))).unwrap_err();
        assert_eq!(
            problem.message,
            "the key holds U+000A (newline): a support key is one line, `ssh-ed25519 AAAAC3Nz... \
             comment`, with no control character, its comment included"
        );
        let problem = read(
            &node(&format!("{ED25519}\u{1b}[2J")),
            &paths(Path::new(".")),
        )
        .unwrap_err();
        assert_eq!(
            problem.message,
            "the key holds U+001B (escape): a support key is one line, `ssh-ed25519 AAAAC3Nz... \
             comment`, with no control character, its comment included"
        );
    }

    #[test]
    fn a_key_with_options_before_its_type_is_refused() {
        let problem = read(
            &node(&format!("no-pty,command=\"touch /tmp/pwned\" {ED25519}")),
            &paths(Path::new(".")),
        )
        .unwrap_err();
        assert_eq!(
            problem.message,
            "the key starts with \"no-pty,command=\\\"touch\", not with its type (ssh-ed25519, \
             ssh-rsa, ecdsa-sha2-...): a support key is taken without authorized_keys options"
        );
    }

    #[test]
    fn a_key_file_is_one_line_without_control_characters() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("support.pub");
        std::fs::write(&path, format!("{ED25519}\rcommand=\"x\" {ED25519}\n")).unwrap();
        let problem = read(&node("support.pub"), &paths(dir.path())).unwrap_err();
        assert_eq!(
            problem.message,
            format!(
                "{}: the key holds U+000D (carriage return): a support key is one line, \
                 `ssh-ed25519 AAAAC3Nz... comment`, with no control character, its comment \
                 included",
                path.display()
            )
        );
        std::fs::write(&path, smuggled()).unwrap();
        let problem = read(&node("support.pub"), &paths(dir.path())).unwrap_err();
        assert_eq!(
            problem.message,
            format!(
                "{} must hold exactly one public key, found 2 lines",
                path.display()
            )
        );
    }

    #[test]
    fn missing_file() {
        let problem = read(&node("keys/none.pub"), &paths(Path::new("inventories"))).unwrap_err();
        assert_eq!(
            problem.message,
            "cannot read the support key file inventories/keys/none.pub: No such file or directory (os error 2)"
        );
        assert_eq!(
            problem.pos,
            Pos {
                line: 7,
                column: 33
            }
        );
    }
}
