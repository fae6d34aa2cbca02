//! Each table of the warehouse as one Parquet file per period, for the queries.
//!
//! The warehouse keeps a part per submission
//! (`<table>/period=<P>/department=<D>/part-<id>.parquet`): at country scale a
//! table is 20,000 files of a few hundred rows, and a query engine spends its
//! time opening files rather than computing (DataFusion took 4–12 s per
//! indicator file over 20,000 parts, most of it per-file set-up). So before
//! the queries run, each (table, period) is copied once into
//! `<warehouse>/_snapshots/<table>/<P>.<fingerprint>.parquet`, with `period`
//! and `department` as ordinary columns. The fingerprint covers the name, size
//! and modification time of every part copied, so an unchanged period is not
//! copied again and a changed one is never read stale. A changed period keeps
//! the rows of its unchanged parts from the previous snapshot (the parts it
//! was made from are listed in its footer) and reads only the new ones, so a
//! night with a few submissions does not re-read 20,000 parts. Snapshots are a cache
//! the indicators step owns: deleting the folder is always safe, and engines
//! reading the warehouse skip folders starting with `_`.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringArray, new_null_array};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use sha2::{Digest, Sha256};

use crate::warehouse::{PartFile, StagedFiles, WarehouseError};

/// The folder under the warehouse root.
pub(super) const SNAPSHOTS: &str = "_snapshots";

/// A reader takes parts a chunk at a time: at most this many parts…
const PARTS_PER_CHUNK: usize = 64;
/// …or this many bytes of Parquet, so a few chunks of big parts in flight
/// stay small in memory.
const CHUNK_BYTES: u64 = 4 * 1024 * 1024;
/// Chunks read ahead of the one being written, per reader.
const CHUNKS_AHEAD_PER_READER: usize = 2;

/// Why a snapshot of the warehouse tables could not be read or written.
/// Public because `IndicatorError::Snapshot` carries it.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("cannot read {path}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read the Parquet file {path}")]
    Read {
        path: PathBuf,
        source: parquet::errors::ParquetError,
    },
    #[error("cannot read column {column} of {path}")]
    Column {
        path: PathBuf,
        column: String,
        source: arrow::error::ArrowError,
    },
    #[error(transparent)]
    Warehouse(#[from] WarehouseError),
}

/// A table as the queries see it: its columns, then `period` and `department`.
pub(super) fn queried_schema(table_schema: &Schema) -> SchemaRef {
    let mut fields: Vec<Field> = table_schema
        .fields()
        .iter()
        .map(|f| f.as_ref().clone().with_nullable(true))
        .collect();
    fields.push(Field::new("period", DataType::Utf8, false));
    fields.push(Field::new("department", DataType::Utf8, false));
    Arc::new(Schema::new(fields))
}

/// What [`refresh`] did.
#[derive(Debug, Default)]
pub(super) struct Refreshed {
    /// Table → its snapshot folder, for tables with at least one part.
    pub folders: BTreeMap<String, PathBuf>,
    /// (table, period) snapshots written this time.
    pub written: Vec<(String, String)>,
    /// Parts whose rows were copied from a previous snapshot instead of read.
    pub reused_parts: usize,
    pub removed: usize,
}

/// The footer key listing the parts a snapshot was made from.
const PARTS_KEY: &str = "nhanluc.snapshot_parts";

/// A part as a snapshot records it: which submission, and its size and
/// modification time (ns since the epoch), so a part rewritten in place (a
/// submission's record after supersession) is seen as changed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct PartStamp {
    department: String,
    submission_id: String,
    size: u64,
    modified: u128,
}

impl PartStamp {
    fn of(part: &PartFile) -> Result<PartStamp, SnapshotError> {
        let metadata = std::fs::metadata(&part.path).map_err(|source| SnapshotError::Io {
            path: part.path.clone(),
            source,
        })?;
        let modified = metadata
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        Ok(PartStamp {
            department: part.department.clone(),
            submission_id: part.submission_id.clone(),
            size: metadata.len(),
            modified,
        })
    }

    /// Its line in the fingerprint and in the snapshot's footer.
    fn line(&self) -> String {
        format!(
            "{}\t{}\t{}\t{}",
            self.department, self.submission_id, self.size, self.modified
        )
    }

