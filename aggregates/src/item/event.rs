//! Item events: what happened to an item, as recorded in the ledger.

use cqrs_es::DomainEvent;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::types::{
    AnswerClass, Commitment, ContactChannel, ContactStage, Deputy, ItemKind, Leader, Rating,
};

/// Something that happened to an item. Serialised as `{"type":"ItemFiled","data":{…}}`; every
/// event's data carries the `item_id`. Due dates are computed when the event is decided and
/// stored on it, so a later change of the calendar never changes history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum ItemEvent {
    /// The item was filed (status `filed`, round 1).
    ItemFiled {
        /// The item.
        item_id: String,
        /// The kind of matter.
        kind: ItemKind,
        /// The title.
        title: String,
        /// The full text.
        body: String,
        /// The deputies who raised it.
        deputies: Vec<Deputy>,
        /// Whether it is urgent.
        urgent: bool,
        /// The case numbers it concerns.
        cases: Vec<String>,
        /// The item it is a child of, if any.
        parent_id: Option<String>,
        /// The date triage is due by.
        triage_due: Date,
    },
    /// The court office accepted the item (status `accepted`).
    ItemAccepted {
        /// The item.
        item_id: String,
        /// Why, if a reason was given.
        reason: String,
    },
    /// The court office returned the item (status `returned`, ended).
    ItemReturned {
        /// The item.
        item_id: String,
        /// Why.
        reason: String,
    },
    /// The court office redirected the item to another body (status `redirected`, ended).
    ItemRedirected {
        /// The item.
        item_id: String,
        /// The body it went to.
        redirect_to: String,
        /// Why.
        reason: String,
    },
    /// The court office merged the item into another (status `merged`, ended).
    ItemMerged {
        /// The item.
        item_id: String,
        /// The item it was merged into.
        target_item_id: String,
        /// Why.
        reason: String,
    },
    /// The court office assigned the item (status `assigned`).
    ItemAssigned {
        /// The item.
        item_id: String,
        /// The lead unit.
        lead_unit: String,
        /// The co-units.
        co_units: Vec<String>,
        /// The responsible leader.
        leader: Leader,
        /// The local date of the assignment.
        assigned_on: Date,
        /// The date the first round's answer is due by.
        answer_due: Date,
        /// The date the co-units' views are due by; only when there are co-units.
        co_view_due: Option<Date>,
    },
    /// A unit of the item acknowledged its assignment in the current round (签收).
    ItemAcknowledged {
        /// The item.
        item_id: String,
        /// The round.
        round: u32,
        /// The unit.
        unit: String,
        /// The local date of the acknowledgement.
        acknowledged_on: Date,
    },
    /// A contact with a deputy was logged.
    ContactRecorded {
        /// The item.
        item_id: String,
        /// The round it was logged in.
        round: u32,
        /// The deputy contacted.
        deputy_id: String,
        /// How.
        channel: ContactChannel,
        /// Before, during or after the handling.
        stage: ContactStage,
        /// What was said.
        summary: String,
        /// The local date of the contact.
        contacted_on: Date,
    },
    /// A co-unit submitted its view.
    CoViewSubmitted {
        /// The item.
        item_id: String,
        /// The round.
        round: u32,
        /// The co-unit.
        unit: String,
        /// Its view.
        view: String,
        /// The local date it was submitted.
        submitted_on: Date,
        /// The co-view due date, when the round has one (round 1 with co-units).
        due: Option<Date>,
        /// Whether `submitted_on` is on or before `due`, when there is one.
        on_time: Option<bool>,
    },
    /// Progress of the handling was logged.
    ProgressReported {
        /// The item.
        item_id: String,
        /// The round.
        round: u32,
        /// What was done.
        summary: String,
    },
    /// A later due date was asked for; the liaison office decides.
    ExtensionRequested {
        /// The item.
        item_id: String,
        /// The round.
        round: u32,
        /// The due date asked for.
        until: Date,
        /// Why.
        reason: String,
        /// The due date in force when it was asked.
        due: Date,
    },
    /// The liaison office approved or refused the pending extension.
    ExtensionDecided {
        /// The item.
        item_id: String,
        /// The round.
        round: u32,
        /// Whether it was approved.
        approved: bool,
        /// The due date that was asked for.
        until: Date,
        /// A note.
        note: String,
        /// The due date in force after the decision: `until` if approved, else unchanged.
        due: Date,
    },
    /// The leader answered the item in the current round (status `answered`).
    ItemAnswered {
        /// The item.
        item_id: String,
        /// The round answered (1, or later after an unsatisfied rating).
        round: u32,
        /// The class letter.
        class: AnswerClass,
        /// The answer's text.
        text: String,
        /// The answer document's number, if any.
        doc_no: Option<String>,
        /// Whether the answer may be published.
        public: bool,
        /// What the answer promises.
        commitments: Vec<Commitment>,
        /// The local date of the answer.
        answered_on: Date,
        /// The due date in force for this round.
        due: Date,
        /// Whether `answered_on` is on or before `due`.
        on_time: bool,
    },
    /// The liaison office corrected the class letter of the current round's answer.
    AnswerReclassified {
        /// The item.
        item_id: String,
        /// The round whose answer it is.
        round: u32,
        /// The letter before.
        previous_class: AnswerClass,
        /// The letter now.
        class: AnswerClass,
        /// Why.
        reason: String,
    },
    /// The answer was rated (status `rated`; when `unsatisfied`, a [`ItemEvent::RehandlingStarted`]
    /// follows at once).
    AnswerRated {
        /// The item.
        item_id: String,
        /// The round whose answer was rated.
        round: u32,
        /// The rating.
        rating: Rating,
        /// The deputy's comment.
        comment: String,
        /// The deputy whose rating this is.
        deputy_id: String,
        /// Whether the liaison office recorded it on the deputy's behalf.
        on_behalf: bool,
    },
    /// An unsatisfied rating opened the next round (重新办理; status `rehandling`).
    RehandlingStarted {
        /// The item.
        item_id: String,
        /// The new round's number.
        round: u32,
        /// The date the new round's answer is due by.
        answer_due: Date,
    },
    /// A commitment was fulfilled.
    CommitmentFulfilled {
        /// The item.
        item_id: String,
        /// The commitment.
        commitment_id: String,
        /// How it was fulfilled.
        note: String,
    },
    /// The liaison office reconciled the item (status `reconciled`).
    ItemReconciled {
        /// The item.
        item_id: String,
        /// A note.
        note: String,
    },
    /// The leader closed the item (status `closed`).
    ItemClosed {
        /// The item.
        item_id: String,
        /// A note.
        note: String,
    },
    /// The liaison office withdrew the item (status `withdrawn`, ended).
    ItemWithdrawn {
        /// The item.
        item_id: String,
        /// Why.
        reason: String,
    },
    /// The liaison office reopened the closed item: the next round starts (status `rehandling`).
    ItemReopened {
        /// The item.
        item_id: String,
        /// The new round's number.
        round: u32,
        /// Why.
        reason: String,
        /// The date the new round's answer is due by.
        answer_due: Date,
    },
}

