//! From rule paths (or the embedded defaults) to a compiled [`RuleSet`].
//!
//! Reads files and directories (`*.rules`, sorted, recursively but bounded in
//! depth and entries, each folder once whatever symlinks point at it), guards
//! against oversized or non-UTF-8 files, parses each, reads the data files
//! their `file("...")` values name (allowlists beside the rules, embedded for
//! the default rules), compiles all together, and returns either the rule set
//! or every problem found, rendered with `file:line:col`, the line and a
//! caret. File access stays here so the compiler never touches the disk.
//!
//! `layers` gathers what shapes the set besides the files (the config's
//! variables, networks, `disable` and `suppress`, and the command line's
//! `--var` and `--disable`); a reload calls it and [`load_configured`] again,
//! so disabled rules and suppressions apply to every rule set built.

use std::fmt::Write;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::engine::compile::{self, ParsedFile, VarLayers};
use crate::engine::ruleset::RuleSet;
use crate::engine::suppress::Disable;
use crate::rules::ast::{Expr, Item, RuleFile, RuleOption, Value, ValueKind};
use crate::rules::defaults::{builtin_data, display_path, DEFAULT_RULES, DISPLAY_PREFIX};
use crate::rules::diag::Diagnostic;
use crate::rules::parse::parse_rule_file;
use crate::rules::span::Span;
use crate::rules::suricata;

/// Largest rule file accepted.
pub const MAX_RULE_FILE_BYTES: u64 = 16 << 20;

/// Rules could not be loaded: every problem, ready to print.
#[derive(Debug, Clone)]
pub struct LoadFailure {
    /// Rendered problems, each ending in a newline.
    pub problems: Vec<String>,
}

impl LoadFailure {
    fn single(msg: String) -> LoadFailure {
        LoadFailure { problems: vec![format!("error: {msg}\n")] }
    }
}

/// Where rules come from.
#[derive(Debug, Clone)]
pub enum RuleSource {
    /// A file or a directory of `*.rules` files.
    Path(PathBuf),
    /// The embedded default rules.
    Defaults,
}

/// Reads the rule text of every source, in order.
pub fn read_sources(sources: &[RuleSource]) -> Result<Vec<(String, String)>, LoadFailure> {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for read in read_each(sources) {
        match read {
            Ok(file) => out.push(file),
            Err(unread) => problems.push(format!("error: {}\n", unread.problem)),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(LoadFailure { problems })
    }
}

/// A rule file, or a source, that could not be read.
#[derive(Debug, Clone)]
pub struct Unread {
    /// The file or path, as shown.
    pub file: String,
    /// Why, starting with the file's name.
    pub problem: String,
}

/// Reads every rule file of `sources`, in order, each on its own: one
/// unreadable file does not keep the others from being read.
pub fn read_each(sources: &[RuleSource]) -> Vec<Result<(String, String), Unread>> {
    let mut out = Vec::new();
    for source in sources {
        match source {
            RuleSource::Defaults => {
                out.extend(DEFAULT_RULES.iter().map(|(name, text)| Ok((display_path(name), (*text).to_string()))))
            }
            RuleSource::Path(path) => {
                let shown = path.display().to_string();
                match rule_files(path) {
                    Ok(files) if files.is_empty() => out.push(Err(Unread {
                        problem: format!("{shown}: no *.rules files in this directory"),
                        file: shown,
                    })),
                    Ok(files) => {
                        for file in files {
                            let shown = file.display().to_string();
                            out.push(match read_rule_file(&file) {
                                Ok(text) => Ok((shown, text)),
                                Err(problem) => Err(Unread { file: shown, problem }),
                            });
                        }
                    }
                    Err(e) => out.push(Err(Unread { problem: format!("{shown}: {e}"), file: shown })),
                }
            }
        }
    }
    out
}

/// Most folder levels below a rule path that are searched for `*.rules`.
pub const MAX_RULE_DIR_DEPTH: usize = 8;
/// Most files and folders looked at below one rule path (or matched by one glob).
pub const MAX_RULE_DIR_ENTRIES: usize = 10_000;

/// The rule files a path stands for: itself, or the `*.rules` files below it,
/// sorted. The walk is bounded: at most [`MAX_RULE_DIR_DEPTH`] levels and
/// [`MAX_RULE_DIR_ENTRIES`] entries (a path such as `/` is refused, not
/// walked), and each folder is read once however many symlinks lead to it.
fn rule_files(path: &Path) -> Result<Vec<PathBuf>, String> {
    if !path.is_dir() {
        std::fs::metadata(path).map_err(|e| e.to_string())?;
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    let mut walked = std::collections::HashSet::new();
    let mut dirs = vec![(path.to_path_buf(), 0)];
    let mut entries = 0usize;
    while let Some((dir, depth)) = dirs.pop() {
        // A symlink loop leads back to a folder already walked.
        if !walked.insert(std::fs::canonicalize(&dir).map_err(|e| e.to_string())?) {
            continue;
        }
        for entry in std::fs::read_dir(&dir).map_err(|e| e.to_string())? {
            entries += 1;
            if entries > MAX_RULE_DIR_ENTRIES {
                return Err(format!(
                    "more than {MAX_RULE_DIR_ENTRIES} files and folders below it; name a smaller folder or the rule files"
                ));
            }
            let p = entry.map_err(|e| e.to_string())?.path();
            if p.is_dir() {
                if depth >= MAX_RULE_DIR_DEPTH {
                    return Err(format!(
                        "folders nest more than {MAX_RULE_DIR_DEPTH} deep below it ({}); name a shallower folder",
                        p.display()
                    ));
                }
                dirs.push((p, depth + 1));
            } else if p.extension().is_some_and(|e| e == "rules") {
                files.push(p);
            }
        }
    }
    files.sort();
    Ok(files)
}

fn read_rule_file(path: &Path) -> Result<String, String> {
    read_text_file(path, "rule file").map_err(|e| format!("{}: {e}", path.display()))
}

/// Reads a rule or data file (`what`) of at most [`MAX_RULE_FILE_BYTES`] of UTF-8 text.
fn read_text_file(path: &Path, what: &str) -> Result<String, String> {
    let size = std::fs::metadata(path).map_err(|e| e.to_string())?.len();
    if size > MAX_RULE_FILE_BYTES {
        return Err(format!(
            "{what} is {:.1} MiB; the limit is {} MiB",
            size as f64 / (1 << 20) as f64,
            MAX_RULE_FILE_BYTES >> 20
        ));
    }
    // Read at most one byte past the limit: a file can grow, and some (devices) report size 0.
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_RULE_FILE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > MAX_RULE_FILE_BYTES {
        return Err(format!("{what} is larger than {} MiB", MAX_RULE_FILE_BYTES >> 20));
    }
    String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        format!("not UTF-8 text (invalid byte at offset {offset})")
    })
}

