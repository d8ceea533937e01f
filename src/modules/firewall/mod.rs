//! The relay firewall's modules: the Medulla flows opened where the relay filters, each change
//! validated before it is loaded, guarded by a rollback on the host and confirmed over a new SSH
//! connection (DESIGN rule 4): relayctl's own nftables table where nothing else filters
//! (`nftables.rs`); the guard every backend arms and disarms the same way (`guard.rs`).

pub(crate) mod flows;
mod guard;
pub(super) mod nftables;
pub(super) mod ufw;
