//! Fuzz target `proof_verifiers`: its body is `infra::fuzz::proof_verifiers`, which the stable tests also run over
//! every file of `fuzz/corpus/proof_verifiers/`.
#![no_main]

libfuzzer_sys::fuzz_target!(|input: &[u8]| infra::fuzz::proof_verifiers(input));
