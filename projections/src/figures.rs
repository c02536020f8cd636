//! The statutory figures (统计): per item facts folded from the log, and the rates computed from
//! them for a given day, per year of filing and overall, per leader and per lead unit.
//!
//! Definitions (DESIGN.md §5; where it is silent, the choice is written here):
//! - an item is *due* (应办复) when it has been answered, or its current round is unanswered and
//!   today is after that round's due date; 办复率 `answer_rate` = answered ÷ due;
//! - 按期办复率 `on_time_rate` = items whose first answer came on or before its due date ÷
//!   (items answered + items never answered and overdue);
//! - 见面率 `contact_rate` = answered items with a contact with a deputy before the first answer
//!   ÷ answered items;
//! - 满意率 `satisfaction_rate` = items whose latest rating is `satisfied` ÷ items rated, and
//!   `satisfied_or_basic_rate` likewise with `basically_satisfied`; `no_response` is not a
//!   rating of the answer, so such items are not counted as rated;
//! - class shares count the latest answer of each item; handling days run from the filing date
//!   to the first answer; the year of an item is the year it was filed.

use std::collections::BTreeMap;

use aggregates::engagement::EngagementEvent;
use aggregates::follow::FollowEvent;
use aggregates::item::ItemEvent;
use aggregates::money::Yuan;
use aggregates::person::PersonEvent;
use infra::record::Record;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::{item_event_of, FoldError, Projection};

/// What the figures need to know of one entity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "entity", rename_all = "snake_case")]
pub enum Facts {
    /// An item.
    Item(ItemFacts),
    /// A case follow (一人一案).
    Follow(FollowFacts),
    /// An engagement (visit, inspection, forum…).
    Engagement(EngagementFacts),
    /// A registered person.
    Person(PersonFacts),
}

/// The facts of one case follow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowFacts {
    /// The follow's id.
    pub follow_id: String,
    /// The local date it started.
    pub started_on: Date,
    /// Enforcement actions recorded.
    pub actions: u64,
    /// Of which the deputy was present (witnessed).
    pub witnessed_actions: u64,
    /// Mediations recorded.
    pub mediations: u64,
    /// Of which settled.
    pub settled_mediations: u64,
    /// Amount recovered, in fen.
    pub recovered_fen: u64,
    /// Whether it has ended.
    pub ended: bool,
}

/// The facts of one engagement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngagementFacts {
    /// Its kind (`visit`, `inspection`, …).
    pub kind: String,
    /// When it was held.
    pub held_on: Date,
    /// How many deputies took part.
    pub deputies: u64,
}

/// The facts of one registered person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonFacts {
    /// Their kind (`deputy`, `supervisor`, `liaison_officer`, `staff`).
    pub kind: String,
    /// The congress level of a deputy or supervisor (`national`, `provincial`, …). Rows folded
    /// before this field existed read as none until `huiyin rebuild`.
    #[serde(default)]
    pub level: Option<String>,
    /// The township or street they belong to, if any (likewise).
    #[serde(default)]
    pub township: Option<String>,
}

/// The facts of one item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemFacts {
    /// The item's id.
    pub item_id: String,
    /// Its kind.
    pub kind: String,
    /// The local date it was filed.
    pub filed_on: Date,
    /// Its status.
    pub status: String,
    /// The lead unit, once assigned.
    pub lead_unit: Option<String>,
    /// The responsible leader's name, once assigned.
    pub leader: Option<String>,
    /// Its rounds in order (round 1 from assignment).
    pub rounds: Vec<RoundFacts>,
    /// Extensions granted.
    pub extensions: u32,
    /// Commitments made in answers.
    pub commitments_made: u32,
    /// Commitments fulfilled.
    pub commitments_kept: u32,
    /// Whether any answer was rated unsatisfied.
    pub ever_unsatisfied: bool,
}

/// The facts of one round of handling.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundFacts {
    /// Its number.
    pub round: u32,
    /// The answer due date in force.
    pub due: Date,
    /// When it was answered.
    pub answered_on: Option<Date>,
    /// Whether the answer came on or before the due date.
    pub on_time: Option<bool>,
    /// The answer's class letter.
    pub class: Option<String>,
    /// The rating of the answer.
    pub rating: Option<String>,
    /// Whether a contact with a deputy was logged before the answer.
    pub contact_before_answer: bool,
}

