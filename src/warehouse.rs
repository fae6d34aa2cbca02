//! The Parquet warehouse: Hive-style partitions, typed Arrow schemas, atomic writes.
//!
//! Layout: `<root>/<table>/period=<P>/department=<D>/part-<submission>.parquet`,
//! and `<root>/indicators/period=<P>/part-0.parquet`. `period` and `department`
//! live in the path only. Beside the data, `<root>/departments/part-0.parquet`
//! holds the registry and `<root>/_schemas/<table>.parquet` each table's schema
//! ([`write_contract`]), so another engine needs nothing but the warehouse. Every data file is written to a hidden temporary file,
//! fsynced and renamed, so a reader never sees half a file and a crash leaves
//! at most a temporary file that [`remove_temporaries`] deletes.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanBuilder, Date32Builder, Float64Builder, Int64Builder, RecordBatch,
    StringBuilder, StringDictionaryBuilder,
};
use arrow::datatypes::{DataType, Field, Int32Type, Schema, SchemaRef};
use chrono::NaiveDate;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use crate::model::identity::RowIdentity;
use crate::model::indicator::{IndicatorRow, Unit};
use crate::model::rows::{ParsedRow, Reject};
use crate::model::submission::Submission;
use crate::model::template::{FieldType, Template};
use crate::model::value::Value;

/// The table of rejected rows, one per reason.
pub const REJECTS: &str = "rejects";
/// The table of accepted submissions, one row per file.
pub const SUBMISSIONS: &str = "submissions";
/// The table of computed indicators, one file per period.
pub(crate) const INDICATORS: &str = "indicators";

/// Why a part file could not be written, read or moved into place.
#[derive(Debug, thiserror::Error)]
pub enum WarehouseError {
    #[error("cannot {action} {path}")]
    Io {
        /// What was being done: "create the folder", "write", "move into place", …
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write the Parquet file {path}")]
    Parquet {
        path: PathBuf,
        source: parquet::errors::ParquetError,
    },
    #[error("cannot read the Parquet file {path}")]
    ReadParquet {
        path: PathBuf,
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error(transparent)]
    Write(#[from] crate::durable::WriteError),
    #[error("cannot build the {table} batch")]
    Arrow {
        table: String,
        source: arrow::error::ArrowError,
    },
}

fn io_error<'a>(
    action: &'static str,
    path: &'a Path,
) -> impl FnOnce(std::io::Error) -> WarehouseError + 'a {
    move |source| WarehouseError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

fn dictionary_type() -> DataType {
    DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8))
}

fn days_since_epoch(date: NaiveDate) -> i32 {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    (date - epoch).num_days() as i32
}

/// A `Date32` value back as a date.
fn date_from_days(days: i32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(1970, 1, 1)?.checked_add_signed(chrono::Duration::days(days.into()))
}

/// The directory of one partition of a table.
pub(crate) fn partition_dir(root: &Path, table: &str, period: &str, department: &str) -> PathBuf {
    root.join(table)
        .join(format!("period={period}"))
        .join(format!("department={department}"))
}

/// Where a submission's rows of `table` for one period and department go:
/// `<root>/<table>/period=<P>/department=<D>/part-<submission>.parquet`.
pub fn part_path(
    root: &Path,
    table: &str,
    period: &str,
    department: &str,
    submission: &str,
) -> PathBuf {
    partition_dir(root, table, period, department).join(format!("part-{submission}.parquet"))
}

/// The Arrow schema of a template's table.
pub(crate) fn template_schema(template: &Template) -> SchemaRef {
    let mut fields: Vec<Field> = template
        .fields
        .iter()
        .map(|f| {
            let data_type = match f.kind {
                FieldType::Text => DataType::Utf8,
                FieldType::Date => DataType::Date32,
                FieldType::Integer => DataType::Int64,
                FieldType::Bool => DataType::Boolean,
                FieldType::Enum => dictionary_type(),
            };
            Field::new(&f.name, data_type, true)
        })
        .collect();
    fields.push(Field::new("submission_id", DataType::Utf8, false));
    fields.push(Field::new("source_sheet", DataType::Utf8, false));
    fields.push(Field::new("source_row", DataType::Int64, false));
    Arc::new(Schema::new(fields))
}

