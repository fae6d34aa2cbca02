//! The state database is never the only copy of truth about data.
//!
//! - A ledger id (random, made when the state database is created) is
//!   written beside the data, in `<warehouse>/.nhanluc-ledger` and
//!   `<archive>/.nhanluc-ledger`. A state that is missing, empty, or another
//!   ledger's beside an archive or warehouse holding data is refused
//!   ([`open_checked`], [`trust`]): nothing is "repaired" by deleting parts.
//! - Every accepted workbook has a manifest beside its archived copy,
//!   `archive/<aa>/<sha>.<ext>.<DEPT>.json`: where it arrived (the department
//!   folder, the file name and sub-folders carry period evidence) and when.
//!   It is staged with the batch, durable before the ledger commit.
//! - [`rebuild`] re-ingests every manifest in the order the ledger recorded
//!   them, through the same path as `ingest` ([`ingest::ingest_archived`]),
//!   so ids, supersession and receipt times come out the same.
//! - The ledger records every data part's size and sha256; [`ensure_parts`]
//!   checks them before indicators and digests, rewrites a missing or damaged
//!   part from its archived workbook, or fails closed naming it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use crate::archive::{
    Census, LostKind, archive_files, lost, read_marker, rebuild_flag, write_marker,
};
use crate::config::Config;
use crate::indicators::{self, IndicatorError, IndicatorOutcome};
use crate::ingest::{self, IngestError, IngestReport, census, part_records, read_manifest, trust};
use crate::model::report::LedgerReport;
use crate::model::status::SubmissionStatus;
use crate::model::submission::Submission;
use crate::state::{LedgerCounts, NewQuarantine, PartRecord, State, StateError};
use crate::warehouse::{self};

/// Opens the state database, refusing a lost one (see the module doc). A
/// missing state file is created only when nothing is beside it (the first
/// run, or `rm -rf data`).
pub fn open_checked(config: &Config) -> Result<State, StateError> {
    let path = &config.paths.state;
    if rebuild_flag(path).exists() {
        return Err(lost(config, LostKind::RebuildUnfinished, Census::default()));
    }
    if !path.exists() {
        let census = census(config);
        let marked = read_marker(&config.paths.warehouse).is_some()
            || read_marker(&config.paths.archive).is_some();
        if census.holds_data() || marked {
            return Err(lost(config, LostKind::Missing, census));
        }
    }
    let state = State::open(path)?;
    trust(config, &state)?;
    Ok(state)
}

// ---- parts known to the ledger ---------------------------------------------------

/// Why the part files could not be checked against the ledger or
/// rewritten, or which are lost.
#[derive(Debug, thiserror::Error)]
pub enum PartsError {
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error(
        "{} warehouse part file(s) missing or damaged and not rebuilt, so no indicators or digest are built from incomplete data: {}",
        .0.len(),
        .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
    )]
    Lost(Vec<DamagedPart>),
}

/// A part file that is not what the ledger recorded.
#[derive(Debug, Clone)]
pub struct DamagedPart {
    pub path: PathBuf,
    pub submission_id: String,
    pub source_file: String,
    /// What is wrong with it.
    pub what: String,
    /// Why it could not be rebuilt (empty when it was).
    pub why: String,
}

impl fmt::Display for DamagedPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (submission {}, {}) is {}",
            self.path.display(),
            self.submission_id,
            self.source_file,
            self.what
        )?;
        if !self.why.is_empty() {
            write!(f, ", not rebuilt: {}", self.why)?;
        }
        Ok(())
    }
}

/// What [`ensure_parts`] found.
#[derive(Debug, Clone, Default)]
pub struct PartsCheck {
    pub checked: usize,
    /// Parts of an older install recorded now, as found.
    pub recorded: usize,
    pub rebuilt: Vec<DamagedPart>,
}

