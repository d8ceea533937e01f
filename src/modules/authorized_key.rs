//! `authorized_key`: public keys in a user's `~/.ssh/authorized_keys`, compared by key material
//! (algorithm and base64 blob), never by line text, so a different comment or options on the
//! same key is the same key. Additive by default (other keys stay); `exclusive: true` leaves only
//! the keys given. The `.ssh` directory is made 0700 and the file 0600, both owned by the user
//! (sshd's StrictModes refuses anything looser).

use super::remote_file::{Attributes, ManagedFile, attribute_plan};
use super::shell::{FileKind, FileStat, PasswdEntry, quote};
use super::{
    Action, Applied, ArgError, ArgKind, ArgSpec, BuildContext, Findings, ModuleDef, ModuleKind,
    Plan, ProbeError, Rendered, Resource, Step,
};
use crate::input::text;
use crate::modules::PRESENT_ABSENT;

pub static AUTHORIZED_KEY: ModuleDef = ModuleDef {
    name: "authorized_key",
    aliases: &[],
    args: &[
        ArgSpec::required("user", ArgKind::ManagedUser),
        ArgSpec::required("key", ArgKind::Str),
        ArgSpec::optional("state", ArgKind::Choice(PRESENT_ABSENT)),
        ArgSpec::optional("exclusive", ArgKind::Bool),
        ArgSpec::optional("manage_dir", ArgKind::Bool),
    ],
    free_form: None,
    kind: ModuleKind::Remote(build),
};

struct AuthorizedKey {
    user: String,
    /// The key lines as given.
    keys: Vec<String>,
    present: bool,
    exclusive: bool,
    manage_dir: bool,
}

fn build(args: &Rendered, _: &BuildContext) -> Result<Box<dyn Action>, ArgError> {
    Ok(Box::new(AuthorizedKey {
        user: args.word("user")?,
        keys: key_lines(&args.str("key")?)?,
        present: args.present()?,
        exclusive: args.bool_or("exclusive", false)?,
        manage_dir: args.bool_or("manage_dir", true)?,
    }))
}

/// The key lines of the `key` argument, one a line (blank lines and `#` comments left out).
fn key_lines(text: &str) -> Result<Vec<String>, ArgError> {
    let keys: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect();
    if keys.is_empty() {
        return Err(ArgError::new("key", "holds no public key"));
    }
    for key in &keys {
        // A second line of defence behind the inventory's own check of the support key: a
        // control character would split the line for some reader, or reach a terminal.
        if let Some(c) = text::forbidden_in_line(key) {
            return Err(ArgError::new(
                "key",
                format!(
                    "{key:?} holds {}: a key line may not carry a control character",
                    text::describe(c)
                ),
            ));
        }
        if material(key).is_none() {
            return Err(ArgError::new(
                "key",
                format!("{key:?} is not an OpenSSH public key line"),
            ));
        }
    }
    Ok(keys)
}

/// The key material of an authorized_keys line: its algorithm and base64 blob, after any
/// options (`from="…",no-pty ssh-ed25519 AAAA… comment`).
pub fn material(line: &str) -> Option<(&str, &str)> {
    let words: Vec<&str> = line.split_whitespace().collect();
    words.windows(2).find_map(|pair| {
        let (algorithm, blob) = (pair[0], pair[1]);
        let is_algorithm = ["ssh-", "ecdsa-sha2-", "sk-"]
            .iter()
            .any(|p| algorithm.starts_with(p));
        let is_blob = blob.starts_with("AAAA")
            && blob
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b));
        (is_algorithm && is_blob).then_some((algorithm, blob))
    })
}

