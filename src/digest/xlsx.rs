//! The digest's Excel attachment: every indicator the recipient may see,
//! the departments, the key figures' trends, IT recruitment by year and (when
//! the indicators have one) multi-year plan progress, formatted.

use rust_xlsxwriter::{Format, FormatAlign, Workbook, XlsxError};

use super::model::DigestModel;
use crate::model::indicator::Unit;
use crate::model::scope::{Language, Scope};

/// Writes the attachment. Every text cell is written as a string, never as a
/// formula, so text such as "=HYPERLINK(…)" from a sheet stays text.
pub fn attachment(model: &DigestModel) -> Result<Vec<u8>, XlsxError> {
    let vi = model.lang == Language::Vi;
    let mut workbook = Workbook::new();
    let header = Format::new()
        .set_bold()
        .set_background_color("#E5E7EB")
        .set_text_wrap();
    let count = Format::new().set_num_format("#,##0");
    let percent = Format::new().set_num_format("0.00\"%\"");
    let decimal = Format::new().set_num_format("#,##0.0");
    let title = Format::new().set_bold().set_font_size(14);
    let wrap = Format::new().set_text_wrap().set_align(FormatAlign::Top);

    let sheet = workbook.add_worksheet();
    sheet.set_name(if vi { "Chỉ tiêu" } else { "Indicators" })?;
    sheet.write_string_with_format(
        0,
        0,
        format!("{} — {}", model.title, model.period_label),
        &title,
    )?;
    sheet.write_string(
        1,
        0,
        format!("{} · {}", model.organisation, model.scope_label),
    )?;
    let columns: [&str; 8] = if vi {
        [
            "Phạm vi",
            "Mã chỉ tiêu",
            "Chỉ tiêu",
            "Giá trị",
            "Tử số",
            "Mẫu số",
            "Đơn vị",
            "Kỳ trước",
        ]
    } else {
        [
            "Scope",
            "Indicator id",
            "Indicator",
            "Value",
            "Numerator",
            "Denominator",
            "Unit",
            "Previous period",
        ]
    };
    let first = 3;
    for (c, name) in columns.iter().enumerate() {
        sheet.write_string_with_format(first, c as u16, *name, &header)?;
    }
    // Looked up per row and per department: a country has hundreds of
    // thousands of rows.
    let previous_values = values(&model.previous_table);
    let current_values = values(&model.table);
    for (i, row) in model.table.iter().enumerate() {
        let r = first + 1 + i as u32;
        let format = match row.unit {
            Unit::Percent => &percent,
            Unit::Lessons => &decimal,
            Unit::Count | Unit::Vnd => &count,
        };
        sheet.write_string(r, 0, &row.scope)?;
        sheet.write_string(r, 1, &row.indicator)?;
        sheet.write_string_with_format(r, 2, model.labels.label(&row.indicator, vi), &wrap)?;
        if let Some(v) = row.value {
            sheet.write_number_with_format(r, 3, v, format)?;
        }
        if let Some(v) = row.numerator {
            sheet.write_number_with_format(r, 4, v, &count)?;
        }
        if let Some(v) = row.denominator {
            sheet.write_number_with_format(r, 5, v, &count)?;
        }
        sheet.write_string(r, 6, row.unit.as_str())?;
        let previous = previous_values
            .get(&(row.scope.as_str(), row.indicator.as_str()))
            .copied()
            .flatten();
        if let Some(v) = previous {
            sheet.write_number_with_format(r, 7, v, format)?;
        }
    }
    let last = first + model.table.len() as u32;
    sheet.autofilter(first, 0, last.max(first), 7)?;
    sheet.set_freeze_panes(first + 1, 0)?;
    for (c, width) in [22.0, 40.0, 44.0, 14.0, 12.0, 12.0, 10.0, 14.0]
        .iter()
        .enumerate()
    {
        sheet.set_column_width(c as u16, *width)?;
    }

    let sheet = workbook.add_worksheet();
    sheet.set_name(if vi { "Đơn vị" } else { "Departments" })?;
    let columns: [&str; 6] = if vi {
        [
            "Mã",
            "Đơn vị",
            "Đã nộp",
            "Tổng số CBCCVC",
            "Lượt đào tạo",
            "Dòng bị từ chối",
        ]
    } else {
        [
            "Code",
            "Department",
            "Submitted",
            "Headcount",
            "Participants",
            "Rejected rows",
        ]
    };
    for (c, name) in columns.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *name, &header)?;
    }
    for (i, d) in model.all_departments.iter().enumerate() {
        let r = 1 + i as u32;
        sheet.write_string(r, 0, &d.code)?;
        sheet.write_string(r, 1, &d.name)?;
        sheet.write_string(r, 2, if d.submitted { "✓" } else { "✗" })?;
        let number = |scope: &str, id: &str| current_values.get(&(scope, id)).copied().flatten();
        let scope = Scope::Department(d.code.clone()).to_string();
        if let Some(v) = number(&scope, "staff.headcount") {
            sheet.write_number_with_format(r, 3, v, &count)?;
        }
        if let Some(v) = number(&scope, "training.participants") {
            sheet.write_number_with_format(r, 4, v, &count)?;
        }
        sheet.write_number_with_format(r, 5, d.rejected_rows as f64, &count)?;
    }
    for (c, width) in [10.0, 34.0, 10.0, 16.0, 14.0, 16.0].iter().enumerate() {
        sheet.set_column_width(c as u16, *width)?;
    }

    // The key figures over the last periods of the digest's kind.
    let sheet = workbook.add_worksheet();
    sheet.set_name(if vi { "Xu hướng" } else { "Trends" })?;
    let fixed: [&str; 3] = if vi {
        ["Mã chỉ tiêu", "Chỉ tiêu", "Đơn vị"]
    } else {
        ["Indicator id", "Indicator", "Unit"]
    };
    sheet.write_string(0, 0, model.scope_label.as_str())?;
    for (c, name) in fixed.iter().enumerate() {
        sheet.write_string_with_format(1, c as u16, *name, &header)?;
    }
    for (i, p) in model.trends.periods.iter().enumerate() {
        sheet.write_string_with_format(1, (fixed.len() + i) as u16, p.as_str(), &header)?;
    }
    for (i, row) in model.trends.rows.iter().enumerate() {
        let r = 2 + i as u32;
        let format = match row.unit {
            Unit::Percent => &percent,
            Unit::Lessons => &decimal,
            Unit::Count | Unit::Vnd => &count,
        };
        sheet.write_string(r, 0, &row.id)?;
        sheet.write_string_with_format(r, 1, &row.label, &wrap)?;
        sheet.write_string(r, 2, row.unit.as_str())?;
        for (j, v) in row.raw.iter().enumerate() {
            if let Some(v) = v {
                sheet.write_number_with_format(r, (fixed.len() + j) as u16, *v, format)?;
            }
        }
    }
    sheet.set_column_width(0, 36.0)?;
    sheet.set_column_width(1, 40.0)?;
    for c in 0..model.trends.periods.len() {
        sheet.set_column_width((fixed.len() + c) as u16, 12.0)?;
    }

    // IT recruitment by year.
    let sheet = workbook.add_worksheet();
    sheet.set_name(if vi {
        "Tuyển dụng CNTT"
    } else {
        "IT recruitment"
    })?;
    let columns: [&str; 5] = if vi {
        ["Năm", "Chỉ tiêu", "Đã tuyển", "Tỷ lệ đạt (%)", "Thôi việc"]
    } else {
        ["Year", "Target", "Recruited", "Fill rate (%)", "Resigned"]
    };
    sheet.write_string(0, 0, model.scope_label.as_str())?;
    for (c, name) in columns.iter().enumerate() {
        sheet.write_string_with_format(1, c as u16, *name, &header)?;
    }
    for (i, year) in model.recruitment.iter().enumerate() {
        let r = 2 + i as u32;
        sheet.write_string(r, 0, &year.year)?;
        for (j, v) in year.raw.iter().enumerate() {
            if let Some(v) = v {
                let format = if j == 2 { &percent } else { &count };
                sheet.write_number_with_format(r, 1 + j as u16, *v, format)?;
            }
        }
    }
    for (c, width) in [10.0, 12.0, 12.0, 14.0, 12.0].iter().enumerate() {
        sheet.set_column_width(c as u16, *width)?;
    }

    // Multi-year plan progress, only when such rows exist.
    if !model.plan_ranges.is_empty() {
        let sheet = workbook.add_worksheet();
        sheet.set_name(if vi {
            "Kế hoạch giai đoạn"
        } else {
            "Multi-year plan"
        })?;
        let columns: [&str; 6] = if vi {
            [
                "Phạm vi",
                "Đơn vị",
                "Lượt người lũy kế",
                "Tỷ lệ đạt (%)",
                "Kỳ vọng (%)",
                "Tiến độ",
            ]
        } else {
            [
                "Scope",
                "Name",
                "Cumulative participants",
                "Attainment (%)",
                "Expected (%)",
                "Progress",
            ]
        };
        for (c, name) in columns.iter().enumerate() {
            sheet.write_string_with_format(0, c as u16, *name, &header)?;
        }
        for (i, plan) in model.plan_ranges.iter().enumerate() {
            let r = 1 + i as u32;
            sheet.write_string(r, 0, &plan.scope)?;
            sheet.write_string(r, 1, &plan.scope_label)?;
            for (j, v) in plan.raw.iter().enumerate() {
                if let Some(v) = v {
                    let format = if j == 0 { &count } else { &percent };
                    sheet.write_number_with_format(r, 2 + j as u16, *v, format)?;
                }
            }
            let progress = match (plan.on_track, vi) {
                (Some(true), true) => "đúng tiến độ",
                (Some(false), true) => "chậm so với tiến độ",
                (Some(true), false) => "on track",
                (Some(false), false) => "behind schedule",
                (None, _) => "—",
            };
            sheet.write_string(r, 5, progress)?;
        }
        for (c, width) in [22.0, 34.0, 14.0, 14.0, 14.0, 20.0].iter().enumerate() {
            sheet.set_column_width(c as u16, *width)?;
        }
    }
    workbook.save_to_buffer()
}

/// (scope, indicator) → value.
fn values(
    rows: &[crate::model::indicator::IndicatorRow],
) -> std::collections::HashMap<(&str, &str), Option<f64>> {
    rows.iter()
        .map(|r| ((r.scope.as_str(), r.indicator.as_str()), r.value))
        .collect()
}
