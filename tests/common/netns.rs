//! A veth pair with one end in its own network namespace, for live-capture tests.
//!
//! ferret captures on the outer end (`Veth::outer`, in the root namespace); frames are injected
//! on the inner end (`Veth::inner`, in the namespace) through an AF_PACKET socket, so a test
//! controls every byte that arrives: exactly the frames `ferret_synth` builds. IPv6 is disabled
//! on both ends before they come up, and neither end has an address, so the kernel sends nothing
//! of its own on the link. Everything is removed on drop, also when a test panics.
//!
//! Needs root and `ip` (iproute2). Without them [`Veth::create`] prints `SKIPPED: <why>` and
//! returns `None`, unless `FERRET_REQUIRE_LIVE=1` (CI), where it panics instead.
#![allow(dead_code)]

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Whether the environment demands live tests run (`FERRET_REQUIRE_LIVE=1`, set by CI).
pub fn live_required() -> bool {
    std::env::var("FERRET_REQUIRE_LIVE").is_ok_and(|v| v == "1")
}

/// Skips a live test visibly, or fails it when live tests are required.
pub fn skip(why: &str) {
    super::skip("FERRET_REQUIRE_LIVE", why);
}

/// A veth pair: `outer` in the root namespace, `inner` in the namespace `netns`.
#[derive(Debug)]
pub struct Veth {
    /// The end ferret captures on (root namespace).
    pub outer: String,
    /// The end frames are injected on (inside `netns`).
    pub inner: String,
    /// The network namespace holding `inner` (`/var/run/netns/<netns>`).
    pub netns: String,
}

/// Makes names unique within this process.
static NEXT: AtomicU32 = AtomicU32::new(0);

impl Veth {
    /// A fresh namespace and veth pair with the default MTU (1500), or `None` after a visible
    /// skip (not root, no `ip`, no namespaces here).
    pub fn create() -> Option<Veth> {
        Veth::create_with_mtu(1500)
    }

    /// As [`Veth::create`], with `mtu` on both ends (frames up to `mtu + 14` bytes can be sent).
    pub fn create_with_mtu(mtu: u32) -> Option<Veth> {
        // SAFETY: a plain getter.
        if unsafe { libc::geteuid() } != 0 {
            skip("live capture tests need root (they create a network namespace and a veth pair)");
            return None;
        }
        if Command::new("ip").arg("-V").output().is_err() {
            skip("the `ip` command (iproute2) is not installed");
            return None;
        }
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let pid = std::process::id();
        // Interface names have at most 15 bytes: "fr" + up to 6 hex digits + n + "a".
        let veth = Veth {
            outer: format!("fr{pid:x}x{n}a"),
            inner: format!("fr{pid:x}x{n}b"),
            netns: format!("ferret-test-{pid}-{n}"),
        };
        // Leftovers of an earlier run with the same pid would make the commands below fail.
        veth.cleanup();
        match veth.set_up(mtu) {
            Ok(()) => Some(veth),
            Err(why) => {
                skip(&format!("cannot create the test network namespace and veth pair: {why}"));
                None // `veth` drops here and removes what was made.
            }
        }
    }

    fn set_up(&self, mtu: u32) -> Result<(), String> {
        let mtu = mtu.to_string();
        ip(&["netns", "add", &self.netns])?;
        ip(&["link", "add", &self.outer, "mtu", &mtu, "type", "veth", "peer", "name", &self.inner, "mtu", &mtu])?;
        disable_ipv6(&self.outer)?;
        ip(&["link", "set", &self.inner, "netns", &self.netns])?;
        // The inner end's IPv6 settings are made anew in its namespace: disable them there.
        in_netns(&self.netns, || disable_ipv6(&self.inner).map_err(io::Error::other)).map_err(|e| e.to_string())?;
        ip(&["link", "set", &self.outer, "up"])?;
        ip(&["-n", &self.netns, "link", "set", &self.inner, "up"])?;
        // Frames sent before the pair has carrier are lost.
        let deadline = Instant::now() + Duration::from_secs(5);
        let state = format!("/sys/class/net/{}/operstate", self.outer);
        while std::fs::read_to_string(&state).map(|s| s.trim() != "up").unwrap_or(true) {
            if Instant::now() > deadline {
                return Err(format!("{} did not come up", self.outer));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Ok(())
    }

    /// Something that sends frames on the inner end, from any thread.
    pub fn injector(&self) -> Injector {
        Injector { netns: self.netns.clone(), interface: self.inner.clone() }
    }

    /// Sends `frames` (whole Ethernet frames) on the inner end; they arrive on `outer`.
    pub fn send_frames<F: AsRef<[u8]> + Sync>(&self, frames: &[F]) -> io::Result<usize> {
        self.injector().send_frames(frames)
    }

    /// Sends `frames` paced at `packets_per_second`; returns what was sent and how long it took.
    pub fn replay_at_rate<F: AsRef<[u8]> + Sync>(&self, frames: &[F], packets_per_second: f64) -> io::Result<Replay> {
        self.injector().replay_at_rate(frames, packets_per_second)
    }

    fn cleanup(&self) {
        // Deleting the namespace deletes the inner end, and with it the pair; the outer end is
        // deleted explicitly in case the inner one never got moved.
        let _ = Command::new("ip").args(["link", "del", &self.outer]).output();
        let _ = Command::new("ip").args(["netns", "del", &self.netns]).output();
    }
}

impl Drop for Veth {
    fn drop(&mut self) {
        self.cleanup();
    }
}

/// Sends frames on an interface inside a namespace. Cheap to clone, `Send`: give one to a
/// thread that replays traffic while the test does something else.
#[derive(Clone, Debug)]
pub struct Injector {
    netns: String,
    interface: String,
}

/// What [`Injector::replay_at_rate`] did.
#[derive(Clone, Copy, Debug)]
pub struct Replay {
    /// Frames sent.
    pub sent: usize,
    /// From the first send to the last.
    pub elapsed: Duration,
}

impl Injector {
    /// Sends `frames` back to back.
    pub fn send_frames<F: AsRef<[u8]> + Sync>(&self, frames: &[F]) -> io::Result<usize> {
        in_netns(&self.netns, || {
            let socket = PacketSocket::bind(&self.interface)?;
            for frame in frames {
                socket.send(frame.as_ref())?;
            }
            Ok(frames.len())
        })
    }

    /// Sends `frames` paced at `packets_per_second` (frame `i` leaves at `i / rate` seconds).
    pub fn replay_at_rate<F: AsRef<[u8]> + Sync>(&self, frames: &[F], packets_per_second: f64) -> io::Result<Replay> {
        if !(packets_per_second > 0.0 && packets_per_second.is_finite()) {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "the rate must be positive"));
        }
        in_netns(&self.netns, || {
            let socket = PacketSocket::bind(&self.interface)?;
            let start = Instant::now();
            for (i, frame) in frames.iter().enumerate() {
                let due = start + Duration::from_secs_f64(i as f64 / packets_per_second);
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
                socket.send(frame.as_ref())?;
            }
            Ok(Replay { sent: frames.len(), elapsed: start.elapsed() })
        })
    }
}