/// Checks every part the ledger holds active against its recorded size and
/// sha256 (or, for a part recorded before this check existed, that it is
/// there: it is recorded as found). A missing or damaged part is rewritten
/// from its archived workbook; if that is impossible, fails naming it.
pub fn ensure_parts(config: &Config, state: &mut State) -> Result<PartsCheck, PartsError> {
    let started = std::time::Instant::now();
    let root = &config.paths.warehouse;
    let recorded = state.recorded_parts()?;
    let submissions: HashMap<String, Submission> = state
        .submissions()?
        .into_iter()
        .map(|s| (s.submission_id.clone(), s))
        .collect();
    let mut expected: Vec<(String, String)> = state
        .active_loads()?
        .into_iter()
        .map(|l| {
            let path = warehouse::part_path(
                Path::new(""),
                &l.template,
                &l.period,
                &l.department,
                &l.submission_id,
            );
            (path.to_string_lossy().replace('\\', "/"), l.submission_id)
        })
        .collect();
    for s in submissions
        .values()
        .filter(|s| s.status == SubmissionStatus::Accepted)
    {
        let path = warehouse::part_path(
            Path::new(""),
            warehouse::REJECTS,
            &s.period.to_string(),
            &s.department,
            &s.submission_id,
        );
        let path = path.to_string_lossy().replace('\\', "/");
        if s.rows_rejected > 0 || recorded.contains_key(&path) {
            expected.push((path, s.submission_id.clone()));
        }
    }
    expected.sort();
    let mut check = PartsCheck::default();
    let mut backfill = Vec::new();
    let mut damaged: BTreeMap<String, Vec<DamagedPart>> = BTreeMap::new();
    for (relative, submission_id) in expected {
        check.checked += 1;
        let path = root.join(&relative);
        let found = warehouse::file_digest(&path);
        let what = match (recorded.get(&relative), found) {
            (_, Err(e)) if e.kind() == std::io::ErrorKind::NotFound => "missing".to_string(),
            (_, Err(e)) => format!("unreadable ({e})"),
            (Some(r), Ok((bytes, _))) if bytes != r.bytes => {
                format!("{bytes} bytes where the ledger recorded {}", r.bytes)
            }
            (Some(r), Ok((_, sha))) if sha != r.sha256 => {
                "changed (its sha256 is not the one the ledger recorded)".to_string()
            }
            (Some(_), Ok(_)) => continue,
            (None, Ok((bytes, sha256))) => {
                let table = relative.split('/').next().unwrap_or_default().to_string();
                backfill.push(PartRecord {
                    path: relative,
                    submission_id,
                    table,
                    bytes,
                    sha256,
                });
                continue;
            }
        };
        let source_file = submissions
            .get(&submission_id)
            .map(|s| s.source_file.clone())
            .unwrap_or_default();
        damaged
            .entry(submission_id.clone())
            .or_default()
            .push(DamagedPart {
                path,
                submission_id,
                source_file,
                what,
                why: String::new(),
            });
    }
    check.recorded = backfill.len();
    state.record_parts(&backfill)?;
    // The `submissions` table is the ledger's own view: a record missing or
    // cut short is written again from the ledger, no workbook needed.
    let mut stale_records = 0;
    for s in submissions.values() {
        let path = warehouse::part_path(
            root,
            warehouse::SUBMISSIONS,
            &s.period.to_string(),
            &s.department,
            &s.submission_id,
        );
        if !looks_like_parquet(&path) {
            warehouse::remove_file(&path).map_err(IngestError::from)?;
            stale_records += 1;
        }
    }
    if stale_records > 0 {
        tracing::warn!(
            records = stale_records,
            "submission records of the warehouse missing or damaged: written again from the ledger"
        );
        ingest::reconcile(config, state)?;
    }
    let mut lost = Vec::new();
    for (submission_id, parts) in damaged {
        let paths: HashSet<PathBuf> = parts.iter().map(|p| p.path.clone()).collect();
        let outcome = match submissions.get(&submission_id) {
            Some(s) => {
                let effect = state.effect_of(&submission_id)?;
                ingest::rewrite_parts(config, s, &effect, &paths)?
            }
            None => Err("the ledger has no such submission".to_string()),
        };
        match outcome {
            Ok(files) => {
                let written: HashSet<&PathBuf> = files.iter().map(|f| &f.path).collect();
                state.record_parts(&part_records(root, &submission_id, &files))?;
                for part in parts {
                    if written.contains(&part.path) {
                        tracing::warn!(file = %part.path.display(), submission = %part.submission_id, source = %part.source_file, was = %part.what, "part file rebuilt from its archived workbook");
                        check.rebuilt.push(part);
                    } else {
                        lost.push(DamagedPart {
                            why: "reading its workbook again wrote no such part".into(),
                            ..part
                        });
                    }
                }
            }
            Err(why) => lost.extend(parts.into_iter().map(|p| DamagedPart {
                why: why.clone(),
                ..p
            })),
        }
    }
    if !lost.is_empty() {
        for part in &lost {
            tracing::error!(file = %part.path.display(), submission = %part.submission_id, source = %part.source_file, what = %part.what, why = %part.why, "part file missing or damaged and not rebuilt");
        }
        return Err(PartsError::Lost(lost));
    }
    if check.recorded > 0 {
        tracing::info!(
            parts = check.recorded,
            "part files recorded in the ledger as found (written before parts were recorded)"
        );
    }
    tracing::debug!(
        parts = check.checked,
        rebuilt = check.rebuilt.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "part files checked against the ledger (size and sha256)"
    );
    Ok(check)
}

