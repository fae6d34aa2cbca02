//! The row loader: each sheet normalised as the workbook is streamed, its
//! rows written to staged part files in batches, so no sheet is held whole;
//! and the same reading with nothing staged, for `inspect`.

use std::collections::BTreeMap;

use crate::config::Config;
use crate::model::rows::{ParsedRow, Reject, SkipKind, Skips};
use crate::model::rows::{RowClass, RowSpan};
use crate::model::{period, template, value};
use crate::warehouse::{self, StagedFiles};

use super::prepare::file_verdict;
use super::sheet::{Merge, SeenKeys, SheetContext, SheetNormaliser, SheetOutcome};
use super::workbook::{self, WorkbookError};
use super::{IngestError, reader};
use period::{Evidence, PeriodDecision, PeriodRefusal, SheetRefusal};
use template::Template;
use value::Cell;

/// Reads a workbook into a fresh loader: streamed, or, when its rows are out
/// of order or merged regions stored after the rows change the header, read
/// again whole with the merges known first.
pub(super) fn read_into<'a>(
    bytes: &[u8],
    fresh: impl Fn() -> Loader<'a>,
) -> Result<Loader<'a>, WorkbookError> {
    let mut loader = fresh();
    // In a reader process with its own limits when the binary set one up.
    let limits = reader::Limits::of(&loader.config.ingest);
    let streamed = reader::read(reader::Mode::Stream, bytes, &mut loader, limits);
    if matches!(streamed, Err(WorkbookError::Unordered(_))) || loader.header_moved {
        loader.staged.discard();
        loader = fresh();
        if let Err(e) = reader::read(reader::Mode::Whole, bytes, &mut loader, limits) {
            loader.staged.discard();
            return Err(e);
        }
    } else if let Err(e) = streamed {
        loader.staged.discard();
        return Err(e);
    }
    Ok(loader)
}

/// One sheet as ingest read it.
#[derive(Debug, Clone)]
pub struct SheetRead {
    pub outcome: SheetOutcome,
    /// The workbook hides it: its rows are counted, none is read.
    pub hidden: bool,
    /// Refused whole: its title names another period than the file's.
    pub refused: Option<SheetRefusal>,
}

/// A workbook read as ingest reads it, with nothing staged or written.
#[derive(Debug, Clone)]
pub struct WorkbookRead {
    pub sheets: Vec<SheetRead>,
    /// The file's period, or why ingest refuses the file.
    pub verdict: Result<PeriodDecision, PeriodRefusal>,
}

/// Reads `bytes` exactly as [`ingest`](super::ingest) does — the same streaming reader and
/// whole-sheet fallback, the same period checks per sheet, the same verdict —
/// against `templates`, keeping no row and writing nothing. For `inspect`.
pub fn read_without_staging(
    config: &Config,
    templates: &[Template],
    ctx: SheetContext<'_>,
    bytes: &[u8],
    path_evidence: &[Evidence],
) -> Result<WorkbookRead, WorkbookError> {
    let loader = read_into(bytes, || {
        Loader::new(config, templates, ctx, None, path_evidence)
    })?;
    let verdict = file_verdict(&loader.outcomes, &loader.hidden, templates, path_evidence);
    let sheets = loader
        .outcomes
        .into_iter()
        .zip(loader.hidden)
        .zip(loader.refused)
        .map(|((outcome, hidden), refused)| SheetRead {
            outcome,
            hidden,
            refused,
        })
        .collect();
    Ok(WorkbookRead { sheets, verdict })
}

