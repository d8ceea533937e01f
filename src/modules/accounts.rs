//! Account names: what Debian accepts as a user or group name, and which accounts relayctl must
//! never create, change or grant sudo to. A name reaches `useradd`, `chpasswd`, a sudoers rule
//! and a root probe: `ALL` in a sudoers rule is every user of the host, `root` would get the
//! medulla password, and a system account is another package's.

/// The longest name `useradd` accepts on Debian 12 (shadow's `LOGIN_NAME_MAX` check).
const MAX_LEN: usize = 32;

/// Accounts that are not relayctl's to manage, whatever the host says.
/// Sources: Debian's base-passwd (`/usr/share/base-passwd/passwd.master`, the static system
/// accounts every Debian 12 has), the accounts of the packages a relay runs (systemd, OpenSSH,
/// D-Bus, apt), and those the Medulla packages create (MEDULLA_FACTS.md "Access": `reversessh`,
/// `drivers` with uid 215, `syncthing`, `syncthing-depl`).
pub const RESERVED: &[&str] = &[
    // base-passwd
    "root",
    "daemon",
    "bin",
    "sys",
    "sync",
    "games",
    "man",
    "lp",
    "mail",
    "news",
    "uucp",
    "proxy",
    "www-data",
    "backup",
    "list",
    "irc",
    "gnats",
    "nobody",
    // a Debian 12 relay's packages
    "_apt",
    "messagebus",
    "sshd",
    "systemd-network",
    "systemd-resolve",
    "systemd-timesync",
    "systemd-coredump",
    "polkitd",
    "_chrony",
    "ntp",
    "ntpsec",
    "statd",
    "_rpc",
    // the Medulla packages
    "reversessh",
    "drivers",
    "syncthing",
    "syncthing-depl",
];

/// Checks `name` against Debian's rule for user and group names (useradd's default
/// `NAME_REGEX`): a lower-case letter or `_`, then lower-case letters, digits, `_` or `-`, at
/// most 32 characters, and an optional final `$` (machine accounts).
pub fn check_name(name: &str) -> Result<(), String> {
    let body = name.strip_suffix('$').unwrap_or(name);
    let mut chars = body.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_');
    let rest_ok =
        chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if !first_ok || !rest_ok || name.len() > MAX_LEN {
        return Err(format!(
            "{name:?} is not an account name: Debian's rule is a lower-case letter or _, then \
             lower-case letters, digits, _ or -, at most {MAX_LEN} characters"
        ));
    }
    Ok(())
}

/// Checks an account that relayctl creates, gives a password and grants sudo to: a name by
/// [`check_name`], and not `ALL`, `root` or another package's account ([`RESERVED`]).
pub fn check_managed_user(name: &str) -> Result<(), String> {
    if name == "ALL" {
        return Err(
            "ALL is not an account: in a sudoers rule it stands for every user of the host"
                .to_string(),
        );
    }
    check_name(name)?;
    if RESERVED.contains(&name) {
        return Err(format!(
            "{name} is a system account (or the Medulla packages'): relayctl creates and grants \
             sudo to an account of its own, never to {name}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debians_rule_for_names() {
        for good in ["medulla", "_svc", "relay-admin_2", "host01$"] {
            assert_eq!(check_name(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "Medulla",
            "1st",
            "-x",
            "a b",
            "a;b",
            "x$y",
            "a\rb",
            "é",
            &"a".repeat(33),
        ] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn all_root_and_system_accounts_are_never_managed() {
        assert_eq!(check_managed_user("medulla"), Ok(()));
        for name in [
            "ALL",
            "root",
            "daemon",
            "www-data",
            "sshd",
            "drivers",
            "reversessh",
        ] {
            assert!(check_managed_user(name).is_err(), "{name}");
        }
        assert_eq!(
            check_managed_user("ALL").unwrap_err(),
            "ALL is not an account: in a sudoers rule it stands for every user of the host"
        );
    }
}
