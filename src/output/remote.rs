//! Outputs that send events away from the machine's disk (Redis, a Unix
//! socket, syslog), written by a thread of their own so the scan loop never
//! waits for them.
//!
//! The loop's thread builds each EVE line (as the file output does) and
//! offers it to a bounded queue; when the queue is full the event is dropped
//! and counted, never waited for. The writer thread takes what is queued (up
//! to [`BATCH`] events, never more than the queue holds), sends it in one write (Redis commands pipelined) and
//! reads the replies. When the peer is down or slow it keeps the unconfirmed
//! events, reconnects with exponential backoff (100 ms doubling to 5 s) and
//! sends them again, so events are lost only when the queue overflows, when
//! the peer refuses them, or when the output is still down at exit (after
//! `drain` time). Memory: at most twice the queue's capacity in events.
//! Every loss is counted in [`OutputCounters`], which the stats show.

use std::collections::VecDeque;
use std::io::{self, BufReader, Write};
use std::net::{TcpStream, ToSocketAddrs, UdpSocket};
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TryRecvError, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::engine::alert::Alert;
use crate::output::eve::{self, EveContext};
use crate::output::resp::{self, Reply};
use crate::output::sink::{AlertSink, InputStart};
use crate::output::target::{self, SyslogDest, SyslogFormat, Target, Types};

/// Events sent in one write.
pub const BATCH: usize = 1024;
/// Events queued per output unless configured (`buffer`).
pub const DEFAULT_BUFFER: usize = 10_000;
/// How long `finish` waits for a down output to take what is queued.
pub const DEFAULT_DRAIN: Duration = Duration::from_secs(5);
/// First wait before reconnecting; it doubles up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(100);
/// Longest wait between two connection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Connect, read and write timeouts: a slow peer counts as a down one.
const IO_TIMEOUT: Duration = Duration::from_secs(2);
/// Messages about the connection kept until the sensor logs them.
const MAX_NOTICES: usize = 32;

/// An output as configured: where, which events, how many may wait.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteSpec {
    /// Where events go.
    pub target: Target,
    /// Which events.
    pub types: Types,
    /// Events queued at most while the writer is behind or the peer is down.
    pub buffer: usize,
}

impl RemoteSpec {
    /// `target` for every event type, with the default buffer.
    pub fn new(target: Target, types: Types) -> RemoteSpec {
        RemoteSpec { target, types, buffer: DEFAULT_BUFFER }
    }
}

/// What an output did, for the stats (EVE `stats.outputs`, `--stats`, the summary).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct OutputCounters {
    /// The output, as a URL-like name (`redis://127.0.0.1:6379/suricata?mode=list`).
    pub name: String,
    /// Events the peer took (Redis replied, the socket accepted them).
    pub written: u64,
    /// Events lost, all causes: the sum of the three below.
    pub dropped: u64,
    /// Lost because the queue was full (the peer down or slower than the alerts).
    pub dropped_buffer_full: u64,
    /// Refused by the peer (a Redis error reply, such as a key of the wrong type).
    pub dropped_refused: u64,
    /// Still queued when the run ended and the peer did not take them in time.
    pub dropped_at_exit: u64,
    /// Connections made again after one was lost or refused.
    pub reconnects: u64,
    /// Whether the output is connected now.
    pub connected: bool,
}

#[derive(Default)]
struct Shared {
    written: AtomicU64,
    dropped_buffer_full: AtomicU64,
    dropped_refused: AtomicU64,
    dropped_at_exit: AtomicU64,
    reconnects: AtomicU64,
    connected: AtomicBool,
    closing: AtomicBool,
    notices: Mutex<Vec<String>>,
}

impl Shared {
    fn notice(&self, text: String) {
        if let Ok(mut n) = self.notices.lock() {
            if n.len() < MAX_NOTICES {
                n.push(text);
            }
        }
    }
}

/// EVE events sent to a [`Target`] by a writer thread.
pub struct RemoteSink {
    name: String,
    types: Types,
    ctx: EveContext,
    tx: Option<SyncSender<Vec<u8>>>,
    shared: Arc<Shared>,
    writer: Option<JoinHandle<()>>,
}

