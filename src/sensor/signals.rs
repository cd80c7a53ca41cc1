//! Signals a sensor answers, as Suricata does: SIGINT and SIGTERM stop it
//! cleanly, SIGHUP reopens its output files (logrotate), SIGUSR2 reloads its
//! rules.
//!
//! Why a thread: a signal handler may do almost nothing safely, so the
//! handlers (signal-hook's) only wake a thread, which sets flags the scan
//! loop reads between batches and forwards reload requests. The loop sees a
//! flag within one poll wait (100 ms), so no packet is cut in half and no
//! alert line is left partial.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::Arc;

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGUSR2};
use signal_hook::iterator::Signals;

/// Flags set by signals, read by the scan loop.
#[derive(Debug, Default)]
pub struct Flags {
    stop: AtomicBool,
    reopen: AtomicBool,
}

impl Flags {
    /// True once SIGINT or SIGTERM arrived.
    pub fn stop_requested(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// Asks the loop to stop (as SIGTERM does).
    pub fn request_stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    /// True (once) after SIGHUP: the caller reopens its outputs.
    pub fn take_reopen(&self) -> bool {
        self.reopen.swap(false, Ordering::Relaxed)
    }
}

/// Starts the signal thread. `reload` receives a message per SIGUSR2.
pub fn listen(reload: Option<Sender<()>>) -> io::Result<Arc<Flags>> {
    let flags = Arc::new(Flags::default());
    let mut signals = Signals::new([SIGINT, SIGTERM, SIGHUP, SIGUSR2])?;
    let shared = Arc::clone(&flags);
    std::thread::Builder::new().name("ferret-signals".into()).spawn(move || {
        for signal in signals.forever() {
            match signal {
                SIGINT | SIGTERM => shared.request_stop(),
                SIGHUP => shared.reopen.store(true, Ordering::Relaxed),
                SIGUSR2 => {
                    if let Some(tx) = &reload {
                        let _ = tx.send(());
                    }
                }
                _ => {}
            }
        }
    })?;
    Ok(flags)
}
