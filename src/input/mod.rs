//! Reading the files operators and role authors write: YAML that keeps the position of every key
//! and value (`yaml.rs`), the position itself (`pos.rs`), errors that name the file, line,
//! column and key (`error.rs`), "did you mean" suggestions for misspelt names (`suggest.rs`),
//! controller paths as the inventory writes them (`paths.rs`), the files below a directory
//! (`walk.rs`), a file read only if it is a regular one of a bounded size (`files.rs`) and the
//! characters a value may not carry (`text.rs`). Shared by the inventory and
//! the roles, so that both report bad input the same way.

pub(crate) mod error;
pub(crate) mod files;
pub(crate) mod paths;
pub(crate) mod pos;
pub(crate) mod suggest;
pub mod text;
pub(crate) mod walk;
pub(crate) mod yaml;

pub use error::{InputError, InputErrors};
pub(crate) use pos::Pos;
