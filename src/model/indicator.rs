//! One computed indicator value, as the indicators step returns it and the
//! warehouse and the digest read it.

/// One computed indicator value.
#[derive(Debug, Clone, PartialEq)]
pub struct IndicatorRow {
    pub scope: String,
    pub indicator: String,
    pub value: Option<f64>,
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
    pub unit: String,
}
