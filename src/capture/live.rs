//! Live capture from a network interface through libpcap (the `live` feature).
//!
//! Why it exists: the sensor watches an interface instead of reading a file. It must hand every
//! packet to the engine without copying it, see a packet as soon as it arrives (alerts must not
//! wait for libpcap to fill a buffer), and get control back regularly on a silent link so it can
//! check signals, timers and rule reloads. [`LiveCapture::poll`] does the three: packets are
//! [`RawPacket`]s borrowed from libpcap's ring buffer, immediate mode is on by default, and the
//! handle is non-blocking, waited on with `poll(2)` for at most the time the caller gives.
//!
//! Open the capture before dropping root (see [`crate::privileges`]): the open handle keeps
//! working afterwards, but opening needs `CAP_NET_RAW` (and `CAP_NET_ADMIN` for promiscuous
//! mode and the buffer size).

use std::fmt;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

// `::pcap` is the libpcap crate, not the sibling module `capture::pcap` (the pcap file reader).
use ::pcap::{Active, Capture, Device, Precision};

use super::{linktype, RawPacket};

/// Default snapshot length: whole packets on any ordinary link.
pub const DEFAULT_SNAPLEN: i32 = 65_535;

/// Read timeout given to libpcap, in milliseconds. With immediate mode (the default) packets are
/// delivered at once and this does nothing; without it, it bounds how long a packet can wait in a
/// half-filled kernel buffer block before [`LiveCapture::poll`] sees it.
const BUFFER_TIMEOUT_MS: i32 = 100;

/// How to open an interface. [`LiveOptions::new`] gives the defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveOptions {
    /// Interface name (`eth0`; `any` on Linux for all interfaces, never promiscuous).
    pub interface: String,
    /// BPF filter expression in tcpdump syntax (`icmp or udp port 53`), applied in the kernel.
    pub bpf: Option<String>,
    /// Bytes kept of each packet (default 65535); longer packets are cut, their wire length kept.
    pub snaplen: i32,
    /// Promiscuous mode: see traffic not addressed to this host (default true).
    pub promiscuous: bool,
    /// Kernel buffer size in bytes (default: libpcap's, 2 MiB on Linux). A sensor wants more:
    /// in immediate mode Linux gives every packet a slot of the snaplen (up to 64 KiB when the
    /// interface does offloading), so 2 MiB holds only about 32 packets and a burst overflows
    /// it (counted in [`LiveCounters::dropped`]); 32 MiB holds about 500.
    pub buffer_size: Option<i32>,
    /// Immediate mode: deliver each packet as it arrives rather than when a buffer block fills
    /// (default true, so alerts are not delayed).
    pub immediate: bool,
}

impl LiveOptions {
    /// The defaults for `interface`: no filter, snaplen 65535, promiscuous, libpcap's buffer
    /// size, immediate mode.
    pub fn new(interface: impl Into<String>) -> LiveOptions {
        LiveOptions {
            interface: interface.into(),
            bpf: None,
            snaplen: DEFAULT_SNAPLEN,
            promiscuous: true,
            buffer_size: None,
            immediate: true,
        }
    }
}

/// libpcap's packet counters since the capture was opened (see `pcap_stats(3PCAP)`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LiveCounters {
    /// Packets the kernel received that passed the filter (on Linux this includes `dropped`).
    pub received: u64,
    /// Packets the kernel dropped because the buffer was full (ferret read too slowly).
    pub dropped: u64,
    /// Packets the interface or its driver dropped (not supported everywhere; 0 then).
    pub if_dropped: u64,
}