/// The figures as a projection: one [`Facts`] row per entity, keyed by stream.
#[derive(Debug, Clone, Copy, Default)]
pub struct FiguresProjection;

impl Projection for FiguresProjection {
    const NAME: &'static str = "figures";
    type Row = Facts;

    fn key(record: &Record) -> Option<String> {
        let kind = record.stream.split_once('/')?.0;
        matches!(kind, "item" | "follow" | "engagement" | "person").then(|| record.stream.clone())
    }

    /// The key is the record's stream, whose first record has version 1.
    fn opens_key(record: &Record) -> bool {
        record.version == 1
    }

    fn apply(row: Option<Facts>, record: &Record) -> Result<Option<Facts>, FoldError> {
        match record.stream.split_once('/').map(|(kind, _)| kind) {
            Some("item") => apply_item_record(row, record),
            Some("follow") => Ok(apply_follow(row, decode(record)?)),
            Some("engagement") => {
                let EngagementEvent::EngagementRecorded {
                    kind,
                    deputies,
                    held_on,
                    ..
                } = decode(record)?;
                Ok(Some(Facts::Engagement(EngagementFacts {
                    kind: label(&kind),
                    held_on,
                    deputies: deputies.len() as u64,
                })))
            }
            Some("person") => Ok(match decode(record)? {
                PersonEvent::PersonRegistered {
                    kind,
                    level,
                    township,
                    ..
                } => Some(Facts::Person(PersonFacts {
                    kind: label(&kind),
                    level: level.as_ref().map(label),
                    township,
                })),
                PersonEvent::AccessGranted { .. } | PersonEvent::AccessRevoked { .. } => row,
            }),
            _ => Ok(row),
        }
    }
}

/// Decodes a record into the event enum of its stream's kind.
fn decode<E: serde::de::DeserializeOwned>(record: &Record) -> Result<E, FoldError> {
    crate::decode_tagged(&record.event_type, &record.data).map_err(|error| FoldError {
        position: record.position,
        event_type: record.event_type.clone(),
        reason: error.to_string(),
    })
}

fn apply_item_record(row: Option<Facts>, record: &Record) -> Result<Option<Facts>, FoldError> {
    let event = item_event_of(record)?;
    if let ItemEvent::ItemFiled { item_id, kind, .. } = &event {
        let filed_on = local_date_of(&record.at).ok_or_else(|| FoldError {
            position: record.position,
            event_type: record.event_type.clone(),
            reason: format!("`at` {:?} is not an RFC 3339 time", record.at),
        })?;
        return Ok(Some(Facts::Item(ItemFacts {
            item_id: item_id.clone(),
            kind: label(kind),
            filed_on,
            status: "filed".to_owned(),
            lead_unit: None,
            leader: None,
            rounds: Vec::new(),
            extensions: 0,
            commitments_made: 0,
            commitments_kept: 0,
            ever_unsatisfied: false,
        })));
    }
    Ok(match row {
        Some(Facts::Item(mut facts)) => {
            apply_to_item(&mut facts, event);
            Some(Facts::Item(facts))
        }
        other => other,
    })
}

fn apply_follow(row: Option<Facts>, event: FollowEvent) -> Option<Facts> {
    if let FollowEvent::CaseFollowStarted {
        follow_id,
        started_on,
        ..
    } = &event
    {
        return Some(Facts::Follow(FollowFacts {
            follow_id: follow_id.clone(),
            started_on: *started_on,
            actions: 0,
            witnessed_actions: 0,
            mediations: 0,
            settled_mediations: 0,
            recovered_fen: 0,
            ended: false,
        }));
    }
    let Some(Facts::Follow(mut facts)) = row else {
        return row;
    };
    match event {
        FollowEvent::CaseFollowStarted { .. } | FollowEvent::FollowEvaluated { .. } => {}
        FollowEvent::EnforcementActionRecorded { deputy_present, .. } => {
            facts.actions += 1;
            facts.witnessed_actions += u64::from(deputy_present);
        }
        FollowEvent::MediationRecorded { settled, .. } => {
            facts.mediations += 1;
            facts.settled_mediations += u64::from(settled);
        }
        FollowEvent::RecoveryRecorded { amount, .. } => facts.recovered_fen += amount.fen(),
        FollowEvent::CaseFollowEnded { .. } => facts.ended = true,
    }
    Some(Facts::Follow(facts))
}

