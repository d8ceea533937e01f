//! `medulla_support_public_key`: the public key SIVEO attaches to the relay request, which goes
//! into the `medulla` user's authorized_keys (PROC step 3). Given inline (`ssh-ed25519 AAAA...
//! comment`) or as the path of a `.pub` file (`~/` and relative paths as for other inventory
//! paths). Either way it must parse as an OpenSSH public key now, not fail on the host later.

use std::path::PathBuf;

use russh::keys::{Algorithm, PublicKey};
use serde::Serialize;

use super::values::{self, Problem};
use crate::input::files;
use crate::input::paths::PathContext;
use crate::input::yaml::Node;

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
    ["ssh-", "ecdsa-", "sk-"]
        .iter()
        .any(|p| first.starts_with(p))
        || raw.contains(" AAAA")
}

fn parse_line(line: &str) -> Result<PublicKey, String> {
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