/// Parses and compiles rule texts `(path, text)` with variable overrides.
///
/// Rules that parse are compiled even when others did not, so syntax and
/// meaning errors are reported together, in file order.
pub fn compile_texts(texts: Vec<(String, String)>, overrides: &[(String, Value)]) -> Result<RuleSet, LoadFailure> {
    compile_with(texts, &VarLayers::overrides(overrides))
}

/// Parses and compiles rule texts with every layer of variables (config, networks, `--var`).
pub fn compile_with(texts: Vec<(String, String)>, layers: &VarLayers) -> Result<RuleSet, LoadFailure> {
    compile_checked(texts, layers, None)
}

/// Loads rules from `sources` with the variables and networks of a config,
/// checking the config's variable names against the rule files.
pub fn load_configured(
    sources: &[RuleSource],
    layers: &VarLayers,
    config: Option<&dyn ConfigCheck>,
) -> Result<RuleSet, LoadFailure> {
    compile_checked(read_sources(sources)?, layers, config)
}

fn compile_checked(
    texts: Vec<(String, String)>,
    layers: &VarLayers,
    config: Option<&dyn ConfigCheck>,
) -> Result<RuleSet, LoadFailure> {
    compile_attributed(texts, layers, config)
        .map_err(|problems| LoadFailure { problems: problems.into_iter().map(|(_, p)| p).collect() })
}

