//! Whether a file declares itself an addition to what its department already
//! sent: a supplement ("bổ sung") or one batch of several ("đợt N"), read
//! from the file name and the sheets' title lines. An addition adds its rows
//! to the ones held; any other newer file replaces them (see DESIGN,
//! Warehouse).
//!
//! A mark counts only where it cannot be something else: "bổ sung" is also
//! an everyday verb of course titles ("bồi dưỡng bổ sung kiến thức") and of
//! recruitment ("tuyển dụng bổ sung năm 2024"). In a title it counts after
//! "danh sách", "kế hoạch", "báo cáo" or "đăng ký", at the start of a line or
//! of a bracketed part, or before "lần", "đợt", "danh sách" or the line's
//! end; anything else is no declaration. A mark missed is safe: an undeclared
//! small file that shares nobody with the held one is refused as ambiguous,
//! never taken as a replacement.

use serde::{Deserialize, Serialize};

use super::text::fold;

/// How a file adds to what is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Addition {
    /// "Danh sách bổ sung": more rows for the same list.
    Supplement,
    /// "Đợt N": batch N of a list sent in several; a later file of the same
    /// batch replaces that batch only.
    Batch(u32),
}

impl Addition {
    /// How the ledger stores it: "supplement", "batch:2".
    pub fn as_stored(self) -> String {
        match self {
            Addition::Supplement => "supplement".to_string(),
            Addition::Batch(n) => format!("batch:{n}"),
        }
    }

    /// The ledger's text back ([`Addition::as_stored`]); `None` for anything else.
    pub fn from_stored(text: &str) -> Option<Addition> {
        match text {
            "supplement" => Some(Addition::Supplement),
            _ => text
                .strip_prefix("batch:")
                .and_then(|n| n.parse().ok())
                .filter(|n| BATCHES.contains(n))
                .map(Addition::Batch),
        }
    }

    /// As a department officer reads it: "bổ sung", "đợt 2".
    pub fn label_vi(self) -> String {
        match self {
            Addition::Supplement => "bổ sung".to_string(),
            Addition::Batch(n) => format!("đợt {n}"),
        }
    }

    /// "supplement", "batch 2".
    pub fn label_en(self) -> String {
        match self {
            Addition::Supplement => "supplement".to_string(),
            Addition::Batch(n) => format!("batch {n}"),
        }
    }
}

impl From<Addition> for String {
    fn from(addition: Addition) -> String {
        addition.as_stored()
    }
}

impl TryFrom<String> for Addition {
    type Error = String;

    fn try_from(text: String) -> Result<Addition, String> {
        Addition::from_stored(&text).ok_or_else(|| format!("not an addition: {text:?}"))
    }
}

/// An earlier file an accepted one was weighed against: the one it replaced
/// or added to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EarlierFile {
    pub submission_id: String,
    pub source_file: String,
    /// When it was received (the ledger's RFC 3339 time).
    pub received_at: String,
    /// The form whose rows it held.
    pub template: String,
    /// Its rows of that form.
    pub rows: i64,
}

/// What an accepted file did to the rows its department already had for
/// the same period and form: what the feedback tells the department.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum Effect {
    /// Nothing was held: its rows are the first.
    #[default]
    First,
    /// Its rows replace those of the earlier files.
    Replaced { earlier: Vec<EarlierFile> },
    /// Its rows were added to those of `to`; `replaced`: an earlier file of
    /// the same batch, whose rows it replaced.
    Added {
        addition: Addition,
        added_rows: i64,
        to: Vec<EarlierFile>,
        replaced: Vec<EarlierFile>,
    },
}

impl Effect {
    /// As the ledger stores it (JSON).
    pub fn to_stored(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The ledger's text back; a missing or unreadable one (a ledger from
    /// before additions) is [`Effect::First`].
    pub fn from_stored(text: Option<&str>) -> Effect {
        text.and_then(|t| serde_json::from_str(t).ok())
            .unwrap_or_default()
    }
}

/// The day a file was received, as a department reads it ("01/12/2026",
/// Vietnam time), from the ledger's RFC 3339 time.
pub fn received_day(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| {
            t.with_timezone(&chrono_tz::Asia::Ho_Chi_Minh)
                .format("%d/%m/%Y")
                .to_string()
        })
        .unwrap_or_else(|_| rfc3339.to_string())
}