/// A template's rows as one Arrow batch.
pub fn template_batch(
    template: &Template,
    rows: &[(&str, &ParsedRow)],
    submission_id: &str,
) -> Result<RecordBatch, WarehouseError> {
    let schema = template_schema(template);
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    for (index, field) in template.fields.iter().enumerate() {
        let values = rows.iter().map(|(_, row)| &row.values[index]);
        let array: ArrayRef = match field.kind {
            FieldType::Text => {
                let mut b = StringBuilder::new();
                for v in values {
                    match v {
                        Value::Text(t) => b.append_value(t),
                        _ => b.append_null(),
                    }
                }
                Arc::new(b.finish())
            }
            FieldType::Enum => {
                let mut b = StringDictionaryBuilder::<Int32Type>::new();
                for v in values {
                    match v {
                        Value::Enum(t) => {
                            b.append_value(t);
                        }
                        _ => b.append_null(),
                    }
                }
                Arc::new(b.finish())
            }
            FieldType::Date => {
                let mut b = Date32Builder::new();
                for v in values {
                    match v {
                        Value::Date(d) => b.append_value(days_since_epoch(*d)),
                        _ => b.append_null(),
                    }
                }
                Arc::new(b.finish())
            }
            FieldType::Integer => {
                let mut b = Int64Builder::new();
                for v in values {
                    match v {
                        Value::Int(n) => b.append_value(*n),
                        _ => b.append_null(),
                    }
                }
                Arc::new(b.finish())
            }
            FieldType::Bool => {
                let mut b = BooleanBuilder::new();
                for v in values {
                    match v {
                        Value::Bool(x) => b.append_value(*x),
                        _ => b.append_null(),
                    }
                }
                Arc::new(b.finish())
            }
        };
        columns.push(array);
    }
    let mut submission = StringBuilder::new();
    let mut sheet = StringBuilder::new();
    let mut source_row = Int64Builder::new();
    for (sheet_name, row) in rows {
        submission.append_value(submission_id);
        sheet.append_value(sheet_name);
        source_row.append_value(i64::from(row.source_row));
    }
    columns.push(Arc::new(submission.finish()));
    columns.push(Arc::new(sheet.finish()));
    columns.push(Arc::new(source_row.finish()));
    RecordBatch::try_new(schema, columns).map_err(|source| WarehouseError::Arrow {
        table: template.name.clone(),
        source,
    })
}

/// The Arrow schema of the `rejects` table.
pub(crate) fn rejects_schema() -> SchemaRef {
    let text = |name: &str| Field::new(name, DataType::Utf8, false);
    Arc::new(Schema::new(vec![
        text("submission_id"),
        text("source_file"),
        text("source_sheet"),
        Field::new("source_row", DataType::Int64, false),
        text("column"),
        text("cell"),
        text("value"),
        text("reason_vi"),
        text("reason_en"),
    ]))
}

/// The rejects of one submission as a record batch.
pub(crate) fn rejects_batch(
    rejects: &[Reject],
    submission_id: &str,
    source_file: &str,
) -> Result<RecordBatch, WarehouseError> {
    fn column<'a>(rejects: &'a [Reject], f: impl Fn(&'a Reject) -> &'a str) -> ArrayRef {
        let mut b = StringBuilder::new();
        for r in rejects {
            b.append_value(f(r));
        }
        Arc::new(b.finish())
    }
    let mut rows = Int64Builder::new();
    for r in rejects {
        rows.append_value(i64::from(r.source_row));
    }
    let columns: Vec<ArrayRef> = vec![
        column(rejects, |_| submission_id),
        column(rejects, |_| source_file),
        column(rejects, |r| &r.sheet),
        Arc::new(rows.finish()),
        column(rejects, |r| &r.column),
        column(rejects, |r| &r.cell),
        column(rejects, |r| &r.value),
        column(rejects, |r| &r.reason_vi),
        column(rejects, |r| &r.reason_en),
    ];
    RecordBatch::try_new(rejects_schema(), columns).map_err(|source| WarehouseError::Arrow {
        table: REJECTS.into(),
        source,
    })
}

/// The Arrow schema of the `submissions` table.
pub(crate) fn submissions_schema() -> SchemaRef {
    let text = |name: &str| Field::new(name, DataType::Utf8, false);
    let count = |name: &str| Field::new(name, DataType::Int64, false);
    Arc::new(Schema::new(vec![
        text("submission_id"),
        text("sha256"),
        text("source_file"),
        text("received_at"),
        Field::new("status", dictionary_type(), false),
        text("templates"),
        count("rows_loaded"),
        count("rows_rejected"),
        count("rows_skipped"),
    ]))
}

/// One submission's row of the `submissions` table.
pub fn submission_batch(record: &Submission) -> Result<RecordBatch, WarehouseError> {
    let text = |v: &str| -> ArrayRef { Arc::new(arrow::array::StringArray::from(vec![v])) };
    let count = |v: i64| -> ArrayRef { Arc::new(arrow::array::Int64Array::from(vec![v])) };
    let mut status = StringDictionaryBuilder::<Int32Type>::new();
    status.append_value(record.status.as_str());
    RecordBatch::try_new(
        submissions_schema(),
        vec![
            text(&record.submission_id),
            text(&record.sha256),
            text(&record.source_file),
            text(&record.received_at),
            Arc::new(status.finish()),
            text(&record.templates),
            count(record.rows_loaded),
            count(record.rows_rejected),
            count(record.rows_skipped),
        ],
    )
    .map_err(|source| WarehouseError::Arrow {
        table: SUBMISSIONS.into(),
        source,
    })
}

