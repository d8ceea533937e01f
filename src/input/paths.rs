//! Controller paths written in input files (key files, known_hosts files, support keys, secrets
//! files): `~/` is the controller's home, and a relative path is relative to the directory of the
//! inventory file, not to wherever relayctl happens to be started, so the same inventory works
//! from any working directory.

use std::path::{Path, PathBuf};

/// What relative and `~` paths are resolved against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PathContext {
    /// The inventory file's directory (possibly empty: the current directory).
    pub base_dir: PathBuf,
    pub home: Option<PathBuf>,
}

impl PathContext {
    pub(crate) fn for_inventory(inventory: &Path) -> Self {
        Self {
            base_dir: inventory
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default(),
            home: std::env::home_dir(),
        }
    }

    /// Resolves a path as written; the error is a message for the operator.
    pub(crate) fn resolve(&self, raw: &str) -> Result<PathBuf, String> {
        if raw.is_empty() {
            return Err("expected a file path, found an empty string".to_owned());
        }
        if raw == "~" || raw.starts_with("~/") {
            let home = self.home.as_ref().ok_or_else(|| {
                format!("{raw:?} starts with ~ but the controller's home directory is unknown")
            })?;
            return Ok(match raw.strip_prefix("~/") {
                Some(rest) => home.join(rest),
                None => home.clone(),
            });
        }
        if raw.starts_with('~') {
            return Err(format!(
                "{raw:?}: only ~/ (the controller's own home) is supported, not ~user/"
            ));
        }
        let path = Path::new(raw);
        Ok(if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.base_dir.join(path)
        })
    }
}

/// The path context unit tests share: inventory in `inventories/`, home `/home/op`.
#[cfg(test)]
pub(crate) fn test_context() -> PathContext {
    PathContext {
        base_dir: PathBuf::from("inventories"),
        home: Some(PathBuf::from("/home/op")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::test_context as ctx;

    #[test]
    fn relative_paths_are_relative_to_the_inventory_directory() {
        assert_eq!(
            ctx().resolve("keys/support.pub"),
            Ok(PathBuf::from("inventories/keys/support.pub"))
        );
        assert_eq!(
            PathContext::for_inventory(Path::new("site.yaml"))
                .resolve("k.pub")
                .map(|p| p.to_path_buf()),
            Ok(PathBuf::from("k.pub"))
        );
    }

    #[test]
    fn tilde_is_the_controller_home() {
        assert_eq!(
            ctx().resolve("~/.ssh/id_ed25519"),
            Ok(PathBuf::from("/home/op/.ssh/id_ed25519"))
        );
        assert!(ctx().resolve("~root/.ssh/id").is_err());
        let homeless = PathContext {
            home: None,
            ..ctx()
        };
        assert!(homeless.resolve("~/.ssh/id").is_err());
    }

    #[test]
    fn absolute_paths_are_kept() {
        assert_eq!(
            ctx().resolve("/etc/relayctl/key.pub"),
            Ok(PathBuf::from("/etc/relayctl/key.pub"))
        );
    }
}