/// Whether a file starts and ends with Parquet's magic bytes.
fn looks_like_parquet(path: &Path) -> bool {
    use std::io::{Read, Seek, SeekFrom};
    let Ok(mut file) = std::fs::File::open(path) else {
        return false;
    };
    let mut head = [0u8; 4];
    let mut tail = [0u8; 4];
    file.read_exact(&mut head).is_ok()
        && file.seek(SeekFrom::End(-4)).is_ok()
        && file.read_exact(&mut tail).is_ok()
        && &head == b"PAR1"
        && &tail == b"PAR1"
}

// ---- rebuild -----------------------------------------------------------------------

/// Why [`rebuild`] failed or refused.
#[derive(Debug, thiserror::Error)]
pub enum RebuildError {
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error("indicators")]
    Indicators(#[from] IndicatorError),
    #[error(transparent)]
    Lock(Box<crate::jobs::JobError>),
    #[error(
        "the state database {path} holds {} submission(s) ({} accepted, {} superseded, {} quarantined): `rebuild` replaces a lost state; to rebuild anyway, run `nhanluc rebuild --force` (the state is moved aside, not deleted)",
        .counts.accepted + .counts.superseded + .counts.quarantined,
        .counts.accepted, .counts.superseded, .counts.quarantined
    )]
    NotEmpty { path: PathBuf, counts: LedgerCounts },
    #[error("cannot {action} {path}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

/// How [`rebuild`] runs.
#[derive(Debug, Clone, Copy, Default)]
pub struct RebuildOptions {
    /// Rebuild even though the state holds submissions (moved aside first).
    pub force: bool,
}

/// What [`rebuild`] did.
#[derive(Debug, Default)]
pub struct RebuildReport {
    /// Where the old state files went (database, WAL, shared memory).
    pub moved_state: Vec<PathBuf>,
    /// Where the old warehouse went (kept: remove it once the rebuilt one is checked).
    pub moved_warehouse: Option<PathBuf>,
    pub manifests: usize,
    pub ingest: IngestReport,
    /// Quarantined files re-recorded from their sidecars.
    pub quarantined: usize,
    /// Archived workbooks without a manifest (archived by an older nhanluc
    /// whose ledger is gone): not re-ingested, listed.
    pub without_manifest: Vec<PathBuf>,
    /// Manifests that could not be used, and why.
    pub bad_manifests: Vec<(PathBuf, String)>,
    pub counts: LedgerCounts,
    pub indicators: Option<IndicatorOutcome>,
}

