//! The run's passwords: what a relay's task names (a variable, a password file) resolved into
//! its password, once per file for the whole run, so that relays naming one file share its
//! secret.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::secrets_dir::{check_directories, euid, parent_dir};
use super::{ManagedPassword, Source, not_found};
use crate::modules::ArgError;
use crate::secret::Secret;

/// The run's passwords, by the canonical path of their file: every relay that names one file
/// gets the one secret read from it, or generated for it, once. Two relays that generated
/// a password each for a shared file would both write it, and all but the last would then be
/// set to a password the file no longer holds.
///
/// One per run: the run owns it, in the `RunScope` every builder is lent through its
/// `BuildContext`, so relays of one run meet here and the next run reads every file afresh.
/// Keys are canonical, so that `secrets/./x`, a link to the inventory's directory and the path
/// itself meet.
#[derive(Default)]
pub struct Passwords {
    kept: Mutex<BTreeMap<PathBuf, ManagedPassword>>,
}

impl Passwords {
    /// Resolves the password: `env` if set, else `file` if it exists, else a generated one when
    /// `generate`. A password file readable by others is refused.
    pub fn resolve(
        &self,
        env: Option<&str>,
        file: PathBuf,
        generate: bool,
    ) -> Result<ManagedPassword, ArgError> {
        if let Some(var) = env
            && let Ok(value) = std::env::var(var)
        {
            if value.is_empty() {
                return Err(ArgError::new(
                    "password_env",
                    format!("{var} is set but empty"),
                ));
            }
            return Ok(ManagedPassword {
                secret: Secret::new(value),
                file,
                source: Source::Env(var.to_string()),
            });
        }
        // A directory that does not exist yet is made private when the password is written.
        if parent_dir(&file).exists() {
            check_directories(&file, euid()).map_err(|e| ArgError::new("password_file", e))?;
        }
        let mut kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        let key = canonical(&file);
        if let Some(known) = kept.get(&key) {
            if matches!(known.source, Source::Generated(_)) && !generate {
                // As if this relay had come first: it may not generate the missing file.
                return Err(not_found(&file));
            }
            return Ok(ManagedPassword {
                file,
                ..known.clone()
            });
        }
        let password = ManagedPassword::read_or_generate(file, generate)?;
        kept.insert(key, password.clone());
        Ok(password)
    }
}

/// `file`'s canonical path, even before it exists: its nearest existing ancestor resolved
/// (links, `.`, `..`), the missing rest as written. A missing rest with `..` in it can never be
/// created as written: the path is then its own key.
fn canonical(file: &Path) -> PathBuf {
    let mut missing = Vec::new();
    let mut existing = file;
    loop {
        if let Ok(mut path) = existing.canonicalize() {
            path.extend(missing.iter().rev());
            return path;
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                missing.push(name);
                existing = parent;
            }
            _ => return file.to_path_buf(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{next_run, set};
    use super::*;

    #[test]
    fn relays_naming_one_missing_file_share_one_password_generated_once() {
        let dir = tempfile::tempdir().expect("tmp");
        let run = Passwords::default();
        let shared = dir.path().join("secrets/all/medulla_password");
        // The same file, as other relays' variables may spell it: through `.`, and through a
        // link to the inventory's directory.
        let dotted = dir.path().join("secrets/./all/medulla_password");
        std::os::unix::fs::symlink(dir.path(), dir.path().join("inventory")).expect("link");
        let linked = dir.path().join("inventory/secrets/all/medulla_password");
        let relays: Vec<PathBuf> = (0..16)
            .map(|i| [&shared, &dotted, &linked][i % 3].clone())
            .collect();
        // Relays render their tasks concurrently.
        let resolved: Vec<ManagedPassword> = std::thread::scope(|scope| {
            let threads: Vec<_> = relays
                .iter()
                .map(|file| scope.spawn(|| run.resolve(None, file.clone(), true).expect("ok")))
                .collect();
            threads
                .into_iter()
                .map(|t| t.join().expect("resolved"))
                .collect()
        });
        for (i, password) in resolved.iter().enumerate() {
            assert!(matches!(password.source, Source::Generated(_)));
            let same = password.secret.expose() == resolved[0].secret.expose();
            assert!(same, "relay {i} got a password of its own");
        }
        let own = run
            .resolve(None, dir.path().join("secrets/relay02/pw"), true)
            .expect("ok");
        let differ = own.secret.expose() != resolved[0].secret.expose();
        assert!(differ, "another file, another password");
    }

    #[tokio::test]
    async fn relays_sharing_a_generated_file_write_it_once_and_agree_on_its_record() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().expect("tmp");
        let run = Passwords::default();
        let file = dir.path().join("secrets/all/medulla_password");
        let relays: Vec<ManagedPassword> = (0..3)
            .map(|_| run.resolve(None, file.clone(), true).expect("generated"))
            .collect();
        let (hash, record) = set(&relays[0]).await;
        let inode = std::fs::metadata(&file).expect("written").ino();
        for relay in &relays[1..] {
            assert_eq!(set(relay).await, (hash.clone(), record.clone()));
            assert_eq!(std::fs::metadata(&file).expect("kept").ino(), inode);
        }
        let kept = std::fs::read_to_string(&file).expect("kept");
        assert!(kept == format!("{}\n", relays[0].secret.expose()));
        assert!(
            next_run(&file).is_current(&hash),
            "every relay's hash, current"
        );
    }
}
