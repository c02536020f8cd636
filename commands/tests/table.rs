//! The one table of who may do what: every command routes to its aggregate, and
//! `docs/commands.md` is generated from it.

use std::path::Path;

use aggregates::access::{self, StreamKind, COMMANDS};
use aggregates::engagement::EngagementAction;
use aggregates::follow::FollowAction;
use aggregates::item::ItemAction;
use aggregates::person::PersonAction;

fn types_of(stream: StreamKind) -> &'static [&'static str] {
    match stream {
        StreamKind::Item => ItemAction::TYPES,
        StreamKind::Follow => FollowAction::TYPES,
        StreamKind::Engagement => EngagementAction::TYPES,
        StreamKind::Person => PersonAction::TYPES,
    }
}

#[test]
fn every_row_names_a_command_of_its_aggregate_and_every_command_has_a_row() {
    for rule in COMMANDS {
        assert!(
            types_of(rule.stream).contains(&rule.command),
            "{} is not a command of {:?}",
            rule.command,
            rule.stream
        );
        assert!(!rule.roles.is_empty(), "{} has no role", rule.command);
    }
    let streams = [
        StreamKind::Item,
        StreamKind::Follow,
        StreamKind::Engagement,
        StreamKind::Person,
    ];
    let all: Vec<&str> = streams.into_iter().flat_map(types_of).copied().collect();
    assert_eq!(all.len(), COMMANDS.len());
    for name in all {
        assert!(access::command_rule(name).is_some(), "{name} has no row");
    }
}

#[test]
fn auditors_change_nothing() {
    for rule in COMMANDS {
        assert!(
            !rule.roles.contains(&aggregates::actor::Role::Auditor),
            "{}",
            rule.command
        );
    }
}

#[test]
fn docs_commands_md_is_the_table() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/commands.md");
    let expected = access::markdown_table();
    if std::env::var("HUIYIN_BLESS").is_ok_and(|value| value == "1") {
        std::fs::write(&path, &expected).expect("write docs/commands.md");
    }
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        actual == expected,
        "docs/commands.md is stale: run `HUIYIN_BLESS=1 cargo test -p commands --test table`"
    );
}
