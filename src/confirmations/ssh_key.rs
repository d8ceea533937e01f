//! Item 3 of PROC step 5, "the SSH key has been added", as SIVEO will use it: SIVEO's key (by
//! fingerprint) in a file sshd reads for the account (its AuthorizedKeysFile, not a fixed
//! ~/.ssh/authorized_keys), that file readable by the account and safe by StrictModes; sshd
//! listening on `relay_ssh_port` where the FQDN leads; and sshd's effective configuration
//! letting the account in with a key from every address the Medulla server connects from. Each
//! problem names what refuses SIVEO.

use super::access::{AccessFacts, KeyFile};
use super::item::{Confirmation, ConfirmationStatus};
use super::sshd::{self, SshdConfig};
use crate::facts::Facts;
use crate::inventory::RelaySettings;

const TITLE: &str = "SSH key added";

/// `SHA256:…` of an authorized_keys or public key line.
pub fn key_fingerprint(line: &str) -> Option<String> {
    let (algorithm, blob) = crate::modules::key_material(line)?;
    let key = russh::keys::PublicKey::from_openssh(&format!("{algorithm} {blob}")).ok()?;
    Some(crate::ssh::host_keys::fingerprint(&key))
}

/// Item 3 for `user` on the relay of `relay` and `facts`, from what the access probe found.
pub fn confirm(
    relay: &RelaySettings,
    user: &str,
    facts: &Facts,
    access: &Result<AccessFacts, String>,
) -> Confirmation {
    let not_confirmed = |summary: String, details: Vec<String>| {
        Confirmation::new(
            3,
            "ssh_key",
            TITLE,
            ConfirmationStatus::NotConfirmed,
            summary,
            details,
        )
    };
    let access = match access {
        Err(e) => return not_confirmed(format!("cannot read the relay: {e}"), Vec::new()),
        Ok(access) => access,
    };
    let mut details: Vec<String> = access
        .key_files
        .iter()
        .flat_map(|file| {
            file.lines
                .iter()
                .filter_map(|line| key_fingerprint(line))
                .map(move |f| format!("installed for {user}: {f} ({})", file.path))
        })
        .collect();
    let Some(expected) = relay
        .support_public_key
        .as_ref()
        .and_then(|k| key_fingerprint(&k.public_key))
    else {
        return not_confirmed(
            "no medulla_support_public_key in the inventory to compare with".into(),
            details,
        );
    };
    details.insert(0, format!("provided by SIVEO: {expected}"));
    if !access.user_exists {
        return not_confirmed(format!("no user {user} on the relay"), details);
    }

    let configs: Vec<&SshdConfig> = access
        .sshd
        .iter()
        .filter_map(|view| view.config.as_ref().ok())
        .collect();
    let holding: Vec<&KeyFile> = access
        .key_files
        .iter()
        .filter(|file| {
            file.lines
                .iter()
                .any(|line| key_fingerprint(line).as_ref() == Some(&expected))
        })
        .collect();
    let mut problems = Vec::new();
    if holding.is_empty() {
        let read: Vec<String> = configs
            .iter()
            .flat_map(|c| c.authorized_keys_files.iter().cloned())
            .collect();
        problems.push(format!(
            "{expected} is in none of the files sshd reads for {user} (AuthorizedKeysFile {})",
            dedup(read).join(" ")
        ));
    }
    for file in &holding {
        if access.unreadable.contains(&file.path) {
            problems.push(format!(
                "{} cannot be read by {user}, as whom sshd reads it",
                file.path
            ));
        }
        if configs.iter().any(|c| c.strict_modes) {
            problems.extend(strict_modes(file, access));
        }
    }
    if let Some(problem) = sshd::listening_problem(facts, relay.firewall.ssh_port, &configs) {
        problems.push(problem);
    }
    let groups = &access.groups;
    for view in &access.sshd {
        let from = format!("from {}", view.source.addr);
        match &view.config {
            Err(e) => problems.push(format!("sshd -T for {user} {from}: {e}")),
            Ok(config) => problems.extend(
                config
                    .refusals(user, groups, &view.source.host, &view.source.addr)
                    .into_iter()
                    .map(|refusal| format!("sshd refuses {user} {from}: {refusal}")),
            ),
        }
    }
    if access.sshd.is_empty() {
        problems.push("no address of the Medulla server to check sshd's configuration for".into());
    }

    if !problems.is_empty() {
        return not_confirmed(dedup(problems).join("; "), details);
    }
    let files: Vec<&str> = holding.iter().map(|f| f.path.as_str()).collect();
    let sources: Vec<&str> = access
        .sshd
        .iter()
        .map(|view| view.source.addr.as_str())
        .collect();
    Confirmation::new(
        3,
        "ssh_key",
        TITLE,
        ConfirmationStatus::Confirmed,
        format!(
            "{expected} is in {}, which sshd reads for {user}; sshd on port {} lets {user} in \
             with it from {}",
            files.join(", "),
            relay.firewall.ssh_port,
            sources.join(", ")
        ),
        details,
    )
}

