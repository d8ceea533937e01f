//! The relay firewall's modules: the Medulla flows opened where the relay filters, each change
//! validated before it is loaded, guarded by a rollback on the host and confirmed over a new SSH
//! connection (DESIGN rule 4): relayctl's own nftables table where nothing else filters
//! (`nftables/`), ufw's own rules where ufw is enabled (`ufw/`), firewalld policies of
//! relayctl's where firewalld runs (`firewalld.rs`); the flows the last two take as an argument
//! (`flows.rs`); the guard every backend arms and disarms the same way (`guard.rs`).

pub(super) mod firewalld;
pub(crate) mod flows;
mod guard;
pub(super) mod nftables;
pub(super) mod ufw;