/// Reconstructs the ledger and the warehouse from the archive (see the module doc).
pub async fn rebuild(
    config: &Config,
    options: RebuildOptions,
) -> Result<RebuildReport, RebuildError> {
    let _lock =
        crate::jobs::RunLock::acquire(config).map_err(|e| RebuildError::Lock(Box::new(e)))?;
    let state_path = &config.paths.state;
    let stamp = aside_stamp(&[state_path, &config.paths.warehouse]);
    let mut report = RebuildReport::default();
    if state_path.exists() {
        let counts = existing_counts(state_path);
        if counts.accepted + counts.superseded + counts.quarantined > 0 && !options.force {
            return Err(RebuildError::NotEmpty {
                path: state_path.clone(),
                counts,
            });
        }
    }
    // Until the ledger is whole, no other command trusts it (a rebuild
    // killed half-way is done again with --force).
    let flag = rebuild_flag(state_path);
    ingest::write_atomic(
        &flag,
        format!("nhanluc rebuild started at {}\n", crate::state::now()).as_bytes(),
    )
    .map_err(IngestError::from)?;
    // Never deleted: moved aside with the WAL beside it, so it still opens.
    let name = state_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let aside = state_path.with_file_name(format!("{name}.before-rebuild-{stamp}"));
    for suffix in ["", "-wal", "-shm"] {
        let from = PathBuf::from(format!("{}{suffix}", state_path.display()));
        if from.exists() {
            let to = PathBuf::from(format!("{}{suffix}", aside.display()));
            move_aside(&from, &to)?;
            report.moved_state.push(to);
        }
    }
    let root = &config.paths.warehouse;
    if std::fs::read_dir(root).is_ok_and(|mut entries| entries.next().is_some()) {
        let name = root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let to = root.with_file_name(format!("{name}.before-rebuild-{stamp}"));
        move_aside(root, &to)?;
        tracing::info!(to = %to.display(), "the warehouse was moved aside (kept: remove it once the rebuilt one is checked)");
        report.moved_warehouse = Some(to);
    }

    let (workbooks, manifest_files) = archive_files(&config.paths.archive);
    let mut manifests = Vec::new();
    let mut described: HashSet<PathBuf> = HashSet::new();
    let mut progress = crate::progress::start(crate::progress::Step::Ingest, manifest_files.len());
    for file in manifest_files {
        progress.advance(1, 0);
        match read_manifest(config, &file) {
            Ok(manifest) => {
                described.insert(config.paths.archive.join(&manifest.stored_as));
                manifests.push(manifest);
            }
            Err(why) => {
                tracing::warn!(file = %file.display(), %why, "manifest not used");
                report.bad_manifests.push((file, why));
            }
        }
    }
    drop(progress);
    for workbook in workbooks {
        if !described.contains(&workbook) {
            tracing::warn!(file = %workbook.display(), "archived workbook without a manifest: not re-ingested (where and when it arrived is not known)");
            report.without_manifest.push(workbook);
        }
    }
    manifests.sort_by(|a, b| {
        (&a.sequence, &a.received_at, &a.stored_as).cmp(&(
            &b.sequence,
            &b.received_at,
            &b.stored_as,
        ))
    });
    report.manifests = manifests.len();
    // Read before the re-ingest, which may quarantine (and so add sidecars).
    let quarantines = quarantine_sidecars(config);

    let mut state = State::open(state_path)?;
    let id = state.ledger_id()?;
    for dir in [root, &config.paths.archive] {
        write_marker(dir, &id).map_err(IngestError::from)?;
    }
    tracing::info!(
        manifests = manifests.len(),
        "re-ingesting the archive in received order"
    );
    let items: Vec<ingest::AsIf> = manifests
        .iter()
        .map(|m| ingest::AsIf {
            archived: config.paths.archive.join(&m.stored_as),
            source_file: m.source_file.clone(),
            received_at: m.received_at.clone(),
        })
        .collect();
    report.ingest = if items.is_empty() {
        IngestReport::default()
    } else {
        ingest::ingest_archived(config, &mut state, &items)?
    };
    for q in &quarantines {
        state.record_quarantine_at(
            &NewQuarantine {
                sha256: &q.sha256,
                department: q.department.as_deref(),
                source_file: &q.source_file,
                stored_as: &q.stored_as,
                reason_vi: &q.reason_vi,
                reason_en: &q.reason_en,
                report: &LedgerReport::default(),
            },
            &q.received_at,
        )?;
    }
    report.quarantined = quarantines.len();
    // The departments were answered when the files arrived.
    state.mark_all_feedback_queued()?;
    report.counts = state.ledger_counts()?;
    ensure_parts(config, &mut state).map_err(|e| match e {
        PartsError::State(e) => RebuildError::State(e),
        PartsError::Ingest(e) => RebuildError::Ingest(e),
        lost @ PartsError::Lost(_) => RebuildError::Io {
            action: "verify the rebuilt parts in",
            path: root.clone(),
            source: std::io::Error::other(lost.to_string()),
        },
    })?;
    drop(state);
    std::fs::remove_file(&flag).map_err(|source| RebuildError::Io {
        action: "remove",
        path: flag.clone(),
        source,
    })?;
    report.indicators = Some(indicators::compute(config, None).await?);
    Ok(report)
}

fn move_aside(from: &Path, to: &Path) -> Result<(), RebuildError> {
    std::fs::rename(from, to).map_err(|source| RebuildError::Io {
        action: "move aside",
        path: from.to_path_buf(),
        source,
    })
}

