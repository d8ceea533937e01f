//! Reading the files operators and role authors write: YAML that keeps the position of every key
//! and value (`yaml.rs`), the position itself (`pos.rs`), errors that name the file, line,
//! column and key (`error.rs`), "did you mean" suggestions for misspelt names (`suggest.rs`) and
//! controller paths as the inventory writes them (`paths.rs`) and the files below a directory
//! (`walk.rs`). Shared by the inventory and the
//! roles, so that both report bad input the same way.

pub(crate) mod error;
pub(crate) mod paths;
pub(crate) mod pos;
pub(crate) mod suggest;
pub(crate) mod walk;
pub(crate) mod yaml;

pub use error::{InputError, InputErrors};
pub(crate) use pos::Pos;
