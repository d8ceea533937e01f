//! The files below a directory, as relayctl reads the directories operators and role authors
//! write: recursively, in lexical order of their paths, hidden entries (`.git`, editors' swap
//! files) skipped. One walk for build.rs (which embeds `roles/` and `templates/`), the role
//! catalog (`--roles-dir`) and the inventory's `group_vars/` and `host_vars/` directories: it
//! uses nothing but std, so that build.rs can include this file as it is.

use std::path::{Path, PathBuf};

/// What a walk found: every file (anything that is not a directory) and every directory that
/// could not be read, with why.
#[derive(Debug, Default)]
pub struct Walk {
    pub files: Vec<PathBuf>,
    pub unreadable: Vec<(PathBuf, std::io::Error)>,
}

/// Walks `dir`, skipping hidden entries and those `skip` names (by file name).
pub fn files_below(dir: &Path, skip: &dyn Fn(&str) -> bool) -> Walk {
    let mut walk = Walk::default();
    collect(dir, skip, &mut walk);
    walk.files.sort();
    walk
}

fn collect(dir: &Path, skip: &dyn Fn(&str) -> bool, walk: &mut Walk) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            walk.unreadable.push((dir.to_path_buf(), e));
            return;
        }
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || skip(&name) {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            collect(&path, skip, walk);
        } else {
            walk.files.push(path);
        }
    }
}