/// The local date a command's `at` names, in the offset it was written with.
fn local_date_of(at: &str) -> Option<Date> {
    let (date, _) = at.split_once('T')?;
    date.parse().ok()
}

fn apply_to_item(facts: &mut ItemFacts, event: ItemEvent) {
    match event {
        ItemEvent::ItemFiled { .. } | ItemEvent::ItemAccepted { .. } => {}
        ItemEvent::ItemReturned { .. } => facts.status = "returned".to_owned(),
        ItemEvent::ItemRedirected { .. } => facts.status = "redirected".to_owned(),
        ItemEvent::ItemMerged { .. } => facts.status = "merged".to_owned(),
        ItemEvent::ItemAssigned {
            lead_unit,
            leader,
            answer_due,
            ..
        } => {
            facts.status = "assigned".to_owned();
            facts.lead_unit = Some(lead_unit);
            facts.leader = Some(leader.name);
            facts.rounds = vec![RoundFacts::opened(1, answer_due)];
        }
        ItemEvent::ItemAnswered {
            round,
            class,
            answered_on,
            on_time,
            due,
            commitments,
            ..
        } => {
            facts.status = "answered".to_owned();
            facts.commitments_made += commitments.len() as u32;
            if let Some(current) = facts.rounds.iter_mut().find(|facts| facts.round == round) {
                current.due = due;
                current.answered_on = Some(answered_on);
                current.on_time = Some(on_time);
                current.class = Some(label(&class));
            }
        }
        ItemEvent::AnswerRated { round, rating, .. } => {
            facts.status = "rated".to_owned();
            let rating = label(&rating);
            facts.ever_unsatisfied |= rating == "unsatisfied";
            if let Some(current) = facts.rounds.iter_mut().find(|facts| facts.round == round) {
                current.rating = Some(rating);
            }
        }
        ItemEvent::RehandlingStarted {
            round, answer_due, ..
        } => {
            facts.status = "rehandling".to_owned();
            facts.rounds.push(RoundFacts::opened(round, answer_due));
        }
        ItemEvent::CommitmentFulfilled { .. } => facts.commitments_kept += 1,
        ItemEvent::ItemReconciled { .. } => facts.status = "reconciled".to_owned(),
        ItemEvent::ItemClosed { .. } => facts.status = "closed".to_owned(),
        event => apply_handling_to_item(facts, event),
    }
}

/// The facts of round `round`, if it was opened.
fn round_of(facts: &mut ItemFacts, round: u32) -> Option<&mut RoundFacts> {
    facts.rounds.iter_mut().find(|facts| facts.round == round)
}

/// The handling events and the later turns (withdrawal, reopening).
fn apply_handling_to_item(facts: &mut ItemFacts, event: ItemEvent) {
    match event {
        ItemEvent::ContactRecorded { round, .. } => {
            if let Some(current) = round_of(facts, round) {
                current.contact_before_answer |= current.answered_on.is_none();
            }
        }
        ItemEvent::ExtensionDecided {
            round,
            approved,
            due,
            ..
        } => {
            if approved {
                facts.extensions += 1;
            }
            if let Some(current) = round_of(facts, round) {
                current.due = due;
            }
        }
        ItemEvent::AnswerReclassified { round, class, .. } => {
            if let Some(current) = round_of(facts, round) {
                current.class = Some(label(&class));
            }
        }
        ItemEvent::ItemWithdrawn { .. } => facts.status = "withdrawn".to_owned(),
        ItemEvent::ItemReopened {
            round, answer_due, ..
        } => {
            facts.status = "rehandling".to_owned();
            facts.rounds.push(RoundFacts::opened(round, answer_due));
        }
        ItemEvent::ItemAcknowledged { .. }
        | ItemEvent::CoViewSubmitted { .. }
        | ItemEvent::ProgressReported { .. }
        | ItemEvent::ExtensionRequested { .. } => {}
        // Folded by `apply_to_item`.
        ItemEvent::ItemFiled { .. }
        | ItemEvent::ItemAccepted { .. }
        | ItemEvent::ItemReturned { .. }
        | ItemEvent::ItemRedirected { .. }
        | ItemEvent::ItemMerged { .. }
        | ItemEvent::ItemAssigned { .. }
        | ItemEvent::ItemAnswered { .. }
        | ItemEvent::AnswerRated { .. }
        | ItemEvent::RehandlingStarted { .. }
        | ItemEvent::CommitmentFulfilled { .. }
        | ItemEvent::ItemReconciled { .. }
        | ItemEvent::ItemClosed { .. } => {}
    }
}

