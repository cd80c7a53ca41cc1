//! The report's charts, as inline SVG written by hand.
//!
//! Four small chart types (horizontal bars, a scatter with reference lines,
//! stacked time bins, and the histograms of `ferret profile --svg`) are a few dozen lines each as SVG text, need no font
//! files (text uses the viewer's sans-serif), and embed in one HTML file with
//! nothing to fetch. A plotting crate would bring a font stack and a larger
//! dependency tree for no gain here.
//!
//! Each chart's plot area has its own light tint ([`TINTS`]) so a test can
//! find every chart in a screenshot. Scatter points that were flagged carry a
//! `<title>` with their packet number, so a reader can trace any dot.

use std::fmt::Write;

use super::collect::Sample;
use super::model::{Charts, ProtocolRow, Report, Timeline};
use super::thresholds::Threshold;
use crate::output::time;

/// Plot-area tints: protocol bars, ICMP scatter, DNS scatter, timeline.
pub const TINTS: [&str; 4] = ["#e6f2f4", "#efeaf7", "#e9f3e4", "#f8efe2"];
/// Colors of threat types in the timeline, in risk order (repeats after six).
pub const CLASS_COLORS: [&str; 6] = ["#c0392b", "#d68910", "#1f6f8b", "#7d3c98", "#117a65", "#5d6d7e"];
const BAR: &str = "#1f6f8b";
const FLAGGED: &str = "#c0392b";
const PLAIN: &str = "#6c7a89";
const LIMIT: &str = "#b9770e";
const INK: &str = "#222";
const GRID: &str = "#d5d8dc";

