//! relayctl: prepares Debian 12 machines as Medulla relay servers over SSH, and proves they are ready.
//!
//! Data flows one way: [`cli`] -> [`inventory`] -> [`settings`] -> [`ssh`] sessions ([`fleet`]) ->
//! [`facts`] -> [`sizing`] / [`preflight`] -> [`report`]. [`commands`] holds one module per subcommand.

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
