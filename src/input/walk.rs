//! The files below a directory, as relayctl reads the directories operators and role authors
//! write: recursively, in lexical order of their paths, hidden entries (`.git`, editors' swap
//! files) skipped. One walk for build.rs (which embeds `roles/` and `templates/`), the role
//! catalog (`--roles-dir`) and the inventory's `group_vars/` and `host_vars/` directories: it
//! uses nothing but std, so that build.rs can include this file as it is.
//!
//! Symbolic links are followed (a vars directory may link to a shared one, as Ansible allows),
//! so a walk must not trust the tree to end: each directory is entered once, known by its device
//! and inode however it is reached (two links to `.` made 2^depth paths of one directory), and a
//! walk goes no deeper than [`MAX_DEPTH`] and looks at no more than [`MAX_ENTRIES`] entries.

use std::collections::HashSet;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Directories below the walked one: a role's deepest path is `templates/etc/x/y/file`, four;
/// a vars directory is one or two levels deep.
pub const MAX_DEPTH: usize = 16;

/// Entries (files, directories, hidden ones) looked at in one walk: a role holds tens of files,
/// a group's vars directory a handful; 10 000 is past any honest directory and still reads in
/// milliseconds.
pub const MAX_ENTRIES: usize = 10_000;

/// What a walk found: every file (anything that is not a directory) and every directory that
/// could not be read or that the limits above left unread, with why.
#[derive(Debug, Default)]
pub struct Walk {
    pub files: Vec<PathBuf>,
    pub unreadable: Vec<(PathBuf, std::io::Error)>,
}

/// Walks `dir`, skipping hidden entries and those `skip` names (by file name).
pub fn files_below(dir: &Path, skip: &dyn Fn(&str) -> bool) -> Walk {
    let mut walker = Walker {
        skip,
        entered: HashSet::new(),
        entries: 0,
        walk: Walk::default(),
    };
    walker.collect(dir, 0);
    walker.walk.files.sort();
    walker.walk
}

struct Walker<'a> {
    skip: &'a dyn Fn(&str) -> bool,
    /// The (device, inode) of every directory entered.
    entered: HashSet<(u64, u64)>,
    entries: usize,
    walk: Walk,
}

impl Walker<'_> {
    fn collect(&mut self, dir: &Path, depth: usize) {
        // Past its entries, a walk reads nothing more (the directory where it stopped says so).
        if self.entries > MAX_ENTRIES {
            return;
        }
        let identity = match std::fs::metadata(dir) {
            Ok(metadata) => (metadata.dev(), metadata.ino()),
            Err(e) => return self.unreadable(dir, e),
        };
        // A directory reached again (through a link) holds the files already listed.
        if !self.entered.insert(identity) {
            return;
        }
        if depth > MAX_DEPTH {
            return self.unreadable(
                dir,
                std::io::Error::other(format!(
                    "it is more than {MAX_DEPTH} directories deep, deeper than relayctl reads"
                )),
            );
        }
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) => return self.unreadable(dir, e),
        };
        let mut paths = Vec::new();
        for entry in entries.flatten() {
            self.entries += 1;
            if self.entries > MAX_ENTRIES {
                return self.unreadable(
                    dir,
                    std::io::Error::other(format!(
                        "the walk that reached it looked at {MAX_ENTRIES} entries, more than \
                         relayctl reads below one directory"
                    )),
                );
            }
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.starts_with('.') && !(self.skip)(&name) {
                paths.push(entry.path());
            }
        }
        // In lexical order, so that a directory reached by two paths is always known by the
        // same one.
        paths.sort();
        for path in paths {
            if path.is_dir() {
                self.collect(&path, depth + 1);
            } else {
                self.walk.files.push(path);
            }
        }
    }

    fn unreadable(&mut self, dir: &Path, error: std::io::Error) {
        self.walk.unreadable.push((dir.to_path_buf(), error));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(walk: &Walk, base: &Path) -> Vec<String> {
        walk.files
            .iter()
            .map(|f| f.strip_prefix(base).unwrap_or(f).display().to_string())
            .collect()
    }

    #[test]
    fn files_in_lexical_order_hidden_and_skipped_ones_left_out() {
        let dir = tempfile::tempdir().expect("temp dir");
        let base = dir.path();
        std::fs::create_dir_all(base.join("b/c")).expect("mkdir");
        for file in ["a.yml", "b/c/d.yml", "b/a.yml", ".hidden", "e.yml~"] {
            std::fs::write(base.join(file), "").expect("write");
        }
        let walk = files_below(base, &|name| name.ends_with('~'));
        assert_eq!(names(&walk, base), ["a.yml", "b/a.yml", "b/c/d.yml"]);
        assert!(walk.unreadable.is_empty());
    }

    #[test]
    fn a_directory_reached_again_through_links_is_walked_once() {
        let dir = tempfile::tempdir().expect("temp dir");
        let base = dir.path();
        std::fs::create_dir_all(base.join("sub")).expect("mkdir");
        std::fs::write(base.join("main.yml"), "").expect("write");
        std::fs::write(base.join("sub/x.yml"), "").expect("write");
        for (target, link) in [(".", "a"), (".", "b"), ("..", "sub/up")] {
            std::os::unix::fs::symlink(target, base.join(link)).expect("symlink");
        }
        let walk = files_below(base, &|_| false);
        assert_eq!(names(&walk, base), ["main.yml", "sub/x.yml"]);
        assert!(walk.unreadable.is_empty());
    }

    #[test]
    fn a_walk_stops_past_its_depth() {
        let dir = tempfile::tempdir().expect("temp dir");
        let base = dir.path();
        let deepest = (0..=MAX_DEPTH).fold(base.to_path_buf(), |path, i| path.join(i.to_string()));
        std::fs::create_dir_all(&deepest).expect("mkdir");
        std::fs::write(deepest.join("too_deep.yml"), "").expect("write");
        std::fs::write(deepest.parent().expect("parent").join("deep.yml"), "").expect("write");
        let walk = files_below(base, &|_| false);
        assert_eq!(walk.files.len(), 1, "{:?}", walk.files);
        assert!(walk.files[0].ends_with("deep.yml"));
        let [(path, error)] = walk.unreadable.as_slice() else {
            panic!("{:?}", walk.unreadable)
        };
        assert_eq!(path, &deepest);
        assert_eq!(
            error.to_string(),
            "it is more than 16 directories deep, deeper than relayctl reads"
        );
    }

    #[test]
    fn a_walk_stops_past_its_entries() {
        let dir = tempfile::tempdir().expect("temp dir");
        let base = dir.path();
        for i in 0..=MAX_ENTRIES {
            std::fs::write(base.join(format!("{i:05}.yml")), "").expect("write");
        }
        let walk = files_below(base, &|_| false);
        assert!(walk.files.is_empty(), "{} files", walk.files.len());
        let [(path, error)] = walk.unreadable.as_slice() else {
            panic!("{:?}", walk.unreadable)
        };
        assert_eq!(path, base);
        assert_eq!(
            error.to_string(),
            "the walk that reached it looked at 10000 entries, more than relayctl reads below one \
             directory"
        );
    }
}
