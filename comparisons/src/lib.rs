//! Benchmarks and interoperability tests that compare `clerk-webhooks` with its peers; see
//! `benches/` and `tests/`. Nothing to import.
#![forbid(unsafe_code)]
