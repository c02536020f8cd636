//! The rules: how an item decides a command.
//!
//! The checks run in a fixed order and the first that fails decides the error:
//!
//! 1. the actor's role ([`ItemError::RoleNotAllowed`]);
//! 2. existence: the item must be filed, except for `FileItem` ([`ItemError::NotFiled`],
//!    [`ItemError::AlreadyFiled`]), and the command's `item_id` must be the item's
//!    ([`ItemError::ItemIdMismatch`]);
//! 3. ownership: a deputy rates only an item that names them;
//! 4. the item's state (including, for `FulfilCommitment`, whether the commitment exists and is
//!    open);
//! 5. the command's fields: the actor's id, the year of `at`, then the action's fields in the
//!    order they are declared (for `FileItem`, starting with the new item's id).
//!
//! Facts about other items (a merge target, a parent, open children) arrive on the command
//! ([`super::ItemFacts`]) and are checked last, after the command's own fields.
//!
//! Nothing here reads the clock: every date is the local date of the command's `at` in the
//! ledger's time zone.

use jiff::civil::Date;

use super::aggregate::{FiledItem, Item};
use super::command::{
    AnswerItem, AssignItem, CloseItem, FileItem, FulfilCommitment, ItemAction, ItemCommand,
    RateAnswer, ReconcileItem, TriageItem,
};
use super::error::ItemError;
use super::event::ItemEvent;
use super::types::{Deputy, ItemKind, ItemStatus, Rating, TriageDecision};
use crate::actor::Role;
use crate::rules::Rules;
use crate::validate::{self, FieldError};

impl Item {
    /// Decides `command` against the item's current state: the events it records, or why it is
    /// refused. Pure: the same state, command and rules always give the same answer, and nothing
    /// is changed. [`cqrs_es::Aggregate::handle`] writes exactly these events.
    ///
    /// # Errors
    ///
    /// The first rule the command breaks, in the order described on [`ItemError`].
    pub fn decide(
        &self,
        command: &ItemCommand,
        rules: &Rules,
    ) -> Result<Vec<ItemEvent>, ItemError> {
        check_role(command)?;
        let Some(item) = self.filed() else {
            return match &command.action {
                ItemAction::FileItem(data) => decide_file(command, data, rules),
                action => Err(ItemError::NotFiled {
                    item_id: action.item_id().to_owned(),
                }),
            };
        };
        let command_item_id = command.action.item_id();
        if command_item_id != item.item_id {
            return Err(ItemError::ItemIdMismatch {
                item_id: item.item_id.clone(),
                command_item_id: command_item_id.to_owned(),
            });
        }
        let context = Context {
            item,
            command,
            rules,
        };
        match &command.action {
            ItemAction::FileItem(_) => Err(ItemError::AlreadyFiled {
                item_id: item.item_id.clone(),
                status: item.status,
            }),
            ItemAction::TriageItem(data) => context.triage(data),
            ItemAction::AssignItem(data) => context.assign(data),
            ItemAction::AcknowledgeItem(data) => context.acknowledge(data),
            ItemAction::RecordContact(data) => context.contact(data),
            ItemAction::SubmitCoView(data) => context.co_view(data),
            ItemAction::ReportProgress(data) => context.progress(data),
            ItemAction::RequestExtension(data) => context.request_extension(data),
            ItemAction::DecideExtension(data) => context.decide_extension(data),
            ItemAction::AnswerItem(data) => context.answer(data),
            ItemAction::ReclassifyAnswer(data) => context.reclassify(data),
            ItemAction::RateAnswer(data) => context.rate(data),
            ItemAction::FulfilCommitment(data) => context.fulfil(data),
            ItemAction::ReconcileItem(data) => context.reconcile(data),
            ItemAction::CloseItem(data) => context.close(data),
            ItemAction::WithdrawItem(data) => context.withdraw(data),
            ItemAction::ReopenItem(data) => context.reopen(data),
        }
    }
}

