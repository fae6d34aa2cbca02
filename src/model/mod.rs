//! The shared vocabulary of every stage: the words the pipeline speaks in,
//! with no I/O of a stage behind them. Periods, scopes and levels; the
//! templates (forms) and the values their fields hold; what reading a sheet
//! found (rows, rejects, skips, warnings) and the ledger's report of a file;
//! an indicator value; how a run ended. Imports nothing else of the crate,
//! so every stage may use it and none reaches into another to speak.

pub mod addition;
pub mod identity;
pub mod indicator;
pub mod names;
pub mod period;
pub mod posts;
pub mod report;
pub mod rows;
pub mod scope;
pub mod status;
pub mod submission;
pub mod template;
pub mod text;
pub mod value;
