//! A data row converted to its template's typed values (see
//! [`crate::model::value`]): blanks, marks, enumerations and rejects.

use rustc_hash::FxHashMap as HashMap;

use crate::model::posts::PostTable;
use crate::model::rows::Reject;
use crate::model::template::{BlankValue, Derived, Field, FieldType};
use crate::model::text::fold;
use crate::model::value::{self, Cell, Problem, Value};

use super::header::{HeaderMatch, Mapping};
use super::{RowAt, SheetContext};

pub(super) fn parse_row<'t>(
    at: &RowAt<'_>,
    header: &HeaderMatch<'t>,
    ctx: SheetContext<'_>,
    enums: &mut EnumValues<'t>,
) -> Result<Vec<Value>, Vec<Reject>> {
    let template = header.template;
    let mut values = Vec::with_capacity(template.fields.len());
    let mut rejects = Vec::new();
    let mut reject = |field: usize, c: usize, cell: &Cell, problem: Problem| {
        let column = header.columns[field]
            .as_ref()
            .map(|m| m.header().to_string())
            .unwrap_or_else(|| template.fields[field].name.clone());
        rejects.push(Reject {
            sheet: at.sheet.to_string(),
            source_row: at.excel_row(),
            column,
            cell: at.address(c),
            value: value::clip(&cell.display()),
            reason_vi: problem.vi,
            reason_en: problem.en,
        });
    };
    for (index, field) in template.fields.iter().enumerate() {
        let (c, cell) = match &header.columns[index] {
            None => {
                // No column for it: unknown, never the blank value. The level
                // alone comes from the registry: the department's own.
                values.push(match field.blank {
                    BlankValue::DepartmentLevel => blank_value(field.kind, &field.blank, ctx),
                    _ => Value::Null,
                });
                continue;
            }
            Some(Mapping::Marks {
                columns, unmarked, ..
            }) => {
                let marked: Vec<&(usize, String)> = columns
                    .iter()
                    .filter(|(c, _)| is_mark(at.cell(*c)))
                    .collect();
                match marked.as_slice() {
                    [] if field.required => {
                        let c = columns.first().map_or(0, |(c, _)| *c);
                        reject(index, c, &Cell::Empty, Problem::missing());
                        values.push(Value::Null);
                    }
                    [] => values.push(match unmarked {
                        Some(value) => Value::Enum(value.clone()),
                        None => blank_value(field.kind, &field.blank, ctx),
                    }),
                    [(c, value)] => match value::unreadable(at.cell(*c)) {
                        Some(problem) => {
                            reject(index, *c, at.cell(*c), problem);
                            values.push(Value::Null);
                        }
                        None => values.push(Value::Enum(value.clone())),
                    },
                    [_, (c, _), ..] => {
                        reject(
                            index,
                            *c,
                            at.cell(*c),
                            Problem::new(
                                "Đánh dấu nhiều hơn một ô trong cùng một nhóm cột",
                                "More than one column of the group is marked",
                            ),
                        );
                        values.push(Value::Null);
                    }
                }
                continue;
            }
            Some(Mapping::InMarkedColumn { columns, .. }) => {
                let filled: Vec<usize> = columns
                    .iter()
                    .map(|(c, _)| *c)
                    .filter(|c| !at.cell(*c).is_blank())
                    .collect();
                match filled.as_slice() {
                    [] => (columns[0].0, &Cell::Empty),
                    [c] => (*c, at.cell(*c)),
                    [_, c, ..] => {
                        reject(
                            index,
                            *c,
                            at.cell(*c),
                            Problem::new(
                                "Ghi giá trị ở nhiều hơn một cột của cùng một nhóm",
                                "A value is written in more than one column of the group",
                            ),
                        );
                        values.push(Value::Null);
                        continue;
                    }
                }
            }
            Some(Mapping::Joined { parts, .. }) => {
                let mut texts = Vec::new();
                for (_, c) in parts {
                    match value::as_text(at.cell(*c)) {
                        Ok(Some(t)) => texts.push(t),
                        Ok(None) => {}
                        Err(problem) => reject(index, *c, at.cell(*c), problem),
                    }
                }
                let first = parts.first().map_or(0, |(_, c)| *c);
                let joined_cell = if texts.is_empty() {
                    Cell::Empty
                } else {
                    Cell::Text(texts.join(" "))
                };
                if joined_cell.is_blank() && field.required {
                    reject(index, first, &Cell::Empty, Problem::missing());
                    values.push(Value::Null);
                } else {
                    values.push(match &joined_cell {
                        Cell::Text(t) => Value::Text(t.clone()),
                        _ => Value::Null,
                    });
                }
                continue;
            }
            Some(Mapping::Column { col, .. }) => (*col, at.cell(*col)),
        };
        let converted: Result<Value, Problem> = match field.kind {
            FieldType::Text => value::as_text(cell).map(|t| t.map_or(Value::Null, Value::Text)),
            FieldType::Integer => value::as_integer(cell).and_then(|n| match (n, field.min) {
                (Some(n), Some(min)) if n < min => Err(Problem::new(
                    format!("Giá trị {n} nhỏ hơn mức tối thiểu {min}"),
                    format!("Value {n} is below the minimum {min}"),
                )),
                (n, _) => Ok(n.map_or(Value::Null, Value::Int)),
            }),
            FieldType::Date => value::as_plausible_date(cell, &field.dates, ctx.today)
                .map(|d| d.map_or(Value::Null, Value::Date)),
            FieldType::Bool if field.any_text_is_yes => match value::unreadable(cell) {
                Some(problem) => Err(problem),
                None => Ok(Value::Bool(is_mark(cell))),
            },
            FieldType::Bool => value::as_bool(cell).map(Value::Bool),
            FieldType::Enum => match cell {
                Cell::Error(code) => Err(Problem::error_cell(code)),
                Cell::Uncomputed { formula } => Err(Problem::uncomputed(formula)),
                Cell::TooLong { chars, .. } => Err(Problem::too_long(*chars)),
                blank if blank.is_blank() => Ok(blank_value(field.kind, &field.blank, ctx)),
                other => enums
                    .value(index, field, other)
                    .map(|v| Value::Enum(v.to_string()))
                    .ok_or_else(|| {
                        let shown = other.display();
                        let accepted = template
                            .synonyms
                            .get(&index)
                            .map(|s| s.join(", "))
                            .unwrap_or_default();
                        Problem::new(
                            format!("\"{shown}\" không thuộc danh mục; chấp nhận: {accepted}"),
                            format!("\"{shown}\" is not an accepted value; accepted: {accepted}"),
                        )
                    }),
            },
        };
        match converted {
            Ok(Value::Null) if field.required => {
                reject(index, c, cell, Problem::missing());
                values.push(Value::Null);
            }
            Ok(v) => values.push(v),
            Err(problem) => {
                reject(index, c, cell, problem);
                values.push(Value::Null);
            }
        }
    }
    for (index, field) in template.fields.iter().enumerate() {
        if let Some(derived) = field.derived {
            values[index] = derive(derived, &values[derived.source()], ctx.posts);
        }
    }
    for (index, field) in template.fields.iter().enumerate() {
        let Some(before) = field.not_before else {
            continue;
        };
        if let (Value::Date(end), Value::Date(start)) = (&values[index], &values[before])
            && end < start
            && let Some(mapping) = &header.columns[index]
        {
            let c = mapping.first_col();
            let start_header = header.columns[before]
                .as_ref()
                .map(Mapping::header)
                .unwrap_or("");
            reject(
                index,
                c,
                at.cell(c),
                Problem::new(
                    format!(
                        "Ngày {} trước \"{start_header}\" {}",
                        end.format("%d/%m/%Y"),
                        start.format("%d/%m/%Y")
                    ),
                    format!(
                        "Date {} is before \"{start_header}\" {}",
                        end.format("%d/%m/%Y"),
                        start.format("%d/%m/%Y")
                    ),
                ),
            );
        }
    }
    if rejects.is_empty() {
        Ok(values)
    } else {
        Err(rejects)
    }
}

