//! `nhanluc inspect FILE`: how one workbook is read, for the analyst a
//! department tells "you lost my rows". It reads the file exactly as
//! [`super::ingest`] does ([`super::read_without_staging`]: the same reader,
//! the same fallback to whole sheets, the same period checks and verdict)
//! and changes nothing: no ledger, no warehouse, no file moved.
//!
//! [`inspect`] gathers an [`Inspection`] (I/O: it reads the file);
//! [`render_text`] and [`render_json`] are pure.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use comfy_table::{ContentArrangement, Table, presets};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::sheet::SheetContext;
use crate::config::Config;
use crate::model::addition::{self, Addition};
use crate::model::period::{self, Evidence, Period, SheetRefusal};
use crate::model::rows::{
    ColumnReading, ColumnUse, Reject, RowClass, RowSpan, SheetWarning, Skips,
};
use crate::model::template::Template;

/// The width the plain-text tables are laid out for.
const TEXT_WIDTH: u16 = 80;
/// The level a blank `level` cell would take when no department is known.
const UNKNOWN_LEVEL: &str = "unknown";

/// Why a file could not be inspected: bad usage (see
/// [`InspectError::is_usage`]), or a file that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    #[error("no template {name:?}; templates: {known}")]
    UnknownTemplate { name: String, known: String },
    #[error("department {code:?} is not in the department registry")]
    UnknownDepartment { code: String },
    #[error("cannot read {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl InspectError {
    /// Bad usage (exit 2) rather than a file that cannot be read (exit 1).
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            InspectError::UnknownTemplate { .. } | InspectError::UnknownDepartment { .. }
        )
    }
}

/// What `inspect` was asked.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options<'a> {
    /// Read the sheets against this template only.
    pub template: Option<&'a str>,
    /// The department of a file outside the inbox (its level is the
    /// default of a blank `level` cell).
    pub department: Option<&'a str>,
}

/// How one workbook is read.
#[derive(Debug, Clone, Serialize)]
pub struct Inspection {
    /// The path as given.
    pub file: String,
    /// How the ledger would name it (relative to the inbox).
    pub source_file: String,
    pub in_inbox: bool,
    pub department: DepartmentSeen,
    /// What the bytes are (not what the name says).
    pub format: String,
    pub size_bytes: u64,
    /// `None` when the file was refused before it was read.
    pub sha256: Option<String>,
    /// The templates the sheets were read against.
    pub templates: Vec<String>,
    pub sheets: Vec<SheetInspection>,
    pub period: PeriodReading,
    /// What its name and titles declare it ("supplement", "batch:2"): its
    /// rows add to those the department sent instead of replacing them;
    /// `None`: a whole list.
    pub addition: Option<Addition>,
    /// What `ingest` would do with the file's content.
    #[serde(flatten)]
    pub verdict: Verdict,
}

/// Where the department came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DepartmentSource {
    /// The first folder under the inbox, as ingest takes it.
    InboxFolder,
    /// The file's folder, outside the inbox (as `ingest FILE` takes it).
    Folder,
    /// `--department`.
    Option,
    /// None known.
    None,
}

