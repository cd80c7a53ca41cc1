//! DNS over TCP (issue 11, item 4b): a tunnel whose queries are cut across
//! segments at awkward places, pipelined several to a segment and
//! retransmitted, a VPN on TCP port 53, and the benign DNS over TCP a
//! network carries (truncated answers asked again over TCP, large DNSSEC
//! answers, pipelined lookups, zone transfers), each labelled per packet
//! like [`super::evasions`].
//!
//! Tunnels: [`dns_tcp_tunnel`], [`non_dns_on_tcp_53`]. Benign:
//! [`benign_dns_over_tcp`]. [`dns_tcp_evasions`] returns them all.
//!
//! Before DNS over TCP was reassembled, only a segment that began with a
//! message's length prefix was decoded, and only its first message: the
//! tunnel's queries went unseen.

use std::net::Ipv4Addr;

use super::super::frame::{dns_query, dns_response, dns_tcp, flags, tcp_segment, udp};
use super::super::payload;
use super::super::rng::Rng;
use super::super::timeline::Timeline;
use super::super::Scenario;
use super::evasions::{base32_label, office_host, txt_rdata, Background, RESOLVER, SEC, START, TYPE_TXT};
use super::talk::{ephemeral_port, MS, TYPE_A, US};

/// Where these scenarios sit in time: three days after [`super::evasions`].
const DAY: i64 = START + 3 * 24 * 3600 * SEC;
const TYPE_DNSKEY: u16 = 48;
const TYPE_RRSIG: u16 = 46;
const TYPE_AXFR: u16 = 252;
/// What a TCP segment carries at most on Ethernet (MSS 1460 less 12 bytes of timestamps).
const MSS: usize = 1448;

/// One TCP connection to port 53, segment by segment, every packet
/// labelled tunnel or not.
struct Conn {
    client: Ipv4Addr,
    server: Ipv4Addr,
    sport: u16,
    /// Next sequence number of the client and of the server.
    seq: [u32; 2],
    tunnel: bool,
}

impl Conn {
    /// The handshake (3 packets), the first after `gap`.
    fn open(tl: &mut Timeline, (client, server): (Ipv4Addr, Ipv4Addr), tunnel: bool, gap: i64) -> Conn {
        let sport = ephemeral_port(tl);
        let isn = [tl.rng.next_u64() as u32, tl.rng.next_u64() as u32];
        let mut c = Conn { client, server, sport, seq: isn, tunnel };
        c.push(tl, true, flags::SYN, gap, &[]);
        let gap = tl.rng.range_i64(300 * US, 20 * MS);
        c.push(tl, false, flags::SYN | flags::ACK, gap, &[]);
        c.push(tl, true, flags::ACK, 40 * US, &[]);
        c
    }

    /// One segment from the client (`from_client`) or the server; the
    /// sequence number moves on by its data (and by one for SYN or FIN).
    fn push(&mut self, tl: &mut Timeline, from_client: bool, f: u8, gap: i64, data: &[u8]) {
        let side = usize::from(!from_client);
        let seq = self.seq.get(side).copied().unwrap_or(0);
        self.segment(tl, from_client, f, gap, seq, data);
        let used = data.len() as u32 + u32::from(f & (flags::SYN | flags::FIN) != 0);
        if let Some(s) = self.seq.get_mut(side) {
            *s = seq.wrapping_add(used);
        }
    }

    /// A segment at sequence number `seq`, moving nothing on (a retransmission).
    fn segment(&self, tl: &mut Timeline, from_client: bool, f: u8, gap: i64, seq: u32, data: &[u8]) {
        let ack = self.seq.get(usize::from(from_client)).copied().unwrap_or(0);
        let f = if f == flags::SYN { f } else { f | flags::ACK };
        let frame = match from_client {
            true => tcp_segment(self.client, self.server, (self.sport, 53), f, (seq, ack), data),
            false => tcp_segment(self.server, self.client, (53, self.sport), f, (seq, ack), data),
        };
        match self.tunnel {
            true => tl.push_tunnel(gap, "dns over tcp (tunnel)", |_| frame),
            false => tl.push_frame(gap, "dns over tcp", frame),
        }
    }

    /// Data from one side cut into segments of at most [`MSS`] bytes.
    fn send(&mut self, tl: &mut Timeline, from_client: bool, gap: i64, data: &[u8]) {
        for (i, chunk) in data.chunks(MSS).enumerate() {
            let gap = if i == 0 { gap } else { tl.rng.range_i64(5 * US, 60 * US) };
            self.push(tl, from_client, flags::PSH, gap, chunk);
        }
    }

