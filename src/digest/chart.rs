//! Charts for the digest: horizontal bar charts and the key figures' trend
//! (one small line panel per figure) drawn with plotters into PNG bytes,
//! with a bundled font that has the Vietnamese glyphs (no system fonts
//! needed on the server).

use std::sync::OnceLock;

use plotters::prelude::*;

use crate::model::indicator::Unit;
use plotters::style::FontStyle;
use plotters::style::text_anchor::{HPos, Pos, VPos};

const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const FAMILY: &str = "nhanluc-sans";

// Drawn at twice the size a phone shows it (about 380 px wide), so text stays
// legible when the mail client scales the image to the screen.
const WIDTH: u32 = 760;
const BAR_HEIGHT: u32 = 44;
const TOP: u32 = 70;
const LABEL_WIDTH: u32 = 330;
const TEXT_SIZE: u32 = 24;

/// Why a chart could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    /// Refused before drawing: `why` says what is wrong (no error value exists).
    #[error("chart {title:?} could not be drawn: {why}")]
    Refused { title: String, why: &'static str },
    /// plotters or the PNG encoder failed.
    #[error("chart {title:?} could not be drawn")]
    Draw {
        title: String,
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// One horizontal bar chart: a title and labelled values.
#[derive(Debug, Clone)]
pub struct BarChart {
    pub title: String,
    pub bars: Vec<(String, f64)>,
    /// How a value is written at the end of its bar.
    pub percent: bool,
    pub vi: bool,
}

/// The key figures over the last periods: one small panel per figure, its
/// values written above each point, the periods under the line.
#[derive(Debug, Clone)]
pub struct TrendChart {
    pub title: String,
    /// The periods, oldest first, as written under each point.
    pub periods: Vec<String>,
    pub series: Vec<TrendSeries>,
    pub vi: bool,
}

/// One key figure of a [`TrendChart`]: a value (or none) per period.
#[derive(Debug, Clone)]
pub struct TrendSeries {
    pub label: String,
    pub unit: Unit,
    pub values: Vec<Option<f64>>,
}

/// Registers the bundled font once; `Err` says why it cannot be used.
fn register_font() -> Result<(), &'static str> {
    static REGISTERED: OnceLock<Result<(), &'static str>> = OnceLock::new();
    *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FAMILY, FontStyle::Normal, FONT)
            .map_err(|_| "the bundled font cannot be read")
    })
}

fn format_bar_value(value: f64, percent: bool, vi: bool) -> String {
    if percent {
        let text = format!("{value:.1}%");
        if vi { text.replace('.', ",") } else { text }
    } else {
        super::group_thousands(value.round() as i64, vi)
    }
}

/// Draws the chart and returns it as PNG bytes.
pub(crate) fn render_bars(chart: &BarChart) -> Result<Vec<u8>, ChartError> {
    let refused = |why: &'static str| ChartError::Refused {
        title: chart.title.clone(),
        why,
    };
    let error = |source: Box<dyn std::error::Error + Send + Sync>| ChartError::Draw {
        title: chart.title.clone(),
        source,
    };
    register_font().map_err(refused)?;
    if chart.bars.iter().any(|(_, v)| !v.is_finite()) {
        return Err(refused("a value is not a finite number"));
    }
    let height = TOP + BAR_HEIGHT * chart.bars.len().max(1) as u32 + 20;
    let mut pixels = vec![255u8; (WIDTH * height * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (WIDTH, height)).into_drawing_area();
        let draw = |e: DrawingAreaErrorKind<_>| error(e.into());
        root.fill(&WHITE).map_err(draw)?;
        let title_style = (FAMILY, TEXT_SIZE + 5)
            .into_font()
            .color(&RGBColor(17, 24, 39));
        root.draw(&Text::new(chart.title.clone(), (16, 18), title_style))
            .map_err(draw)?;
        let max = chart.bars.iter().map(|(_, v)| *v).fold(0.0_f64, f64::max);
        let scale_width = f64::from(WIDTH - LABEL_WIDTH - 110);
        let label_style = (FAMILY, TEXT_SIZE)
            .into_font()
            .color(&RGBColor(55, 65, 81))
            .pos(Pos::new(HPos::Right, VPos::Center));
        let value_style = (FAMILY, TEXT_SIZE)
            .into_font()
            .color(&RGBColor(17, 24, 39))
            .pos(Pos::new(HPos::Left, VPos::Center));
        for (i, (label, value)) in chart.bars.iter().enumerate() {
            let y = (TOP + BAR_HEIGHT * i as u32) as i32;
            let middle = y + (BAR_HEIGHT as i32 - 10) / 2;
            let label = shorten(label, 24);
            root.draw(&Text::new(
                label,
                (LABEL_WIDTH as i32 - 8, middle),
                label_style.clone(),
            ))
            .map_err(draw)?;
            let length = if max > 0.0 {
                (value / max * scale_width).round() as i32
            } else {
                0
            };
            let x0 = LABEL_WIDTH as i32;
            root.draw(&Rectangle::new(
                [(x0, y), (x0 + length.max(1), y + BAR_HEIGHT as i32 - 10)],
                RGBColor(37, 99, 235).filled(),
            ))
            .map_err(draw)?;
            root.draw(&Text::new(
                format_bar_value(*value, chart.percent, chart.vi),
                (x0 + length.max(1) + 8, middle),
                value_style.clone(),
            ))
            .map_err(draw)?;
        }
        root.present().map_err(draw)?;
    }
    encode_png(&pixels, WIDTH, height).map_err(|e| error(e.into()))
}