/// Escapes text for HTML and SVG content and attributes.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => {
                let _ = write!(out, "&#{};", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

/// A number with thousands separators: `12,345`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A short axis number: `64`, `2.5`, `1.2k`.
fn tick_label(v: f64) -> String {
    if v.abs() >= 10_000.0 {
        format!("{:.0}k", v / 1000.0)
    } else if (v - v.round()).abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// About how wide `text` is at `size` px in a sans-serif font.
fn text_width(text: &str, size: f64) -> f64 {
    text.chars().count() as f64 * size * 0.56
}

/// A round step giving about `n` ticks over `0..max`.
fn nice_step(max: f64, n: f64) -> f64 {
    let raw = (max / n).max(1e-9);
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let nice = if norm <= 1.0 {
        1.0
    } else if norm <= 2.0 {
        2.0
    } else if norm <= 2.5 {
        2.5
    } else if norm <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

fn open_svg(out: &mut String, id: &str, w: u32, h: u32, label: &str) {
    let _ = write!(
        out,
        r#"<svg id="{id}" class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" role="img" aria-label="{}" font-family="sans-serif" font-size="12" fill="{INK}">"#,
        esc(label)
    );
    let _ = write!(out, "<title>{}</title>", esc(label));
}

/// Section 4's chart: packets per protocol as horizontal bars.
pub fn protocols(rows: &[ProtocolRow]) -> String {
    let (w, left, right, row_h, top) = (640.0, 70.0, 150.0, 26.0, 10.0);
    let h = top * 2.0 + row_h * rows.len() as f64;
    let max = rows.iter().map(|r| r.packets).max().unwrap_or(0).max(1) as f64;
    let plot_w = w - left - right;
    let mut out = String::new();
    open_svg(&mut out, "chart-protocols", w as u32, h as u32, "Packets per protocol");
    let _ = write!(
        out,
        r#"<rect x="{left}" y="{}" width="{plot_w}" height="{}" fill="{}"/>"#,
        top - 4.0,
        row_h * rows.len() as f64 + 8.0,
        TINTS[0]
    );
    for (i, r) in rows.iter().enumerate() {
        let y = top + row_h * i as f64;
        let bw = (r.packets as f64 / max * plot_w).max(if r.packets > 0 { 1.5 } else { 0.0 });
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            left - 8.0,
            y + row_h * 0.62,
            esc(r.protocol)
        );
        let _ = write!(
            out,
            r#"<rect x="{left}" y="{:.1}" width="{bw:.1}" height="{:.1}" fill="{BAR}"><title>{}: {} packets ({:.1}%)</title></rect>"#,
            y + 4.0,
            row_h - 8.0,
            esc(r.protocol),
            thousands(r.packets),
            r.share
        );
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{:.1}">{} ({:.1}%)</text>"#,
            left + bw + 6.0,
            y + row_h * 0.62,
            thousands(r.packets),
            r.share
        );
    }
    out.push_str("</svg>");
    out
}

/// Axes of a scatter chart.
struct Frame {
    w: f64,
    h: f64,
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
    x_max: f64,
    y_max: f64,
}

impl Frame {
    fn x(&self, v: f64) -> f64 {
        self.left + v.clamp(0.0, self.x_max) / self.x_max * (self.w - self.left - self.right)
    }
    fn y(&self, v: f64) -> f64 {
        self.h - self.bottom - v.clamp(0.0, self.y_max) / self.y_max * (self.h - self.top - self.bottom)
    }
    fn plot_w(&self) -> f64 {
        self.w - self.left - self.right
    }
    fn plot_h(&self) -> f64 {
        self.h - self.top - self.bottom
    }

    /// Horizontal grid lines with their labels every `step` up the y axis.
    fn y_grid(&self, out: &mut String, step: f64) {
        let mut v = 0.0;
        while v <= self.y_max + 1e-9 {
            let y = self.y(v);
            let _ = write!(
                out,
                r#"<line x1="{}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="{GRID}" stroke-width="0.6"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
                self.left,
                self.w - self.right,
                self.left - 6.0,
                y + 4.0,
                tick_label(v)
            );
            v += step;
        }
    }

    fn axes(&self, out: &mut String, tint: &str, x_label: &str, y_label: &str) {
        let _ = write!(
            out,
            r#"<rect x="{}" y="{}" width="{:.1}" height="{:.1}" fill="{tint}"/>"#,
            self.left,
            self.top,
            self.plot_w(),
            self.plot_h()
        );
        let xs = nice_step(self.x_max, 8.0);
        let mut v = 0.0;
        while v <= self.x_max + 1e-9 {
            let x = self.x(v);
            let _ = write!(
                out,
                r#"<line x1="{x:.1}" y1="{}" x2="{x:.1}" y2="{:.1}" stroke="{GRID}" stroke-width="0.6"/><text x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                self.top,
                self.h - self.bottom,
                self.h - self.bottom + 16.0,
                tick_label(v)
            );
            v += xs;
        }
        self.y_grid(out, nice_step(self.y_max, 5.0));
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            self.left + self.plot_w() / 2.0,
            self.h - 8.0,
            esc(x_label)
        );
        let _ = write!(
            out,
            r#"<text transform="translate(14 {:.1}) rotate(-90)" text-anchor="middle">{}</text>"#,
            self.top + self.plot_h() / 2.0,
            esc(y_label)
        );
    }
}

/// A histogram of `bins` counts of `x_label` over `0..hi`, as a standalone SVG file (`ferret profile --svg`):
/// vertical bars on the same axes, grid and escaping as the report's charts.
pub fn histogram(title: &str, x_label: &str, bins: &[usize], hi: f64) -> String {
    let peak = bins.iter().copied().max().unwrap_or(0).max(1) as f64;
    let y_step = nice_step(peak, 5.0);
    let y_max = (peak / y_step).ceil() * y_step;
    let x_max = if hi > 0.0 { hi } else { 1.0 };
    let f = Frame { w: 640.0, h: 320.0, left: 52.0, right: 16.0, top: 30.0, bottom: 44.0, x_max, y_max };
    let mut out = String::new();
    open_svg(&mut out, "histogram", f.w as u32, f.h as u32, title);
    let _ = write!(out, r#"<text x="{}" y="18" font-size="14">{}</text>"#, f.left, esc(title));
    f.axes(&mut out, TINTS[0], x_label, "packets");
    let bar_w = f.plot_w() / bins.len().max(1) as f64;
    for (i, count) in bins.iter().enumerate() {
        let y = f.y(*count as f64);
        let _ = write!(
            out,
            r#"<rect x="{:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="{BAR}"><title>{count}</title></rect>"#,
            f.left + i as f64 * bar_w,
            (bar_w - 1.0).max(1.0),
            f.h - f.bottom - y
        );
    }
    out.push_str("</svg>\n");
    out
}

/// Which entropy chart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// ICMP payloads.
    Icmp,
    /// DNS query names.
    Dns,
}