/// The ledger counts of a state file, read without changing it (no
/// migration); zero for a file with no ledger.
fn existing_counts(path: &Path) -> LedgerCounts {
    let Ok(conn) =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
    else {
        return LedgerCounts::default();
    };
    conn.query_row(
        "SELECT COALESCE(SUM(status = 'accepted'), 0), COALESCE(SUM(status = 'superseded'), 0), COALESCE(SUM(status = 'quarantined'), 0) FROM submissions",
        [],
        |r| {
            Ok(LedgerCounts {
                accepted: r.get(0)?,
                superseded: r.get(1)?,
                quarantined: r.get(2)?,
            })
        },
    )
    .unwrap_or_default()
}

/// A quarantined file as its `.reason.txt` sidecar tells it.
#[derive(Debug, Clone)]
struct Sidecar {
    received_at: String,
    department: Option<String>,
    source_file: String,
    stored_as: String,
    reason_vi: String,
    reason_en: String,
    sha256: String,
}

/// Every `quarantine/<DEPT>/<stamp>-<sha8>-<name>.reason.txt`, oldest first.
fn quarantine_sidecars(config: &Config) -> Vec<Sidecar> {
    let root = &config.paths.quarantine;
    let mut found = Vec::new();
    for folder in std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
    {
        let folder_name = folder.file_name().to_string_lossy().into_owned();
        for file in std::fs::read_dir(folder.path())
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
        {
            let name = file.file_name().to_string_lossy().into_owned();
            let Some(stored_name) = name.strip_suffix(".reason.txt") else {
                continue;
            };
            if name.starts_with('.') {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(file.path()) else {
                tracing::warn!(file = %file.path().display(), "quarantine sidecar unreadable: not re-recorded");
                continue;
            };
            let field = |prefix: &str| {
                text.lines()
                    .find_map(|l| l.strip_prefix(prefix))
                    .map(|v| v.trim().to_string())
                    .unwrap_or_default()
            };
            let file_line = field("Tệp / file:");
            let source_file = Path::new(&file_line)
                .strip_prefix(&config.paths.inbox)
                .map(|p| p.to_string_lossy().replace('\\', "/"))
                .unwrap_or_else(|_| {
                    let base = Path::new(&file_line)
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_else(|| stored_name.to_string());
                    format!("{folder_name}/{base}")
                });
            let received_at = stamp_time(stored_name).unwrap_or_else(|| {
                file.metadata()
                    .and_then(|m| m.modified())
                    .map(|t| {
                        chrono::DateTime::<chrono::Utc>::from(t)
                            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
                    })
                    .unwrap_or_else(|_| crate::state::now())
            });
            found.push(Sidecar {
                received_at,
                department: (folder_name != "_unknown").then(|| folder_name.clone()),
                source_file,
                stored_as: format!("{folder_name}/{stored_name}"),
                reason_vi: field("Lý do:"),
                reason_en: field("Reason:"),
                sha256: field("sha256:"),
            });
        }
    }
    found.sort_by(|a, b| (&a.received_at, &a.stored_as).cmp(&(&b.received_at, &b.stored_as)));
    found
}

/// The suffix of what a rebuild moves aside: the time to the second, and a
/// counter when an earlier rebuild of the same second already took that
/// name (`<name>.before-rebuild-<stamp>` must be free for every path).
fn aside_stamp(paths: &[&Path]) -> String {
    let time = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
    let taken = |stamp: &str| {
        paths.iter().any(|path| {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            ["", "-wal", "-shm"].iter().any(|suffix| {
                path.with_file_name(format!("{name}.before-rebuild-{stamp}{suffix}"))
                    .exists()
            })
        })
    };
    let mut stamp = time.clone();
    let mut n = 1;
    while taken(&stamp) {
        n += 1;
        stamp = format!("{time}-{n}");
    }
    stamp
}

/// The time in a quarantine name's `20250131T235959Z-` prefix, as RFC 3339.
fn stamp_time(name: &str) -> Option<String> {
    let stamp = name.get(..16)?;
    let time = chrono::NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%M%SZ").ok()?;
    Some(
        time.and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quarantine_stamps_read_as_times() {
        assert_eq!(
            stamp_time("20250131T235959Z-abcd1234-x.xlsx").as_deref(),
            Some("2025-01-31T23:59:59.000Z")
        );
        assert_eq!(stamp_time("x.xlsx"), None);
    }
}