    fn parse(line: &str) -> Option<PartStamp> {
        let mut fields = line.split('\t');
        Some(PartStamp {
            department: fields.next()?.to_string(),
            submission_id: fields.next()?.to_string(),
            size: fields.next()?.parse().ok()?,
            modified: fields.next()?.parse().ok()?,
        })
    }
}

/// Brings the snapshots of `tables` (name, columns as written in the parts)
/// in line with `parts`: writes the missing ones and removes the ones no
/// longer matching any (table, period).
pub(super) fn refresh(
    root: &Path,
    tables: &[(String, SchemaRef)],
    parts: &[PartFile],
) -> Result<Refreshed, SnapshotError> {
    let mut by_period: BTreeMap<(&str, &str), Vec<&PartFile>> = BTreeMap::new();
    for part in parts {
        by_period
            .entry((part.table.as_str(), part.period.as_str()))
            .or_default()
            .push(part);
    }
    let base = root.join(SNAPSHOTS);
    let mut refreshed = Refreshed::default();
    // Counted in parts, the unit of the reading work: an up-to-date snapshot
    // counts its parts at once, a written one as its chunks are read.
    let queried: BTreeSet<&str> = tables.iter().map(|(t, _)| t.as_str()).collect();
    let total = parts
        .iter()
        .filter(|p| queried.contains(p.table.as_str()))
        .count();
    let mut progress = crate::progress::start(crate::progress::Step::Snapshots, total);
    for (table, schema) in tables {
        let folder = base.join(table);
        let mut current = BTreeSet::new();
        for ((_, period), group) in by_period.range((table.as_str(), "")..) {
            if group.first().is_none_or(|p| &p.table != table) {
                break;
            }
            progress.note(&format!("{table} {period}"));
            let stamps: Vec<PartStamp> = group
                .iter()
                .map(|p| PartStamp::of(p))
                .collect::<Result<_, _>>()?;
            let name = format!("{period}.{}.parquet", fingerprint(schema, &stamps));
            let path = folder.join(&name);
            if !path.is_file() {
                let previous = previous_snapshot(&folder, period);
                let reused = match write_snapshot(
                    schema,
                    period,
                    group,
                    &stamps,
                    previous.as_deref(),
                    &path,
                    &mut progress,
                ) {
                    // The previous snapshot is only a cache: if it cannot be read, read every
                    // part (counted again: the count may pass the total, a bar stops at it).
                    Err(e) if previous.is_some() => {
                        tracing::warn!(error = %crate::error_chain::Chain(&e), "previous snapshot not usable, reading every part");
                        write_snapshot(schema, period, group, &stamps, None, &path, &mut progress)?
                    }
                    other => other?,
                };
                refreshed.reused_parts += reused;
                refreshed.written.push((table.clone(), period.to_string()));
            } else {
                progress.advance(group.len(), 0);
            }
            current.insert(name);
        }
        refreshed.removed += remove_other_files(&folder, &current)?;
        if !current.is_empty() {
            refreshed.folders.insert(table.clone(), folder);
        }
    }
    // Folders of tables that are no longer configured.
    let known: BTreeSet<&str> = tables.iter().map(|(t, _)| t.as_str()).collect();
    for entry in std::fs::read_dir(&base).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.path().is_dir() && !known.contains(name.as_str()) {
            refreshed.removed += remove_other_files(&entry.path(), &BTreeSet::new())?;
        }
    }
    Ok(refreshed)
}

/// The table's columns and its parts' stamps: a template given a new column,
/// or any part added, removed or rewritten, changes it.
fn fingerprint(schema: &Schema, stamps: &[PartStamp]) -> String {
    let mut hasher = Sha256::new();
    for field in schema.fields() {
        hasher.update(format!("{}:{}\n", field.name(), field.data_type()).as_bytes());
    }
    for stamp in stamps {
        hasher.update(format!("{}\n", stamp.line()).as_bytes());
    }
    hex::encode(&hasher.finalize()[..8])
}

/// Consecutive runs of parts, each at most [`PARTS_PER_CHUNK`] parts and,
/// unless one part alone is bigger, [`CHUNK_BYTES`] bytes.
fn chunks<'p>(parts: &'p [&'p PartFile], sizes: &[u64]) -> Vec<&'p [&'p PartFile]> {
    let mut chunks = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, size) in sizes.iter().enumerate() {
        if i > start && (i - start == PARTS_PER_CHUNK || bytes + size > CHUNK_BYTES) {
            chunks.push(&parts[start..i]);
            (start, bytes) = (i, 0);
        }
        bytes += size;
    }
    if start < parts.len() {
        chunks.push(&parts[start..]);
    }
    chunks
}

