//! Reading EVE back from a Redis list, so `ferret report redis://HOST/KEY`
//! reports on what sensors pushed there.
//!
//! Only lists are read (`?mode=list`, the default, and `?mode=rpush`): a
//! channel keeps nothing and a stream is left to its consumers. The list is
//! read in chunks of [`CHUNK`] with LRANGE, oldest event first, from indexes
//! that pushes during the read do not move: LPUSH puts new events at the head,
//! so a `list` is read from its tail with negative indexes; RPUSH appends at
//! the tail, so an `rpush` list is read from its head. The length is taken
//! once at the start: events pushed while the report reads are left for the
//! next report.

use std::collections::VecDeque;
use std::io::{self, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::output::resp::{self, Mode};
use crate::output::target::{parse_redis_url, Target};

use super::input::MAX_LINE;
use super::source::{EveSource, Lines};

/// Events asked for per LRANGE.
pub const CHUNK: i64 = 1000;

/// Opens the Redis list `url` names as a report source.
pub fn open(url: &str) -> Result<EveSource, String> {
    let spec = parse_redis_url(url).map_err(|e| e.to_string())?;
    let Target::Redis { server, port, key, mode } = spec.target else {
        return Err(format!("{url}: not a Redis address"));
    };
    if !matches!(mode, Mode::Lpush | Mode::Rpush) {
        return Err(format!(
            "{url}: a report reads a Redis list (mode=list or mode=rpush); a {} keeps no events to read back",
            if mode == Mode::Publish { "channel" } else { "stream is for its consumers and" }
        ));
    }
    let fail = |e: io::Error| format!("{url}: {e}");
    let conn = TcpStream::connect((server.as_str(), port)).map_err(fail)?;
    conn.set_read_timeout(Some(Duration::from_secs(30))).map_err(fail)?;
    let mut list = RedisList {
        conn: BufReader::new(conn),
        key,
        from_tail: mode == Mode::Lpush,
        read: 0,
        len: 0,
        chunk: VecDeque::new(),
    };
    list.len = list.command(&[b"LLEN"], &[]).and_then(|()| resp::read_integer(&mut list.conn)).map_err(fail)?;
    let label = url.split('?').next().unwrap_or(url).to_string();
    let lines: Lines = Box::new(list);
    Ok(EveSource { label, path: None, lines })
}

/// The list being read: `len` events at the start, `read` of them taken.
struct RedisList {
    conn: BufReader<TcpStream>,
    key: String,
    from_tail: bool,
    read: i64,
    len: i64,
    chunk: VecDeque<Vec<u8>>,
}

impl RedisList {
    /// Sends `name KEY args...`.
    fn command(&mut self, name: &[&[u8]], args: &[&[u8]]) -> io::Result<()> {
        let mut all: Vec<&[u8]> = name.to_vec();
        all.push(self.key.as_bytes());
        all.extend_from_slice(args);
        let mut out = Vec::new();
        resp::encode_command(&all, &mut out);
        self.conn.get_mut().write_all(&out)
    }

    /// Fetches the next chunk, oldest event first.
    fn fetch(&mut self) -> io::Result<()> {
        let n = CHUNK.min(self.len - self.read);
        let (first, last) =
            if self.from_tail { (-(self.read + n), -(self.read + 1)) } else { (self.read, self.read + n - 1) };
        let (first, last) = (first.to_string(), last.to_string());
        self.command(&[b"LRANGE"], &[first.as_bytes(), last.as_bytes()])?;
        let mut items = resp::read_bulk_array(&mut self.conn, MAX_LINE + 1)?;
        if items.is_empty() {
            // The list was trimmed under us: nothing more to read.
            self.read = self.len;
            return Ok(());
        }
        if self.from_tail {
            items.reverse();
        }
        self.read += items.len() as i64;
        self.chunk.extend(items);
        Ok(())
    }
}

impl Iterator for RedisList {
    type Item = io::Result<Vec<u8>>;

    fn next(&mut self) -> Option<Self::Item> {
        while self.chunk.is_empty() {
            if self.read >= self.len {
                return None;
            }
            if let Err(e) = self.fetch() {
                self.len = self.read;
                return Some(Err(e));
            }
        }
        self.chunk.pop_front().map(Ok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_and_streams_are_refused_with_the_reason() {
        let e = open("redis://127.0.0.1:1/k?mode=channel").err().unwrap();
        assert!(e.contains("a channel keeps no events"), "{e}");
        let e = open("redis://127.0.0.1:1/k?mode=stream").err().unwrap();
        assert!(e.contains("mode=list or mode=rpush"), "{e}");
        let e = open("redis://127.0.0.1:1/k?mode=queue").err().unwrap();
        assert!(e.contains("unknown mode `queue`"), "{e}");
        // Nothing listens on port 1.
        let e = open("redis://127.0.0.1:1/k").err().unwrap();
        assert!(e.starts_with("redis://127.0.0.1:1/k: "), "{e}");
    }
}
