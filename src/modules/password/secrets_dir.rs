//! The controller's side of keeping a secret: the directories a password file is in are its
//! owner's alone, up to the outermost `secrets/` (checked before a password file is read and
//! before anything is written in them), the file itself is readable by no one else, and what
//! relayctl writes there is written 0600, in 0700 directories it makes with a `.gitignore`.

use std::path::Path;

use crate::atomic_file;
use crate::modules::{ArgError, ControllerFile};

/// A secret file must not be readable by anyone but its owner.
pub(super) fn check_private(file: &Path, mode: u32) -> Result<(), ArgError> {
    if mode & 0o077 != 0 {
        return Err(ArgError::new(
            "password_file",
            format!(
                "{} is readable by others (mode {:04o}); run chmod 600 on it",
                file.display(),
                mode & 0o7777
            ),
        ));
    }
    Ok(())
}

/// Writes a controller secret file: 0600, created in a 0700 directory (which also gets a
/// `.gitignore` of `*` when relayctl creates it), through a temporary file and a rename.
pub fn write_controller_file(file: &ControllerFile) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    let dir = parent_dir(&file.path);
    let created = !dir.exists();
    if created {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    // Before anything is written in them, the new directories as much as the old.
    check_directories(&file.path, euid()).map_err(std::io::Error::other)?;
    let ignore = secrets_root(dir).join(".gitignore");
    // symlink_metadata: a dangling link there is not "missing", and is not written through.
    if created && ignore.symlink_metadata().is_err() {
        atomic_file::replace(
            &ignore,
            b"# Written by relayctl: secrets are never committed.\n*\n",
            0o644,
        )?;
    }
    atomic_file::replace(&file.path, file.content.expose().as_bytes(), 0o600)
}

/// The user relayctl runs as.
pub(super) fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// The directories that keep `file` (its own, up to the outermost `secrets` above it) must be
/// `uid`'s and writable by no one else: whoever can write one could swap the password file, or
/// its record, for one of their own between two runs, or between a check and a write.
pub(super) fn check_directories(file: &Path, uid: u32) -> Result<(), String> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let dir = parent_dir(file);
    let top = secrets_root(dir);
    for dir in dir.ancestors() {
        let meta = std::fs::metadata(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        if meta.uid() != uid {
            return Err(format!(
                "{} is owned by uid {}, not by uid {uid} who runs relayctl: its owner could swap \
                 the password files in it",
                dir.display(),
                meta.uid()
            ));
        }
        let mode = meta.permissions().mode();
        let who = match (mode & 0o020 != 0, mode & 0o002 != 0) {
            (false, false) => None,
            (true, false) => Some("its group"),
            (false, true) => Some("others"),
            (true, true) => Some("its group and others"),
        };
        if let Some(who) = who {
            return Err(format!(
                "{} is writable by {who} (mode {:04o}): another local user could swap the \
                 password files in it; run chmod 700 on it",
                dir.display(),
                mode & 0o7777
            ));
        }
        if dir == top {
            break;
        }
    }
    Ok(())
}

