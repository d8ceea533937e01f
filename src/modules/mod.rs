//! Modules: what a task can do to a host.
//!
//! Every module that touches a host has two halves, and only two (DESIGN.md, rule 1):
//! - a read-only **probe**, a POSIX sh snippet run as root that prints what is there
//!   ([`Action::probe`]); the engine batches the probes of many tasks into one round trip;
//! - a **plan** made from the probe's findings ([`Action::plan`]): the changes in words, the
//!   file diff, and the one [`Step`] that carries them out. `apply` runs that step and nothing
//!   else; `--check` stops at the plan. So `--check` cannot promise what `apply` then does
//!   differently, and a second `apply` finds nothing to do.
//!
//! Two modules act on the controller instead: `assert` (expressions over variables and facts)
//! and `login_check` (a new SSH login as another user); the engine runs those itself
//! ([`ModuleKind`]).
//!
//! Files: `definition.rs` (what the engine knows of a module, and what a builder is lent for the
//! run), `action.rs` (the probe, its findings, the outcome of a step), `plan.rs` (the plan and
//! its step), `args.rs` (argument specs and typed access), `shell.rs` (quoting and the probe
//! helpers every snippet may use), `remote_file.rs` (stat/content probe and the validated, atomic
//! write shared by every module that writes a file), then one file per module; this file lists
//! them ([`MODULES`]).

mod accounts;
mod action;
pub mod args;
mod authorized_key;
mod command;
mod content;
mod definition;
mod file;
mod firewall;
mod ini_file;
mod package;
mod password;
mod plan;
pub mod remote_file;
mod service;
pub mod shell;
mod sudoers;
mod user;

pub use action::{Action, Applied, CommandResult, Findings, ProbeError};
pub use args::{ArgError, ArgKind, ArgSpec, PRESENT_ABSENT, Rendered};
pub use authorized_key::material as key_material;
pub use command::COMMAND;
pub use definition::{BuildContext, Builder, ModuleDef, ModuleKind, RunScope};
pub use password::write_controller_file;
pub use plan::{
    Confirmation, ControllerFile, FileDiff, Plan, Preparation, Prepared, Provides, Resource, Step,
};

/// Every module, in the order `relayctl` documents them.
pub static MODULES: &[&ModuleDef] = &[
    &user::USER,
    &user::GROUP,
    &file::FILE,
    &content::COPY,
    &content::TEMPLATE,
    &ini_file::INI_FILE,
    &authorized_key::AUTHORIZED_KEY,
    &sudoers::SUDOERS,
    &package::PACKAGE,
    &service::SERVICE,
    &command::COMMAND,
    &firewall::nftables::NFTABLES,
    &firewall::ufw::UFW_FLOWS,
    &firewall::firewalld::FIREWALLD_FLOWS,
    &ASSERT,
    &LOGIN_CHECK,
];

/// Looks a module up by its name or one of its aliases.
pub fn find(name: &str) -> Option<&'static ModuleDef> {
    MODULES
        .iter()
        .copied()
        .find(|m| m.name == name || m.aliases.contains(&name))
}

/// Every name a module answers to, for "did you mean".
pub fn names() -> impl Iterator<Item = &'static str> {
    MODULES
        .iter()
        .flat_map(|m| std::iter::once(m.name).chain(m.aliases.iter().copied()))
}

/// `assert`: every expression of `that` must be true (evaluated on the controller).
pub static ASSERT: ModuleDef = ModuleDef {
    name: "assert",
    aliases: &[],
    args: &[
        ArgSpec::required("that", ArgKind::Expressions),
        ArgSpec::optional("fail_msg", ArgKind::Str),
        ArgSpec::optional("success_msg", ArgKind::Str),
    ],
    free_form: None,
    kind: ModuleKind::Assert,
};

/// `login_check`: a new SSH login to the host as `user` with `private_key_file`, which then runs
/// `command` (default `sudo -n true`); proves the key and the sudo rule work together.
pub static LOGIN_CHECK: ModuleDef = ModuleDef {
    name: "login_check",
    aliases: &[],
    args: &[
        ArgSpec::required("user", ArgKind::ManagedUser),
        ArgSpec::required("private_key_file", ArgKind::Str),
        ArgSpec::optional("command", ArgKind::Str),
    ],
    free_form: None,
    kind: ModuleKind::LoginCheck,
};
