//! Which tasks `--tags` and `--skip-tags` select, by Ansible's rules.

/// Ansible's rules for a task with `tags` (the role's name counts as one of them): `--tags` keeps
/// tasks with one of the tags (or `always`); `--skip-tags` drops tasks with one of them, `always`
/// included; a task tagged `never` runs only when one of its other tags is asked for.
pub(super) fn selected(tags: &[&str], wanted: &[String], skipped: &[String]) -> bool {
    let has = |list: &[String]| list.iter().any(|w| tags.contains(&w.as_str()));
    if has(skipped) {
        return false;
    }
    if wanted.is_empty() {
        return !tags.contains(&"never");
    }
    has(wanted) || tags.contains(&"always")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_select_as_in_ansible() {
        let list = |s: &[&str]| s.iter().map(|t| t.to_string()).collect::<Vec<_>>();
        let none = list(&[]);
        assert!(selected(&["medulla_user"], &none, &none));
        assert!(!selected(&["never", "medulla_user"], &none, &none));
        assert!(selected(&["never", "debug"], &list(&["debug"]), &none));
        assert!(selected(&["medulla_user"], &list(&["medulla_user"]), &none));
        assert!(!selected(&["files", "tour"], &list(&["accounts"]), &none));
        assert!(selected(&["always", "tour"], &list(&["accounts"]), &none));
        assert!(!selected(&["always", "tour"], &none, &list(&["always"])));
        assert!(!selected(&["files", "tour"], &none, &list(&["tour"])));
    }
}