fn check_role(command: &ItemCommand) -> Result<(), ItemError> {
    let action = command.action.type_name();
    if !ItemAction::allowed_roles(action).contains(&command.actor.role) {
        return Err(ItemError::RoleNotAllowed {
            item_id: command.action.item_id().to_owned(),
            action,
            role: command.actor.role,
        });
    }
    Ok(())
}

/// Wraps a field check's error with the item's id.
fn field(item_id: &str, checked: Result<(), FieldError>) -> Result<(), ItemError> {
    checked.map_err(|error| ItemError::InvalidField {
        item_id: item_id.to_owned(),
        error,
    })
}

/// Checks the fields every command has: the actor's id and the year of `at`.
fn check_envelope(item_id: &str, command: &ItemCommand, rules: &Rules) -> Result<(), ItemError> {
    field(item_id, validate::id("actor.id", &command.actor.id))?;
    field(
        item_id,
        validate::at_year("at", &command.at, &rules.deadlines.time_zone),
    )
}

fn decide_file(
    command: &ItemCommand,
    data: &FileItem,
    rules: &Rules,
) -> Result<Vec<ItemEvent>, ItemError> {
    let item_id = data.item_id.as_str();
    check_envelope(item_id, command, rules)?;
    field(item_id, validate::id("item_id", item_id))?;
    field(
        item_id,
        validate::required_text("title", &data.title, validate::TITLE_CHARS_MAX),
    )?;
    field(
        item_id,
        validate::optional_text("body", &data.body, validate::TEXT_CHARS_MAX),
    )?;
    check_deputies(item_id, &data.deputies)?;
    check_cases(item_id, &data.cases)?;
    if let Some(parent_id) = &data.parent_id {
        field(item_id, validate::id("parent_id", parent_id))?;
        if parent_id == item_id {
            return Err(ItemError::ParentIsItself {
                item_id: item_id.to_owned(),
            });
        }
        check_parent(item_id, parent_id, command)?;
    }
    let filed_on = command.at.local_date(&rules.deadlines.time_zone);
    Ok(vec![ItemEvent::ItemFiled {
        item_id: data.item_id.clone(),
        kind: data.kind,
        title: data.title.clone(),
        body: data.body.clone(),
        deputies: data.deputies.clone(),
        urgent: data.urgent,
        cases: data.cases.clone(),
        parent_id: data.parent_id.clone(),
        triage_due: rules.deadlines.triage_due(filed_on),
    }])
}

/// Checks the parent the write side found: filed, a deliberation opinion, and not finished.
fn check_parent(item_id: &str, parent_id: &str, command: &ItemCommand) -> Result<(), ItemError> {
    let Some(parent) = command.facts.parent else {
        return Err(ItemError::ParentNotFound {
            item_id: item_id.to_owned(),
            parent_id: parent_id.to_owned(),
        });
    };
    if parent.kind != ItemKind::DeliberationOpinion {
        return Err(ItemError::ParentNotDeliberation {
            item_id: item_id.to_owned(),
            parent_id: parent_id.to_owned(),
            kind: parent.kind,
        });
    }
    if parent.status.is_finished() {
        return Err(ItemError::ParentFinished {
            item_id: item_id.to_owned(),
            parent_id: parent_id.to_owned(),
            status: parent.status,
        });
    }
    Ok(())
}

fn check_deputies(item_id: &str, deputies: &[Deputy]) -> Result<(), ItemError> {
    if deputies.is_empty() {
        return field(
            item_id,
            Err(FieldError::Empty {
                field: "deputies".to_owned(),
            }),
        );
    }
    field(
        item_id,
        validate::count("deputies", deputies.len(), validate::DEPUTIES_MAX),
    )?;
    for (index, deputy) in deputies.iter().enumerate() {
        field(
            item_id,
            validate::id(&format!("deputies[{index}].id"), &deputy.id),
        )?;
        let name_field = format!("deputies[{index}].name");
        field(
            item_id,
            validate::required_text(&name_field, &deputy.name, validate::NAME_CHARS_MAX),
        )?;
    }
    let ids = deputies.iter().map(|deputy| deputy.id.as_str());
    field(item_id, validate::unique("deputies[].id", ids))?;
    let leads: Vec<String> = deputies
        .iter()
        .filter(|deputy| deputy.lead)
        .map(|deputy| deputy.id.clone())
        .collect();
    if leads.len() > 1 {
        return Err(ItemError::SeveralLeadDeputies {
            item_id: item_id.to_owned(),
            deputy_ids: leads,
        });
    }
    Ok(())
}

