//! The blank official workbook of a template: what departments should fill in.
//!
//! Fewer messy files arrive when departments start from the form the reader
//! expects. The form is generated from the loaded template definitions (the
//! built-in ones overlaid by the templates folder), so an alias or an
//! enumeration value an analyst adds shows up in the next form without a
//! rebuild. [`build`] is pure (template and options in, workbook bytes out);
//! writing the file is [`write_atomic`]'s, at the edge.
//!
//! Everything the form puts in a cell is read back by the reader as what it
//! says: the header row holds each field's canonical header, the drop-downs
//! hold one spelling per enumeration value that the template maps back to
//! that value, the title names the period the file name names.

use std::path::Path;

use rust_xlsxwriter::{
    Color, DataValidation, DataValidationErrorStyle, DataValidationRule, ExcelDateTime, Format,
    FormatAlign, FormatBorder, Formula, Workbook, Worksheet, XlsxError,
};

use crate::config::{Config, Department};
use crate::model::period::{self, Period};
use crate::model::template::{BlankValue, Field, FieldType, Template};
use crate::model::text::fold;

/// The sheet the department fills in.
pub const DATA_SHEET: &str = "Số liệu";
/// The instructions, and the value lists the drop-downs draw on. It matches
/// no template, so the reader counts its rows as `unmatched` skips.
pub const INSTRUCTIONS_SHEET: &str = "Hướng dẫn";
/// The yes/no drop-down of a bool field: spellings the reader takes as true
/// and false (`ingest::value::as_bool`).
pub const YES: &str = "Có";
/// The false spelling of that drop-down (the true one is [`YES`]).
pub const NO: &str = "Không";
/// Rows under the header that carry the drop-downs and validations. A
/// validation is one range, so many rows cost nothing in the file.
pub(crate) const PREPARED_ROWS: u32 = 2000;

/// The one template whose period may be a range of years (as ingest rules).
const RANGE_TEMPLATE: &str = "plan";

/// Rows of the data sheet's title block, 0-based: the header comes after.
const HEADER_ROW: u32 = 6;

/// Why a form could not be made or written.
#[derive(Debug, thiserror::Error)]
pub enum FormError {
    #[error("no template {name:?}; templates: {}", known.join(", "))]
    UnknownTemplate { name: String, known: Vec<String> },
    #[error("no department {code:?} in {registry}; {}", list_codes(known))]
    UnknownDepartment {
        code: String,
        registry: String,
        known: Vec<String>,
    },
    /// The file name would name another period than the form (a template or
    /// department code with a four-digit run): the reader would misfile it.
    #[error(
        "the file name {name:?} would be read as period {read}, not {wanted}: choose a name with -o"
    )]
    MisleadingFileName {
        name: String,
        read: String,
        wanted: String,
    },
    /// A range of years for a form that is no plan: ingest would refuse
    /// the filled-in file.
    #[error(
        "period {period} is a range of years, which only a plan may cover; template {template} reports a year, a half-year or a quarter"
    )]
    RangeNotAPlan { template: String, period: String },
    /// An enumeration value no spelling of which the reader maps back to it.
    #[error(
        "template {template}: field {field}: value {value} has no spelling the reader maps back to it"
    )]
    NoLabel {
        template: String,
        field: String,
        value: String,
    },
    #[error("cannot build the workbook")]
    Xlsx(#[from] XlsxError),
    #[error("cannot write the form")]
    Write(#[from] crate::warehouse::WarehouseError),
}

fn list_codes(known: &[String]) -> String {
    const SHOWN: usize = 40;
    if known.len() <= SHOWN {
        format!("departments: {}", known.join(", "))
    } else {
        format!(
            "departments: {} … and {} more",
            known[..SHOWN].join(", "),
            known.len() - SHOWN
        )
    }
}

/// What fills the form's title block and instructions besides the template.
#[derive(Debug, Clone, Copy)]
pub struct FormOptions<'a> {
    pub department: Option<&'a Department>,
    pub period: Option<Period>,
    /// Who collects the reports ("Sở Nội vụ"), named in the instructions.
    pub organisation: &'a str,
}

/// The template named `name`, or the error listing those that exist.
pub fn find_template<'c>(config: &'c Config, name: &str) -> Result<&'c Template, FormError> {
    config
        .template(name)
        .ok_or_else(|| FormError::UnknownTemplate {
            name: name.to_string(),
            known: config.templates.iter().map(|t| t.name.clone()).collect(),
        })
}

/// The department with `code`, or the error listing the registry's codes.
pub fn find_department<'c>(config: &'c Config, code: &str) -> Result<&'c Department, FormError> {
    config
        .department(code)
        .ok_or_else(|| FormError::UnknownDepartment {
            code: code.to_string(),
            registry: config.paths.departments.display().to_string(),
            known: config.departments.iter().map(|d| d.code.clone()).collect(),
        })
}

