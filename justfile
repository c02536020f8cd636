# Everyday tasks. `just --list` shows them.

# Build everything.
build:
    cargo build --workspace --all-targets

# Every test on SQLite, and on PostgreSQL when HUIYIN_TEST_PG (or localhost:5432) answers.
test:
    cargo test --workspace

# Format check and clippy with warnings as errors.
lint:
    cargo fmt --all --check
    cargo clippy --workspace --all-targets -- -D warnings

# Lint, then test: what CI checks (CI also makes the PostgreSQL tests required).
check: lint test

# Load the demonstration ledger into ./huiyin.db and print its board.
demo:
    cargo run --release -- demo

# Re-hash the ledger in ./huiyin.db.
verify:
    cargo run --release -- verify

# Measure verify's rate (records/s) on a signed synthetic ledger of N records (default 100,000).
bench-verify n="100000":
    scripts/bench-verify {{n}}

# Measure commands/s, raw inserts, rebuild and verify against raw reads on the local PostgreSQL (and
# SQLite), medians of 3 runs; appends the table to BENCHMARKS.md. Not part of CI.
bench items="1000" events="100000" runs="3":
    cargo build --release --bin huiyin --bin huiyin-bench
    target/release/huiyin-bench --items {{items}} --events {{events}} --runs {{runs}} --markdown BENCHMARKS.md

# A bounded HTTP load test: 32 clients for 60 s against `huiyin serve --demo` (release build) on a
# fresh SQLite ledger, or on DB (e.g. a PostgreSQL URL). Prints throughput, p50/p99 per kind and
# answers by status; fails on anything but 200 and racing 409s. Not part of CI.
load duration="60" clients="32" db="":
    cargo build --release --bin huiyin --bin huiyin-load
    target/release/huiyin-load --duration-s {{duration}} --clients {{clients}} --demo {{ if db != "" { "--db " + db } else { "" } }}

# Runs each fuzz target for SECONDS (default 60) with nightly and libFuzzer, adding what it finds
# to fuzz/corpus/<target>/ (replayed on stable by `cargo test`: fuzz_corpus). Seed an empty corpus
# with scripts/fuzz-seed; shrink one with `cargo +nightly fuzz cmin <target>` before committing.
fuzz seconds="60":
    cd fuzz && for target in command_decision canonical_round_trip proof_verifiers; do \
        cargo +nightly fuzz run "$target" -O -- -max_total_time={{seconds}} -rss_limit_mb=2048 -max_len=65536 || exit 1; \
    done
