//! Templates: the forms departments fill, defined as data.
//!
//! A template is read from its text here ([`parse_template`]); which files
//! there are (the built-in `config/templates/` overlaid by the configured
//! templates folder, so analysts add a header alias or an enumeration synonym
//! without a rebuild) is the catalogue's business (`crate::catalogue`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rustc_hash::FxHashMap as HashMap;

use serde::Deserialize;

use super::text::fold;
use super::value::{DateBound, DateBounds};

/// Columns every warehouse table carries besides the template's fields.
pub(crate) const LINEAGE_COLUMNS: &[&str] = &["submission_id", "source_sheet", "source_row"];

/// Why a template file could not be read, or was refused.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// The templates folder or one of its files cannot be read.
    #[error("cannot read the template {file}")]
    Read {
        file: PathBuf,
        source: std::io::Error,
    },
    /// Not TOML, or a key the template format does not have.
    #[error("template {file}")]
    Parse {
        file: PathBuf,
        source: toml::de::Error,
    },
    /// Well-formed but refused: `message` names the key and what is expected.
    #[error("template {file}: {message}")]
    Invalid { file: PathBuf, message: String },
}

impl TemplateError {
    /// The template file (or folder) the problem is in.
    pub fn file(&self) -> &Path {
        match self {
            TemplateError::Read { file, .. }
            | TemplateError::Parse { file, .. }
            | TemplateError::Invalid { file, .. } => file,
        }
    }
}

/// The kind of value a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    Text,
    Date,
    Integer,
    Bool,
    Enum,
}

/// What a blank enumeration cell means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlankValue {
    Null,
    Value(String),
    /// The submitting department's level (province, district or commune).
    DepartmentLevel,
}

/// A field computed from another field of the same row through the
/// post-name table (`config/posts.toml`), never read from a column: the
/// form offers no column for it and the reader expects no header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Derived {
    /// `leadership`: the post's leader, manager or staff, from the text field `from`.
    Leadership { from: usize },
    /// `post_group`: the post's group, from the text field `from`.
    PostGroup { from: usize },
}

impl Derived {
    /// The field it is computed from.
    pub fn source(self) -> usize {
        match self {
            Derived::Leadership { from } | Derived::PostGroup { from } => from,
        }
    }
}

/// One field of a template: the headers that name it and the values it
/// accepts.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub headers: Vec<String>,
    pub kind: FieldType,
    pub required: bool,
    pub min: Option<i64>,
    /// For dates: the field this one must not precede (end ≥ start).
    pub not_before: Option<usize>,
    /// For dates: the plausible ones (`earliest`, `latest`, `age` in the
    /// template); a date outside is rejected with the reason.
    pub dates: DateBounds,
    /// Canonical value names in the order written, for messages and schemas.
    pub values: Vec<String>,
    pub blank: BlankValue,
    /// For a value written across several columns ("Họ và tên đệm" + "Tên"):
    /// the folded headers of each part, in the order the parts are joined.
    pub parts: Vec<Vec<String>>,
    /// Computed from another field (`derived_from`), not read from a column.
    pub derived: Option<Derived>,
    /// For booleans (`any_text = true`): a cell with any text but an explicit
    /// no is yes ("Quy hoạch Phó Giám đốc": the planned title written in).
    pub any_text_is_yes: bool,
    folded_values: HashMap<String, usize>,
}

impl Field {
    /// The canonical value a cell's text stands for, matched like headers.
    pub(crate) fn enum_value(&self, text: &str) -> Option<&str> {
        self.folded_values
            .get(&fold(text))
            .map(|&i| self.values[i].as_str())
    }

    /// The value named by the first words of `text` ("Đại học Luật" →
    /// university): the longest synonym of two words or more that is a
    /// whole-word prefix; none when two values' synonyms are equally long
    /// prefixes.
    pub(crate) fn enum_value_leading(&self, text: &str) -> Option<&str> {
        let folded = fold(text);
        let mut best: Option<(usize, usize)> = None;
        let mut tie = false;
        for (synonym, &value) in &self.folded_values {
            // Two words at least: "Không" or "TC" followed by more words
            // says something else ("không phải trình độ").
            let is_prefix = synonym.contains(' ')
                && folded.len() > synonym.len()
                && folded.starts_with(synonym.as_str())
                && folded.as_bytes()[synonym.len()] == b' ';
            if !is_prefix {
                continue;
            }
            match best {
                Some((len, v)) if synonym.len() == len && v != value => tie = true,
                Some((len, _)) if synonym.len() <= len => {}
                _ => {
                    best = Some((synonym.len(), value));
                    tie = false;
                }
            }
        }
        match (best, tie) {
            (Some((_, value)), false) => Some(self.values[value].as_str()),
            _ => None,
        }
    }

