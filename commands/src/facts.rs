//! Facts about other items that an item command needs: its merge target, its parent, its open
//! children. The aggregate decides on its own stream only, so the write side looks these up and
//! passes them on the command ([`aggregates::item::ItemFacts`]).
//!
//! They are looked up again on every attempt, but they are not covered by the append's expected
//! version: a child filed at the very moment its parent is closed can slip through. The ledger
//! records both, in order, so an auditor sees it.

use aggregates::item::{
    Item, ItemAction, ItemEvent, ItemFacts, ItemKind, LinkedItem, TriageDecision,
};
use futures::TryStreamExt;

use crate::execute::item_stream;
use crate::{CommandError, Ledger};

/// The facts `action` needs, given the item it is for.
pub(crate) async fn item_facts(
    ledger: &Ledger,
    item: &Item,
    action: &ItemAction,
) -> Result<ItemFacts, CommandError> {
    let mut facts = ItemFacts::default();
    match action {
        ItemAction::FileItem(data) => {
            if let Some(parent_id) = &data.parent_id {
                facts.parent = linked_item(ledger, parent_id).await?;
            }
        }
        ItemAction::TriageItem(data) if data.decision == TriageDecision::Merge => {
            if let Some(target_item_id) = &data.target_item_id {
                facts.merge_target = linked_item(ledger, target_item_id).await?;
            }
        }
        ItemAction::CloseItem(_) if item.kind() == Some(ItemKind::DeliberationOpinion) => {
            facts.open_child_ids = open_child_ids(ledger, action.item_id()).await?;
        }
        _ => {}
    }
    Ok(facts)
}

/// The kind and status of item `item_id`, or `None` when it was never filed.
async fn linked_item(ledger: &Ledger, item_id: &str) -> Result<Option<LinkedItem>, CommandError> {
    if aggregates::validate::id("item_id", item_id).is_err() {
        // The aggregate refuses the bad id itself; there is nothing to look up.
        return Ok(None);
    }
    let (item, _) = ledger.load::<Item>(&item_stream(item_id)).await?;
    Ok(item
        .kind()
        .zip(item.status())
        .map(|(kind, status)| LinkedItem { kind, status }))
}

/// The ids of the items filed with `parent_id` = `item_id` that are neither closed nor ended,
/// in the order they were filed.
async fn open_child_ids(ledger: &Ledger, item_id: &str) -> Result<Vec<String>, CommandError> {
    let mut children = Vec::new();
    let mut records = ledger.store().read_all(0);
    while let Some(stored) = records.try_next().await? {
        if !stored.stream.starts_with("item/") {
            continue;
        }
        let record = stored.record().map_err(|error| CommandError::Unreadable {
            position: stored.position,
            reason: error.to_string(),
        })?;
        if record.event_type != "ItemFiled" {
            continue;
        }
        let event = crate::item_event(&record.event_type, record.data).map_err(|error| {
            CommandError::Unreadable {
                position: stored.position,
                reason: error.to_string(),
            }
        })?;
        if let ItemEvent::ItemFiled {
            item_id: child_id,
            parent_id: Some(parent_id),
            ..
        } = event
        {
            if parent_id == item_id {
                children.push(child_id);
            }
        }
    }
    let mut open = Vec::new();
    for child_id in children {
        let (child, _) = ledger.load::<Item>(&item_stream(&child_id)).await?;
        if child.status().is_some_and(|status| !status.is_finished()) {
            open.push(child_id);
        }
    }
    Ok(open)
}
