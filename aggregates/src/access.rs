//! Who may do what: the one table of every command, its stream, the roles that may issue it,
//! when it may happen and what it does (DESIGN.md §1, §4).
//!
//! The aggregates check roles against [`COMMANDS`]; the write side routes each command type to
//! its stream with it; `docs/commands.md` is generated from it by [`markdown_table`] (a test
//! fails when the page is stale).

use crate::actor::Role;

/// The kind of stream a command writes: `item/<id>`, `follow/<id>`, `engagement/<id>` or
/// `person/<id>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StreamKind {
    /// Supervised items (督办事项).
    Item,
    /// Case follows (一人一案 跟案执行).
    Follow,
    /// Engagements with deputies (走访、视察、座谈…).
    Engagement,
    /// People and their access.
    Person,
}

impl StreamKind {
    /// The stream name's prefix: `"item"`.
    pub const fn prefix(self) -> &'static str {
        match self {
            StreamKind::Item => "item",
            StreamKind::Follow => "follow",
            StreamKind::Engagement => "engagement",
            StreamKind::Person => "person",
        }
    }

    /// The field of a command's data that names its stream's id: `"item_id"`.
    pub const fn id_field(self) -> &'static str {
        match self {
            StreamKind::Item => "item_id",
            StreamKind::Follow => "follow_id",
            StreamKind::Engagement => "engagement_id",
            StreamKind::Person => "person_id",
        }
    }

    /// The stream of the thing with id `id`: `item/2024-S-001`.
    pub fn stream(self, id: &str) -> String {
        format!("{}/{id}", self.prefix())
    }
}

/// One row of the table: a command and who may issue it when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandRule {
    /// The command's type name: `"FileItem"`.
    pub command: &'static str,
    /// The kind of stream it writes.
    pub stream: StreamKind,
    /// The roles that may issue it.
    pub roles: &'static [Role],
    /// An ownership rule beyond the role, if any.
    pub ownership: &'static str,
    /// When it may happen.
    pub when: &'static str,
    /// What it does.
    pub effect: &'static str,
}

const fn rule(
    command: &'static str,
    stream: StreamKind,
    roles: &'static [Role],
    ownership: &'static str,
    when: &'static str,
    effect: &'static str,
) -> CommandRule {
    CommandRule {
        command,
        stream,
        roles,
        ownership,
        when,
        effect,
    }
}

use Role::{Admin, CourtOffice, Deputy, Handler, Leader, Liaison};
use StreamKind::{Engagement, Follow, Item, Person};

