//! DNS evasion scenarios: tunnels that hide behind what the DNS rules forgive
//! (allowlisted suffixes, reverse-lookup zones, underscore service labels,
//! machine-made label shapes), and benign traffic built from those shapes,
//! each labelled per packet like [`super::evasions`].
//!
//! Tunnels: [`allowlisted_suffix_dns_tunnel`], [`reverse_name_dns_tunnel`],
//! [`underscore_label_dns_tunnel`], [`uuid_label_dns_tunnel`],
//! [`non_dns_on_port_53`]. Benign:
//! [`benign_service_names`], [`benign_machine_names`]. [`dns_evasions`] returns them all.

use std::net::Ipv4Addr;

use super::super::frame::{dns_query, dns_response, udp};
use super::super::payload;
use super::super::rng::Rng;
use super::super::timeline::Timeline;
use super::super::Scenario;
use super::evasions::nth;
use super::evasions::{
    base32_label, hex_label, office_host, txt_rdata, Background, RESOLVER, SEC, START, TYPE_NULL, TYPE_PTR, TYPE_TXT,
};
use super::talk::{dns_lookup, ephemeral_port, MS, TYPE_A};

const TYPE_SRV: u16 = 33;
const TYPE_TLSA: u16 = 52;

/// Where these scenarios sit in time: a day after [`super::evasions`].
const DAY: i64 = START + 24 * 3600 * SEC;

/// A query from `client` straight to `server` and the server's answer of
/// `qtype` with `rdata`, both labelled tunnel (2 packets).
fn direct_lookup(
    tl: &mut Timeline,
    (client, server): (Ipv4Addr, Ipv4Addr),
    name: &str,
    qtype: u16,
    rdata: &[u8],
    gap: i64,
) {
    let id = tl.rng.next_u64() as u16;
    let sport = ephemeral_port(tl);
    let query = udp(client, server, sport, 53, &dns_query(id, name, qtype));
    tl.push_tunnel(gap, "dns tunnel query", |_| query);
    let response = udp(server, client, 53, sport, &dns_response(id, name, qtype, &[(qtype, rdata)]));
    let latency = tl.rng.range_i64(20 * MS, 80 * MS);
    tl.push_tunnel(latency, "dns tunnel response", |_| response);
}

/// Tunnels whose names sit under allowlisted suffixes but which talk straight
/// to their own server on port 53, where no CDN answers: 10.20.0.81 sends 120
/// queries for base32 names under `d3k1x.cloudfront.net` to 198.51.100.53
/// (A, TXT and NULL), and 10.20.0.82 sends 120 hex names under `sync.local`
/// (unicast `.local` on port 53, which mDNS never uses) to 203.0.113.53.
/// Tunnel: those 480 packets. Caught by long encoded names (7100101), unique
/// subdomains (7100102) and NULL queries (7100104), none silenced by the name
/// allowlist off the path to the site's resolvers.
pub fn allowlisted_suffix_dns_tunnel() -> Scenario {
    let mut tl = Timeline::new(DAY, 0xa11);
    let mut bg = Background::new();
    let cdn = (office_host(81), Ipv4Addr::new(198, 51, 100, 53));
    let local = (office_host(82), Ipv4Addr::new(203, 0, 113, 53));
    let mut labels = Rng::new(0xc0f);
    for i in 0..120u32 {
        if i % 4 == 0 {
            bg.step(&mut tl, 20 * MS, 80 * MS);
        }
        let name = format!("{}.{}.d3k1x.cloudfront.net", base32_label(&mut labels, 40), base32_label(&mut labels, 12));
        let gap = tl.rng.range_i64(200 * MS, 600 * MS);
        match i % 3 {
            0 => direct_lookup(&mut tl, cdn, &name, TYPE_A, &[198, 51, 100, (i % 250) as u8 + 1], gap),
            1 => {
                let text = hex_label(&mut labels, 120);
                direct_lookup(&mut tl, cdn, &name, TYPE_TXT, &txt_rdata(text.as_bytes()), gap);
            }
            _ => {
                let data = payload::random(180, tl.rng.next_u64());
                direct_lookup(&mut tl, cdn, &name, TYPE_NULL, &data, gap);
            }
        }
        let name = format!("{}.{}.sync.local", hex_label(&mut labels, 48), hex_label(&mut labels, 16));
        let gap = tl.rng.range_i64(200 * MS, 600 * MS);
        direct_lookup(&mut tl, local, &name, TYPE_A, &[203, 0, 113, (i % 250) as u8 + 1], gap);
    }
    tl.finish("allowlisted_suffix_dns_tunnel")
}