/// Like [`compile_with`], but each rendered problem stays attached to the
/// rule file it is in (`None`: the config or a variable, not a rule file), so
/// a sensor can refuse one file and keep the rest.
pub fn compile_attributed(
    texts: Vec<(String, String)>,
    layers: &VarLayers,
    config: Option<&dyn ConfigCheck>,
) -> Result<RuleSet, Vec<(Option<String>, String)>> {
    let mut files = Vec::with_capacity(texts.len());
    let mut found: Vec<(usize, Diagnostic)> = Vec::new();
    let mut refusals = Vec::new();
    for (path, text) in texts {
        let (mut ast, diags) = if suricata::is_suricata(&text) {
            let s = suricata::parse(&text);
            let refused = s.refused.into_iter().map(refusal);
            if layers.strict {
                (s.ast, refused.collect())
            } else {
                refusals.extend(refused.map(|d| {
                    let r = render(&d, &path, &text);
                    r.strip_prefix("error: ").map(str::to_string).unwrap_or(r)
                }));
                (s.ast, Vec::new())
            }
        } else {
            parse_rule_file(&text)
        };
        found.extend(diags.into_iter().map(|d| (files.len(), d)));
        let data_diags = expand_data_files(&mut ast, &DataBase::for_rule_file(&path));
        found.extend(data_diags.into_iter().map(|d| (files.len(), d)));
        files.push(ParsedFile { path, text, ast });
    }
    let known = compile::known_var_names(&files);
    let unknown = unknown_overrides(layers.overrides.iter().map(|(name, _)| name.as_str()), &known);
    if !unknown.is_empty() {
        return Err(unknown.into_iter().map(|p| (None, p)).collect());
    }
    if let Some(config) = config {
        if let Err(mut f) = config.check_names(&known) {
            if found.is_empty() {
                return Err(f.problems.into_iter().map(|p| (None, p)).collect());
            }
            let mut rendered: Vec<_> = std::mem::take(&mut f.problems).into_iter().map(|p| (None, p)).collect();
            rendered.extend(
                found.iter().filter_map(|(file, d)| {
                    files.get(*file).map(|f| (Some(f.path.clone()), render(d, &f.path, &f.text)))
                }),
            );
            return Err(rendered);
        }
    }
    let compiled = compile::compile(&files, layers);
    let rules = match compiled {
        Ok(rules) => Some(rules.with_warnings(refusals)),
        Err(errors) => {
            found.extend(errors.into_iter().map(|e| (e.file, e.diag)));
            None
        }
    };
    match rules {
        Some(rules) if found.is_empty() => Ok(rules),
        _ => {
            // The config's problems first, then by file and place.
            found.sort_by_key(|(file, d)| (*file != compile::CONFIG_FILE, *file, d.span.start));
            Err(render_capped(&found, &files, config))
        }
    }
}

/// What loading needs of a config, so that this module does not depend on
/// the config's (the config depends on this one): where it is, for errors
/// about its values, and a check of the variable names it sets against those
/// the rule files define.
pub trait ConfigCheck {
    /// The config file as shown.
    fn path(&self) -> &str;
    /// Its text.
    fn text(&self) -> &str;
    /// Every variable name it sets must be `defined` somewhere.
    fn check_names(&self, defined: &[String]) -> Result<(), LoadFailure>;
}

/// Warnings for `disable` ids that no rule of `sources` has, for commands
/// that read the rules without compiling them (`profile`).
pub fn disable_warnings(sources: &[RuleSource], disable: &[Disable]) -> Result<Vec<String>, LoadFailure> {
    let mut ids = Vec::new();
    for (_, text) in read_sources(sources)? {
        let ast = parse_any(&text);
        for item in &ast.items {
            if let Item::Rule(rule) = item {
                ids.extend(rule.options.iter().filter_map(|o| match o {
                    RuleOption::Id(id) => Some(id.node),
                    _ => None,
                }));
            }
        }
    }
    Ok(disable.iter().filter(|d| !ids.contains(&d.sid)).map(|d| format!("{}: no rule has this id", d.origin)).collect())
}

/// The variable names the rule files of `sources` define (plus the built-ins).
pub fn defined_variables(sources: &[RuleSource]) -> Result<Vec<String>, LoadFailure> {
    let files: Vec<ParsedFile> = read_sources(sources)?
        .into_iter()
        .map(|(path, text)| {
            let ast = parse_any(&text);
            ParsedFile { path, text, ast }
        })
        .collect();
    Ok(compile::defined_var_names(&files))
}

/// Checks `--var` names against rule texts `(path, text)`: a name no rule file
/// defines or uses is an error with a "did you mean" (`sweep` checks the
/// variables it sweeps before compiling a variant).
pub fn check_var_names<'n>(
    texts: &[(String, String)],
    names: impl Iterator<Item = &'n str>,
) -> Result<(), LoadFailure> {
    let files: Vec<ParsedFile> = texts
        .iter()
        .map(|(path, text)| ParsedFile { path: path.clone(), text: text.clone(), ast: parse_any(text) })
        .collect();
    let problems = unknown_overrides(names, &compile::known_var_names(&files));
    if problems.is_empty() {
        Ok(())
    } else {
        Err(LoadFailure { problems })
    }
}

