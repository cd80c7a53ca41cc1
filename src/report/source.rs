//! Where `ferret report` reads EVE from: a source is a label and an iterator
//! of EVE lines.
//!
//! A file, standard input and a Redis list ([`super::redis`]) are sources
//! today. Anything else that yields
//! EVE lines (a Redis list, a socket, a SIEM export) becomes one by giving a
//! label and a [`Lines`] iterator: [`super::files::load_sources`] reads every
//! source the same way, names each broken line `LABEL:LINE:COL`, and looks
//! for run statistics beside a source only when it is a file.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use super::input::MAX_LINE;

/// EVE lines without their line ends. A line longer than [`MAX_LINE`] is cut
/// to `MAX_LINE + 1` bytes (the reader skips it as too long); an `Err` ends
/// the source.
pub type Lines = Box<dyn Iterator<Item = io::Result<Vec<u8>>>>;

/// One input of `ferret report`.
pub struct EveSource {
    /// How notes and the report name it: the path as given, or `stdin`.
    pub label: String,
    /// The file, when it is one (its run statistics may sit beside it).
    pub path: Option<PathBuf>,
    /// Its lines.
    pub lines: Lines,
}

/// The label of standard input.
pub const STDIN_LABEL: &str = "stdin";

impl EveSource {
    /// Opens `spec`: `-` is standard input, `redis://...` a Redis list, anything else a file.
    pub fn open(spec: &Path) -> Result<EveSource, String> {
        if spec.as_os_str() == "-" {
            return Ok(EveSource::from_reader(STDIN_LABEL, None, BufReader::new(io::stdin())));
        }
        let label = spec.display().to_string();
        if crate::output::target::is_redis_url(&label) {
            return super::redis::open(&label);
        }
        let file = File::open(spec).map_err(|e| format!("{label}: {e}"))?;
        if file.metadata().is_ok_and(|m| m.is_dir()) {
            return Err(format!("{label}: is a directory, not an EVE file"));
        }
        Ok(EveSource::from_reader(&label, Some(spec.to_path_buf()), BufReader::new(file)))
    }

    /// A source reading lines from `reader`.
    pub fn from_reader(label: &str, path: Option<PathBuf>, reader: impl BufRead + 'static) -> EveSource {
        EveSource { label: label.to_string(), path, lines: Box::new(LineReader { reader, done: false }) }
    }
}

/// Splits a reader into lines of at most `MAX_LINE + 1` bytes, whatever the bytes are.
struct LineReader<R> {
    reader: R,
    done: bool,
}

impl<R: BufRead> LineReader<R> {
    /// Skips to the end of the current line (or of the input).
    fn skip_line(&mut self) -> io::Result<()> {
        loop {
            let buf = self.reader.fill_buf()?;
            if buf.is_empty() {
                return Ok(());
            }
            match buf.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    self.reader.consume(i + 1);
                    return Ok(());
                }
                None => {
                    let n = buf.len();
                    self.reader.consume(n);
                }
            }
        }
    }
}

impl<R: BufRead> Iterator for LineReader<R> {
    type Item = io::Result<Vec<u8>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let mut line = Vec::new();
        let limit = MAX_LINE as u64 + 1;
        match (&mut self.reader).take(limit).read_until(b'\n', &mut line) {
            Ok(0) => {
                self.done = true;
                return None;
            }
            Ok(_) => {}
            Err(e) => {
                self.done = true;
                return Some(Err(e));
            }
        }
        if line.last() == Some(&b'\n') {
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
        } else if line.len() > MAX_LINE {
            if let Err(e) = self.skip_line() {
                self.done = true;
                return Some(Err(e));
            }
        }
        Some(Ok(line))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(bytes: &[u8]) -> Vec<Vec<u8>> {
        let source = EveSource::from_reader("t", None, io::Cursor::new(bytes.to_vec()));
        source.lines.map(|l| l.unwrap()).collect()
    }

    #[test]
    fn lines_lose_their_ends_and_keep_their_bytes() {
        assert_eq!(lines(b"a\nb\r\n\n\xffc"), vec![b"a".to_vec(), b"b".to_vec(), vec![], b"\xffc".to_vec()]);
        assert!(lines(b"").is_empty());
    }

    #[test]
    fn an_overlong_line_is_cut_and_the_next_one_read() {
        let mut bytes = vec![b'x'; MAX_LINE + 10];
        bytes.extend_from_slice(b"\nnext\n");
        let got = lines(&bytes);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].len(), MAX_LINE + 1);
        assert_eq!(got[1], b"next".to_vec());
    }

    #[test]
    fn missing_files_and_directories_are_clear_errors() {
        let e = EveSource::open(Path::new("/nonexistent/eve.json")).err().unwrap();
        assert!(e.starts_with("/nonexistent/eve.json: "), "{e}");
        let e = EveSource::open(Path::new("/")).err().unwrap();
        assert!(e.contains("is a directory"), "{e}");
    }
}