/// A value short enough for a point of the trend: one decimal for shares
/// and lessons, millions for money.
fn format_point(value: f64, unit: Unit, vi: bool) -> String {
    let decimal = |text: String| if vi { text.replace('.', ",") } else { text };
    match unit {
        Unit::Percent => decimal(format!("{value:.1}%")),
        Unit::Lessons => decimal(format!("{value:.1}")),
        Unit::Vnd => format!(
            "{} {}",
            super::group_thousands((value / 1e6).round() as i64, vi),
            if vi { "tr đ" } else { "M đ" }
        ),
        Unit::Count => super::group_thousands(value.round() as i64, vi),
    }
}

// The trend's panels, at twice the size a phone shows them.
// A panel: its label (y 0–32), the values above the points (from 40), the
// line (76–132), the periods under it (156–180), a rule at the bottom.
const PANEL_HEIGHT: u32 = 196;
const PANEL_PLOT_TOP: i32 = 76;
const PANEL_PLOT_HEIGHT: i32 = 56;
const PERIOD_GAP: i32 = 24;
const SIDE: i32 = 70;

/// Draws the trend chart and returns it as PNG bytes. Refused (so the
/// digest fails closed) with fewer than two periods, no figure, a figure
/// without values or a value that is not a finite number.
pub(crate) fn render_trends(chart: &TrendChart) -> Result<Vec<u8>, ChartError> {
    let refused = |why: &'static str| ChartError::Refused {
        title: chart.title.clone(),
        why,
    };
    let error = |source: Box<dyn std::error::Error + Send + Sync>| ChartError::Draw {
        title: chart.title.clone(),
        source,
    };
    register_font().map_err(refused)?;
    if chart.periods.len() < 2 {
        return Err(refused("a trend needs two periods or more"));
    }
    if chart.series.is_empty() {
        return Err(refused("no figure to draw"));
    }
    for series in &chart.series {
        if series.values.len() != chart.periods.len() {
            return Err(refused("a figure has not one value per period"));
        }
        if series.values.iter().all(Option::is_none) {
            return Err(refused("a figure has no value in any period"));
        }
        if series.values.iter().flatten().any(|v| !v.is_finite()) {
            return Err(refused("a value is not a finite number"));
        }
    }
    let height = TOP + PANEL_HEIGHT * chart.series.len() as u32;
    let mut pixels = vec![255u8; (WIDTH * height * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (WIDTH, height)).into_drawing_area();
        let draw = |e: DrawingAreaErrorKind<_>| error(e.into());
        root.fill(&WHITE).map_err(draw)?;
        let dark = RGBColor(17, 24, 39);
        let grey = RGBColor(107, 114, 128);
        let blue = RGBColor(37, 99, 235);
        let title_style = (FAMILY, TEXT_SIZE + 5).into_font().color(&dark);
        root.draw(&Text::new(chart.title.clone(), (16, 18), title_style))
            .map_err(draw)?;
        let label_style = (FAMILY, TEXT_SIZE + 4).into_font().color(&dark);
        let value_style = (FAMILY, TEXT_SIZE + 2)
            .into_font()
            .color(&dark)
            .pos(Pos::new(HPos::Center, VPos::Bottom));
        let period_style = (FAMILY, TEXT_SIZE)
            .into_font()
            .color(&grey)
            .pos(Pos::new(HPos::Center, VPos::Top));
        let n = chart.periods.len();
        let step = f64::from(WIDTH as i32 - 2 * SIDE) / (n - 1) as f64;
        let x_of = |i: usize| SIDE + (step * i as f64).round() as i32;
        for (k, series) in chart.series.iter().enumerate() {
            let y0 = (TOP + PANEL_HEIGHT * k as u32) as i32;
            if k > 0 {
                root.draw(&PathElement::new(
                    vec![(16, y0 - 8), (WIDTH as i32 - 16, y0 - 8)],
                    RGBColor(229, 231, 235).stroke_width(2),
                ))
                .map_err(draw)?;
            }
            root.draw(&Text::new(
                shorten(&series.label, 40),
                (16, y0),
                label_style.clone(),
            ))
            .map_err(draw)?;
            let present: Vec<f64> = series.values.iter().flatten().copied().collect();
            let low = present.iter().copied().fold(f64::INFINITY, f64::min);
            let high = present.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let top = y0 + PANEL_PLOT_TOP;
            let y_of = |v: f64| {
                let share = if high > low {
                    (v - low) / (high - low)
                } else {
                    0.5
                };
                top + PANEL_PLOT_HEIGHT - (share * f64::from(PANEL_PLOT_HEIGHT)).round() as i32
            };
            // The line, broken where a period has no value.
            let points: Vec<Option<(i32, i32)>> = series
                .values
                .iter()
                .enumerate()
                .map(|(i, v)| v.map(|v| (x_of(i), y_of(v))))
                .collect();
            for pair in points.windows(2) {
                if let [Some(a), Some(b)] = pair {
                    root.draw(&PathElement::new(vec![*a, *b], blue.stroke_width(4)))
                        .map_err(draw)?;
                }
            }
            for (i, point) in points.iter().enumerate() {
                let x = x_of(i);
                match (point, series.values[i]) {
                    (Some((x, y)), Some(v)) => {
                        root.draw(&Circle::new((*x, *y), 7, blue.filled()))
                            .map_err(draw)?;
                        root.draw(&Text::new(
                            format_point(v, series.unit, chart.vi),
                            (*x, *y - 12),
                            value_style.clone(),
                        ))
                        .map_err(draw)?;
                    }
                    _ => {
                        root.draw(&Text::new(
                            "—",
                            (x, top + PANEL_PLOT_HEIGHT / 2),
                            value_style.clone(),
                        ))
                        .map_err(draw)?;
                    }
                }
                root.draw(&Text::new(
                    chart.periods[i].clone(),
                    (x, top + PANEL_PLOT_HEIGHT + PERIOD_GAP),
                    period_style.clone(),
                ))
                .map_err(draw)?;
            }
        }
        root.present().map_err(draw)?;
    }
    encode_png(&pixels, WIDTH, height).map_err(|e| error(e.into()))
}