impl Kind {
    fn fields(self) -> (&'static str, &'static str) {
        match self {
            Kind::Icmp => ("payload.len", "payload.entropy"),
            Kind::Dns => ("dns.qname.len", "dns.qname.entropy"),
        }
    }
}

/// The thresholds drawn on a chart: `(field, op, value, sids)`, one line per distinct limit.
fn limits<'t>(thresholds: &'t [Threshold], field: &str) -> Vec<(&'t str, f64, Vec<u64>)> {
    let mut out: Vec<(&str, f64, Vec<u64>)> = Vec::new();
    for t in thresholds.iter().filter(|t| t.field == field) {
        match out.iter_mut().find(|(op, v, _)| *op == t.op && *v == t.value) {
            Some(entry) => entry.2.push(t.sid),
            None => out.push((t.op.as_str(), t.value, vec![t.sid])),
        }
    }
    out
}

fn sids_label(sids: &[u64]) -> String {
    let list: Vec<String> = sids.iter().map(u64::to_string).collect();
    format!("rule{} {}", if sids.len() > 1 { "s" } else { "" }, list.join(", "))
}

/// Entropy against length for the inspected packets of one kind, flagged ones
/// marked, with the rules' limits and the most entropy each length allows.
pub fn scatter(kind: Kind, sample: &Sample, thresholds: &[Threshold], captures: &[String]) -> String {
    let (len_field, ent_field) = kind.fields();
    let len_limits = limits(thresholds, len_field);
    let ent_limits = limits(thresholds, ent_field);
    let max_len = sample.points.iter().map(|p| f64::from(p.length())).fold(0.0, f64::max);
    let max_len = len_limits.iter().map(|l| l.1).fold(max_len, f64::max).max(8.0);
    let x_step = nice_step(max_len * 1.05, 8.0);
    let x_max = (max_len * 1.05 / x_step).ceil() * x_step;
    let max_ent = sample.points.iter().map(|p| p.entropy()).fold(0.0, f64::max);
    let max_ent = ent_limits.iter().map(|l| l.1).fold(max_ent, f64::max);
    let y_max = match kind {
        Kind::Icmp => 8.0,
        Kind::Dns => (max_ent + 0.5).ceil().clamp(4.0, 8.0),
    };
    let f = Frame { w: 640.0, h: 380.0, left: 52.0, right: 16.0, top: 14.0, bottom: 44.0, x_max, y_max };
    let (id, tint, title, x_label, y_label) = match kind {
        Kind::Icmp => (
            "chart-icmp-entropy",
            TINTS[1],
            "ICMP payload entropy against length",
            "payload length (bytes)",
            "entropy (bits/byte)",
        ),
        Kind::Dns => (
            "chart-dns-entropy",
            TINTS[2],
            "DNS query name entropy against length",
            "query name length (characters)",
            "entropy (bits/character)",
        ),
    };
    let mut out = String::new();
    open_svg(&mut out, id, f.w as u32, f.h as u32, title);
    f.axes(&mut out, tint, x_label, y_label);

    // The ceiling: n symbols cannot carry more than log2(min(n, 256)) bits each.
    let mut d = String::new();
    let mut n = 1.0f64;
    let ceiling = |n: f64| n.min(256.0).log2();
    while n < x_max && ceiling(n) <= y_max {
        let _ = write!(d, "{}{:.1} {:.1}", if d.is_empty() { "M" } else { "L" }, f.x(n), f.y(ceiling(n)));
        n = if n < 32.0 { n + 1.0 } else { n * 1.1 };
    }
    // End exactly at the right edge or where the curve leaves the top.
    let end = if ceiling(x_max) <= y_max { x_max } else { 2f64.powf(y_max) };
    let _ = write!(d, "L{:.1} {:.1}", f.x(end), f.y(ceiling(end)));
    let _ = write!(
        out,
        r#"<path d="{d}" fill="none" stroke="{PLAIN}" stroke-width="1" stroke-dasharray="2 3"><title>the most entropy a string of this length can have</title></path>"#
    );

    // Unflagged points as one path of dots (compact for thousands of points).
    let mut dots = String::new();
    for p in sample.points.iter().filter(|p| !p.flagged()) {
        let _ = write!(dots, "M{:.1} {:.1}h0", f.x(f64::from(p.length())), f.y(p.entropy()));
    }
    if !dots.is_empty() {
        let _ = write!(
            out,
            r#"<path d="{dots}" stroke="{PLAIN}" stroke-opacity="0.55" stroke-width="5" stroke-linecap="round" fill="none"/>"#
        );
    }

    for (i, (op, v, sids)) in len_limits.iter().enumerate() {
        let x = f.x(*v);
        let label = format!("{len_field} {op} {} ({})", tick_label(*v), sids_label(sids));
        // Label right of the line, or left of it when it would leave the chart.
        let fits = x + 4.0 + text_width(&label, 11.0) <= f.w - f.right;
        let (lx, anchor) = if fits { (x + 4.0, "start") } else { (x - 4.0, "end") };
        let _ = write!(
            out,
            r#"<line x1="{x:.1}" y1="{}" x2="{x:.1}" y2="{:.1}" stroke="{LIMIT}" stroke-width="1.5" stroke-dasharray="6 4"/><text x="{lx:.1}" y="{:.1}" text-anchor="{anchor}" fill="{LIMIT}" font-size="11">{}</text>"#,
            f.top,
            f.h - f.bottom,
            f.top + 12.0 + 14.0 * i as f64,
            esc(&label)
        );
    }
    for (op, v, sids) in &ent_limits {
        let y = f.y(*v);
        let label = format!("{ent_field} {op} {v} ({})", sids_label(sids));
        let _ = write!(
            out,
            r#"<line x1="{}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="{LIMIT}" stroke-width="1.5" stroke-dasharray="6 4"/><text x="{:.1}" y="{:.1}" text-anchor="end" fill="{LIMIT}" font-size="11">{}</text>"#,
            f.left,
            f.w - f.right,
            f.w - f.right - 4.0,
            y + 14.0,
            esc(&label)
        );
    }

    for p in sample.points.iter().filter(|p| p.flagged()) {
        let file = captures.get(p.file() as usize).filter(|_| captures.len() > 1);
        let at = match file {
            Some(name) => format!("{name}:{}", p.packet()),
            None => p.packet().to_string(),
        };
        let _ = write!(
            out,
            r#"<circle cx="{:.1}" cy="{:.1}" r="4.5" fill="{FLAGGED}" stroke="white" stroke-width="1"><title>flagged packet {}: length {}, entropy {:.2}</title></circle>"#,
            f.x(f64::from(p.length())),
            f.y(p.entropy()),
            esc(&at),
            p.length(),
            p.entropy()
        );
    }

    // Legend.
    let lx = f.left + 10.0;
    let ly = f.h - f.bottom - 44.0;
    let _ = write!(
        out,
        r#"<g font-size="11"><rect x="{:.1}" y="{:.1}" width="150" height="38" fill="white" fill-opacity="0.85" stroke="{GRID}"/><circle cx="{:.1}" cy="{:.1}" r="4.5" fill="{FLAGGED}"/><text x="{:.1}" y="{:.1}">flagged</text><circle cx="{:.1}" cy="{:.1}" r="2.5" fill="{PLAIN}"/><text x="{:.1}" y="{:.1}">not flagged</text></g>"#,
        lx - 4.0,
        ly - 4.0,
        lx + 6.0,
        ly + 7.0,
        lx + 16.0,
        ly + 11.0,
        lx + 6.0,
        ly + 23.0,
        lx + 16.0,
        ly + 27.0
    );
    out.push_str("</svg>");
    out
}

