//! Where a network or local-socket output sends its events, as the config and
//! the command line name it: Redis (`redis://host:port/key?mode=...`), a Unix
//! socket (datagram or stream), syslog (a Unix socket such as `/dev/log`, or a
//! UDP address). Also the event types an output takes, and syslog's framing.

use std::fmt;
use std::path::PathBuf;

use crate::output::remote::{RemoteSpec, DEFAULT_BUFFER};
use crate::output::resp::Mode;

/// The event types an output writes (`types: [alert, stats, engine]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Types {
    /// `alert` events.
    pub alert: bool,
    /// Periodic `stats` events.
    pub stats: bool,
    /// `engine` events (rule reloads).
    pub engine: bool,
}

impl Default for Types {
    /// Every type, as the EVE file writes.
    fn default() -> Types {
        Types { alert: true, stats: true, engine: true }
    }
}

impl Types {
    /// No type (the start of a list being read).
    pub const NONE: Types = Types { alert: false, stats: false, engine: false };

    /// The type names `add` takes, for messages.
    pub const NAMES: &'static str = "`alert`, `stats`, `engine`";

    /// Adds the type called `name`; false if there is none of that name.
    pub fn add(&mut self, name: &str) -> bool {
        match name {
            "alert" => self.alert = true,
            "stats" => self.stats = true,
            "engine" => self.engine = true,
            _ => return false,
        }
        true
    }
}

/// Default Redis port.
pub const REDIS_PORT: u16 = 6379;
/// Default Redis key (Suricata's, so a collector already reading Suricata finds ferret's events).
pub const REDIS_KEY: &str = "suricata";

/// Where events go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A Redis server.
    Redis {
        /// Host name or address.
        server: String,
        /// TCP port.
        port: u16,
        /// The list, channel or stream.
        key: String,
        /// How events are stored.
        mode: Mode,
    },
    /// A Unix datagram socket: one event per datagram (Suricata's `unix_dgram`).
    UnixDgram(PathBuf),
    /// A Unix stream socket: one event per line (Suricata's `unix_stream`).
    UnixStream(PathBuf),
    /// Syslog.
    Syslog {
        /// A Unix datagram socket (`/dev/log`) or a UDP `host:port`.
        dest: SyslogDest,
        /// The message format.
        format: SyslogFormat,
        /// The facility number (local5 is 21, Suricata's default).
        facility: u8,
    },
}

/// Where syslog messages go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyslogDest {
    /// A local syslog daemon's datagram socket.
    Unix(PathBuf),
    /// A UDP `host:port`.
    Udp(String),
}

/// Syslog message formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyslogFormat {
    /// RFC 5424: `<PRI>1 TIMESTAMP HOST ferret PID - - MSG`.
    Rfc5424,
    /// RFC 3164 (BSD): `<PRI>Mmm dd hh:mm:ss HOST ferret[PID]: MSG`; the host is left out on a local socket, as syslog(3) does.
    Rfc3164,
}

impl SyslogFormat {
    /// Reads `rfc5424` or `rfc3164`.
    pub fn parse(s: &str) -> Option<SyslogFormat> {
        match s.to_ascii_lowercase().as_str() {
            "rfc5424" | "5424" => Some(SyslogFormat::Rfc5424),
            "rfc3164" | "3164" | "bsd" => Some(SyslogFormat::Rfc3164),
            _ => None,
        }
    }
}

/// Syslog facility names and numbers.
const FACILITIES: &[(&str, u8)] = &[
    ("kern", 0),
    ("user", 1),
    ("mail", 2),
    ("daemon", 3),
    ("auth", 4),
    ("syslog", 5),
    ("lpr", 6),
    ("news", 7),
    ("uucp", 8),
    ("cron", 9),
    ("authpriv", 10),
    ("ftp", 11),
    ("local0", 16),
    ("local1", 17),
    ("local2", 18),
    ("local3", 19),
    ("local4", 20),
    ("local5", 21),
    ("local6", 22),
    ("local7", 23),
];

/// The facility called `name` (`local5`, `daemon`, ...).
pub fn facility(name: &str) -> Option<u8> {
    FACILITIES.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, f)| *f)
}

/// Syslog severity of every event: informational, as Suricata's default `level: Info`.
const SEVERITY_INFO: u8 = 6;