fn shorten(label: &str, max_chars: usize) -> String {
    if label.chars().count() <= max_chars {
        label.to_string()
    } else {
        let mut short: String = label.chars().take(max_chars - 1).collect();
        short.push('…');
        short
    }
}

fn encode_png(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>, png::EncodingError> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Balanced);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(rgb)?;
    writer.finish()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_a_png_with_vietnamese_labels() {
        let png = render_bars(&BarChart {
            title: "Lượt người được đào tạo, bồi dưỡng theo đơn vị".into(),
            bars: vec![
                ("Sở Giáo dục và Đào tạo".into(), 45.0),
                ("Xã Nà Tấu".into(), 0.0),
            ],
            percent: false,
            vi: true,
        })
        .expect("chart");
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        let decoder = png::Decoder::new(std::io::Cursor::new(&png));
        let reader = decoder.read_info().expect("a readable PNG");
        assert_eq!(reader.info().width, WIDTH);
    }

    fn trend(periods: &[&str], values: Vec<Option<f64>>) -> TrendChart {
        TrendChart {
            title: "Xu hướng 3 kỳ gần nhất".into(),
            periods: periods.iter().map(|p| p.to_string()).collect(),
            series: vec![TrendSeries {
                label: "Tỷ lệ bồi dưỡng trực tuyến".into(),
                unit: Unit::Percent,
                values,
            }],
            vi: true,
        }
    }

    #[test]
    fn draws_a_trend_with_a_gap() {
        let png = render_trends(&trend(
            &["2023", "2024", "2025"],
            vec![Some(40.0), None, Some(54.1)],
        ))
        .expect("chart");
        let decoder = png::Decoder::new(std::io::Cursor::new(&png));
        let reader = decoder.read_info().expect("a readable PNG");
        assert_eq!(reader.info().width, WIDTH);
        assert_eq!(reader.info().height, TOP + PANEL_HEIGHT);
    }

    #[test]
    fn a_trend_that_cannot_be_drawn_is_refused() {
        let one = render_trends(&trend(&["2025"], vec![Some(1.0)]));
        assert!(matches!(one, Err(ChartError::Refused { why, .. }) if why.contains("two periods")));
        let empty = render_trends(&trend(&["2024", "2025"], vec![None, None]));
        assert!(matches!(empty, Err(ChartError::Refused { why, .. }) if why.contains("no value")));
        let nan = render_trends(&trend(&["2024", "2025"], vec![Some(f64::NAN), Some(1.0)]));
        assert!(matches!(nan, Err(ChartError::Refused { why, .. }) if why.contains("finite")));
        assert_eq!(format_point(1_500_000_000.0, Unit::Vnd, true), "1.500 tr đ");
        assert_eq!(format_point(66.666, Unit::Percent, false), "66.7%");
    }

    #[test]
    fn a_non_finite_value_fails_the_chart() {
        let err = render_bars(&BarChart {
            title: "x".into(),
            bars: vec![("a".into(), f64::NAN)],
            percent: true,
            vi: false,
        });
        assert!(err.is_err());
    }
}