impl AuthorizedKey {
    /// The file's new content from its current one.
    fn content(&self, current: &str) -> String {
        let given: Vec<(&str, &str)> = self.keys.iter().filter_map(|k| material(k)).collect();
        let mut lines: Vec<String> = if self.exclusive && self.present {
            Vec::new()
        } else {
            current
                .lines()
                .filter(|line| self.present || material(line).is_none_or(|m| !given.contains(&m)))
                .map(str::to_string)
                .collect()
        };
        if self.present {
            for key in &self.keys {
                let wanted = material(key);
                if !lines.iter().any(|l| material(l) == wanted) {
                    lines.push(key.clone());
                }
            }
        }
        let mut text = lines.join("\n");
        if !text.is_empty() {
            text.push('\n');
        }
        text
    }
}

impl Action for AuthorizedKey {
    fn probe(&self) -> Option<String> {
        let user = quote(&self.user);
        // The home is the sixth field of the passwd line (shell builtins, no spawn).
        Some(format!(
            "if _p=$(getent passwd {user}); then\n\
             \x20 f u \"$_p\"\n\
             \x20 _h=${{_p#*:*:*:*:*:}}; _h=${{_h%:*}}\n\
             \x20 fstat d \"$_h/.ssh\"\n\
             \x20 fstat k \"$_h/.ssh/authorized_keys\"\n\
             \x20 f g \"$(id -gn {user})\"\n\
             else f u absent; fi\n"
        ))
    }

    fn plan(&self, found: &Findings) -> Result<Plan, ProbeError> {
        let Some(entry) = PasswdEntry::parse(found.require("u")?)? else {
            return Err(ProbeError::Missing(
                Resource::User(self.user.clone()),
                format!("the user {} does not exist", self.user),
            ));
        };
        let group = found.require("g")?.to_string();
        let dir = format!("{}/.ssh", entry.home.trim_end_matches('/'));
        let path = format!("{dir}/authorized_keys");
        let key_stat = FileStat::from_findings(found, "k")?;
        let before = match &key_stat {
            FileStat::Absent => String::new(),
            FileStat::Present { .. } => {
                let bytes = found
                    .content("k")
                    .ok_or_else(|| ProbeError::Failed(format!("{path} is larger than 1 MiB")))?;
                String::from_utf8_lossy(bytes).into_owned()
            }
        };
        if !self.present && (key_stat == FileStat::Absent || self.content(&before) == before) {
            return Ok(Plan::unchanged());
        }
        let owned = Attributes {
            owner: self.user.clone(),
            group: group.clone(),
            mode: 0o700,
        };
        let dir_plan = match FileStat::from_findings(found, "d")? {
            FileStat::Absent if self.manage_dir => {
                let q = quote(&dir);
                Plan {
                    changes: vec![format!(
                        "create directory {dir} ({}:{group} 0700)",
                        self.user
                    )],
                    step: Some(Step {
                        script: format!(
                            "mkdir -m 0700 -- {q} && chown {} -- {q} || exit 1\n",
                            quote(&format!("{}:{group}", self.user))
                        ),
                        ..Step::default()
                    }),
                    ..Plan::default()
                }
            }
            FileStat::Absent => {
                return Err(ProbeError::Missing(
                    Resource::Path(dir.clone()),
                    format!("{dir} does not exist (manage_dir: false)"),
                ));
            }
            FileStat::Present {
                kind: FileKind::Directory,
                owner,
                group: current_group,
                mode,
                ..
            } if self.manage_dir => attribute_plan(
                &dir,
                &Attributes {
                    owner,
                    group: current_group,
                    mode,
                },
                &owned,
            ),
            FileStat::Present { kind, .. } if kind != FileKind::Directory => {
                return Err(ProbeError::Failed(format!(
                    "{dir} is {}, not a directory",
                    kind.describe()
                )));
            }
            FileStat::Present { .. } => Plan::unchanged(),
        };
        let file = ManagedFile {
            path,
            content: self.content(&before).into_bytes(),
            owner: Some(self.user.clone()),
            group: Some(group),
            mode: Some(0o600),
            validate: None,
            backup: false,
        };
        let file_plan = file.plan_for(&key_stat, found.content("k"), None)?;
        Ok(dir_plan.and(file_plan))
    }

