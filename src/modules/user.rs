//! `user` and `group`: local accounts, with `useradd`/`usermod`/`userdel` and
//! `groupadd`/`groupmod`/`groupdel`, and the user's password from the controller
//! (`password/`).

use super::password::ManagedPassword;
use super::shell::{PasswdEntry, quote};
use super::{
    Action, ArgError, ArgKind, ArgSpec, BuildContext, Findings, ModuleDef, ModuleKind, Plan,
    ProbeError, Provides, Rendered, Resource, Step,
};
use crate::modules::PRESENT_ABSENT;
use crate::secret::Secret;

/// Debian's first uid for people's accounts (`UID_MIN` in /etc/login.defs, adduser's
/// `FIRST_UID`): below it, an account is the system's or a package's.
const FIRST_USER_UID: u32 = 1000;

pub static USER: ModuleDef = ModuleDef {
    name: "user",
    aliases: &[],
    args: &[
        ArgSpec::required("name", ArgKind::ManagedUser),
        ArgSpec::optional("state", ArgKind::Choice(PRESENT_ABSENT)),
        ArgSpec::optional("uid", ArgKind::Int),
        ArgSpec::optional("group", ArgKind::Account),
        ArgSpec::optional("groups", ArgKind::AccountList),
        ArgSpec::optional("append", ArgKind::Bool),
        ArgSpec::optional("home", ArgKind::AbsPath),
        ArgSpec::optional("shell", ArgKind::AbsPath),
        ArgSpec::optional("comment", ArgKind::Str),
        ArgSpec::optional("create_home", ArgKind::Bool),
        ArgSpec::optional("system", ArgKind::Bool),
        ArgSpec::optional("password_file", ArgKind::Str),
        ArgSpec::optional("password_env", ArgKind::Word),
        ArgSpec::optional("generate_password", ArgKind::Bool),
    ],
    free_form: None,
    kind: ModuleKind::Remote(build_user),
};

pub static GROUP: ModuleDef = ModuleDef {
    name: "group",
    aliases: &[],
    args: &[
        ArgSpec::required("name", ArgKind::Account),
        ArgSpec::optional("state", ArgKind::Choice(PRESENT_ABSENT)),
        ArgSpec::optional("gid", ArgKind::Int),
        ArgSpec::optional("system", ArgKind::Bool),
    ],
    free_form: None,
    kind: ModuleKind::Remote(build_group),
};

struct User {
    name: String,
    present: bool,
    uid: Option<i64>,
    group: Option<String>,
    groups: Option<Vec<String>>,
    append: bool,
    home: Option<String>,
    shell: Option<String>,
    comment: Option<String>,
    create_home: bool,
    system: bool,
    password: Option<ManagedPassword>,
}

fn build_user(args: &Rendered, ctx: &BuildContext) -> Result<Box<dyn Action>, ArgError> {
    let password_file = args
        .opt_str("password_file")?
        .map(|raw| (ctx.controller_path)(&raw).map_err(|e| ArgError::new("password_file", e)))
        .transpose()?;
    let password_env = args.opt_word("password_env")?;
    let password = match (password_file, &password_env) {
        (Some(file), env) => Some(ctx.run.passwords.resolve(
            env.as_deref(),
            file,
            args.bool_or("generate_password", true)?,
        )?),
        (None, Some(_)) => {
            return Err(ArgError::new(
                "password_env",
                "needs password_file too: the password is kept there when the variable is not set",
            ));
        }
        (None, None) => None,
    };
    Ok(Box::new(User {
        name: args.word("name")?,
        present: args.present()?,
        uid: args.opt_int("uid")?,
        group: args.opt_word("group")?,
        groups: args
            .has("groups")
            .then(|| args.word_list("groups"))
            .transpose()?,
        append: args.bool_or("append", false)?,
        home: args.opt_abs_path("home")?,
        shell: args.opt_abs_path("shell")?,
        comment: args.opt_str("comment")?,
        create_home: args.bool_or("create_home", true)?,
        system: args.bool_or("system", false)?,
        password,
    }))
}

impl User {
    /// Every group the account needs, for the existence checks.
    fn needed_groups(&self) -> Vec<&String> {
        self.group
            .iter()
            .chain(self.groups.iter().flatten())
            .collect()
    }
}