/// Why a live capture could not be opened or read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LiveError {
    /// The interface does not exist.
    #[error("cannot capture on '{name}': no such network interface (available: {})", list_or_none(.available))]
    NoSuchInterface {
        /// The name asked for.
        name: String,
        /// The interfaces libpcap can capture on.
        available: Vec<String>,
    },
    /// The process may not capture (it lacks `CAP_NET_RAW`, or `CAP_NET_ADMIN` for promiscuous
    /// mode or the buffer size).
    #[error(
        "cannot capture on '{interface}': permission denied ({message}); run ferret as root (and drop \
         to an unprivileged user with --user/--group), or allow it once with \
         `setcap cap_net_raw,cap_net_admin=eip $(which ferret)`"
    )]
    PermissionDenied {
        /// The interface.
        interface: String,
        /// libpcap's message.
        message: String,
    },
    /// The BPF filter does not compile, or the kernel refused it.
    #[error("bad capture filter '{filter}': {message}")]
    Filter {
        /// The filter expression.
        filter: String,
        /// libpcap's message.
        message: String,
    },
    /// An option libpcap would refuse or silently change (a snaplen of 0, say).
    #[error("invalid capture option: {0}")]
    Option(String),
    /// Any other failure to open the interface (it is down, it is not an Ethernet device
    /// libpcap can capture on, ...).
    #[error("cannot capture on '{interface}': {message}")]
    Open {
        /// The interface.
        interface: String,
        /// libpcap's message.
        message: String,
    },
    /// libpcap could not list the interfaces.
    #[error("cannot list the network interfaces: {0}")]
    Interfaces(String),
    /// Reading packets or counters failed (the interface went away, say).
    #[error("capture on '{interface}' failed: {message}")]
    Read {
        /// The interface.
        interface: String,
        /// libpcap's or the system's message.
        message: String,
    },
}

/// `a, b, c`, or `none` for an empty list.
fn list_or_none(names: &[String]) -> String {
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    }
}

/// The text of a libpcap error on one line (libpcap breaks some, such as the permission
/// message, with a newline), without the crate's "libpcap error: " prefix.
fn pcap_message(error: &::pcap::Error) -> String {
    let text = match error {
        ::pcap::Error::PcapError(message) => message.clone(),
        other => other.to_string(),
    };
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The names of the interfaces libpcap can capture on, in its order.
pub fn interfaces() -> Result<Vec<String>, LiveError> {
    Device::list()
        .map(|devices| devices.into_iter().map(|device| device.name).collect())
        .map_err(|e| LiveError::Interfaces(pcap_message(&e)))
}

/// An open, non-blocking live capture on one interface.
pub struct LiveCapture {
    capture: Capture<Active>,
    interface: String,
    link_type: u32,
    snaplen: i32,
    /// Timestamps come in nanoseconds (else microseconds).
    nanos: bool,
    /// Captured bytes handed out so far: the `offset` of the next packet.
    offset: u64,
    /// libpcap's 32-bit counters at the last [`LiveCapture::counters`] call.
    last_raw: [u32; 3],
    /// The counters widened to 64 bits.
    totals: LiveCounters,
}

impl fmt::Debug for LiveCapture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LiveCapture")
            .field("interface", &self.interface)
            .field("link_type", &self.link_type)
            .field("snaplen", &self.snaplen)
            .field("nanos", &self.nanos)
            .finish_non_exhaustive()
    }
}

impl LiveCapture {
    /// Opens `opts.interface` for capture, applies the filter and makes the handle non-blocking.
    ///
    /// Errors say what to do: a missing interface lists the available ones, a permission problem
    /// names the capabilities, a bad filter carries libpcap's message.
    pub fn open(opts: &LiveOptions) -> Result<LiveCapture, LiveError> {
        check_options(opts)?;
        let interface = opts.interface.as_str();
        let open_error = |e: ::pcap::Error| classify_open_error(interface, &e);
        let mut inactive = Capture::from_device(interface)
            .map_err(open_error)?
            .snaplen(opts.snaplen)
            .immediate_mode(opts.immediate)
            .timeout(BUFFER_TIMEOUT_MS)
            .precision(Precision::Nano);
        // libpcap refuses promiscuous mode on "any" with a warning, which the pcap crate treats as
        // an error; "any" cannot be promiscuous anyway.
        if opts.promiscuous && interface != "any" {
            inactive = inactive.promisc(true);
        }
        if let Some(bytes) = opts.buffer_size {
            inactive = inactive.buffer_size(bytes);
        }
        let mut capture = inactive.open().map_err(open_error)?;
        if let Some(filter) = &opts.bpf {
            capture
                .filter(filter, true)
                .map_err(|e| LiveError::Filter { filter: filter.clone(), message: pcap_message(&e) })?;
        }
        let capture = capture.setnonblock().map_err(open_error)?;
        let handle = capture.as_ptr().cast::<ffi::Pcap>();
        // SAFETY: `handle` is the live pcap_t owned by `capture`, which outlives these calls.
        let (precision, snaplen) = unsafe { (ffi::pcap_get_tstamp_precision(handle), ffi::pcap_snapshot(handle)) };
        Ok(LiveCapture {
            link_type: dlt_to_linktype(capture.get_datalink().0),
            interface: interface.to_string(),
            snaplen: if snaplen > 0 { snaplen } else { opts.snaplen },
            nanos: precision == ffi::PCAP_TSTAMP_PRECISION_NANO,
            offset: 0,
            last_raw: [0; 3],
            totals: LiveCounters::default(),
            capture,
        })
    }

