//! Rules dropped into a running sensor: watch the rule folders, compile the
//! new set aside, hand it to the scan loop to swap in between two packets.
//!
//! Why this shape (Vector's reload is the model): compiling takes
//! milliseconds to seconds and must not stall capture, so it runs on a thread
//! of its own; the loop only swaps an `Arc`. A file that fails to compile must
//! not take the others down, so each file is judged on its own: a refused file
//! keeps its last good version (or stays out, if it never had one) and the
//! rest load. Reloads never overlap: requests that arrive while one runs are
//! coalesced into exactly one more.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use notify::{EventKind, RecursiveMode, Watcher};

use crate::engine::compile::VarLayers;
use crate::engine::ruleset::RuleSet;
use crate::load::{self, RuleSource};

/// Quiet time after the last file event before a reload starts (editors
/// write a temporary file, then rename it).
pub const DEBOUNCE: Duration = Duration::from_millis(200);
/// Longest a stream of file events can put a reload off.
const MAX_DEFER: Duration = Duration::from_secs(2);

/// A rule file the last load refused.
#[derive(Debug, Clone)]
pub struct Refusal {
    /// The file.
    pub file: String,
    /// Its problems, rendered as `ferret check` prints them.
    pub problems: Vec<String>,
    /// True if its previous good version stays loaded instead.
    pub kept_previous: bool,
}

/// What one load produced.
#[derive(Debug)]
pub struct Loaded {
    /// The new rule set; `None` when nothing could be compiled (the running set stays).
    pub rules: Option<Arc<RuleSet>>,
    /// Files compiled into it.
    pub files: Vec<String>,
    /// Files refused.
    pub refused: Vec<Refusal>,
    /// Problems that belong to no rule file (variables, the config).
    pub general: Vec<String>,
    /// How long reading and compiling took.
    pub took: Duration,
}

impl Loaded {
    /// Errors found, for the `rules_failed` statistic.
    pub fn errors(&self) -> usize {
        self.refused.iter().map(|r| r.problems.len()).sum::<usize>() + self.general.len()
    }
}

/// Loads rules from their sources, file by file, remembering each file's last good text.
#[derive(Debug)]
pub struct RuleLoader {
    sources: Vec<RuleSource>,
    layers: VarLayers,
    last_good: HashMap<String, String>,
}

impl RuleLoader {
    /// A loader for `sources` compiled with `layers`.
    pub fn new(sources: Vec<RuleSource>, layers: VarLayers) -> RuleLoader {
        RuleLoader { sources, layers, last_good: HashMap::new() }
    }

    /// The folders and files to watch for changes.
    pub fn watch_targets(&self) -> Vec<(PathBuf, RecursiveMode)> {
        self.sources
            .iter()
            .filter_map(|s| match s {
                RuleSource::Path(p) if p.is_dir() => Some((p.clone(), RecursiveMode::Recursive)),
                RuleSource::Path(p) => {
                    let parent = p.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
                    Some((parent.to_path_buf(), RecursiveMode::NonRecursive))
                }
                RuleSource::Defaults => None,
            })
            .collect()
    }

    /// Reads and compiles every file; a file with errors falls back to its
    /// last good text, or is left out if it has none.
    pub fn load(&mut self) -> Loaded {
        let started = Instant::now();
        let mut refused: Vec<Refusal> = Vec::new();
        let mut candidates: Vec<(String, String)> = Vec::new();
        for read in load::read_each(&self.sources) {
            match read {
                Ok(file) => candidates.push(file),
                Err(unread) => {
                    let previous = self.last_good.get(&unread.file).cloned();
                    refused.push(Refusal {
                        file: unread.file.clone(),
                        problems: vec![format!("error: {}\n", unread.problem)],
                        kept_previous: previous.is_some(),
                    });
                    if let Some(text) = previous {
                        candidates.push((unread.file, text));
                    }
                }
            }
        }
        // Each round refuses at least one file, so this ends.
        for _ in 0..=candidates.len() {
            match load::compile_attributed(candidates.clone(), &self.layers, None) {
                Ok(rules) => {
                    let files = candidates.iter().map(|(f, _)| f.clone()).collect();
                    self.last_good = candidates.into_iter().collect();
                    return Loaded {
                        rules: Some(Arc::new(rules)),
                        files,
                        refused,
                        general: Vec::new(),
                        took: started.elapsed(),
                    };
                }
                Err(problems) => {
                    let mut by_file: HashMap<String, Vec<String>> = HashMap::new();
                    let mut general = Vec::new();
                    for (file, problem) in problems {
                        match file {
                            Some(f) => by_file.entry(f).or_default().push(problem),
                            None => general.push(problem),
                        }
                    }
                    if by_file.is_empty() {
                        return Loaded { rules: None, files: Vec::new(), refused, general, took: started.elapsed() };
                    }
                    candidates.retain_mut(|(file, text)| {
                        let Some(problems) = by_file.remove(file.as_str()) else { return true };
                        let previous = self.last_good.get(file.as_str()).filter(|p| *p != text).cloned();
                        if !refused.iter().any(|r| r.file == *file) {
                            refused.push(Refusal { file: file.clone(), problems, kept_previous: previous.is_some() });
                        }
                        match previous {
                            Some(p) => {
                                *text = p;
                                true
                            }
                            None => {
                                if let Some(r) = refused.iter_mut().find(|r| r.file == *file) {
                                    r.kept_previous = false;
                                }
                                false
                            }
                        }
                    });
                }
            }
        }
        Loaded { rules: None, files: Vec::new(), refused, general: Vec::new(), took: started.elapsed() }
    }
}