impl Action for User {
    fn probe(&self) -> Option<String> {
        let name = quote(&self.name);
        let mut script = format!("fpasswd u {name}\n");
        if self.present {
            if self.groups.is_some() {
                script.push_str(&format!(
                    "if _g=$(id -Gn {name} 2>/dev/null); then f u.groups \"$_g\"; fi\n"
                ));
            }
            if self.group.is_some() || self.groups.is_some() {
                script.push_str(&format!(
                    "if _g=$(id -gn {name} 2>/dev/null); then f u.group \"$_g\"; fi\n"
                ));
            }
            if self.password.is_some() {
                // The hash only, never a password: compared with relayctl's own record.
                script.push_str(&format!(
                    "if _s=$(getent shadow {name}); then f u.shadow \"$_s\"; fi\n"
                ));
            }
            for group in self.needed_groups() {
                script.push_str(&format!(
                    "if getent group {g} >/dev/null; then f {key} yes; else f {key} no; fi\n",
                    g = quote(group),
                    key = quote(&format!("g.{group}")),
                ));
            }
        }
        Some(script)
    }

    fn plan(&self, found: &Findings) -> Result<Plan, ProbeError> {
        let entry = PasswdEntry::parse(found.require("u")?)?;
        // The names relayctl knows to be system accounts are refused before any host is
        // contacted; this one is the host's own (a package's service account).
        if let Some(entry) = entry
            .as_ref()
            .filter(|e| !self.system && e.uid < FIRST_USER_UID)
        {
            return Err(ProbeError::Failed(format!(
                "{} is a system account on this host (uid {}): relayctl does not take it over",
                self.name, entry.uid
            )));
        }
        if !self.present {
            return Ok(match entry {
                None => Plan::unchanged(),
                Some(_) => Plan {
                    changes: vec![format!("remove user {} (its home is kept)", self.name)],
                    step: Some(Step {
                        script: format!("userdel -- {}\n", quote(&self.name)),
                        ..Step::default()
                    }),
                    ..Plan::default()
                },
            });
        }
        for group in self.needed_groups() {
            if found.require(&format!("g.{group}"))? != "yes" {
                return Err(ProbeError::Missing(
                    Resource::Group(group.clone()),
                    format!("the group {group} does not exist"),
                ));
            }
        }
        let mut changes = Vec::new();
        let mut script = String::new();
        let mut provides = Vec::new();
        match &entry {
            None => {
                let home = self
                    .home
                    .clone()
                    .unwrap_or_else(|| format!("/home/{}", self.name));
                changes.push(format!(
                    "create user {} (home {home}{})",
                    self.name,
                    self.shell
                        .as_deref()
                        .map(|s| format!(", shell {s}"))
                        .unwrap_or_default()
                ));
                script.push_str(&self.useradd());
                provides.push(Provides::Resource(Resource::User(self.name.clone())));
                if self.group.is_none() {
                    // Debian's useradd makes a group of the user's name (USERGROUPS_ENAB).
                    provides.push(Provides::Resource(Resource::Group(self.name.clone())));
                }
                if self.create_home {
                    provides.push(Provides::Resource(Resource::Path(home)));
                }
            }
            Some(entry) => {
                if let Some(home) = self.home.as_ref().filter(|h| **h != entry.home) {
                    return Err(ProbeError::Failed(self.other_home(entry, home)));
                }
                let (more, flags) = self.usermod(entry, found);
                changes.extend(more);
                if !flags.is_empty() {
                    script.push_str(&format!(
                        "usermod {} -- {}\n",
                        flags.join(" "),
                        quote(&self.name)
                    ));
                }
            }
        }
        let mut step = Step::default();
        if let Some(password) = &self.password {
            let current = found
                .get("u.shadow")
                .and_then(|line| line.split(':').nth(1))
                .unwrap_or_default();
            let unset = current.is_empty() || current.starts_with('!') || current.starts_with('*');
            if entry.is_none() || unset || !password.is_current(current) {
                changes.push(format!(
                    "set the password of {} ({})",
                    self.name,
                    password.describe()
                ));
                // chpasswd -e reads `user:hash` from stdin: the hash never appears in argv. The
                // hash itself is made when the step runs (Step::finish), not for a plan.
                script.push_str("chpasswd -e\n");
                step.prepare = Some(Box::new(password.to_set(&self.name)));
            }
        }
        if changes.is_empty() {
            return Ok(Plan::unchanged());
        }
        step.script = format!("set -e\n{script}");
        Ok(Plan {
            changes,
            step: Some(step),
            provides,
            ..Plan::default()
        })
    }