/// Rendered errors for the `--var` names outside `known`: misspellings, which
/// would otherwise leave the rules on their own values without a word.
fn unknown_overrides<'n>(names: impl Iterator<Item = &'n str>, known: &[String]) -> Vec<String> {
    let mut problems: Vec<String> = Vec::new();
    for name in names.filter(|n| !known.iter().any(|k| k == n)) {
        let d = Diagnostic::new(
            format!("undefined variable '{name}'"),
            Span::new(0, name.len()),
            "no rule file defines or uses it",
        );
        let d = match crate::engine::field::closest(name, known.iter().map(String::as_str)) {
            Some(s) => d.with_help(format!("did you mean '{s}'?")),
            None => d.with_help("`ferret explain` shows the variables each rule uses"),
        };
        let problem = render(&d, &format!("--var {name}"), name);
        if !problems.contains(&problem) {
            problems.push(problem);
        }
    }
    problems
}

/// Loads, parses and compiles rules from `sources`.
pub fn load(sources: &[RuleSource], overrides: &[(String, Value)]) -> Result<RuleSet, LoadFailure> {
    compile_texts(read_sources(sources)?, overrides)
}

/// Most problems shown for one file; the rest are counted in one line.
pub const MAX_ERRORS_PER_FILE: usize = 100;

/// The start of the line that stands for the problems of a file not shown.
const MORE_ERRORS: &str = "error: … and ";

/// Renders problems sorted by file, at most [`MAX_ERRORS_PER_FILE`] per file
/// followed by "… and N more errors in FILE", each file's lines indexed once.
/// Renders the problems, at most [`MAX_ERRORS_PER_FILE`] per file, each with
/// the rule file it is in (`None`: the config, or no file).
fn render_capped(
    found: &[(usize, Diagnostic)],
    files: &[ParsedFile],
    config: Option<&dyn ConfigCheck>,
) -> Vec<(Option<String>, String)> {
    let mut problems = Vec::new();
    let mut rest = found;
    while let Some((file, _)) = rest.first() {
        let n = rest.iter().take_while(|(f, _)| f == file).count();
        let (group, after) = rest.split_at(n);
        rest = after;
        let source = match (files.get(*file), config) {
            (Some(f), _) => Some((f.path.as_str(), f.text.as_str())),
            (None, Some(c)) if *file == compile::CONFIG_FILE => Some((c.path(), c.text())),
            _ => None,
        };
        let Some((path, text)) = source else {
            problems.extend(group.iter().map(|(_, d)| (None, format!("error: {}\n", d.message))));
            continue;
        };
        let owner = files.get(*file).map(|f| f.path.clone());
        let lines = crate::rules::span::LineIndex::new(text);
        for (_, d) in group.iter().take(MAX_ERRORS_PER_FILE) {
            problems.push((owner.clone(), d.render_indexed(path, text, &lines).to_string()));
        }
        if n > MAX_ERRORS_PER_FILE {
            problems.push((owner.clone(), format!("{MORE_ERRORS}{} more errors in {path}\n", n - MAX_ERRORS_PER_FILE)));
        }
    }
    problems
}

impl LoadFailure {
    /// How many problems there are, counting those a capped file did not show.
    pub fn count(&self) -> usize {
        self.problems
            .iter()
            .map(|p| {
                let more = p.strip_prefix(MORE_ERRORS).and_then(|r| r.split(' ').next()).and_then(|n| n.parse().ok());
                more.unwrap_or(1)
            })
            .sum()
    }
}

/// The rules of a file in either syntax, ignoring errors.
fn parse_any(text: &str) -> RuleFile {
    if suricata::is_suricata(text) {
        suricata::parse(text).ast
    } else {
        parse_rule_file(text).0
    }
}

/// A Suricata rule ferret cannot load, as a diagnostic saying so.
fn refusal(d: Diagnostic) -> Diagnostic {
    Diagnostic { message: format!("rule refused: {}", d.message), ..d }
}

/// Per Suricata rule file among `sources`: its path, the rules that load and
/// those refused (for `ferret check`).
pub fn suricata_summary(sources: &[RuleSource]) -> Result<Vec<(String, usize, usize)>, LoadFailure> {
    let mut out = Vec::new();
    for (path, text) in read_sources(sources)? {
        if suricata::is_suricata(&text) {
            let s = suricata::parse(&text);
            out.push((path, s.ast.items.len(), s.refused.len()));
        }
    }
    Ok(out)
}

fn render(d: &Diagnostic, path: &str, text: &str) -> String {
    let mut s = String::new();
    let _ = write!(s, "{}", d.render(path, text));
    s
}