/// Detections over time: stacked bars per bin, one color per threat type.
pub fn timeline(t: &Timeline) -> String {
    let max = t.bins.iter().map(|b| b.counts.iter().sum::<u64>()).max().unwrap_or(0).max(1) as f64;
    let step = nice_step(max, 4.0).max(1.0);
    let y_max = (max / step).ceil() * step;
    let f = Frame { w: 640.0, h: 250.0, left: 52.0, right: 16.0, top: 30.0, bottom: 44.0, x_max: 1.0, y_max };
    let mut out = String::new();
    open_svg(&mut out, "chart-timeline", f.w as u32, f.h as u32, "Detections over time");
    let _ = write!(
        out,
        r#"<rect x="{}" y="{}" width="{:.1}" height="{:.1}" fill="{}"/>"#,
        f.left,
        f.top,
        f.plot_w(),
        f.plot_h(),
        TINTS[3]
    );
    f.y_grid(&mut out, step);
    let n = t.bins.len().max(1) as f64;
    let bw = f.plot_w() / n;
    for (i, bin) in t.bins.iter().enumerate() {
        let x = f.left + bw * i as f64;
        let mut base = 0.0;
        for (c, &count) in bin.counts.iter().enumerate().filter(|(_, &c)| c > 0) {
            let y0 = f.y(base);
            let y1 = f.y(base + count as f64);
            let color = CLASS_COLORS.get(c % CLASS_COLORS.len()).copied().unwrap_or(FLAGGED);
            let class = t.classes.get(c).map_or("", String::as_str);
            let _ = write!(
                out,
                r#"<rect x="{:.1}" y="{y1:.1}" width="{:.1}" height="{:.1}" fill="{color}"><title>{}: {count} from {}</title></rect>"#,
                x + bw * 0.08,
                (bw * 0.84).max(1.0),
                y0 - y1,
                esc(class),
                time::human(bin.start.0)
            );
            base += count as f64;
        }
    }
    // Time labels at five evenly spaced bin starts.
    let ticks = 4usize.min(t.bins.len().saturating_sub(1)).max(1);
    let mut shown = Vec::new();
    for k in 0..=ticks {
        let i = (t.bins.len().saturating_sub(1)) * k / ticks;
        if shown.contains(&i) {
            continue;
        }
        shown.push(i);
        if let Some(bin) = t.bins.get(i) {
            let label = time::human(bin.start.0);
            let clock = label.get(11..).unwrap_or(&label);
            let clock =
                if t.bin_seconds >= 1.0 { clock.get(..8).unwrap_or(clock) } else { clock.get(..12).unwrap_or(clock) };
            let x = f.left + bw * i as f64;
            let anchor = match k {
                0 => "start",
                k if k == ticks => "end",
                _ => "middle",
            };
            let anchor = if shown.len() == 1 { "start" } else { anchor };
            let _ = write!(
                out,
                r#"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="{INK}"/><text x="{x:.1}" y="{:.1}" text-anchor="{anchor}" font-size="11">{}</text>"#,
                f.h - f.bottom,
                f.h - f.bottom + 4.0,
                f.h - f.bottom + 16.0,
                esc(clock)
            );
        }
    }
    let _ = write!(
        out,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">time (UTC), bins of {}</text>"#,
        f.left + f.plot_w() / 2.0,
        f.h - 8.0,
        bin_label(t.bin_seconds)
    );
    let _ = write!(
        out,
        r#"<text transform="translate(14 {:.1}) rotate(-90)" text-anchor="middle">detections</text>"#,
        f.top + f.plot_h() / 2.0
    );
    let mut x = f.left;
    for (c, class) in t.classes.iter().enumerate() {
        let color = CLASS_COLORS.get(c % CLASS_COLORS.len()).copied().unwrap_or(FLAGGED);
        let _ = write!(
            out,
            r#"<rect x="{x:.1}" y="8" width="12" height="12" fill="{color}"/><text x="{:.1}" y="18" font-size="11">{}</text>"#,
            x + 16.0,
            esc(class)
        );
        x += 28.0 + 6.5 * class.chars().count() as f64;
    }
    out.push_str("</svg>");
    out
}