/// The directory `file` is in.
pub(super) fn parent_dir(file: &Path) -> &Path {
    match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// The outermost directory named `secrets` above `dir`, or `dir` itself.
fn secrets_root(dir: &Path) -> &Path {
    dir.ancestors()
        .find(|a| a.file_name().is_some_and(|n| n == "secrets"))
        .unwrap_or(dir)
}

#[cfg(test)]
mod tests {
    use super::super::registry::Passwords;
    use super::*;
    use crate::secret::Secret;

    #[test]
    fn a_symlink_planted_at_the_temp_name_never_receives_the_password() {
        let dir = tempfile::tempdir().expect("tmp");
        let secrets = dir.path().join("secrets/relay01");
        std::fs::create_dir_all(&secrets).expect("dir");
        use std::os::unix::fs::PermissionsExt;
        for dir in [dir.path().join("secrets"), secrets.clone()] {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).expect("chmod");
        }
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "").expect("victim");
        std::os::unix::fs::symlink(&victim, secrets.join(".medulla_password.relayctl-tmp"))
            .expect("plant");
        let file = ControllerFile {
            path: secrets.join("medulla_password"),
            content: Secret::new("s3cret\n".into()),
        };
        write_controller_file(&file).expect("written");
        assert_eq!(std::fs::read_to_string(&victim).expect("victim"), "");
        assert_eq!(
            std::fs::read_to_string(&file.path).expect("written"),
            "s3cret\n"
        );
        let written = std::fs::symlink_metadata(&file.path).expect("written");
        assert!(written.file_type().is_file());
        assert_eq!(written.permissions().mode() & 0o777, 0o600);
        let mut names: Vec<String> = std::fs::read_dir(&secrets)
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [".medulla_password.relayctl-tmp", "medulla_password"]
        );
    }

    #[test]
    fn a_secrets_directory_others_can_write_to_is_refused_for_reading_and_writing() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tmp");
        let run = Passwords::default();
        let secrets = dir.path().join("secrets");
        let relay = secrets.join("relay01");
        std::fs::create_dir_all(&relay).expect("dir");
        let file = relay.join("medulla_password");
        std::fs::write(&file, "kept\n").expect("write");
        let chmod = |path: &Path, mode: u32| {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod")
        };
        chmod(&file, 0o600);
        chmod(&secrets, 0o700);
        for (writable, mode, who) in [
            (&relay, 0o770, "its group"),
            (&relay, 0o757, "others"),
            (&secrets, 0o777, "its group and others"),
        ] {
            chmod(&relay, 0o700);
            chmod(writable, mode);
            let expected = format!(
                "{} is writable by {who} (mode {mode:04o}): another local user could swap the \
                 password files in it; run chmod 700 on it",
                writable.display()
            );
            let error = run.resolve(None, file.clone(), true).unwrap_err();
            assert_eq!(error.message, expected);
            let record = ControllerFile {
                path: relay.join("medulla_password.applied"),
                content: Secret::new("record\n".into()),
            };
            let error = write_controller_file(&record).unwrap_err();
            assert_eq!(error.to_string(), expected);
            assert!(!record.path.exists(), "nothing written");
        }
        chmod(&secrets, 0o700);
        chmod(&relay, 0o700);
        let password = run.resolve(None, file, true).expect("private again");
        assert_eq!(password.secret.expose(), "kept");
    }

    #[test]
    fn nothing_is_written_in_a_secrets_directory_others_can_write_to_not_even_its_gitignore() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tmp");
        let secrets = dir.path().join("secrets");
        std::fs::create_dir(&secrets).expect("dir");
        std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(0o777)).expect("chmod");
        let file = ControllerFile {
            path: secrets.join("relay02/medulla_password"),
            content: Secret::new("s3cret\n".into()),
        };
        let error = write_controller_file(&file).unwrap_err();
        assert!(error.to_string().contains("(mode 0777)"), "{error}");
        assert!(!secrets.join(".gitignore").exists());
        assert!(!file.path.exists());
    }

    #[test]
    fn a_secrets_directory_owned_by_another_user_is_refused() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().expect("tmp");
        let relay = dir.path().join("secrets/relay01");
        std::fs::create_dir_all(&relay).expect("dir");
        let owner = std::fs::metadata(&relay).expect("meta").uid();
        let someone_else = if owner == 4242 { 4243 } else { 4242 };
        let error = check_directories(&relay.join("medulla_password"), someone_else).unwrap_err();
        assert_eq!(
            error,
            format!(
                "{} is owned by uid {owner}, not by uid {someone_else} who runs relayctl: its \
                 owner could swap the password files in it",
                relay.display()
            )
        );
        assert_eq!(
            check_directories(&relay.join("medulla_password"), owner),
            Ok(())
        );
    }

    #[test]
    fn a_password_file_readable_by_others_is_refused() {
        let dir = tempfile::tempdir().expect("tmp");
        let run = Passwords::default();
        let file = dir.path().join("pw");
        std::fs::write(&file, "x\n").expect("write");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let error = run.resolve(None, file.clone(), true).unwrap_err();
        assert!(error.message.contains("chmod 600"), "{error}");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        let password = run.resolve(None, file, true).expect("reads");
        assert_eq!(password.secret.expose(), "x");
    }
}
