//! The rules of handling an assigned item, and of its later turns: acknowledgement, contacts,
//! co-unit views, progress, extensions, reclassification, withdrawal and reopening.
//!
//! Each follows the order of [`super::decide`]: role and existence are checked by the caller;
//! here come ownership (the unit named), the item's state, then the fields.

use super::aggregate::Assignment;
use super::command::{
    AcknowledgeItem, DecideExtension, ReclassifyAnswer, RecordContact, ReopenItem, ReportProgress,
    RequestExtension, SubmitCoView, WithdrawItem,
};
use super::decide::Context;
use super::error::ItemError;
use super::event::ItemEvent;
use super::types::ItemStatus;
use crate::validate;

impl Context<'_> {
    /// The assignment, or why a handling command must wait for it.
    fn assignment(&self, action: &'static str) -> Result<&Assignment, ItemError> {
        match &self.item.assignment {
            Some(assignment) => Ok(assignment),
            None => Err(ItemError::NotAssigned {
                item_id: self.item_id().to_owned(),
                action,
                status: self.status(),
            }),
        }
    }

    /// Refuses unless the current round awaits its answer (`assigned` or `rehandling`).
    fn check_round_awaits_answer(&self, action: &'static str) -> Result<(), ItemError> {
        if matches!(self.status(), ItemStatus::Assigned | ItemStatus::Rehandling) {
            return Ok(());
        }
        Err(ItemError::RoundNotAwaitingAnswer {
            item_id: self.item_id().to_owned(),
            action,
            status: self.status(),
        })
    }

    /// Refuses on an item that is closed or ended.
    fn check_not_finished(&self, action: &'static str) -> Result<(), ItemError> {
        if !self.status().is_finished() {
            return Ok(());
        }
        Err(ItemError::ItemEnded {
            item_id: self.item_id().to_owned(),
            action,
            status: self.status(),
        })
    }

    fn required_text(&self, name: &str, value: &str) -> Result<(), ItemError> {
        self.field(validate::required_text(
            name,
            value,
            validate::TEXT_CHARS_MAX,
        ))
    }

    pub(super) fn acknowledge(&self, data: &AcknowledgeItem) -> Result<Vec<ItemEvent>, ItemError> {
        let assignment = self.assignment("AcknowledgeItem")?;
        let units = assignment.units();
        if !units.contains(&data.unit) {
            return Err(ItemError::UnitNotOnItem {
                item_id: self.item_id().to_owned(),
                unit: data.unit.clone(),
                units,
            });
        }
        self.check_round_awaits_answer("AcknowledgeItem")?;
        if self.item.current.acknowledged_units.contains(&data.unit) {
            return Err(ItemError::AlreadyAcknowledged {
                item_id: self.item_id().to_owned(),
                unit: data.unit.clone(),
                round: self.item.round,
            });
        }
        self.check_envelope()?;
        Ok(vec![ItemEvent::ItemAcknowledged {
            item_id: self.item_id().to_owned(),
            round: self.item.round,
            unit: data.unit.clone(),
            acknowledged_on: self.today(),
        }])
    }

    pub(super) fn contact(&self, data: &RecordContact) -> Result<Vec<ItemEvent>, ItemError> {
        self.assignment("RecordContact")?;
        self.check_not_finished("RecordContact")?;
        self.check_envelope()?;
        self.field(validate::id("deputy_id", &data.deputy_id))?;
        if !self
            .item
            .deputies
            .iter()
            .any(|deputy| deputy.id == data.deputy_id)
        {
            return Err(ItemError::UnknownDeputy {
                item_id: self.item_id().to_owned(),
                deputy_id: data.deputy_id.clone(),
            });
        }
        self.required_text("summary", &data.summary)?;
        Ok(vec![ItemEvent::ContactRecorded {
            item_id: self.item_id().to_owned(),
            round: self.item.round,
            deputy_id: data.deputy_id.clone(),
            channel: data.channel,
            stage: data.stage,
            summary: data.summary.clone(),
            contacted_on: self.today(),
        }])
    }

    pub(super) fn co_view(&self, data: &SubmitCoView) -> Result<Vec<ItemEvent>, ItemError> {
        let assignment = self.assignment("SubmitCoView")?;
        if !assignment.co_units.contains(&data.unit) {
            return Err(ItemError::NotCoUnit {
                item_id: self.item_id().to_owned(),
                unit: data.unit.clone(),
                co_units: assignment.co_units.clone(),
            });
        }
        self.check_round_awaits_answer("SubmitCoView")?;
        if self.item.current.co_view_units.contains(&data.unit) {
            return Err(ItemError::CoViewAlreadySubmitted {
                item_id: self.item_id().to_owned(),
                unit: data.unit.clone(),
                round: self.item.round,
            });
        }
        self.check_envelope()?;
        self.required_text("view", &data.view)?;
        let submitted_on = self.today();
        // Only the first round has a co-view due date: it is set at assignment.
        let due = assignment.co_view_due.filter(|_| self.item.round == 1);
        Ok(vec![ItemEvent::CoViewSubmitted {
            item_id: self.item_id().to_owned(),
            round: self.item.round,
            unit: data.unit.clone(),
            view: data.view.clone(),
            submitted_on,
            due,
            on_time: due.map(|due| submitted_on <= due),
        }])
    }

    pub(super) fn progress(&self, data: &ReportProgress) -> Result<Vec<ItemEvent>, ItemError> {
        self.assignment("ReportProgress")?;
        self.check_not_finished("ReportProgress")?;
        self.check_envelope()?;
        self.required_text("summary", &data.summary)?;
        Ok(vec![ItemEvent::ProgressReported {
            item_id: self.item_id().to_owned(),
            round: self.item.round,
            summary: data.summary.clone(),
        }])
    }

    pub(super) fn request_extension(
        &self,
        data: &RequestExtension,
    ) -> Result<Vec<ItemEvent>, ItemError> {
        let assignment = self.assignment("RequestExtension")?;
        self.check_round_awaits_answer("RequestExtension")?;
        if let Some(until) = self.item.current.pending_extension {
            return Err(ItemError::ExtensionAlreadyPending {
                item_id: self.item_id().to_owned(),
                until,
            });
        }
        self.check_envelope()?;
        self.check_extension_until(assignment, data)?;
        self.required_text("reason", &data.reason)?;
        Ok(vec![ItemEvent::ExtensionRequested {
            item_id: self.item_id().to_owned(),
            round: self.item.round,
            until: data.until,
            reason: data.reason.clone(),
            due: self.item.due,
        }])
    }

    /// `until` is after the due date in force, within the limit, and a working day (in that
    /// order, so that a clerk told of the next working day is never then told it is too late).
    fn check_extension_until(
        &self,
        assignment: &Assignment,
        data: &RequestExtension,
    ) -> Result<(), ItemError> {
        let deadlines = &self.rules.deadlines;
        let until = data.until;
        if until <= self.item.due {
            return Err(ItemError::ExtensionNotLater {
                item_id: self.item_id().to_owned(),
                until,
                due: self.item.due,
            });
        }
        let until_max = deadlines.extension_due_max(assignment.assigned_on);
        if until > until_max {
            return Err(ItemError::ExtensionBeyondLimit {
                item_id: self.item_id().to_owned(),
                until,
                until_max,
                months_max: deadlines.extension_months_max,
            });
        }
        if !deadlines.calendar.is_working_day(until) {
            return Err(ItemError::ExtensionOnDayOff {
                item_id: self.item_id().to_owned(),
                until,
                next_working_day: deadlines.calendar.on_or_after_working_day(until),
            });
        }
        Ok(())
    }

    pub(super) fn decide_extension(
        &self,
        data: &DecideExtension,
    ) -> Result<Vec<ItemEvent>, ItemError> {
        let Some(until) = self.item.current.pending_extension else {
            return Err(ItemError::NoExtensionPending {
                item_id: self.item_id().to_owned(),
                status: self.status(),
            });
        };
        self.check_envelope()?;
        self.field(validate::optional_text(
            "note",
            &data.note,
            validate::TEXT_CHARS_MAX,
        ))?;
        Ok(vec![ItemEvent::ExtensionDecided {
            item_id: self.item_id().to_owned(),
            round: self.item.round,
            approved: data.approve,
            until,
            note: data.note.clone(),
            due: if data.approve { until } else { self.item.due },
        }])
    }

    pub(super) fn reclassify(&self, data: &ReclassifyAnswer) -> Result<Vec<ItemEvent>, ItemError> {
        let answered = matches!(self.status(), ItemStatus::Answered | ItemStatus::Rated);
        let (true, Some(previous_class)) = (answered, self.item.current.answer_class) else {
            return Err(ItemError::ReclassifyNeedsAnswer {
                item_id: self.item_id().to_owned(),
                status: self.status(),
            });
        };
        self.check_envelope()?;
        if data.class == previous_class {
            return Err(ItemError::SameClass {
                item_id: self.item_id().to_owned(),
                class: data.class,
            });
        }
        self.required_text("reason", &data.reason)?;
        Ok(vec![ItemEvent::AnswerReclassified {
            item_id: self.item_id().to_owned(),
            round: self.item.round,
            previous_class,
            class: data.class,
            reason: data.reason.clone(),
        }])
    }

    pub(super) fn withdraw(&self, data: &WithdrawItem) -> Result<Vec<ItemEvent>, ItemError> {
        let never_answered = matches!(
            self.status(),
            ItemStatus::Filed | ItemStatus::Accepted | ItemStatus::Assigned
        );
        if !never_answered || self.item.ever_answered {
            return Err(ItemError::WithdrawNeedsUnanswered {
                item_id: self.item_id().to_owned(),
                status: self.status(),
            });
        }
        self.check_envelope()?;
        self.required_text("reason", &data.reason)?;
        Ok(vec![ItemEvent::ItemWithdrawn {
            item_id: self.item_id().to_owned(),
            reason: data.reason.clone(),
        }])
    }

    pub(super) fn reopen(&self, data: &ReopenItem) -> Result<Vec<ItemEvent>, ItemError> {
        if self.status() != ItemStatus::Closed {
            return Err(ItemError::ReopenNeedsClosed {
                item_id: self.item_id().to_owned(),
                status: self.status(),
            });
        }
        self.check_envelope()?;
        self.required_text("reason", &data.reason)?;
        Ok(vec![ItemEvent::ItemReopened {
            item_id: self.item_id().to_owned(),
            round: self.item.round.saturating_add(1),
            reason: data.reason.clone(),
            answer_due: self.rules.deadlines.rehandling_due(self.today()),
        }])
    }
}