/// The Arrow schema of the `indicators` table.
pub(crate) fn indicators_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("scope", DataType::Utf8, false),
        Field::new("indicator", DataType::Utf8, false),
        Field::new("value", DataType::Float64, true),
        Field::new("numerator", DataType::Float64, true),
        Field::new("denominator", DataType::Float64, true),
        Field::new("unit", dictionary_type(), false),
    ]))
}

/// The indicators of one period as a record batch.
pub(crate) fn indicators_batch(rows: &[IndicatorRow]) -> Result<RecordBatch, WarehouseError> {
    let mut scope = StringBuilder::new();
    let mut indicator = StringBuilder::new();
    let mut value = Float64Builder::new();
    let mut numerator = Float64Builder::new();
    let mut denominator = Float64Builder::new();
    let mut unit = StringDictionaryBuilder::<Int32Type>::new();
    for row in rows {
        scope.append_value(&row.scope);
        indicator.append_value(&row.indicator);
        value.append_option(row.value);
        numerator.append_option(row.numerator);
        denominator.append_option(row.denominator);
        unit.append_value(row.unit.as_str());
    }
    RecordBatch::try_new(
        indicators_schema(),
        vec![
            Arc::new(scope.finish()),
            Arc::new(indicator.finish()),
            Arc::new(value.finish()),
            Arc::new(numerator.finish()),
            Arc::new(denominator.finish()),
            Arc::new(unit.finish()),
        ],
    )
    .map_err(|source| WarehouseError::Arrow {
        table: INDICATORS.into(),
        source,
    })
}

/// Where the indicators of `period` go: `<root>/indicators/period=<P>/part-0.parquet`.
pub(crate) fn indicators_path(root: &Path, period: &str) -> PathBuf {
    root.join(INDICATORS)
        .join(format!("period={period}"))
        .join("part-0.parquet")
}

/// Reads the indicators of one period back (for the digest and `status`).
pub fn read_indicators(root: &Path, period: &str) -> Result<Vec<IndicatorRow>, WarehouseError> {
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::Float64Type;
    let path = indicators_path(root, period);
    let file = File::open(&path).map_err(io_error("open", &path))?;
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|b| b.build())
        .map_err(|source| WarehouseError::ReadParquet {
            path: path.clone(),
            source: source.into(),
        })?;
    let mut rows = Vec::new();
    for batch in reader {
        let unreadable = |source: arrow::error::ArrowError| WarehouseError::ReadParquet {
            path: path.clone(),
            source: source.into(),
        };
        let batch = batch.map_err(unreadable)?;
        let unit = arrow::compute::cast(batch.column(5), &DataType::Utf8).map_err(unreadable)?;
        let scope = batch.column(0).as_string::<i32>();
        let indicator = batch.column(1).as_string::<i32>();
        let floats = |i: usize| batch.column(i).as_primitive::<Float64Type>().clone();
        let (value, numerator, denominator) = (floats(2), floats(3), floats(4));
        let unit = unit.as_string::<i32>();
        let opt = |a: &arrow::array::Float64Array, i: usize| (!a.is_null(i)).then(|| a.value(i));
        for i in 0..batch.num_rows() {
            let unit = Unit::parse(unit.value(i)).ok_or_else(|| WarehouseError::ReadParquet {
                path: path.clone(),
                source: format!(
                    "unit {:?} is not one of {} (written by another nhanluc?)",
                    unit.value(i),
                    Unit::names()
                )
                .into(),
            })?;
            rows.push(IndicatorRow {
                scope: scope.value(i).to_string(),
                indicator: indicator.value(i).to_string(),
                value: opt(&value, i),
                numerator: opt(&numerator, i),
                denominator: opt(&denominator, i),
                unit,
            });
        }
    }
    Ok(rows)
}

/// One stored row's identity and where in its file it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredIdentity {
    pub identity: RowIdentity,
    pub sheet: String,
    pub source_row: u32,
}