    /// Every text that names one of the values, folded.
    pub(crate) fn folded_value_texts(&self) -> impl Iterator<Item = String> + '_ {
        self.folded_values.keys().cloned()
    }
}

/// A template: the fields of one kind of form, and how its header cells
/// and values are read.
#[derive(Debug, Clone)]
pub struct Template {
    pub name: String,
    pub title: String,
    pub fields: Vec<Field>,
    /// Folded header text → field index.
    folded_headers: HashMap<String, usize>,
    /// Enumeration synonyms as written, for messages: field index → synonyms.
    pub synonyms: BTreeMap<usize, Vec<String>>,
    /// Fields whose value may appear once per sheet (a person once per
    /// roster): a later row with the same value is rejected naming the first.
    pub unique: Vec<usize>,
}

impl Template {
    /// The field a header cell names, matched case-, accent- and punctuation-insensitively.
    pub fn field_for_header(&self, header: &str) -> Option<usize> {
        self.field_for_folded_header(&fold(header))
    }

    /// Every header text the template knows, folded.
    pub(crate) fn folded_header_texts(&self) -> impl Iterator<Item = &str> {
        self.folded_headers.keys().map(String::as_str)
    }

    /// [`Template::field_for_header`] for a header already folded.
    pub(crate) fn field_for_folded_header(&self, folded: &str) -> Option<usize> {
        self.folded_headers.get(folded).copied()
    }

