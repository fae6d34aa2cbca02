//! The dependency rule of the library, read from its `crate::` paths.
//!
//! The layout follows the data: `ingest` → `warehouse` → `indicators` →
//! `digest`, with the commands that orchestrate them (`jobs`, `rebuild`,
//! `status`, `check`, …) above, and `config`, `state` and the small shared
//! helpers on the ground floor. A module may use the ground floor and what
//! its row below allows; no stage or ground module uses the commands above
//! it. The edges that break the rule today are listed as debt: the test fails
//! when a new one appears, and when one listed is gone (so the list shrinks
//! with the work of issue 15 instead of going stale).

use std::collections::BTreeSet;
use std::path::Path;

/// The shared vocabulary (periods, scopes, templates, values, rows and
/// rejects, the ledger report, indicator rows): every module may use it, and
/// it uses nothing else of the crate.
const VOCABULARY: &str = "model";

/// Modules every other module may use: they use nothing but each other and
/// the vocabulary.
const GROUND: &[&str] = &[
    "config",
    "state",
    "error_chain",
    "retry",
    "progress",
    "ordered",
    // The built-in files overlaid by the analyst's folders: forms,
    // indicator SQL and labels, message templates.
    "catalogue",
    // The message templates the digest and the departments' mail share.
    "message_templates",
    // What is kept beside each archived workbook, and the lost-state guard's words.
    "archive",
    // Atomic, flushed writes.
    "durable",
];

/// The stages and the other stages each may use (beside the ground floor).
const STAGES: &[(&str, &[&str])] = &[
    ("ingest", &["warehouse"]),
    ("warehouse", &[]),
    ("indicators", &["warehouse"]),
    ("digest", &["warehouse", "mail"]),
    // The feedback and reminders attach the blank forms of `form`.
    ("notify", &["form", "mail"]),
    ("form", &["warehouse"]),
    // The sink every message goes through (digest, notify, the jobs'
    // alerts); it knows none of them. Its `.eml` files are written durably
    // with the warehouse's staged files.
    ("mail", &["warehouse"]),
];

/// The commands and the service: they may use anything below them and each other.
const COMMANDS: &[&str] = &["jobs", "rebuild", "status", "check", "logging"];

/// Edges that break the rule today: the test fails when a new one appears,
/// and when one listed is gone (so the list only shrinks).
const DEBT: &[(&str, &str)] = &[];

fn allowed(from: &str, to: &str) -> bool {
    if from == VOCABULARY {
        return from == to;
    }
    if to == VOCABULARY {
        return true;
    }
    if from == to || GROUND.contains(&to) && GROUND.contains(&from) {
        return true;
    }
    if COMMANDS.contains(&from) {
        return true;
    }
    if GROUND.contains(&from) {
        return false;
    }
    match STAGES.iter().find(|(stage, _)| *stage == from) {
        Some((_, may_use)) => GROUND.contains(&to) || may_use.contains(&to),
        None => false,
    }
}

/// The top-level module a source file belongs to (`src/ingest/sheet.rs` → `ingest`).
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let relative = file.strip_prefix(src).ok()?;
    let first = relative.components().next()?.as_os_str().to_str()?;
    Some(first.trim_end_matches(".rs").to_string())
}

/// The top-level modules named by `crate::…` paths in code (comments skipped).
fn uses(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for line in text.lines() {
        let code = match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        };
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                found.insert(name);
            }
        }
    }
    found
}

