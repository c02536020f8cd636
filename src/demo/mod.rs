//! `huiyin demo`: loads the demonstration ledger (see `story`) and prints its board. Loading it
//! again appends nothing: the story's commands have fixed ids, and a ledger that already holds the
//! story is only shown. `huiyin serve --demo` loads it the same way.

mod story;

use std::process::ExitCode;
use std::sync::Arc;

use aggregates::rules::Rules;
use anyhow::{bail, Context};
use commands::{CommandError, Ledger, Submitted, SystemClock};
use huiyin::reading;
use huiyin::when::ReadAt;
use infra::note::{KeyType, SignerKey};
use infra::store::Stores;
use jiff::Timestamp;
use sha2::{Digest, Sha256};

use aggregates::actor::Role;
use huiyin::auth::password::PasswordCost;
use huiyin::auth::set_password;

use crate::cli::DemoArgs;
use crate::read::print_board;

/// The seed `demo` and `serve --demo` tell the story with unless told otherwise.
pub(crate) const SEED_DEFAULT: u64 = 2017;

pub(crate) async fn run(
    stores: &Stores,
    rules: &Rules,
    args: DemoArgs,
) -> anyhow::Result<ExitCode> {
    load_demo(stores, rules, args.seed).await?;
    let time_zone = &rules.deadlines.time_zone;
    let view =
        reading::board_view(stores, ReadAt::default(), time_zone, &SystemClock, |_| true).await?;
    print_board(&view, args.format)?;
    Ok(ExitCode::SUCCESS)
}

/// Loads the story told with `seed` as of today; returns the records appended (0 when the ledger
/// already held it).
pub(crate) async fn load_demo(stores: &Stores, rules: &Rules, seed: u64) -> anyhow::Result<usize> {
    // The demonstration is a fixed story: it is decided by DESIGN.md's defaults whatever the
    // local huiyin.toml says, and only shown in the configured time zone.
    let ledger = Ledger::new(
        Arc::clone(&stores.events),
        Rules::default(),
        Arc::new(SystemClock),
    );
    let today = Timestamp::now()
        .to_zoned(rules.deadlines.time_zone.clone())
        .date();
    let appended = load(&ledger, seed, today).await?;
    eprintln!("demo ledger loaded: {appended} new records");
    Ok(appended)
}

/// Tells the story into the ledger; returns the records appended (0 when it was already there).
async fn load(ledger: &Ledger, seed: u64, today: jiff::civil::Date) -> anyhow::Result<usize> {
    let mut appended = 0;
    for (index, command) in story::commands(seed, today, &ledger.rules().deadlines)
        .into_iter()
        .enumerate()
    {
        let submitted: Submitted = serde_json::from_value(command)?;
        let command_id = submitted
            .command_id
            .clone()
            .context("demo commands carry ids")?;
        match ledger.execute(&submitted, &command_id, None).await {
            // The story's first command is already recorded: this ledger holds the demo.
            Ok(outcome) if outcome.replayed && index == 0 => return Ok(0),
            Ok(outcome) => appended += outcome.positions.len(),
            Err(CommandError::Refused { code, message, .. }) => {
                bail!("demo command {command_id} was refused ({code}): {message}; the demo needs an empty ledger")
            }
            Err(failure) => return Err(failure.into()),
        }
    }
    Ok(appended)
}

/// One demonstration login: a person of the story, the role and the password `serve --demo` set.
pub(crate) struct DemoLogin {
    pub(crate) role: Role,
    pub(crate) person_id: String,
    pub(crate) password: String,
}

/// The person named at `pointer` in the first record of type `event_type` of item `item_id`.
async fn person_on_item(
    stores: &Stores,
    item_id: &str,
    event_type: &str,
    pointer: &str,
) -> anyhow::Result<Option<String>> {
    let trail = reading::trail(&*stores.events, item_id).await?;
    Ok(trail
        .events
        .iter()
        .find(|entry| entry.event_type == event_type)
        .and_then(|entry| entry.data.pointer(pointer))
        .and_then(|value| value.as_str())
        .map(str::to_owned))
}

/// The key the demo signs its checkpoints with when `serve --demo` is given none: derived from a
/// published phrase, so anyone can check (and forge) them — for the demonstration only.
pub(crate) fn demo_signer(origin: &str) -> anyhow::Result<SignerKey> {
    let seed: [u8; 32] =
        Sha256::digest(b"huiyin demo checkpoint key: published, never for a real ledger").into();
    SignerKey::from_seed(origin, KeyType::Ed25519, seed)
        .with_context(|| format!("{origin} cannot name a key"))
}

/// Sets a known password for one person of the story per role, so a newcomer can log in as each:
/// the leader of a current-year item awaiting its answer and the deputy of one awaiting a rating,
/// so both have something to do. Demo only: the passwords are printed.
pub(crate) async fn demo_logins(stores: &Stores, rules: &Rules) -> anyhow::Result<Vec<DemoLogin>> {
    let year = Timestamp::now()
        .to_zoned(rules.deadlines.time_zone.clone())
        .year();
    let leader = person_on_item(
        stores,
        &format!("{year}-JY-105"),
        "ItemAssigned",
        "/leader/id",
    )
    .await?
    .unwrap_or_else(|| "l-chen".to_owned());
    let deputy = person_on_item(
        stores,
        &format!("{year}-JY-103"),
        "ItemFiled",
        "/deputies/0/id",
    )
    .await?
    .unwrap_or_else(|| "d-000".to_owned());
    let people = [
        (Role::Liaison, "liaison-01".to_owned()),
        (Role::CourtOffice, "office-01".to_owned()),
        (Role::Handler, "handler-zx".to_owned()),
        (Role::Leader, leader),
        (Role::Deputy, deputy),
        (Role::Auditor, "auditor-01".to_owned()),
        (Role::Admin, "admin-01".to_owned()),
    ];
    let mut logins = Vec::new();
    for (role, person_id) in people {
        let password = format!("demo-{}", role.as_str().replace('_', "-"));
        set_password(
            &*stores.credentials,
            &person_id,
            &[role],
            &password,
            PasswordCost::RECOMMENDED,
            Timestamp::now(),
        )
        .await?;
        logins.push(DemoLogin {
            role,
            person_id,
            password,
        });
    }
    Ok(logins)
}