/// Deletes the `.parquet` files of `folder` not in `keep`, and the folder if it ends empty.
fn remove_other_files(folder: &Path, keep: &BTreeSet<String>) -> Result<usize, SnapshotError> {
    let mut removed = 0;
    for entry in std::fs::read_dir(folder).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".parquet") && !keep.contains(&name) {
            crate::warehouse::remove_file(&entry.path())?;
            removed += 1;
        }
    }
    if keep.is_empty() {
        // Fails harmlessly when something else is still in it.
        let _ = std::fs::remove_dir(folder);
    }
    Ok(removed)
}

/// The snapshot of `period` already in `folder`, if any.
fn previous_snapshot(folder: &Path, period: &str) -> Option<PathBuf> {
    std::fs::read_dir(folder)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".parquet"))
                .and_then(|n| n.rsplit_once('.'))
                .is_some_and(|(p, _)| p == period)
        })
}

/// Writes the snapshot of `parts`; returns how many parts' rows came from
/// `previous` rather than from the parts. Counts the parts on `progress`.
fn write_snapshot(
    table_schema: &SchemaRef,
    period: &str,
    parts: &[&PartFile],
    stamps: &[PartStamp],
    previous: Option<&Path>,
    path: &Path,
    progress: &mut crate::progress::Task,
) -> Result<usize, SnapshotError> {
    let schema = queried_schema(table_schema);
    // Parts unchanged since the previous snapshot: (department, submission).
    let kept: std::collections::HashSet<(String, String)> = previous
        .and_then(|p| listed_parts(p, &schema))
        .map(|listed| {
            stamps
                .iter()
                .filter(|stamp| listed.contains(*stamp))
                .map(|stamp| (stamp.department.clone(), stamp.submission_id.clone()))
                .collect()
        })
        .unwrap_or_default();
    let mut staged = StagedFiles::default();
    let mut writer = staged.parquet_writer(path, "s", schema.clone())?;
    if let (Some(previous), false) = (previous, kept.is_empty()) {
        copy_rows_of(previous, &kept, |batch| Ok(writer.write(batch)?))?;
    }
    progress.advance(kept.len(), 0);
    let (to_read, to_read_sizes): (Vec<&PartFile>, Vec<u64>) = parts
        .iter()
        .zip(stamps)
        .filter(|(_, stamp)| {
            !kept.contains(&(stamp.department.clone(), stamp.submission_id.clone()))
        })
        .map(|(part, stamp)| (*part, stamp.size))
        .unzip();
    let chunks = chunks(&to_read, &to_read_sizes);
    let readers = std::thread::available_parallelism().map_or(1, usize::from);
    crate::ordered::map_in_order(
        chunks.len(),
        readers,
        readers * CHUNKS_AHEAD_PER_READER,
        |index| read_chunk(&schema, period, chunks[index]).map(|b| (b, chunks[index].len())),
        |read| {
            let (batches, parts_read) = read?;
            for batch in batches {
                writer.write(&batch)?;
            }
            progress.advance(parts_read, 0);
            Ok::<(), SnapshotError>(())
        },
    )?;
    let listing: Vec<String> = stamps.iter().map(PartStamp::line).collect();
    writer.append_metadata(PARTS_KEY, listing.join("\n"));
    writer.finish(&mut staged)?;
    staged.commit()?;
    Ok(kept.len())
}

/// The parts a snapshot lists in its footer, if it has the columns `schema`
/// asks for; None when it cannot be used (unreadable, other columns).
fn listed_parts(path: &Path, schema: &SchemaRef) -> Option<std::collections::HashSet<PartStamp>> {
    let builder = ParquetRecordBatchReaderBuilder::try_new(File::open(path).ok()?).ok()?;
    let same_columns = builder.schema().fields().len() == schema.fields().len()
        && builder
            .schema()
            .fields()
            .iter()
            .zip(schema.fields())
            .all(|(a, b)| a.name() == b.name() && a.data_type() == b.data_type());
    if !same_columns {
        return None;
    }
    let listing = builder
        .metadata()
        .file_metadata()
        .key_value_metadata()?
        .iter()
        .find(|kv| kv.key == PARTS_KEY)?
        .value
        .clone()?;
    listing.lines().map(PartStamp::parse).collect()
}