fn source_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            source_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn modules_use_only_what_the_layout_allows() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    source_files(&src, &mut files);
    let mut edges = BTreeSet::new();
    for file in &files {
        let Some(from) = module_of(&src, file) else {
            continue;
        };
        // The binary and the crate root name every module.
        if from == "main" || from == "lib" {
            continue;
        }
        let text = std::fs::read_to_string(file).expect("source");
        for to in uses(&text) {
            edges.insert((from.clone(), to));
        }
    }
    let known: BTreeSet<String> = GROUND
        .iter()
        .chain(&[VOCABULARY])
        .chain(COMMANDS)
        .map(|m| m.to_string())
        .chain(STAGES.iter().map(|(s, _)| s.to_string()))
        .collect();
    let unplaced: Vec<&String> = edges
        .iter()
        .flat_map(|(from, to)| [from, to])
        .filter(|m| !known.contains(*m))
        .collect();
    assert!(
        unplaced.is_empty(),
        "modules with no place in the layout (add them to GROUND, STAGES or COMMANDS): {unplaced:?}"
    );
    let breaking: BTreeSet<(String, String)> = edges
        .into_iter()
        .filter(|(from, to)| !allowed(from, to))
        .collect();
    let debt: BTreeSet<(String, String)> = DEBT
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    let new: Vec<_> = breaking.difference(&debt).collect();
    assert!(
        new.is_empty(),
        "modules using what the layout does not allow them (from → to): {new:?}"
    );
    let paid: Vec<_> = debt.difference(&breaking).collect();
    assert!(
        paid.is_empty(),
        "these edges are gone: take them off DEBT: {paid:?}"
    );
}

#[test]
fn the_scanner_sees_paths_in_code_and_not_in_comments() {
    let text = "use crate::state::State;\n// crate::digest is not used here\nlet x = crate::ingest::printable(y); // crate::jobs\n";
    let found: Vec<String> = uses(text).into_iter().collect();
    assert_eq!(found, ["ingest", "state"]);
    assert!(!allowed("warehouse", "ingest"));
    assert!(allowed("ingest", "warehouse"));
    assert!(!allowed("state", "jobs"));
    assert!(allowed("jobs", "digest"));
    assert!(allowed("warehouse", "model"));
    assert!(!allowed("model", "config"));
}

/// The public items of `text` (outside `#[cfg(test)]` code) with no doc
/// comment above them, as "line: item".
fn undocumented(text: &str) -> Vec<String> {
    const KINDS: &[&str] = &[
        "fn ",
        "async fn ",
        "struct ",
        "enum ",
        "const ",
        "static ",
        "type ",
        "trait ",
    ];
    let lines: Vec<&str> = text.lines().collect();
    let mut missing = Vec::new();
    for (at, line) in lines.iter().enumerate() {
        let code = line.trim_start();
        if code.starts_with("#[cfg(test)]") {
            // Unit tests sit at the end of a file.
            break;
        }
        let Some(item) = code.strip_prefix("pub ") else {
            continue;
        };
        if !KINDS.iter().any(|kind| item.starts_with(kind)) {
            continue;
        }
        let documented = lines[..at]
            .iter()
            .rev()
            .map(|l| l.trim_start())
            .find(|l| !l.starts_with("#[") && !l.starts_with(")]") && !l.starts_with('"'))
            .is_some_and(|l| l.starts_with("///"));
        if !documented {
            missing.push(format!("{}: {}", at + 1, code));
        }
    }
    missing
}

#[test]
fn every_public_item_says_what_it_is() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    // The fixtures crate too: its items are the tests' vocabulary.
    for dir in ["src", "crates/fixtures/src"] {
        source_files(&root.join(dir), &mut files);
    }
    files.sort();
    let mut missing = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("source");
        for item in undocumented(&text) {
            missing.push(format!("{}:{item}", file.display()));
        }
    }
    assert!(
        missing.is_empty(),
        "public items without a doc comment (write one: what it is, or why it is public):\n{}",
        missing.join("\n")
    );
}

#[test]
fn the_doc_check_sees_a_missing_comment_and_skips_tests() {
    let text = "/// Documented.\n#[derive(Debug)]\npub struct A;\npub fn b() {}\npub(crate) fn c() {}\n#[cfg(test)]\nmod tests {\n    pub fn d() {}\n}\n";
    assert_eq!(undocumented(text), ["4: pub fn b() {}"]);
}