impl RemoteSink {
    /// Starts the writer thread for `spec`; it connects in the background
    /// (a peer that is down at start is retried like one lost later).
    /// `drain`: how long `finish` waits for queued events.
    pub fn start(spec: &RemoteSpec, host: Option<String>, drain: Duration) -> io::Result<RemoteSink> {
        let name = spec.target.to_string();
        let buffer = spec.buffer.max(1);
        let (tx, rx) = mpsc::sync_channel(buffer);
        let shared = Arc::new(Shared::default());
        let transport = transport(&spec.target, host.clone());
        let writer = {
            let shared = Arc::clone(&shared);
            let name = name.clone();
            std::thread::Builder::new()
                .name("ferret-output".into())
                .spawn(move || Writer { rx, transport, shared, name, drain, batch: buffer.min(BATCH) }.run())?
        };
        let ctx = EveContext { host, ..EveContext::default() };
        Ok(RemoteSink { name, types: spec.types, ctx, tx: Some(tx), shared, writer: Some(writer) })
    }

    /// Offers one EVE line (without its newline) to the writer; counts it dropped if the queue is full.
    fn offer(&mut self, mut line: Vec<u8>) {
        if line.last() == Some(&b'\n') {
            line.pop();
        }
        let Some(tx) = &self.tx else { return };
        match tx.try_send(line) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                self.shared.dropped_buffer_full.fetch_add(1, Ordering::Relaxed);
            }
            Err(TrySendError::Disconnected(_)) => {
                self.shared.dropped_at_exit.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// The counters now.
    pub fn counters(&self) -> OutputCounters {
        let s = &self.shared;
        let (full, refused, exit) = (
            s.dropped_buffer_full.load(Ordering::Relaxed),
            s.dropped_refused.load(Ordering::Relaxed),
            s.dropped_at_exit.load(Ordering::Relaxed),
        );
        OutputCounters {
            name: self.name.clone(),
            written: s.written.load(Ordering::Relaxed),
            dropped: full + refused + exit,
            dropped_buffer_full: full,
            dropped_refused: refused,
            dropped_at_exit: exit,
            reconnects: s.reconnects.load(Ordering::Relaxed),
            connected: s.connected.load(Ordering::Relaxed),
        }
    }
}

impl AlertSink for RemoteSink {
    fn start_input(&mut self, input: &InputStart<'_>) {
        self.ctx.set_input(input);
    }

    fn alert(&mut self, alert: &Alert, file: Option<&str>) -> io::Result<()> {
        if self.types.alert {
            let mut line = Vec::with_capacity(1024);
            eve::write_alert(alert, file, &self.ctx, &mut line).map_err(io::Error::other)?;
            self.offer(line);
        }
        Ok(())
    }

    fn stats(&mut self, event: &eve::StatsEvent<'_>) -> io::Result<()> {
        if self.types.stats {
            let mut line = Vec::with_capacity(1024);
            eve::write_stats(event, &self.ctx, &mut line).map_err(io::Error::other)?;
            self.offer(line);
        }
        Ok(())
    }

    fn engine_event(&mut self, event: &eve::EngineEvent<'_>) -> io::Result<()> {
        if self.types.engine {
            let mut line = Vec::with_capacity(256);
            eve::write_engine(event, &self.ctx, &mut line).map_err(io::Error::other)?;
            self.offer(line);
        }
        Ok(())
    }

    fn output_counters(&self, out: &mut Vec<OutputCounters>) {
        out.push(self.counters());
    }

    fn notices(&mut self, out: &mut Vec<String>) {
        if let Ok(mut n) = self.shared.notices.lock() {
            out.append(&mut n);
        }
    }

