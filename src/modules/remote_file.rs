//! A file on the host whose content relayctl manages (copy, template, sudoers, authorized_key,
//! ini_file): the probe that reads it, the plan that compares it, and the write that never
//! leaves it half-done (DESIGN.md, rule 3).
//!
//! The write: the new content goes over stdin into a temporary file beside the target (same
//! filesystem, so the rename is atomic), which gets its owner and mode, is validated when the
//! task says how (`visudo -cf %s`), then the old file is copied to a backup when asked, and the
//! temporary file is renamed over the target. A failed validation or any failed step removes the
//! temporary file and leaves the target as it was; a step whose stdin did not arrive whole (the
//! controller went away) never starts.

use super::shell::{FileKind, FileStat, quote};
use super::{FileDiff, Findings, Plan, ProbeError, Provides, Resource, Step};

/// The state a managed file must be in. Attributes left `None` keep the current file's (or, for
/// a new file, root:root 0644).
#[derive(Clone, Debug)]
pub struct ManagedFile {
    pub path: String,
    pub content: Vec<u8>,
    pub owner: Option<String>,
    pub group: Option<String>,
    pub mode: Option<u32>,
    /// A command run on the temporary file before it replaces the target; `%s` is its path.
    pub validate: Option<String>,
    pub backup: bool,
}

/// Exit status of a write whose validation refused the new content.
const VALIDATION_FAILED: i32 = 3;

impl ManagedFile {
    /// The directory holding the file.
    pub fn dir(&self) -> &str {
        parent(&self.path)
    }

    /// Prints, under `key`, the file's status and content, whether its directory exists, and
    /// whether the owner and group named exist.
    pub fn probe(&self, key: &str) -> String {
        let mut script = format!(
            "fstat {key} {path}\nif [ -d {dir} ]; then f {key}.dir yes; else f {key}.dir no; fi\n",
            path = quote(&self.path),
            dir = quote(self.dir()),
        );
        script.push_str(&probe_owner_group(
            key,
            self.owner.as_deref(),
            self.group.as_deref(),
        ));
        script
    }

    /// Compares what the probe found under `key` with the wanted state.
    pub fn plan(&self, found: &Findings, key: &str) -> Result<Plan, ProbeError> {
        check_owner_group(found, key, self.owner.as_deref(), self.group.as_deref())?;
        let stat = FileStat::from_findings(found, key)?;
        if stat == FileStat::Absent && found.get(&format!("{key}.dir")) != Some("yes") {
            return Err(ProbeError::Missing(
                Resource::Path(self.dir().to_string()),
                format!("the directory {} does not exist", self.dir()),
            ));
        }
        self.plan_for(
            &stat,
            found.content(key),
            found.get(&format!("{key}.sha256")),
        )
    }

    /// The plan for a file found as `stat`, with its content (up to 1 MiB) or its SHA-256.
    pub fn plan_for(
        &self,
        stat: &FileStat,
        before: Option<&[u8]>,
        sha256: Option<&str>,
    ) -> Result<Plan, ProbeError> {
        let FileStat::Present {
            kind,
            owner,
            group,
            mode,
            ..
        } = stat
        else {
            return Ok(self.plan_write(None, None));
        };
        if *kind != FileKind::Regular {
            return Err(ProbeError::Failed(format!(
                "{} is {}, not a regular file; relayctl will not replace it",
                self.path,
                kind.describe()
            )));
        }
        let current = Attributes {
            owner: owner.clone(),
            group: group.clone(),
            mode: *mode,
        };
        let same_content = match before {
            Some(bytes) => bytes == self.content.as_slice(),
            // Over 1 MiB, the probe sent a digest instead of the content.
            None => sha256 == Some(sha256_hex(&self.content).as_str()),
        };
        if !same_content {
            return Ok(self.plan_write(Some(&current), before));
        }
        let wanted = self.attributes(Some(&current));
        Ok(attribute_plan(&self.path, &current, &wanted))
    }

    fn attributes(&self, current: Option<&Attributes>) -> Attributes {
        Attributes {
            owner: self
                .owner
                .clone()
                .or_else(|| current.map(|c| c.owner.clone()))
                .unwrap_or_else(|| "root".into()),
            group: self
                .group
                .clone()
                .or_else(|| current.map(|c| c.group.clone()))
                .unwrap_or_else(|| "root".into()),
            mode: self.mode.or(current.map(|c| c.mode)).unwrap_or(0o644),
        }
    }