/// The identities of the rows of one part file (a template's table),
/// reading only the columns that tell who a row is about.
pub fn read_identities(path: &Path) -> Result<Vec<StoredIdentity>, WarehouseError> {
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::{Date32Type, Int64Type};
    use parquet::arrow::ProjectionMask;
    let file = File::open(path).map_err(io_error("open", path))?;
    let unreadable =
        |source: Box<dyn std::error::Error + Send + Sync>| WarehouseError::ReadParquet {
            path: path.to_path_buf(),
            source,
        };
    let builder = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| unreadable(e.into()))?;
    let wanted = [
        "person_id",
        "full_name",
        "birth_date",
        "course",
        "start_date",
        "source_sheet",
        "source_row",
    ];
    let columns: Vec<usize> = builder
        .schema()
        .fields()
        .iter()
        .enumerate()
        .filter(|(_, f)| wanted.contains(&f.name().as_str()))
        .map(|(i, _)| i)
        .collect();
    let mask = ProjectionMask::roots(builder.parquet_schema(), columns);
    let reader = builder
        .with_projection(mask)
        .build()
        .map_err(|e| unreadable(e.into()))?;
    let mut rows = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|e| unreadable(e.into()))?;
        let text = |name: &str| -> Result<Option<ArrayRef>, WarehouseError> {
            batch
                .column_by_name(name)
                .map(|c| arrow::compute::cast(c, &DataType::Utf8))
                .transpose()
                .map_err(|e| unreadable(e.into()))
        };
        let (person_id, full_name, course, sheet) = (
            text("person_id")?,
            text("full_name")?,
            text("course")?,
            text("source_sheet")?,
        );
        let date = |name: &str| {
            batch
                .column_by_name(name)
                .and_then(|c| c.as_primitive_opt::<Date32Type>().cloned())
        };
        let (birth_date, start_date) = (date("birth_date"), date("start_date"));
        let source_row = batch
            .column_by_name("source_row")
            .and_then(|c| c.as_primitive_opt::<Int64Type>().cloned());
        let string_at = |array: &Option<ArrayRef>, i: usize| {
            array.as_ref().and_then(|a| {
                let a = a.as_string::<i32>();
                (!a.is_null(i)).then(|| a.value(i).to_string())
            })
        };
        let date_at = |array: &Option<arrow::array::Date32Array>, i: usize| {
            array
                .as_ref()
                .filter(|a| !a.is_null(i))
                .and_then(|a| date_from_days(a.value(i)))
        };
        for i in 0..batch.num_rows() {
            rows.push(StoredIdentity {
                identity: RowIdentity {
                    person_id: string_at(&person_id, i),
                    full_name: string_at(&full_name, i),
                    birth_date: date_at(&birth_date, i),
                    course: string_at(&course, i),
                    start_date: date_at(&start_date, i),
                },
                sheet: string_at(&sheet, i).unwrap_or_default(),
                source_row: source_row
                    .as_ref()
                    .map_or(0, |a| u32::try_from(a.value(i)).unwrap_or(0)),
            });
        }
    }
    Ok(rows)
}

/// The periods that have an indicators file, oldest first.
pub fn indicator_periods(root: &Path) -> Vec<String> {
    let mut periods: Vec<String> = std::fs::read_dir(root.join(INDICATORS))
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_str()?.strip_prefix("period=")?.to_string();
            e.path().join("part-0.parquet").is_file().then_some(name)
        })
        .collect();
    periods.sort();
    periods
}

/// How every warehouse file is written: zstd, row groups of 128 Ki rows
/// (big enough to compress well, small enough for readers to split the work).
fn writer_properties() -> WriterProperties {
    static PROPERTIES: std::sync::LazyLock<WriterProperties> = std::sync::LazyLock::new(|| {
        WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::try_new(3).unwrap_or_default()))
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .build()
    });
    PROPERTIES.clone()
}

/// Rows per Parquet row group.
pub(crate) const ROW_GROUP_ROWS: usize = 128 * 1024;

/// Writes a batch as a zstd Parquet file atomically: temporary file, fsync, rename, fsync of the folder.
pub fn write_parquet_atomic(path: &Path, batch: &RecordBatch) -> Result<(), WarehouseError> {
    let mut staged = StagedFiles::default();
    staged.stage_parquet(path, "w", batch)?;
    staged.commit()
}

/// Files written under temporary names and then made durable and renamed
/// into place together. A batch of many files costs two `syncfs` calls
/// instead of an fsync per file and per folder; a reader never sees a
/// partial file, and a crash leaves only temporaries ([`remove_temporaries`]).
#[derive(Debug, Default)]
pub struct StagedFiles {
    /// (temporary, final) paths.
    renames: Vec<(PathBuf, PathBuf)>,
    bytes: u64,
    /// Per entry of `renames`: the file's size and sha256, hashed as it was
    /// written, so the ledger can record what each part must be.
    digests: Vec<(u64, String)>,
}

/// A staged file: where it goes, its size and content hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagedFile {
    pub path: PathBuf,
    pub bytes: u64,
    pub sha256: String,
}

impl StagedFiles {
    /// The temporary name of `path` for writer `tag` (two writers of the same
    /// file in one batch use different tags).
    fn temporary(path: &Path, tag: &str) -> PathBuf {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        path.with_file_name(format!(".{name}.{tag}.tmp"))
    }

    /// Writes `bytes` to a temporary beside `path` (named by `tag`), to be
    /// moved into place when the batch is committed.
    pub(crate) fn stage_bytes(
        &mut self,
        path: &Path,
        tag: &str,
        bytes: &[u8],
    ) -> Result<(), WarehouseError> {
        let tmp = Self::temporary(path, tag);
        create_parent(&tmp)?;
        std::fs::write(&tmp, bytes).map_err(io_error("write", &tmp))?;
        self.bytes += bytes.len() as u64;
        self.renames.push((tmp, path.to_path_buf()));
        self.digests.push((bytes.len() as u64, sha256_hex(bytes)));
        Ok(())
    }