    fn applied(&self, output: &Findings) -> Result<Applied, String> {
        super::content::applied_write(output)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB7xZ support@siveo";
    const OTHER: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIC9yQ admin@site";

    fn action(exclusive: bool, present: bool) -> AuthorizedKey {
        AuthorizedKey {
            user: "medulla".into(),
            keys: vec![KEY.into()],
            present,
            exclusive,
            manage_dir: true,
        }
    }

    #[test]
    fn keys_compare_by_material_not_by_line() {
        assert_eq!(
            material(&format!("from=\"10.0.0.0/8\",no-pty {KEY} other comment")),
            material(KEY)
        );
        assert_ne!(material(OTHER), material(KEY));
        assert_eq!(material("not a key"), None);
    }

    #[test]
    fn a_key_line_with_a_control_character_is_refused() {
        assert_eq!(
            key_lines(&format!("{KEY}\n\n# old\r\n{OTHER}\r\n")),
            Ok(vec![KEY.to_string(), OTHER.to_string()])
        );
        let forged = format!("{KEY}\rcommand=\"touch /tmp/pwned\" {OTHER}");
        assert_eq!(
            key_lines(&forged),
            Err(ArgError::new(
                "key",
                format!(
                    "{forged:?} holds U+000D (carriage return): a key line may not carry a control \
                     character"
                )
            ))
        );
    }

    #[test]
    fn additive_keeps_other_keys_and_does_not_duplicate() {
        let current = format!(
            "{OTHER}\nrestrict {} renamed\n",
            KEY.rsplit_once(' ').unwrap().0
        );
        assert_eq!(action(false, true).content(&current), current);
        assert_eq!(
            action(false, true).content(&format!("{OTHER}\n")),
            format!("{OTHER}\n{KEY}\n")
        );
    }

    #[test]
    fn exclusive_leaves_only_the_given_keys() {
        assert_eq!(
            action(true, true).content(&format!("{OTHER}\n{KEY}\n")),
            format!("{KEY}\n")
        );
    }

    #[test]
    fn absent_removes_the_key_whatever_its_comment() {
        let current = format!("{OTHER}\n{} old-comment\n", KEY.rsplit_once(' ').unwrap().0);
        assert_eq!(action(false, false).content(&current), format!("{OTHER}\n"));
    }

    fn found(dir: &str, key: Option<&str>) -> Findings {
        let mut found = Findings::from_values(&[
            ("u", "medulla:x:1001:1001::/home/medulla:/bin/bash"),
            ("d", dir),
            ("g", "medulla"),
        ]);
        match key {
            None => found.values.push(("k".into(), "absent".into())),
            Some(text) => {
                found.values.push((
                    "k".into(),
                    format!("regular file|medulla|medulla|600|{}", text.len()),
                ));
                found.contents.push(("k".into(), text.as_bytes().to_vec()));
            }
        }
        found
    }

    #[test]
    fn a_fresh_home_gets_the_directory_and_the_file() {
        let plan = action(false, true)
            .plan(&found("absent", None))
            .expect("plan");
        assert_eq!(
            plan.changes,
            [
                "create directory /home/medulla/.ssh (medulla:medulla 0700)",
                "create /home/medulla/.ssh/authorized_keys (medulla:medulla 0600)"
            ]
        );
    }

    #[test]
    fn an_installed_key_needs_nothing() {
        let plan = action(false, true)
            .plan(&found(
                "directory|medulla|medulla|700|4096",
                Some(&format!("{KEY}\n")),
            ))
            .expect("plan");
        assert!(!plan.is_change(), "{:?}", plan.changes);
    }

    #[test]
    fn a_missing_user_is_a_missing_prerequisite() {
        let mut probe = found("absent", None);
        probe.values[0].1 = "absent".into();
        assert!(matches!(
            action(false, true).plan(&probe),
            Err(ProbeError::Missing(Resource::User(u), _)) if u == "medulla"
        ));
    }
}
