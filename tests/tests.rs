//! Huiyin's integration tests: one binary, a module per area (ripgrep's layout). Every store
//! behaviour runs on SQLite and on PostgreSQL; see `support` for how PostgreSQL is found.

// The test modules share helpers with `pub`; nothing here is reachable from outside anyway.
#![allow(unreachable_pub)]

mod browser;
mod domain;
mod e2e;
mod escaping;
mod fault;
mod fuzz_corpus;
mod hostile;
mod http;
mod merkle;
mod proof;
mod raw;
mod read_side;
mod remind;
mod scheduler;
mod send;
mod smtp;
mod store;
mod store_batch;
mod support;
mod vectors;
mod web;
mod writer;

fn main() {
    let arguments = libtest_mimic::Arguments::from_args();
    support::announce_skips();
    browser::announce_skip();
    smtp::announce_skip();
    let mut trials = Vec::new();
    trials.extend(store::trials());
    trials.extend(store_batch::trials());
    trials.extend(e2e::trials());
    trials.extend(domain::trials());
    trials.extend(http::trials());
    trials.extend(hostile::trials());
    trials.extend(read_side::trials());
    trials.extend(remind::trials());
    trials.extend(scheduler::trials());
    trials.extend(send::trials());
    trials.extend(smtp::trials());
    trials.extend(vectors::trials());
    trials.extend(vectors::note_trials());
    trials.extend(merkle::trials());
    trials.extend(proof::trials());
    trials.extend(writer::trials());
    trials.extend(web::trials());
    trials.extend(browser::trials());
    trials.extend(escaping::trials());
    trials.extend(fault::trials());
    trials.extend(fuzz_corpus::trials());
    libtest_mimic::run(&arguments, trials).exit();
}