/// A tunnel in PTR-looking names: 10.20.0.84 asks the resolver for 150 PTR
/// records of names made of four 7-character hex labels under `in-addr.arpa`
/// (`a3f09c1.77be2d0.c0ffee1.5d2e0b9.in-addr.arpa`), which a rule trusting
/// short labels in reverse zones passes, two a second. Tunnel: the 150
/// queries and their answers. Caught by reverse-zone names that are not
/// addresses (7100105).
pub fn reverse_name_dns_tunnel() -> Scenario {
    let mut tl = Timeline::new(DAY + 3600 * SEC, 0x9e7);
    let mut bg = Background::new();
    let client = office_host(84);
    let mut labels = Rng::new(0x1a2);
    for i in 0..150u32 {
        if i % 5 == 0 {
            bg.step(&mut tl, 20 * MS, 80 * MS);
        }
        let parts: Vec<String> = (0..4).map(|_| hex_label(&mut labels, 7)).collect();
        let name = format!("{}.in-addr.arpa", parts.join("."));
        let mut answer = vec![u8::try_from(name.len()).unwrap_or(63).min(63)];
        answer.extend(name.bytes().take(63));
        answer.push(0);
        let gap = tl.rng.range_i64(300 * MS, 700 * MS);
        direct_lookup(&mut tl, (client, RESOLVER), &name, TYPE_PTR, &answer, gap);
    }
    tl.finish("reverse_name_dns_tunnel")
}

/// A tunnel that adds an underscore label to every name, which used to turn
/// off the name rules as if it were a DKIM or SRV name: 10.20.0.86 asks the
/// resolver for 120 A records of `<40 base32>._x.<12 base32>.tun-relay.net`
/// and 60 TXT records of `<9 base32>._t.relay-data.org`. Tunnel: those 360
/// packets. Caught by long encoded names (7100101) and data records per
/// domain (7100103).
pub fn underscore_label_dns_tunnel() -> Scenario {
    let mut tl = Timeline::new(DAY + 2 * 3600 * SEC, 0x5f5f);
    let mut bg = Background::new();
    let client = (office_host(86), RESOLVER);
    let mut labels = Rng::new(0x77a);
    for i in 0..120u32 {
        if i % 4 == 0 {
            bg.step(&mut tl, 20 * MS, 80 * MS);
        }
        let name = format!("{}._x.{}.tun-relay.net", base32_label(&mut labels, 40), base32_label(&mut labels, 12));
        let gap = tl.rng.range_i64(200 * MS, 500 * MS);
        direct_lookup(&mut tl, client, &name, TYPE_A, &[198, 51, 100, (i % 250) as u8 + 1], gap);
        if i % 2 == 0 {
            let name = format!("{}._t.relay-data.org", base32_label(&mut labels, 9));
            let text = hex_label(&mut labels, 100);
            direct_lookup(&mut tl, client, &name, TYPE_TXT, &txt_rdata(text.as_bytes()), gap / 2);
        }
    }
    tl.finish("underscore_label_dns_tunnel")
}