    /// Closes the queue and waits for the writer: it sends what is queued, or
    /// gives up after the drain time and counts the rest as dropped at exit.
    fn finish(&mut self) -> io::Result<()> {
        self.shared.closing.store(true, Ordering::Relaxed);
        self.tx = None;
        if let Some(w) = self.writer.take() {
            if w.join().is_err() {
                return Err(io::Error::other(format!("the writer of output {} panicked", self.name)));
            }
        }
        Ok(())
    }
}

impl Drop for RemoteSink {
    fn drop(&mut self) {
        let _ = self.finish();
    }
}

/// What one send achieved: `done` events from the front were taken by the
/// peer (`refused` of them with an error reply); on `error` the rest are
/// unconfirmed and sent again after reconnecting.
#[derive(Default)]
struct Sent {
    done: usize,
    refused: usize,
    error: Option<io::Error>,
    refusal: Option<String>,
}

impl Sent {
    fn not_connected() -> Sent {
        Sent { error: Some(io::Error::from(io::ErrorKind::NotConnected)), ..Sent::default() }
    }
}

/// A connection to one kind of peer.
trait Transport: Send {
    fn connect(&mut self) -> io::Result<()>;
    fn send(&mut self, events: &[Vec<u8>]) -> Sent;
    fn disconnect(&mut self);
}

fn transport(target: &Target, host: Option<String>) -> Box<dyn Transport> {
    match target {
        Target::Redis { server, port, key, mode } => Box::new(Redis {
            addr: (server.clone(), *port),
            key: key.clone().into_bytes(),
            mode: *mode,
            conn: None,
            buf: Vec::new(),
        }),
        Target::UnixStream(path) => Box::new(Stream { path: path.clone(), conn: None, buf: Vec::new() }),
        Target::UnixDgram(path) => {
            Box::new(Datagrams { dest: SyslogDest::Unix(path.clone()), conn: None, syslog: None, buf: Vec::new() })
        }
        Target::Syslog { dest, format, facility } => {
            let host = match (dest, format) {
                // syslog(3) leaves the host out of messages to the local daemon.
                (SyslogDest::Unix(_), SyslogFormat::Rfc3164) => None,
                _ => Some(host.unwrap_or_else(hostname)),
            };
            Box::new(Datagrams {
                dest: dest.clone(),
                conn: None,
                syslog: Some((*format, *facility, host)),
                buf: Vec::new(),
            })
        }
    }
}

/// The machine's host name (`-` if it has none).
fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes at most that.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    match std::str::from_utf8(buf.get(..end).unwrap_or_default()) {
        Ok(h) if rc == 0 && !h.is_empty() => h.to_string(),
        _ => "-".to_string(),
    }
}

struct Redis {
    addr: (String, u16),
    key: Vec<u8>,
    mode: resp::Mode,
    conn: Option<(TcpStream, BufReader<TcpStream>)>,
    buf: Vec<u8>,
}

impl Transport for Redis {
    fn connect(&mut self) -> io::Result<()> {
        let mut last = io::Error::new(io::ErrorKind::NotFound, "the server name resolves to no address");
        for addr in (self.addr.0.as_str(), self.addr.1).to_socket_addrs()? {
            match TcpStream::connect_timeout(&addr, IO_TIMEOUT) {
                Ok(s) => {
                    s.set_read_timeout(Some(IO_TIMEOUT))?;
                    s.set_write_timeout(Some(IO_TIMEOUT))?;
                    s.set_nodelay(true)?;
                    let reader = BufReader::new(s.try_clone()?);
                    self.conn = Some((s, reader));
                    return Ok(());
                }
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    fn send(&mut self, events: &[Vec<u8>]) -> Sent {
        let mut sent = Sent::default();
        let Some((stream, reader)) = self.conn.as_mut() else {
            return Sent::not_connected();
        };
        self.buf.clear();
        for e in events {
            resp::encode_event(self.mode, &self.key, e, &mut self.buf);
        }
        if let Err(e) = stream.write_all(&self.buf) {
            sent.error = Some(e);
            return sent;
        }
        for _ in events {
            match resp::read_reply(reader) {
                Ok(Reply::Ok) => sent.done += 1,
                Ok(Reply::Error(why)) => {
                    sent.done += 1;
                    sent.refused += 1;
                    sent.refusal.get_or_insert(why);
                }
                Err(e) => {
                    sent.error = Some(e);
                    break;
                }
            }
        }
        sent
    }

    fn disconnect(&mut self) {
        self.conn = None;
    }
}

/// One event per line on a Unix stream socket.
struct Stream {
    path: std::path::PathBuf,
    conn: Option<UnixStream>,
    buf: Vec<u8>,
}

impl Transport for Stream {
    fn connect(&mut self) -> io::Result<()> {
        let s = UnixStream::connect(&self.path)?;
        s.set_write_timeout(Some(IO_TIMEOUT))?;
        self.conn = Some(s);
        Ok(())
    }

    fn send(&mut self, events: &[Vec<u8>]) -> Sent {
        let mut sent = Sent::default();
        let Some(conn) = self.conn.as_mut() else {
            return Sent::not_connected();
        };
        self.buf.clear();
        for e in events {
            self.buf.extend_from_slice(e);
            self.buf.push(b'\n');
        }
        // Count whole lines written, so a broken connection resends only the rest.
        let mut written = 0;
        while written < self.buf.len() {
            match conn.write(self.buf.get(written..).unwrap_or_default()) {
                Ok(0) => {
                    sent.error = Some(io::Error::from(io::ErrorKind::WriteZero));
                    break;
                }
                Ok(n) => written += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    sent.error = Some(e);
                    break;
                }
            }
        }
        let mut end = 0;
        for e in events {
            end += e.len() + 1;
            if end > written {
                break;
            }
            sent.done += 1;
        }
        sent
    }

    fn disconnect(&mut self) {
        self.conn = None;
    }
}

/// Connected datagram sockets: one event per datagram, with a syslog header when it is syslog.
struct Datagrams {
    dest: SyslogDest,
    conn: Option<Dgram>,
    syslog: Option<(SyslogFormat, u8, Option<String>)>,
    buf: Vec<u8>,
}

enum Dgram {
    Unix(UnixDatagram),
    Udp(UdpSocket),
}

impl Transport for Datagrams {
    fn connect(&mut self) -> io::Result<()> {
        self.conn = Some(match &self.dest {
            SyslogDest::Unix(path) => {
                let s = UnixDatagram::unbound()?;
                s.connect(path)?;
                s.set_write_timeout(Some(IO_TIMEOUT))?;
                Dgram::Unix(s)
            }
            SyslogDest::Udp(addr) => {
                let to = addr
                    .to_socket_addrs()?
                    .next()
                    .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "the address resolves to nothing"))?;
                let local = if to.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" };
                let s = UdpSocket::bind(local)?;
                s.connect(to)?;
                s.set_write_timeout(Some(IO_TIMEOUT))?;
                Dgram::Udp(s)
            }
        });
        Ok(())
    }