    /// Replace (or create) the file with the wanted content.
    fn plan_write(&self, current: Option<&Attributes>, before: Option<&[u8]>) -> Plan {
        let wanted = self.attributes(current);
        let mut changes = Vec::new();
        match current {
            None => changes.push(format!(
                "create {} ({} {:04o})",
                self.path,
                wanted.owner_group(),
                wanted.mode
            )),
            Some(current) => {
                changes.push(format!("rewrite the content of {}", self.path));
                changes.extend(attribute_changes(current, &wanted));
                if self.backup {
                    changes.push("keep a backup of the replaced file".into());
                }
            }
        }
        Plan {
            changes,
            diff: Some(FileDiff {
                path: self.path.clone(),
                before: match (current, before) {
                    (None, _) => None,
                    (Some(_), Some(bytes)) => Some(text_for_diff(bytes)),
                    (Some(_), None) => Some("(more than 1 MiB, not shown)\n".into()),
                },
                after: Some(text_for_diff(&self.content)),
            }),
            step: Some(Step {
                script: self.write_script(&wanted),
                stdin: self.content.clone(),
                ..Step::default()
            }),
            provides: vec![Provides::Resource(Resource::Path(self.path.clone()))],
        }
    }

    /// The atomic write (see the module's doc). Prints `backup=PATH` when it kept one.
    fn write_script(&self, wanted: &Attributes) -> String {
        let size = self.content.len();
        let target = quote(&self.path);
        // The temporary file is named by this shell's PID and created with O_EXCL (`set -C`), so
        // nothing planted in a directory another user can write (~medulla/.ssh) is followed or
        // reused; mode 0600 until it is complete. Its content is complete: the privileged shell
        // runs a step only once its whole stdin has arrived (ssh::session's SHELL_LOOP).
        let mut script = format!(
            "d={target}\n\
             t={temp}.$$\n\
             trap 'rm -f \"$t\"' EXIT HUP INT TERM PIPE\n\
             ( set -C; umask 077; exec head -c {size} >\"$t\" ) || exit 1\n\
             chown {owner_group} \"$t\" && chmod {mode:04o} \"$t\" || exit 1\n",
            temp = quote(&format!("{}/.relayctl", self.dir())),
            owner_group = quote(&wanted.owner_group()),
            mode = wanted.mode,
        );
        if let Some(validate) = &self.validate {
            let command = validate.replace("%s", "\"$t\"");
            script.push_str(&format!(
                "if ! {command} >&2; then echo {message} >&2; exit {VALIDATION_FAILED}; fi\n",
                message = quote(&format!(
                    "validation refused the new {}: {validate}; the file is unchanged",
                    self.path
                )),
            ));
        }
        if self.backup {
            script.push_str(
                "if [ -e \"$d\" ]; then b=\"$d.$(date -u +%Y%m%dT%H%M%S.%NZ).relayctl~\"; \
                 cp -p -- \"$d\" \"$b\" || exit 1; f backup \"$b\"; fi\n",
            );
        }
        script.push_str("mv -f -- \"$t\" \"$d\" || exit 1\ntrap - EXIT HUP INT TERM PIPE\n");
        script
    }
}

/// Owner, group and mode of a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attributes {
    pub owner: String,
    pub group: String,
    pub mode: u32,
}

impl Attributes {
    fn owner_group(&self) -> String {
        format!("{}:{}", self.owner, self.group)
    }
}

/// The changes from `current` to `wanted` attributes, in words.
pub fn attribute_changes(current: &Attributes, wanted: &Attributes) -> Vec<String> {
    let mut changes = Vec::new();
    if current.owner != wanted.owner || current.group != wanted.group {
        changes.push(format!(
            "owner {} -> {}",
            current.owner_group(),
            wanted.owner_group()
        ));
    }
    if current.mode != wanted.mode {
        changes.push(format!("mode {:04o} -> {:04o}", current.mode, wanted.mode));
    }
    changes
}

/// A plan that only changes owner, group and mode (or nothing).
pub fn attribute_plan(path: &str, current: &Attributes, wanted: &Attributes) -> Plan {
    let changes: Vec<String> = attribute_changes(current, wanted)
        .into_iter()
        .map(|c| format!("{path}: {c}"))
        .collect();
    if changes.is_empty() {
        return Plan::unchanged();
    }
    Plan {
        changes,
        step: Some(Step {
            script: format!(
                "chown {} -- {path_q} && chmod {:04o} -- {path_q} || exit 1\n",
                quote(&wanted.owner_group()),
                wanted.mode,
                path_q = quote(path),
            ),
            ..Step::default()
        }),
        ..Plan::default()
    }
}

/// The superuser and its group: on every Debian system (base-passwd's uid 0 and gid 0), so
/// never looked up. Most files the roles write are root's: two `getent` spawns saved per file.
const SUPERUSER: &str = "root";

/// The owner and group names that need looking up on the host (all but the superuser's).
fn to_look_up<'a>(
    owner: Option<&'a str>,
    group: Option<&'a str>,
) -> (Option<&'a str>, Option<&'a str>) {
    (
        owner.filter(|name| *name != SUPERUSER),
        group.filter(|name| *name != SUPERUSER),
    )
}

/// Prints `KEY.owner=yes|no` and `KEY.group=yes|no` for the names given.
pub fn probe_owner_group(key: &str, owner: Option<&str>, group: Option<&str>) -> String {
    let (owner, group) = to_look_up(owner, group);
    let mut script = String::new();
    if let Some(owner) = owner {
        script.push_str(&format!(
            "if getent passwd {} >/dev/null; then f {key}.owner yes; else f {key}.owner no; fi\n",
            quote(owner)
        ));
    }
    if let Some(group) = group {
        script.push_str(&format!(
            "if getent group {} >/dev/null; then f {key}.group yes; else f {key}.group no; fi\n",
            quote(group)
        ));
    }
    script
}