/// The department a file is read as, and what named it.
#[derive(Debug, Clone, Serialize)]
pub struct DepartmentSeen {
    pub code: Option<String>,
    pub name: Option<String>,
    /// The registry's level; `None` when the department is unknown.
    pub level: Option<String>,
    pub from: DepartmentSource,
    /// What is wrong with it, as ingest would say (English).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// One sheet as read.
#[derive(Debug, Clone, Serialize)]
pub struct SheetInspection {
    pub sheet: String,
    /// Hidden by the workbook: not read, its rows counted as `hidden_sheet`.
    pub hidden: bool,
    /// The template the header matched; `None`: no template.
    pub template: Option<String>,
    /// The header's first and last rows (Excel, 1-based).
    pub header_first_row: Option<u32>,
    pub header_row: Option<u32>,
    /// The texts above the header.
    pub title_lines: Vec<String>,
    pub columns: Vec<ColumnReading>,
    /// Fields no column was found for: null in every row.
    pub fields_not_found: Vec<String>,
    /// Non-blank rows under the header (the whole sheet if unmatched).
    pub rows: usize,
    pub loaded: usize,
    pub rejected_rows: usize,
    pub skips: Skips,
    /// Each row's class, as runs (a run may span blank rows).
    pub row_spans: Vec<RowSpan>,
    pub rejects: Vec<Reject>,
    pub warnings: Vec<SheetWarning>,
    /// Refused whole: its title names another period than the file's.
    pub refused: Option<SheetRefusal>,
}

/// The period and its evidence.
#[derive(Debug, Clone, Serialize)]
pub struct PeriodReading {
    /// From the folders and the file name.
    pub path_evidence: Vec<Evidence>,
    /// The period decided; `None` when the file is refused or unreadable.
    pub period: Option<Period>,
    /// What the decision (or the refusal) rests on.
    pub evidence: Vec<Evidence>,
    pub refused_sheets: Vec<SheetRefusal>,
}

/// What `ingest` would do with the file's content.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// Taken, filed under the period of [`PeriodReading::period`].
    Accepted,
    /// Read, but quarantined with this reason.
    Refused {
        reason_vi: String,
        reason_en: String,
    },
    /// Cannot be read: quarantined with this reason (exit 1).
    Unreadable {
        reason_vi: String,
        reason_en: String,
    },
}