    /// The interface this captures on.
    pub fn interface(&self) -> &str {
        &self.interface
    }

    /// `LINKTYPE_*` number of the interface's link layer (see [`linktype`]); the same as
    /// [`RawPacket::link_type`] of every packet.
    pub fn link_type(&self) -> u32 {
        self.link_type
    }

    /// The snapshot length in force (libpcap may have changed the one asked for).
    pub fn snaplen(&self) -> i32 {
        self.snaplen
    }

    /// Whether packet timestamps have nanosecond precision (else microseconds, times 1000).
    pub fn nanosecond_timestamps(&self) -> bool {
        self.nanos
    }

    /// Hands each packet available now to `each` (at most `max`), waiting at most `wait` for the
    /// first; returns how many.
    ///
    /// Returns within about `wait` when the link is silent (0 packets), and earlier, possibly
    /// with 0 packets, when a signal interrupts the wait, so the caller can check signals, timers
    /// and rule reloads between calls. Packets borrow libpcap's buffer: `data` is valid only
    /// during the call to `each`. `offset` counts the captured bytes handed out before the packet.
    pub fn poll(
        &mut self,
        wait: Duration,
        max: usize,
        mut each: impl FnMut(RawPacket<'_>),
    ) -> Result<usize, LiveError> {
        if max == 0 {
            return Ok(0);
        }
        let deadline = Instant::now().checked_add(wait);
        loop {
            let count = self.dispatch(max, &mut each)?;
            if count > 0 {
                return Ok(count);
            }
            let left = match deadline {
                Some(deadline) => deadline.saturating_duration_since(Instant::now()),
                None => wait,
            };
            if left.is_zero() {
                return Ok(0);
            }
            match wait_readable(self.capture.as_raw_fd(), left) {
                Ok(true) => {}
                // Timed out: one last look (a buffer block may have been handed over), then return.
                Ok(false) => return self.dispatch(max, &mut each),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => return Ok(0),
                Err(e) => return Err(self.read_error(e.to_string())),
            }
        }
    }

    /// One non-blocking `pcap_dispatch` of at most `max` packets.
    fn dispatch(&mut self, max: usize, each: &mut impl FnMut(RawPacket<'_>)) -> Result<usize, LiveError> {
        let max = max.min(i32::MAX as usize);
        let LiveCapture { capture, link_type, nanos, offset, .. } = self;
        let (link_type, scale) = (*link_type, if *nanos { 1 } else { 1_000 });
        let result = capture.dispatch(Some(max), |packet| {
            let header = packet.header;
            // time_t and suseconds_t are i64 here but i32 on some systems.
            #[allow(clippy::useless_conversion)]
            let ts_nanos = i64::from(header.ts.tv_sec)
                .saturating_mul(1_000_000_000)
                .saturating_add(i64::from(header.ts.tv_usec).saturating_mul(scale));
            each(RawPacket {
                ts_nanos,
                link_type,
                data: packet.data,
                orig_len: header.len,
                offset: *offset,
                next: &[],
            });
            *offset = offset.saturating_add(packet.data.len() as u64);
        });
        result.map_err(|e| self.read_error(pcap_message(&e)))
    }

    /// libpcap's counters (`pcap_stats`) since the capture was opened, widened to 64 bits.
    ///
    /// libpcap's own counters are 32 bits and wrap; call this at least once per wrap (every
    /// 4 billion packets) for the totals to stay exact.
    pub fn counters(&mut self) -> Result<LiveCounters, LiveError> {
        let stat = self.capture.stats().map_err(|e| self.read_error(pcap_message(&e)))?;
        let raw = [stat.received, stat.dropped, stat.if_dropped];
        let [received, dropped, if_dropped] = raw;
        let [last_received, last_dropped, last_if_dropped] = self.last_raw;
        let totals = &mut self.totals;
        totals.received = totals.received.saturating_add(u64::from(received.wrapping_sub(last_received)));
        totals.dropped = totals.dropped.saturating_add(u64::from(dropped.wrapping_sub(last_dropped)));
        totals.if_dropped = totals.if_dropped.saturating_add(u64::from(if_dropped.wrapping_sub(last_if_dropped)));
        self.last_raw = raw;
        Ok(self.totals)
    }

    fn read_error(&self, message: String) -> LiveError {
        LiveError::Read { interface: self.interface.clone(), message }
    }
}

/// Refuses options libpcap would reject with a vaguer message, or silently change.
fn check_options(opts: &LiveOptions) -> Result<(), LiveError> {
    if opts.interface.is_empty() {
        return Err(LiveError::Option("the interface name is empty".into()));
    }
    if opts.snaplen <= 0 {
        return Err(LiveError::Option(format!("snaplen must be positive, not {}", opts.snaplen)));
    }
    match opts.buffer_size {
        Some(bytes) if bytes <= 0 => Err(LiveError::Option(format!("buffer size must be positive, not {bytes}"))),
        _ => Ok(()),
    }
}

/// Turns a failure to create or activate a handle into the error the user can act on.
fn classify_open_error(interface: &str, error: &::pcap::Error) -> LiveError {
    let message = pcap_message(error);
    if let Ok(available) = interfaces() {
        if !available.iter().any(|name| name == interface) {
            return LiveError::NoSuchInterface { name: interface.to_string(), available };
        }
    }
    // libpcap says PCAP_ERROR_PERM_DENIED only in its message, whose wording varies by version
    // and system ("You don't have permission ...", "... CAP_NET_RAW may be required",
    // "socket: Operation not permitted").
    let lower = message.to_ascii_lowercase();
    if ["permission", "not permitted", "cap_net_raw", "cap_net_admin"].iter().any(|word| lower.contains(word)) {
        return LiveError::PermissionDenied { interface: interface.to_string(), message };
    }
    LiveError::Open { interface: interface.to_string(), message }
}

/// Waits until `fd` is readable (true) or `timeout` passes (false).
fn wait_readable(fd: std::os::fd::RawFd, timeout: Duration) -> std::io::Result<bool> {
    // Round up so a wait of 0.5 ms still sleeps instead of spinning.
    let millis = timeout.as_micros().div_ceil(1_000).min(i32::MAX as u128) as libc::c_int;
    let mut pollfd = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
    // SAFETY: one valid pollfd, and its count.
    let ready = unsafe { libc::poll(&mut pollfd, 1, millis) };
    if ready < 0 {
        return Err(std::io::Error::last_os_error());
    }
    if pollfd.revents & libc::POLLNVAL != 0 {
        return Err(std::io::Error::other("the capture's file descriptor is not open"));
    }
    Ok(ready > 0)
}

/// The `LINKTYPE_*` number of a `DLT_*` value: they are equal except for a few values that
/// differ between systems (DLT_RAW is 12 on most, 14 on OpenBSD; LINKTYPE_RAW is 101).
fn dlt_to_linktype(dlt: i32) -> u32 {
    /// DLT_RAW on OpenBSD (12 there is DLT_LOOP).
    #[cfg(target_os = "openbsd")]
    const MAP: &[(i32, u32)] = &[(14, linktype::RAW), (12, linktype::LOOP)];
    /// DLT_RAW everywhere else; 15/16 are BSD/OS SLIP and PPP, 19 is Linux ATM CLIP.
    #[cfg(not(target_os = "openbsd"))]
    const MAP: &[(i32, u32)] = &[(12, linktype::RAW), (15, 102), (16, 103), (19, 106)];
    match MAP.iter().find(|(from, _)| *from == dlt) {
        Some(&(_, to)) => to,
        None => u32::try_from(dlt).unwrap_or(u32::MAX),
    }
}

/// The two libpcap calls the pcap crate does not wrap.
mod ffi {
    use std::os::raw::c_int;

    /// An opaque `pcap_t`.
    #[repr(C)]
    pub(super) struct Pcap {
        _private: [u8; 0],
    }

    /// `PCAP_TSTAMP_PRECISION_NANO` from `pcap/pcap.h`.
    pub(super) const PCAP_TSTAMP_PRECISION_NANO: c_int = 1;

    extern "C" {
        /// The timestamp precision of an activated handle (libpcap 1.5 and later).
        pub(super) fn pcap_get_tstamp_precision(p: *mut Pcap) -> c_int;
        /// The snapshot length of an activated handle.
        pub(super) fn pcap_snapshot(p: *mut Pcap) -> c_int;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let opts = LiveOptions::new("eth0");
        assert_eq!(opts.snaplen, 65_535);
        assert!(opts.promiscuous && opts.immediate);
        assert_eq!((opts.bpf.as_deref(), opts.buffer_size), (None, None));
    }

    #[test]
    fn dlt_raw_becomes_linktype_raw_and_the_rest_stays() {
        assert_eq!(dlt_to_linktype(1), linktype::ETHERNET);
        assert_eq!(dlt_to_linktype(113), linktype::LINUX_SLL);
        assert_eq!(dlt_to_linktype(276), linktype::LINUX_SLL2);
        #[cfg(not(target_os = "openbsd"))]
        assert_eq!(dlt_to_linktype(12), linktype::RAW);
        assert_eq!(dlt_to_linktype(-1), u32::MAX);
    }

    #[test]
    fn options_libpcap_would_change_are_refused() {
        let mut opts = LiveOptions::new("");
        assert_eq!(LiveCapture::open(&opts).unwrap_err(), LiveError::Option("the interface name is empty".into()));
        opts.interface = "lo".into();
        opts.snaplen = 0;
        assert!(LiveCapture::open(&opts).unwrap_err().to_string().contains("snaplen must be positive, not 0"));
        opts.snaplen = 100;
        opts.buffer_size = Some(-1);
        assert!(LiveCapture::open(&opts).unwrap_err().to_string().contains("buffer size must be positive"));
    }

    #[test]
    fn messages_tell_what_to_do() {
        let missing = LiveError::NoSuchInterface { name: "eth9".into(), available: vec!["lo".into(), "eth0".into()] };
        assert_eq!(missing.to_string(), "cannot capture on 'eth9': no such network interface (available: lo, eth0)");
        let none = LiveError::NoSuchInterface { name: "eth9".into(), available: vec![] };
        assert!(none.to_string().ends_with("(available: none)"));
        let denied = LiveError::PermissionDenied { interface: "eth0".into(), message: "x".into() };
        assert!(denied.to_string().contains("setcap cap_net_raw,cap_net_admin=eip"), "{denied}");
    }

    #[test]
    fn permission_wordings_are_recognised() {
        for message in [
            "eth0: You don't have permission to perform this capture on that device",
            "Attempt to create packet socket failed - CAP_NET_RAW may be required",
            "socket: Operation not permitted",
        ] {
            let error = classify_open_error("lo", &::pcap::Error::PcapError(message.into()));
            assert!(matches!(error, LiveError::PermissionDenied { .. }), "{message}: {error:?}");
        }
        // libpcap 1.10's wording, newline included, comes out on one line.
        let two_lines =
            "lo: You don't have permission to perform this capture on that device\n(socket: Operation not permitted)";
        let LiveError::PermissionDenied { message, .. } =
            classify_open_error("lo", &::pcap::Error::PcapError(two_lines.into()))
        else {
            panic!("not a permission error")
        };
        assert_eq!(
            message,
            "lo: You don't have permission to perform this capture on that device (socket: Operation not permitted)"
        );
        let other = classify_open_error("lo", &::pcap::Error::PcapError("lo: That device is not up".into()));
        assert!(matches!(other, LiveError::Open { .. }), "{other:?}");
    }

    #[test]
    fn an_unknown_interface_lists_the_known_ones() {
        let error = classify_open_error("no-such-if0", &::pcap::Error::PcapError("whatever".into()));
        let LiveError::NoSuchInterface { name, available } = error else { panic!("{error:?}") };
        assert_eq!(name, "no-such-if0");
        assert!(available.iter().any(|name| name == "lo"), "{available:?}");
    }
}