    /// The position of the field called `name`.
    pub fn field_index(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTemplate {
    name: String,
    #[serde(default)]
    title: String,
    /// Field names whose value identifies a row: a repeat is rejected.
    #[serde(default)]
    unique: Vec<String>,
    fields: Vec<RawField>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawField {
    name: String,
    /// None for a derived field.
    #[serde(default)]
    headers: Vec<String>,
    #[serde(rename = "type")]
    kind: FieldType,
    #[serde(default)]
    required: bool,
    min: Option<i64>,
    not_before: Option<String>,
    /// Dates: "YYYY-MM-DD", "today", "today+2y", "today-100y".
    earliest: Option<String>,
    latest: Option<String>,
    /// Birth dates: [youngest, oldest] age in years on the day the file is read.
    age: Option<[u32; 2]>,
    #[serde(default)]
    values: WrittenValues,
    blank: Option<String>,
    /// Headers of the columns a value is split across, one list per part.
    #[serde(default)]
    parts: Vec<Vec<String>>,
    /// The field this one is computed from (`leadership`, `post_group`).
    derived_from: Option<String>,
    /// Booleans: any text but an explicit no is yes.
    #[serde(default)]
    any_text: bool,
}

/// An enumeration's `values` table in the order written: the TOML parser
/// keeps a table's keys sorted, so the entries are put back in the order of
/// their position in the file (the form's drop-downs and the "accepted: …"
/// messages list them as the analyst wrote them).
#[derive(Default)]
struct WrittenValues(Vec<(String, toml::Value)>);

impl WrittenValues {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'de> Deserialize<'de> for WrittenValues {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entries;
        impl<'de> serde::de::Visitor<'de> for Entries {
            type Value = WrittenValues;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a table of value = [synonyms]")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<WrittenValues, A::Error> {
                let mut entries = Vec::new();
                while let Some((key, value)) =
                    map.next_entry::<toml::Spanned<String>, toml::Value>()?
                {
                    entries.push((key.span().start, key.into_inner(), value));
                }
                entries.sort_by_key(|(at, _, _)| *at);
                Ok(WrittenValues(
                    entries.into_iter().map(|(_, k, v)| (k, v)).collect(),
                ))
            }
        }
        deserializer.deserialize_map(Entries)
    }
}

/// The template a file's text defines; errors name `file`.
pub fn parse_template(file: &Path, text: &str) -> Result<Template, TemplateError> {
    let error = |message: String| TemplateError::Invalid {
        file: file.to_path_buf(),
        message,
    };
    let raw: RawTemplate = toml::from_str(text).map_err(|source| TemplateError::Parse {
        file: file.to_path_buf(),
        source,
    })?;
    let name_ok = !raw.name.is_empty()
        && raw
            .name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !name_ok {
        return Err(error(format!(
            "name: {:?} must be lower-case letters, digits or '_' (it names a warehouse table)",
            raw.name
        )));
    }
    if ["rejects", "submissions", "indicators"].contains(&raw.name.as_str()) {
        return Err(error(format!(
            "name: {:?} is a reserved table name",
            raw.name
        )));
    }
    let mut fields: Vec<Field> = Vec::with_capacity(raw.fields.len());
    let mut folded_headers = HashMap::default();
    let mut synonyms = BTreeMap::new();
    for raw_field in &raw.fields {
        let index = fields.len();
        let name = &raw_field.name;
        let name_ok = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            && !LINEAGE_COLUMNS.contains(&name.as_str())
            && name != "period"
            && name != "department";
        if !name_ok || fields.iter().any(|f| &f.name == name) {
            return Err(error(format!(
                "fields.name: {name:?} must be unique, lower-case letters, digits or '_', and not one of submission_id, source_sheet, source_row, period, department"
            )));
        }
        if raw_field.derived_from.is_some() {
            let shape_ok = match name.as_str() {
                "leadership" => {
                    raw_field.kind == FieldType::Enum
                        && raw_field
                            .values
                            .0
                            .iter()
                            .map(|(v, _)| v.as_str())
                            .eq(leadership_names().iter().copied())
                }
                "post_group" => raw_field.kind == FieldType::Text,
                _ => false,
            };
            if !shape_ok || !raw_field.headers.is_empty() || raw_field.required {
                return Err(error(format!(
                    "fields.derived_from: field {name}: only leadership (an enumeration of leader, manager, staff) and post_group (text) are derived, with no headers and not required"
                )));
            }
        } else if raw_field.headers.is_empty() {
            return Err(error(format!("fields.headers: field {name} has no header")));
        }
        if raw_field.any_text && raw_field.kind != FieldType::Bool {
            return Err(error(format!(
                "fields.any_text: field {name} is not a boolean"
            )));
        }
        for header in &raw_field.headers {
            let folded = fold(header);
            if folded.is_empty() {
                return Err(error(format!(
                    "fields.headers: field {name} has a header with no letters: {header:?}"
                )));
            }
            if let Some(&other) = folded_headers.get(&folded)
                && other != index
            {
                let other_name = fields
                    .get(other)
                    .map(|f: &Field| f.name.as_str())
                    .unwrap_or("?");
                return Err(error(format!(
                    "fields.headers: {header:?} names both {other_name} and {name}"
                )));
            }
            folded_headers.insert(folded, index);
        }

        let mut values = Vec::new();
        let mut folded_values = HashMap::default();
        let mut written = Vec::new();
        if raw_field.kind == FieldType::Enum {
            if raw_field.values.is_empty() {
                return Err(error(format!(
                    "fields.values: enumeration {name} lists no values"
                )));
            }
            for (value, list) in &raw_field.values.0 {
                let value_index = values.len();
                values.push(value.clone());
                folded_values.insert(fold(value), value_index);
                let list = list.as_array().ok_or_else(|| {
                    error(format!(
                        "fields.values.{value}: field {name}: expected a list of synonyms"
                    ))
                })?;
                for synonym in list {
                    let synonym = synonym.as_str().ok_or_else(|| {
                        error(format!(
                            "fields.values.{value}: field {name}: synonyms are strings"
                        ))
                    })?;
                    if let Some(&other) = folded_values.get(&fold(synonym))
                        && other != value_index
                    {
                        return Err(error(format!(
                            "fields.values: field {name}: {synonym:?} stands for both {} and {value}",
                            values[other]
                        )));
                    }
                    folded_values.insert(fold(synonym), value_index);
                    written.push(synonym.to_string());
                }
            }
            synonyms.insert(index, written);
        } else if !raw_field.values.is_empty() {
            return Err(error(format!(
                "fields.values: field {name} is not an enumeration"
            )));
        }

        let blank = match raw_field.blank.as_deref() {
            None => BlankValue::Null,
            Some("@department_level") => BlankValue::DepartmentLevel,
            Some(value)
                if raw_field.kind == FieldType::Enum && values.iter().any(|v| v == value) =>
            {
                BlankValue::Value(value.to_string())
            }
            Some(value) => {
                return Err(error(format!(
                    "fields.blank: field {name}: {value:?} is not one of its values ({}) nor \"@department_level\"",
                    values.join(", ")
                )));
            }
        };
        if raw_field.min.is_some() && raw_field.kind != FieldType::Integer {
            return Err(error(format!("fields.min: field {name} is not an integer")));
        }
        if !raw_field.parts.is_empty()
            && (raw_field.kind != FieldType::Text
                || raw_field.parts.len() < 2
                || raw_field.parts.iter().flatten().any(|h| fold(h).is_empty()))
        {
            return Err(error(format!(
                "fields.parts: field {name}: parts are for text fields, at least two lists of headers with letters"
            )));
        }
        let parts = raw_field
            .parts
            .iter()
            .map(|headers| headers.iter().map(|h| fold(h)).collect())
            .collect();
        let dates = date_bounds(raw_field).map_err(error)?;
        fields.push(Field {
            name: name.clone(),
            headers: raw_field.headers.clone(),
            kind: raw_field.kind,
            required: raw_field.required,
            min: raw_field.min,
            not_before: None,
            dates,
            values,
            blank,
            parts,
            derived: None,
            any_text_is_yes: raw_field.any_text,
            folded_values,
        });
    }
    for (index, raw_field) in raw.fields.iter().enumerate() {
        if let Some(other) = &raw_field.derived_from {
            let from = fields
                .iter()
                .position(|f| &f.name == other && f.kind == FieldType::Text && f.derived.is_none())
                .ok_or_else(|| {
                    error(format!(
                        "fields.derived_from: field {}: {other:?} is not a text field of this template",
                        raw_field.name
                    ))
                })?;
            fields[index].derived = Some(if raw_field.name == "leadership" {
                Derived::Leadership { from }
            } else {
                Derived::PostGroup { from }
            });
        }
        if let Some(other) = &raw_field.not_before {
            let other_index = fields
                .iter()
                .position(|f| &f.name == other && f.kind == FieldType::Date)
                .filter(|_| raw_field.kind == FieldType::Date)
                .ok_or_else(|| {
                    error(format!(
                        "fields.not_before: field {}: {other:?} is not a date field of this template",
                        raw_field.name
                    ))
                })?;
            fields[index].not_before = Some(other_index);
        }
    }
    if !fields.iter().any(|f| f.required) {
        return Err(error(
            "fields: at least one field must be required (it tells data rows from notes)".into(),
        ));
    }
    let mut unique = Vec::with_capacity(raw.unique.len());
    for name in &raw.unique {
        let index = fields
            .iter()
            .position(|f| &f.name == name)
            .ok_or_else(|| error(format!("unique: {name:?} is not a field of this template")))?;
        unique.push(index);
    }
    Ok(Template {
        name: raw.name,
        title: raw.title,
        fields,
        folded_headers,
        synonyms,
        unique,
    })
}

/// The values of a derived `leadership` field, in order.
fn leadership_names() -> &'static [&'static str] {
    &super::posts::Leadership::NAMES
}

/// The plausible dates of a field, from its `earliest`, `latest` and `age` keys.
fn date_bounds(raw: &RawField) -> Result<DateBounds, String> {
    let name = &raw.name;
    let given = raw.earliest.is_some() || raw.latest.is_some() || raw.age.is_some();
    if given && raw.kind != FieldType::Date {
        return Err(format!(
            "fields.earliest/latest/age: field {name} is not a date"
        ));
    }
    let bound = |key: &str, text: &Option<String>| -> Result<Option<DateBound>, String> {
        text.as_deref()
            .map(|t| {
                DateBound::parse(t).ok_or_else(|| {
                    format!(
                        "fields.{key}: field {name}: {t:?} is not a date (YYYY-MM-DD) nor \"today\", \"today+Ny\", \"today-Ny\""
                    )
                })
            })
            .transpose()
    };
    let age = match raw.age {
        Some([youngest, oldest]) if youngest > oldest => {
            return Err(format!(
                "fields.age: field {name}: the youngest age {youngest} is above the oldest {oldest}"
            ));
        }
        Some([youngest, oldest]) => Some((youngest, oldest)),
        None => None,
    };
    Ok(DateBounds {
        earliest: bound("earliest", &raw.earliest)?,
        latest: bound("latest", &raw.latest)?,
        age,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_naming_two_fields_is_refused() {
        let text = r#"
name = "x"
[[fields]]
name = "a"
headers = ["Họ tên"]
type = "text"
required = true
[[fields]]
name = "b"
headers = ["HO TEN"]
type = "text"
"#;
        let err = parse_template(Path::new("x.toml"), text)
            .expect_err("refused")
            .to_string();
        assert!(err.contains("names both a and b"), "{err}");
    }
}
