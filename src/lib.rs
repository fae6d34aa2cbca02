//! nhanluc: the nightly pipeline of a provincial Department of Home Affairs.
//!
//! Workbooks dropped into the inbox flow through [`ingest`] into the Parquet
//! [`warehouse`], [`indicators`] are computed over it with SQL, and the
//! [`digest`] is mailed to leadership through [`mail`]'s outbox, beside the
//! departments' feedback and reminders of [`notify`]. [`jobs`] runs these
//! steps as named jobs; [`config`] and [`state`] sit beside them, with the
//! [`catalogue`] of forms, indicator queries and message templates that ship
//! compiled in; every stage speaks the vocabulary of [`model`], which uses
//! nothing else of the crate. [`error_chain`] turns any of their errors into
//! one line that says each cause once. Long steps count their work on
//! [`progress`]; [`logging`] shows the log and that progress on stderr. The
//! dependency rule between these modules is a test (tests/it/architecture.rs).

#![deny(unreachable_pub)]

pub mod archive;
pub mod catalogue;
pub mod check;
pub mod config;
pub mod digest;
pub mod durable;
pub mod error_chain;
pub mod form;
pub mod indicators;
pub mod ingest;
pub mod jobs;
pub mod logging;
pub mod mail;
pub mod message_templates;
pub mod model;
pub mod notify;
mod ordered;
pub mod progress;
pub mod rebuild;
pub mod retry;
pub mod state;
pub mod status;
pub mod warehouse;