/// Why a reload runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// A file changed in a rule folder.
    FileChange,
    /// SIGUSR2, or a request from code.
    Request,
}

/// The reload thread and, if asked, its file watcher.
pub struct Reloader {
    requests: Sender<Trigger>,
    outcomes: Receiver<Loaded>,
    _watcher: Option<notify::RecommendedWatcher>,
}

impl Reloader {
    /// Starts the reload thread for `loader`; with `watch`, also a watcher on its rule folders.
    pub fn start(loader: RuleLoader, watch: bool) -> std::io::Result<Reloader> {
        let (requests, incoming) = mpsc::channel::<Trigger>();
        let (done, outcomes) = mpsc::channel::<Loaded>();
        let watcher = if watch { Some(start_watcher(&loader, requests.clone())?) } else { None };
        std::thread::Builder::new().name("ferret-reload".into()).spawn(move || run(loader, incoming, done))?;
        Ok(Reloader { requests, outcomes, _watcher: watcher })
    }

    /// A sender that asks for a reload (the signal thread holds one).
    pub fn requester(&self) -> Sender<()> {
        let (tx, rx) = mpsc::channel::<()>();
        let forward = self.requests.clone();
        let _ = std::thread::Builder::new().name("ferret-reload-signal".into()).spawn(move || {
            while rx.recv().is_ok() {
                if forward.send(Trigger::Request).is_err() {
                    return;
                }
            }
        });
        tx
    }

    /// Asks for a reload.
    pub fn request(&self) {
        let _ = self.requests.send(Trigger::Request);
    }

    /// A finished load, if one is waiting.
    pub fn try_take(&self) -> Option<Loaded> {
        self.outcomes.try_recv().ok()
    }
}

fn run(mut loader: RuleLoader, incoming: Receiver<Trigger>, done: Sender<Loaded>) {
    while let Ok(first) = incoming.recv() {
        if first == Trigger::FileChange {
            // Wait for the folder to go quiet, but not for ever.
            let started = Instant::now();
            loop {
                match incoming.recv_timeout(DEBOUNCE) {
                    Ok(_) if started.elapsed() < MAX_DEFER => continue,
                    Ok(_) | Err(RecvTimeoutError::Timeout) => break,
                    Err(RecvTimeoutError::Disconnected) => return,
                }
            }
        }
        // Requests that came before this point are served by this load.
        while incoming.try_recv().is_ok() {}
        if done.send(loader.load()).is_err() {
            return;
        }
    }
}

fn start_watcher(loader: &RuleLoader, requests: Sender<Trigger>) -> std::io::Result<notify::RecommendedWatcher> {
    let files: Vec<PathBuf> = loader
        .sources
        .iter()
        .filter_map(|s| match s {
            RuleSource::Path(p) if !p.is_dir() => Some(absolute(p)),
            _ => None,
        })
        .collect();
    let dirs: Vec<PathBuf> = loader
        .sources
        .iter()
        .filter_map(|s| match s {
            RuleSource::Path(p) if p.is_dir() => Some(absolute(p)),
            _ => None,
        })
        .collect();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        if !matters(&event.kind) {
            return;
        }
        let relevant = event
            .paths
            .iter()
            .any(|p| !is_editor_litter(p) && (files.iter().any(|f| f == p) || dirs.iter().any(|d| p.starts_with(d))));
        if relevant {
            let _ = requests.send(Trigger::FileChange);
        }
    })
    .map_err(std::io::Error::other)?;
    for (path, mode) in loader.watch_targets() {
        watcher
            .watch(&path, mode)
            .map_err(|e| std::io::Error::other(format!("cannot watch {}: {e}", path.display())))?;
    }
    Ok(watcher)
}