/// Benign: names with service labels in their usual places. Domain
/// controllers' SRV records (`_ldap._tcp.dc._msdcs.corp.example`, per site),
/// SIP and XMPP SRV lookups, DANE TLSA (`_25._tcp.mx1...`), TLS reporting
/// (`_smtp._tls`), MTA-STS, DMARC, SPF (`_spf`), DKIM with random-looking
/// selectors (Amazon SES's 32-character ones) and BIMI, ACME challenges for
/// long host names, DNS-SD browsing in a reverse zone, asked by 12
/// workstations and a mail server for 10 minutes. Nothing here is a tunnel.
pub fn benign_service_names() -> Scenario {
    let mut tl = Timeline::new(DAY + 3 * 3600 * SEC, 0x5e7);
    let mut bg = Background::new();
    let mail = office_host(25);
    let hosts: Vec<Ipv4Addr> = (120..132).map(office_host).collect();
    let mut names = Rng::new(0x4d2);
    let fixed = [
        "_ldap._tcp.dc._msdcs.corp.example",
        "_kerberos._tcp.dc._msdcs.corp.example",
        "_ldap._tcp.Default-First-Site-Name._sites.dc._msdcs.corp.example",
        "_kerberos._udp.corp.example",
        "_gc._tcp.corp.example",
        "_ldap._tcp.pdc._msdcs.corp.example",
        "_sip._udp.partner-voice.example.com",
        "_sipfederationtls._tcp.partner-voice.example.com",
        "_xmpp-client._tcp.chat.example.org",
        "_autodiscover._tcp.corp.example",
        "b._dns-sd._udp.0.20.10.in-addr.arpa",
        "lb._dns-sd._udp.0.20.10.in-addr.arpa",
        "db._dns-sd._udp.corp.example",
    ];
    for i in 0..300usize {
        if i % 4 == 0 {
            bg.step(&mut tl, 20 * MS, 80 * MS);
        }
        let gap = tl.rng.range_i64(500 * MS, 1_500 * MS);
        let sender = format!("news.sender{}-mail.example", i % 60);
        let (client, name, qtype) = match i % 8 {
            0 | 1 => (host(&hosts, i), nth(&fixed, i / 2).to_string(), TYPE_SRV),
            2 => (mail, format!("{}._domainkey.amazonses.com", base32_label(&mut names, 32)), TYPE_TXT),
            3 => (mail, format!("_dmarc.{sender}"), TYPE_TXT),
            4 => (mail, format!("_25._tcp.mx{}.{sender}", 1 + i % 2), TYPE_TLSA),
            5 => {
                let prefix = nth(&["_mta-sts", "_smtp._tls", "_spf", "default._bimi"], i / 8);
                (mail, format!("{prefix}.{sender}"), TYPE_TXT)
            }
            6 => (mail, format!("s{}._domainkey.{sender}", 1024 + i % 3), TYPE_TXT),
            _ => {
                let agent = format!("build-agent-{}-westeurope", names.range(10, 99));
                (host(&hosts, i), format!("_acme-challenge.{agent}.ci.shop.example.org"), TYPE_TXT)
            }
        };
        dns_lookup(&mut tl, client, RESOLVER, &name, qtype, gap);
    }
    tl.finish("benign_service_names")
}

/// Host `i` of a list, cycling (the resolver for an empty list).
fn host(hosts: &[Ipv4Addr], i: usize) -> Ipv4Addr {
    *hosts.get(i % hosts.len().max(1)).unwrap_or(&RESOLVER)
}

/// A UUID, `8-4-4-4-12` lowercase hex digits.
fn uuid(rng: &mut Rng) -> String {
    let h = hex_label(rng, 32);
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

/// Benign: machine-made names of well-known shapes, under domains no
/// allowlist names. Azure Monitor agents on 6 servers reach their workspace
/// (`<uuid>.ods.opinsights.azure.com`, `<uuid>.oms.opinsights.azure.com`);
/// a mail server checks 40 hashed sender addresses (`<md5>.ebl.msbl.org`),
/// 30 reversed client IPs against a DNSBL under a private list, and 25
/// attachment hashes (`<sha1>.hashlookup.example.net`); workstations resolve
/// printers by their factory names (`NPI3C2AF4`, `BRW0080927AFBCE`) and a
/// build server reaches Kubernetes pods by name
/// (`payments-api-7d9f8b6c5d-x2k4q.payments.svc.cluster.example`). Nothing
/// here is a tunnel.
pub fn benign_machine_names() -> Scenario {
    let mut tl = Timeline::new(DAY + 4 * 3600 * SEC, 0x1de);
    let mut bg = Background::new();
    let mail = office_host(25);
    let servers: Vec<Ipv4Addr> = (140..146).map(office_host).collect();
    let workstations: Vec<Ipv4Addr> = (150..158).map(office_host).collect();
    let build = office_host(160);
    let mut names = Rng::new(0x3e3);
    let workspaces: Vec<String> = (0..3).map(|_| uuid(&mut names)).collect();
    let printers = ["NPI3C2AF4", "BRW0080927AFBCE", "BRN30055C8E1F2A", "SEC30CDA7B2E0D1", "XRX9C934E5A0B17"];
    let pods: Vec<String> = (0..6)
        .map(|i| {
            format!(
                "{}-{}-{}",
                nth(&["payments-api", "web", "search-indexer"], i),
                k8s(&mut names, 10),
                k8s(&mut names, 5)
            )
        })
        .collect();
    for i in 0..240usize {
        if i % 4 == 0 {
            bg.step(&mut tl, 20 * MS, 80 * MS);
        }
        let gap = tl.rng.range_i64(300 * MS, 1_200 * MS);
        let (client, name) = match i % 6 {
            0 => (
                host(&servers, i / 6),
                format!("{}.{}.opinsights.azure.com", nth(&workspaces, i / 6), nth(&["ods", "oms"], i / 12)),
            ),
            1 => (mail, format!("{}.ebl.msbl.org", hex_label(&mut names, 32))),
            2 => {
                let [a, b, c, d] = names.next_u64().to_le_bytes()[..4].try_into().unwrap_or([192, 0, 2, 1]);
                (mail, format!("{d}.{c}.{b}.{a}.dnsbl.mail-reputation.example"))
            }
            3 => (mail, format!("{}.hashlookup.example.net", hex_label(&mut names, 40))),
            4 => (host(&workstations, i / 6), format!("{}.printers.office.corp.example", nth(&printers, i / 6))),
            _ => (build, format!("{}.payments.svc.cluster.example", nth(&pods, i / 6))),
        };
        dns_lookup(&mut tl, client, RESOLVER, &name, TYPE_A, gap);
    }
    tl.finish("benign_machine_names")
}

/// `len` characters of Kubernetes' vowel-free name alphabet.
fn k8s(rng: &mut Rng, len: usize) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    (0..len).map(|_| char::from(*rng.pick(ALPHABET).unwrap_or(&b'b'))).collect()
}

