//! The HTML report as a person sees it: opened in headless Chromium, it loads
//! without console errors (the page's Content-Security-Policy turns any fetch
//! into one), every chart is in the page and drawn on the screenshot, and the
//! tables show the numbers of the EVE alerts of the same scan.
//!
//! Needs Chromium (`apt-get install chromium`; `.ci/run` installs it). Where
//! none is found the test prints why and passes without checking, unless
//! `FERRET_REQUIRE_CHROMIUM` is set (CI sets it once the browser is there).
//! `FERRET_CHROMIUM` names another binary.

use crate::common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use serde_json::Value;

fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("FERRET_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let names = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = names.iter().flat_map(|n| std::env::split_paths(&path).map(move |d| d.join(n))).find(|p| p.is_file());
    // CI sets FERRET_REQUIRE_CHROMIUM: there a missing browser is a failure (see common::skip).
    found
}

/// Runs headless Chromium on `page` with `extra` flags; returns (stdout, stderr).
fn run_chromium(browser: &Path, profile: &Path, page: &Path, extra: &[&str]) -> (String, String) {
    let url = format!("file://{}", page.display());
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .output()
        .expect("chromium runs");
    assert!(out.status.success(), "chromium failed: {}", String::from_utf8_lossy(&out.stderr));
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Console messages (errors, CSP violations) Chromium logged for the page.
fn console_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.contains(":CONSOLE") || l.contains("Failed to load resource") || l.contains("net::ERR_"))
        .collect()
}

/// The cells of each row of the table with this id, tags stripped.
fn table(dom: &str, id: &str) -> Vec<Vec<String>> {
    let start = dom.find(&format!("<table id=\"{id}\"")).unwrap_or_else(|| panic!("no table {id}"));
    let end = start + dom[start..].find("</table>").unwrap();
    let body = &dom[start..end];
    let body = &body[body.find("<tbody>").unwrap()..];
    body.split("<tr>")
        .skip(1)
        .map(|row| row.split("<td").skip(1).map(|cell| text(&cell[cell.find('>').unwrap() + 1..])).collect())
        .collect()
}

fn text(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .trim()
        .to_string()
}

/// Pixels of the screenshot exactly of color `hex` (`#rrggbb`), and the variance of luminance.
fn pixels(png_bytes: &[u8], colors: &[&str]) -> (Vec<usize>, f64, (u32, u32)) {
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = match info.color_type {
        png::ColorType::Rgba => 4,
        png::ColorType::Rgb => 3,
        other => panic!("unexpected PNG color type {other:?}"),
    };
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    let rgb: Vec<[u8; 3]> = colors
        .iter()
        .map(|h| {
            let v = u32::from_str_radix(h.trim_start_matches('#'), 16).unwrap();
            [(v >> 16) as u8, (v >> 8) as u8, v as u8]
        })
        .collect();
    let mut counts = vec![0usize; colors.len()];
    let (mut sum, mut sum2, mut n) = (0f64, 0f64, 0f64);
    for px in buf[..info.buffer_size()].chunks_exact(channels) {
        let p = [px[0], px[1], px[2]];
        for (i, c) in rgb.iter().enumerate() {
            if p.iter().zip(c).all(|(a, b)| a.abs_diff(*b) <= 2) {
                counts[i] += 1;
            }
        }
        let y = 0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2]);
        sum += y;
        sum2 += y * y;
        n += 1.0;
    }
    let mean = sum / n;
    (counts, sum2 / n - mean * mean, (info.width, info.height))
}

