//! One computed indicator value, as the indicators step returns it and the
//! warehouse and the digest read it, and the units a value is in.

/// One computed indicator value.
#[derive(Debug, Clone, PartialEq)]
pub struct IndicatorRow {
    /// `province`, `level:<level>` or `department:<CODE>`.
    pub scope: String,
    /// The indicator's id (`training.online_pct`).
    pub indicator: String,
    /// Null when it cannot be computed (a zero denominator).
    pub value: Option<f64>,
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
    pub unit: Unit,
}

/// What an indicator's value counts, which decides how it is written
/// ("17,51%", "1.500.000 đ", "24.088").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unit {
    /// People, attendances, files: a whole number.
    Count,
    /// A share, 0–100, two decimals.
    Percent,
    /// Vietnamese đồng.
    Vnd,
    /// Lessons (tiết), one decimal.
    Lessons,
}

impl Unit {
    /// Every unit, in the order the documentation lists them.
    pub const ALL: [Unit; 4] = [Unit::Count, Unit::Percent, Unit::Vnd, Unit::Lessons];

    /// The unit as a query returns it and the warehouse stores it.
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "count",
            Unit::Percent => "percent",
            Unit::Vnd => "vnd",
            Unit::Lessons => "lessons",
        }
    }

    /// The unit named `text`, if it is one.
    pub fn parse(text: &str) -> Option<Unit> {
        Unit::ALL.into_iter().find(|u| u.as_str() == text)
    }

    /// "count, percent, vnd, lessons": for messages saying what is expected.
    pub fn names() -> String {
        Unit::ALL.map(Unit::as_str).join(", ")
    }
}

impl std::fmt::Display for Unit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_unit_reads_back_as_written_and_nothing_else_is_one() {
        for unit in Unit::ALL {
            assert_eq!(Unit::parse(unit.as_str()), Some(unit));
        }
        assert_eq!(Unit::parse("Percent"), None);
        assert_eq!(Unit::parse("%"), None);
        assert_eq!(Unit::names(), "count, percent, vnd, lessons");
    }
}
