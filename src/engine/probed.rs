//! What the latest probes of a host's items found, and up to where: after a change, the later
//! items of its role are re-probed with it and a later role's items when their turn comes
//! (`probes.rs` says which probes run in which round trip).

use std::collections::HashMap;

use super::item::Item;
use crate::modules::Findings;

/// The end (exclusive) of the items of `index`'s role: a role's tasks and handlers are
/// contiguous.
pub(super) fn role_end(items: &[Item], index: usize) -> usize {
    let role = &items[index].role.name;
    items[index..]
        .iter()
        .position(|item| &item.role.name != role)
        .map_or(items.len(), |offset| index + offset)
}

/// What the latest probes found, by item index, for the items before `until`; the items from
/// `until` on were changed under by an earlier role's change and are probed in their turn.
pub(super) struct Probed {
    pub(super) found: HashMap<usize, Findings>,
    pub(super) until: usize,
}
