//! Text folding for matching what people type against what the forms expect.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Folds text for comparison: accents removed (đ → d), lower case, every run
/// of punctuation, spaces and line breaks made one space, trimmed.
/// "Trình độ\nchuyên môn" and "TRINH DO CHUYEN-MON" fold alike; NFC and NFD
/// input fold alike because the text is decomposed first.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.nfd() {
        if is_combining_mark(c) {
            continue;
        }
        let c = match c {
            'đ' | 'Đ' => 'd',
            other => other,
        };
        if c.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.extend(c.to_lowercase());
        } else {
            pending_space = true;
        }
    }
    out
}

/// Text as stored: NFC, trimmed, inner runs of whitespace (line breaks
/// included) made one space.
pub fn clean(text: &str) -> String {
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
pub fn column_letters(mut col: u32) -> String {
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
pub fn cell_address(row: u32, col: u32) -> String {
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
