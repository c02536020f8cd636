//! Fuzz target `canonical_round_trip`: its body is `infra::fuzz::canonical_round_trip`, which the stable tests also run over
//! every file of `fuzz/corpus/canonical_round_trip/`.
#![no_main]

libfuzzer_sys::fuzz_target!(|input: &[u8]| infra::fuzz::canonical_round_trip(input));
