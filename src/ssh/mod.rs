//! The SSH transport (russh): connect with a verified host key, authenticate, run commands over
//! channels of one connection per host, escalate with sudo, reach DMZ relays through a jump host.

mod auth;
mod channel;
mod connector;
mod error;
pub mod escalation;
mod held_command;
mod host_key_check;
pub mod host_keys;
mod privileged_shell;
mod session;
mod sudo_password;
mod target;

pub use auth::{Credentials, KEY_PASSPHRASE_ENV, PassphraseSource};
pub use channel::ExecOutput;
pub use connector::Connector;
pub use error::SshError;
pub use escalation::Become;
pub use held_command::HeldCommand;
pub use host_keys::HostKeyPolicy;
pub use session::Session;
pub use target::{Endpoint, Target};
