//! Fuzz target `command_decision`: its body is `commands::fuzz::command_decision`, which the stable tests also run over
//! every file of `fuzz/corpus/command_decision/`.
#![no_main]

libfuzzer_sys::fuzz_target!(|input: &[u8]| commands::fuzz::command_decision(input));
