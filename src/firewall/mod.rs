//! The relay firewall as data: the Medulla port matrix ([`matrix`]), and the ruleset context
//! that `templates/nftables.conf.j2` renders for one relay ([`ruleset`]): the matrix rows of
//! its relay type, adjusted by its inventory (`relay_ssh_port`, `relay_firewall_*`), with the
//! addresses of its peers.
//!
//! relayctl owns one nftables table (`inet medulla_relay`) and never touches the others
//! (DESIGN rule 4): docker, fail2ban and the Medulla packages may keep their own.

pub mod matrix;
pub mod ruleset;

pub use matrix::{Flow, MATRIX, Peer, PortRange, PortRule, Protocol};
pub use ruleset::{ControllerEndpoint, RulesetContext, TABLE, ruleset_context};