    /// FIN from the client, FIN from the server, the last ACK (3 packets).
    fn close(&mut self, tl: &mut Timeline, gap: i64) {
        self.push(tl, true, flags::FIN, gap, &[]);
        let gap = tl.rng.range_i64(200 * US, 5 * MS);
        self.push(tl, false, flags::FIN, gap, &[]);
        self.push(tl, true, 0, 40 * US, &[]);
    }
}

/// A DNS tunnel over TCP to its own server on port 53, as dnscat2 or a
/// tunnel behind a firewall that only lets TCP out: 10.20.0.71 opens two
/// connections to 198.51.100.71 and writes 60 queries into each (base32
/// names under `t.tcp-tun.example`, TXT and A), back to back, through a
/// stream writer whose segments never start where a message does: a
/// segment ends inside a length prefix (one byte of it sent, the other in
/// the next segment), inside a name, or after up to three whole queries
/// (pipelining, RFC 7766). Every seventh segment is sent again (a
/// retransmission), and once per connection two segments are sent again as
/// one. The server answers after each segment with the answers of the
/// queries it completed, in one segment, cut in two when long. Tunnel:
/// every packet of both connections. Caught by long encoded names
/// (7100101), unique subdomains (7100102) and data records (7100103), which
/// saw none of these queries before reassembly.
pub fn dns_tcp_tunnel() -> Scenario {
    let mut tl = Timeline::new(DAY, 0x7c9);
    let mut bg = Background::new();
    let pair = (office_host(71), Ipv4Addr::new(198, 51, 100, 71));
    let mut labels = Rng::new(0x7c90);
    for _ in 0..2 {
        bg.step(&mut tl, 100 * MS, 400 * MS);
        let mut conn = Conn::open(&mut tl, pair, true, 300 * MS);
        let mut queries = Vec::new();
        let mut answers = Vec::new();
        for i in 0..60u32 {
            let name = format!("{}.{}.t.tcp-tun.example", base32_label(&mut labels, 48), base32_label(&mut labels, 16));
            let id = tl.rng.next_u64() as u16;
            let (qtype, rdata) = match i % 2 {
                0 => (TYPE_TXT, txt_rdata(base32_label(&mut labels, 200).as_bytes())),
                _ => (TYPE_A, vec![198, 51, 100, (i % 250) as u8 + 1]),
            };
            queries.push(dns_tcp(&dns_query(id, &name, qtype)));
            answers.push(dns_tcp(&dns_response(id, &name, qtype, &[(qtype, &rdata)])));
        }
        // Where each segment ends: inside message k's prefix (k % 4 == 0),
        // inside its name (k % 4 == 1), or not in it at all (pipelined).
        let mut starts = Vec::new();
        let mut stream = Vec::new();
        for q in &queries {
            starts.push(stream.len());
            stream.extend_from_slice(q);
        }
        let mut cuts = Vec::new();
        for (k, &start) in starts.iter().enumerate() {
            match k % 4 {
                0 => cuts.push(start + 1),
                1 => cuts.push(start + 2 + 12 + 1 + tl.rng.index(40)),
                _ => {}
            }
        }
        cuts.push(stream.len());
        let (mut from, mut answered, mut sent) = (0usize, 0usize, Vec::new());
        for (n, &to) in cuts.iter().enumerate() {
            let seq = conn.seq.first().copied().unwrap_or(0);
            let data = stream.get(from..to).unwrap_or_default();
            let gap = tl.rng.range_i64(20 * MS, 200 * MS);
            conn.push(&mut tl, true, flags::PSH, gap, data);
            sent.push((seq, from, to));
            if n % 7 == 6 {
                conn.segment(&mut tl, true, flags::PSH, 200 * MS, seq, data);
            }
            if n == 9 {
                // Two segments sent again as one (repacketized).
                if let (Some(&(seq, a, _)), Some(&(_, _, b))) = (sent.get(n - 1), sent.get(n)) {
                    let both = stream.get(a..b).unwrap_or_default();
                    conn.segment(&mut tl, true, flags::PSH, 250 * MS, seq, both);
                }
            }
            let done = starts.iter().zip(&queries).filter(|(s, q)| *s + q.len() <= to).count();
            if done > answered {
                let reply: Vec<u8> = answers.get(answered..done).unwrap_or_default().concat();
                let latency = tl.rng.range_i64(30 * MS, 90 * MS);
                match reply.len() > 400 {
                    true => {
                        let (a, b) = reply.split_at(reply.len() / 2 + 3);
                        conn.push(&mut tl, false, flags::PSH, latency, a);
                        conn.push(&mut tl, false, flags::PSH, 50 * US, b);
                    }
                    false => conn.push(&mut tl, false, flags::PSH, latency, &reply),
                }
                answered = done;
            }
            from = to;
        }
        conn.close(&mut tl, 100 * MS);
    }
    tl.finish("dns_tcp_tunnel")
}