/// Normalises each sheet as the workbook is read and writes its rows to
/// staged Parquet files in batches, so no sheet is ever held whole.
pub(super) struct Loader<'a> {
    pub(super) config: &'a Config,
    /// The templates sheets are read against (all of the config's, or the
    /// one `inspect --template` names).
    pub(super) templates: &'a [Template],
    pub(super) ctx: SheetContext<'a>,
    /// Whether converted rows are written: false for `inspect`, which only
    /// needs each sheet's outcome.
    pub(super) stage: bool,
    pub(super) tag: &'a str,
    pub(super) submission_id: &'a str,
    pub(super) staged: StagedFiles,
    pub(super) sheet: Option<SheetNormaliser<'a>>,
    pub(super) outcomes: Vec<SheetOutcome>,
    /// Per sheet of `outcomes`: hidden by the workbook.
    pub(super) hidden: Vec<bool>,
    /// Non-blank rows of the hidden sheet being read (not normalised), and
    /// the first and last of them (0-based).
    pub(super) hidden_rows: Option<(usize, Option<(u32, u32)>)>,
    pub(super) parts: BTreeMap<&'a str, PartRows<'a>>,
    /// Merged regions learnt after a sheet's rows would have found another
    /// header: the workbook must be read again with them known first.
    pub(super) header_moved: bool,
    pub(super) error: Option<IngestError>,
    /// The folders' and file name's period evidence, known before reading.
    pub(super) path_evidence: &'a [Evidence],
    /// Per sheet (as `outcomes`): refused because its title names another
    /// period than the file's.
    pub(super) refused: Vec<Option<SheetRefusal>>,
    /// Whether the current sheet's title has been checked against the period.
    pub(super) period_checked: bool,
    /// The current sheet's name.
    pub(super) sheet_name: String,
    /// The people (unique values) of the sheets read so far.
    pub(super) seen: SeenKeys,
}

/// Rows of one template on their way to its part file.
pub(super) struct PartRows<'a> {
    template: &'a Template,
    /// (index of the sheet in `Loader::outcomes`, row).
    pending: Vec<(usize, ParsedRow)>,
    writer: Option<warehouse::PartWriter>,
    rows: usize,
}

/// Rows converted before they are written as one Arrow batch.
const WRITE_BATCH_ROWS: usize = 8 * 1024;

impl<'a> Loader<'a> {
    /// `staging`: the tag of the staged files and the submission id, when
    /// rows are written; `None` reads without keeping any row.
    pub(super) fn new(
        config: &'a Config,
        templates: &'a [Template],
        ctx: SheetContext<'a>,
        staging: Option<(&'a str, &'a str)>,
        path_evidence: &'a [Evidence],
    ) -> Self {
        let (tag, submission_id) = staging.unwrap_or_default();
        Loader {
            config,
            templates,
            ctx,
            stage: staging.is_some(),
            tag,
            submission_id,
            staged: StagedFiles::default(),
            sheet: None,
            outcomes: Vec::new(),
            hidden: Vec::new(),
            hidden_rows: None,
            parts: BTreeMap::new(),
            header_moved: false,
            error: None,
            path_evidence,
            refused: Vec::new(),
            period_checked: false,
            sheet_name: String::new(),
            seen: SeenKeys::default(),
        }
    }

    /// Checks the current sheet's title against the file's period once its
    /// header is found. A refused sheet's rows queued so far are dropped:
    /// none of them has been written yet, because the header is decided
    /// within one `push` (or in `finish`) and rows are written only after it
    /// returns; later rows of the sheet are not queued at all.
    fn check_period(&mut self, index: usize, sheet: &str, title_lines: &[String]) {
        self.period_checked = true;
        let title = period::SheetTitle {
            sheet: sheet.to_string(),
            evidence: period::title_evidence(sheet, title_lines),
        };
        let Some(refusal) = period::sheet_refusal(self.path_evidence, &title) else {
            return;
        };
        for part in self.parts.values_mut() {
            let queued = part.pending.len();
            part.pending.retain(|(s, _)| *s != index);
            part.rows -= queued - part.pending.len();
        }
        // A form only the refused sheet held is no load of this file: a load
        // of 0 rows would supersede the department's earlier submission of it.
        self.parts
            .retain(|_, part| part.rows > 0 || part.writer.is_some());
        if let Some(slot) = self.refused.get_mut(index) {
            *slot = Some(refusal);
        }
    }