/// Batch numbers taken as such: "đợt 2025" is a year, not a batch.
const BATCHES: std::ops::RangeInclusive<u32> = 1..=99;

/// Where a mark was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MarkSource {
    FileName,
    /// A title line (a row above the header) of this sheet.
    SheetTitle {
        sheet: String,
    },
}

/// One declaration found, with the text that made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdditionMark {
    pub addition: Addition,
    pub source: MarkSource,
    /// The file name or title line as written.
    pub text: String,
}

/// A file whose marks disagree ("đợt 2" in its name, "đợt 3" in a title):
/// which batch it is cannot be told, so it is refused with this reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdditionConflict {
    pub reason_vi: String,
    pub reason_en: String,
}

/// The addition a file name declares: "DS bo sung.xlsx", "bosung_T3.xls",
/// "danh-sach-dot2.xlsx", "Đợt II.xlsx". A file name is chosen by the sender,
/// so "bổ sung" anywhere in it counts.
pub fn mark_in_file_name(name: &str) -> Option<Addition> {
    let stem = name.rsplit_once('.').map_or(name, |(stem, _)| stem);
    let folded = fold(stem);
    let words: Vec<&str> = folded.split(' ').filter(|w| !w.is_empty()).collect();
    if let Some(n) = batch_in(&words) {
        return Some(Addition::Batch(n));
    }
    let supplement =
        words.contains(&"bosung") || words.windows(2).any(|pair| pair == ["bo", "sung"]);
    supplement.then_some(Addition::Supplement)
}

/// The addition one title line declares (see the module's rules).
pub fn mark_in_title(line: &str) -> Option<Addition> {
    // Each bracketed part is read as a line of its own: "(bổ sung)",
    // "[Đợt 2]" start one.
    let parts = std::iter::once(line).chain(line.split(['(', ')', '[', ']']).skip(1));
    let mut found = None;
    for part in parts {
        let folded = fold(part);
        let words: Vec<&str> = folded.split(' ').filter(|w| !w.is_empty()).collect();
        if let Some(n) = batch_in(&words) {
            return Some(Addition::Batch(n));
        }
        if supplement_in_title(&words) {
            found = Some(Addition::Supplement);
        }
    }
    found
}

/// A batch number after "đợt" (optionally "thứ"): digits or I–X, or the
/// number glued to the word in a file name ("dot2").
fn batch_in(words: &[&str]) -> Option<u32> {
    words.iter().enumerate().find_map(|(i, word)| {
        let glued = word.strip_prefix("dot").filter(|rest| !rest.is_empty());
        let number = match glued {
            Some(rest) => rest,
            None if *word == "dot" => {
                let next = words.get(i + 1).copied()?;
                if next == "thu" {
                    words.get(i + 2).copied()?
                } else {
                    next
                }
            }
            None => return None,
        };
        batch_number(number)
    })
}

fn batch_number(word: &str) -> Option<u32> {
    let n = if word.bytes().all(|b| b.is_ascii_digit()) {
        word.parse().ok()?
    } else {
        const ROMAN: [&str; 10] = ["i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x"];
        ROMAN.iter().position(|r| *r == word)? as u32 + 1
    };
    BATCHES.contains(&n).then_some(n)
}

/// Words before "bổ sung" that make it a list's name, not a verb.
const LIST_WORDS: [[&str; 2]; 4] = [
    ["danh", "sach"],
    ["ke", "hoach"],
    ["bao", "cao"],
    ["dang", "ky"],
];

fn supplement_in_title(words: &[&str]) -> bool {
    (0..words.len())
        .filter(|&i| {
            words[i] == "bosung" || (words[i] == "bo" && words.get(i + 1) == Some(&"sung"))
        })
        .any(|i| {
            let after = i + if words[i] == "bosung" { 1 } else { 2 };
            let before_list = i >= 2 && LIST_WORDS.iter().any(|w| words[i - 2..i] == *w);
            let next = words.get(after).copied();
            let after_ok = match next {
                None => true,
                Some("lan" | "dot") => true,
                Some("danh") => words.get(after + 1) == Some(&"sach"),
                Some(_) => false,
            };
            i == 0 || before_list || after_ok
        })
}