/// `mau_<template>[_<department>][_<period>].xlsx`: the period token is the
/// one the reader takes from a file name, so a department that keeps the
/// name files its report under the right period. Refused when the name would
/// read as another period (or as one where the form names none).
pub fn default_file_name(
    template: &str,
    department: Option<&str>,
    period: Option<Period>,
) -> Result<String, FormError> {
    let mut stem = format!("mau_{template}");
    if let Some(code) = department {
        stem.push('_');
        stem.push_str(code);
    }
    if let Some(p) = period {
        stem.push('_');
        stem.push_str(&p.to_string());
    }
    let name = crate::model::names::safe_file_name(&format!("{stem}.xlsx"));
    let read = period::decide(&period::path_evidence(Path::new(&name)), &[])
        .ok()
        .map(|d| d.period);
    if read != period {
        let show = |p: Option<Period>| p.map_or_else(|| "none".to_string(), |p| p.to_string());
        return Err(FormError::MisleadingFileName {
            name,
            read: show(read),
            wanted: show(period),
        });
    }
    Ok(name)
}

/// The spelling the form offers for each value of an enumeration field, in
/// the template's order: the first synonym written that is not the value's
/// own (English) name — the Vietnamese one in every built-in template — and
/// that the reader maps back to the value; else the value's name itself.
pub fn value_labels(template: &Template, field_index: usize) -> Result<Vec<String>, FormError> {
    let field = &template.fields[field_index];
    let synonyms = template
        .synonyms
        .get(&field_index)
        .map(Vec::as_slice)
        .unwrap_or_default();
    field
        .values
        .iter()
        .map(|value| {
            let folded_value = fold(value);
            synonyms
                .iter()
                .find(|s| fold(s) != folded_value && field.enum_value(s) == Some(value.as_str()))
                .cloned()
                .or_else(|| {
                    (field.enum_value(value) == Some(value.as_str())).then(|| value.clone())
                })
                .ok_or_else(|| FormError::NoLabel {
                    template: template.name.clone(),
                    field: field.name.clone(),
                    value: value.clone(),
                })
        })
        .collect()
}

/// The header the form writes for a field: its canonical (first) header,
/// "(*)" after a required one (punctuation, so it still matches).
pub fn header_text(field: &Field) -> String {
    let canonical = field
        .headers
        .first()
        .map(String::as_str)
        .unwrap_or(&field.name);
    if field.required {
        format!("{canonical} (*)")
    } else {
        canonical.to_string()
    }
}

/// The texts of the data sheet's title block, top to bottom, as the reader
/// sees them above the header.
pub(crate) fn title_lines(template: &Template, options: &FormOptions<'_>) -> Vec<String> {
    let agency = options
        .department
        .map(|d| d.name.to_uppercase())
        .unwrap_or_else(|| "TÊN CƠ QUAN, ĐƠN VỊ: ……………".to_string());
    vec![
        agency,
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM".to_string(),
        "Độc lập - Tự do - Hạnh phúc".to_string(),
        template_title(template).to_uppercase(),
        period_line(options.period),
        "(Cột có dấu (*) là bắt buộc; cách điền xem ở trang tính \"Hướng dẫn\")".to_string(),
    ]
}

fn template_title(template: &Template) -> &str {
    if template.title.trim().is_empty() {
        &template.name
    } else {
        &template.title
    }
}

/// "NĂM 2025", "QUÝ IV NĂM 2025"; without a period, a line to complete
/// (no digits, so the reader takes no period from it until it is filled).
fn period_line(period: Option<Period>) -> String {
    match period {
        Some(p) => p.label_vi().to_uppercase(),
        None => "NĂM ……".to_string(),
    }
}

/// Builds the form's workbook.
pub fn build(template: &Template, options: &FormOptions<'_>) -> Result<Vec<u8>, FormError> {
    if let Some(period) = options.period.filter(|p| p.is_range())
        && template.name != RANGE_TEMPLATE
    {
        return Err(FormError::RangeNotAPlan {
            template: template.name.clone(),
            period: period.to_string(),
        });
    }
    let columns = column_specs(template)?;
    let layout = InstructionsLayout::new(&columns);
    let mut workbook = Workbook::new();
    write_data_sheet(
        workbook.add_worksheet(),
        template,
        options,
        &columns,
        &layout,
    )?;
    write_instructions(
        workbook.add_worksheet(),
        template,
        options,
        &columns,
        &layout,
    )?;
    Ok(workbook.save_to_buffer()?)
}