impl ItemEvent {
    /// The type name of every item event, as recorded in the ledger's `type`.
    pub const TYPES: &'static [&'static str] = &[
        "ItemFiled",
        "ItemAccepted",
        "ItemReturned",
        "ItemRedirected",
        "ItemMerged",
        "ItemAssigned",
        "ItemAcknowledged",
        "ContactRecorded",
        "CoViewSubmitted",
        "ProgressReported",
        "ExtensionRequested",
        "ExtensionDecided",
        "ItemAnswered",
        "AnswerReclassified",
        "AnswerRated",
        "RehandlingStarted",
        "CommitmentFulfilled",
        "ItemReconciled",
        "ItemClosed",
        "ItemWithdrawn",
        "ItemReopened",
    ];

    /// The event's type name: `"ItemFiled"`.
    pub fn type_name(&self) -> &'static str {
        match self {
            ItemEvent::ItemFiled { .. } => "ItemFiled",
            ItemEvent::ItemAccepted { .. } => "ItemAccepted",
            ItemEvent::ItemReturned { .. } => "ItemReturned",
            ItemEvent::ItemRedirected { .. } => "ItemRedirected",
            ItemEvent::ItemMerged { .. } => "ItemMerged",
            ItemEvent::ItemAssigned { .. } => "ItemAssigned",
            ItemEvent::ItemAcknowledged { .. } => "ItemAcknowledged",
            ItemEvent::ContactRecorded { .. } => "ContactRecorded",
            ItemEvent::CoViewSubmitted { .. } => "CoViewSubmitted",
            ItemEvent::ProgressReported { .. } => "ProgressReported",
            ItemEvent::ExtensionRequested { .. } => "ExtensionRequested",
            ItemEvent::ExtensionDecided { .. } => "ExtensionDecided",
            ItemEvent::ItemAnswered { .. } => "ItemAnswered",
            ItemEvent::AnswerReclassified { .. } => "AnswerReclassified",
            ItemEvent::AnswerRated { .. } => "AnswerRated",
            ItemEvent::RehandlingStarted { .. } => "RehandlingStarted",
            ItemEvent::CommitmentFulfilled { .. } => "CommitmentFulfilled",
            ItemEvent::ItemReconciled { .. } => "ItemReconciled",
            ItemEvent::ItemClosed { .. } => "ItemClosed",
            ItemEvent::ItemWithdrawn { .. } => "ItemWithdrawn",
            ItemEvent::ItemReopened { .. } => "ItemReopened",
        }
    }

    /// The id of the item the event happened to.
    pub fn item_id(&self) -> &str {
        match self {
            ItemEvent::ItemFiled { item_id, .. }
            | ItemEvent::ItemAccepted { item_id, .. }
            | ItemEvent::ItemReturned { item_id, .. }
            | ItemEvent::ItemRedirected { item_id, .. }
            | ItemEvent::ItemMerged { item_id, .. }
            | ItemEvent::ItemAssigned { item_id, .. }
            | ItemEvent::ItemAcknowledged { item_id, .. }
            | ItemEvent::ContactRecorded { item_id, .. }
            | ItemEvent::CoViewSubmitted { item_id, .. }
            | ItemEvent::ProgressReported { item_id, .. }
            | ItemEvent::ExtensionRequested { item_id, .. }
            | ItemEvent::ExtensionDecided { item_id, .. }
            | ItemEvent::ItemAnswered { item_id, .. }
            | ItemEvent::AnswerReclassified { item_id, .. }
            | ItemEvent::AnswerRated { item_id, .. }
            | ItemEvent::RehandlingStarted { item_id, .. }
            | ItemEvent::CommitmentFulfilled { item_id, .. }
            | ItemEvent::ItemReconciled { item_id, .. }
            | ItemEvent::ItemClosed { item_id, .. }
            | ItemEvent::ItemWithdrawn { item_id, .. }
            | ItemEvent::ItemReopened { item_id, .. } => item_id,
        }
    }

    /// The due dates the event sets, for checking that the calendar covered them.
    pub fn due_dates(&self) -> Vec<Date> {
        match self {
            ItemEvent::ItemFiled { triage_due, .. } => vec![*triage_due],
            ItemEvent::ItemAssigned {
                answer_due,
                co_view_due,
                ..
            } => std::iter::once(*answer_due).chain(*co_view_due).collect(),
            ItemEvent::ExtensionDecided { due, .. } => vec![*due],
            ItemEvent::RehandlingStarted { answer_due, .. }
            | ItemEvent::ItemReopened { answer_due, .. } => vec![*answer_due],
            _ => Vec::new(),
        }
    }
}

impl DomainEvent for ItemEvent {
    fn event_type(&self) -> String {
        self.type_name().to_owned()
    }

    fn event_version(&self) -> String {
        "1".to_owned()
    }
}