    /// Stages one batch as the Parquet file `path`.
    pub(crate) fn stage_parquet(
        &mut self,
        path: &Path,
        tag: &str,
        batch: &RecordBatch,
    ) -> Result<(), WarehouseError> {
        let mut writer = self.parquet_writer(path, tag, batch.schema())?;
        writer.write(batch)?;
        writer.finish(self)
    }

    /// A Parquet writer into the temporary file of `path`; [`PartWriter::finish`] stages it.
    pub(crate) fn parquet_writer(
        &mut self,
        path: &Path,
        tag: &str,
        schema: SchemaRef,
    ) -> Result<PartWriter, WarehouseError> {
        let tmp = Self::temporary(path, tag);
        create_parent(&tmp)?;
        let file = File::create(&tmp).map_err(io_error("create", &tmp))?;
        let writer = ArrowWriter::try_new(
            HashingWriter::new(std::io::BufWriter::new(file)),
            schema,
            Some(writer_properties()),
        )
        .map_err(|source| WarehouseError::Parquet {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(PartWriter {
            writer,
            tmp,
            path: path.to_path_buf(),
        })
    }

    /// The temporary file staged for `path` (a final path), readable before
    /// the batch is committed.
    pub(crate) fn staged_path(&self, path: &Path) -> Option<&Path> {
        self.renames
            .iter()
            .find(|(_, to)| to == path)
            .map(|(tmp, _)| tmp.as_path())
    }

    /// Takes over the files `other` staged.
    pub fn extend(&mut self, other: StagedFiles) {
        self.renames.extend(other.renames);
        self.bytes += other.bytes;
        self.digests.extend(other.digests);
    }

    /// What is staged: final paths with sizes and hashes.
    pub fn files(&self) -> Vec<StagedFile> {
        self.renames
            .iter()
            .zip(&self.digests)
            .map(|((_, path), (bytes, sha256))| StagedFile {
                path: path.clone(),
                bytes: *bytes,
                sha256: sha256.clone(),
            })
            .collect()
    }

    /// Keeps only the files staged for `keep` (final paths); the others'
    /// temporaries are deleted. For rewriting some parts of a submission.
    pub(crate) fn retain_paths(&mut self, keep: &std::collections::HashSet<PathBuf>) {
        let mut renames = Vec::new();
        let mut digests = Vec::new();
        for (rename, digest) in std::mem::take(&mut self.renames)
            .into_iter()
            .zip(std::mem::take(&mut self.digests))
        {
            if keep.contains(&rename.1) {
                renames.push(rename);
                digests.push(digest);
            } else {
                let _ = std::fs::remove_file(&rename.0);
            }
        }
        self.bytes = digests.iter().map(|(b, _)| *b).sum();
        self.renames = renames;
        self.digests = digests;
    }

    /// How many files are staged.
    pub fn len(&self) -> usize {
        self.renames.len()
    }

    /// Nothing is staged.
    pub fn is_empty(&self) -> bool {
        self.renames.is_empty()
    }

    /// Bytes staged so far (Parquet files count once finished).
    pub(crate) fn staged_bytes(&self) -> u64 {
        self.bytes
    }

    /// Deletes the temporaries: the batch is dropped.
    pub(crate) fn discard(self) {
        for (tmp, _) in self.renames {
            let _ = std::fs::remove_file(tmp);
        }
    }

    /// Makes the temporaries durable, renames them into place and makes the
    /// renames durable.
    pub fn commit(self) -> Result<(), WarehouseError> {
        if self.renames.is_empty() {
            return Ok(());
        }
        let folders: std::collections::BTreeSet<&Path> = self
            .renames
            .iter()
            .filter_map(|(_, path)| path.parent())
            .collect();
        for folder in &folders {
            std::fs::create_dir_all(folder).map_err(io_error("create the folder", folder))?;
        }
        let many = self.renames.len() > 4;
        if many && sync_file_systems(&folders) {
            for (tmp, path) in &self.renames {
                std::fs::rename(tmp, path).map_err(io_error("move into place", path))?;
            }
            sync_file_systems(&folders);
            return Ok(());
        }
        for (tmp, path) in &self.renames {
            File::open(tmp)
                .and_then(|f| f.sync_all())
                .map_err(io_error("flush", tmp))?;
            std::fs::rename(tmp, path).map_err(io_error("move into place", path))?;
        }
        for folder in folders {
            crate::durable::sync_dir(folder)?;
        }
        Ok(())
    }
}

/// A Parquet file being written batch by batch.
pub struct PartWriter {
    writer: ArrowWriter<HashingWriter<std::io::BufWriter<File>>>,
    tmp: PathBuf,
    path: PathBuf,
}

impl PartWriter {
    /// Adds a key-value pair to the file's footer metadata.
    pub(crate) fn append_metadata(&mut self, key: &str, value: String) {
        self.writer
            .append_key_value_metadata(parquet::file::metadata::KeyValue::new(
                key.to_string(),
                value,
            ));
    }

    /// Appends a batch of rows to the file.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), WarehouseError> {
        self.writer
            .write(batch)
            .map_err(|source| WarehouseError::Parquet {
                path: self.path.clone(),
                source,
            })
    }

    /// Closes the file and stages it, to be moved into place on commit.
    pub fn finish(self, staged: &mut StagedFiles) -> Result<(), WarehouseError> {
        let path = self.path.clone();
        self.finish_as(staged, &path)
    }

    /// Finishes the file and stages it under `path` instead of the name it
    /// was opened with (known only once the whole input is read).
    pub(crate) fn finish_as(
        self,
        staged: &mut StagedFiles,
        path: &Path,
    ) -> Result<(), WarehouseError> {
        let parquet_error = |source| WarehouseError::Parquet {
            path: self.path.clone(),
            source,
        };
        let hashing = self.writer.into_inner().map_err(parquet_error)?;
        let (buffered, size, sha256) = hashing.finish();
        let file = buffered
            .into_inner()
            .map_err(|e| io_error("write", &self.tmp)(e.into_error()))?;
        drop(file);
        staged.bytes += size;
        staged.renames.push((self.tmp, path.to_path_buf()));
        staged.digests.push((size, sha256));
        Ok(())
    }
}

/// Hashes what passes through to the file: the Parquet writer only appends,
/// so this is the file's sha256, at no extra read.
pub(crate) struct HashingWriter<W> {
    inner: W,
    hasher: sha2::Sha256,
    len: u64,
}

impl<W> HashingWriter<W> {
    fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: <sha2::Sha256 as sha2::Digest>::new(),
            len: 0,
        }
    }

    fn finish(self) -> (W, u64, String) {
        let digest = <sha2::Sha256 as sha2::Digest>::finalize(self.hasher);
        (self.inner, self.len, hex::encode(digest))
    }
}

