//! The relay firewall as data: the ruleset context that `templates/nftables.conf.j2` renders
//! for one relay ([`ruleset`]): the rows of the Medulla port matrix
//! ([`crate::medulla::port_matrix`]) for its relay type, adjusted by its inventory
//! (`relay_ssh_port`, `relay_firewall_*`), with the addresses of its peers.
//!
//! relayctl owns one nftables table (`inet medulla_relay`) and never touches the others
//! (DESIGN rule 4): docker, fail2ban and the Medulla packages may keep their own. What that
//! table would close that works today is said first ([`blast_radius`]).

pub mod blast_radius;
pub mod ruleset;

pub use ruleset::{ControllerEndpoint, RulesetContext, TABLE, ruleset_context};