/// Parses a `NAME=VALUE` variable override from the command line.
pub fn parse_var_override(arg: &str) -> Result<(String, Value), LoadFailure> {
    let Some((name, value)) = arg.split_once('=') else {
        return Err(LoadFailure::single(format!("--var {arg}: expected NAME=VALUE")));
    };
    let name = name.trim().trim_start_matches('$');
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(LoadFailure::single(format!("--var {arg}: '{name}' is not a variable name")));
    }
    let shown = format!("--var {name}");
    let mut parsed = crate::rules::parse::parse_value(value)
        .map_err(|d| LoadFailure { problems: vec![render(&d, &shown, value)] })?;
    let problems: Vec<String> = expand_value(&mut parsed, &DataBase::Dir(PathBuf::from(".")))
        .iter()
        .map(|d| render(d, &shown, value))
        .collect();
    if problems.is_empty() {
        Ok((name.to_string(), parsed))
    } else {
        Err(LoadFailure { problems })
    }
}

/// Where the paths of `file("...")` values are looked up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DataBase {
    /// The data files embedded with the default rules (`data/dns-allowlist.txt`).
    Builtin,
    /// A folder on disk: the rule file's own folder, or the working
    /// directory for `--var` values.
    Dir(PathBuf),
}

impl DataBase {
    /// The base for a rule file shown as `path`: the embedded data for the
    /// embedded rules, else the file's folder.
    pub fn for_rule_file(path: &str) -> DataBase {
        if path.starts_with(DISPLAY_PREFIX) {
            return DataBase::Builtin;
        }
        let parent = Path::new(path).parent().filter(|p| !p.as_os_str().is_empty());
        DataBase::Dir(parent.map_or_else(|| PathBuf::from("."), Path::to_path_buf))
    }

    fn read(&self, path: &str) -> Result<String, String> {
        match self {
            DataBase::Builtin => builtin_data(path).map(str::to_string).ok_or_else(|| {
                format!("no data file '{path}' is built in (the default rules ship data/dns-allowlist.txt)")
            }),
            DataBase::Dir(dir) => {
                let full = dir.join(path);
                if full.metadata().is_ok_and(|m| !m.is_file()) {
                    return Err("not a regular file".into());
                }
                read_text_file(&full, "data file")
            }
        }
    }
}

/// Replaces every `file("path")` value in a parsed rule file (variables and
/// conditions) by the list of strings the file holds, one per line.
/// Returns a diagnostic at the `file(...)` text for each file that cannot be read.
pub fn expand_data_files(ast: &mut RuleFile, base: &DataBase) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    for item in &mut ast.items {
        match item {
            Item::Var(decl) => diags.extend(expand_value(&mut decl.value, base)),
            Item::Rule(rule) => {
                for option in &mut rule.options {
                    if let RuleOption::When(expr) = option {
                        expand_expr(expr, base, &mut diags);
                    }
                }
            }
        }
    }
    diags
}

fn expand_expr(expr: &mut Expr, base: &DataBase, diags: &mut Vec<Diagnostic>) {
    match expr {
        Expr::And(items, _) | Expr::Or(items, _) => items.iter_mut().for_each(|e| expand_expr(e, base, diags)),
        Expr::Not(inner, _) => expand_expr(inner, base, diags),
        Expr::Test(test) => diags.extend(expand_value(&mut test.value, base)),
        Expr::Field(_) | Expr::Bool(_) | Expr::Content(_) => {}
    }
}

/// Replaces every `file("path")` inside `value` by the file's entries: each
/// line with any `#` comment removed and surrounding spaces trimmed, empty
/// lines skipped, as a list of strings.
pub fn expand_value(value: &mut Value, base: &DataBase) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let span = value.span;
    match &mut value.kind {
        ValueKind::File(path) => match base.read(path) {
            Ok(text) => {
                let items =
                    data_entries(&text).map(|entry| Value { kind: ValueKind::Str(entry.to_string()), span }).collect();
                value.kind = ValueKind::List(items);
            }
            Err(reason) => diags.push(
                Diagnostic::new(format!("cannot read data file '{path}': {reason}"), span, "named here")
                    .with_help("paths are relative to the folder of the rule file (for --var, the working directory)"),
            ),
        },
        ValueKind::List(items) => items.iter_mut().for_each(|v| diags.extend(expand_value(v, base))),
        ValueKind::Range(a, b) => {
            diags.extend(expand_value(a, base));
            diags.extend(expand_value(b, base));
        }
        ValueKind::Not(inner) => diags.extend(expand_value(inner, base)),
        _ => {}
    }
    diags
}

/// The entries of a data file's text.
pub fn data_entries(text: &str) -> impl Iterator<Item = &str> {
    text.lines().map(|line| line.split('#').next().unwrap_or("").trim()).filter(|entry| !entry.is_empty())
}
