//! Replays the checked-in fuzz corpus (`fuzz/corpus/<target>/`) through the same functions the
//! `cargo fuzz` targets call, on stable: this is how CI runs the fuzzers' findings. A file that
//! makes a body panic fails the test, named. See `just fuzz` for growing the corpus.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use libtest_mimic::{Failed, Trial};

/// A fuzz target: its name, its body, and the fewest corpus files it must have.
type Target = (&'static str, fn(&[u8]), usize);

/// Each target, its body, and the fewest corpus files it must have (a missing or emptied
/// corpus fails rather than passing with nothing replayed).
const TARGETS: [Target; 3] = [
    ("command_decision", commands::fuzz::command_decision, 100),
    (
        "canonical_round_trip",
        infra::fuzz::canonical_round_trip,
        10,
    ),
    ("proof_verifiers", infra::fuzz::proof_verifiers, 100),
];

pub fn trials() -> Vec<Trial> {
    TARGETS
        .into_iter()
        .map(|(target, body, files_min)| {
            Trial::test(
                format!("fuzz_corpus::{target}_replays_without_a_failure"),
                move || replay(target, body, files_min),
            )
        })
        .collect()
}

fn replay(target: &str, body: fn(&[u8]), files_min: usize) -> Result<(), Failed> {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&folder)
        .map_err(|error| format!("{}: {error}", folder.display()))?
        .map(|entry| entry.map(|entry| entry.path()))
        .collect::<Result<_, _>>()
        .map_err(|error| error.to_string())?;
    files.sort();
    if files.len() < files_min {
        return Err(format!(
            "{target}: {} corpus files, fewer than {files_min}",
            files.len()
        )
        .into());
    }
    let mut failures = Vec::new();
    for file in &files {
        let input = std::fs::read(file).map_err(|error| format!("{}: {error}", file.display()))?;
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| body(&input))) {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|text| (*text).to_owned()))
                .unwrap_or_default();
            failures.push(format!("{}: {message}", file.display()));
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("\n").into())
    }
}