    fn write_pending(&mut self, template: &str) {
        let Some(part) = self.parts.get_mut(template) else {
            return;
        };
        if part.pending.is_empty() || self.error.is_some() {
            return;
        }
        let result = (|| -> Result<(), IngestError> {
            let rows: Vec<(&str, &ParsedRow)> = part
                .pending
                .iter()
                .map(|(sheet, row)| {
                    let name = self.outcomes.get(*sheet).map_or("", |o| o.sheet.as_str());
                    (name, row)
                })
                .collect();
            let batch = warehouse::template_batch(part.template, &rows, self.submission_id)?;
            let writer = match &mut part.writer {
                Some(writer) => writer,
                None => {
                    // The period, and so the final path, is known only at the end.
                    let provisional = self
                        .config
                        .paths
                        .warehouse
                        .join(format!("{}-{}", part.template.name, self.submission_id));
                    part.writer.insert(self.staged.parquet_writer(
                        &provisional,
                        self.tag,
                        batch.schema(),
                    )?)
                }
            };
            writer.write(&batch)?;
            Ok(())
        })();
        part.pending.clear();
        if let Err(e) = result {
            self.error = Some(e);
        }
    }

    /// Finishes the part files under their final names. Returns the loads for the ledger.
    pub(super) fn finish(
        mut self,
        department: &str,
        period: &str,
        source_file: &str,
    ) -> Result<(StagedFiles, Vec<(String, i64)>), IngestError> {
        let names: Vec<&'a str> = self.parts.keys().copied().collect();
        for name in &names {
            self.write_pending(name);
        }
        if let Some(e) = self.error {
            self.staged.discard();
            return Err(e);
        }
        let root = &self.config.paths.warehouse;
        let mut loads = Vec::new();
        for (name, part) in std::mem::take(&mut self.parts) {
            if let Some(writer) = part.writer {
                let path = warehouse::part_path(root, name, period, department, self.submission_id);
                writer.finish_as(&mut self.staged, &path)?;
            }
            loads.push((name.to_string(), part.rows as i64));
        }
        let rejects: Vec<Reject> = self
            .outcomes
            .iter()
            .flat_map(|o| o.rejects.iter().cloned())
            .collect();
        if !rejects.is_empty() {
            let batch = warehouse::rejects_batch(&rejects, self.submission_id, source_file)?;
            let path = warehouse::part_path(
                root,
                warehouse::REJECTS,
                period,
                department,
                self.submission_id,
            );
            self.staged.stage_parquet(&path, self.tag, &batch)?;
        }
        Ok((self.staged, loads))
    }
}

impl<'a> workbook::RowSink for Loader<'a> {
    fn begin_sheet(
        &mut self,
        name: &str,
        origin_col: u32,
        merges: Option<Vec<Merge>>,
        hidden: bool,
    ) {
        self.hidden.push(hidden);
        self.refused.push(None);
        if hidden {
            // Last year's copy, a lookup list: never this file's data.
            // Its rows are only counted, so the department sees them.
            self.sheet = None;
            self.hidden_rows = Some((0, None));
            self.outcomes.push(SheetOutcome {
                sheet: name.to_string(),
                ..SheetOutcome::default()
            });
            return;
        }
        self.hidden_rows = None;
        let mut sheet = SheetNormaliser::new(name, self.templates, self.ctx, origin_col);
        sheet.carry_keys(std::mem::take(&mut self.seen));
        if let Some(merges) = merges {
            sheet.merges = merges;
        }
        self.sheet = Some(sheet);
        self.outcomes.push(SheetOutcome::default());
        self.period_checked = false;
        self.sheet_name = name.to_string();
    }