/// `250 ms`, `10 s`, `5 min`.
pub fn bin_label(seconds: f64) -> String {
    if seconds < 1.0 {
        format!("{:.0} ms", seconds * 1000.0)
    } else if seconds < 60.0 {
        format!("{seconds:.0} s")
    } else if seconds < 3600.0 {
        format!("{:.0} min", seconds / 60.0)
    } else {
        format!("{:.0} h", seconds / 3600.0)
    }
}

/// Every chart of a report, by id, in document order (absent ones left out).
pub fn all(report: &Report) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let Charts { inspected, thresholds, timeline: tl, .. } = &report.charts;
    if let Some(rows) = &report.protocols {
        out.push(("chart-protocols", protocols(rows)));
    }
    if let Some(i) = inspected {
        let captures = &report.scope.captures;
        if i.icmp.seen > 0 {
            out.push(("chart-icmp-entropy", scatter(Kind::Icmp, &i.icmp, thresholds, captures)));
        }
        if i.dns.seen > 0 {
            out.push(("chart-dns-entropy", scatter(Kind::Dns, &i.dns, thresholds, captures)));
        }
    }
    if let Some(t) = tl {
        out.push(("chart-timeline", timeline(t)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_draw_one_bar_per_bin_and_escape_the_title() {
        let svg = histogram("lab <a&b>: entropy", "payload.entropy", &[0, 3, 1], 8.0);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
        assert_eq!(svg.matches("<title>3</title>").count(), 1);
        assert_eq!(svg.matches(&format!("fill=\"{BAR}\"")).count(), 3);
        assert!(svg.contains("lab &lt;a&amp;b&gt;: entropy") && !svg.contains("<a&b>"));
    }
    use crate::report::collect::Point;

    #[test]
    fn escaping_and_numbers() {
        assert_eq!(esc("<a href=\"x\">&'</a>"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
        assert_eq!(esc("a\u{1}b"), "a&#1;b");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(thousands(12), "12");
        assert_eq!(nice_step(528.0, 8.0), 100.0);
        assert_eq!(nice_step(8.0, 5.0), 2.0);
    }

    #[test]
    fn scatter_marks_flagged_points_and_draws_limits() {
        let sample = Sample {
            seen: 3,
            flagged: 1,
            points: vec![Point(0, 1, 56, 4.1, false), Point(0, 18, 159, 6.78, true), Point(0, 20, 0, 0.0, false)],
        };
        let t = vec![
            Threshold { sid: 1, field: "payload.len".into(), op: ">".into(), value: 64.0 },
            Threshold { sid: 3, field: "payload.len".into(), op: ">".into(), value: 64.0 },
            Threshold { sid: 1, field: "payload.entropy".into(), op: ">".into(), value: 5.8 },
        ];
        let svg = scatter(Kind::Icmp, &sample, &t, &["a.pcap".into()]);
        assert!(svg.contains("flagged packet 18: length 159, entropy 6.78"), "{svg}");
        assert_eq!(svg.matches("<circle").count(), 1 + 2, "one flagged point and two legend markers");
        assert!(svg.contains("payload.len &gt; 64 (rules 1, 3)"));
        assert!(svg.contains("payload.entropy &gt; 5.8 (rule 1)"));
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
    }

    #[test]
    fn empty_sample_draws_axes_only() {
        let svg = scatter(Kind::Dns, &Sample::default(), &[], &[]);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(!svg.contains("NaN"));
    }
}
