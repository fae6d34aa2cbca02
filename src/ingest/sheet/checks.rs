//! Checks across the rows of a sheet (and of the sheets of one roster): the
//! same person twice, and totals rows that disagree with the rows above.

use std::sync::Arc;

use rustc_hash::FxHashMap as HashMap;

use crate::model::addition::received_day;
use crate::model::identity::{HeldRows, RowIdentity};
use crate::model::rows::{Reject, SheetWarning};
use crate::model::template::{FieldType, Template};
use crate::model::text::fold;
use crate::model::value::{self, Value};

use super::RowAt;
use super::header::{HeaderMatch, Mapping};

/// Values of the templates' `unique` fields seen so far in a workbook, with
/// the sheet and row that had them first: a person once per roster, even
/// when the roster is one sheet per unit. An addition also carries the
/// rows its department's earlier files hold: repeating one is rejected
/// naming the earlier file and row.
#[derive(Default)]
pub struct SeenKeys {
    first: HashMap<(String, usize, String), (String, u32, String)>,
    held: Option<Arc<HeldRows>>,
}

impl SeenKeys {
    /// Keys that also know the rows already held by earlier files.
    pub(crate) fn holding(held: Arc<HeldRows>) -> SeenKeys {
        SeenKeys {
            first: HashMap::default(),
            held: Some(held),
        }
    }

    /// The most values remembered: a workbook beyond it is checked only
    /// against its first million people.
    const LIMIT: usize = 1_000_000;

    /// Forgets the values a sheet brought (a sheet refused whole).
    pub(crate) fn forget_sheet(&mut self, sheet: &str) {
        self.first
            .retain(|_, (first_sheet, _, _)| first_sheet != sheet);
    }

    /// Rejects a row repeating a unique value, naming the first row.
    pub(super) fn check(
        &mut self,
        at: &RowAt<'_>,
        header: &HeaderMatch<'_>,
        values: Vec<Value>,
    ) -> Result<Vec<Value>, Vec<Reject>> {
        let template = header.template;
        let name_index = template.field_index("full_name");
        let mut rejects = Vec::new();
        for &f in &template.unique {
            let key = match values.get(f) {
                Some(Value::Text(t)) => fold(t),
                Some(Value::Int(n)) => n.to_string(),
                _ => continue,
            };
            let name = name_index
                .and_then(|i| values.get(i))
                .and_then(|v| match v {
                    Value::Text(t) => Some(t.clone()),
                    _ => None,
                })
                .unwrap_or_default();
            let key = (template.name.clone(), f, key);
            match self.first.get(&key) {
                Some((first_sheet, first_row, first_name)) => {
                    let (where_vi, where_en) = if first_sheet == at.sheet {
                        (format!("dòng {first_row}"), format!("row {first_row}"))
                    } else {
                        (
                            format!("dòng {first_row} của trang \"{first_sheet}\""),
                            format!("row {first_row} of sheet \"{first_sheet}\""),
                        )
                    };
                    rejects.push(field_reject(at, header, f, |column| {
                        (
                            format!(
                                "Trùng \"{column}\" với {where_vi} ({first_name}): mỗi người chỉ ghi một lần; xóa dòng trùng hoặc sửa mã"
                            ),
                            format!(
                                "Same \"{column}\" as {where_en} ({first_name}): each person once; remove the repeat or correct the ID"
                            ),
                        )
                    }));
                }
                None => {
                    if self.first.len() < Self::LIMIT {
                        self.first
                            .insert(key, (at.sheet.to_string(), at.excel_row(), name));
                    }
                }
            }
        }
        if rejects.is_empty()
            && let Some(reject) = self.held_reject(at, header, &values)
        {
            rejects.push(reject);
        }
        if rejects.is_empty() {
            Ok(values)
        } else {
            Err(rejects)
        }
    }

    /// A row an earlier file of the department already holds (the same
    /// person on a roster, the same attendance on a training list).
    fn held_reject(
        &self,
        at: &RowAt<'_>,
        header: &HeaderMatch<'_>,
        values: &[Value],
    ) -> Option<Reject> {
        let template = header.template;
        let held = self.held.as_ref()?;
        let identity = RowIdentity::of(template, values);
        let earlier = held.get(&template.name, &identity.row_key()?)?;
        let field = ["person_id", "full_name"].iter().find_map(|f| {
            template
                .field_index(f)
                .filter(|&i| header.columns[i].is_some())
        })?;
        let who = identity
            .full_name
            .or(identity.person_id)
            .unwrap_or_default();
        let day = received_day(&earlier.received_at);
        let (what_vi, what_en) = if identity.course.is_some() || identity.start_date.is_some() {
            ("Lượt học này", "This attendance")
        } else {
            ("Người này", "This person")
        };
        Some(field_reject(at, header, field, |_| {
            (
                format!(
                    "{what_vi} ({who}) đã có trong tệp \"{}\" nhận ngày {day} (dòng {} của trang \"{}\"): tệp bổ sung chỉ ghi những dòng chưa gửi; xóa dòng này, hoặc gửi lại cả danh sách đầy đủ không ghi \"bổ sung\" nếu muốn thay thế",
                    earlier.source_file, earlier.source_row, earlier.sheet
                ),
                format!(
                    "{what_en} ({who}) is already in \"{}\" received on {day} (row {} of sheet \"{}\"): an addition lists only rows not sent before; remove this row, or send the whole list again without \"bổ sung\" to replace it",
                    earlier.source_file, earlier.source_row, earlier.sheet
                ),
            )
        }))
    }
}