fn check_sample(browser: &Path, sample: &str, charts: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.html");
    let eve = dir.path().join("eve.json");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let o = run_ferret(
        &["scan", "-q", "--no-summary", "--report", report.to_str().unwrap(), "--eve", eve.to_str().unwrap(), sample],
        repo,
        b"",
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let alerts: Vec<Value> =
        std::fs::read_to_string(&eve).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(!alerts.is_empty());

    // Loads cleanly; the DOM holds every chart and the numbers of the EVE alerts.
    let profile = dir.path().join("profile");
    let (dom, stderr) = run_chromium(browser, &profile, &report, &["--dump-dom"]);
    assert!(console_lines(&stderr).is_empty(), "console messages:\n{}", console_lines(&stderr).join("\n"));
    assert!(dom.contains("<h1>Covert channel detection report</h1>"), "page did not render");
    for id in charts {
        assert!(dom.contains(&format!("<svg id=\"{id}\"")), "chart {id} missing");
    }

    let mut by_message: BTreeMap<String, u64> = BTreeMap::new();
    for a in &alerts {
        *by_message.entry(a["alert"]["signature"].as_str().unwrap().to_string()).or_default() += 1;
    }
    let shown: BTreeMap<String, u64> =
        table(&dom, "detections").iter().map(|r| (r[0].clone(), r[1].replace(',', "").parse().unwrap())).collect();
    assert_eq!(shown, by_message, "{sample}: detection table");

    let evidence = table(&dom, "evidence");
    let packets: Vec<u64> = evidence.iter().map(|r| r[2].parse().unwrap()).collect();
    let eve_packets: Vec<u64> = alerts.iter().map(|a| a["pcap_cnt"].as_u64().unwrap()).collect();
    assert_eq!(packets, eve_packets, "{sample}: evidence packets");
    for (row, a) in evidence.iter().zip(&alerts) {
        // The EVE timestamp (RFC 3339, UTC) is the evidence time with a T and an offset.
        let ts = a["timestamp"].as_str().unwrap();
        assert_eq!(row[1], ts[..26].replace('T', " "), "{sample}: time of packet {}", row[2]);
        assert_eq!(row[3], a["alert"]["signature_id"].to_string());
        assert_eq!(row[7], a["alert"]["signature"].as_str().unwrap());
    }

    let mut by_proto: BTreeMap<String, u64> = BTreeMap::new();
    for a in &alerts {
        let dns = a["src_port"] == 53 || a["dest_port"] == 53;
        let p = if dns { "DNS".to_string() } else { a["proto"].as_str().unwrap().to_string() };
        *by_proto.entry(p).or_default() += 1;
    }
    for row in table(&dom, "by-protocol") {
        let expected = by_proto.get(&row[0]).copied().unwrap_or(0);
        assert_eq!(row[1], expected.to_string(), "{sample}: detections of {}", row[0]);
        let share = if alerts.is_empty() { 0.0 } else { expected as f64 * 100.0 / alerts.len() as f64 };
        assert_eq!(row[2], format!("{share:.1}%"), "{sample}: share of {}", row[0]);
    }
    let cards = dom.split("class=\"value\">").nth(1).map(|s| s[..s.find('<').unwrap()].to_string());
    assert_eq!(cards, Some(alerts.len().to_string()), "{sample}: detections card");

    // Drawn: the screenshot is not blank, and each chart's plot tint covers a real area.
    let shot = dir.path().join("shot.png");
    let (_, stderr) = run_chromium(
        browser,
        &profile,
        &report,
        &["--window-size=1100,9000", &format!("--screenshot={}", shot.display())],
    );
    assert!(console_lines(&stderr).is_empty(), "console messages:\n{}", console_lines(&stderr).join("\n"));
    let tints: Vec<&str> = ferret::report::svg::TINTS.to_vec();
    let (counts, variance, size) = pixels(&std::fs::read(&shot).unwrap(), &tints);
    assert_eq!(size, (1100, 9000));
    eprintln!("{sample}: chart tint pixels {counts:?}, luminance variance {variance:.0}");
    assert!(variance > 100.0, "{sample}: screenshot looks blank (luminance variance {variance:.1})");
    let ids = ["chart-protocols", "chart-icmp-entropy", "chart-dns-entropy", "chart-timeline"];
    for (id, count) in ids.iter().zip(&counts) {
        if charts.contains(id) {
            assert!(*count > 20_000, "{sample}: chart {id} not drawn ({count} pixels of its tint)");
        }
    }
}

#[test]
fn html_report_renders_in_chromium_with_the_scans_numbers() {
    let Some(browser) = chromium() else {
        common::skip("FERRET_REQUIRE_CHROMIUM", "no Chromium found (apt-get install chromium, or set FERRET_CHROMIUM)");
        return;
    };
    let all = ["chart-protocols", "chart-icmp-entropy", "chart-dns-entropy", "chart-timeline"];
    check_sample(&browser, "samples/report-icmp.pcap", &all);
    check_sample(&browser, "samples/report-dns-icmp.pcapng", &all);
}

#[test]
fn console_errors_are_caught() {
    // The check above must be able to fail: a page that fetches is refused by its policy.
    let Some(browser) = chromium() else {
        common::skip("FERRET_REQUIRE_CHROMIUM", "no Chromium found (apt-get install chromium, or set FERRET_CHROMIUM)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("bad.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><html><head><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'\"></head>\
         <body><img src=\"http://127.0.0.1:9/x.png\"></body></html>",
    )
    .unwrap();
    let (_, stderr) = run_chromium(&browser, &dir.path().join("profile"), &page, &["--dump-dom"]);
    assert!(!console_lines(&stderr).is_empty(), "no console message caught:\n{stderr}");
}