/// Streams the rows of `snapshot` whose (`department`, `submission_id`) is in `kept` to `write`.
fn copy_rows_of(
    snapshot: &Path,
    kept: &std::collections::HashSet<(String, String)>,
    mut write: impl FnMut(&RecordBatch) -> Result<(), SnapshotError>,
) -> Result<(), SnapshotError> {
    for batch in batches_of(snapshot)? {
        let batch = batch?;
        let column_error = |source| SnapshotError::Column {
            path: snapshot.to_path_buf(),
            column: "department, submission_id".into(),
            source,
        };
        let text = |name: &str| {
            batch
                .column_by_name(name)
                .and_then(|c| c.as_any().downcast_ref::<StringArray>())
                .ok_or_else(|| {
                    column_error(arrow::error::ArrowError::SchemaError(format!(
                        "no text column {name}"
                    )))
                })
        };
        let (departments, ids) = (text("department")?, text("submission_id")?);
        // Rows come in runs of one part: look each run up once.
        let mut last: Option<(&str, &str, bool)> = None;
        let keep: arrow::array::BooleanArray = departments
            .iter()
            .zip(ids.iter())
            .map(|(department, id)| {
                let (department, id) = (department.unwrap_or(""), id.unwrap_or(""));
                let kept_row = match last {
                    Some((d, i, k)) if d == department && i == id => k,
                    _ => kept.contains(&(department.to_string(), id.to_string())),
                };
                last = Some((department, id, kept_row));
                Some(kept_row)
            })
            .collect();
        let rows = arrow::compute::filter_record_batch(&batch, &keep).map_err(column_error)?;
        if rows.num_rows() > 0 {
            write(&rows)?;
        }
    }
    Ok(())
}

/// The record batches of a Parquet file, each error naming the file.
fn batches_of(
    path: &Path,
) -> Result<impl Iterator<Item = Result<RecordBatch, SnapshotError>> + '_, SnapshotError> {
    let read_error = |source| SnapshotError::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(|source| SnapshotError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|b| b.with_batch_size(8192).build())
        .map_err(read_error)?;
    Ok(reader.map(move |batch| batch.map_err(|e| read_error(e.into()))))
}

fn read_chunk(
    schema: &SchemaRef,
    period: &str,
    parts: &[&PartFile],
) -> Result<Vec<RecordBatch>, SnapshotError> {
    let mut batches = Vec::new();
    for part in parts {
        for batch in batches_of(&part.path)? {
            let batch = batch?;
            batches.push(conform(
                schema,
                &batch,
                period,
                &part.department,
                &part.path,
            )?);
        }
    }
    Ok(batches)
}

