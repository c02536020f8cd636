//! The ledger's rules that differ between localities (DESIGN.md §4): the deadline settings and
//! the locality switches. They reach every aggregate as its `cqrs-es` services, so a decision
//! never reads a file or a clock.

use crate::deadline::DeadlineRules;

/// The settings every aggregate decides by. The defaults are DESIGN.md's; a `huiyin.toml` may
/// change them.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    /// The time zone, the working-day calendar and the deadline periods.
    pub deadlines: DeadlineRules,
    /// Whether an answer needs a contact with a deputy logged in the same round first
    /// (答复前须与代表沟通). Default false.
    pub require_contact_before_answer: bool,
}