/// StrictModes: sshd refuses a key file, or a directory above it up to the home, that is not
/// owned by root or the account, or that group or others may write.
fn strict_modes(file: &KeyFile, access: &AccessFacts) -> Vec<String> {
    access
        .modes
        .iter()
        .filter_map(|line| {
            let mut words = line.splitn(3, ' ');
            let (owner, mode, path) = (words.next()?, words.next()?, words.next()?);
            // The file itself, or a directory above it.
            let above = file
                .path
                .strip_prefix(path)
                .is_some_and(|rest| path == "/" || rest.starts_with('/'));
            if file.path != path && !above {
                return None;
            }
            let bits = u32::from_str_radix(mode, 8).ok()?;
            if bits & 0o022 != 0 {
                Some(format!(
                    "StrictModes yes: {path} is mode {mode}, writable by group or others, so sshd \
                     ignores {}",
                    file.path
                ))
            } else if owner != "0" && owner != access.uid {
                Some(format!(
                    "StrictModes yes: {path} belongs to uid {owner}, neither root nor the \
                     account, so sshd ignores {}",
                    file.path
                ))
            } else {
                None
            }
        })
        .collect()
}

fn dedup(items: Vec<String>) -> Vec<String> {
    let mut kept: Vec<String> = Vec::new();
    for item in items {
        if !kept.contains(&item) {
            kept.push(item);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::confirmations::access::{Source, SshdView};
    use crate::testing;

    const FINGERPRINT: &str = "SHA256:";

    /// The medulla account as the role leaves it, sshd's Debian defaults from one address.
    fn access() -> AccessFacts {
        AccessFacts {
            user_exists: true,
            home: "/home/medulla".into(),
            uid: "1001".into(),
            groups: vec!["medulla".into()],
            password: "set".into(),
            sudo: Ok(()),
            sshd: vec![SshdView {
                source: Source {
                    host: "203.0.113.7".into(),
                    addr: "203.0.113.7".into(),
                },
                config: Ok(SshdConfig::parse(
                    "port 22\nauthorizedkeysfile .ssh/authorized_keys .ssh/authorized_keys2\n\
                     authenticationmethods any\npubkeyauthentication yes\nstrictmodes yes"
                        .lines(),
                )),
            }],
            key_files: vec![KeyFile {
                pattern: ".ssh/authorized_keys".into(),
                path: "/home/medulla/.ssh/authorized_keys".into(),
                lines: vec![testing::SUPPORT_KEY.into()],
            }],
            modes: vec![
                "1001 600 /home/medulla/.ssh/authorized_keys".into(),
                "1001 700 /home/medulla/.ssh".into(),
                "1001 755 /home/medulla".into(),
            ],
            unreadable: Vec::new(),
            ..AccessFacts::nothing_found()
        }
    }

    fn item(access: AccessFacts) -> Confirmation {
        confirm(&testing::relay(), "medulla", &testing::facts(), &Ok(access))
    }

    #[test]
    fn the_key_where_sshd_reads_it_and_sshd_letting_medulla_in_is_confirmed() {
        let confirmed = item(access());
        assert_eq!(
            confirmed.status,
            ConfirmationStatus::Confirmed,
            "{confirmed:?}"
        );
        assert!(
            confirmed.summary.starts_with(FINGERPRINT),
            "{}",
            confirmed.summary
        );
        assert!(
            confirmed.summary.ends_with(
                "is in /home/medulla/.ssh/authorized_keys, which sshd reads for medulla; sshd on \
                 port 22 lets medulla in with it from 203.0.113.7"
            ),
            "{}",
            confirmed.summary
        );
    }

    #[test]
    fn a_key_in_a_file_sshd_does_not_read_is_not_confirmed() {
        let mut elsewhere = access();
        elsewhere.key_files[0].lines = vec!["# nothing here".into()];
        let found = item(elsewhere);
        assert_eq!(found.status, ConfirmationStatus::NotConfirmed);
        assert!(
            found.summary.ends_with(
                "is in none of the files sshd reads for medulla (AuthorizedKeysFile \
                 .ssh/authorized_keys .ssh/authorized_keys2)"
            ),
            "{}",
            found.summary
        );
    }

    #[test]
    fn strict_modes_and_an_unreadable_file_are_named() {
        let mut loose = access();
        loose.modes[2] = "1001 775 /home/medulla".into();
        assert_eq!(
            item(loose).summary,
            "StrictModes yes: /home/medulla is mode 775, writable by group or others, so sshd \
             ignores /home/medulla/.ssh/authorized_keys"
        );
        let mut foreign = access();
        foreign.modes[0] = "1002 600 /home/medulla/.ssh/authorized_keys".into();
        assert!(item(foreign).summary.contains("belongs to uid 1002"));
        let mut unreadable = access();
        unreadable.unreadable = vec!["/home/medulla/.ssh/authorized_keys".into()];
        assert_eq!(
            item(unreadable).summary,
            "/home/medulla/.ssh/authorized_keys cannot be read by medulla, as whom sshd reads it"
        );
    }

    #[test]
    fn what_sshd_refuses_from_where_is_named() {
        let mut refused = access();
        refused.sshd[0].config = Ok(SshdConfig::parse(
            "port 22\nauthorizedkeysfile .ssh/authorized_keys\nallowusers admin".lines(),
        ));
        assert_eq!(
            item(refused).summary,
            "sshd refuses medulla from 203.0.113.7: AllowUsers admin: medulla from 203.0.113.7 is \
             not among them"
        );
        let mut broken = access();
        broken.sshd[0].config = Err("/etc/ssh/sshd_config line 3: Bad option".into());
        assert!(
            item(broken)
                .summary
                .contains("sshd -T for medulla from 203.0.113.7: /etc/ssh/sshd_config line 3")
        );
    }
}
