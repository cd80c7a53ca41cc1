//! The report's words and tables, written once for every text format.
//!
//! [`document`] turns the [`Report`] model into a small document tree
//! (sections of headings, paragraphs, lists, tables and figures); the
//! Markdown and HTML renderers only lay that tree out. So the two formats say
//! the same thing in the same words, and a sentence is fixed in one place.

use std::net::IpAddr;

use super::model::{PacketRef, Report, Time};
use super::svg::{self, thousands};

/// A run of inline text.
#[derive(Clone, Debug, PartialEq)]
pub enum Span {
    /// Plain text.
    Text(String),
    /// Bold.
    Strong(String),
    /// Code (field names, file names).
    Code(String),
}

/// Column alignment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    /// Text.
    Left,
    /// Numbers.
    Right,
}

/// A block of a section.
#[derive(Clone, Debug, PartialEq)]
pub enum Block {
    /// A sub-heading.
    Heading(String),
    /// A paragraph.
    Para(Vec<Span>),
    /// A bulleted list.
    List(Vec<Vec<Span>>),
    /// A table; `id` names it in HTML.
    Table {
        /// HTML id.
        id: &'static str,
        /// Column titles and alignment.
        head: Vec<(&'static str, Align)>,
        /// Cells, as plain text.
        rows: Vec<Vec<String>>,
    },
    /// A chart (HTML only; Markdown points to the HTML report).
    Figure {
        /// Inline SVG.
        svg: String,
        /// What it shows.
        caption: String,
    },
    /// Small print under a table or figure.
    Note(Vec<Span>),
    /// Key numbers as (label, value) cards in HTML; Markdown leaves them out,
    /// as the list after them says the same.
    KeyFigures(Vec<(String, String)>),
}

/// A numbered section.
#[derive(Clone, Debug, PartialEq)]
pub struct Section {
    /// HTML id.
    pub id: &'static str,
    /// Title, with its number.
    pub title: String,
    /// Content.
    pub blocks: Vec<Block>,
}

/// The whole document.
#[derive(Clone, Debug, PartialEq)]
pub struct Document {
    /// Title.
    pub title: String,
    /// What was scanned, under the title.
    pub intro: Vec<Block>,
    /// Sections 1 to 8, then notes.
    pub sections: Vec<Section>,
}

/// Recommendations shown per threat type in Markdown and HTML.
const RECOMMENDATIONS_SHOWN: usize = 50;

fn t(s: impl Into<String>) -> Span {
    Span::Text(s.into())
}
fn b(s: impl Into<String>) -> Span {
    Span::Strong(s.into())
}
fn c(s: impl Into<String>) -> Span {
    Span::Code(s.into())
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

/// Seconds for people: `8.123 s`, `2 min 5.000 s`.
pub fn seconds(s: f64) -> String {
    if s >= 3600.0 {
        format!("{} h {} min", (s / 3600.0).floor(), ((s % 3600.0) / 60.0).floor())
    } else if s >= 60.0 {
        format!("{} min {:.3} s", (s / 60.0).floor(), s % 60.0)
    } else if s.fract() == 0.0 {
        format!("{s:.0} s")
    } else {
        format!("{s:.3} s")
    }
}

/// A measured number: integers plainly, others with two decimals.
pub fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

fn percent(v: f64) -> String {
    format!("{v:.1}%")
}

/// Packet numbers, at most `max` of them, then how many more.
pub fn packet_list(packets: &[PacketRef], max: usize) -> String {
    let mut s: Vec<String> = packets.iter().take(max).map(ToString::to_string).collect();
    if packets.len() > max {
        s.push(format!("… ({} more)", packets.len() - max));
    }
    s.join(", ")
}

fn ips(list: &[IpAddr]) -> String {
    let v: Vec<String> = list.iter().map(ToString::to_string).collect();
    v.join(", ")
}

/// The same day as `a` is shown as a time of day only.
fn time_after(a: Time, b: Time) -> String {
    let (sa, sb) = (a.to_string(), b.to_string());
    if sa.get(..10) == sb.get(..10) {
        sb.get(11..).unwrap_or(&sb).to_string()
    } else {
        sb
    }
}

fn endpoint(ip: Option<IpAddr>, port: Option<u16>) -> String {
    match (ip, port) {
        (Some(IpAddr::V6(ip)), Some(p)) => format!("[{ip}]:{p}"),
        (Some(ip), Some(p)) => format!("{ip}:{p}"),
        (Some(ip), None) => ip.to_string(),
        (None, _) => "-".into(),
    }
}

/// Builds the document.
pub fn document(r: &Report) -> Document {
    let charts = svg::all(r);
    let chart = |id: &str| charts.iter().find(|(i, _)| *i == id).map(|(_, s)| s.clone());
    let sections = vec![
        summary(r),
        risks(r),
        observations(r, &chart),
        protocols(r, &chart),
        detections(r),
        by_protocol(r),
        evidence(r),
        recommendations(r),
    ];
    let mut doc = Document { title: "Covert channel detection report".into(), intro: intro(r), sections };
    if !r.notes.is_empty() {
        doc.sections.push(Section {
            id: "notes",
            title: "Notes on the inputs".into(),
            blocks: vec![Block::List(r.notes.iter().map(|n| vec![t(n.clone())]).collect())],
        });
    }
    doc
}

fn intro(r: &Report) -> Vec<Block> {
    let s = &r.scope;
    let mut p = vec![t(format!("Written by {} from ", r.generator))];
    match s.captures.len() {
        0 => p.push(t("alerts of unnamed captures")),
        _ => {
            for (i, cap) in s.captures.iter().enumerate() {
                if i > 0 {
                    p.push(t(", "));
                }
                p.push(if cap == "-" { t("standard input") } else { c(cap.clone()) });
            }
        }
    }
    if !s.eve_files.is_empty() {
        p.push(t(" (alerts read from "));
        for (i, f) in s.eve_files.iter().enumerate() {
            if i > 0 {
                p.push(t(", "));
            }
            p.push(c(f.clone()));
        }
        p.push(t(")"));
    }
    match (s.packets, s.bytes) {
        (Some(n), Some(bytes)) => {
            p.push(t(format!(": {} ({} bytes)", plural(n, "packet", "packets"), thousands(bytes))))
        }
        _ => p.push(t(": no run statistics, so packet counts and charts of inspected traffic are missing")),
    }
    if let (Some(first), Some(last)) = (s.first, s.last) {
        p.push(t(format!(
            ", captured from {first} to {} UTC ({})",
            time_after(first, last),
            seconds(last.0.saturating_sub(first.0) as f64 / 1e9)
        )));
    }
    p.push(t("."));
    let mut blocks = vec![Block::Para(p)];
    if !r.sensors.is_empty() {
        let mut p = vec![t(format!(
            "Alerts of {}, merged in time order, each counted once: ",
            plural(r.sensors.len() as u64, "sensor", "sensors")
        ))];
        for (i, row) in r.sensors.iter().enumerate() {
            if i > 0 {
                p.push(t(", "));
            }
            p.push(c(sensor_name(row.sensor.as_deref())));
        }
        p.push(t(". A packet is named as PACKET@SENSOR."));
        blocks.push(Block::Para(p));
    }
    blocks.push(Block::Para(vec![t(
        "Every figure below is counted from ferret's alerts and run statistics. Packet numbers are \
         1-based within their capture, as Wireshark shows them; times are UTC.",
    )]));
    blocks
}

/// A sensor's name for people (alerts naming none are `(unnamed)`).
fn sensor_name(sensor: Option<&str>) -> String {
    sensor.unwrap_or("(unnamed)").to_string()
}

fn summary(r: &Report) -> Section {
    let s = &r.summary;
    let mut blocks = Vec::new();
    if s.detections == 0 {
        blocks.push(Block::Para(vec![
            b("No detections."),
            t(match r.scope.packets {
                Some(n) => format!(" None of the {} packets matched an alert rule.", thousands(n)),
                None => " The alerts given were empty.".to_string(),
            }),
        ]));
        return Section { id: "summary", title: "1. Executive summary".into(), blocks };
    }
    let mut cards = vec![
        ("Detections".to_string(), thousands(s.detections)),
        ("Worst severity".to_string(), s.worst.as_ref().map_or_else(|| "-".into(), |w| w.severity.to_string())),
        ("Hosts".to_string(), thousands(s.hosts.len() as u64)),
    ];
    if let Some(w) = &s.window {
        cards.push(("Time window".to_string(), seconds(w.seconds)));
    }
    if r.sensors.len() > 1 {
        cards.push(("Sensors".to_string(), thousands(r.sensors.len() as u64)));
    }
    blocks.push(Block::KeyFigures(cards));
    let types: Vec<String> = s.by_type.iter().map(|t| format!("{} {}", t.class, thousands(t.detections))).collect();
    let mut items = vec![vec![
        b(plural(s.detections, "detection", "detections")),
        t(format!(
            " on {} by {}: {}.",
            plural(s.flagged_packets, "packet", "packets"),
            plural(s.rules, "rule", "rules"),
            types.join(", ")
        )),
    ]];
    if !s.held_back.is_empty() {
        let total: u64 = s.held_back.iter().map(|(_, n)| n).sum();
        let per_rule: Vec<String> =
            s.held_back.iter().map(|(sid, n)| format!("rule {sid}: {}", thousands(*n))).collect();
        items.push(vec![
            b(format!("Held back by limit: {}", plural(total, "match", "matches"))),
            t(format!(
                " ({}). These packets matched a rule whose `limit` had already raised its alerts; they are flagged, not clean.",
                per_rule.join(", ")
            )),
        ]);
    }
    if let Some(w) = &s.worst {
        items.push(vec![
            b(format!("Worst severity: {}", w.severity)),
            t(format!(" ({}, rule {}, first at packet {}).", w.class, w.sid, w.first_packet)),
        ]);
    }
    let hosts: Vec<String> = s
        .hosts
        .iter()
        .take(10)
        .map(|h| match (h.as_source, h.as_destination) {
            (s, 0) => format!("{} (source of {})", h.ip, thousands(s)),
            (0, d) => format!("{} (destination of {})", h.ip, thousands(d)),
            (s, d) => format!("{} (source of {}, destination of {})", h.ip, thousands(s), thousands(d)),
        })
        .collect();
    let more = if s.hosts.len() > 10 { format!(", and {} more", s.hosts.len() - 10) } else { String::new() };
    items.push(vec![
        b(format!("{} involved:", plural(s.hosts.len() as u64, "host", "hosts"))),
        t(format!(" {}{more}.", hosts.join(", "))),
    ]);
    if let Some(w) = &s.window {
        items.push(vec![
            b("Time window:"),
            t(format!(" {} to {} UTC ({}).", w.first, time_after(w.first, w.last), seconds(w.seconds))),
        ]);
    }
    if !r.sensors.is_empty() {
        let each: Vec<String> = r
            .sensors
            .iter()
            .map(|row| format!("{} {}", sensor_name(row.sensor.as_deref()), thousands(row.detections)))
            .collect();
        items.push(vec![
            b(format!("{}:", plural(r.sensors.len() as u64, "sensor", "sensors"))),
            t(format!(" {}.", each.join(", "))),
        ]);
    }
    blocks.push(Block::List(items));
    blocks.push(Block::Table {
        id: "summary-types",
        head: vec![("Threat type", Align::Left), ("Severity", Align::Left), ("Detections", Align::Right)],
        rows: s
            .by_type
            .iter()
            .map(|t| vec![t.class.clone(), t.severity.to_string(), thousands(t.detections)])
            .collect(),
    });
    if !r.sensors.is_empty() {
        blocks.push(Block::Heading("Sensors".into()));
        blocks.push(Block::Table {
            id: "sensors",
            head: vec![
                ("Sensor", Align::Left),
                ("Detections", Align::Right),
                ("Flagged packets", Align::Right),
                ("Rules", Align::Left),
                ("Severity", Align::Left),
                ("Hosts", Align::Right),
                ("First", Align::Left),
                ("Last", Align::Left),
            ],
            rows: r
                .sensors
                .iter()
                .map(|row| {
                    let rules: Vec<String> = row.rules.iter().map(u64::to_string).collect();
                    vec![
                        sensor_name(row.sensor.as_deref()),
                        thousands(row.detections),
                        thousands(row.flagged_packets),
                        rules.join(", "),
                        row.worst.to_string(),
                        thousands(row.hosts),
                        row.first.to_string(),
                        time_after(row.first, row.last),
                    ]
                })
                .collect(),
        });
        blocks.push(Block::Note(vec![t(
            "A sensor is the EVE host field (--sensor-name), or the EVE file for alerts that name none. \
             Each sensor's stateful rules counted only the traffic that sensor saw.",
        )]));
    }
    Section { id: "summary", title: "1. Executive summary".into(), blocks }
}

fn risks(r: &Report) -> Section {
    let mut blocks = vec![Block::Para(vec![
        t("One row per threat type (the rules' "),
        c("class"),
        t("). Severity is the worst "),
        c("severity"),
        t(" declared by the rules that fired; ferret adds no score of its own."),
    ])];
    if r.risks.is_empty() {
        blocks.push(Block::Para(vec![t("Nothing to assess: no detections.")]));
    } else {
        blocks.push(Block::Table {
            id: "risks",
            head: vec![
                ("Threat type", Align::Left),
                ("Severity", Align::Left),
                ("Detections", Align::Right),
                ("Rules", Align::Left),
                ("Hosts", Align::Left),
                ("First seen", Align::Left),
                ("Last seen", Align::Left),
            ],
            rows: r
                .risks
                .iter()
                .map(|k| {
                    let rules: Vec<String> = k.rules.iter().map(u64::to_string).collect();
                    vec![
                        k.class.clone(),
                        k.severity.to_string(),
                        thousands(k.detections),
                        rules.join(", "),
                        ips(&k.hosts),
                        k.first.to_string(),
                        k.last.to_string(),
                    ]
                })
                .collect(),
        });
    }
    Section { id: "risks", title: "2. Risk assessment".into(), blocks }
}

fn observations(r: &Report, chart: &dyn Fn(&str) -> Option<String>) -> Section {
    let o = &r.observations;
    let mut blocks = vec![Block::Heading("Flagged payloads and names".into())];
    if o.sizes.is_empty() {
        blocks.push(Block::Para(vec![t("No detection measured a payload or query name length.")]));
    }
    for s in &o.sizes {
        let same_length = s.length_range.0 == s.length_range.1;
        let lengths = if same_length {
            format!("all {} {}", number(s.length_range.0), s.unit)
        } else {
            format!("{} to {} {}", number(s.length_range.0), number(s.length_range.1), s.unit)
        };
        let mut p = vec![
            b(s.kind),
            t(" ("),
            c(s.length_field),
            t(format!(", {}): {lengths}", plural(s.packets, "flagged packet", "flagged packets"))),
        ];
        if let Some((lo, hi)) = s.entropy_range {
            let unit = if s.unit == "bytes" { "bits per byte" } else { "bits per character" };
            p.push(t(format!(", entropy {lo:.2} to {hi:.2} {unit}")));
        }
        p.push(t("."));
        blocks.push(Block::Para(p));
        let line = |label: &str, e: &super::model::Extreme| {
            let ent = e.entropy.map(|h| format!(", entropy {h:.2}")).unwrap_or_default();
            vec![b(label.to_string()), t(format!(" packet {}, {} {}{ent}.", e.packet, number(e.length), s.unit))]
        };
        // With one length for all, the extremes are those of entropy.
        let (most, least) =
            if same_length { ("Highest entropy:", "Lowest entropy:") } else { ("Largest:", "Smallest:") };
        blocks.push(Block::List(vec![line(most, &s.largest), line(least, &s.smallest)]));
    }
    for (id, kind, what) in
        [("chart-icmp-entropy", "icmp", "ICMP payloads"), ("chart-dns-entropy", "dns", "DNS query names")]
    {
        let Some(svg) = chart(id) else { continue };
        let counts = if kind == "icmp" { &r.charts.icmp_points } else { &r.charts.dns_points };
        let caption = match counts {
            Some(n) if n.plotted < n.seen => format!(
                "Entropy against length of the inspected {what}: {} of {} packets plotted (every flagged one up to 2,000, a uniform sample of the rest); {} flagged. Dashed lines: the rules' limits; dotted: the most entropy a string of that length can have.",
                thousands(n.plotted),
                thousands(n.seen),
                thousands(n.flagged)
            ),
            Some(n) => format!(
                "Entropy against length of all {} inspected {what}; {}. Dashed lines: the rules' limits; dotted: the most entropy a string of that length can have.",
                thousands(n.seen),
                if n.flagged == 0 { "none flagged".to_string() } else { format!("{} flagged (red)", thousands(n.flagged)) }
            ),
            None => format!("Entropy against length of the inspected {what}."),
        };
        blocks.push(Block::Figure { svg, caption });
    }

    blocks.push(Block::Heading("Host pairs".into()));
    if o.pairs.is_empty() {
        blocks.push(Block::Para(vec![t("No detection had both a source and a destination address.")]));
    } else {
        let with_sensors = !r.sensors.is_empty();
        let mut head = vec![
            ("Host A", Align::Left),
            ("Host B", Align::Left),
            ("A → B", Align::Right),
            ("B → A", Align::Right),
            ("Direction", Align::Left),
            ("Threat types", Align::Left),
        ];
        if with_sensors {
            head.push(("Sensors", Align::Left));
        }
        let rows = o
            .pairs
            .iter()
            .map(|p| {
                let mut row = vec![
                    p.a.to_string(),
                    p.b.to_string(),
                    thousands(p.a_to_b),
                    thousands(p.b_to_a),
                    p.direction.to_string(),
                    p.classes.join(", "),
                ];
                if with_sensors {
                    row.push(p.sensors.join(", "));
                }
                row
            })
            .collect();
        blocks.push(Block::Table { id: "pairs", head, rows });
        blocks.push(Block::Note(vec![t(
            "Host A is the source of the first detection between the two; counts are detections in each direction.",
        )]));
        let split = o.pairs.iter().filter(|p| p.sensors.len() > 1).count() as u64;
        if split > 0 {
            blocks.push(Block::Note(vec![t(format!(
                "{} seen by more than one sensor: the traffic between the two was split, and each sensor's \
                 thresholds, rates and distinct counts saw only its part (see docs/deployment.md).",
                plural(split, "pair was", "pairs were")
            ))]));
        }
    }

    blocks.push(Block::Heading("Timing".into()));
    match &o.timing {
        None => blocks.push(Block::Para(vec![t("No detections to place in time.")])),
        Some(tm) => {
            blocks.push(Block::List(vec![
                vec![
                    b("First and last detection:"),
                    t(format!(
                        " {} and {} UTC, {} apart.",
                        tm.first,
                        time_after(tm.first, tm.last),
                        seconds(tm.seconds)
                    )),
                ],
                vec![
                    b("Clusters:"),
                    t(format!(
                        " {} (detections no more than {} apart are one cluster).",
                        thousands(tm.clusters.len() as u64),
                        seconds(tm.cluster_gap_seconds)
                    )),
                ],
                vec![
                    b("Busiest burst:"),
                    t(format!(
                        " {} within {} from {} UTC.",
                        plural(tm.busiest.detections, "detection", "detections"),
                        seconds(tm.busiest.window_seconds),
                        tm.busiest.start
                    )),
                ],
            ]));
            blocks.push(Block::Table {
                id: "clusters",
                head: vec![
                    ("Start", Align::Left),
                    ("End", Align::Left),
                    ("Duration", Align::Right),
                    ("Detections", Align::Right),
                    ("Packets", Align::Left),
                ],
                rows: tm
                    .clusters
                    .iter()
                    .take(50)
                    .map(|k| {
                        vec![
                            k.start.to_string(),
                            time_after(k.start, k.end),
                            seconds(k.seconds),
                            thousands(k.detections),
                            format!("{} to {}", k.first_packet, k.last_packet),
                        ]
                    })
                    .collect(),
            });
            if tm.clusters.len() > 50 {
                blocks.push(Block::Note(vec![t(format!(
                    "The first 50 of {} clusters; the JSON report lists all.",
                    tm.clusters.len()
                ))]));
            }
        }
    }
    if let Some(svg) = chart("chart-timeline") {
        let bin = r.charts.timeline.as_ref().map_or(1.0, |t| t.bin_seconds);
        blocks.push(Block::Figure {
            svg,
            caption: format!(
                "Detections over time, in bins of {}, stacked by threat type, over the whole capture.",
                svg::bin_label(bin)
            ),
        });
    }

    blocks.push(Block::Heading("What stateful rules saw".into()));
    if o.stateful.is_empty() {
        blocks.push(Block::Para(vec![t("No stateful rule (threshold, rate or distinct count) fired.")]));
    } else {
        blocks.push(Block::Table {
            id: "stateful",
            head: vec![
                ("Packet", Align::Right),
                ("Rule", Align::Right),
                ("Clause", Align::Left),
                ("Key", Align::Left),
                ("Counted", Align::Right),
                ("Window", Align::Right),
                ("Rate", Align::Right),
                ("Packets in window", Align::Left),
            ],
            rows: o
                .stateful
                .iter()
                .take(200)
                .map(|s| {
                    vec![
                        s.packet.to_string(),
                        s.sid.to_string(),
                        s.clause.clone(),
                        s.key.clone(),
                        thousands(s.count),
                        seconds(s.window_seconds),
                        s.rate_per_sec.map(|r| format!("{r:.1}/s")).unwrap_or_else(|| "-".into()),
                        format!("{} to {}", s.first_packet, s.last_packet),
                    ]
                })
                .collect(),
        });
    }
    Section { id: "observations", title: "3. Observations".into(), blocks }
}

fn protocols(r: &Report, chart: &dyn Fn(&str) -> Option<String>) -> Section {
    let mut blocks = Vec::new();
    match &r.protocols {
        None => blocks.push(Block::Para(vec![t(
            "Not available: the run statistics with packet counts per protocol were not found.",
        )])),
        Some(rows) => {
            blocks.push(Block::Para(vec![t(
                "Every packet read, counted once by its highest decoded layer (an IP fragment under Other). DNS \
                 is UDP or TCP with port 53 on either side, or a UDP message with DNS's shape on any other port, \
                 and is not counted again under UDP or TCP.",
            )]));
            blocks.push(Block::Table {
                id: "protocols",
                head: vec![("Protocol", Align::Left), ("Packets", Align::Right), ("Share", Align::Right)],
                rows: rows
                    .iter()
                    .map(|p| vec![p.protocol.to_string(), thousands(p.packets), percent(p.share)])
                    .collect(),
            });
            if let Some(svg) = chart("chart-protocols") {
                blocks.push(Block::Figure { svg, caption: "Packets per protocol.".into() });
            }
        }
    }
    Section { id: "protocols", title: "4. Protocol distribution".into(), blocks }
}

fn detections(r: &Report) -> Section {
    let mut blocks = vec![Block::Para(vec![t(
        "Detections grouped by the alert's message as the rule rendered it, in order of first appearance.",
    )])];
    if r.detections.is_empty() {
        blocks.push(Block::Para(vec![t("No detections.")]));
    } else {
        blocks.push(Block::Table {
            id: "detections",
            head: vec![
                ("Detection", Align::Left),
                ("Count", Align::Right),
                ("Rule", Align::Right),
                ("Severity", Align::Left),
                ("Packets", Align::Left),
            ],
            rows: r
                .detections
                .iter()
                .map(|d| {
                    vec![
                        d.message.clone(),
                        thousands(d.count),
                        d.sid.to_string(),
                        d.severity.to_string(),
                        packet_list(&d.packets, 20),
                    ]
                })
                .collect(),
        });
    }
    Section { id: "detections", title: "5. Detection summary".into(), blocks }
}

fn by_protocol(r: &Report) -> Section {
    let with_packets = r.detections_by_protocol.iter().any(|p| p.packets.is_some());
    let mut head = vec![
        ("Protocol", Align::Left),
        ("Detections", Align::Right),
        ("Share", Align::Right),
        ("Flagged packets", Align::Right),
    ];
    if with_packets {
        head.push(("Packets", Align::Right));
    }
    let rows = r
        .detections_by_protocol
        .iter()
        .map(|p| {
            let mut row =
                vec![p.protocol.to_string(), thousands(p.detections), percent(p.share), thousands(p.flagged_packets)];
            if with_packets {
                row.push(p.packets.map(thousands).unwrap_or_default());
            }
            row
        })
        .collect();
    let blocks = vec![
        Block::Para(vec![t(
            "Share is of all detections. Protocols are counted as in section 4, so a DNS detection is not a UDP one.",
        )]),
        Block::Table { id: "by-protocol", head, rows },
    ];
    Section { id: "by-protocol", title: "6. Detections by protocol".into(), blocks }
}

fn evidence(r: &Report) -> Section {
    let mut blocks = Vec::new();
    match &r.extracted {
        Some(x) => {
            let mut p = vec![
                t(format!("The {} were written to ", plural(x.packets, "flagged packet", "flagged packets"))),
                c(x.path.clone()),
                t(format!(" ({}) for review in Wireshark", x.format)),
            ];
            if x.dropped > 0 {
                p.push(t(format!("; {} more did not fit the memory limit and were left out", thousands(x.dropped))));
            }
            p.push(t("."));
            blocks.push(Block::Para(p));
        }
        None if !r.evidence.is_empty() => blocks.push(Block::Para(vec![
            t("To review the flagged packets in Wireshark, write them to a capture with "),
            c("ferret scan --extract flagged.pcap CAPTURE"),
            t("."),
        ])),
        None => {}
    }
    if r.evidence.is_empty() {
        blocks.push(Block::Para(vec![t("No detections.")]));
    } else {
        let with_sensors = !r.sensors.is_empty();
        let mut head = vec![("#", Align::Right), ("Time (UTC)", Align::Left)];
        if with_sensors {
            head.push(("Sensor", Align::Left));
        }
        head.extend([
            ("Packet", Align::Right),
            ("Rule", Align::Right),
            ("Severity", Align::Left),
            ("Source", Align::Left),
            ("Destination", Align::Left),
            ("Message", Align::Left),
        ]);
        let rows = r
            .evidence
            .iter()
            .take(super::model::EVIDENCE_ROWS)
            .enumerate()
            .map(|(i, e)| {
                let mut row = vec![(i + 1).to_string(), e.time.to_string()];
                if with_sensors {
                    row.push(sensor_name(e.sensor.as_deref()));
                }
                row.extend([
                    e.packet.in_capture(),
                    e.sid.to_string(),
                    e.severity.to_string(),
                    endpoint(e.src, e.src_port),
                    endpoint(e.dst, e.dst_port),
                    e.message.clone(),
                ]);
                row
            })
            .collect();
        blocks.push(Block::Table { id: "evidence", head, rows });
        if r.evidence.len() > super::model::EVIDENCE_ROWS {
            blocks.push(Block::Note(vec![t(format!(
                "The first {} of {} detections; the JSON report and the EVE file list all.",
                thousands(super::model::EVIDENCE_ROWS as u64),
                thousands(r.evidence.len() as u64)
            ))]));
        }
    }
    Section { id: "evidence", title: "7. Evidence".into(), blocks }
}

fn recommendations(r: &Report) -> Section {
    let mut blocks = vec![Block::Para(vec![
        t("What the rules that fired recommend (their "),
        c("recommend"),
        t(" texts, filled in per detection), each listed once per threat type."),
    ])];
    if r.recommendations.is_empty() {
        blocks.push(Block::Para(vec![t("No detections, so nothing to recommend.")]));
    }
    for g in &r.recommendations {
        blocks.push(Block::Heading(format!(
            "{} ({}, {})",
            g.class,
            g.severity,
            plural(g.detections, "detection", "detections")
        )));
        if g.items.is_empty() {
            blocks.push(Block::Para(vec![t("The rules of this type carry no recommendation.")]));
            continue;
        }
        blocks.push(Block::List(
            g.items
                .iter()
                .take(RECOMMENDATIONS_SHOWN)
                .map(|i| {
                    let sids: Vec<String> = i.sids.iter().map(u64::to_string).collect();
                    vec![
                        t(format!("{} ", i.text)),
                        t(format!(
                            "(rule {}; {}; packets {})",
                            sids.join(", "),
                            plural(i.detections, "detection", "detections"),
                            packet_list(&i.packets, 10)
                        )),
                    ]
                })
                .collect(),
        ));
        if g.items.len() > RECOMMENDATIONS_SHOWN {
            blocks.push(Block::Note(vec![t(format!(
                "The first {RECOMMENDATIONS_SHOWN} of {} recommendations; the JSON report lists all.",
                thousands(g.items.len() as u64)
            ))]));
        }
    }
    Section { id: "recommendations", title: "8. Recommendations".into(), blocks }
}