    fn send(&mut self, events: &[Vec<u8>]) -> Sent {
        let mut sent = Sent::default();
        let Some(conn) = self.conn.as_ref() else {
            return Sent::not_connected();
        };
        let now = crate::sensor::wall_nanos();
        for e in events {
            let datagram: &[u8] = match &self.syslog {
                Some((format, facility, host)) => {
                    self.buf.clear();
                    target::syslog_header(*format, *facility, now, host.as_deref(), &mut self.buf);
                    self.buf.extend_from_slice(e);
                    &self.buf
                }
                None => e,
            };
            let result = match conn {
                Dgram::Unix(s) => s.send(datagram),
                Dgram::Udp(s) => s.send(datagram),
            };
            if let Err(e) = result {
                sent.error = Some(e);
                break;
            }
            sent.done += 1;
        }
        sent
    }

    fn disconnect(&mut self) {
        self.conn = None;
    }
}

/// The writer thread: queue in, batches out, reconnecting as needed.
struct Writer {
    rx: Receiver<Vec<u8>>,
    transport: Box<dyn Transport>,
    shared: Arc<Shared>,
    name: String,
    drain: Duration,
    /// Events sent in one write: [`BATCH`], or fewer if the buffer is smaller.
    batch: usize,
}

impl Writer {
    fn run(mut self) {
        let mut pending: VecDeque<Vec<u8>> = VecDeque::with_capacity(self.batch);
        let mut connected = false;
        let mut ever_connected = false;
        let mut failing = false;
        let mut backoff = MIN_BACKOFF;
        let mut next_try = Instant::now();
        let mut closed = false;
        let mut deadline: Option<Instant> = None;
        loop {
            if pending.is_empty() && !closed {
                match self.rx.recv_timeout(Duration::from_millis(100)) {
                    Ok(e) => pending.push_back(e),
                    Err(RecvTimeoutError::Timeout) => continue,
                    Err(RecvTimeoutError::Disconnected) => closed = true,
                }
            }
            while pending.len() < self.batch && !closed {
                match self.rx.try_recv() {
                    Ok(e) => pending.push_back(e),
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => closed = true,
                }
            }
            if (closed || self.shared.closing.load(Ordering::Relaxed)) && deadline.is_none() {
                deadline = Some(Instant::now() + self.drain);
            }
            if pending.is_empty() {
                if closed {
                    break;
                }
                continue;
            }
            if !connected {
                let now = Instant::now();
                if deadline.is_some_and(|d| now >= d) {
                    self.give_up(&mut pending);
                    break;
                }
                if now < next_try {
                    let mut wait = next_try - now;
                    if let Some(d) = deadline {
                        wait = wait.min(d.saturating_duration_since(now));
                    }
                    std::thread::sleep(wait.min(Duration::from_millis(100)));
                    continue;
                }
                match self.transport.connect() {
                    Ok(()) => {
                        connected = true;
                        self.shared.connected.store(true, Ordering::Relaxed);
                        backoff = MIN_BACKOFF;
                        if failing {
                            self.shared.reconnects.fetch_add(u64::from(ever_connected), Ordering::Relaxed);
                            self.shared.notice(format!("output {}: connected again", self.name));
                        }
                        ever_connected = true;
                        failing = false;
                    }
                    Err(e) => {
                        if !failing {
                            self.shared.notice(format!(
                                "output {}: cannot connect ({e}); events wait in its buffer, retrying with backoff",
                                self.name
                            ));
                        }
                        failing = true;
                        next_try = Instant::now() + backoff;
                        backoff = (backoff * 2).min(MAX_BACKOFF);
                        continue;
                    }
                }
            }
            let sent = self.transport.send(pending.make_contiguous());
            self.shared.written.fetch_add((sent.done - sent.refused) as u64, Ordering::Relaxed);
            if sent.refused > 0 {
                self.shared.dropped_refused.fetch_add(sent.refused as u64, Ordering::Relaxed);
                if let Some(why) = sent.refusal {
                    self.shared.notice(format!("output {}: {} events refused: {why}", self.name, sent.refused));
                }
            }
            pending.drain(..sent.done);
            if let Some(e) = sent.error {
                self.transport.disconnect();
                connected = false;
                self.shared.connected.store(false, Ordering::Relaxed);
                self.shared.notice(format!(
                    "output {}: connection lost ({e}); {} unconfirmed events will be sent again",
                    self.name,
                    pending.len()
                ));
                failing = true;
                next_try = Instant::now() + backoff;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
        self.shared.connected.store(false, Ordering::Relaxed);
    }

    /// The run ended and the peer is still down: what is left is lost, and counted.
    fn give_up(&mut self, pending: &mut VecDeque<Vec<u8>>) {
        let mut lost = pending.len() as u64;
        pending.clear();
        while let Ok(_e) = self.rx.try_recv() {
            lost += 1;
        }
        self.shared.dropped_at_exit.fetch_add(lost, Ordering::Relaxed);
        self.shared.notice(format!("output {}: still down at exit; {lost} queued events dropped", self.name));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::output::resp::Mode;

    fn spec(target: Target, buffer: usize) -> RemoteSpec {
        RemoteSpec { target, types: Types::default(), buffer }
    }

    fn line(n: usize) -> Vec<u8> {
        format!("{{\"n\":{n}}}\n").into_bytes()
    }

    #[test]
    fn a_peer_that_never_answers_loses_only_what_the_counters_say() {
        // A port nothing listens on: every event is either dropped for a full
        // queue or, at exit, for the peer being down.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let target = Target::Redis { server: "127.0.0.1".into(), port, key: "k".into(), mode: Mode::Lpush };
        let mut sink = RemoteSink::start(&spec(target, 8), None, Duration::from_millis(200)).unwrap();
        let started = Instant::now();
        for n in 0..100 {
            sink.offer(line(n));
        }
        assert!(started.elapsed() < Duration::from_millis(100), "offering never waits");
        sink.finish().unwrap();
        let c = sink.counters();
        assert_eq!(c.written, 0);
        assert_eq!(c.dropped, 100);
        assert_eq!(c.dropped_at_exit + c.dropped_buffer_full, 100);
        assert!(c.dropped_buffer_full >= 100 - 8 - 1, "at most the queue and the batch in hand wait: {c:?}");
        let mut notices = Vec::new();
        sink.notices(&mut notices);
        assert!(notices[0].contains("cannot connect"), "{notices:?}");
        assert!(notices.last().unwrap().contains("still down at exit"), "{notices:?}");
    }

    #[test]
    fn a_unix_stream_gets_one_line_per_event_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sock");
        let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let reader = std::thread::spawn(move || {
            let (conn, _) = listener.accept().unwrap();
            io::read_to_string(conn).unwrap()
        });
        let mut sink = RemoteSink::start(&spec(Target::UnixStream(path), 1000), None, Duration::from_secs(5)).unwrap();
        for n in 0..500 {
            sink.offer(line(n));
        }
        sink.finish().unwrap();
        drop(sink);
        let text = reader.join().unwrap();
        let want: String = (0..500).map(|n| format!("{{\"n\":{n}}}\n")).collect();
        assert_eq!(text, want);
    }
}