impl RoundFacts {
    fn opened(round: u32, due: Date) -> Self {
        RoundFacts {
            round,
            due,
            answered_on: None,
            on_time: None,
            class: None,
            rating: None,
            contact_before_answer: false,
        }
    }
}

/// The snake_case name serde gives an enum value.
fn label<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(text)) => text,
        _ => String::new(),
    }
}

/// A rate with the count it is taken over.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Rate {
    /// numerator ÷ n, or `None` when n is 0.
    pub value: Option<f64>,
    /// The numerator.
    pub count: u64,
    /// The denominator.
    pub n: u64,
}

impl Rate {
    fn of(count: u64, n: u64) -> Self {
        debug_assert!(count <= n);
        Rate {
            value: (n > 0).then(|| count as f64 / n as f64),
            count,
            n,
        }
    }
}

/// The five statutory rates.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Rates {
    /// 办复率.
    pub answer_rate: Rate,
    /// 按期办复率.
    pub on_time_rate: Rate,
    /// 见面率.
    pub contact_rate: Rate,
    /// 满意率.
    pub satisfaction_rate: Rate,
    /// 满意+基本满意率.
    pub satisfied_or_basic_rate: Rate,
}

/// The item figures of one group of items.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ItemFigures {
    /// Items in the group.
    pub total: u64,
    /// Items per kind.
    pub by_kind: BTreeMap<String, u64>,
    /// Items that should have been answered by now.
    pub due: u64,
    /// Items answered at least once.
    pub answered: u64,
    /// Items whose first answer came on time.
    pub answered_on_time: u64,
    /// Items never answered and past their due date.
    pub overdue_unanswered: u64,
    /// Items closed (销号).
    pub closed: u64,
    /// Extensions granted.
    pub extensions: u64,
    /// Latest answer class per item.
    pub classes: BTreeMap<String, u64>,
    /// Items once rated unsatisfied and later satisfied or basically satisfied.
    pub unsatisfied_then_satisfied: u64,
    /// Median days from filing to first answer.
    pub median_handling_days: Option<f64>,
    /// Commitments made and kept.
    pub commitments: Commitments,
    /// The rates.
    pub rates: Rates,
}

/// Commitments made in answers, and how many were kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Commitments {
    /// Made.
    pub made: u64,
    /// Kept.
    pub kept: u64,
}

impl ItemFigures {
    /// The figures of `items` as of `today`.
    pub fn of<'a>(items: impl IntoIterator<Item = &'a ItemFacts>, today: Date) -> Self {
        let mut tally = Tally::default();
        for item in items {
            tally.add(item, today);
        }
        tally.finish()
    }
}

#[derive(Default)]
struct Tally {
    total: u64,
    by_kind: BTreeMap<String, u64>,
    due: u64,
    answered: u64,
    answered_on_time: u64,
    overdue_unanswered: u64,
    closed: u64,
    extensions: u64,
    classes: BTreeMap<String, u64>,
    contacted: u64,
    rated: u64,
    satisfied: u64,
    satisfied_or_basic: u64,
    unsatisfied_then_satisfied: u64,
    handling_days: Vec<i64>,
    commitments: (u64, u64),
}

