//! Just enough of Redis's wire protocol (RESP2) to push EVE events: commands
//! encoded as arrays of bulk strings, replies read one by one.
//!
//! Why not the `redis` crate: ferret sends three commands (`LPUSH`/`RPUSH`,
//! `PUBLISH`, `XADD`) and reads whether each succeeded; a hundred lines over
//! `std::net::TcpStream` do that, with timeouts ferret controls, without an
//! async runtime or a dozen transitive crates in a sensor's build.

use std::io::{self, BufRead, Read};

/// How events are handed to Redis (Suricata's `mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `LPUSH key event` (Suricata's `list` and `lpush`): newest first.
    Lpush,
    /// `RPUSH key event` (Suricata's `rpush`): oldest first.
    Rpush,
    /// `PUBLISH key event` (Suricata's `channel` and `publish`).
    Publish,
    /// `XADD key * eve event` (Suricata's `stream` and `xadd`).
    Xadd,
}

impl Mode {
    /// Reads Suricata's names for the modes.
    pub fn parse(s: &str) -> Option<Mode> {
        match s.to_ascii_lowercase().as_str() {
            "list" | "lpush" => Some(Mode::Lpush),
            "rpush" => Some(Mode::Rpush),
            "channel" | "publish" => Some(Mode::Publish),
            "stream" | "xadd" => Some(Mode::Xadd),
            _ => None,
        }
    }

    /// The names `parse` takes, for messages.
    pub const NAMES: &'static str = "`list` (or `lpush`), `rpush`, `channel` (or `publish`), `stream` (or `xadd`)";

    /// The mode's command, as in messages and the stats.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Lpush => "list",
            Mode::Rpush => "rpush",
            Mode::Publish => "channel",
            Mode::Xadd => "stream",
        }
    }
}

/// Appends one command as a RESP array of bulk strings.
pub fn encode_command(args: &[&[u8]], out: &mut Vec<u8>) {
    push_header(b'*', args.len(), out);
    for arg in args {
        push_header(b'$', arg.len(), out);
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
}

fn push_header(kind: u8, n: usize, out: &mut Vec<u8>) {
    out.push(kind);
    out.extend_from_slice(n.to_string().as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// Appends the command that stores `event` under `key` in `mode`.
pub fn encode_event(mode: Mode, key: &[u8], event: &[u8], out: &mut Vec<u8>) {
    match mode {
        Mode::Lpush => encode_command(&[b"LPUSH", key, event], out),
        Mode::Rpush => encode_command(&[b"RPUSH", key, event], out),
        Mode::Publish => encode_command(&[b"PUBLISH", key, event], out),
        Mode::Xadd => encode_command(&[b"XADD", key, b"*", b"eve", event], out),
    }
}

/// One reply, as far as ferret cares: did the command succeed?
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// `+OK`, an integer, a bulk string or an array: the command was carried out.
    Ok,
    /// `-ERR ...`: Redis refused the command (a wrong type under the key, out of memory).
    Error(String),
}

/// Longest reply line or bulk string ferret reads (replies to its commands are short).
const MAX_REPLY: usize = 64 * 1024;

/// Reads one reply (skipping the body of bulk strings and arrays).
pub fn read_reply(r: &mut impl BufRead) -> io::Result<Reply> {
    let mut line = Vec::new();
    read_line(r, &mut line)?;
    let (&kind, rest) = line.split_first().ok_or_else(|| bad("an empty reply line"))?;
    let text = String::from_utf8_lossy(rest).into_owned();
    match kind {
        b'+' | b':' => Ok(Reply::Ok),
        b'-' => Ok(Reply::Error(text)),
        b'$' => {
            let n: i64 = text.parse().map_err(|_| bad("a bad bulk length"))?;
            if n >= 0 {
                let n = usize::try_from(n).map_err(|_| bad("a bad bulk length"))?;
                if n > MAX_REPLY {
                    return Err(bad("a reply too long"));
                }
                let mut body = vec![0; n + 2];
                r.read_exact(&mut body)?;
            }
            Ok(Reply::Ok)
        }
        b'*' => {
            let n: i64 = text.parse().map_err(|_| bad("a bad array length"))?;
            for _ in 0..n.clamp(0, 1024) {
                if let Reply::Error(e) = read_reply(r)? {
                    return Ok(Reply::Error(e));
                }
            }
            Ok(Reply::Ok)
        }
        _ => Err(bad("an unknown reply type")),
    }
}

/// Reads an integer reply (`:N`); an error reply is an `Err` with Redis's words.
pub fn read_integer(r: &mut impl BufRead) -> io::Result<i64> {
    let mut line = Vec::new();
    read_line(r, &mut line)?;
    match line.split_first() {
        Some((b':', n)) => std::str::from_utf8(n).ok().and_then(|n| n.parse().ok()).ok_or_else(|| bad("a bad integer")),
        Some((b'-', e)) => Err(refused(e)),
        _ => Err(bad("another reply where an integer was expected")),
    }
}

/// Reads an array of bulk strings (the reply to LRANGE), each cut to at most
/// `max_item` bytes (the rest is read and dropped); an error reply is an
/// `Err` with Redis's words.
pub fn read_bulk_array(r: &mut impl BufRead, max_item: usize) -> io::Result<Vec<Vec<u8>>> {
    let mut line = Vec::new();
    read_line(r, &mut line)?;
    let n: i64 = match line.split_first() {
        Some((b'*', n)) => {
            std::str::from_utf8(n).ok().and_then(|n| n.parse().ok()).ok_or_else(|| bad("a bad array length"))?
        }
        Some((b'-', e)) => return Err(refused(e)),
        _ => return Err(bad("another reply where an array was expected")),
    };
    let mut items = Vec::with_capacity(n.clamp(0, 1024) as usize);
    for _ in 0..n.max(0) {
        line.clear();
        read_line(r, &mut line)?;
        let len = match line.split_first() {
            Some((b'$', n)) => std::str::from_utf8(n).ok().and_then(|n| n.parse::<usize>().ok()),
            _ => None,
        }
        .ok_or_else(|| bad("an array item that is not a bulk string"))?;
        let mut item = Vec::with_capacity(len.min(max_item));
        Read::take(&mut *r, len.min(max_item) as u64).read_to_end(&mut item)?;
        if item.len() < len.min(max_item) {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "Redis closed the connection"));
        }
        // Drop what is beyond `max_item`, then the CRLF.
        io::copy(&mut Read::take(&mut *r, (len - item.len()) as u64 + 2), &mut io::sink())?;
        items.push(item);
    }
    Ok(items)
}