    fn row(&mut self, row: u32, cells: Vec<Cell>) {
        if let Some((rows, span)) = &mut self.hidden_rows {
            // The workbook reader hands on non-blank rows only.
            *rows += 1;
            let first = span.map_or(row, |(first, _)| first);
            *span = Some((first, row));
            return;
        }
        let Some(sheet) = &mut self.sheet else {
            return;
        };
        let index = self.outcomes.len() - 1;
        let mut full = None;
        let parts = &mut self.parts;
        let keep = self.stage && !self.refused.get(index).is_some_and(Option::is_some);
        sheet.push(row, cells, &mut |template, parsed| {
            if keep && add_row(parts, index, template, parsed) {
                full = Some(template.name.as_str());
            }
        });
        if !self.period_checked
            && sheet.template().is_some()
            && let Some(lines) = sheet.title_lines()
        {
            let lines = lines.to_vec();
            let name = std::mem::take(&mut self.sheet_name);
            self.check_period(index, &name, &lines);
            self.sheet_name = name;
            if self.refused.get(index).is_some_and(Option::is_some) {
                full = None;
            }
        }
        if let Some(name) = full {
            self.write_pending(name);
        }
    }

    fn end_sheet(&mut self, late_merges: Option<Vec<Merge>>) {
        if let Some((rows, span)) = self.hidden_rows.take() {
            if let Some(outcome) = self.outcomes.last_mut() {
                outcome.data_rows = rows;
                outcome.skips.hidden_sheet = rows;
                // Listed like any skipped rows, so the department and
                // `inspect` see which rows were not read.
                outcome.row_spans = span
                    .map(|(first, last)| RowSpan {
                        first_row: first + 1,
                        last_row: last + 1,
                        class: RowClass::Skipped {
                            kind: SkipKind::HiddenSheet,
                        },
                    })
                    .into_iter()
                    .collect();
            }
            return;
        }
        let Some(sheet) = self.sheet.take() else {
            return;
        };
        if let Some(merges) = late_merges
            && !sheet.header_holds(&merges)
        {
            self.header_moved = true;
        }
        let index = self.outcomes.len() - 1;
        let parts = &mut self.parts;
        let keep = self.stage && !self.refused.get(index).is_some_and(Option::is_some);
        let (mut outcome, mut seen) = sheet.finish_with_keys(&mut |template, parsed| {
            if keep {
                add_row(parts, index, template, parsed);
            }
        });
        if !self.period_checked && outcome.template.is_some() {
            self.check_period(index, &outcome.sheet, &outcome.title_lines);
        }
        if self.refused.get(index).is_some_and(Option::is_some) {
            // Refused whole: every row of it is counted as of another period,
            // and nothing of it (rows, rejects, warnings) reaches the warehouse.
            outcome.skips = Skips {
                other_period: outcome.data_rows,
                ..Skips::default()
            };
            outcome.loaded = 0;
            outcome.rejected_rows = 0;
            outcome.rejects.clear();
            outcome.warnings.clear();
            // Its rows are listed as they are counted: of another period.
            outcome.row_spans = other_period_spans(&outcome.row_spans);
            // Its people are not this file's: a later sheet may list them.
            seen.forget_sheet(&outcome.sheet);
        }
        self.seen = seen;
        self.outcomes[index] = outcome;
    }
}

/// The runs of a refused sheet, every row now counted as of another period.
fn other_period_spans(spans: &[RowSpan]) -> Vec<RowSpan> {
    let class = RowClass::Skipped {
        kind: SkipKind::OtherPeriod,
    };
    match (spans.first(), spans.last()) {
        (Some(first), Some(last)) => vec![RowSpan {
            first_row: first.first_row,
            last_row: last.last_row,
            class,
        }],
        _ => Vec::new(),
    }
}

/// Queues a converted row for its template's part file; true when the queue is full.
fn add_row<'a>(
    parts: &mut BTreeMap<&'a str, PartRows<'a>>,
    sheet: usize,
    template: &'a Template,
    row: ParsedRow,
) -> bool {
    let part = parts
        .entry(template.name.as_str())
        .or_insert_with(|| PartRows {
            template,
            pending: Vec::new(),
            writer: None,
            rows: 0,
        });
    part.pending.push((sheet, row));
    part.rows += 1;
    part.pending.len() >= WRITE_BATCH_ROWS
}