impl<W: std::io::Write> std::io::Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let written = self.inner.write(buf)?;
        sha2::Digest::update(&mut self.hasher, &buf[..written]);
        self.len += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// The SHA-256 of `bytes`, as lowercase hex.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes))
}

/// The size and sha256 of a file on disk, read in pieces.
pub(crate) fn file_digest(path: &Path) -> std::io::Result<(u64, String)> {
    use std::io::Read;
    let mut file = File::open(path)?;
    let mut hasher = <sha2::Sha256 as sha2::Digest>::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut len = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        sha2::Digest::update(&mut hasher, &buf[..n]);
        len += n as u64;
    }
    Ok((
        len,
        hex::encode(<sha2::Sha256 as sha2::Digest>::finalize(hasher)),
    ))
}

fn create_parent(path: &Path) -> Result<(), WarehouseError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io_error("create the folder", dir))
}

/// One `syncfs` per file system holding these folders. Returns false where
/// that is not available, so the caller fsyncs file by file.
#[cfg(target_os = "linux")]
fn sync_file_systems(folders: &std::collections::BTreeSet<&Path>) -> bool {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::MetadataExt;
    let mut done = std::collections::HashSet::new();
    for folder in folders {
        let Ok(dir) = File::open(folder) else {
            return false;
        };
        let Ok(metadata) = dir.metadata() else {
            return false;
        };
        if done.insert(metadata.dev()) {
            // SAFETY: syncfs only reads the descriptor, which `dir` keeps open.
            if unsafe { libc::syncfs(dir.as_raw_fd()) } != 0 {
                return false;
            }
        }
    }
    true
}

#[cfg(not(target_os = "linux"))]
fn sync_file_systems(_folders: &std::collections::BTreeSet<&Path>) -> bool {
    false
}

/// A data file of the warehouse, located by its path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PartFile {
    pub table: String,
    pub period: String,
    pub department: String,
    pub submission_id: String,
    pub path: PathBuf,
}