fn check_cases(item_id: &str, cases: &[String]) -> Result<(), ItemError> {
    field(
        item_id,
        validate::count("cases", cases.len(), validate::CASES_MAX),
    )?;
    for (index, case_no) in cases.iter().enumerate() {
        let case_field = format!("cases[{index}]");
        field(
            item_id,
            validate::required_text(&case_field, case_no, validate::CASE_NO_CHARS_MAX),
        )?;
    }
    field(
        item_id,
        validate::unique("cases", cases.iter().map(String::as_str)),
    )
}

/// A command being decided for a filed item, with the rules it is decided by.
pub(super) struct Context<'a> {
    pub(super) item: &'a FiledItem,
    pub(super) command: &'a ItemCommand,
    pub(super) rules: &'a Rules,
}

impl Context<'_> {
    pub(super) fn item_id(&self) -> &str {
        &self.item.item_id
    }

    pub(super) fn status(&self) -> ItemStatus {
        self.item.status
    }

    /// The local date of the command's `at` in the ledger's time zone.
    pub(super) fn today(&self) -> Date {
        self.command.at.local_date(&self.rules.deadlines.time_zone)
    }

    pub(super) fn field(&self, checked: Result<(), FieldError>) -> Result<(), ItemError> {
        field(self.item_id(), checked)
    }

    pub(super) fn check_envelope(&self) -> Result<(), ItemError> {
        check_envelope(self.item_id(), self.command, self.rules)
    }

    fn triage(&self, data: &TriageItem) -> Result<Vec<ItemEvent>, ItemError> {
        if self.status() != ItemStatus::Filed {
            let status = self.status();
            return Err(ItemError::TriageNeedsFiled {
                item_id: self.item_id().to_owned(),
                status,
            });
        }
        self.check_envelope()?;
        self.check_triage_fields(data)?;
        if data.decision == TriageDecision::Merge {
            self.check_merge_target(data)?;
        }
        let item_id = self.item_id().to_owned();
        let reason = data.reason.clone();
        let event = match data.decision {
            TriageDecision::Accept => ItemEvent::ItemAccepted { item_id, reason },
            TriageDecision::Return => ItemEvent::ItemReturned { item_id, reason },
            TriageDecision::Redirect => {
                let redirect_to = data.redirect_to.clone().unwrap_or_default();
                ItemEvent::ItemRedirected {
                    item_id,
                    redirect_to,
                    reason,
                }
            }
            TriageDecision::Merge => {
                let target_item_id = data.target_item_id.clone().unwrap_or_default();
                ItemEvent::ItemMerged {
                    item_id,
                    target_item_id,
                    reason,
                }
            }
        };
        Ok(vec![event])
    }

    /// Checks that a triage gives exactly the fields its decision uses.
    fn check_triage_fields(&self, data: &TriageItem) -> Result<(), ItemError> {
        let decision = data.decision;
        let not_for_decision = |field: &'static str| ItemError::FieldNotForDecision {
            item_id: self.item_id().to_owned(),
            field,
            decision,
        };
        let wants_target = decision == TriageDecision::Merge;
        let wants_redirect = decision == TriageDecision::Redirect;
        if data.target_item_id.is_some() && !wants_target {
            return Err(not_for_decision("target_item_id"));
        }
        if data.redirect_to.is_some() && !wants_redirect {
            return Err(not_for_decision("redirect_to"));
        }
        if wants_redirect {
            let redirect_to = data.redirect_to.as_deref().unwrap_or_default();
            self.field(validate::required_text(
                "redirect_to",
                redirect_to,
                validate::UNIT_CHARS_MAX,
            ))?;
        }
        if wants_target {
            let target_item_id = data.target_item_id.as_deref().unwrap_or_default();
            self.field(validate::id("target_item_id", target_item_id))?;
            if target_item_id == self.item_id() {
                return Err(ItemError::MergeIntoItself {
                    item_id: self.item_id().to_owned(),
                });
            }
        }
        if decision == TriageDecision::Accept {
            self.field(validate::optional_text(
                "reason",
                &data.reason,
                validate::TEXT_CHARS_MAX,
            ))
        } else {
            self.field(validate::required_text(
                "reason",
                &data.reason,
                validate::TEXT_CHARS_MAX,
            ))
        }
    }

    /// Checks the merge target the write side found: filed and not finished.
    fn check_merge_target(&self, data: &TriageItem) -> Result<(), ItemError> {
        let target_item_id = data.target_item_id.clone().unwrap_or_default();
        let Some(target) = self.command.facts.merge_target else {
            return Err(ItemError::MergeTargetNotFound {
                item_id: self.item_id().to_owned(),
                target_item_id,
            });
        };
        if target.status.is_finished() {
            return Err(ItemError::MergeTargetFinished {
                item_id: self.item_id().to_owned(),
                target_item_id,
                status: target.status,
            });
        }
        Ok(())
    }

    fn assign(&self, data: &AssignItem) -> Result<Vec<ItemEvent>, ItemError> {
        if self.status() != ItemStatus::Accepted {
            let status = self.status();
            return Err(ItemError::AssignNeedsAccepted {
                item_id: self.item_id().to_owned(),
                status,
            });
        }
        self.check_envelope()?;
        self.field(validate::required_text(
            "lead_unit",
            &data.lead_unit,
            validate::UNIT_CHARS_MAX,
        ))?;
        self.check_co_units(&data.lead_unit, &data.co_units)?;
        self.field(validate::id("leader.id", &data.leader.id))?;
        let name_max = validate::NAME_CHARS_MAX;
        self.field(validate::required_text(
            "leader.name",
            &data.leader.name,
            name_max,
        ))?;
        let assigned_on = self.today();
        let co_view_due = if data.co_units.is_empty() {
            None
        } else {
            Some(self.rules.deadlines.co_view_due(assigned_on))
        };
        Ok(vec![ItemEvent::ItemAssigned {
            item_id: self.item_id().to_owned(),
            lead_unit: data.lead_unit.clone(),
            co_units: data.co_units.clone(),
            leader: data.leader.clone(),
            assigned_on,
            answer_due: self
                .rules
                .deadlines
                .answer_due(assigned_on, self.item.urgent),
            co_view_due,
        }])
    }

    fn check_co_units(&self, lead_unit: &str, co_units: &[String]) -> Result<(), ItemError> {
        self.field(validate::count(
            "co_units",
            co_units.len(),
            validate::CO_UNITS_MAX,
        ))?;
        for (index, unit) in co_units.iter().enumerate() {
            let unit_field = format!("co_units[{index}]");
            self.field(validate::required_text(
                &unit_field,
                unit,
                validate::UNIT_CHARS_MAX,
            ))?;
        }
        self.field(validate::unique(
            "co_units",
            co_units.iter().map(String::as_str),
        ))?;
        if let Some(unit) = co_units.iter().find(|unit| unit.as_str() == lead_unit) {
            let item_id = self.item_id().to_owned();
            return Err(ItemError::CoUnitIsLeadUnit {
                item_id,
                unit: unit.clone(),
            });
        }
        Ok(())
    }

    fn answer(&self, data: &AnswerItem) -> Result<Vec<ItemEvent>, ItemError> {
        if !matches!(self.status(), ItemStatus::Assigned | ItemStatus::Rehandling) {
            let status = self.status();
            return Err(ItemError::AnswerNeedsAssignment {
                item_id: self.item_id().to_owned(),
                status,
            });
        }
        if self.rules.require_contact_before_answer && self.item.current.contacts == 0 {
            return Err(ItemError::ContactRequired {
                item_id: self.item_id().to_owned(),
                round: self.item.round,
            });
        }
        self.check_envelope()?;
        self.field(validate::required_text(
            "text",
            &data.text,
            validate::TEXT_CHARS_MAX,
        ))?;
        if let Some(doc_no) = &data.doc_no {
            self.field(validate::required_text(
                "doc_no",
                doc_no,
                validate::DOC_NO_CHARS_MAX,
            ))?;
        }
        self.check_commitments(data)?;
        let answered_on = self.today();
        let due = self.item.due;
        Ok(vec![ItemEvent::ItemAnswered {
            item_id: self.item_id().to_owned(),
            round: self.item.round,
            class: data.class,
            text: data.text.clone(),
            doc_no: data.doc_no.clone(),
            public: data.public,
            commitments: data.commitments.clone(),
            answered_on,
            due,
            on_time: answered_on <= due,
        }])
    }

    fn check_commitments(&self, data: &AnswerItem) -> Result<(), ItemError> {
        let commitments = &data.commitments;
        self.field(validate::count(
            "commitments",
            commitments.len(),
            validate::COMMITMENTS_MAX,
        ))?;
        for (index, commitment) in commitments.iter().enumerate() {
            self.field(validate::id(
                &format!("commitments[{index}].id"),
                &commitment.id,
            ))?;
            let text_field = format!("commitments[{index}].text");
            let text_max = validate::COMMITMENT_TEXT_CHARS_MAX;
            self.field(validate::required_text(
                &text_field,
                &commitment.text,
                text_max,
            ))?;
        }
        let ids = commitments.iter().map(|commitment| commitment.id.as_str());
        self.field(validate::unique("commitments[].id", ids))?;
        let earlier = |id: &str| self.item.commitments.iter().any(|made| made.id == id);
        if let Some(used) = commitments
            .iter()
            .find(|commitment| earlier(&commitment.id))
        {
            return Err(ItemError::CommitmentIdUsed {
                item_id: self.item_id().to_owned(),
                commitment_id: used.id.clone(),
            });
        }
        Ok(())
    }

    fn rate(&self, data: &RateAnswer) -> Result<Vec<ItemEvent>, ItemError> {
        let on_behalf = self.command.actor.role == Role::Liaison;
        if !on_behalf {
            self.check_deputy_owns_item(data)?;
        }
        if self.status() != ItemStatus::Answered {
            let status = self.status();
            return Err(ItemError::RatingNeedsAnswer {
                item_id: self.item_id().to_owned(),
                status,
            });
        }
        self.check_envelope()?;
        self.field(validate::optional_text(
            "comment",
            &data.comment,
            validate::TEXT_CHARS_MAX,
        ))?;
        let deputy_id = if on_behalf {
            self.deputy_rated_on_behalf(data)?
        } else {
            self.command.actor.id.clone()
        };
        let round = self.item.round;
        let mut events = vec![ItemEvent::AnswerRated {
            item_id: self.item_id().to_owned(),
            round,
            rating: data.rating,
            comment: data.comment.clone(),
            deputy_id,
            on_behalf,
        }];
        if data.rating == Rating::Unsatisfied {
            events.push(ItemEvent::RehandlingStarted {
                item_id: self.item_id().to_owned(),
                round: round.saturating_add(1),
                answer_due: self.rules.deadlines.rehandling_due(self.today()),
            });
        }
        Ok(events)
    }

    /// Checks that the acting deputy is named on the item and rates in their own name.
    fn check_deputy_owns_item(&self, data: &RateAnswer) -> Result<(), ItemError> {
        let actor_id = &self.command.actor.id;
        if !self
            .item
            .deputies
            .iter()
            .any(|deputy| &deputy.id == actor_id)
        {
            return Err(ItemError::NotItemDeputy {
                item_id: self.item_id().to_owned(),
                deputy_id: actor_id.clone(),
            });
        }
        if let Some(deputy_id) = data.deputy_id.as_ref().filter(|named| *named != actor_id) {
            return Err(ItemError::RatingForAnotherDeputy {
                item_id: self.item_id().to_owned(),
                actor_id: actor_id.clone(),
                deputy_id: deputy_id.clone(),
            });
        }
        Ok(())
    }

    /// The deputy whose rating the liaison office records: the one named, else the lead
    /// deputy, else the first.
    fn deputy_rated_on_behalf(&self, data: &RateAnswer) -> Result<String, ItemError> {
        let deputies = &self.item.deputies;
        if let Some(deputy_id) = &data.deputy_id {
            if !deputies.iter().any(|deputy| &deputy.id == deputy_id) {
                return Err(ItemError::UnknownDeputy {
                    item_id: self.item_id().to_owned(),
                    deputy_id: deputy_id.clone(),
                });
            }
            return Ok(deputy_id.clone());
        }
        let lead = deputies.iter().find(|deputy| deputy.lead);
        match lead.or(deputies.first()) {
            Some(deputy) => Ok(deputy.id.clone()),
            // Filing refuses an item without deputies, so this is only reachable from a
            // hand-made history; asking for the deputy is then the honest answer.
            None => Err(ItemError::InvalidField {
                item_id: self.item_id().to_owned(),
                error: FieldError::Empty {
                    field: "deputy_id".to_owned(),
                },
            }),
        }
    }

    fn fulfil(&self, data: &FulfilCommitment) -> Result<Vec<ItemEvent>, ItemError> {
        let status = self.status();
        if status == ItemStatus::Closed || status.is_ended_unanswered() {
            return Err(ItemError::ItemFinished {
                item_id: self.item_id().to_owned(),
                status,
            });
        }
        let commitment_id = &data.commitment_id;
        let made = self
            .item
            .commitments
            .iter()
            .find(|made| &made.id == commitment_id);
        let Some(commitment) = made else {
            return Err(ItemError::CommitmentNotFound {
                item_id: self.item_id().to_owned(),
                commitment_id: commitment_id.clone(),
            });
        };
        if commitment.fulfilled {
            return Err(ItemError::CommitmentAlreadyFulfilled {
                item_id: self.item_id().to_owned(),
                commitment_id: commitment_id.clone(),
            });
        }
        self.check_envelope()?;
        self.field(validate::optional_text(
            "note",
            &data.note,
            validate::TEXT_CHARS_MAX,
        ))?;
        Ok(vec![ItemEvent::CommitmentFulfilled {
            item_id: self.item_id().to_owned(),
            commitment_id: commitment_id.clone(),
            note: data.note.clone(),
        }])
    }

    fn reconcile(&self, data: &ReconcileItem) -> Result<Vec<ItemEvent>, ItemError> {
        if self.status() != ItemStatus::Rated {
            let status = self.status();
            return Err(ItemError::ReconcileNeedsRating {
                item_id: self.item_id().to_owned(),
                status,
            });
        }
        let open = self.item.open_commitment_ids();
        if !open.is_empty() {
            let item_id = self.item_id().to_owned();
            return Err(ItemError::OpenCommitments {
                item_id,
                commitment_ids: open,
            });
        }
        self.check_envelope()?;
        self.field(validate::optional_text(
            "note",
            &data.note,
            validate::TEXT_CHARS_MAX,
        ))?;
        let item_id = self.item_id().to_owned();
        Ok(vec![ItemEvent::ItemReconciled {
            item_id,
            note: data.note.clone(),
        }])
    }

    fn close(&self, data: &CloseItem) -> Result<Vec<ItemEvent>, ItemError> {
        if self.status() != ItemStatus::Reconciled {
            let status = self.status();
            let item_id = self.item_id().to_owned();
            return Err(ItemError::CloseNeedsReconciliation { item_id, status });
        }
        let open_children = &self.command.facts.open_child_ids;
        if self.item.kind == ItemKind::DeliberationOpinion && !open_children.is_empty() {
            return Err(ItemError::OpenChildItems {
                item_id: self.item_id().to_owned(),
                child_ids: open_children.clone(),
            });
        }
        self.check_envelope()?;
        self.field(validate::optional_text(
            "note",
            &data.note,
            validate::TEXT_CHARS_MAX,
        ))?;
        let item_id = self.item_id().to_owned();
        Ok(vec![ItemEvent::ItemClosed {
            item_id,
            note: data.note.clone(),
        }])
    }
}