/// A VPN on TCP port 53, the port firewalls leave open for DNS (OpenVPN
/// over TCP frames each packet with a 2-byte length, as DNS does):
/// 10.20.0.72 and 198.51.100.72 exchange 150 packets each way (an opcode and
/// key id, a packet id, encrypted bytes). Nothing in the stream decodes as
/// DNS. Tunnel: every packet of the connection. Caught by TCP to port 53 that
/// is not DNS (7100108).
pub fn non_dns_on_tcp_53() -> Scenario {
    let mut tl = Timeline::new(DAY + 3600 * SEC, 0x7ca);
    let mut bg = Background::new();
    let pair = (office_host(72), Ipv4Addr::new(198, 51, 100, 72));
    let mut conn = Conn::open(&mut tl, pair, true, 200 * MS);
    for i in 1..=150u32 {
        if i % 10 == 0 {
            bg.step(&mut tl, 20 * MS, 80 * MS);
        }
        let len = tl.rng.range_i64(60, 1200) as usize;
        let body = payload::random(len, u64::from(i) + 0x7ca0);
        let up = dns_tcp(&[&[0x48][..], &i.to_be_bytes(), &body].concat());
        let gap = tl.rng.range_i64(10 * MS, 60 * MS);
        conn.push(&mut tl, true, flags::PSH, gap, &up);
        let down =
            dns_tcp(&[&[0x48][..], &(i | 0x8000_0000).to_be_bytes(), body.get(..len / 2).unwrap_or(&body)].concat());
        let gap = tl.rng.range_i64(5 * MS, 30 * MS);
        conn.push(&mut tl, false, flags::PSH, gap, &down);
    }
    conn.close(&mut tl, 100 * MS);
    tl.finish("non_dns_on_tcp_53")
}

/// A TXT answer of `strings` character-strings of 200 bytes of SPF-like text.
fn long_txt(rng: &mut Rng, strings: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..strings {
        let text: String = (0..5).map(|_| format!("include:_spf{}.mail-relay.example ", rng.range(10, 99))).collect();
        out.extend(txt_rdata(text.as_bytes()));
    }
    out
}