/// A missing owner or group is a missing prerequisite (an earlier task may create it).
pub fn check_owner_group(
    found: &Findings,
    key: &str,
    owner: Option<&str>,
    group: Option<&str>,
) -> Result<(), ProbeError> {
    let (owner, group) = to_look_up(owner, group);
    if let Some(owner) = owner
        && found.require(&format!("{key}.owner"))? != "yes"
    {
        return Err(ProbeError::Missing(
            Resource::User(owner.to_string()),
            format!("the user {owner} does not exist"),
        ));
    }
    if let Some(group) = group
        && found.require(&format!("{key}.group"))? != "yes"
    {
        return Err(ProbeError::Missing(
            Resource::Group(group.to_string()),
            format!("the group {group} does not exist"),
        ));
    }
    Ok(())
}

/// The directory part of an absolute path (`/` for `/x`).
pub fn parent(path: &str) -> &str {
    match path.trim_end_matches('/').rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn text_for_diff(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_string(),
        Err(_) => format!("({} bytes of binary content, not shown)\n", bytes.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn managed(content: &str) -> ManagedFile {
        ManagedFile {
            path: "/etc/sudoers.d/medulla".into(),
            content: content.as_bytes().to_vec(),
            owner: Some("root".into()),
            group: Some("root".into()),
            mode: Some(0o440),
            validate: Some("visudo -cf %s".into()),
            backup: false,
        }
    }

    fn found(stat: &str, content: Option<&str>) -> Findings {
        let mut found = Findings::from_values(&[
            ("k", stat),
            ("k.dir", "yes"),
            ("k.owner", "yes"),
            ("k.group", "yes"),
        ]);
        if let Some(content) = content {
            found
                .contents
                .push(("k".into(), content.as_bytes().to_vec()));
        }
        found
    }

    #[test]
    fn an_identical_file_needs_nothing() {
        let plan = managed("x\n")
            .plan(&found("regular file|root|root|440|2", Some("x\n")), "k")
            .expect("plan");
        assert!(!plan.is_change());
        assert!(plan.step.is_none());
    }

    #[test]
    fn a_missing_file_is_created_through_a_validated_temporary_file() {
        let plan = managed("x\n")
            .plan(&found("absent", None), "k")
            .expect("plan");
        assert_eq!(
            plan.changes,
            ["create /etc/sudoers.d/medulla (root:root 0440)"]
        );
        let step = plan.step.expect("a step");
        assert_eq!(step.stdin, b"x\n");
        let validate = step
            .script
            .find("visudo -cf \"$t\"")
            .expect("validates the temp file");
        let rename = step.script.find("mv -f -- \"$t\" \"$d\"").expect("renames");
        assert!(validate < rename, "{}", step.script);
    }

    #[test]
    fn only_attributes_differ() {
        let plan = managed("x\n")
            .plan(&found("regular file|root|adm|644|2", Some("x\n")), "k")
            .expect("plan");
        assert_eq!(
            plan.changes,
            [
                "/etc/sudoers.d/medulla: owner root:adm -> root:root",
                "/etc/sudoers.d/medulla: mode 0644 -> 0440"
            ]
        );
    }

    #[test]
    fn a_missing_owner_or_directory_is_a_missing_prerequisite() {
        let mut probe = found("absent", None);
        probe.values[2].1 = "no".into();
        let owned_by_medulla = ManagedFile {
            owner: Some("medulla".into()),
            ..managed("x")
        };
        assert!(matches!(
            owned_by_medulla.plan(&probe, "k"),
            Err(ProbeError::Missing(Resource::User(u), _)) if u == "medulla"
        ));
        let mut probe = found("absent", None);
        probe.values[1].1 = "no".into();
        assert!(matches!(
            managed("x").plan(&probe, "k"),
            Err(ProbeError::Missing(Resource::Path(p), _)) if p == "/etc/sudoers.d"
        ));
    }

    #[test]
    fn the_superuser_and_its_group_are_not_looked_up() {
        assert_eq!(probe_owner_group("k", Some("root"), Some("root")), "");
        let probe = probe_owner_group("k", Some("medulla"), Some("root"));
        assert!(
            probe.contains("getent passwd 'medulla'") && !probe.contains("group"),
            "{probe}"
        );
        // No k.owner / k.group findings: root's need none.
        let found = Findings::from_values(&[("k", "absent"), ("k.dir", "yes")]);
        assert!(managed("x\n").plan(&found, "k").expect("plan").is_change());
    }

    #[test]
    fn parents() {
        assert_eq!(parent("/etc/sudoers.d/medulla"), "/etc/sudoers.d");
        assert_eq!(parent("/x"), "/");
    }
}
