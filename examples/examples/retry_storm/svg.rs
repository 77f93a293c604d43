//! A hand-written SVG line chart: axes with ticks and labels, one line per series, a legend.
//! No dependencies, no fonts needed to write it (the viewer picks a sans-serif font).

use std::fmt::Write;

/// One line of the chart.
pub struct Series<'a> {
    /// Legend text.
    pub name: &'a str,
    /// `(x, y)` points, in drawing order.
    pub points: Vec<(f64, f64)>,
}

/// How the y axis maps values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    /// Evenly spaced values, from 0.
    Linear,
    /// Evenly spaced powers of ten.
    Log,
}

/// Text and layout of a chart.
pub struct Chart<'a> {
    /// Title above the plot.
    pub title: &'a str,
    /// Small print under the title.
    pub subtitle: &'a str,
    /// Label of the x axis.
    pub x_label: &'a str,
    /// Label of the y axis.
    pub y_label: &'a str,
    /// The y axis scale.
    pub y_scale: Scale,
}

const WIDTH: f64 = 900.0;
const HEIGHT: f64 = 520.0;
const LEFT: f64 = 90.0;
const RIGHT: f64 = 680.0;
const TOP: f64 = 70.0;
const BOTTOM: f64 = 450.0;

/// Okabe–Ito colours (readable with colour-blindness) and dash patterns, one per series.
const STYLES: [(&str, &str); 8] = [
    ("#D55E00", ""),
    ("#0072B2", ""),
    ("#56B4E9", "8 4"),
    ("#009E73", ""),
    ("#E69F00", "8 4"),
    ("#CC79A7", "2 3"),
    ("#000000", ""),
    ("#F0E442", ""),
];

/// Tick values from 0 to at least `max`: steps of 1, 2 or 5 times a power of ten.
fn linear_ticks(max: f64) -> Vec<f64> {
    let raw = (max / 5.0).max(f64::MIN_POSITIVE);
    let mag = 10_f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * mag).find(|s| *s >= raw).unwrap();
    let n = (max / step).ceil() as usize;
    (0..=n.max(1)).map(|i| i as f64 * step).collect()
}

/// 1, 2 and 5 times powers of ten, from the power of ten at or below `min` to the first one at
/// or above `max`.
fn log_ticks(min: f64, max: f64) -> Vec<f64> {
    let mut e = min.max(1e-9).log10().floor() as i32;
    let mut ticks = vec![10_f64.powi(e)];
    while *ticks.last().unwrap() < max || ticks.len() < 2 {
        let p = 10_f64.powi(e);
        for m in [2.0, 5.0, 10.0] {
            ticks.push(m * p);
            if m * p >= max && ticks.len() >= 2 {
                break;
            }
        }
        e += 1;
    }
    ticks
}

/// `1 234 567`-style labels (thin spaces between thousands) for tick values.
fn label(v: f64) -> String {
    if v != 0.0 && v.abs() < 1.0 {
        return format!("{v}");
    }
    let digits = format!("{}", v.round() as i64);
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push('\u{2009}');
        }
        out.push(ch);
    }
    out
}

