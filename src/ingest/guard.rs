//! The lost-state guard: whether the state database is the ledger of the
//! data beside it (the markers, and the archive's manifests of submissions
//! it does not know). A state that is not is refused before anything is
//! deleted as a leftover (see [`crate::archive::LostState`]).

use std::collections::HashSet;
use std::path::Path;

use crate::archive::{Census, LostKind, Manifest, archive_files, lost, read_marker, write_marker};
use crate::config::Config;
use crate::state::{State, StateError};
use crate::warehouse;

/// Whether `state` is the ledger of the data beside it; writes the markers
/// where they are missing once it is. Cheap when the markers are there.
pub fn trust(config: &Config, state: &State) -> Result<(), StateError> {
    let id = state.ledger_id()?;
    let markers = [
        read_marker(&config.paths.warehouse),
        read_marker(&config.paths.archive),
    ];
    if let Some(data_id) = markers.iter().flatten().find(|m| **m != id) {
        return Err(lost(
            config,
            LostKind::Foreign {
                state_id: id,
                data_id: data_id.clone(),
            },
            census(config),
        ));
    }
    if markers.iter().all(Option::is_none) && state.data_submission_count()? == 0 {
        let census = census(config);
        if census.holds_data() {
            return Err(lost(config, LostKind::Empty, census));
        }
    }
    for (dir, marker) in [&config.paths.warehouse, &config.paths.archive]
        .into_iter()
        .zip(&markers)
    {
        if marker.is_none()
            && let Err(e) = write_marker(dir, &id)
        {
            // The guard still holds through the ledger's counts; say it.
            tracing::warn!(error = %crate::error_chain::Chain(&e), "cannot write the ledger marker");
        }
    }
    Ok(())
}

/// Refuses when any of these (submission id, department) pairs, parts the
/// ledger does not know, was committed by a ledger: its manifest and its
/// workbook are in the archive and its file is no longer in the inbox. A run
/// that died before its commit left its inbox file where it was (or its
/// workbook unarchived), so its parts are still removed as leftovers.
pub fn refuse_older_ledger<'a>(
    config: &Config,
    unknown: impl Iterator<Item = (&'a str, &'a str)>,
) -> Result<(), StateError> {
    let unknown: HashSet<(&str, &str)> = unknown.collect();
    if unknown.is_empty() {
        return Ok(());
    }
    // Submission ids are derived from (department, sha256), so the manifest
    // of an id is found by reading the manifests, not by its name: a rare
    // path (parts the ledger does not know), worth one pass over them.
    let (_, manifests) = archive_files(&config.paths.archive);
    let mut committed = Vec::new();
    for path in manifests {
        let Ok(manifest) = read_manifest(config, &path) else {
            continue;
        };
        if !unknown.contains(&(
            manifest.submission_id.as_str(),
            manifest.department.as_str(),
        )) {
            continue;
        }
        let in_inbox = !manifest.source_file.is_empty()
            && config.paths.inbox.join(&manifest.source_file).exists();
        if !in_inbox {
            committed.push(manifest);
        }
    }
    if committed.is_empty() {
        return Ok(());
    }
    committed.sort_by(|a, b| a.sequence.cmp(&b.sequence));
    Err(lost(
        config,
        LostKind::Older { unknown: committed },
        census(config),
    ))
}

/// Counts what the archive and the warehouse hold.
pub fn census(config: &Config) -> Census {
    let (workbooks, manifests) = archive_files(&config.paths.archive);
    Census {
        workbooks: workbooks.len(),
        manifests: manifests.len(),
        parts: warehouse::list_parts(&config.paths.warehouse).len(),
    }
}

/// A manifest whose workbook is there with the bytes it names.
/// (Also how `rebuild` reads each manifest of the archive.)
pub fn read_manifest(config: &Config, path: &Path) -> Result<Manifest, String> {
    let text = std::fs::read(path).map_err(|e| format!("cannot read it: {e}"))?;
    let manifest: Manifest =
        serde_json::from_slice(&text).map_err(|e| format!("not a manifest: {e}"))?;
    if manifest.stored_as.contains("..") || Path::new(&manifest.stored_as).is_absolute() {
        return Err(format!(
            "its workbook path {:?} leaves the archive",
            manifest.stored_as
        ));
    }
    let workbook = config.paths.archive.join(&manifest.stored_as);
    match warehouse::file_digest(&workbook) {
        Ok((_, sha)) if sha == manifest.sha256 => Ok(manifest),
        Ok(_) => Err(format!(
            "its workbook {} does not have the sha256 it names",
            workbook.display()
        )),
        Err(e) => Err(format!(
            "its workbook {} cannot be read: {e}",
            workbook.display()
        )),
    }
}