/// A reject of the row at the cell of `field` (the first column it is read
/// from), with the reasons `reasons` gives for the column's header.
fn field_reject(
    at: &RowAt<'_>,
    header: &HeaderMatch<'_>,
    field: usize,
    reasons: impl FnOnce(&str) -> (String, String),
) -> Reject {
    let mapping = header.columns[field].as_ref();
    let c = mapping.map_or(0, Mapping::first_col);
    let column = mapping.map_or(header.template.fields[field].name.as_str(), Mapping::header);
    let (reason_vi, reason_en) = reasons(column);
    Reject {
        sheet: at.sheet.to_string(),
        source_row: at.excel_row(),
        column: column.to_string(),
        cell: at.address(c),
        value: value::clip(&at.cell(c).display()),
        reason_vi,
        reason_en,
    }
}

/// Sums of the integer columns, to check totals rows: those of the current
/// section (since the last section heading or subtotal) and of the whole
/// sheet. A totals row is right when it matches either; one placed above
/// its lines is checked against the whole sheet at the end.
pub(super) struct RunningTotals {
    fields: Vec<usize>,
    section: Vec<i64>,
    all: Vec<i64>,
    rows_seen: usize,
    /// Totals rows met before any data row: (excel row, field, cell, header, stated).
    early: Vec<(u32, usize, String, String, i64)>,
}

impl RunningTotals {
    pub(super) fn new(template: &Template) -> Self {
        let fields: Vec<usize> = template
            .fields
            .iter()
            .enumerate()
            .filter(|(_, f)| f.kind == FieldType::Integer)
            .map(|(i, _)| i)
            .collect();
        let n = fields.len();
        RunningTotals {
            fields,
            section: vec![0; n],
            all: vec![0; n],
            rows_seen: 0,
            early: Vec::new(),
        }
    }

    pub(super) fn new_section(&mut self) {
        self.section.iter_mut().for_each(|s| *s = 0);
    }

    /// Adds a data row's figures as written, rejected or not: a totals row
    /// sums what the department typed, and a reject elsewhere in the row must
    /// not make the totals look wrong.
    pub(super) fn add(&mut self, at: &RowAt<'_>, header: &HeaderMatch<'_>) {
        self.rows_seen += 1;
        for (i, &field) in self.fields.iter().enumerate() {
            let Some(Mapping::Column { col, .. }) = &header.columns[field] else {
                continue;
            };
            if let Ok(Some(n)) = value::as_integer(at.cell(*col)) {
                self.section[i] = self.section[i].saturating_add(n);
                self.all[i] = self.all[i].saturating_add(n);
            }
        }
    }

    /// Compares a totals row with the rows it sums; a mismatch is a warning, not a reject.
    pub(super) fn check(
        &mut self,
        at: &RowAt<'_>,
        header: &HeaderMatch<'_>,
        warnings: &mut Vec<SheetWarning>,
    ) {
        for (i, &field) in self.fields.iter().enumerate() {
            let Some(Mapping::Column { col, header: name }) = &header.columns[field] else {
                continue;
            };
            let Ok(Some(stated)) = value::as_integer(at.cell(*col)) else {
                continue;
            };
            if self.rows_seen == 0 {
                self.early
                    .push((at.excel_row(), i, at.address(*col), name.clone(), stated));
                continue;
            }
            // Right when it sums its section or the whole table so far.
            if stated != self.section[i] && stated != self.all[i] {
                let sum = self.section[i];
                warnings.push(SheetWarning {
                    source_row: at.excel_row(),
                    cell: at.address(*col),
                    message_vi: format!("Dòng tổng cộng ghi {stated} ở cột \"{name}\" nhưng tổng các dòng phía trên là {sum}"),
                    message_en: format!("The totals row says {stated} in column \"{name}\" but the rows above add up to {sum}"),
                });
            }
        }
        // The next totals row sums the rows after this one (a totals row
        // before any data row left the sums at zero).
        self.new_section();
    }

    /// Totals rows placed above their lines, checked against the whole sheet.
    pub(super) fn at_end(&mut self) -> Vec<SheetWarning> {
        std::mem::take(&mut self.early)
            .into_iter()
            .filter(|(_, i, _, _, stated)| *stated != self.all[*i])
            .map(|(row, i, cell, name, stated)| {
                let sum = self.all[i];
                SheetWarning {
                    source_row: row,
                    cell,
                    message_vi: format!("Dòng tổng cộng ghi {stated} ở cột \"{name}\" nhưng tổng các dòng của bảng là {sum}"),
                    message_en: format!("The totals row says {stated} in column \"{name}\" but the rows of the table add up to {sum}"),
                }
            })
            .collect()
    }
}
