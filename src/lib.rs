//! relayctl: prepares Debian 12 machines as Medulla relay servers over SSH, and proves they are ready.
//!
//! Data flows one way: the command line and the inventory ([`cli`], [`inventory`]) become one SSH
//! target per host ([`settings`]); the hosts are worked on all at once, one [`ssh`] session each
//! ([`fleet`]); each relay's [`facts`] are checked ([`sizing`], [`preflight`]), its roles run
//! ([`engine`], [`modules`], the [`firewall`] ruleset), its [`flows`] checked, its
//! [`confirmations`] made, and how it ended ([`host_outcome`]) goes into the [`report`]. The
//! [`pipeline`] is that run, on every relay; [`commands`] turns each subcommand's options into a
//! run.
//!
//! Imports go the other way, down a stack of floors (bottom first; rooms on one floor know
//! nothing of each other; `tests/integration/architecture.rs` holds the list and checks it):
//!
//! 1. vocabulary: [`medulla`] (Medulla's domain as data), [`secret`], [`sh`] (shell words),
//!    [`input`] (positions and input errors), [`progress`] (what the core reports),
//!    [`open_files`], [`atomic_file`] (a controller file replaced in one rename);
//! 2. the SSH transport, [`ssh`], which depends on nothing else;
//! 3. what the operator gives: [`cli`], [`inventory`];
//! 4. a run's [`settings`] and [`error`]s;
//! 5. hosts: [`fleet`], [`facts`];
//! 6. checks and changes: [`sizing`], [`preflight`], [`modules`], [`firewall`], [`flows`];
//! 7. the task [`engine`];
//! 8. verdicts: [`confirmations`], [`host_outcome`];
//! 9. the [`report`] (human, JSON, JUnit, `--report DIR`);
//! 10. the relay [`pipeline`];
//! 11. the edge: [`commands`] (and the terminal's progress bars).

pub mod atomic_file;
pub mod cli;
pub mod commands;
pub mod confirmations;
pub mod engine;
pub mod error;
pub mod facts;
pub mod firewall;
pub mod fleet;
pub mod flows;
pub mod host_outcome;
pub mod input;
pub mod inventory;
pub mod medulla;
pub mod modules;
pub mod open_files;
pub mod pipeline;
pub mod preflight;
pub mod progress;
pub mod report;
pub mod secret;
pub mod settings;
pub mod sh;
pub mod sizing;
pub mod ssh;
#[cfg(test)]
mod testing;
