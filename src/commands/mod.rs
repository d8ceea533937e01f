//! The edge of the library: one module per subcommand, each turning its command-line options
//! into a run ([`crate::pipeline`] for `apply` and `flows`, [`crate::fleet`] for `facts`), and
//! the terminal's progress (`terminal.rs`).

pub mod apply;
pub mod facts;
pub mod flows;
mod terminal;
