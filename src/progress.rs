//! A progress bar on stderr for long scans: packets, bytes and rates.
//!
//! Shown only when stderr is a terminal, so logs, pipes and CI see nothing.
//! The scan loop reports every packet; the bar is touched only every few
//! thousand packets, so the cost per packet is two additions. When alert lines
//! go to the same terminal, each line is written with the bar cleared and
//! redrawn after, so the two never mix on screen.

use std::io::{self, IsTerminal, Write};
use std::time::Duration;

use indicatif::{HumanBytes, HumanCount, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Packets between updates of the bar.
const EVERY: u64 = 4096;

/// The bar, or nothing.
pub struct Progress {
    bar: Option<ProgressBar>,
    packets: u64,
    bytes: u64,
    next: u64,
}

impl Progress {
    /// A bar on stderr if stderr is a terminal, else an inert one.
    pub fn for_stderr() -> Progress {
        Progress::new(io::stderr().is_terminal())
    }

    /// A bar drawn on stderr when `show`, else an inert one.
    pub fn new(show: bool) -> Progress {
        let bar = show.then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(8));
            let style = ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner());
            bar.set_style(style);
            bar.enable_steady_tick(Duration::from_millis(250));
            bar
        });
        Progress { bar, packets: 0, bytes: 0, next: EVERY }
    }

    /// True when a bar is drawn.
    pub fn is_shown(&self) -> bool {
        self.bar.is_some()
    }

    /// Counts one packet of `bytes` bytes on the wire.
    #[inline]
    pub fn packet(&mut self, bytes: u64) {
        self.packets += 1;
        self.bytes += bytes;
        if self.packets >= self.next {
            self.next = self.packets + EVERY;
            self.draw();
        }
    }

    fn draw(&self) {
        if let Some(bar) = &self.bar {
            bar.set_position(self.packets);
            let secs = bar.elapsed().as_secs_f64().max(1e-3);
            bar.set_message(format!(
                "{} packets, {} ({} packets/s, {}/s)",
                HumanCount(self.packets),
                HumanBytes(self.bytes),
                HumanCount((self.packets as f64 / secs) as u64),
                HumanBytes((self.bytes as f64 / secs) as u64)
            ));
        }
    }

    /// Removes the bar from the screen.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    /// A writer for alert lines to the terminal the bar is on: whole lines,
    /// each written with the bar out of the way.
    pub fn line_writer<W: Write + Send + 'static>(&self, inner: W) -> Box<dyn Write> {
        match &self.bar {
            Some(bar) => Box::new(io::LineWriter::new(Suspending { bar: bar.clone(), inner })),
            None => Box::new(io::BufWriter::new(inner)),
        }
    }
}

struct Suspending<W> {
    bar: ProgressBar,
    inner: W,
}

impl<W: Write> Write for Suspending<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let Suspending { bar, inner } = self;
        bar.suspend(|| inner.write_all(buf)).map(|()| buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_bar_counts_and_passes_writes_through() {
        let mut p = Progress::new(false);
        for _ in 0..10_000 {
            p.packet(100);
        }
        assert_eq!((p.packets, p.bytes, p.is_shown()), (10_000, 1_000_000, false));
        p.finish();
    }
}
