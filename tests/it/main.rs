//! The integration tests, one binary: each former `tests/<name>.rs` is the
//! module `<name>` here, so the support code and the library are compiled and
//! linked once instead of once per file. Tests are named `<module>::<test>`
//! (`cargo test --test it hostile::`).
//!
//! The tests share one process now. None of them changes the process's own
//! environment or working directory: what a test sets (`NHANLUC_*`, the
//! current directory) it sets on the `nhanluc` child it runs, so tests of
//! different modules running side by side cannot see each other's settings.

mod support;

// Shared by several modules (they were `mod ledger;` / `mod office_styles;`
// in each test file that used them).
mod ledger;
mod office_styles;

mod additions;
mod architecture;
mod arrival;
mod catalogue;
mod check;
mod config;
mod corpus;
mod crash;
mod dien_bien;
mod digest;
mod errors;
mod fetch;
mod form;
mod formats;
mod guards;
mod hostile;
mod indicators;
mod ingest;
mod inspect;
mod ledger_report;
mod lost_state;
mod mail_faults;
mod newcomer;
mod people;
mod periods;
mod pipeline;
mod plan_range;
mod progress;
mod retry;
mod serve;
mod spark;
mod status;
mod styles;
mod trends;
mod values;
mod warehouse_contract;