/// The form of template `name` for a department and period, named as
/// [`default_file_name`] names it: for mail attachments.
pub fn attachment(
    config: &Config,
    name: &str,
    department: Option<&Department>,
    period: Option<Period>,
) -> Result<(String, Vec<u8>), FormError> {
    let template = find_template(config, name)?;
    // A code with a four-digit run would name a period: leave it out of the name.
    let file_name = match default_file_name(name, department.map(|d| d.code.as_str()), period) {
        Err(FormError::MisleadingFileName { .. }) => default_file_name(name, None, period)?,
        other => other?,
    };
    let bytes = build(
        template,
        &FormOptions {
            department,
            period,
            organisation: &config.digest.organisation,
        },
    )?;
    Ok((file_name, bytes))
}

/// Writes `bytes` to `path` atomically (temporary file, fsync, rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), FormError> {
    // A bare file name has an empty parent, which cannot be flushed: "./name".
    let path = match path.parent() {
        Some(parent) if parent.as_os_str().is_empty() => Path::new(".").join(path),
        _ => path.to_path_buf(),
    };
    let mut staged = crate::warehouse::StagedFiles::default();
    staged.stage_bytes(&path, "form", bytes)?;
    Ok(staged.commit()?)
}

/// One column of the form, decided once for both sheets.
struct ColumnSpec<'t> {
    field: &'t Field,
    header: String,
    /// Drop-down spellings of an enumeration, in the template's order.
    labels: Vec<String>,
    /// What a blank cell means, where the template says.
    blank_label: Option<String>,
}

fn column_specs(template: &Template) -> Result<Vec<ColumnSpec<'_>>, FormError> {
    template
        .fields
        .iter()
        .enumerate()
        // A derived field (leadership from the position) has no column.
        .filter(|(_, field)| field.derived.is_none())
        .map(|(index, field)| {
            let labels = if field.kind == FieldType::Enum {
                value_labels(template, index)?
            } else {
                Vec::new()
            };
            let blank_label = match (&field.blank, field.kind) {
                _ if field.required => None,
                (BlankValue::Value(v), _) => field
                    .values
                    .iter()
                    .position(|x| x == v)
                    .and_then(|i| labels.get(i).cloned()),
                (BlankValue::DepartmentLevel, _) => Some("cấp của đơn vị gửi báo cáo".into()),
                (BlankValue::Null, FieldType::Bool) => Some(NO.into()),
                (BlankValue::Null, _) => None,
            };
            Ok(ColumnSpec {
                field,
                header: header_text(field),
                labels,
                blank_label,
            })
        })
        .collect()
}

/// Excel's column letters: 0 → A, 25 → Z, 26 → AA.
fn column_letter(mut col: usize) -> String {
    let mut letters = Vec::new();
    loop {
        letters.push(b'A' + (col % 26) as u8);
        if col < 26 {
            break;
        }
        col = col / 26 - 1;
    }
    letters.reverse();
    String::from_utf8(letters).unwrap_or_default()
}

/// Where things sit on the instructions sheet, decided before the data
/// sheet is written (its drop-downs point at the value lists).
struct InstructionsLayout {
    /// Row of the columns table's heading.
    table_row: u32,
    /// Per column: (first, last) row of its value list in column B, if any.
    lists: Vec<Option<(u32, u32)>>,
}

/// General instructions: numbered lines above the columns table.
const GENERAL_LINES: u32 = 10;