/// Appends a syslog header for one message sent now (`now_nanos`, UTC);
/// `host` is left out of RFC 3164 messages when `None`.
pub fn syslog_header(format: SyslogFormat, facility: u8, now_nanos: i64, host: Option<&str>, out: &mut Vec<u8>) {
    use std::io::Write;
    let pri = u16::from(facility) * 8 + u16::from(SEVERITY_INFO);
    let pid = std::process::id();
    match format {
        SyslogFormat::Rfc5424 => {
            let mut ts = String::with_capacity(32);
            crate::output::time::rfc3339_micros(now_nanos, &mut ts);
            let ts = ts.strip_suffix("+00:00").map_or(ts.clone(), |t| format!("{t}Z"));
            let _ = write!(out, "<{pri}>1 {ts} {} ferret {pid} - - ", host.unwrap_or("-"));
        }
        SyslogFormat::Rfc3164 => {
            const MONTHS: [&str; 12] =
                ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
            let mut ts = String::with_capacity(32);
            crate::output::time::rfc3339_micros(now_nanos, &mut ts);
            // YYYY-MM-DDThh:mm:ss...
            let month = ts.get(5..7).and_then(|m| m.parse::<usize>().ok()).unwrap_or(1);
            let day = ts.get(8..10).and_then(|d| d.parse::<u32>().ok()).unwrap_or(1);
            let time = ts.get(11..19).unwrap_or("00:00:00");
            let _ = write!(out, "<{pri}>{} {day:>2} {time} ", MONTHS.get((month + 11) % 12).unwrap_or(&"Jan"));
            if let Some(h) = host {
                let _ = write!(out, "{h} ");
            }
            let _ = write!(out, "ferret[{pid}]: ");
        }
    }
}

/// A `redis://` URL that cannot be used, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UrlError(pub String);

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UrlError {}

/// True if `s` is meant as a Redis URL (the caller then reports [`parse_redis_url`]'s errors).
pub fn is_redis_url(s: &str) -> bool {
    s.get(..8).is_some_and(|p| p.eq_ignore_ascii_case("redis://"))
}

/// Reads `redis://HOST[:PORT][/KEY][?mode=list|rpush|channel|stream][&types=alert,stats,engine][&buffer=N]`.
/// The port defaults to 6379, the key to `suricata`, the mode to `list`
/// (LPUSH), the types to all three, the buffer to 10000 events.
pub fn parse_redis_url(url: &str) -> Result<RemoteSpec, UrlError> {
    let err = |why: String| Err(UrlError(format!("{url}: {why}")));
    if !is_redis_url(url) {
        return err("a Redis URL starts with redis://".into());
    }
    let rest = &url[8..];
    let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (authority, key) = rest.split_once('/').unwrap_or((rest, ""));
    if authority.contains('@') {
        return err("a user or password in the URL is not supported (ferret does not send AUTH)".into());
    }
    let (server, port) = if let Some(v6) = authority.strip_prefix('[') {
        let Some((host, after)) = v6.split_once(']') else { return err("an IPv6 address needs its closing ]".into()) };
        match after.strip_prefix(':') {
            Some(p) => (host, Some(p)),
            None if after.is_empty() => (host, None),
            None => return err(format!("unexpected `{after}` after the address")),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if server.is_empty() {
        return err("no server named (redis://HOST:PORT/KEY)".into());
    }
    let port = match port {
        None => REDIS_PORT,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 => n,
            _ => return err(format!("`{p}` is not a port")),
        },
    };
    let key = match percent_decode(key) {
        Some(k) if k.is_empty() => REDIS_KEY.to_string(),
        Some(k) if k.contains('/') => return err(format!("`{k}` has a /; a key is one path segment")),
        Some(k) => k,
        None => return err(format!("`{key}` has a bad %-escape")),
    };
    let (mut mode, mut types, mut buffer) = (Mode::Lpush, Types::default(), DEFAULT_BUFFER);
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        match name {
            "mode" => match Mode::parse(value) {
                Some(m) => mode = m,
                None => return err(format!("unknown mode `{value}`, expected one of {}", Mode::NAMES)),
            },
            "types" => {
                types = Types::NONE;
                for t in value.split(',') {
                    if !types.add(t) {
                        return err(format!("unknown event type `{t}`, expected {}", Types::NAMES));
                    }
                }
            }
            "buffer" => match value.parse::<usize>() {
                Ok(n) if n > 0 => buffer = n,
                _ => return err(format!("buffer `{value}` is not a positive number of events")),
            },
            _ => return err(format!("unknown parameter `{name}` (mode, types and buffer are known)")),
        }
    }
    Ok(RemoteSpec { target: Target::Redis { server: server.to_string(), port, key, mode }, types, buffer })
}

fn percent_decode(s: &str) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        if b == b'%' {
            let hex = [bytes.next()?, bytes.next()?];
            out.push(u8::from_str_radix(std::str::from_utf8(&hex).ok()?, 16).ok()?);
        } else {
            out.push(b);
        }
    }
    String::from_utf8(out).ok()
}

