//! The task engine: roles in Ansible's layout, run on every relay with one decision path
//! (DESIGN.md, rule 1) — each task's module probes the host read-only and plans; `apply` carries
//! out exactly that plan; `--check` stops at the plan.
//!
//! Files:
//! - `catalog.rs`: which roles exist (embedded, `--roles-dir`, `relay_roles.yaml`);
//! - `role.rs`: reading and checking a role's files, `task.rs`: each of its tasks,
//!   `role_vars.rs`: the values an inventory gives the roles' variables;
//! - `template.rs`: minijinja; `vars.rs`: a host's variables and their precedence;
//! - `batch.rs`: many snippets in one round trip;
//! - `run.rs`: a host's tasks, handlers and check mode, walked in order (the whole sequence is
//!   told there); the steps of the walk have a file each:
//!   - `item.rs`: a task or handler of the host's sequence and what it will do;
//!   - `render.rs`: the host's items rendered before anything runs, `tags.rs`: which tasks
//!     `--tags` and `--skip-tags` select;
//!   - `probes.rs`: which probes run in which round trip;
//!   - `probed.rs`: what the latest probes found, and up to which item (a role's);
//!   - `decide.rs`: the rules that decide how a task ends (`ok`, `changed`, `pending`...);
//!   - `login_check.rs`: the `login_check` module, a new SSH login as another user;
//!   - `commit.rs`: a step carried out, its role's later items re-probed with it, and the commit-confirmed
//!     protocol of a step that could lock the controller out;
//!   - `reporting.rs`: a task's report as shown (secrets masked, diffs unified);
//! - `outcome.rs`: what each task did, for every output format.

pub mod batch;
pub mod catalog;
mod commit;
mod decide;
mod item;
mod login_check;
pub mod outcome;
mod probed;
mod probes;
mod render;
mod reporting;
pub mod role;
pub mod role_vars;
pub mod run;
mod tags;
pub mod task;
pub mod template;
pub mod vars;

pub use catalog::Catalog;
pub use outcome::{TaskCounts, TaskReport, TaskStatus, TasksFailure};
pub use run::{Convergence, HostRun, Options};