/// Every `part-<submission>.parquet` under the partitioned tables (not `indicators`).
pub(crate) fn list_parts(root: &Path) -> Vec<PartFile> {
    let mut parts = Vec::new();
    let read = |p: &Path| {
        std::fs::read_dir(p)
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok())
            .collect::<Vec<_>>()
    };
    for table in read(root) {
        let table_name = table.file_name().to_string_lossy().into_owned();
        // `_snapshots` and other `_`/`.` folders are derived data, not tables.
        if table_name == INDICATORS || table_name.starts_with(['_', '.']) || !table.path().is_dir()
        {
            continue;
        }
        for period in read(&table.path()) {
            let Some(period_name) = period
                .file_name()
                .to_str()
                .and_then(|n| n.strip_prefix("period="))
                .map(str::to_string)
            else {
                continue;
            };
            for department in read(&period.path()) {
                let Some(department_name) = department
                    .file_name()
                    .to_str()
                    .and_then(|n| n.strip_prefix("department="))
                    .map(str::to_string)
                else {
                    continue;
                };
                for file in read(&department.path()) {
                    let name = file.file_name().to_string_lossy().into_owned();
                    if let Some(id) = name
                        .strip_prefix("part-")
                        .and_then(|n| n.strip_suffix(".parquet"))
                    {
                        parts.push(PartFile {
                            table: table_name.clone(),
                            period: period_name.clone(),
                            department: department_name.clone(),
                            submission_id: id.to_string(),
                            path: file.path(),
                        });
                    }
                }
            }
        }
    }
    parts.sort_by(|a, b| a.path.cmp(&b.path));
    parts
}

/// Deletes the temporary files an interrupted write left behind.
pub fn remove_temporaries(root: &Path) -> Result<usize, WarehouseError> {
    fn walk(dir: &Path, removed: &mut usize) -> Result<(), WarehouseError> {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Ok(());
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, removed)?;
            } else if entry
                .file_name()
                .to_str()
                .is_some_and(|n| n.starts_with('.') && n.ends_with(".tmp"))
            {
                std::fs::remove_file(&path).map_err(io_error("remove", &path))?;
                *removed += 1;
            }
        }
        Ok(())
    }
    let mut removed = 0;
    walk(root, &mut removed)?;
    Ok(removed)
}

/// Removes a file; one already gone is not an error.
pub fn remove_file(path: &Path) -> Result<(), WarehouseError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_error("remove", path)(e)),
    }
}

/// The table of the department registry as of the last run: `code`, `name`,
/// `level`, one file `departments/part-0.parquet` (not partitioned).
pub const DEPARTMENTS: &str = "departments";

/// The folder of the tables' schemas: `_schemas/<table>.parquet`, zero rows,
/// each table's Arrow schema with its Hive columns (`period`, `department`)
/// as strings. A `_` folder, so no reader takes it for a table.
pub const SCHEMAS: &str = "_schemas";

/// The training that fits each post group (`post_group`, `category`), one
/// file `competencies/part-0.parquet`: `config/competencies.toml` as a table.
pub const COMPETENCIES: &str = "competencies";

/// The SQL of the scopes the indicator files group by (the
/// `department_scopes` table and the `<table>_scoped` views), as nhanluc runs
/// it: `_schemas/scopes.sql`, so another engine defines them from the same text.
pub const SCOPES_SQL: &str = "scopes.sql";

/// What another engine needs besides the data, written by [`write_contract`].
#[derive(Debug, Clone, Copy)]
pub struct Contract<'a> {
    pub templates: &'a [Template],
    pub registry: &'a [RegistryRow],
    /// (post group, category) pairs.
    pub competencies: &'a [(&'a str, &'a str)],
    /// The text of `_schemas/scopes.sql`.
    pub scopes_sql: &'a str,
}

/// One department of the registry, as the warehouse holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryRow {
    /// The department's code (its inbox folder).
    pub code: String,
    /// Its name as in departments.toml.
    pub name: String,
    /// `province`, `district` or `commune`.
    pub level: String,
}

/// The Arrow schema of the `departments` table.
pub(crate) fn departments_schema() -> SchemaRef {
    let text = |name: &str| Field::new(name, DataType::Utf8, false);
    Arc::new(Schema::new(vec![text("code"), text("name"), text("level")]))
}

/// The registry as one `departments` batch, in the registry's order.
pub(crate) fn departments_batch(rows: &[RegistryRow]) -> Result<RecordBatch, WarehouseError> {
    let column = |f: fn(&RegistryRow) -> &str| -> ArrayRef {
        Arc::new(arrow::array::StringArray::from(
            rows.iter().map(f).collect::<Vec<_>>(),
        ))
    };
    RecordBatch::try_new(
        departments_schema(),
        vec![
            column(|r| &r.code),
            column(|r| &r.name),
            column(|r| &r.level),
        ],
    )
    .map_err(|source| WarehouseError::Arrow {
        table: DEPARTMENTS.into(),
        source,
    })
}

/// Where the registry goes: `<root>/departments/part-0.parquet`.
pub fn departments_path(root: &Path) -> PathBuf {
    root.join(DEPARTMENTS).join("part-0.parquet")
}

/// Where the competency table goes: `<root>/competencies/part-0.parquet`.
pub fn competencies_path(root: &Path) -> PathBuf {
    root.join(COMPETENCIES).join("part-0.parquet")
}

/// Where the scopes' SQL goes: `<root>/_schemas/scopes.sql`.
pub fn scopes_sql_path(root: &Path) -> PathBuf {
    root.join(SCHEMAS).join(SCOPES_SQL)
}