/// What a file declares, from its marks: the batch when one names a batch
/// (a supplement mark beside it is the same file's wording), a supplement
/// otherwise, nothing without marks. Two different batch numbers conflict.
pub fn declared(marks: &[AdditionMark]) -> Result<Option<Addition>, AdditionConflict> {
    let mut batches: Vec<(u32, &AdditionMark)> = Vec::new();
    for mark in marks {
        if let Addition::Batch(n) = mark.addition
            && !batches.iter().any(|(m, _)| *m == n)
        {
            batches.push((n, mark));
        }
    }
    match batches.as_slice() {
        [] => Ok(marks.first().map(|m| m.addition)),
        [(n, _)] => Ok(Some(Addition::Batch(*n))),
        [(a, first), (b, second), ..] => {
            let (where_a_vi, where_a_en) = describe(first);
            let (where_b_vi, where_b_en) = describe(second);
            Err(AdditionConflict {
                reason_vi: format!(
                    "Tệp ghi hai đợt khác nhau: đợt {a} ({where_a_vi}) và đợt {b} ({where_b_vi}); hãy sửa để tệp ghi đúng một đợt rồi gửi lại"
                ),
                reason_en: format!(
                    "The file names two different batches: batch {a} ({where_a_en}) and batch {b} ({where_b_en}); correct it to name one batch and send it again"
                ),
            })
        }
    }
}