    fn secrets(&self) -> Vec<Secret> {
        self.password.iter().map(|p| p.secret.clone()).collect()
    }
}

impl User {
    fn useradd(&self) -> String {
        let mut flags = vec![if self.create_home { "-m" } else { "-M" }.to_string()];
        if let Some(home) = &self.home {
            flags.push(format!("-d {}", quote(home)));
        }
        if let Some(shell) = &self.shell {
            flags.push(format!("-s {}", quote(shell)));
        }
        if let Some(uid) = self.uid {
            flags.push(format!("-u {uid}"));
        }
        if let Some(group) = &self.group {
            flags.push(format!("-g {}", quote(group)));
        }
        if let Some(groups) = self.groups.as_ref().filter(|g| !g.is_empty()) {
            flags.push(format!("-G {}", quote(&groups.join(","))));
        }
        if let Some(comment) = &self.comment {
            flags.push(format!("-c {}", quote(comment)));
        }
        if self.system {
            flags.push("-r".into());
        }
        format!("useradd {} -- {}\n", flags.join(" "), quote(&self.name))
    }

    /// Why an existing account whose home is elsewhere is left as it is: `usermod -d` alone
    /// rewrites /etc/passwd and leaves the files behind (the account's keys, its shell's
    /// settings), and moving them (`-m`) under an account in use is no step to take unasked.
    /// Nothing of the account is changed, before or after.
    fn other_home(&self, entry: &PasswdEntry, wanted: &str) -> String {
        let name = &self.name;
        format!(
            "user {name} exists with home {current}, not {wanted}: relayctl does not move an \
             existing account's home (usermod -d alone would leave its files behind). Either move \
             it yourself (usermod -m -d {wanted} {name}, while no process of {name} runs), or keep \
             it by giving the task home: {current} (for the medulla_user role, medulla_user_home: \
             {current}; sshd reads the key from the home it has)",
            current = entry.home
        )
    }

    /// The differences from an existing account, in words and as usermod flags.
    fn usermod(&self, entry: &PasswdEntry, found: &Findings) -> (Vec<String>, Vec<String>) {
        let mut changes = Vec::new();
        let mut flags = Vec::new();
        let name = &self.name;
        if let Some(uid) = self.uid
            && i64::from(entry.uid) != uid
        {
            changes.push(format!("uid of {name}: {} -> {uid}", entry.uid));
            flags.push(format!("-u {uid}"));
        }
        if let Some(shell) = self.shell.as_ref().filter(|s| **s != entry.shell) {
            changes.push(format!("shell of {name}: {} -> {shell}", entry.shell));
            flags.push(format!("-s {}", quote(shell)));
        }
        if let Some(comment) = self.comment.as_ref().filter(|c| **c != entry.comment) {
            changes.push(format!(
                "comment of {name}: {:?} -> {comment:?}",
                entry.comment
            ));
            flags.push(format!("-c {}", quote(comment)));
        }
        let primary = found.get("u.group").unwrap_or_default();
        if let Some(group) = self.group.as_ref().filter(|g| g.as_str() != primary) {
            changes.push(format!("primary group of {name}: {primary} -> {group}"));
            flags.push(format!("-g {}", quote(group)));
        }
        if let Some(wanted) = &self.groups {
            let current: Vec<&str> = found
                .get("u.groups")
                .unwrap_or_default()
                .split_whitespace()
                .filter(|g| *g != primary && Some(*g) != self.group.as_deref())
                .collect();
            let missing: Vec<&String> = wanted
                .iter()
                .filter(|g| !current.contains(&g.as_str()))
                .collect();
            let extra: Vec<&&str> = current
                .iter()
                .filter(|g| !wanted.iter().any(|w| w == **g))
                .collect();
            if self.append && !missing.is_empty() {
                changes.push(format!("add {name} to {}", join(&missing)));
                flags.push(format!(
                    "-a -G {}",
                    quote(&join(&missing).replace(", ", ","))
                ));
            } else if !self.append && (!missing.is_empty() || !extra.is_empty()) {
                changes.push(format!(
                    "groups of {name}: {} -> {}",
                    current.join(", "),
                    wanted.join(", ")
                ));
                flags.push(format!("-G {}", quote(&wanted.join(","))));
            }
        }
        (changes, flags)
    }
}