fn refused(words: &[u8]) -> io::Error {
    io::Error::other(format!("Redis refused: {}", String::from_utf8_lossy(words)))
}

fn read_line(r: &mut impl BufRead, line: &mut Vec<u8>) -> io::Result<()> {
    let n = std::io::Read::take(&mut *r, MAX_REPLY as u64).read_until(b'\n', line)?;
    if n == 0 {
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "Redis closed the connection"));
    }
    if !line.ends_with(b"\r\n") {
        return Err(bad("a reply line without CRLF"));
    }
    line.truncate(line.len() - 2);
    Ok(())
}

fn bad(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("Redis sent {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_arrays_of_bulk_strings() {
        let mut out = Vec::new();
        encode_event(Mode::Lpush, b"ferret", b"{\"a\":1}", &mut out);
        assert_eq!(out, b"*3\r\n$5\r\nLPUSH\r\n$6\r\nferret\r\n$7\r\n{\"a\":1}\r\n");
        out.clear();
        encode_event(Mode::Xadd, b"k", b"", &mut out);
        assert_eq!(out, b"*5\r\n$4\r\nXADD\r\n$1\r\nk\r\n$1\r\n*\r\n$3\r\neve\r\n$0\r\n\r\n");
        out.clear();
        encode_event(Mode::Publish, b"c", b"x\r\ny", &mut out);
        assert_eq!(out, b"*3\r\n$7\r\nPUBLISH\r\n$1\r\nc\r\n$4\r\nx\r\ny\r\n");
        out.clear();
        encode_event(Mode::Rpush, b"k", b"e", &mut out);
        assert!(out.starts_with(b"*3\r\n$5\r\nRPUSH\r\n"));
    }

    #[test]
    fn replies_say_whether_each_command_succeeded() {
        let mut r: &[u8] =
            b":12\r\n+OK\r\n$15\r\n1700000000000-0\r\n-WRONGTYPE Operation\r\n*2\r\n$1\r\na\r\n:1\r\n$-1\r\n";
        assert_eq!(read_reply(&mut r).unwrap(), Reply::Ok);
        assert_eq!(read_reply(&mut r).unwrap(), Reply::Ok);
        assert_eq!(read_reply(&mut r).unwrap(), Reply::Ok);
        assert_eq!(read_reply(&mut r).unwrap(), Reply::Error("WRONGTYPE Operation".into()));
        assert_eq!(read_reply(&mut r).unwrap(), Reply::Ok);
        assert_eq!(read_reply(&mut r).unwrap(), Reply::Ok);
        assert_eq!(read_reply(&mut r).unwrap_err().kind(), io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn damaged_replies_are_errors_not_panics() {
        for bytes in [&b"?\r\n"[..], b"$x\r\n", b"+OK\n", b"$5\r\nab", b"*1\r\n", b"\r\n", b"$999999999\r\n"] {
            let mut r = bytes;
            assert!(read_reply(&mut r).is_err(), "{:?}", String::from_utf8_lossy(bytes));
        }
    }

    #[test]
    fn suricata_mode_names_are_read() {
        assert_eq!(Mode::parse("list"), Some(Mode::Lpush));
        assert_eq!(Mode::parse("LPUSH"), Some(Mode::Lpush));
        assert_eq!(Mode::parse("rpush"), Some(Mode::Rpush));
        assert_eq!(Mode::parse("channel"), Some(Mode::Publish));
        assert_eq!(Mode::parse("publish"), Some(Mode::Publish));
        assert_eq!(Mode::parse("stream"), Some(Mode::Xadd));
        assert_eq!(Mode::parse("xadd"), Some(Mode::Xadd));
        assert_eq!(Mode::parse("queue"), None);
    }

    #[test]
    fn lrange_replies_are_read_and_long_items_cut() {
        let mut r = &b"*3\r\n$3\r\nabc\r\n$0\r\n\r\n$6\r\nabcdef\r\n:7\r\n"[..];
        assert_eq!(read_bulk_array(&mut r, 4).unwrap(), [b"abc".to_vec(), Vec::new(), b"abcd".to_vec()]);
        assert_eq!(read_integer(&mut r).unwrap(), 7);
        let mut r = &b"-WRONGTYPE Operation\r\n"[..];
        assert!(read_bulk_array(&mut r, 4).unwrap_err().to_string().contains("WRONGTYPE"));
        for bytes in [&b"*2\r\n$3\r\nabc\r\n"[..], b"*1\r\n:1\r\n", b"*1\r\n$9\r\nab"] {
            let mut r = bytes;
            assert!(read_bulk_array(&mut r, 100).is_err(), "{:?}", String::from_utf8_lossy(bytes));
        }
    }
}