fn describe(mark: &AdditionMark) -> (String, String) {
    match &mark.source {
        MarkSource::FileName => (
            format!("tên tệp \"{}\"", mark.text),
            format!("file name \"{}\"", mark.text),
        ),
        MarkSource::SheetTitle { sheet } => (
            format!("tiêu đề \"{}\" của trang \"{sheet}\"", mark.text),
            format!("title \"{}\" of sheet \"{sheet}\"", mark.text),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_effect_survives_the_ledger_and_an_older_ledger_reads_as_first() {
        let earlier = EarlierFile {
            submission_id: "XTM-1".into(),
            source_file: "XTM/ds.xlsx".into(),
            received_at: "2026-12-01T03:00:00Z".into(),
            template: "staff".into(),
            rows: 18,
        };
        let effect = Effect::Added {
            addition: Addition::Batch(2),
            added_rows: 3,
            to: vec![earlier.clone()],
            replaced: vec![earlier],
        };
        let stored = effect.to_stored();
        assert!(stored.contains("\"addition\":\"batch:2\""), "{stored}");
        assert_eq!(Effect::from_stored(Some(&stored)), effect);
        assert_eq!(Effect::from_stored(None), Effect::First);
        assert_eq!(Effect::from_stored(Some("not json")), Effect::First);
        assert_eq!(
            received_day("2026-12-01T20:00:00Z"),
            "02/12/2026",
            "Vietnam time"
        );
    }

    #[test]
    fn file_names_declare_supplements_and_batches_in_any_spelling() {
        for name in [
            "DS bổ sung.xlsx",
            "danh sach bo sung T3.xls",
            "bosung_2024.xlsx",
            "Danh-sach-BO-SUNG.xlsx",
            "BỔ SUNG cán bộ mới.xlsx",
        ] {
            assert_eq!(
                mark_in_file_name(name),
                Some(Addition::Supplement),
                "{name}"
            );
        }
        for (name, n) in [
            ("danh-sach-dot2.xlsx", 2),
            ("Học viên đợt 3.xlsx", 3),
            ("DOT_1 boi duong.xls", 1),
            ("Đợt II.xlsx", 2),
            ("ds đợt thứ 4 bổ sung.xlsx", 4),
        ] {
            assert_eq!(mark_in_file_name(name), Some(Addition::Batch(n)), "{name}");
        }
        for name in [
            "danh sach can bo 2024.xlsx",
            "dotnet.xlsx",
            "dot 2025.xlsx",
            "Đột xuất.xlsx",
            "bo_suu_tap.xlsx",
            "Bộ sưu tập.xlsx",
        ] {
            assert_eq!(mark_in_file_name(name), None, "{name}");
        }
    }

    #[test]
    fn titles_declare_a_supplement_only_where_it_names_the_list() {
        for line in [
            "DANH SÁCH BỔ SUNG CÁN BỘ, CÔNG CHỨC NĂM 2024",
            "Danh sách cán bộ bổ sung",
            "Bổ sung danh sách học viên",
            "KẾ HOẠCH BỔ SUNG đào tạo, bồi dưỡng năm 2025",
            "Danh sách công chức (bổ sung)",
            "Danh sách công chức [Bổ sung lần 2]",
            "Danh sách học viên bổ sung đợt này",
        ] {
            assert_eq!(mark_in_title(line), Some(Addition::Supplement), "{line}");
        }
        for line in [
            "DANH SÁCH HỌC VIÊN LỚP BỒI DƯỠNG BỔ SUNG KIẾN THỨC QUỐC PHÒNG",
            "Danh sách công chức tuyển dụng bổ sung năm 2024",
            "Kèm theo Quyết định số 12/QĐ-UBND về việc bổ sung biên chế",
            "DANH SÁCH CÁN BỘ, CÔNG CHỨC NĂM 2024",
            "Đơn vị: Sở Nội vụ",
            "Đột xuất tháng 3",
        ] {
            assert_eq!(mark_in_title(line), None, "{line}");
        }
    }

    #[test]
    fn titles_declare_batches_with_digits_roman_numerals_or_thu() {
        for (line, n) in [
            ("DANH SÁCH HỌC VIÊN ĐỢT 2", 2),
            ("Lớp bồi dưỡng QLNN (Đợt I)", 1),
            ("Danh sách học viên đợt thứ 3 năm 2025", 3),
            ("Đợt bổ sung: đợt 4", 4),
        ] {
            assert_eq!(mark_in_title(line), Some(Addition::Batch(n)), "{line}");
        }
        assert_eq!(mark_in_title("Đợt 2025"), None);
        assert_eq!(mark_in_title("đợt kiểm tra"), None);
    }

    fn mark(addition: Addition, source: MarkSource) -> AdditionMark {
        AdditionMark {
            addition,
            source,
            text: "t".into(),
        }
    }

    #[test]
    fn a_batch_wins_over_a_supplement_and_two_batches_conflict() {
        let title = MarkSource::SheetTitle { sheet: "DS".into() };
        assert_eq!(declared(&[]), Ok(None));
        assert_eq!(
            declared(&[mark(Addition::Supplement, MarkSource::FileName)]),
            Ok(Some(Addition::Supplement))
        );
        assert_eq!(
            declared(&[
                mark(Addition::Supplement, MarkSource::FileName),
                mark(Addition::Batch(2), title.clone()),
                mark(Addition::Batch(2), MarkSource::FileName),
            ]),
            Ok(Some(Addition::Batch(2)))
        );
        let conflict = declared(&[
            mark(Addition::Batch(2), MarkSource::FileName),
            mark(Addition::Batch(3), title),
        ])
        .expect_err("two batches");
        assert!(
            conflict.reason_vi.contains("đợt 2 (tên tệp"),
            "{}",
            conflict.reason_vi
        );
        assert!(
            conflict
                .reason_en
                .contains("batch 3 (title \"t\" of sheet \"DS\")"),
            "{}",
            conflict.reason_en
        );
    }

    #[test]
    fn the_ledger_text_round_trips() {
        for addition in [
            Addition::Supplement,
            Addition::Batch(1),
            Addition::Batch(12),
        ] {
            assert_eq!(Addition::from_stored(&addition.as_stored()), Some(addition));
        }
        for text in ["", "batch:0", "batch:x", "batch:100", "Supplement"] {
            assert_eq!(Addition::from_stored(text), None, "{text}");
        }
        assert_eq!(Addition::Batch(2).label_vi(), "đợt 2");
        assert_eq!(Addition::Supplement.label_en(), "supplement");
    }
}
