//! `relayctl inventory`: the inventory as relayctl reads it, printed as `ansible-inventory`
//! prints it (`--list`, `--graph`, `--host`). It contacts no host and reads no role: it checks
//! the inventory's syntax and names, never the connection policy of its hosts.

use crate::cli::InventoryArgs;
use crate::error::Error;
use crate::input::{InputError, Pos};
use crate::inventory::{self, LoadOptions, listing};
use crate::pipeline::{unused_ansible_note, vault_secrets};

/// What the command prints on stdout.
///
/// # Errors
/// Bad input (exit 4): the inventory, a vault password, a host or group it does not have.
pub fn run(args: &InventoryArgs) -> Result<String, Error> {
    let options = LoadOptions {
        vault: vault_secrets(&args.sources)?,
        ..LoadOptions::default()
    };
    let inventory = inventory::load(&args.sources.sources(), &options)?;
    if args.verbose > 0 {
        eprint!("{}", unused_ansible_note(&inventory));
    }
    let missing = |what: &str, message: String| {
        Error::Input(InputError::at(std::path::Path::new(what), Pos::START, what, message).into())
    };
    if let Some(name) = &args.host {
        let vars = listing::host(&inventory, name).ok_or_else(|| {
            missing(
                "--host",
                format!("no host {name:?} in {}", inventory.path.display()),
            )
        })?;
        return Ok(listing::to_text(&vars));
    }
    if let Some(group) = &args.graph {
        return listing::graph(&inventory, group, args.vars).map_err(|m| missing("--graph", m));
    }
    Ok(listing::to_text(&listing::list(&inventory, args.export)))
}
