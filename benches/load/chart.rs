//! The chart that `BENCHMARKS.md` shows: p50 latency against concurrency,
//! public and protected routes, as SVG.

use std::fmt::Write as _;

use crate::http::Stats;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 360.0;
const LEFT: f64 = 60.0;
const BOTTOM: f64 = 40.0;
const PUBLIC: &str = "#2b6cb0";
const PROTECTED: &str = "#c05621";

/// An SVG chart of p50 latency against concurrency: for each point, the
/// concurrency, the public route's figures and the protected route's.
pub fn chart(points: &[(usize, Stats, Stats)]) -> String {
    let max = points
        .iter()
        .flat_map(|(_, a, b)| [a.p50_us, b.p50_us])
        .fold(1.0, f64::max)
        * 1.1;
    let x = |i: usize| LEFT + (WIDTH - LEFT - 20.0) * i as f64 / (points.len().max(2) - 1) as f64;
    let y = |v: f64| (HEIGHT - BOTTOM) - (HEIGHT - BOTTOM - 20.0) * v / max;
    let line = |pick: fn(&(usize, Stats, Stats)) -> f64| {
        let xy: Vec<String> = points
            .iter()
            .enumerate()
            .map(|(i, p)| format!("{:.1},{:.1}", x(i), y(pick(p))))
            .collect();
        xy.join(" ")
    };

    let mut svg =
        format!(r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" "#);
    svg.push_str(r#"font-family="sans-serif" font-size="12">"#);
    svg.push_str(r#"<rect width="100%" height="100%" fill="white"/>"#);
    let title = "p50 latency (µs) against concurrency, reference server, memory store";
    text(&mut svg, LEFT, 14.0, "start", "black", title);

    let (axis_y, right) = (HEIGHT - BOTTOM, WIDTH - 20.0);
    let _ = write!(
        svg,
        r#"<path d="M{LEFT} 20 V{axis_y} H{right}" fill="none" stroke="black"/>"#
    );
    for (i, (c, _, _)) in points.iter().enumerate() {
        text(
            &mut svg,
            x(i),
            axis_y + 16.0,
            "middle",
            "black",
            &c.to_string(),
        );
    }
    for k in 0..=4 {
        let v = max * k as f64 / 4.0;
        text(
            &mut svg,
            LEFT - 6.0,
            y(v) + 4.0,
            "end",
            "black",
            &format!("{v:.0}"),
        );
    }

    polyline(&mut svg, PUBLIC, "", &line(|p| p.1.p50_us));
    polyline(&mut svg, PROTECTED, "6 3", &line(|p| p.2.p50_us));
    text(
        &mut svg,
        LEFT + 20.0,
        40.0,
        "start",
        PUBLIC,
        "public /healthz",
    );
    text(
        &mut svg,
        LEFT + 20.0,
        56.0,
        "start",
        PROTECTED,
        "protected /api/me",
    );
    let label = "concurrent connections";
    text(
        &mut svg,
        WIDTH / 2.0,
        HEIGHT - 6.0,
        "middle",
        "black",
        label,
    );
    svg.push_str("</svg>");
    svg
}

fn text(svg: &mut String, x: f64, y: f64, anchor: &str, fill: &str, content: &str) {
    let _ = write!(
        svg,
        r#"<text x="{x:.1}" y="{y:.1}" text-anchor="{anchor}" fill="{fill}">{content}</text>"#
    );
}

fn polyline(svg: &mut String, stroke: &str, dashes: &str, points: &str) {
    let _ = write!(
        svg,
        r#"<polyline fill="none" stroke="{stroke}" stroke-width="2" "#
    );
    if !dashes.is_empty() {
        let _ = write!(svg, r#"stroke-dasharray="{dashes}" "#);
    }
    let _ = write!(svg, r#"points="{points}"/>"#);
}
