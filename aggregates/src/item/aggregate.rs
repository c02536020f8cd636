//! The item aggregate: its state, and how events change it.

use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::command::ItemCommand;
use super::error::ItemError;
use super::event::ItemEvent;
use std::collections::BTreeSet;

use super::types::{AnswerClass, Deputy, ItemKind, ItemStatus, Rating};
use crate::rules::Rules;

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
    pub(super) kind: ItemKind,
    pub(super) status: ItemStatus,
    pub(super) round: u32,
    pub(super) urgent: bool,
    pub(super) deputies: Vec<Deputy>,
    /// The due date in force: triage while filed, then the current round's answer.
    pub(super) due: Date,
    pub(super) commitments: Vec<CommitmentState>,
    /// The assignment, once assigned.
    pub(super) assignment: Option<Assignment>,
    /// Whether any round was ever answered.
    pub(super) ever_answered: bool,
    /// What happened in the current round.
    pub(super) current: RoundState,
}

/// The units and dates of an assignment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Assignment {
    pub(super) lead_unit: String,
    pub(super) co_units: Vec<String>,
    pub(super) assigned_on: Date,
    pub(super) co_view_due: Option<Date>,
}

impl Assignment {
    /// The lead unit, then the co-units.
    pub(super) fn units(&self) -> Vec<String> {
        std::iter::once(self.lead_unit.clone())
            .chain(self.co_units.iter().cloned())
            .collect()
    }
}

/// What happened in the current round; a new round starts empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct RoundState {
    pub(super) acknowledged_units: BTreeSet<String>,
    pub(super) co_view_units: BTreeSet<String>,
    pub(super) contacts: u32,
    /// The date asked for by the pending extension request, if one is pending.
    pub(super) pending_extension: Option<Date>,
    /// The class letter of this round's answer, once answered.
    pub(super) answer_class: Option<AnswerClass>,
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

    /// The current round: 0 before filing, 1 from filing, one more after each unsatisfied rating
    /// or reopening.
    pub fn round(&self) -> u32 {
        self.filed.as_ref().map_or(0, |item| item.round)
    }

    /// The item's kind, once filed.
    pub fn kind(&self) -> Option<ItemKind> {
        self.filed.as_ref().map(|item| item.kind)
    }

    /// The due date in force, once filed: triage while filed, then the current round's answer
    /// (moved by an approved extension).
    pub fn due(&self) -> Option<Date> {
        self.filed.as_ref().map(|item| item.due)
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
    type Services = Rules;

    /// Decides the command with [`Item::decide`] (every rule is checked before any event is
    /// written), then writes the events.
    async fn handle(
        &mut self,
        command: ItemCommand,
        rules: &Rules,
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
            kind,
            urgent,
            deputies,
            triage_due,
            ..
        } = event
        {
            self.filed = Some(FiledItem {
                item_id,
                kind,
                status: ItemStatus::Filed,
                round: 1,
                urgent,
                deputies,
                due: triage_due,
                commitments: Vec::new(),
                assignment: None,
                ever_answered: false,
                current: RoundState::default(),
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
        ItemEvent::ItemAssigned {
            lead_unit,
            co_units,
            assigned_on,
            answer_due,
            co_view_due,
            ..
        } => {
            item.status = ItemStatus::Assigned;
            item.due = answer_due;
            item.assignment = Some(Assignment {
                lead_unit,
                co_units,
                assigned_on,
                co_view_due,
            });
        }
        ItemEvent::ItemAcknowledged { unit, .. } => {
            item.current.acknowledged_units.insert(unit);
        }
        ItemEvent::ContactRecorded { .. } => {
            item.current.contacts = item.current.contacts.saturating_add(1);
        }
        ItemEvent::CoViewSubmitted { unit, .. } => {
            item.current.co_view_units.insert(unit);
        }
        ItemEvent::ProgressReported { .. } => {}
        ItemEvent::ExtensionRequested { until, .. } => {
            item.current.pending_extension = Some(until);
        }
        ItemEvent::ExtensionDecided { due, .. } => {
            item.current.pending_extension = None;
            item.due = due;
        }
        event => apply_answer_and_after(item, event),
    }
}

/// The events from the answer on: answering, rating, new rounds and endings.
fn apply_answer_and_after(item: &mut FiledItem, event: ItemEvent) {
    match event {
        ItemEvent::ItemAnswered {
            class, commitments, ..
        } => {
            item.status = ItemStatus::Answered;
            item.ever_answered = true;
            // An answer ends the round's wait: a request still pending lapses with it.
            item.current.pending_extension = None;
            item.current.answer_class = Some(class);
            let made = commitments.into_iter().map(|commitment| CommitmentState {
                id: commitment.id,
                fulfilled: false,
            });
            item.commitments.extend(made);
        }
        ItemEvent::AnswerReclassified { class, .. } => item.current.answer_class = Some(class),
        ItemEvent::AnswerRated { rating, .. } => {
            // An unsatisfied rating is always followed by RehandlingStarted, which sets the
            // status; until then the item stays answered, since `rated` means "not unsatisfied".
            if rating != Rating::Unsatisfied {
                item.status = ItemStatus::Rated;
            }
        }
        ItemEvent::RehandlingStarted {
            round, answer_due, ..
        }
        | ItemEvent::ItemReopened {
            round, answer_due, ..
        } => {
            item.status = ItemStatus::Rehandling;
            item.round = round;
            item.due = answer_due;
            item.current = RoundState::default();
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
        ItemEvent::ItemWithdrawn { .. } => {
            item.status = ItemStatus::Withdrawn;
            item.current.pending_extension = None;
        }
        // The events before the answer are folded by `apply_to_filed`.
        ItemEvent::ItemFiled { .. }
        | ItemEvent::ItemAccepted { .. }
        | ItemEvent::ItemReturned { .. }
        | ItemEvent::ItemRedirected { .. }
        | ItemEvent::ItemMerged { .. }
        | ItemEvent::ItemAssigned { .. }
        | ItemEvent::ItemAcknowledged { .. }
        | ItemEvent::ContactRecorded { .. }
        | ItemEvent::CoViewSubmitted { .. }
        | ItemEvent::ProgressReported { .. }
        | ItemEvent::ExtensionRequested { .. }
        | ItemEvent::ExtensionDecided { .. } => {}
    }
}