impl fmt::Display for Target {
    /// The output's name in the stats and messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Redis { server, port, key, mode } if server.contains(':') => {
                write!(f, "redis://[{server}]:{port}/{key}?mode={}", mode.name())
            }
            Target::Redis { server, port, key, mode } => {
                write!(f, "redis://{server}:{port}/{key}?mode={}", mode.name())
            }
            Target::UnixDgram(p) => write!(f, "unix_dgram:{}", p.display()),
            Target::UnixStream(p) => write!(f, "unix_stream:{}", p.display()),
            Target::Syslog { dest: SyslogDest::Unix(p), .. } => write!(f, "syslog:{}", p.display()),
            Target::Syslog { dest: SyslogDest::Udp(a), .. } => write!(f, "syslog:udp://{a}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redis(server: &str, port: u16, key: &str, mode: Mode) -> RemoteSpec {
        RemoteSpec::new(Target::Redis { server: server.into(), port, key: key.into(), mode }, Types::default())
    }

    #[test]
    fn redis_urls_name_server_port_key_and_mode() {
        assert_eq!(
            parse_redis_url("redis://127.0.0.1:6380/alerts"),
            Ok(redis("127.0.0.1", 6380, "alerts", Mode::Lpush))
        );
        assert_eq!(parse_redis_url("redis://localhost"), Ok(redis("localhost", 6379, "suricata", Mode::Lpush)));
        assert_eq!(parse_redis_url("redis://h/"), Ok(redis("h", 6379, "suricata", Mode::Lpush)));
        assert_eq!(parse_redis_url("REDIS://h:1/k?mode=channel"), Ok(redis("h", 1, "k", Mode::Publish)));
        assert_eq!(parse_redis_url("redis://h/k?mode=stream"), Ok(redis("h", 6379, "k", Mode::Xadd)));
        assert_eq!(parse_redis_url("redis://h/k?mode=rpush"), Ok(redis("h", 6379, "k", Mode::Rpush)));
        assert_eq!(parse_redis_url("redis://[::1]:7000/a%20b"), Ok(redis("::1", 7000, "a b", Mode::Lpush)));
        assert_eq!(parse_redis_url("redis://[::1]/k"), Ok(redis("::1", 6379, "k", Mode::Lpush)));
        let spec = parse_redis_url("redis://h/k?types=alert,stats&mode=list&buffer=20").unwrap();
        assert_eq!(spec.types, Types { alert: true, stats: true, engine: false });
        assert_eq!(spec.buffer, 20);
    }

    #[test]
    fn bad_redis_urls_say_what_is_wrong() {
        let why = |url: &str| parse_redis_url(url).unwrap_err().0;
        assert_eq!(why("redis://h:99999/k"), "redis://h:99999/k: `99999` is not a port");
        assert_eq!(why("redis://h:0/k"), "redis://h:0/k: `0` is not a port");
        assert_eq!(why("redis:///k"), "redis:///k: no server named (redis://HOST:PORT/KEY)");
        assert!(why("redis://h/k?mode=queue").contains("unknown mode `queue`, expected one of `list`"));
        assert!(why("redis://h/k?types=alert,flow").contains("unknown event type `flow`"));
        assert!(why("redis://h/k?db=2").contains("unknown parameter `db`"));
        assert!(why("redis://h/k?buffer=0").contains("not a positive number"));
        assert!(why("redis://user:pw@h/k").contains("AUTH"));
        assert!(why("redis://h/a/b").contains("one path segment"));
        assert!(why("redis://h/%zz").contains("bad %-escape"));
        assert!(why("redis://[::1/k").contains("closing ]"));
        assert!(why("http://h/k").contains("starts with redis://"));
    }

    #[test]
    fn targets_print_as_urls_that_read_back() {
        for url in ["redis://127.0.0.1:6379/k?mode=list", "redis://[::1]:6379/k?mode=stream"] {
            assert_eq!(parse_redis_url(url).unwrap().target.to_string(), url);
        }
    }

    #[test]
    fn syslog_headers_follow_the_rfcs() {
        // 2025-04-05T20:55:01.123456Z
        let ts = 1_743_886_501_123_456_000;
        let pid = std::process::id();
        let mut out = Vec::new();
        syslog_header(SyslogFormat::Rfc5424, 21, ts, Some("sensor-1"), &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!("<174>1 2025-04-05T20:55:01.123456Z sensor-1 ferret {pid} - - ")
        );
        let mut out = Vec::new();
        syslog_header(SyslogFormat::Rfc3164, 3, ts, None, &mut out);
        assert_eq!(String::from_utf8(out).unwrap(), format!("<30>Apr  5 20:55:01 ferret[{pid}]: "));
        let mut out = Vec::new();
        syslog_header(SyslogFormat::Rfc3164, 3, ts, Some("h"), &mut out);
        assert_eq!(String::from_utf8(out).unwrap(), format!("<30>Apr  5 20:55:01 h ferret[{pid}]: "));
        assert_eq!(facility("LOCAL5"), Some(21));
        assert_eq!(facility("local8"), None);
    }
}