/// Escapes text for use inside SVG elements and attributes.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Renders the chart as a complete SVG document.
pub fn render(chart: &Chart<'_>, series: &[Series<'_>]) -> String {
    let all = || series.iter().flat_map(|s| s.points.iter().copied());
    let x_max = all().map(|p| p.0).fold(0.0, f64::max);
    let y_max = all().map(|p| p.1).fold(0.0, f64::max);
    let y_min = all().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let x_ticks = linear_ticks(x_max);
    let x_top = *x_ticks.last().unwrap();
    let y_ticks = match chart.y_scale {
        Scale::Linear => linear_ticks(y_max),
        Scale::Log => log_ticks(y_min, y_max),
    };
    let (y_lo, y_hi) = (y_ticks[0], *y_ticks.last().unwrap());
    let px = |x: f64| LEFT + (RIGHT - LEFT) * x / x_top;
    let py = |y: f64| {
        let f = match chart.y_scale {
            Scale::Linear => (y - y_lo) / (y_hi - y_lo),
            Scale::Log => (y.log10() - y_lo.log10()) / (y_hi.log10() - y_lo.log10()),
        };
        BOTTOM - (BOTTOM - TOP) * f
    };

    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="13">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{LEFT}" y="30" font-size="18" font-weight="bold">{}</text>"#,
        esc(chart.title)
    );
    let _ = writeln!(s, r##"<text x="{LEFT}" y="50" fill="#555">{}</text>"##, esc(chart.subtitle));

    // Grid and tick labels.
    for &t in &y_ticks {
        let y = py(t);
        let _ = writeln!(
            s,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{RIGHT}" y2="{y:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
            LEFT - 8.0,
            y + 4.0,
            label(t)
        );
    }
    for &t in &x_ticks {
        let x = px(t);
        let _ = writeln!(
            s,
            r##"<line x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{BOTTOM}" stroke="#eee"/><line x1="{x:.1}" y1="{BOTTOM}" x2="{x:.1}" y2="{:.1}" stroke="#333"/><text x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
            BOTTOM + 5.0,
            BOTTOM + 20.0,
            label(t)
        );
    }
    // Axes and their labels.
    let _ =
        writeln!(s, r##"<path d="M{LEFT} {TOP} V{BOTTOM} H{RIGHT}" fill="none" stroke="#333"/>"##);
    let _ = writeln!(
        s,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="14">{}</text>"#,
        (LEFT + RIGHT) / 2.0,
        BOTTOM + 45.0,
        esc(chart.x_label)
    );
    let (lx, ly) = (22.0, (TOP + BOTTOM) / 2.0);
    let _ = writeln!(
        s,
        r#"<text x="{lx}" y="{ly}" transform="rotate(-90 {lx} {ly})" text-anchor="middle" font-size="14">{}</text>"#,
        esc(chart.y_label)
    );

    // The lines, with a dot on every measured point.
    for (i, series) in series.iter().enumerate() {
        let (colour, dash) = STYLES[i % STYLES.len()];
        let path: Vec<String> =
            series.points.iter().map(|&(x, y)| format!("{:.1},{:.1}", px(x), py(y))).collect();
        let dash =
            if dash.is_empty() { String::new() } else { format!(r#" stroke-dasharray="{dash}""#) };
        let _ = writeln!(
            s,
            r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="2.5"{dash}/>"#,
            path.join(" ")
        );
        for &(x, y) in &series.points {
            let _ = writeln!(
                s,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3.5" fill="{colour}"/>"#,
                px(x),
                py(y)
            );
        }
        // Legend entry, right of the plot.
        let ly = TOP + 10.0 + 26.0 * i as f64;
        let _ = writeln!(
            s,
            r#"<line x1="{:.1}" y1="{ly:.1}" x2="{:.1}" y2="{ly:.1}" stroke="{colour}" stroke-width="2.5"{dash}/><circle cx="{:.1}" cy="{ly:.1}" r="3.5" fill="{colour}"/><text x="{:.1}" y="{:.1}">{}</text>"#,
            RIGHT + 20.0,
            RIGHT + 56.0,
            RIGHT + 38.0,
            RIGHT + 64.0,
            ly + 4.5,
            esc(series.name)
        );
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_cover_the_data() {
        assert_eq!(linear_ticks(200.0), [0.0, 50.0, 100.0, 150.0, 200.0]);
        assert!(*linear_ticks(23_456.0).last().unwrap() >= 23_456.0);
        assert_eq!(log_ticks(150.0, 1_500.0), [100.0, 200.0, 500.0, 1_000.0, 2_000.0]);
        assert_eq!(log_ticks(383.0, 102_992.0).last(), Some(&200_000.0));
        assert_eq!(label(12_345.0), "12\u{2009}345");
    }
}