impl Tally {
    fn add(&mut self, item: &ItemFacts, today: Date) {
        self.total += 1;
        *self.by_kind.entry(item.kind.clone()).or_default() += 1;
        self.closed += u64::from(item.status == "closed");
        self.extensions += u64::from(item.extensions);
        self.commitments.0 += u64::from(item.commitments_made);
        self.commitments.1 += u64::from(item.commitments_kept);
        let first = item.rounds.first();
        let answered = first.and_then(|round| round.answered_on).is_some();
        let current_overdue = item
            .rounds
            .last()
            .is_some_and(|round| round.answered_on.is_none() && today > round.due);
        self.due += u64::from(answered || current_overdue);
        if answered {
            self.answered += 1;
            self.answered_on_time += u64::from(first.and_then(|r| r.on_time) == Some(true));
            self.contacted += u64::from(first.is_some_and(|r| r.contact_before_answer));
            if let Some(days) = first
                .and_then(|round| round.answered_on)
                .and_then(|answered_on| item.filed_on.until(answered_on).ok())
            {
                self.handling_days.push(i64::from(days.get_days()));
            }
        } else if current_overdue {
            self.overdue_unanswered += 1;
        }
        let latest_class = item
            .rounds
            .iter()
            .rev()
            .find_map(|round| round.class.clone());
        if let Some(class) = latest_class {
            *self.classes.entry(class).or_default() += 1;
        }
        let latest_rating = item
            .rounds
            .iter()
            .rev()
            .find_map(|round| round.rating.as_deref());
        let satisfied = matches!(latest_rating, Some("satisfied"));
        let basic = matches!(latest_rating, Some("basically_satisfied"));
        if latest_rating.is_some_and(|rating| rating != "no_response") {
            self.rated += 1;
        }
        self.satisfied += u64::from(satisfied);
        self.satisfied_or_basic += u64::from(satisfied || basic);
        self.unsatisfied_then_satisfied += u64::from(item.ever_unsatisfied && (satisfied || basic));
    }

    fn finish(mut self) -> ItemFigures {
        for class in ["A", "B", "C", "D"] {
            self.classes.entry(class.to_owned()).or_default();
        }
        ItemFigures {
            total: self.total,
            by_kind: self.by_kind,
            due: self.due,
            answered: self.answered,
            answered_on_time: self.answered_on_time,
            overdue_unanswered: self.overdue_unanswered,
            closed: self.closed,
            extensions: self.extensions,
            classes: self.classes,
            unsatisfied_then_satisfied: self.unsatisfied_then_satisfied,
            median_handling_days: median(&mut self.handling_days),
            commitments: Commitments {
                made: self.commitments.0,
                kept: self.commitments.1,
            },
            rates: Rates {
                answer_rate: Rate::of(self.answered, self.due),
                on_time_rate: Rate::of(
                    self.answered_on_time,
                    self.answered + self.overdue_unanswered,
                ),
                contact_rate: Rate::of(self.contacted, self.answered),
                satisfaction_rate: Rate::of(self.satisfied, self.rated),
                satisfied_or_basic_rate: Rate::of(self.satisfied_or_basic, self.rated),
            },
        }
    }
}

fn median(values: &mut [i64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let middle = values.len() / 2;
    Some(if values.len() % 2 == 1 {
        values[middle] as f64
    } else {
        (values[middle - 1] + values[middle]) as f64 / 2.0
    })
}

/// The figures report: overall (or for one year), per year, per leader and per lead unit.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Figures {
    /// The last position folded.
    pub as_of_position: Option<u64>,
    /// The moment the figures were judged at.
    pub now: String,
    /// The year the report is restricted to, if any.
    pub year: Option<i16>,
    /// The items of the report.
    pub items: ItemFigures,
    /// Per year of filing.
    pub by_year: BTreeMap<i16, ItemFigures>,
    /// Per responsible leader.
    pub by_leader: BTreeMap<String, ItemFigures>,
    /// Per lead unit.
    pub by_lead_unit: BTreeMap<String, ItemFigures>,
    /// Case follows started in the period.
    pub follows: FollowFigures,
    /// Engagements held in the period, per kind.
    pub engagements: BTreeMap<String, u64>,
    /// Registered people per kind (whatever the period).
    pub people: BTreeMap<String, u64>,
    /// Registered people per kind, then per congress level (those with a level: deputies and
    /// supervisors).
    pub people_by_level: BTreeMap<String, BTreeMap<String, u64>>,
    /// Registered people per kind, then per township (those with a township).
    pub people_by_township: BTreeMap<String, BTreeMap<String, u64>>,
}

/// The figures of case follows (一人一案).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FollowFigures {
    /// Follows started.
    pub total: u64,
    /// Of which ended.
    pub ended: u64,
    /// Enforcement actions recorded.
    pub actions: u64,
    /// Of which a deputy witnessed.
    pub witnessed_actions: u64,
    /// Mediations.
    pub mediations: u64,
    /// Of which settled.
    pub settled_mediations: u64,
    /// Amount recovered, a decimal string in yuan.
    pub recovered_yuan: String,
}