/// Enumeration cells repeat ("Tập trung", "Đạt") down a sheet: each
/// distinct text is looked up (folded) once per field and sheet.
#[derive(Default)]
pub(super) struct EnumValues<'t> {
    by_field: Vec<HashMap<String, Option<&'t str>>>,
}

impl<'t> EnumValues<'t> {
    /// Distinct texts remembered per field: a free-text column mapped to an
    /// enumeration must not grow without bound.
    const LIMIT: usize = 1024;

    fn value(&mut self, index: usize, field: &'t Field, cell: &Cell) -> Option<&'t str> {
        let Cell::Text(text) = cell else {
            return field.enum_value(&cell.display());
        };
        if self.by_field.len() <= index {
            self.by_field.resize_with(index + 1, HashMap::default);
        }
        let known = &mut self.by_field[index];
        if let Some(value) = known.get(text.as_str()) {
            return *value;
        }
        // "Đại học Luật", "Thạc sĩ Quản lý công": a value followed by more words.
        let value = field
            .enum_value(text)
            .or_else(|| field.enum_value_leading(text));
        if known.len() < Self::LIMIT {
            known.insert(text.clone(), value);
        }
        value
    }
}

/// A derived field's value from its source's (the position): the post the
/// table names for it, null when the position is blank or names no post.
pub(super) fn derive(derived: Derived, source: &Value, posts: &PostTable) -> Value {
    let Value::Text(position) = source else {
        return Value::Null;
    };
    match (derived, posts.lookup(position)) {
        (_, None) => Value::Null,
        (Derived::Leadership { .. }, Some(post)) => {
            Value::Enum(post.leadership.as_str().to_string())
        }
        (Derived::PostGroup { .. }, Some(post)) => Value::Text(post.group.clone()),
    }
}

/// An x-mark: any non-blank cell but an explicit no.
fn is_mark(cell: &Cell) -> bool {
    match cell {
        Cell::Number(n) => *n != 0.0,
        Cell::Bool(b) => *b,
        // "✓" folds to nothing but is a mark; a dash or "0" says no.
        Cell::Text(t) => {
            let raw = t.trim();
            !raw.is_empty()
                && !matches!(raw, "-" | "–" | "—")
                && !matches!(fold(raw).as_str(), "0" | "khong" | "no")
        }
        Cell::Date(_) | Cell::Error(_) | Cell::Uncomputed { .. } | Cell::TooLong { .. } => true,
        Cell::Empty => false,
    }
}

fn blank_value(kind: FieldType, blank: &BlankValue, ctx: SheetContext<'_>) -> Value {
    match (kind, blank) {
        (FieldType::Bool, _) => Value::Bool(false),
        (_, BlankValue::Null) => Value::Null,
        (_, BlankValue::Value(v)) => Value::Enum(v.clone()),
        (_, BlankValue::DepartmentLevel) => Value::Enum(ctx.department_level.to_string()),
    }
}