/// The Arrow schema of the `competencies` table.
pub(crate) fn competencies_schema() -> SchemaRef {
    let text = |name: &str| Field::new(name, DataType::Utf8, false);
    Arc::new(Schema::new(vec![text("post_group"), text("category")]))
}

/// The competency pairs as one `competencies` batch, in the given order.
pub(crate) fn competencies_batch(pairs: &[(&str, &str)]) -> Result<RecordBatch, WarehouseError> {
    let groups: Vec<&str> = pairs.iter().map(|p| p.0).collect();
    let categories: Vec<&str> = pairs.iter().map(|p| p.1).collect();
    RecordBatch::try_new(
        competencies_schema(),
        vec![
            Arc::new(arrow::array::StringArray::from(groups)),
            Arc::new(arrow::array::StringArray::from(categories)),
        ],
    )
    .map_err(|source| WarehouseError::Arrow {
        table: COMPETENCIES.into(),
        source,
    })
}

/// Where the schema of `table` goes: `<root>/_schemas/<table>.parquet`.
pub fn schema_path(root: &Path, table: &str) -> PathBuf {
    root.join(SCHEMAS).join(format!("{table}.parquet"))
}

/// A table's schema as its readers see it: the file's columns, then the Hive
/// columns of its path (`period` and `department`) as non-null strings.
fn with_partition_columns(schema: &Schema, partitions: &[&str]) -> SchemaRef {
    let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
    for name in partitions {
        fields.push(Field::new(*name, DataType::Utf8, false));
    }
    Arc::new(Schema::new(fields))
}

/// A batch as the bytes of a Parquet file, written the way every warehouse
/// file is (the same input gives the same bytes).
fn parquet_bytes(path: &Path, batch: &RecordBatch) -> Result<Vec<u8>, WarehouseError> {
    let parquet_error = |source| WarehouseError::Parquet {
        path: path.to_path_buf(),
        source,
    };
    let mut bytes = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut bytes, batch.schema(), Some(writer_properties()))
        .map_err(parquet_error)?;
    writer.write(batch).map_err(parquet_error)?;
    writer.close().map_err(parquet_error)?;
    Ok(bytes)
}

/// Writes `batch` to `path` atomically unless the file already holds exactly
/// these bytes. Returns whether it wrote.
fn write_if_changed(path: &Path, batch: &RecordBatch) -> Result<bool, WarehouseError> {
    write_bytes_if_changed(path, &parquet_bytes(path, batch)?)
}

/// Writes `bytes` to `path` atomically unless the file already holds them.
fn write_bytes_if_changed(path: &Path, bytes: &[u8]) -> Result<bool, WarehouseError> {
    if std::fs::read(path).is_ok_and(|held| held == bytes) {
        return Ok(false);
    }
    crate::durable::write_atomic(path, bytes)?;
    Ok(true)
}

/// Writes what another engine needs besides the data: the registry
/// (`departments/part-0.parquet`), the competency table
/// (`competencies/part-0.parquet`), the schema of every table
/// (`_schemas/<table>.parquet`, zero rows) and the scopes' SQL
/// (`_schemas/scopes.sql`), each only when missing or different, so a run
/// with the same configuration changes no byte. Returns how many files were written.
pub fn write_contract(root: &Path, contract: &Contract<'_>) -> Result<usize, WarehouseError> {
    let Contract {
        templates,
        registry,
        competencies,
        scopes_sql,
    } = *contract;
    let hive = ["period", "department"];
    let mut schemas: Vec<(String, SchemaRef)> = templates
        .iter()
        .map(|t| {
            (
                t.name.clone(),
                with_partition_columns(&template_schema(t), &hive),
            )
        })
        .collect();
    schemas.push((
        REJECTS.into(),
        with_partition_columns(&rejects_schema(), &hive),
    ));
    schemas.push((
        SUBMISSIONS.into(),
        with_partition_columns(&submissions_schema(), &hive),
    ));
    schemas.push((
        INDICATORS.into(),
        with_partition_columns(&indicators_schema(), &["period"]),
    ));
    schemas.push((DEPARTMENTS.into(), departments_schema()));
    schemas.push((COMPETENCIES.into(), competencies_schema()));
    let mut written = 0;
    for (table, schema) in schemas {
        let empty = RecordBatch::new_empty(schema);
        written += usize::from(write_if_changed(&schema_path(root, &table), &empty)?);
    }
    let registry = departments_batch(registry)?;
    written += usize::from(write_if_changed(&departments_path(root), &registry)?);
    let competencies = competencies_batch(competencies)?;
    written += usize::from(write_if_changed(&competencies_path(root), &competencies)?);
    written += usize::from(write_bytes_if_changed(
        &scopes_sql_path(root),
        scopes_sql.as_bytes(),
    )?);
    Ok(written)
}