/// Creations, writes, renames and removals; not reads (ferret's own reading
/// of the rule files must not set off another reload).
fn matters(kind: &EventKind) -> bool {
    use notify::event::{AccessKind, AccessMode};
    matches!(
        kind,
        EventKind::Create(_)
            | EventKind::Modify(_)
            | EventKind::Remove(_)
            | EventKind::Access(AccessKind::Close(AccessMode::Write))
    )
}

/// Swap files and backups editors leave beside the file they save.
fn is_editor_litter(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.starts_with(".#") || name.ends_with('~') || name.ends_with(".swp") || name.ends_with(".swx") || name == "4913"
}

fn absolute(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).or_else(|_| std::path::absolute(p)).unwrap_or_else(|_| p.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "alert icmp any any -> any any { id 1 msg \"big\" when payload.len > 10 }\n";
    const OTHER: &str = "alert udp any any -> any any { id 2 msg \"udp\" when payload.len > 10 }\n";
    const BAD: &str = "alert icmp any any -> any any { id 3 msg \"bad\" when payload.lenght > 10 }\n";

    fn loader(dir: &Path) -> RuleLoader {
        RuleLoader::new(vec![RuleSource::Path(dir.to_path_buf())], VarLayers::default())
    }

    fn sids(l: &Loaded) -> Vec<u64> {
        l.rules.as_ref().unwrap().rules().iter().map(|r| r.sid).collect()
    }

    #[test]
    fn a_bad_file_stays_out_and_the_good_ones_load() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.rules"), GOOD).unwrap();
        std::fs::write(dir.path().join("b.rules"), BAD).unwrap();
        let loaded = loader(dir.path()).load();
        assert_eq!(sids(&loaded), vec![1]);
        assert_eq!(loaded.refused.len(), 1);
        assert!(loaded.refused[0].file.ends_with("b.rules"));
        assert!(!loaded.refused[0].kept_previous);
        assert!(loaded.refused[0].problems[0].contains("unknown field 'payload.lenght'"), "{:?}", loaded.refused);
    }

    #[test]
    fn a_file_broken_later_keeps_its_last_good_version() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.rules"), GOOD).unwrap();
        std::fs::write(dir.path().join("b.rules"), OTHER).unwrap();
        let mut l = loader(dir.path());
        assert_eq!(sids(&l.load()), vec![1, 2]);
        std::fs::write(dir.path().join("b.rules"), BAD).unwrap();
        let loaded = l.load();
        assert_eq!(sids(&loaded), vec![1, 2]);
        assert!(loaded.refused[0].kept_previous);
        // Fixed: the new text loads.
        std::fs::write(dir.path().join("b.rules"), BAD.replace("lenght", "len")).unwrap();
        let loaded = l.load();
        assert_eq!(sids(&loaded), vec![1, 3]);
        assert!(loaded.refused.is_empty());
    }

    #[test]
    fn a_duplicate_id_across_files_refuses_the_file_that_brings_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.rules"), GOOD).unwrap();
        let mut l = loader(dir.path());
        l.load();
        std::fs::write(dir.path().join("b.rules"), GOOD.replace("big", "copy")).unwrap();
        let loaded = l.load();
        assert_eq!(sids(&loaded), vec![1]);
        assert_eq!(loaded.refused.len(), 1);
        assert!(loaded.refused[0].file.ends_with("b.rules"));
    }

    #[test]
    fn a_removed_file_takes_its_rules_with_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.rules"), GOOD).unwrap();
        std::fs::write(dir.path().join("b.rules"), OTHER).unwrap();
        let mut l = loader(dir.path());
        l.load();
        std::fs::remove_file(dir.path().join("b.rules")).unwrap();
        assert_eq!(sids(&l.load()), vec![1]);
    }

    #[test]
    fn the_watcher_reloads_after_a_save_and_coalesces_rapid_saves() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.rules"), GOOD).unwrap();
        let reloader = Reloader::start(loader(dir.path()), true).unwrap();
        for i in 0..10 {
            std::fs::write(dir.path().join("b.rules"), OTHER.replace("udp\"", &format!("udp {i}\""))).unwrap();
        }
        let started = Instant::now();
        let first = loop {
            if let Some(l) = reloader.try_take() {
                break l;
            }
            assert!(started.elapsed() < Duration::from_secs(10), "no reload after a save");
            std::thread::sleep(Duration::from_millis(10));
        };
        assert_eq!(sids(&first), vec![1, 2]);
        std::thread::sleep(DEBOUNCE * 3);
        // Ten saves within the debounce window: one reload (at most one more queued behind it).
        let mut extra = 0;
        while reloader.try_take().is_some() {
            extra += 1;
        }
        assert!(extra <= 1, "{extra} extra reloads");
    }
}