/// The Ethernet frames of a pcap or pcapng capture, in order (e.g. to replay it).
pub fn frames_of(capture: &[u8]) -> Vec<Vec<u8>> {
    ferret::capture::PacketReader::new(capture)
        .expect("a capture")
        .map(|packet| packet.expect("an intact capture").data.to_vec())
        .collect()
}

/// Runs `f` on a thread that has entered the network namespace `netns`.
fn in_netns<R: Send>(netns: &str, f: impl FnOnce() -> io::Result<R> + Send) -> io::Result<R> {
    let path = format!("/var/run/netns/{netns}");
    std::thread::scope(|scope| {
        let handle = scope.spawn(move || {
            let ns = File::open(&path)?;
            // SAFETY: setns on this thread only (it ends with the scope), with an open namespace file.
            if unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
                return Err(io::Error::last_os_error());
            }
            f()
        });
        handle.join().map_err(|_| io::Error::other("the namespace thread panicked"))?
    })
}

/// Writes 1 to `net.ipv6.conf.<interface>.disable_ipv6` of the calling thread's namespace.
fn disable_ipv6(interface: &str) -> Result<(), String> {
    let path = format!("/proc/sys/net/ipv6/conf/{interface}/disable_ipv6");
    if !std::path::Path::new("/proc/sys/net/ipv6").exists() {
        return Ok(()); // A kernel without IPv6 sends no IPv6 either.
    }
    std::fs::write(&path, "1").map_err(|e| format!("{path}: {e}"))
}

/// Runs `ip ARGS`, turning a failure into its stderr.
fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip").args(args).output().map_err(|e| format!("ip: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("ip {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()))
    }
}

/// An AF_PACKET socket bound to one interface, for sending whole frames.
struct PacketSocket {
    fd: OwnedFd,
}

impl PacketSocket {
    /// Binds to `interface` as seen from the calling thread's namespace. Protocol 0: the socket
    /// receives nothing, it only sends.
    fn bind(interface: &str) -> io::Result<PacketSocket> {
        let name = CString::new(interface).map_err(io::Error::other)?;
        // SAFETY: plain system calls; the address is a local, fully initialised sockaddr_ll.
        unsafe {
            let index = libc::if_nametoindex(name.as_ptr());
            if index == 0 {
                return Err(io::Error::last_os_error());
            }
            let raw = libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0);
            if raw < 0 {
                return Err(io::Error::last_os_error());
            }
            let fd = OwnedFd::from_raw_fd(raw);
            let mut addr: libc::sockaddr_ll = std::mem::zeroed();
            addr.sll_family = libc::AF_PACKET as u16;
            addr.sll_ifindex = index as i32;
            let len = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
            if libc::bind(fd.as_raw_fd(), (&addr as *const libc::sockaddr_ll).cast(), len) != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(PacketSocket { fd })
        }
    }

    /// Sends one frame as is, retrying while the device queue is full.
    fn send(&self, frame: &[u8]) -> io::Result<()> {
        loop {
            // SAFETY: sends `frame.len()` bytes from a live slice.
            let sent = unsafe { libc::send(self.fd.as_raw_fd(), frame.as_ptr().cast(), frame.len(), 0) };
            if sent >= 0 {
                return if sent as usize == frame.len() {
                    Ok(())
                } else {
                    Err(io::Error::other(format!("sent {sent} of {} bytes", frame.len())))
                };
            }
            let error = io::Error::last_os_error();
            match error.raw_os_error() {
                Some(libc::ENOBUFS) | Some(libc::EAGAIN) => std::thread::sleep(Duration::from_micros(100)),
                Some(libc::EINTR) => {}
                _ => return Err(error),
            }
        }
    }
}