/// Benign DNS over TCP: workstations 10.20.0.73-77 look up names whose
/// answers do not fit a UDP datagram (long SPF TXT sets, a round-robin pool
/// of 120 addresses): the resolver answers with TC=1 and they ask again
/// over TCP, some writing the length prefix and the message in two segments
/// (as older BIND does); 10.20.0.78 validates DNSSEC and fetches 4 KB DNSKEY
/// sets with their signatures; 10.20.0.79 keeps one connection open and
/// pipelines three lookups per segment (RFC 7766); the secondary name
/// server 10.20.0.3 transfers the zone `corp.example` (AXFR) from the
/// primary 10.20.0.4: six messages of 150 records, written back to back and
/// cut at the MSS, so segments start anywhere in a message. Nothing here is
/// a tunnel.
pub fn benign_dns_over_tcp() -> Scenario {
    let mut tl = Timeline::new(DAY + 2 * 3600 * SEC, 0x7cb);
    let mut bg = Background::new();
    let mut rng = Rng::new(0x7cb0);
    let names = ["corp-mail.example", "newsletter-sender.example.org", "pool.ntp-servers.example"];
    for i in 0..30usize {
        bg.step(&mut tl, 100 * MS, 400 * MS);
        let client = office_host(73 + (i % 5) as u8);
        let name = names.get(i % names.len()).copied().unwrap_or("example.com");
        let (qtype, answer) = match i % 3 {
            2 => {
                let addrs: Vec<Vec<u8>> = (0..120).map(|k| vec![192, 0, 2, k as u8 + 1]).collect();
                (TYPE_A, addrs)
            }
            _ => (TYPE_TXT, vec![long_txt(&mut rng, 8)]),
        };
        let id = tl.rng.next_u64() as u16;
        let sport = ephemeral_port(&mut tl);
        tl.push_frame(300 * MS, "dns query", udp(client, RESOLVER, sport, 53, &dns_query(id, name, qtype)));
        let mut truncated = dns_response(id, name, qtype, &[]);
        if let Some(b) = truncated.get_mut(2) {
            *b |= 0x02; // TC: ask again over TCP
        }
        let gap = tl.rng.range_i64(2 * MS, 30 * MS);
        tl.push_frame(gap, "dns answer (truncated)", udp(RESOLVER, client, 53, sport, &truncated));
        let mut conn = Conn::open(&mut tl, (client, RESOLVER), false, 200 * US);
        let query = dns_tcp(&dns_query(id, name, qtype));
        if i % 2 == 0 {
            conn.push(&mut tl, true, flags::PSH, 60 * US, query.get(..2).unwrap_or_default());
            conn.push(&mut tl, true, flags::PSH, 20 * US, query.get(2..).unwrap_or_default());
        } else {
            conn.push(&mut tl, true, flags::PSH, 60 * US, &query);
        }
        let records: Vec<(u16, &[u8])> = answer.iter().map(|r| (qtype, r.as_slice())).collect();
        let gap = tl.rng.range_i64(2 * MS, 30 * MS);
        conn.send(&mut tl, false, gap, &dns_tcp(&dns_response(id, name, qtype, &records)));
        conn.close(&mut tl, 300 * US);
    }
    // DNSSEC: DNSKEY sets (4 keys of 260 bytes and 3 signatures), about 4 KB.
    for zone in ["example.org", "corp.example", "partner.example.net", "example.com"] {
        bg.step(&mut tl, 100 * MS, 400 * MS);
        let id = tl.rng.next_u64() as u16;
        let keys: Vec<Vec<u8>> = (0..4).map(|k| payload::random(260, rng.next_u64() ^ k)).collect();
        let sigs: Vec<Vec<u8>> = (0..3).map(|k| payload::random(280, rng.next_u64() ^ k)).collect();
        let mut records: Vec<(u16, &[u8])> = keys.iter().map(|k| (TYPE_DNSKEY, k.as_slice())).collect();
        records.extend(sigs.iter().map(|s| (TYPE_RRSIG, s.as_slice())));
        let mut conn = Conn::open(&mut tl, (office_host(78), RESOLVER), false, 200 * MS);
        conn.push(&mut tl, true, flags::PSH, 60 * US, &dns_tcp(&dns_query(id, zone, TYPE_DNSKEY)));
        let gap = tl.rng.range_i64(5 * MS, 40 * MS);
        conn.send(&mut tl, false, gap, &dns_tcp(&dns_response(id, zone, TYPE_DNSKEY, &records)));
        conn.close(&mut tl, 300 * US);
    }
    // A stub that pipelines: three lookups per segment on one connection.
    let everyday =
        ["github.com", "www.wikipedia.org", "slack.com", "pypi.org", "outlook.office.com", "mail.corp.example"];
    let mut conn = Conn::open(&mut tl, (office_host(79), RESOLVER), false, 300 * MS);
    for round in 0..10usize {
        let ids: Vec<u16> = (0..3).map(|_| tl.rng.next_u64() as u16).collect();
        let picked: Vec<&str> =
            (0..3).map(|k| everyday.get((round + 2 * k) % everyday.len()).copied().unwrap_or("slack.com")).collect();
        let queries: Vec<u8> =
            ids.iter().zip(&picked).flat_map(|(&id, name)| dns_tcp(&dns_query(id, name, TYPE_A))).collect();
        let gap = tl.rng.range_i64(200 * MS, 900 * MS);
        conn.push(&mut tl, true, flags::PSH, gap, &queries);
        let answers: Vec<u8> = ids
            .iter()
            .zip(&picked)
            .flat_map(|(&id, name)| dns_tcp(&dns_response(id, name, TYPE_A, &[(TYPE_A, &[140, 82, 121, 4][..])])))
            .collect();
        let gap = tl.rng.range_i64(3 * MS, 30 * MS);
        conn.push(&mut tl, false, flags::PSH, gap, &answers);
    }
    conn.close(&mut tl, 500 * MS);
    // A zone transfer: six messages of 150 A records, back to back.
    bg.step(&mut tl, 100 * MS, 400 * MS);
    let id = tl.rng.next_u64() as u16;
    let mut conn = Conn::open(&mut tl, (office_host(3), office_host(4)), false, 300 * MS);
    conn.push(&mut tl, true, flags::PSH, 60 * US, &dns_tcp(&dns_query(id, "corp.example", TYPE_AXFR)));
    let mut zone = Vec::new();
    for m in 0..6u8 {
        let addrs: Vec<[u8; 4]> = (0..150u8).map(|k| [10, 20, m, k]).collect();
        let records: Vec<(u16, &[u8])> = addrs.iter().map(|a| (TYPE_A, &a[..])).collect();
        zone.extend(dns_tcp(&dns_response(id, "corp.example", TYPE_AXFR, &records)));
    }
    conn.send(&mut tl, false, 2 * MS, &zone);
    conn.close(&mut tl, MS);
    tl.finish("benign_dns_over_tcp")
}

/// Every DNS-over-TCP scenario: the tunnels, then the benign one.
pub fn dns_tcp_evasions() -> Vec<Scenario> {
    vec![dns_tcp_tunnel(), non_dns_on_tcp_53(), benign_dns_over_tcp()]
}