impl FollowFigures {
    fn of<'a>(follows: impl IntoIterator<Item = &'a FollowFacts>) -> Self {
        let mut figures = FollowFigures {
            total: 0,
            ended: 0,
            actions: 0,
            witnessed_actions: 0,
            mediations: 0,
            settled_mediations: 0,
            recovered_yuan: String::new(),
        };
        let mut recovered_fen: u64 = 0;
        for follow in follows {
            figures.total += 1;
            figures.ended += u64::from(follow.ended);
            figures.actions += follow.actions;
            figures.witnessed_actions += follow.witnessed_actions;
            figures.mediations += follow.mediations;
            figures.settled_mediations += follow.settled_mediations;
            recovered_fen = recovered_fen.saturating_add(follow.recovered_fen);
        }
        figures.recovered_yuan = yuan_text(recovered_fen);
        figures
    }
}

/// Formats fen as a decimal string in yuan with two decimals.
fn yuan_text(fen: u64) -> String {
    Yuan::from_fen(fen)
        .map(|yuan| yuan.to_string())
        .unwrap_or_else(|| format!("{}.{:02}", fen / 100, fen % 100))
}

impl Figures {
    /// The figures of `facts` on `today`, restricted to items filed in `year` when given.
    pub fn of<'a>(
        facts: impl IntoIterator<Item = &'a Facts>,
        records_folded: u64,
        today: Date,
        now: String,
        year: Option<i16>,
    ) -> Self {
        let in_year = |date: Date| year.is_none_or(|year| date.year() == year);
        let mut items: Vec<&ItemFacts> = Vec::new();
        let mut follows: Vec<&FollowFacts> = Vec::new();
        let mut engagements: BTreeMap<String, u64> = BTreeMap::new();
        let mut people: BTreeMap<String, u64> = BTreeMap::new();
        let mut people_by_level: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
        let mut people_by_township: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
        for facts in facts {
            match facts {
                Facts::Item(item) if in_year(item.filed_on) => items.push(item),
                Facts::Follow(follow) if in_year(follow.started_on) => follows.push(follow),
                Facts::Engagement(engagement) if in_year(engagement.held_on) => {
                    *engagements.entry(engagement.kind.clone()).or_default() += 1;
                }
                Facts::Person(person) => {
                    *people.entry(person.kind.clone()).or_default() += 1;
                    if let Some(level) = &person.level {
                        let levels = people_by_level.entry(person.kind.clone()).or_default();
                        *levels.entry(level.clone()).or_default() += 1;
                    }
                    if let Some(township) = &person.township {
                        let townships = people_by_township.entry(person.kind.clone()).or_default();
                        *townships.entry(township.clone()).or_default() += 1;
                    }
                }
                Facts::Item(_) | Facts::Follow(_) | Facts::Engagement(_) => {}
            }
        }
        let group = |key: &dyn Fn(&ItemFacts) -> Option<String>| {
            let mut groups: BTreeMap<String, Vec<&ItemFacts>> = BTreeMap::new();
            for item in &items {
                if let Some(key) = key(item) {
                    groups.entry(key).or_default().push(item);
                }
            }
            groups
                .into_iter()
                .map(|(key, members)| (key, ItemFigures::of(members, today)))
                .collect::<BTreeMap<_, _>>()
        };
        let mut by_year: BTreeMap<i16, Vec<&ItemFacts>> = BTreeMap::new();
        for item in &items {
            by_year.entry(item.filed_on.year()).or_default().push(item);
        }
        Figures {
            as_of_position: records_folded.checked_sub(1),
            now,
            year,
            items: ItemFigures::of(items.iter().copied(), today),
            by_year: by_year
                .into_iter()
                .map(|(year, members)| (year, ItemFigures::of(members, today)))
                .collect(),
            by_leader: group(&|item| item.leader.clone()),
            by_lead_unit: group(&|item| item.lead_unit.clone()),
            follows: FollowFigures::of(follows),
            engagements,
            people,
            people_by_level,
            people_by_township,
        }
    }
}