/// A tunnel that writes its data as UUID labels, one per name, so each name
/// looks like an agent's workspace id: 10.20.0.88 asks for 300 different
/// `<uuid>.sync.cloud-telemetry.net` names, four a second. Tunnel: the 300
/// queries and their answers. Caught by unique subdomains per domain
/// (7100102), whatever the shape of each name.
pub fn uuid_label_dns_tunnel() -> Scenario {
    let mut tl = Timeline::new(DAY + 5 * 3600 * SEC, 0x0a1d);
    let mut bg = Background::new();
    let client = (office_host(88), RESOLVER);
    let mut labels = Rng::new(0xbee);
    for i in 0..300u32 {
        if i % 8 == 0 {
            bg.step(&mut tl, 20 * MS, 80 * MS);
        }
        let name = format!("{}.sync.cloud-telemetry.net", uuid(&mut labels));
        let gap = tl.rng.range_i64(150 * MS, 350 * MS);
        direct_lookup(&mut tl, client, &name, TYPE_A, &[203, 0, 113, (i % 250) as u8 + 1], gap);
    }
    tl.finish("uuid_label_dns_tunnel")
}

/// A tunnel that uses port 53 without speaking DNS: 10.20.0.89 runs a VPN
/// over UDP to 198.51.100.89:53, the port firewalls leave open for DNS, as
/// OpenVPN and WireGuard setups on port 53 do: a 1-byte opcode and key id,
/// a packet id, then encrypted bytes, 200 packets each way. No DNS rule sees
/// it, since nothing decodes as DNS. Caught by traffic on port 53 that is not
/// DNS (7100107).
pub fn non_dns_on_port_53() -> Scenario {
    let mut tl = Timeline::new(DAY + 6 * 3600 * SEC, 0x5353);
    let mut bg = Background::new();
    let (client, server) = (office_host(89), Ipv4Addr::new(198, 51, 100, 89));
    let sport = ephemeral_port(&mut tl);
    for i in 0..200u32 {
        if i % 10 == 0 {
            bg.step(&mut tl, 20 * MS, 80 * MS);
        }
        let len = tl.rng.range_i64(60, 1200) as usize;
        let body = payload::random(len, u64::from(i) + 0x5353);
        let up: Vec<u8> = [&[0x48][..], &i.to_be_bytes(), &body].concat();
        let gap = tl.rng.range_i64(10 * MS, 60 * MS);
        tl.push_tunnel(gap, "vpn over port 53", |_| udp(client, server, sport, 53, &up));
        let down: Vec<u8> =
            [&[0x48][..], &(i | 0x8000_0000).to_be_bytes(), body.get(..len / 2).unwrap_or(&body)].concat();
        let gap = tl.rng.range_i64(5 * MS, 30 * MS);
        tl.push_tunnel(gap, "vpn over port 53 reply", |_| udp(server, client, 53, sport, &down));
    }
    tl.finish("non_dns_on_port_53")
}

/// Every DNS evasion scenario: the tunnels, then the benign ones.
pub fn dns_evasions() -> Vec<Scenario> {
    vec![
        allowlisted_suffix_dns_tunnel(),
        reverse_name_dns_tunnel(),
        underscore_label_dns_tunnel(),
        uuid_label_dns_tunnel(),
        non_dns_on_port_53(),
        benign_service_names(),
        benign_machine_names(),
    ]
}
