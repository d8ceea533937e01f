//! The names of hosts and groups. A name becomes a path (`host_vars/NAME`, `group_vars/NAME.yml`),
//! a term of `--limit` patterns and text on the operator's terminal, so a name that would lead
//! out of its vars directory, split a pattern or steer the terminal is refused, with why.
//! Ansible's own rule is looser (it warns about a few characters and refuses none); relayctl
//! refuses only what is dangerous or ambiguous.

use crate::input::text;

/// What a name names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Entity {
    Host,
    Group,
}

impl Entity {
    fn what(self) -> &'static str {
        match self {
            Entity::Host => "host",
            Entity::Group => "group",
        }
    }

    /// The directory beside the inventory that holds its vars files.
    fn vars_dir(self) -> &'static str {
        match self {
            Entity::Host => "host_vars",
            Entity::Group => "group_vars",
        }
    }

    /// Characters that split or widen a `--limit` pattern, or that quote. A host key's `:`
    /// and `[ ]` are its port and ranges, read before its names are.
    fn refused(self) -> &'static str {
        match self {
            Entity::Host => ",!&*?~@\\\"'",
            Entity::Group => ",:!&*?[]~@\\\"'",
        }
    }
}

/// Whether `name` may name a host or a group; the error is a message for the operator.
pub(crate) fn check(name: &str, entity: Entity) -> Result<(), String> {
    let (what, dir) = (entity.what(), entity.vars_dir());
    if name.is_empty() {
        return Err(format!("a {what} needs a name"));
    }
    let unusable = format!("{name:?} is not a usable {what} name");
    if let Some(c) = text::forbidden_in_line(name) {
        return Err(format!(
            "{unusable}: it holds {}, a control character, which would reach the operator's \
             terminal as it is",
            text::describe(c)
        ));
    }
    match name {
        "." => return Err(format!("{unusable}: {dir}/. would be {dir}/ itself")),
        ".." => {
            return Err(format!(
                "{unusable}: {dir}/.. would be the inventory's own directory"
            ));
        }
        _ => {}
    }
    if name.contains('/') {
        return Err(format!(
            "{unusable}: '/' is not allowed ({dir}/{name} would be a path below another directory)"
        ));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| c.is_whitespace() || entity.refused().contains(*c))
    {
        return Err(format!(
            "{unusable}: {bad:?} is not allowed (names appear in --limit patterns and vars file names)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_would_be_paths_or_terminal_sequences_are_refused() {
        assert_eq!(check("relay-01.example.com", Entity::Host), Ok(()));
        assert_eq!(check("2001:db8::1", Entity::Host), Ok(()));
        assert_eq!(check("site_a", Entity::Group), Ok(()));
        assert_eq!(
            check("..", Entity::Group).unwrap_err(),
            "\"..\" is not a usable group name: group_vars/.. would be the inventory's own directory"
        );
        assert_eq!(
            check(".", Entity::Host).unwrap_err(),
            "\".\" is not a usable host name: host_vars/. would be host_vars/ itself"
        );
        assert_eq!(
            check("../etc", Entity::Host).unwrap_err(),
            "\"../etc\" is not a usable host name: '/' is not allowed (host_vars/../etc would be a \
             path below another directory)"
        );
        assert_eq!(
            check("relay\u{9b}31m", Entity::Group).unwrap_err(),
            "\"relay\\u{9b}31m\" is not a usable group name: it holds U+009B, a control \
             character, which would reach the operator's terminal as it is"
        );
        assert_eq!(
            check("relay\t1", Entity::Host).unwrap_err(),
            "\"relay\\t1\" is not a usable host name: it holds U+0009 (tab), a control \
             character, which would reach the operator's terminal as it is"
        );
        assert_eq!(
            check("relays:a", Entity::Group).unwrap_err(),
            "\"relays:a\" is not a usable group name: ':' is not allowed (names appear in --limit \
             patterns and vars file names)"
        );
        assert_eq!(
            check("", Entity::Group).unwrap_err(),
            "a group needs a name"
        );
    }
}
