//! The item aggregate: its state, and how events change it.

use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::command::ItemCommand;
use super::error::ItemError;
use super::event::ItemEvent;
use super::types::{Deputy, ItemStatus, Rating};
use crate::deadline::DeadlineRules;

/// One supervised item, from filing to closing: the `cqrs-es` aggregate of the `item/…` streams.
///
/// The default value is an item not yet filed. [`Item::decide`] holds every rule; `apply` only
/// folds events into the state the rules need.
///
/// The round is 0 before filing and 1 from filing on; each unsatisfied rating starts the next
/// round. Commitments from every round's answer accumulate.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    filed: Option<FiledItem>,
}

/// The state of a filed item: what the rules of later commands need, nothing more.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct FiledItem {
    pub(super) item_id: String,
    pub(super) status: ItemStatus,
    pub(super) round: u32,
    pub(super) urgent: bool,
    pub(super) deputies: Vec<Deputy>,
    /// The due date in force: triage while filed, then the current round's answer.
    pub(super) due: Date,
    pub(super) commitments: Vec<CommitmentState>,
}

/// A commitment made by an answer, and whether it is fulfilled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct CommitmentState {
    pub(super) id: String,
    pub(super) fulfilled: bool,
}

impl FiledItem {
    /// The ids of the commitments not yet fulfilled, in the order they were made.
    pub(super) fn open_commitment_ids(&self) -> Vec<String> {
        let open = self
            .commitments
            .iter()
            .filter(|commitment| !commitment.fulfilled);
        open.map(|commitment| commitment.id.clone()).collect()
    }
}

impl Item {
    /// The item's id, once filed.
    pub fn item_id(&self) -> Option<&str> {
        self.filed.as_ref().map(|item| item.item_id.as_str())
    }

    /// The item's status, once filed.
    pub fn status(&self) -> Option<ItemStatus> {
        self.filed.as_ref().map(|item| item.status)
    }

    /// The current round: 0 before filing, 1 from filing, one more after each unsatisfied rating.
    pub fn round(&self) -> u32 {
        self.filed.as_ref().map_or(0, |item| item.round)
    }

    /// The filed state, for the rules.
    pub(super) fn filed(&self) -> Option<&FiledItem> {
        self.filed.as_ref()
    }
}

impl Aggregate for Item {
    const TYPE: &'static str = "item";
    type Command = ItemCommand;
    type Event = ItemEvent;
    type Error = ItemError;
    type Services = DeadlineRules;

    /// Decides the command with [`Item::decide`] (every rule is checked before any event is
    /// written), then writes the events.
    async fn handle(
        &mut self,
        command: ItemCommand,
        rules: &DeadlineRules,
        sink: &EventSink<Item>,
    ) -> Result<(), ItemError> {
        let events = self.decide(&command, rules)?;
        for event in events {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: ItemEvent) {
        if let ItemEvent::ItemFiled {
            item_id,
            urgent,
            deputies,
            triage_due,
            ..
        } = event
        {
            self.filed = Some(FiledItem {
                item_id,
                status: ItemStatus::Filed,
                round: 1,
                urgent,
                deputies,
                due: triage_due,
                commitments: Vec::new(),
            });
            return;
        }
        // Events are only ever decided for a filed item; there is nothing to change otherwise.
        if let Some(item) = self.filed.as_mut() {
            apply_to_filed(item, event);
        }
    }
}

fn apply_to_filed(item: &mut FiledItem, event: ItemEvent) {
    match event {
        ItemEvent::ItemFiled { .. } => {}
        ItemEvent::ItemAccepted { .. } => item.status = ItemStatus::Accepted,
        ItemEvent::ItemReturned { .. } => item.status = ItemStatus::Returned,
        ItemEvent::ItemRedirected { .. } => item.status = ItemStatus::Redirected,
        ItemEvent::ItemMerged { .. } => item.status = ItemStatus::Merged,
        ItemEvent::ItemAssigned { answer_due, .. } => {
            item.status = ItemStatus::Assigned;
            item.due = answer_due;
        }
        ItemEvent::ItemAnswered { commitments, .. } => {
            item.status = ItemStatus::Answered;
            let made = commitments.into_iter().map(|commitment| CommitmentState {
                id: commitment.id,
                fulfilled: false,
            });
            item.commitments.extend(made);
        }
        ItemEvent::AnswerRated { rating, .. } => {
            // An unsatisfied rating is always followed by RehandlingStarted, which sets the
            // status; until then the item stays answered, since `rated` means "not unsatisfied".
            if rating != Rating::Unsatisfied {
                item.status = ItemStatus::Rated;
            }
        }
        ItemEvent::RehandlingStarted {
            round, answer_due, ..
        } => {
            item.status = ItemStatus::Rehandling;
            item.round = round;
            item.due = answer_due;
        }
        ItemEvent::CommitmentFulfilled { commitment_id, .. } => {
            let found = item
                .commitments
                .iter_mut()
                .find(|commitment| commitment.id == commitment_id);
            if let Some(commitment) = found {
                commitment.fulfilled = true;
            }
        }
        ItemEvent::ItemReconciled { .. } => item.status = ItemStatus::Reconciled,
        ItemEvent::ItemClosed { .. } => item.status = ItemStatus::Closed,
    }
}