impl InstructionsLayout {
    fn new(columns: &[ColumnSpec<'_>]) -> Self {
        let table_row = 3 + GENERAL_LINES + 1;
        // Table heading, one row per column, a blank row, the lists' heading.
        let mut row = table_row + 1 + columns.len() as u32 + 1 + 1;
        let lists = columns
            .iter()
            .map(|c| {
                if c.labels.is_empty() {
                    return None;
                }
                // A label row ("Cột D: Giới tính"), then one value a row.
                let first = row + 1;
                let last = first + c.labels.len() as u32 - 1;
                row = last + 2;
                Some((first, last))
            })
            .collect();
        InstructionsLayout { table_row, lists }
    }
}

/// A value spanning `first..=last` columns of `row` (merged when it spans).
fn span(
    sheet: &mut Worksheet,
    row: u32,
    first: u16,
    last: u16,
    text: &str,
    format: &Format,
) -> Result<(), XlsxError> {
    if first == last {
        sheet.write_string_with_format(row, first, text, format)?;
    } else {
        sheet.merge_range(row, first, row, last, text, format)?;
    }
    Ok(())
}

fn write_data_sheet(
    sheet: &mut Worksheet,
    template: &Template,
    options: &FormOptions<'_>,
    columns: &[ColumnSpec<'_>],
    layout: &InstructionsLayout,
) -> Result<(), FormError> {
    sheet.set_name(DATA_SHEET)?;
    let width = columns.len().max(2) as u16;
    let last = width - 1;
    let split = width / 2;
    let lines = title_lines(template, options);
    let bold_center = Format::new()
        .set_bold()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_text_wrap();
    let motto = bold_center
        .clone()
        .set_underline(rust_xlsxwriter::FormatUnderline::Single);
    let title = bold_center.clone().set_font_size(14);
    let note = Format::new()
        .set_italic()
        .set_align(FormatAlign::Center)
        .set_text_wrap();
    span(sheet, 0, 0, split - 1, &lines[0], &bold_center)?;
    span(sheet, 0, split, last, &lines[1], &bold_center)?;
    span(sheet, 1, split, last, &lines[2], &motto)?;
    span(sheet, 3, 0, last, &lines[3], &title)?;
    span(sheet, 4, 0, last, &lines[4], &bold_center)?;
    span(sheet, 5, 0, last, &lines[5], &note)?;
    for row in [0, 1] {
        sheet.set_row_height(row, 32)?;
    }
    sheet.set_row_height(3, 24)?;

    let header = Format::new()
        .set_bold()
        .set_text_wrap()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_border(FormatBorder::Thin)
        .set_background_color(Color::RGB(0xDDEBF7));
    sheet.set_row_height(HEADER_ROW, 45)?;
    let first_data = HEADER_ROW + 1;
    let last_data = HEADER_ROW + PREPARED_ROWS;
    for (index, column) in columns.iter().enumerate() {
        let col = index as u16;
        sheet.write_string_with_format(HEADER_ROW, col, &column.header, &header)?;
        sheet.set_column_width(col, column_width(column))?;
        if let Some(format) = column_format(column.field) {
            sheet.set_column_format(col, &format)?;
        }
        if let Some(validation) = validation(column, layout.lists[index])? {
            sheet.add_data_validation(first_data, col, last_data, col, &validation)?;
        }
    }
    sheet.set_freeze_panes(first_data, 0)?;
    sheet.set_landscape();
    sheet.set_print_fit_to_pages(1, 0);
    sheet.set_repeat_rows(HEADER_ROW, HEADER_ROW)?;
    Ok(())
}

fn column_width(column: &ColumnSpec<'_>) -> f64 {
    let longest_label = column
        .labels
        .iter()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(0);
    let wanted = match column.field.kind {
        FieldType::Date => 13,
        FieldType::Bool => 11,
        FieldType::Integer => 14,
        FieldType::Text => 24,
        FieldType::Enum => longest_label + 4,
    };
    // A wrapped header may take two lines.
    let header = column.header.chars().count().div_ceil(2) + 2;
    wanted.max(header).clamp(10, 40) as f64
}

/// The number format of a column: text stays text (an ID keeps its leading
/// zeros), dates show day first, whole numbers group thousands.
fn column_format(field: &Field) -> Option<Format> {
    match field.kind {
        FieldType::Text => Some(Format::new().set_num_format("@")),
        FieldType::Date => Some(Format::new().set_num_format("dd/mm/yyyy")),
        FieldType::Integer => Some(Format::new().set_num_format("#,##0")),
        FieldType::Bool => Some(Format::new().set_align(FormatAlign::Center)),
        FieldType::Enum => None,
    }
}

fn validation(
    column: &ColumnSpec<'_>,
    list: Option<(u32, u32)>,
) -> Result<Option<DataValidation>, FormError> {
    let header = column
        .field
        .headers
        .first()
        .map(String::as_str)
        .unwrap_or(&column.field.name);
    let (rule, message) = match column.field.kind {
        FieldType::Text => return Ok(None),
        FieldType::Enum => {
            let Some((first, last)) = list else {
                return Ok(None);
            };
            let range = format!("='{INSTRUCTIONS_SHEET}'!$B${}:$B${}", first + 1, last + 1);
            (
                DataValidation::new().allow_list_formula(Formula::new(range)),
                format!(
                    "\"{header}\": chọn một giá trị trong danh sách (xem trang tính \"{INSTRUCTIONS_SHEET}\")."
                ),
            )
        }
        FieldType::Bool => (
            DataValidation::new().allow_list_strings(&[YES, NO])?,
            format!("\"{header}\": chọn {YES} hoặc {NO}."),
        ),
        FieldType::Date => (
            DataValidation::new().allow_date(DataValidationRule::Between(
                ExcelDateTime::from_ymd(1900, 1, 1)?,
                ExcelDateTime::from_ymd(2100, 12, 31)?,
            )),
            format!("\"{header}\": ghi ngày dạng ngày/tháng/năm (dd/mm/yyyy)."),
        ),
        FieldType::Integer => {
            let min = column.field.min.unwrap_or(-999_999_999_999_999);
            (
                DataValidation::new().allow_whole_number_formula(DataValidationRule::Between(
                    Formula::new(min.to_string()),
                    Formula::new("999999999999999"),
                )),
                match column.field.min {
                    Some(min) => format!("\"{header}\": ghi số nguyên, không nhỏ hơn {min}."),
                    None => format!("\"{header}\": ghi số nguyên."),
                },
            )
        }
    };
    Ok(Some(
        rule.set_error_style(DataValidationErrorStyle::Stop)
            .set_error_title("Giá trị không hợp lệ")?
            .set_error_message(message)?,
    ))
}

/// What a column holds, in words, for the instructions.
fn describe(field: &Field, columns: &[ColumnSpec<'_>]) -> String {
    let meaning = FIELD_NOTES
        .iter()
        .find(|(name, _)| *name == field.name)
        .map(|(_, note)| *note);
    let kind = match field.kind {
        FieldType::Text => "văn bản",
        FieldType::Date => "ngày",
        FieldType::Integer => "số nguyên",
        FieldType::Bool => "có/không",
        FieldType::Enum => "chọn trong danh sách",
    };
    let mut text = match meaning {
        Some(meaning) => format!("{meaning} ({kind})"),
        None => format!("Kiểu: {kind}"),
    };
    if let Some(other) = field.not_before.and_then(|i| columns.get(i)) {
        text.push_str(&format!(
            "; không được trước \"{}\"",
            other
                .field
                .headers
                .first()
                .map(String::as_str)
                .unwrap_or("")
        ));
    }
    text
}

/// What a department may write in a column, for the instructions.
fn accepted(column: &ColumnSpec<'_>) -> String {
    let mut text = match column.field.kind {
        FieldType::Text => "Ghi như văn bản; mã số giữ nguyên cả số 0 ở đầu".to_string(),
        FieldType::Date => "Ngày/tháng/năm (dd/mm/yyyy), năm đủ bốn chữ số".to_string(),
        FieldType::Integer => match column.field.min {
            Some(min) => {
                format!("Số nguyên không nhỏ hơn {min}, không có phần lẻ, không kèm đơn vị")
            }
            None => "Số nguyên, không có phần lẻ, không kèm đơn vị".to_string(),
        },
        FieldType::Bool => format!("{YES} hoặc {NO}"),
        FieldType::Enum => format!("Một trong: {}", column.labels.join("; ")),
    };
    match (&column.blank_label, column.field.required) {
        (_, true) => text.push_str(". Không được để trống"),
        (Some(blank), false) => text.push_str(&format!(". Để trống nghĩa là: {blank}")),
        (None, false) => text.push_str(". Để trống nếu không có hoặc không rõ"),
    }
    text
}

/// Meanings of the built-in templates' fields; a field an analyst adds is
/// described by its type alone.
const FIELD_NOTES: &[(&str, &str)] = &[
    ("person_id", "Số định danh cá nhân (CCCD) hoặc mã cán bộ"),
    ("full_name", "Họ, tên đệm và tên đầy đủ, có dấu"),
    ("birth_date", "Ngày sinh của người trong danh sách"),
    ("gender", "Giới tính của người trong danh sách"),
    ("unit", "Nơi công tác của người trong danh sách"),
    ("level", "Cấp hành chính của nơi công tác"),
    ("position", "Chức vụ hoặc vị trí việc làm đang giữ"),
    ("qualification", "Trình độ chuyên môn cao nhất đã đạt"),
    ("political_theory", "Trình độ lý luận chính trị đã đạt"),
    ("state_management", "Trình độ quản lý nhà nước đã đạt"),
    ("digital_role", "Vai trò trong công tác chuyển đổi số"),
    ("infosec_role", "Vai trò trong công tác an toàn thông tin"),
    ("in_planning", "Người có trong quy hoạch"),
    ("course", "Tên khóa học, lớp đào tạo hoặc bồi dưỡng"),
    ("category", "Nội dung, lĩnh vực của khóa học"),
    ("mode", "Cách thức tổ chức khóa học"),
    ("location", "Khóa học ở trong nước hay ở nước ngoài"),
    ("start_date", "Ngày khóa học bắt đầu"),
    ("end_date", "Ngày khóa học kết thúc"),
    ("lessons", "Thời lượng khóa học, tính bằng tiết"),
    ("result", "Kết quả học tập của người học"),
    ("certified", "Người học được cấp chứng chỉ"),
    (
        "cost_vnd",
        "Kinh phí của khóa học cho người học, tính bằng đồng",
    ),
    (
        "target_participants",
        "Chỉ tiêu số lượt người được đào tạo, bồi dưỡng",
    ),
    ("budget_vnd", "Kinh phí dự kiến, tính bằng đồng"),
    ("field", "Lĩnh vực, chuyên ngành tuyển dụng"),
    ("target", "Chỉ tiêu tuyển dụng, tính bằng người"),
    ("recruited", "Số người đã tuyển được"),
    ("resigned", "Số người thôi việc, nghỉ việc"),
];

fn general_instructions(template: &Template, options: &FormOptions<'_>) -> Vec<String> {
    let folder = match options.department {
        Some(d) => format!("inbox/{}/", d.code),
        None => "inbox/<mã đơn vị>/".to_string(),
    };
    let file_name = default_file_name(
        &template.name,
        options.department.map(|d| d.code.as_str()),
        options.period,
    )
    .unwrap_or_else(|_| format!("mau_{}.xlsx", template.name));
    let naming = match options.period {
        Some(p) => format!(
            "Tên tệp giữ phần kỳ báo cáo \"{p}\" (như tên tệp này: {file_name}); hệ thống đọc kỳ báo cáo từ tên tệp và từ dòng \"{}\" của tiêu đề: hai nơi phải ghi cùng một kỳ, nếu khác nhau tệp sẽ không được tiếp nhận.",
            p.label_vi().to_uppercase()
        ),
        None => "Ghi kỳ báo cáo vào dòng \"NĂM ……\" của tiêu đề (ví dụ NĂM và số năm, hoặc QUÝ IV NĂM và số năm) và vào tên tệp (…_YYYY.xlsx cho năm, …_YYYY-Qn.xlsx cho quý): hai nơi phải ghi cùng một kỳ, nếu khác nhau tệp sẽ không được tiếp nhận.".to_string(),
    };
    let lines = vec![
        format!(
            "1. Điền số liệu vào trang tính \"{DATA_SHEET}\", mỗi dòng một bản ghi, từ dòng ngay dưới dòng tiêu đề cột."
        ),
        "2. Giữ nguyên dòng tiêu đề cột và các cột; không thêm, bớt hay đổi tên cột (cột lạ không được đọc và sẽ được liệt kê trong thư phản hồi).".to_string(),
        "3. Cột có dấu (*) là bắt buộc: dòng để trống cột bắt buộc bị từ chối và được báo lại trong thư phản hồi, kèm ô cần sửa.".to_string(),
        "4. Ở cột có danh sách thả xuống, chọn một giá trị trong danh sách (các giá trị ở bảng dưới đây).".to_string(),
        "5. Ngày ghi theo dạng ngày/tháng/năm (dd/mm/yyyy), năm đủ bốn chữ số; số ghi là số nguyên, không kèm đơn vị (đồng, tiết).".to_string(),
        "6. Không dùng công thức trong vùng số liệu; khi dán từ tệp khác, chọn \"Dán giá trị\" (Paste Values).".to_string(),
        format!(
            "7. Nộp tệp cho {}: đặt tệp vào thư mục của đơn vị ({folder}).",
            options.organisation
        ),
        format!("8. {naming}"),
        "9. Gửi lại toàn bộ tệp khi sửa: bản gửi sau thay thế bản gửi trước của cùng kỳ.".to_string(),
        format!(
            "10. Trang tính \"{INSTRUCTIONS_SHEET}\" chỉ để hướng dẫn: hệ thống không đọc số liệu ở đây; không cần xóa."
        ),
    ];
    debug_assert_eq!(lines.len() as u32, GENERAL_LINES);
    lines
}

fn write_instructions(
    sheet: &mut Worksheet,
    template: &Template,
    options: &FormOptions<'_>,
    columns: &[ColumnSpec<'_>],
    layout: &InstructionsLayout,
) -> Result<(), FormError> {
    sheet.set_name(INSTRUCTIONS_SHEET)?;
    let widths = [8.0, 34.0, 11.0, 50.0, 70.0];
    for (col, width) in widths.iter().enumerate() {
        sheet.set_column_width(col as u16, *width)?;
    }
    let heading = Format::new().set_bold().set_font_size(14);
    let bold = Format::new().set_bold();
    let wrap = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    let cell = wrap.clone().set_border(FormatBorder::Thin);
    let table_head = Format::new()
        .set_bold()
        .set_text_wrap()
        .set_border(FormatBorder::Thin)
        .set_background_color(Color::RGB(0xDDEBF7));

    sheet.write_string_with_format(0, 0, "HƯỚNG DẪN ĐIỀN BIỂU MẪU", &heading)?;
    sheet.write_string_with_format(
        1,
        0,
        format!(
            "{} (mã biểu mẫu: {})",
            template_title(template).to_uppercase(),
            template.name
        ),
        &bold,
    )?;
    for (i, line) in general_instructions(template, options).iter().enumerate() {
        let row = 3 + i as u32;
        span(sheet, row, 0, 4, line, &wrap)?;
        // Merged cells do not grow with their text: about 150 characters a line.
        let lines = line.chars().count().div_ceil(150).max(1);
        sheet.set_row_height(row, 15.0 * lines as f64)?;
    }

    let table = layout.table_row;
    for (col, text) in [
        "Cột",
        "Tiêu đề cột",
        "Bắt buộc",
        "Nội dung",
        "Giá trị được chấp nhận, định dạng",
    ]
    .iter()
    .enumerate()
    {
        sheet.write_string_with_format(table, col as u16, *text, &table_head)?;
    }
    for (index, column) in columns.iter().enumerate() {
        let row = table + 1 + index as u32;
        let required = if column.field.required { YES } else { NO };
        sheet.write_string_with_format(row, 0, column_letter(index), &cell)?;
        sheet.write_string_with_format(row, 1, &column.header, &cell)?;
        sheet.write_string_with_format(row, 2, required, &cell)?;
        sheet.write_string_with_format(row, 3, describe(column.field, columns), &cell)?;
        let accepted = accepted(column);
        let lines = accepted.chars().count().div_ceil(65).max(1);
        sheet.write_string_with_format(row, 4, &accepted, &cell)?;
        sheet.set_row_height(row, 15.0 * lines as f64)?;
    }

    let lists_heading = table + 1 + columns.len() as u32 + 1;
    if layout.lists.iter().any(Option::is_some) {
        sheet.write_string_with_format(
            lists_heading,
            0,
            "DANH MỤC GIÁ TRỊ CỦA CÁC DANH SÁCH THẢ XUỐNG (không sửa)",
            &bold,
        )?;
    }
    for (index, column) in columns.iter().enumerate() {
        let Some((first, _)) = layout.lists[index] else {
            continue;
        };
        // The label row names the column by letter: the header text alone
        // would give this sheet a second cell that reads as a header.
        let label = format!(
            "Cột {}: {}",
            column_letter(index),
            column
                .field
                .headers
                .first()
                .map(String::as_str)
                .unwrap_or("")
        );
        sheet.write_string_with_format(first - 1, 0, label, &bold)?;
        for (i, value) in column.labels.iter().enumerate() {
            sheet.write_string(first + i as u32, 1, value)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::load_templates;
    use calamine::{Reader, Xlsx};

    fn templates() -> Vec<Template> {
        load_templates(Path::new("/nonexistent")).expect("built-in templates")
    }

    fn department() -> Department {
        Department {
            code: "SNV".into(),
            name: "Sở Nội vụ".into(),
            level: crate::model::scope::Level::Province,
            contacts: Vec::new(),
        }
    }

    #[test]
    fn every_label_reads_back_as_its_value_and_is_vietnamese() {
        for template in templates() {
            for (index, field) in template.fields.iter().enumerate() {
                // A derived field (leadership) is no column of the form.
                if field.kind != FieldType::Enum || field.derived.is_some() {
                    continue;
                }
                let labels = value_labels(&template, index).expect("labels");
                assert_eq!(labels.len(), field.values.len());
                for (label, value) in labels.iter().zip(&field.values) {
                    assert_eq!(field.enum_value(label), Some(value.as_str()), "{label}");
                    assert_ne!(fold(label), fold(value), "{}.{}", template.name, field.name);
                }
            }
        }
        let staff = templates()
            .into_iter()
            .find(|t| t.name == "staff")
            .expect("staff");
        let theory = staff.field_index("political_theory").expect("field");
        let labels = value_labels(&staff, theory).expect("labels");
        let none = staff.fields[theory]
            .values
            .iter()
            .position(|v| v == "none")
            .expect("none");
        assert_eq!(
            labels[none], "Chưa có",
            "not the English \"None\" written first"
        );
    }

    #[test]
    fn the_yes_no_drop_down_is_read_as_a_bool() {
        use crate::model::value::{Cell, as_bool};
        assert_eq!(as_bool(&Cell::Text(YES.into())), Ok(true));
        assert_eq!(as_bool(&Cell::Text(NO.into())), Ok(false));
    }

    #[test]
    fn a_plan_form_of_a_range_reads_back_as_its_range_and_no_other_form_has_one() {
        let all = templates();
        let plan = all.iter().find(|t| t.name == "plan").expect("plan");
        let dept = department();
        let range: Period = "2021-2025".parse().expect("range");
        let options = FormOptions {
            department: Some(&dept),
            period: Some(range),
            organisation: "Sở Nội vụ",
        };
        assert_eq!(title_period(&title_lines(plan, &options)), Some(range));
        let name = default_file_name("plan", Some("SNV"), Some(range)).expect("name");
        assert_eq!(name, "mau_plan_SNV_2021-2025.xlsx");
        let sheets = [period::SheetTitle {
            sheet: DATA_SHEET.to_string(),
            evidence: period::title_evidence(DATA_SHEET, &title_lines(plan, &options)),
        }];
        let both = period::decide(&period::path_evidence(Path::new(&name)), &sheets);
        assert_eq!(both.ok().map(|d| d.period), Some(range));
        assert!(build(plan, &options).is_ok());
        let staff = all.iter().find(|t| t.name == "staff").expect("staff");
        assert!(matches!(
            build(staff, &options),
            Err(FormError::RangeNotAPlan { .. })
        ));
    }

    #[test]
    fn the_title_and_file_name_name_the_period_the_reader_reads() {
        let staff = templates()
            .into_iter()
            .find(|t| t.name == "staff")
            .expect("staff");
        let dept = department();
        for text in ["2025", "2025-Q4", "2024-Q1"] {
            let p: Period = text.parse().expect("period");
            let options = FormOptions {
                department: Some(&dept),
                period: Some(p),
                organisation: "Sở Nội vụ",
            };
            assert_eq!(title_period(&title_lines(&staff, &options)), Some(p));
            let name = default_file_name("staff", Some("SNV"), Some(p)).expect("name");
            let from_name = period::decide(&period::path_evidence(Path::new(&name)), &[]);
            assert_eq!(from_name.ok().map(|d| d.period), Some(p), "{name}");
            // Name and title together: the same period, nothing refused.
            let sheets = [period::SheetTitle {
                sheet: DATA_SHEET.to_string(),
                evidence: period::title_evidence(DATA_SHEET, &title_lines(&staff, &options)),
            }];
            let both = period::decide(&period::path_evidence(Path::new(&name)), &sheets);
            assert_eq!(both.ok().map(|d| d.period), Some(p), "{name}");
        }
        assert_eq!(
            default_file_name("staff", Some("SNV"), "2025".parse().ok()).expect("name"),
            "mau_staff_SNV_2025.xlsx"
        );
        assert_eq!(
            default_file_name("staff", None, None).expect("name"),
            "mau_staff.xlsx"
        );
        let options = FormOptions {
            department: None,
            period: None,
            organisation: "Sở Nội vụ",
        };
        assert_eq!(title_period(&title_lines(&staff, &options)), None);
        // A code with a year in it would file the form under that year.
        let err =
            default_file_name("staff", Some("X2024"), "2025".parse().ok()).expect_err("refused");
        assert!(matches!(err, FormError::MisleadingFileName { .. }), "{err}");
    }

    /// Reads every sheet back with calamine: the header row holds the
    /// canonical headers, and no row of the instructions sheet holds two
    /// texts a template knows as headers (so it can never match a template).
    #[test]
    fn the_workbook_reads_back() {
        let all = templates();
        let known: std::collections::HashSet<String> = all
            .iter()
            .flat_map(|t| {
                t.folded_header_texts()
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .collect();
        let dept = department();
        for template in &all {
            for period in [None, "2025-Q4".parse().ok()] {
                let options = FormOptions {
                    department: Some(&dept),
                    period,
                    organisation: "Sở Nội vụ",
                };
                let bytes = build(template, &options).expect("build");
                assert!(
                    bytes.len() < 40_000,
                    "{}: {} bytes",
                    template.name,
                    bytes.len()
                );
                let mut book: Xlsx<_> =
                    calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).expect("open");
                assert_eq!(book.sheet_names(), [DATA_SHEET, INSTRUCTIONS_SHEET]);
                let data = book.worksheet_range(DATA_SHEET).expect("data sheet");
                // Derived fields (leadership from the position) have no column.
                let columns: Vec<&Field> = template
                    .fields
                    .iter()
                    .filter(|f| f.derived.is_none())
                    .collect();
                let header: Vec<String> = (0..columns.len())
                    .map(|c| {
                        data.get_value((HEADER_ROW, c as u32))
                            .map(|v| v.to_string())
                            .unwrap_or_default()
                    })
                    .collect();
                for (text, field) in header.iter().zip(columns) {
                    assert_eq!(
                        template
                            .field_for_header(text)
                            .map(|i| &template.fields[i].name),
                        Some(&field.name)
                    );
                }
                let help = book.worksheet_range(INSTRUCTIONS_SHEET).expect("help");
                for row in help.rows() {
                    let headers = row
                        .iter()
                        .filter(|c| known.contains(&fold(&c.to_string())))
                        .count();
                    assert!(headers <= 1, "{}: {row:?}", template.name);
                }
            }
        }
    }

    #[test]
    fn column_letters() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(27), "AB");
    }

    /// The period the form's title block names, as the reader reads it.
    fn title_period(lines: &[String]) -> Option<Period> {
        let evidence = period::title_evidence(DATA_SHEET, lines);
        let periods: Vec<Period> = evidence.iter().filter_map(|e| e.period).collect();
        match periods.as_slice() {
            [one] => Some(*one),
            _ => None,
        }
    }
}