/// The part's batch with the snapshot's columns: matched by name, cast where
/// a template changed a column's type, null where an older part lacks a
/// column, and the partition values added.
fn conform(
    schema: &SchemaRef,
    batch: &RecordBatch,
    period: &str,
    department: &str,
    path: &Path,
) -> Result<RecordBatch, SnapshotError> {
    let rows = batch.num_rows();
    let column_error = |column: &str| {
        let column = column.to_string();
        move |source| SnapshotError::Column {
            path: path.to_path_buf(),
            column,
            source,
        }
    };
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    for field in schema.fields() {
        let column = match field.name().as_str() {
            "period" => Arc::new(StringArray::from(vec![period; rows])) as ArrayRef,
            "department" => Arc::new(StringArray::from(vec![department; rows])),
            name => match batch.column_by_name(name) {
                Some(c) if c.data_type() == field.data_type() => c.clone(),
                Some(c) => {
                    arrow::compute::cast(c, field.data_type()).map_err(column_error(name))?
                }
                None => new_null_array(field.data_type(), rows),
            },
        };
        columns.push(column);
    }
    RecordBatch::try_new(schema.clone(), columns).map_err(column_error("*"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Array, AsArray, Int64Array};
    use arrow::datatypes::Int64Type;

    fn table_schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("name", DataType::Utf8, true),
            Field::new("n", DataType::Int64, true),
            Field::new("submission_id", DataType::Utf8, false),
        ]))
    }

    fn write_part(root: &Path, period: &str, department: &str, id: &str, names: &[&str]) {
        let rows = names.len();
        let batch = RecordBatch::try_new(
            table_schema(),
            vec![
                Arc::new(StringArray::from(names.to_vec())),
                Arc::new(Int64Array::from_iter_values(1..=rows as i64)),
                Arc::new(StringArray::from(vec![id; rows])),
            ],
        )
        .unwrap();
        let path = crate::warehouse::part_path(root, "t", period, department, id);
        crate::warehouse::write_parquet_atomic(&path, &batch).unwrap();
    }

    /// A part written before the template had column `n`.
    fn write_old_part(root: &Path, period: &str, department: &str, id: &str) {
        let schema = Arc::new(Schema::new(vec![
            Field::new("name", DataType::Utf8, true),
            Field::new("submission_id", DataType::Utf8, false),
        ]));
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(vec!["cũ"])),
                Arc::new(StringArray::from(vec![id])),
            ],
        )
        .unwrap();
        let path = crate::warehouse::part_path(root, "t", period, department, id);
        crate::warehouse::write_parquet_atomic(&path, &batch).unwrap();
    }

    fn refresh_all(root: &Path) -> Refreshed {
        let parts = crate::warehouse::list_parts(root);
        refresh(root, &[("t".to_string(), table_schema())], &parts).unwrap()
    }

    fn files(folder: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(folder)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// (name, n, period, department) rows of a snapshot file.
    fn rows(path: &Path) -> Vec<(String, Option<i64>, String, String)> {
        let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap())
            .unwrap()
            .build()
            .unwrap();
        let mut rows = Vec::new();
        for batch in reader {
            let batch = batch.unwrap();
            let text = |c: &str| batch.column_by_name(c).unwrap().as_string::<i32>().clone();
            let (name, period, department) = (text("name"), text("period"), text("department"));
            let n = batch
                .column_by_name("n")
                .unwrap()
                .as_primitive::<Int64Type>();
            for i in 0..batch.num_rows() {
                rows.push((
                    name.value(i).to_string(),
                    (!n.is_null(i)).then(|| n.value(i)),
                    period.value(i).to_string(),
                    department.value(i).to_string(),
                ));
            }
        }
        rows
    }

    #[test]
    fn chunks_are_bounded_by_count_and_bytes() {
        let parts: Vec<PartFile> = (0..200)
            .map(|i| PartFile {
                table: "t".into(),
                period: "2025".into(),
                department: format!("D{i}"),
                submission_id: format!("s{i}"),
                path: PathBuf::from(format!("p{i}")),
            })
            .collect();
        let refs: Vec<&PartFile> = parts.iter().collect();
        let small = vec![1_000; 200];
        let lengths: Vec<usize> = chunks(&refs, &small).iter().map(|c| c.len()).collect();
        assert_eq!(lengths, [64, 64, 64, 8]);
        // Parts of 1.5 MiB: two per chunk; one part bigger than a chunk stands alone.
        let mut big = vec![3 * 512 * 1024; 5];
        big[2] = 10 * 1024 * 1024;
        let lengths: Vec<usize> = chunks(&refs[..5], &big).iter().map(|c| c.len()).collect();
        assert_eq!(lengths, [2, 1, 2]);
        assert!(chunks(&refs[..0], &[]).is_empty());
    }

    #[test]
    fn one_file_per_period_kept_while_the_parts_stay_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write_part(root, "2025", "A", "s1", &["An", "Bình"]);
        write_old_part(root, "2025", "B", "s2");
        write_part(root, "2024", "A", "s0", &["Cúc"]);

        let first = refresh_all(root);
        assert_eq!(
            first.written,
            [
                ("t".to_string(), "2024".to_string()),
                ("t".to_string(), "2025".to_string())
            ]
        );
        let folder = first.folders["t"].clone();
        let names = files(&folder);
        assert_eq!(names.len(), 2);
        let current = folder.join(&names[1]);
        assert!(names[1].starts_with("2025."), "{names:?}");
        assert_eq!(
            rows(&current),
            [
                ("An".into(), Some(1), "2025".into(), "A".into()),
                ("Bình".into(), Some(2), "2025".into(), "A".into()),
                ("cũ".into(), None, "2025".into(), "B".into()),
            ]
        );

        let again = refresh_all(root);
        assert!(again.written.is_empty());
        assert_eq!(again.removed, 0);
        assert_eq!(files(&folder), names);

        // A superseded part leaves the warehouse: its rows leave the snapshot.
        crate::warehouse::remove_file(&crate::warehouse::part_path(root, "t", "2025", "B", "s2"))
            .unwrap();
        let changed = refresh_all(root);
        assert_eq!(changed.written, [("t".to_string(), "2025".to_string())]);
        assert_eq!(changed.removed, 1);
        let now = files(&folder);
        assert_eq!(now.len(), 2);
        assert_eq!(now[0], names[0], "the 2024 snapshot is kept");
        assert_eq!(
            changed.reused_parts, 1,
            "A's rows come from the previous snapshot"
        );
        assert_eq!(
            rows(&folder.join(&now[1])),
            [
                ("An".into(), Some(1), "2025".into(), "A".into()),
                ("Bình".into(), Some(2), "2025".into(), "A".into()),
            ]
        );

        // A new part: the unchanged one copied, the new one read.
        write_part(root, "2025", "C", "s3", &["Đào"]);
        let added = refresh_all(root);
        assert_eq!(added.reused_parts, 1);
        let now = files(&folder);
        let mut got = rows(&folder.join(&now[1]));
        got.sort();
        assert_eq!(
            got,
            [
                ("An".into(), Some(1), "2025".into(), "A".into()),
                ("Bình".into(), Some(2), "2025".into(), "A".into()),
                ("Đào".into(), Some(1), "2025".into(), "C".into()),
            ]
        );
        // The same rows as a snapshot read from the parts alone.
        std::fs::remove_dir_all(&folder).unwrap();
        let fresh = refresh_all(root);
        assert_eq!(fresh.reused_parts, 0);
        let now = files(&folder);
        let mut from_parts = rows(&folder.join(&now[1]));
        from_parts.sort();
        assert_eq!(from_parts, got);

        // A damaged previous snapshot: every part is read instead.
        write_part(root, "2025", "C", "s4", &["Em"]);
        std::fs::write(folder.join(&now[1]), b"not parquet").unwrap();
        let repaired = refresh_all(root);
        assert_eq!(repaired.reused_parts, 0);
        assert_eq!(rows(&folder.join(&files(&folder)[1])).len(), 4);
        crate::warehouse::remove_file(&crate::warehouse::part_path(root, "t", "2025", "C", "s3"))
            .unwrap();
        crate::warehouse::remove_file(&crate::warehouse::part_path(root, "t", "2025", "C", "s4"))
            .unwrap();

        // A template given another column: every period is copied again.
        let mut fields: Vec<Field> = table_schema()
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        fields.push(Field::new("note", DataType::Utf8, true));
        let wider = Arc::new(Schema::new(fields));
        let parts = crate::warehouse::list_parts(root);
        let widened = refresh(root, &[("t".to_string(), wider)], &parts).unwrap();
        assert_eq!(widened.written.len(), 2);
        assert_eq!(
            widened.reused_parts, 0,
            "snapshots with other columns are not copied"
        );
        assert_eq!(widened.removed, 2);
        let names = files(&folder);
        let _ = refresh_all(root);
        assert_ne!(files(&folder), names, "and back again");

        // The derived folder is not mistaken for a table of the warehouse.
        assert!(
            crate::warehouse::list_parts(root)
                .iter()
                .all(|p| p.table == "t")
        );

        // A part rewritten in place (same name) is seen too.
        std::thread::sleep(std::time::Duration::from_millis(20));
        write_part(root, "2024", "A", "s0", &["Cúc", "Dũng"]);
        let rewritten = refresh_all(root);
        assert_eq!(rewritten.written, [("t".to_string(), "2024".to_string())]);

        crate::warehouse::remove_file(&crate::warehouse::part_path(root, "t", "2025", "A", "s1"))
            .unwrap();
        crate::warehouse::remove_file(&crate::warehouse::part_path(root, "t", "2024", "A", "s0"))
            .unwrap();
        let empty = refresh_all(root);
        assert!(empty.folders.is_empty());
        assert!(!folder.exists());
    }
}
