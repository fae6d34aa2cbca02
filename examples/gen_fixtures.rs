//! Writes the fictional province's submissions into an inbox folder.
//!
//! ```text
//! cargo run --example gen_fixtures [-- DIR]     # DIR defaults to fixtures/inbox
//! ```
//!
//! Nothing is deleted: files with the same names are overwritten, others are
//! left alone. The output is byte-for-byte the same on every run.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let inbox = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("fixtures/inbox"));
    match nhanluc_fixtures::write_province(&inbox) {
        Ok(files) => {
            for file in &files {
                println!(
                    "{}\t{}\t{}\t{}\tdata_rows={}\tbad_rows={}",
                    file.path.display(),
                    file.department,
                    file.period,
                    file.template,
                    file.data_rows,
                    file.bad_rows
                );
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("gen_fixtures: cannot write {}: {error}", inbox.display());
            ExitCode::FAILURE
        }
    }
}
