//! Integration tests: the relayctl binary against the real lab (tests/lab/lab.sh up), plus command-line
//! checks that need no host and the crate's architecture checked on its source. One test binary, as ripgrep does; each module pins one area.

mod ansible_parity;
mod architecture;
mod bad_inventory;
mod bad_roles;
mod facts;
mod harness;
mod inventory_command;
mod options;
mod session;
mod sizing;
mod ssh_config;
mod transport;
mod vault;