/// Reads `path` as ingest would and says how. Changes nothing.
pub fn inspect(
    config: &Config,
    path: &Path,
    options: &Options<'_>,
) -> Result<Inspection, InspectError> {
    let templates: &[Template] = match options.template {
        None => &config.templates,
        Some(name) => match config.templates.iter().find(|t| t.name == name) {
            Some(t) => std::slice::from_ref(t),
            None => {
                return Err(InspectError::UnknownTemplate {
                    name: name.to_string(),
                    known: config
                        .templates
                        .iter()
                        .map(|t| t.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
        },
    };
    if let Some(code) = options.department
        && config.department(code).is_none()
    {
        return Err(InspectError::UnknownDepartment {
            code: code.to_string(),
        });
    }
    // As `ingest FILE` makes it absolute before comparing it with the inbox.
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let located = super::locate(&config.paths.inbox, &absolute);
    let (department, evidence_path) = department_of(config, &located, options.department);
    let io = |source| InspectError::Io {
        path: path.to_path_buf(),
        source,
    };
    let size_bytes = std::fs::metadata(path).map_err(io)?.len();
    let mut inspection = Inspection {
        file: path.display().to_string(),
        source_file: located.source_file.clone(),
        in_inbox: located.in_inbox,
        department,
        format: String::new(),
        size_bytes,
        sha256: None,
        templates: templates.iter().map(|t| t.name.clone()).collect(),
        sheets: Vec::new(),
        period: PeriodReading {
            path_evidence: period::path_evidence(&evidence_path),
            period: None,
            evidence: Vec::new(),
            refused_sheets: Vec::new(),
        },
        addition: None,
        verdict: Verdict::Unreadable {
            reason_vi: String::new(),
            reason_en: String::new(),
        },
    };
    // The same refusals, in the same order, as ingest's before it reads.
    let early = super::size_refusal(config, size_bytes).or_else(|| super::extension_refusal(path));
    if let Some((reason_vi, reason_en)) = early {
        inspection.format = format_by_name(path);
        inspection.verdict = Verdict::Unreadable {
            reason_vi,
            reason_en,
        };
        return Ok(inspection);
    }
    // Never blocks on a pipe or a device, as ingest reads.
    let (bytes, _) = super::read_regular(path).map_err(io)?;
    inspection.sha256 = Some(hex::encode(Sha256::digest(&bytes)));
    inspection.format = detect_format(&bytes, path);
    let level = inspection
        .department
        .level
        .clone()
        .unwrap_or_else(|| UNKNOWN_LEVEL.to_string());
    let ctx = SheetContext {
        department_level: &level,
        today: super::today_in_vietnam(),
        posts: &config.posts,
    };
    let read = match super::read_without_staging(
        config,
        templates,
        ctx,
        &bytes,
        &inspection.period.path_evidence,
    ) {
        Ok(read) => read,
        Err(e) => {
            inspection.verdict = Verdict::Unreadable {
                reason_vi: e.reason_vi(),
                reason_en: crate::error_chain::chain(&e),
            };
            return Ok(inspection);
        }
    };
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let marks = super::prepare::addition_marks(
        &file_name,
        read.sheets
            .iter()
            .map(|s| (&s.outcome, s.hidden || s.refused.is_some())),
    );
    let declared = addition::declared(&marks);
    inspection.sheets = read
        .sheets
        .into_iter()
        .map(|s| {
            let o = s.outcome;
            SheetInspection {
                sheet: o.sheet,
                hidden: s.hidden,
                template: o.template,
                header_first_row: o.header_first_row,
                header_row: o.header_row,
                title_lines: o.title_lines,
                columns: o.columns,
                fields_not_found: o.fields_not_found,
                rows: o.data_rows,
                loaded: o.loaded,
                rejected_rows: o.rejected_rows,
                skips: o.skips,
                row_spans: o.row_spans,
                rejects: o.rejects,
                warnings: o.warnings,
                refused: s.refused,
            }
        })
        .collect();
    inspection.verdict = match (read.verdict, declared) {
        (Ok(_), Err(conflict)) => Verdict::Refused {
            reason_vi: conflict.reason_vi,
            reason_en: conflict.reason_en,
        },
        (Ok(decision), Ok(declared)) => {
            inspection.addition = declared;
            inspection.period.period = Some(decision.period);
            inspection.period.evidence = decision.evidence;
            inspection.period.refused_sheets = decision.refused_sheets;
            Verdict::Accepted
        }
        (Err(refusal), _) => {
            inspection.period.evidence = refusal.evidence;
            Verdict::Refused {
                reason_vi: refusal.reason_vi,
                reason_en: refusal.reason_en,
            }
        }
    };
    Ok(inspection)
}

/// The department, and the path the period evidence is read from (the
/// folders below the department's and the file name, as ingest reads it).
fn department_of(
    config: &Config,
    located: &super::Located,
    option: Option<&str>,
) -> (DepartmentSeen, PathBuf) {
    let file_name = PathBuf::from(located.relative.file_name().unwrap_or_default());
    let (code, from) = match (&located.department, located.in_inbox, option) {
        (Some(folder), true, _) => (Some(folder.clone()), DepartmentSource::InboxFolder),
        (_, _, Some(code)) => (Some(code.to_string()), DepartmentSource::Option),
        (Some(folder), false, None) if config.department(folder).is_some() => {
            (Some(folder.clone()), DepartmentSource::Folder)
        }
        _ => (None, DepartmentSource::None),
    };
    let entry = code.as_deref().and_then(|c| config.department(c));
    let mut problem = match (&code, entry) {
        (None, _) => Some(
            "no department: the file is not in a department folder (inbox/<DEPT-CODE>/) and no --department was given; a blank level cell is read as unknown".to_string(),
        ),
        (Some(code), None) => Some(format!(
            "department code \"{code}\" (the folder name) is not in the department registry: ingest refuses the file"
        )),
        _ => None,
    };
    if let (DepartmentSource::InboxFolder, Some(option), Some(code)) = (from, option, &code)
        && option != code
    {
        problem = Some(format!(
            "--department {option} ignored: ingest files it under its inbox folder {code}"
        ));
    }
    let evidence_path = match (from, &code) {
        (DepartmentSource::InboxFolder | DepartmentSource::Folder, Some(code)) => located
            .relative
            .strip_prefix(code)
            .map(Path::to_path_buf)
            .unwrap_or_else(|_| located.relative.clone()),
        _ => file_name,
    };
    (
        DepartmentSeen {
            code,
            name: entry.map(|d| d.name.clone()),
            level: entry.map(|d| d.level.as_str().to_string()),
            from,
            problem,
        },
        evidence_path,
    )
}

fn format_by_name(path: &Path) -> String {
    match path.extension().and_then(|e| e.to_str()) {
        Some(ext) => format!("named .{ext}"),
        None => "no extension".to_string(),
    }
}

/// What the bytes are, from their first bytes and, for a zip, its entries.
fn detect_format(bytes: &[u8], path: &Path) -> String {
    const OLE: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0];
    let named = format_by_name(path);
    if bytes.starts_with(b"PK") {
        let names: Vec<String> = zip::ZipArchive::new(std::io::Cursor::new(bytes))
            .map(|z| {
                z.file_names()
                    .filter_map(Result::ok)
                    .map(|n| n.into_owned())
                    .collect()
            })
            .unwrap_or_default();
        let has = |n: &str| names.iter().any(|e| e.eq_ignore_ascii_case(n));
        let kind = if has("xl/workbook.bin") {
            "xlsb (Excel binary workbook)"
        } else if has("xl/workbook.xml") && has("xl/vbaProject.bin") {
            "xlsm (Excel workbook with macros)"
        } else if has("xl/workbook.xml") {
            "xlsx (Excel workbook)"
        } else if has("content.xml") {
            "ods (OpenDocument spreadsheet)"
        } else {
            "zip archive that is no workbook"
        };
        return format!("{kind}, {named}");
    }
    if bytes.starts_with(OLE) {
        return format!("xls (Excel 97-2003 binary, or an encrypted workbook), {named}");
    }
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]).to_ascii_lowercase();
    let head = head.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    let kind = if head.starts_with('<') && head.contains("<html") {
        "HTML page"
    } else if head.starts_with('<')
        && (head.contains("<workbook") || head.contains("office:spreadsheet"))
    {
        "Excel 2003 XML spreadsheet"
    } else if head.starts_with('<') && head.contains("<table") {
        "HTML table"
    } else if head.starts_with("%pdf") {
        "PDF document"
    } else if bytes.is_empty() {
        "empty file"
    } else {
        "unknown content"
    };
    format!("{kind}, {named}")
}

/// The inspection as one JSON document (with a final newline).
pub fn render_json(inspection: &Inspection) -> String {
    let mut text = serde_json::to_string_pretty(inspection).unwrap_or_else(|e| {
        // Only a map with non-string keys fails; there is none.
        format!("{{\"error\": {:?}}}", e.to_string())
    });
    text.push('\n');
    text
}

fn new_table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table.load_preset(presets::UTF8_FULL_CONDENSED);
    table.set_content_arrangement(ContentArrangement::Dynamic);
    table.set_width(TEXT_WIDTH);
    table.set_header(header.to_vec());
    table
}

