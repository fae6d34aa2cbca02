//! Fuzzes the sheet normaliser: any grid of cells gives rows, rejects and
//! counted skips that balance, and never a panic.
#![no_main]

use std::path::Path;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use nhanluc::ingest::sheet::{SheetContext, grid_from_bytes, normalise_sheet};
use nhanluc::model::template::{Template, load_templates};

static TEMPLATES: LazyLock<Vec<Template>> =
    LazyLock::new(|| load_templates(Path::new("/nonexistent")).unwrap_or_default());

fuzz_target!(|data: &[u8]| {
    let grid = grid_from_bytes(data);
    let outcome = normalise_sheet(&grid, &TEMPLATES, SheetContext { department_level: "commune" });
    assert!(outcome.is_balanced());
    assert!(outcome.rejects.len() >= outcome.rejected_rows);
});
