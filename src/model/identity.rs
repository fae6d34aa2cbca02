//! Who a row is about and which row it is, compared across a department's
//! files: an addition that lists a person (a roster) or an attendance (a
//! training list) already held repeats it. People are matched as the
//! indicators match them (`scopes.sql`): by ID, else by name and birth date.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::template::Template;
use super::text::fold;
use super::value::Value;

/// The values of a row that tell who and what it is; a template without a
/// field leaves it `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowIdentity {
    pub person_id: Option<String>,
    pub full_name: Option<String>,
    pub birth_date: Option<NaiveDate>,
    /// What was attended (training): the same person on another course is
    /// another row.
    pub course: Option<String>,
    pub start_date: Option<NaiveDate>,
}

impl RowIdentity {
    /// The identity of a converted row of `template` (its values in the
    /// template's field order).
    pub fn of(template: &Template, values: &[Value]) -> RowIdentity {
        let field = |name: &str| template.field_index(name).and_then(|i| values.get(i));
        let text = |name: &str| match field(name) {
            Some(Value::Text(t) | Value::Enum(t)) => Some(t.clone()),
            Some(Value::Int(n)) => Some(n.to_string()),
            _ => None,
        };
        let date = |name: &str| match field(name) {
            Some(Value::Date(d)) => Some(*d),
            _ => None,
        };
        RowIdentity {
            person_id: text("person_id"),
            full_name: text("full_name"),
            birth_date: date("birth_date"),
            course: text("course"),
            start_date: date("start_date"),
        }
    }

    /// The person: "id:<folded ID>", else "name:<folded name>|<birth date>";
    /// `None` without either (a row that names nobody).
    pub fn person_key(&self) -> Option<String> {
        let present = |t: &Option<String>| t.as_deref().map(fold).filter(|t| !t.is_empty());
        if let Some(id) = present(&self.person_id) {
            return Some(format!("id:{id}"));
        }
        let name = present(&self.full_name)?;
        let born = self.birth_date.map(|d| d.to_string()).unwrap_or_default();
        Some(format!("name:{name}|{born}"))
    }

    /// The row: its person and, for an attendance, the course and its start.
    pub fn row_key(&self) -> Option<String> {
        let mut key = self.person_key()?;
        if self.course.is_some() || self.start_date.is_some() {
            key.push_str("|course:");
            key.push_str(&self.course.as_deref().map(fold).unwrap_or_default());
            key.push('|');
            if let Some(start) = self.start_date {
                key.push_str(&start.to_string());
            }
        }
        Some(key)
    }
}

/// Whether a template's rows are about people (it has an ID or a name
/// field): only such forms are matched across a department's files.
pub fn names_people(template: &Template) -> bool {
    template.field_index("person_id").is_some() || template.field_index("full_name").is_some()
}

/// Where a row already held came from: the earlier file and its row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldRow {
    pub source_file: String,
    /// When the earlier file was received (the ledger's RFC 3339 time).
    pub received_at: String,
    pub sheet: String,
    pub source_row: u32,
}

/// The rows a department's active files already hold, by template and
/// [`RowIdentity::row_key`]: an addition repeating one is rejected naming it.
#[derive(Debug, Clone, Default)]
pub struct HeldRows(HashMap<String, HashMap<String, HeldRow>>);

impl HeldRows {
    /// Remembers a held row; the first file to hold a key keeps it.
    pub fn insert(&mut self, template: &str, row_key: String, row: HeldRow) {
        self.0
            .entry(template.to_string())
            .or_default()
            .entry(row_key)
            .or_insert(row);
    }

    /// The earlier row with this key, if one is held.
    pub fn get(&self, template: &str, row_key: &str) -> Option<&HeldRow> {
        self.0.get(template)?.get(row_key)
    }

    /// Whether no row is held at all.
    pub fn is_empty(&self) -> bool {
        self.0.values().all(HashMap::is_empty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, d)
    }

    #[test]
    fn people_are_matched_by_id_else_by_name_and_birth_date() {
        let by_id = RowIdentity {
            person_id: Some(" 001-234 ".into()),
            full_name: Some("Lò Văn A".into()),
            ..RowIdentity::default()
        };
        let same_id = RowIdentity {
            person_id: Some("001 234".into()),
            full_name: Some("Lo Van An".into()),
            ..RowIdentity::default()
        };
        assert_eq!(by_id.person_key(), same_id.person_key());
        let by_name = RowIdentity {
            full_name: Some("LÒ VĂN  A".into()),
            birth_date: date(1990, 5, 1),
            ..RowIdentity::default()
        };
        let namesake = RowIdentity {
            full_name: Some("Lò Văn A".into()),
            birth_date: date(1991, 5, 1),
            ..RowIdentity::default()
        };
        assert_eq!(
            by_name.person_key().as_deref(),
            Some("name:lo van a|1990-05-01")
        );
        assert_ne!(by_name.person_key(), namesake.person_key());
        let blank_id = RowIdentity {
            person_id: Some("  ".into()),
            ..by_name.clone()
        };
        assert_eq!(blank_id.person_key(), by_name.person_key());
        assert_eq!(RowIdentity::default().person_key(), None);
    }

    #[test]
    fn an_attendance_is_the_person_on_one_course_from_one_start() {
        let first = RowIdentity {
            person_id: Some("X1".into()),
            course: Some("Bồi dưỡng QLNN".into()),
            start_date: date(2025, 3, 1),
            ..RowIdentity::default()
        };
        let again = RowIdentity {
            course: Some("BOI DUONG QLNN".into()),
            ..first.clone()
        };
        let next_class = RowIdentity {
            start_date: date(2025, 9, 1),
            ..first.clone()
        };
        assert_eq!(first.row_key(), again.row_key());
        assert_ne!(first.row_key(), next_class.row_key());
        assert_eq!(first.person_key(), next_class.person_key());
        let roster_row = RowIdentity {
            person_id: Some("X1".into()),
            ..RowIdentity::default()
        };
        assert_eq!(roster_row.row_key(), roster_row.person_key());
    }
}