/// Writes `text` after `label` (padded to the hanging indent), wrapped at
/// words to [`TEXT_WIDTH`] columns, continuation lines under the text.
fn wrapped(out: &mut String, label: &str, text: &str) {
    wrap(out, label, 13, 13, text);
}

/// [`wrapped`] with the label padded to `first` columns and continuation
/// lines indented by `next`.
fn wrap(out: &mut String, label: &str, first: usize, next: usize, text: &str) {
    let width = usize::from(TEXT_WIDTH);
    let mut line = format!("{label:<first$}");
    let mut empty = true;
    for word in text.split_whitespace() {
        let len = line.chars().count();
        if !empty && len + 1 + word.chars().count() > width {
            let _ = writeln!(out, "{}", line.trim_end());
            line = " ".repeat(next);
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    let _ = writeln!(out, "{}", line.trim_end());
}

/// "12" or "12–19".
fn rows_text(first: u32, last: u32) -> String {
    if first == last {
        first.to_string()
    } else {
        format!("{first}–{last}")
    }
}

fn class_text(class: &RowClass) -> String {
    match class {
        RowClass::Data => "data (stored)".to_string(),
        RowClass::Rejected => "rejected (see below)".to_string(),
        RowClass::Skipped { kind } => {
            format!("skipped: {} ({})", kind.label_vi(), kind.label_en())
        }
    }
}

fn column_use_text(column: &ColumnReading) -> String {
    let field = column.field.as_deref().unwrap_or("-");
    match &column.reading {
        ColumnUse::Value => format!("→ {field}"),
        ColumnUse::Mark(value) => format!("→ {field} = {value} when marked"),
        ColumnUse::ValueByMark(value) => format!("→ {field} (written here when {value})"),
        ColumnUse::Part(n) => format!("→ {field}, part {}", n + 1),
        ColumnUse::RowNumber => "row number (STT)".to_string(),
        ColumnUse::Ignored => "ignored".to_string(),
    }
}

/// The inspection for a person at a terminal (lines of at most 80 columns
/// but for long file names and titles).
pub fn render_text(inspection: &Inspection) -> String {
    let mut out = String::new();
    let i = inspection;
    let _ = writeln!(out, "File:        {}", i.file);
    if i.in_inbox {
        let _ = writeln!(out, "             in the inbox as {}", i.source_file);
    } else {
        let _ = writeln!(out, "             outside the inbox");
    }
    let d = &i.department;
    let from = match d.from {
        DepartmentSource::InboxFolder => "its inbox folder",
        DepartmentSource::Folder => "its folder",
        DepartmentSource::Option => "--department",
        DepartmentSource::None => "",
    };
    match (&d.code, &d.name, &d.level) {
        (Some(code), Some(name), Some(level)) => {
            let _ = writeln!(
                out,
                "Department:  {code} ({name}), level {level}, from {from}"
            );
        }
        (Some(code), _, _) => {
            let _ = writeln!(
                out,
                "Department:  {code} (not in the registry), level unknown"
            );
        }
        _ => {
            let _ = writeln!(out, "Department:  none, level unknown");
        }
    }
    if let Some(problem) = &d.problem {
        wrapped(&mut out, "", problem);
    }
    let _ = writeln!(out, "Format:      {}, {} bytes", i.format, i.size_bytes);
    let _ = writeln!(out, "Templates:   {}", i.templates.join(", "));
    match &i.verdict {
        Verdict::Accepted => {
            let period = i.period.period.map(|p| p.to_string()).unwrap_or_default();
            let _ = writeln!(out, "Verdict:     ingest takes it, period {period}");
            match i.addition {
                Some(addition) => wrapped(
                    &mut out,
                    "",
                    &format!(
                        "as a {}: its rows are added to those the department sent for the period (a row already held is rejected naming the earlier file{})",
                        addition.label_en(),
                        if matches!(addition, Addition::Batch(_)) {
                            "; an earlier file of the same batch is replaced"
                        } else {
                            ""
                        }
                    ),
                ),
                None => wrapped(
                    &mut out,
                    "",
                    "as a whole list: its rows replace those the department sent for the period and its forms (refused as ambiguous if under half of them and sharing none of their people; \"bổ sung\" or \"đợt N\" in its title or name makes it an addition)",
                ),
            }
        }
        Verdict::Refused {
            reason_vi,
            reason_en,
        } => {
            let _ = writeln!(out, "Verdict:     ingest refuses it (quarantine)");
            wrapped(&mut out, "  Lý do:", reason_vi);
            wrapped(&mut out, "  Reason:", reason_en);
        }
        Verdict::Unreadable {
            reason_vi,
            reason_en,
        } => {
            let _ = writeln!(out, "Verdict:     the file cannot be read (quarantine)");
            wrapped(&mut out, "  Lý do:", reason_vi);
            wrapped(&mut out, "  Reason:", reason_en);
        }
    }
    render_period(&mut out, &i.period);
    for sheet in &i.sheets {
        render_sheet(&mut out, sheet);
    }
    out
}

fn render_period(out: &mut String, p: &PeriodReading) {
    let _ = match p.period {
        Some(period) => writeln!(out, "Period:      {period} ({})", period.label_en()),
        None => writeln!(out, "Period:      none decided"),
    };
    let evidence: &[Evidence] = if p.evidence.is_empty() {
        &p.path_evidence
    } else {
        &p.evidence
    };
    if evidence.is_empty() {
        let _ = writeln!(out, "  evidence:  none in the folders, file name or titles");
    }
    for e in evidence {
        wrapped(out, "  evidence:", &e.says_en());
    }
    for refused in &p.refused_sheets {
        wrapped(
            out,
            "  refused:",
            &format!("sheet {:?}: {}", refused.sheet, refused.reason_en),
        );
    }
}

fn render_sheet(out: &mut String, s: &SheetInspection) {
    let _ = writeln!(out);
    if s.hidden {
        let rows = match (s.row_spans.first(), s.row_spans.last()) {
            (Some(first), Some(last)) => {
                format!(" in rows {}", rows_text(first.first_row, last.last_row))
            }
            _ => String::new(),
        };
        wrap(
            out,
            "",
            0,
            2,
            &format!(
                "Sheet {:?}: hidden, not read: {} non-blank rows{rows}, counted as hidden_sheet",
                s.sheet, s.rows
            ),
        );
        return;
    }
    match &s.template {
        Some(t) => {
            let _ = writeln!(out, "Sheet {:?}: template {t}", s.sheet);
        }
        None => {
            wrap(
                out,
                "",
                0,
                2,
                &format!(
                    "Sheet {:?}: no template (no header found): {} non-blank rows, counted as unmatched",
                    s.sheet, s.rows
                ),
            );
            return;
        }
    }
    for line in &s.title_lines {
        wrapped(out, "  title:", line);
    }
    if let (Some(first), Some(last)) = (s.header_first_row, s.header_row) {
        let _ = writeln!(out, "  header:    rows {}", rows_text(first, last));
    }
    if let Some(refused) = &s.refused {
        wrapped(out, "  REFUSED:", &refused.reason_vi);
        wrapped(out, "", &refused.reason_en);
    }
    if !s.columns.is_empty() {
        let mut table = new_table(&["col", "header", "read as"]);
        for c in &s.columns {
            table.add_row(vec![c.column.clone(), c.header.clone(), column_use_text(c)]);
        }
        let _ = writeln!(out, "{table}");
    }
    if !s.fields_not_found.is_empty() {
        wrapped(
            out,
            "  not found:",
            &format!("{} (null in every row)", s.fields_not_found.join(", ")),
        );
    }
    let skipped = s.skips.total();
    let _ = writeln!(
        out,
        "  rows:      {} read: {} data, {} rejected, {} skipped",
        s.rows, s.loaded, s.rejected_rows, skipped
    );
    if !s.row_spans.is_empty() {
        let mut table = new_table(&["rows", "class"]);
        for span in &s.row_spans {
            table.add_row(vec![
                rows_text(span.first_row, span.last_row),
                class_text(&span.class),
            ]);
        }
        let _ = writeln!(out, "{table}");
    }
    if !s.rejects.is_empty() {
        let _ = writeln!(out, "  rejected cells:");
        let mut table = new_table(&["cell", "column", "value", "reason (vi / en)"]);
        for r in &s.rejects {
            table.add_row(vec![
                r.cell.clone(),
                r.column.clone(),
                r.value.clone(),
                format!("{}\n{}", r.reason_vi, r.reason_en),
            ]);
        }
        let _ = writeln!(out, "{table}");
    }
    for w in &s.warnings {
        wrapped(out, "  warning:", &format!("{}: {}", w.cell, w.message_vi));
        wrapped(out, "", &w.message_en);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_wraps_at_words_within_the_width_under_its_label() {
        let mut out = String::new();
        let text = "Trang \"2024\" không được tiếp nhận vì tiêu đề không khớp kỳ báo cáo của tệp (năm 2025): tên tệp ghi năm 2025";
        wrapped(&mut out, "  REFUSED:", text);
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines.len() > 1, "{out}");
        assert!(lines[0].starts_with("  REFUSED:   Trang"), "{out}");
        assert!(lines[1].starts_with(&" ".repeat(13)), "{out}");
        assert!(lines.iter().all(|l| l.chars().count() <= 80), "{out}");
        let words: Vec<&str> = out.split_whitespace().skip(1).collect();
        assert_eq!(words.join(" "), text);
    }

    #[test]
    fn the_format_is_told_from_the_bytes_not_the_name() {
        let name = Path::new("ds_2025.xls");
        let mut workbook = rust_xlsxwriter::Workbook::new();
        workbook.add_worksheet();
        let xlsx = workbook.save_to_buffer().expect("xlsx");
        assert!(detect_format(&xlsx, name).starts_with("xlsx"));
        assert!(detect_format(b"<html><table></table></html>", name).starts_with("HTML page"));
        assert!(detect_format(&[0xD0, 0xCF, 0x11, 0xE0, 0], name).starts_with("xls "));
        assert!(detect_format(b"%PDF-1.4", name).starts_with("PDF"));
        assert!(detect_format(b"", name).starts_with("empty"));
    }
}
