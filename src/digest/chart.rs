//! Charts for the digest: horizontal bar charts drawn with plotters into PNG
//! bytes, with a bundled font that has the Vietnamese glyphs (no system fonts
//! needed on the server).

use std::sync::OnceLock;

use plotters::prelude::*;
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
