//! Text folding for matching what people type against what the forms expect.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Folds text for comparison: accents removed (đ → d), lower case, every run
/// of punctuation, spaces and line breaks made one space, trimmed.
/// "Trình độ\nchuyên môn" and "TRINH DO CHUYEN-MON" fold alike; NFC and NFD
/// input fold alike because the text is decomposed first.
///
/// Every data cell is folded to classify its row, so the common characters
/// (ASCII, and the precomposed Latin letters Vietnamese is written with) are
/// folded from a table made once by the general rule, [`fold_slowly`].
pub fn fold(text: &str) -> String {
    let mut folder = Folder {
        out: String::with_capacity(text.len()),
        pending_space: false,
    };
    for c in text.chars() {
        if c.is_ascii() {
            if c.is_ascii_alphanumeric() {
                folder.letter(c.to_ascii_lowercase());
            } else {
                folder.pending_space = true;
            }
            continue;
        }
        match folded_char(c) {
            Some(Folded::Mark) => {}
            Some(Folded::Separator) => folder.pending_space = true,
            Some(Folded::Letter(l)) => folder.letter(l),
            None => unicode_normalization::char::decompose_canonical(c, |d| folder.decomposed(d)),
        }
    }
    folder.out
}

struct Folder {
    out: String,
    pending_space: bool,
}

impl Folder {
    fn letter(&mut self, c: char) {
        if self.pending_space && !self.out.is_empty() {
            self.out.push(' ');
        }
        self.pending_space = false;
        self.out.push(c);
    }

    /// One character of the canonical decomposition.
    fn decomposed(&mut self, c: char) {
        if is_combining_mark(c) {
            return;
        }
        let c = match c {
            'đ' | 'Đ' => 'd',
            other => other,
        };
        if c.is_alphanumeric() {
            if self.pending_space && !self.out.is_empty() {
                self.out.push(' ');
            }
            self.pending_space = false;
            self.out.extend(c.to_lowercase());
        } else {
            self.pending_space = true;
        }
    }
}

/// What one character folds to.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Folded {
    /// A combining mark: dropped.
    Mark,
    /// Punctuation or space: separates words.
    Separator,
    Letter(char),
}

/// Characters U+0080..U+1EFF (Latin-1, Latin Extended A and B, combining
/// marks, Latin Extended Additional: every letter of Vietnamese).
const FOLD_TABLE_END: u32 = 0x1F00;

fn folded_char(c: char) -> Option<Folded> {
    static TABLE: std::sync::LazyLock<Vec<Option<Folded>>> = std::sync::LazyLock::new(|| {
        (0x80..FOLD_TABLE_END)
            .map(|code| {
                let c = char::from_u32(code)?;
                if is_combining_mark(c) {
                    return Some(Folded::Mark);
                }
                let folded = fold_slowly(&c.to_string());
                let mut chars = folded.chars();
                match (chars.next(), chars.next()) {
                    (None, _) => Some(Folded::Separator),
                    (Some(l), None) => Some(Folded::Letter(l)),
                    _ => None,
                }
            })
            .collect()
    });
    TABLE
        .get((c as u32).checked_sub(0x80)? as usize)
        .copied()
        .flatten()
}

/// [`fold`] by its definition: decompose, drop marks, lower-case.
fn fold_slowly(text: &str) -> String {
    let mut folder = Folder {
        out: String::with_capacity(text.len()),
        pending_space: false,
    };
    for c in text.nfd() {
        folder.decomposed(c);
    }
    folder.out
}

/// Text as stored: NFC, trimmed, inner runs of whitespace (line breaks
/// included) made one space.
pub fn clean(text: &str) -> String {
    let tidy = !text.starts_with(' ')
        && !text.ends_with(' ')
        && !text.contains("  ")
        && !text.chars().any(|c| c.is_whitespace() && c != ' ');
    if tidy
        && (text.is_ascii()
            || unicode_normalization::is_nfc_quick(text.chars())
                == unicode_normalization::IsNormalized::Yes)
    {
        return text.to_string();
    }
    let nfc: String = text.nfc().collect();
    let mut out = String::with_capacity(nfc.len());
    for word in nfc.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// The column letters of a 0-based column index: 0 → "A", 27 → "AB".
pub(crate) fn column_letters(mut col: u32) -> String {
    let mut letters = Vec::new();
    loop {
        letters.push(b'A' + (col % 26) as u8);
        if col < 26 {
            break;
        }
        col = col / 26 - 1;
    }
    letters.reverse();
    String::from_utf8_lossy(&letters).into_owned()
}

/// The cell address a department sees in Excel, from 0-based row and column.
pub(crate) fn cell_address(row: u32, col: u32) -> String {
    format!("{}{}", column_letters(col), row + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_accents_case_punctuation_and_line_breaks() {
        assert_eq!(fold("Trình độ\nchuyên  môn"), "trinh do chuyen mon");
        assert_eq!(fold("  ĐƠN VỊ: "), "don vi");
        assert_eq!(fold("Kinh phí (đồng)"), "kinh phi dong");
        assert_eq!(fold("Trong nước/Nước ngoài"), "trong nuoc nuoc ngoai");
    }

    #[test]
    fn nfc_and_nfd_fold_alike_and_clean_to_nfc() {
        let nfc = "Nguyễn Thị Ánh";
        let nfd: String = nfc.nfd().collect();
        assert_ne!(nfc, nfd);
        assert_eq!(fold(nfc), fold(&nfd));
        assert_eq!(clean(&format!("  {nfd}\n")), nfc);
    }

    #[test]
    fn the_fold_table_agrees_with_the_definition() {
        // Every character of the table, each alone, between letters and
        // next to spaces and marks; plus Vietnamese text in NFC and NFD.
        let mut samples: Vec<String> = (0x20..FOLD_TABLE_END + 0x200)
            .filter_map(char::from_u32)
            .flat_map(|c| [format!("{c}"), format!("a{c}b"), format!(" {c}\u{301} x")])
            .collect();
        for text in [
            "Bồi dưỡng kiến thức quản lý nhà nước",
            "ĐIỆN BIÊN – Mường Ảng; Tủa Chùa (2025)",
            "Ứng dụng trí tuệ nhân tạo — AI™ ½ ﬁle İstanbul ǅ",
        ] {
            samples.push(text.to_string());
            samples.push(text.nfd().collect());
        }
        for sample in &samples {
            assert_eq!(fold(sample), fold_slowly(sample), "{sample:?}");
        }
    }

    #[test]
    fn clean_keeps_tidy_text_and_tidies_the_rest() {
        for (input, cleaned) in [
            ("Nguyễn Văn An", "Nguyễn Văn An"),
            ("  Nguyễn\tVăn\n An ", "Nguyễn Văn An"),
            ("a  b", "a b"),
            ("plain ascii", "plain ascii"),
        ] {
            assert_eq!(clean(input), cleaned);
        }
    }

    #[test]
    fn column_letters_match_excel() {
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(27), "AB");
        assert_eq!(column_letters(701), "ZZ");
        assert_eq!(column_letters(702), "AAA");
        assert_eq!(cell_address(11, 2), "C12");
    }
}
