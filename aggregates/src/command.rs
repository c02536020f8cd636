//! The command of the aggregates other than items: who acts, when, and what they ask for.

use serde::{Deserialize, Serialize};

use crate::actor::Actor;
use crate::time::BusinessTime;

/// One command: the actor, the business time it happens at, and the action `A` (a
/// [`crate::follow::FollowAction`], [`crate::engagement::EngagementAction`] or
/// [`crate::person::PersonAction`]). Items have their own [`crate::item::ItemCommand`], which also
/// carries facts about other items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Command<A> {
    /// Who issues the command, in which role.
    pub actor: Actor,
    /// The business time of the command.
    pub at: BusinessTime,
    /// What the command asks for.
    pub action: A,
}