fn join<T: std::fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

struct Group {
    name: String,
    present: bool,
    gid: Option<i64>,
    system: bool,
}

fn build_group(args: &Rendered, _: &BuildContext) -> Result<Box<dyn Action>, ArgError> {
    Ok(Box::new(Group {
        name: args.word("name")?,
        present: args.present()?,
        gid: args.opt_int("gid")?,
        system: args.bool_or("system", false)?,
    }))
}

impl Action for Group {
    fn probe(&self) -> Option<String> {
        Some(format!(
            "if _g=$(getent group {}); then f g \"$_g\"; else f g absent; fi\n",
            quote(&self.name)
        ))
    }

    fn plan(&self, found: &Findings) -> Result<Plan, ProbeError> {
        let line = found.require("g")?;
        let current_gid = (line != "absent")
            .then(|| line.split(':').nth(2).and_then(|g| g.parse::<i64>().ok()))
            .flatten();
        let name = quote(&self.name);
        let (change, script) = match (self.present, line == "absent") {
            (false, true) => return Ok(Plan::unchanged()),
            (false, false) => (
                format!("remove group {}", self.name),
                format!("groupdel -- {name}\n"),
            ),
            (true, true) => {
                let mut flags = Vec::new();
                if let Some(gid) = self.gid {
                    flags.push(format!("-g {gid}"));
                }
                if self.system {
                    flags.push("-r".into());
                }
                (
                    format!("create group {}", self.name),
                    format!("groupadd {} -- {name}\n", flags.join(" ")),
                )
            }
            (true, false) => match self.gid {
                Some(gid) if Some(gid) != current_gid => (
                    format!(
                        "gid of group {}: {} -> {gid}",
                        self.name,
                        current_gid.map_or("?".to_string(), |g| g.to_string())
                    ),
                    format!("groupmod -g {gid} -- {name}\n"),
                ),
                _ => return Ok(Plan::unchanged()),
            },
        };
        Ok(Plan {
            changes: vec![change],
            step: Some(Step {
                script,
                ..Step::default()
            }),
            provides: vec![Provides::Resource(Resource::Group(self.name.clone()))],
            ..Plan::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::password::registry::Passwords;
    use super::*;

    fn user(extra: impl FnOnce(&mut User)) -> User {
        let mut user = User {
            name: "medulla".into(),
            present: true,
            uid: None,
            group: None,
            groups: None,
            append: false,
            home: Some("/home/medulla".into()),
            shell: Some("/bin/bash".into()),
            comment: None,
            create_home: true,
            system: false,
            password: None,
        };
        extra(&mut user);
        user
    }

    #[test]
    fn a_missing_user_is_created_and_provides_its_group_and_home() {
        let plan = user(|_| ())
            .plan(&Findings::from_values(&[("u", "absent")]))
            .expect("plan");
        assert_eq!(
            plan.changes,
            ["create user medulla (home /home/medulla, shell /bin/bash)"]
        );
        let step = plan.step.expect("step");
        assert!(
            step.script
                .contains("useradd -m -d '/home/medulla' -s '/bin/bash' -- 'medulla'"),
            "{}",
            step.script
        );
        assert!(
            plan.provides
                .contains(&Provides::Resource(Resource::Group("medulla".into())))
        );
        assert!(
            plan.provides
                .contains(&Provides::Resource(Resource::Path("/home/medulla".into())))
        );
    }

    #[test]
    fn an_existing_user_is_modified_only_where_it_differs() {
        let entry = "medulla:x:1001:1001::/home/medulla:/bin/sh";
        let plan = user(|_| ())
            .plan(&Findings::from_values(&[("u", entry)]))
            .expect("plan");
        assert_eq!(plan.changes, ["shell of medulla: /bin/sh -> /bin/bash"]);
        let same = "medulla:x:1001:1001::/home/medulla:/bin/bash";
        assert!(
            !user(|_| ())
                .plan(&Findings::from_values(&[("u", same)]))
                .expect("plan")
                .is_change()
        );
    }

    #[test]
    fn an_account_whose_home_is_elsewhere_is_refused_and_left_alone() {
        let entry = "medulla:x:1001:1001::/srv/medulla:/bin/sh";
        let error = user(|_| ())
            .plan(&Findings::from_values(&[("u", entry)]))
            .expect_err("refused");
        assert_eq!(
            error.to_string(),
            "user medulla exists with home /srv/medulla, not /home/medulla: relayctl does not \
             move an existing account's home (usermod -d alone would leave its files behind). \
             Either move it yourself (usermod -m -d /home/medulla medulla, while no process of \
             medulla runs), or keep it by giving the task home: /srv/medulla (for the \
             medulla_user role, medulla_user_home: /srv/medulla; sshd reads the key from the \
             home it has)"
        );
        // Without a home asked for, the account's stays as it is.
        let plan = user(|u| u.home = None)
            .plan(&Findings::from_values(&[("u", entry)]))
            .expect("plan");
        assert_eq!(plan.changes, ["shell of medulla: /bin/sh -> /bin/bash"]);
    }

    #[test]
    fn a_system_account_of_the_host_is_never_taken_over() {
        let package_account = "medulla:x:998:998::/var/lib/medulla:/usr/sbin/nologin";
        let error = user(|_| ())
            .plan(&Findings::from_values(&[("u", package_account)]))
            .expect_err("refused");
        assert_eq!(
            error.to_string(),
            "medulla is a system account on this host (uid 998): relayctl does not take it over"
        );
    }

    #[test]
    fn supplementary_groups_are_added_or_set() {
        let entry = "medulla:x:1001:1001::/home/medulla:/bin/bash";
        let probe = Findings::from_values(&[
            ("u", entry),
            ("u.groups", "medulla adm"),
            ("u.group", "medulla"),
            ("g.adm", "yes"),
            ("g.sudo", "yes"),
        ]);
        let appended = user(|u| {
            u.groups = Some(vec!["adm".into(), "sudo".into()]);
            u.append = true;
        })
        .plan(&probe)
        .expect("plan");
        assert_eq!(appended.changes, ["add medulla to sudo"]);
        let exact = user(|u| u.groups = Some(vec!["sudo".into()]))
            .plan(&probe)
            .expect("plan");
        assert_eq!(exact.changes, ["groups of medulla: adm -> sudo"]);
    }

    #[tokio::test]
    async fn the_password_travels_as_a_hash_on_stdin_never_in_the_script() {
        let dir = tempfile::tempdir().expect("tmp");
        let file = dir.path().join("pw");
        std::fs::write(&file, "correct horse\n").expect("write");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        let with_password = user(|u| {
            let run = Passwords::default();
            u.password = Some(run.resolve(None, file.clone(), false).expect("reads"));
        });
        let plan = with_password
            .plan(&Findings::from_values(&[("u", "absent")]))
            .expect("plan");
        let mut step = plan.step.expect("step");
        assert!(step.stdin.is_empty(), "hashed before the step runs");
        step.finish().await.expect("hashes");
        let stdin = String::from_utf8(step.stdin.clone()).expect("text");
        assert!(stdin.starts_with("medulla:$y$"), "{stdin}");
        let hash = stdin.trim().trim_start_matches("medulla:");
        assert!(!step.script.contains(hash) && !step.script.contains("correct horse"));
        assert!(step.script.contains("chpasswd -e"), "{}", step.script);
        assert!(!plan.changes.join(" ").contains("correct horse"));
        assert_eq!(with_password.secrets()[0].expose(), "correct horse");
    }

    #[test]
    fn a_missing_group_is_a_missing_prerequisite() {
        let result =
            user(|u| u.groups = Some(vec!["relays".into()])).plan(&Findings::from_values(&[
                ("u", "absent"),
                ("g.relays", "no"),
            ]));
        assert!(matches!(
            result,
            Err(ProbeError::Missing(Resource::Group(g), _)) if g == "relays"
        ));
    }
}