/// Every command the ledger knows, in the order of DESIGN.md §4.
pub const COMMANDS: &[CommandRule] = &[
    rule("FileItem", Item, &[Liaison], "", "item_id unused; a parent_id names a filed deliberation opinion that is not finished", "filed; triage due"),
    rule("TriageItem", Item, &[CourtOffice], "", "filed; a merge target is filed and not finished", "accepted, or ended as returned/redirected/merged"),
    rule("AssignItem", Item, &[CourtOffice], "", "accepted", "assigned; answer due and co-view due set"),
    rule("AcknowledgeItem", Item, &[Handler], "the unit is the lead unit or a co-unit", "assigned or rehandling; once per unit and round", "acknowledged by that unit"),
    rule("RecordContact", Item, &[Handler, Leader], "", "assigned, not closed or ended; the deputy is on the item", "contact logged (见面/面商)"),
    rule("SubmitCoView", Item, &[Handler], "the unit is a co-unit", "assigned or rehandling; once per co-unit and round", "co-unit view logged"),
    rule("ReportProgress", Item, &[Handler, Leader], "", "assigned, not closed or ended", "progress logged"),
    rule("RequestExtension", Item, &[Handler, Leader], "", "assigned or rehandling (not answered), none pending; until is a working day after the due date and at most assignment + 6 months", "extension pending"),
    rule("DecideExtension", Item, &[Liaison], "", "extension pending", "due moves to until if approved"),
    rule("AnswerItem", Item, &[Leader], "", "assigned or rehandling (and a contact logged in this round where require_contact_before_answer is set)", "answered in this round"),
    rule("ReclassifyAnswer", Item, &[Liaison], "", "answered in this round (answered or rated), not yet reconciled", "class letter corrected; both letters stay in history"),
    rule("RateAnswer", Item, &[Deputy, Liaison], "a deputy rates only an item naming them; the liaison office records on a deputy's behalf", "answered", "rated; unsatisfied opens the next round with its own due date"),
    rule("FulfilCommitment", Item, &[Handler, Leader], "", "commitment open, item not closed or ended", "commitment done"),
    rule("ReconcileItem", Item, &[Liaison], "", "rated (not unsatisfied), no open commitments", "reconciled (对账)"),
    rule("CloseItem", Item, &[Leader], "", "reconciled; a deliberation opinion has no open child item", "closed (销号)"),
    rule("WithdrawItem", Item, &[Liaison], "", "never answered (filed, accepted or assigned)", "ended as withdrawn"),
    rule("ReopenItem", Item, &[Liaison], "", "closed", "next round opened (rehandling) with its due date"),
    rule("StartCaseFollow", Follow, &[CourtOffice, Liaison], "", "follow_id unused", "case follow started"),
    rule("RecordEnforcementAction", Follow, &[Handler], "", "follow active", "action logged; witnessed when deputy_present"),
    rule("RecordMediation", Follow, &[Handler], "", "follow active", "mediation logged, settled or not"),
    rule("RecordRecovery", Follow, &[Handler], "", "follow active", "amount recovered logged"),
    rule("RecordFollowEvaluation", Follow, &[Deputy, Liaison], "a deputy evaluates only a follow naming them; the liaison office records on the deputy's behalf", "follow started (active or ended)", "evaluation logged"),
    rule("EndCaseFollow", Follow, &[CourtOffice, Liaison], "", "follow active", "follow ended with its outcome"),
    rule("RecordEngagement", Engagement, &[CourtOffice, Liaison], "", "engagement_id unused", "engagement recorded"),
    rule("RegisterPerson", Person, &[Admin], "", "person_id unused", "person registered"),
    rule("GrantAccess", Person, &[Admin], "", "person registered, role not held", "role granted"),
    rule("RevokeAccess", Person, &[Admin], "", "person registered, role held", "role revoked"),
];

/// The row of `command`, if the ledger knows it.
pub fn command_rule(command: &str) -> Option<&'static CommandRule> {
    COMMANDS.iter().find(|rule| rule.command == command)
}

/// The roles that may issue `command`; none for an unknown command.
pub fn allowed_roles(command: &str) -> &'static [Role] {
    command_rule(command).map_or(&[], |rule| rule.roles)
}

/// The roles of `command` as text, for messages: `"deputy or liaison"`.
pub fn roles_text(command: &str) -> String {
    let roles: Vec<&str> = allowed_roles(command)
        .iter()
        .map(|role| role.as_str())
        .collect();
    roles.join(" or ")
}

/// The roles of `command` in Chinese, for messages: `"人大代表或人大代表联络机构"`.
pub fn roles_text_zh(command: &str) -> String {
    let roles: Vec<&str> = allowed_roles(command)
        .iter()
        .map(|role| role.label_zh())
        .collect();
    roles.join("或")
}

/// The table as a Markdown page: `docs/commands.md` is exactly this text.
pub fn markdown_table() -> String {
    let mut page = String::from(
        "# Commands: who may do what\n\n\
         Generated from `aggregates::access::COMMANDS` by `cargo test`; do not edit by hand \
         (run `HUIYIN_BLESS=1 cargo test -p commands` after changing the table).\n\n\
         | command | stream | roles | ownership | may happen when | effect |\n\
         | --- | --- | --- | --- | --- | --- |\n",
    );
    for rule in COMMANDS {
        let roles: Vec<String> = rule.roles.iter().map(|role| format!("`{role}`")).collect();
        page.push_str(&format!(
            "| `{}` | `{}/<{}>` | {} | {} | {} | {} |\n",
            rule.command,
            rule.stream.prefix(),
            rule.stream.id_field(),
            roles.join(", "),
            rule.ownership,
            rule.when,
            rule.effect,
        ));
    }
    page
}
