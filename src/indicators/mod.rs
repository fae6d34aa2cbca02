//! Indicators: SQL files run by DataFusion over the Parquet warehouse.
//!
//! Each `.sql` file in the indicators folder is one query returning the
//! columns `period, scope, indicator, value, numerator, denominator, unit`
//! (one file may return several indicator ids). Queries read the template
//! tables (`staff`, `training`, …, with the Hive columns `period` and
//! `department`), the `departments` registry, the `competencies` table
//! (post group → fitting training category), and a `<table>_scoped` view of
//! each table that repeats every row once per scope: `province`,
//! `level:<level>` and `department:<CODE>`, as `scopes.sql` defines them (the
//! text published in the warehouse for other engines). Each table is read from its
//! snapshot (one file per period, see `snapshot.rs`), not from the thousands
//! of parts a country sends. The built-in files are compiled in;
//! a file of the same name in the folder replaces one (an empty file disables
//! it), a new name adds an indicator (`crate::catalogue` finds the files). A broken file is reported and the others
//! still run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Array, AsArray, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Float64Type, Schema};
use datafusion::datasource::MemTable;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::ListingOptions;
use datafusion::prelude::{SessionConfig, SessionContext};

mod scopes;
mod snapshot;

pub use scopes::SQL as SCOPES_SQL;

use crate::catalogue::{self, CatalogueError};
use crate::config::Config;
use crate::error_chain::{Chain, chain};
use crate::model::indicator::{IndicatorRow, Unit};
use crate::warehouse::{self, WarehouseError};

/// Why the indicators could not be computed or written.
#[derive(Debug, thiserror::Error)]
pub enum IndicatorError {
    /// DataFusion refused a table or view (`what`, e.g. "table staff").
    #[error("cannot prepare {what} for the queries over {warehouse}")]
    Engine {
        warehouse: PathBuf,
        what: String,
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The folder or one of its files cannot be read.
    #[error(transparent)]
    Catalogue(#[from] CatalogueError),
    #[error(transparent)]
    Warehouse(#[from] WarehouseError),
    #[error("cannot prepare the tables for the queries")]
    Snapshot(#[from] snapshot::SnapshotError),
}

/// An indicator file that could not be computed.
#[derive(Debug, Clone)]
pub struct IndicatorFailure {
    pub file: String,
    pub message: String,
}

/// What one indicators run computed, and the indicators that failed.
#[derive(Debug, Default)]
pub struct IndicatorOutcome {
    /// Period → rows written for it.
    pub periods: BTreeMap<String, Vec<IndicatorRow>>,
    pub failures: Vec<IndicatorFailure>,
}

/// An indicator definition: its file name and SQL text.
#[derive(Debug, Clone)]
pub struct Definition {
    pub file: String,
    pub sql: String,
}

/// The built-in definitions overlaid by the folder's `.sql` files (by file
/// name, see [`catalogue::INDICATOR_SQL`]); a file holding only comments is
/// left out.
pub fn definitions(dir: &Path) -> Result<Vec<Definition>, IndicatorError> {
    let files = catalogue::INDICATOR_SQL.overlaid(dir)?;
    Ok(files
        .into_iter()
        .filter(|f| !strip_sql_comments(&f.text).trim().is_empty())
        .map(|f| Definition {
            file: f.name,
            sql: f.text,
        })
        .collect())
}

fn strip_sql_comments(sql: &str) -> String {
    sql.lines()
        .map(|l| l.split("--").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The error of an engine call about `what` ("table staff", "the snapshots")
/// in the warehouse at `root`, once its cause is known.
fn engine_error(
    root: &Path,
    what: String,
) -> impl FnOnce(Box<dyn std::error::Error + Send + Sync>) -> IndicatorError {
    let warehouse = root.to_path_buf();
    move |source| IndicatorError::Engine {
        warehouse,
        what,
        source,
    }
}

/// Every table the queries read, with its columns: one per template, and the ledger's.
fn table_schemas(config: &Config) -> Vec<(String, Arc<Schema>)> {
    let mut tables: Vec<(String, Arc<Schema>)> = config
        .templates
        .iter()
        .map(|t| (t.name.clone(), warehouse::template_schema(t)))
        .collect();
    tables.push((warehouse::REJECTS.to_string(), warehouse::rejects_schema()));
    tables.push((
        warehouse::SUBMISSIONS.to_string(),
        warehouse::submissions_schema(),
    ));
    tables
}

/// A DataFusion session with every warehouse table, the registry and the scoped views.
pub async fn session(config: &Config) -> Result<SessionContext, IndicatorError> {
    let root = &config.paths.warehouse;
    let engine = |what: String| engine_error(root, what);
    let tables = table_schemas(config);
    let (refreshed, parts) = {
        let (root, tables) = (root.clone(), tables.clone());
        tokio::task::spawn_blocking(move || {
            let parts = warehouse::list_parts(&root);
            snapshot::refresh(&root, &tables, &parts).map(|refreshed| (refreshed, parts))
        })
        .await
        .map_err(|e| engine("the snapshots".into())(e.into()))??
    };
    for (table, period) in &refreshed.written {
        tracing::debug!(%table, %period, "snapshot written");
    }
    if !refreshed.written.is_empty() {
        tracing::info!(
            written = refreshed.written.len(),
            reused_parts = refreshed.reused_parts,
            removed = refreshed.removed,
            "snapshots refreshed"
        );
    }
    register(config, &tables, &refreshed.folders, &parts).await
}

/// The session [`session`] would give over a warehouse with no data: every
/// table with its columns and no rows, the registry and the scoped views.
/// Reads and writes nothing: what `nhanluc check` plans the indicator files on.
pub(crate) async fn empty_session(config: &Config) -> Result<SessionContext, IndicatorError> {
    register(config, &table_schemas(config), &Default::default(), &[]).await
}

/// Registers the tables (read from their snapshot `folders`, empty when
/// absent), the registry and the scoped views in a new session.
async fn register(
    config: &Config,
    tables: &[(String, Arc<Schema>)],
    folders: &BTreeMap<String, PathBuf>,
    parts: &[warehouse::PartFile],
) -> Result<SessionContext, IndicatorError> {
    let root = &config.paths.warehouse;
    let engine = |what: String| engine_error(root, what);
    let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(2));
    for (name, schema) in tables {
        let schema = snapshot::queried_schema(schema);
        if let Some(folder) = folders.get(name) {
            let url = format!("{}/", folder.display());
            let options = ListingOptions::new(Arc::new(ParquetFormat::default()))
                .with_file_extension(".parquet");
            ctx.register_listing_table(name.as_str(), &url, options, Some(schema), None)
                .await
                .map_err(|e| engine(format!("table {name}"))(e.into()))?;
        } else {
            // No file yet: an empty table with the same columns, so queries still plan.
            let empty = MemTable::try_new(schema, vec![vec![]])
                .map_err(|e| engine(format!("table {name}"))(e.into()))?;
            ctx.register_table(name.as_str(), Arc::new(empty))
                .map_err(|e| engine(format!("table {name}"))(e.into()))?;
        }
    }
    let departments_table = || engine("table departments".into());
    let departments = warehouse::departments_batch(&registry_rows(config))
        .map_err(|e| departments_table()(e.into()))?;
    let table = MemTable::try_new(departments.schema(), vec![vec![departments]])
        .map_err(|e| departments_table()(e.into()))?;
    ctx.register_table("departments", Arc::new(table))
        .map_err(|e| departments_table()(e.into()))?;
    let competencies_table = || engine("table competencies".into());
    let competencies = warehouse::competencies_batch(&config.competencies.pairs())
        .map_err(|e| competencies_table()(e.into()))?;
    let table = MemTable::try_new(competencies.schema(), vec![vec![competencies]])
        .map_err(|e| competencies_table()(e.into()))?;
    ctx.register_table("competencies", Arc::new(table))
        .map_err(|e| competencies_table()(e.into()))?;
    let codes_table = || engine(format!("table {}", scopes::DEPARTMENT_CODES));
    let codes = department_codes_batch(config, parts).map_err(|e| codes_table()(e.into()))?;
    let table = MemTable::try_new(codes.schema(), vec![vec![codes]])
        .map_err(|e| codes_table()(e.into()))?;
    ctx.register_table(scopes::DEPARTMENT_CODES, Arc::new(table))
        .map_err(|e| codes_table()(e.into()))?;
    // Materialised, not a view: each scoped view joins it, and a small table
    // of known size is what the join should build its hash table from.
    let scopes_table = || engine(format!("table {}", scopes::DEPARTMENT_SCOPES));
    let scope_rows = ctx
        .sql(&scopes::department_scopes())
        .await
        .map_err(|e| scopes_table()(e.into()))?;
    let schema = Arc::new(scope_rows.schema().as_arrow().clone());
    let batches = scope_rows
        .collect()
        .await
        .map_err(|e| scopes_table()(e.into()))?;
    let table = MemTable::try_new(schema, vec![batches]).map_err(|e| scopes_table()(e.into()))?;
    ctx.register_table(scopes::DEPARTMENT_SCOPES, Arc::new(table))
        .map_err(|e| scopes_table()(e.into()))?;
    for (name, _) in tables {
        let view = format!("CREATE VIEW {name}_scoped AS {}", scopes::scoped_view(name));
        ctx.sql(&view)
            .await
            .map_err(|e| engine(format!("view {name}_scoped"))(e.into()))?;
    }
    Ok(ctx)
}

/// `department_codes(code, level)`, what `scopes.sql` builds the scopes
/// from: every registry department with its level, and every department found
/// in the warehouse's parts but no longer in the registry, with a null level.
fn department_codes_batch(
    config: &Config,
    parts: &[warehouse::PartFile],
) -> Result<RecordBatch, arrow::error::ArrowError> {
    let mut codes: BTreeMap<&str, Option<&str>> = parts
        .iter()
        .map(|p| (p.department.as_str(), None))
        .collect();
    for d in &config.departments {
        codes.insert(d.code.as_str(), Some(d.level.as_str()));
    }
    RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("code", DataType::Utf8, false),
            Field::new("level", DataType::Utf8, true),
        ])),
        vec![
            Arc::new(StringArray::from(codes.keys().copied().collect::<Vec<_>>())),
            Arc::new(StringArray::from(
                codes.values().copied().collect::<Vec<_>>(),
            )),
        ],
    )
}

/// The registry of departments.toml as the warehouse's `departments` rows.
fn registry_rows(config: &Config) -> Vec<warehouse::RegistryRow> {
    config
        .departments
        .iter()
        .map(|d| warehouse::RegistryRow {
            code: d.code.clone(),
            name: d.name.clone(),
            level: d.level.as_str().to_string(),
        })
        .collect()
}

/// Writes what another engine needs to run the indicator files over the
/// warehouse without nhanluc's configuration: the registry, the competency
/// table, every table's schema and the scopes' SQL
/// ([`warehouse::write_contract`]; unchanged files are not rewritten).
pub fn publish_contract(config: &Config) -> Result<usize, IndicatorError> {
    let written = warehouse::write_contract(
        &config.paths.warehouse,
        &warehouse::Contract {
            templates: &config.templates,
            registry: &registry_rows(config),
            competencies: &config.competencies.pairs(),
            scopes_sql: SCOPES_SQL,
        },
    )?;
    if written > 0 {
        tracing::info!(
            files = written,
            "warehouse contract written (registry, competencies, schemas, scopes)"
        );
    }
    Ok(written)
}

/// Computes every indicator (for `only_period`, or every period with data) and
/// writes `indicators/period=<P>/part-0.parquet` for each period, after
/// [`publish_contract`].
pub async fn compute(
    config: &Config,
    only_period: Option<&str>,
) -> Result<IndicatorOutcome, IndicatorError> {
    publish_contract(config)?;
    let ctx = session(config).await?;
    let mut outcome = IndicatorOutcome::default();
    let definitions = definitions(&config.paths.indicators)?;
    let mut progress = crate::progress::start(crate::progress::Step::Queries, definitions.len());
    for definition in definitions {
        progress.note(&definition.file);
        let started = std::time::Instant::now();
        let result = run_definition(&ctx, &definition.sql).await;
        progress.advance(1, 0);
        tracing::debug!(file = %definition.file, elapsed_ms = started.elapsed().as_millis() as u64, "indicator file run");
        match result {
            Ok(rows) => {
                for (period, row) in rows {
                    if only_period.is_none_or(|p| p == period) {
                        outcome.periods.entry(period).or_default().push(row);
                    }
                }
            }
            Err(message) => {
                tracing::error!(file = %definition.file, %message, "indicator failed");
                outcome.failures.push(IndicatorFailure {
                    file: definition.file,
                    message,
                });
            }
        }
    }
    for (period, rows) in &mut outcome.periods {
        rows.sort_by(|a, b| (&a.indicator, &a.scope).cmp(&(&b.indicator, &b.scope)));
        let path = warehouse::indicators_path(&config.paths.warehouse, period);
        warehouse::write_parquet_atomic(&path, &warehouse::indicators_batch(rows)?)?;
        tracing::debug!(%period, indicators = rows.len(), "indicators written");
    }
    let queries = progress.done();
    drop(progress);
    tracing::info!(
        queries,
        failed = outcome.failures.len(),
        periods = outcome.periods.len(),
        rows = outcome.periods.values().map(Vec::len).sum::<usize>(),
        "indicators written"
    );
    Ok(outcome)
}

/// The columns every indicator query returns (`numerator` and `denominator` may be left out).
const OUTPUT_COLUMNS: &[&str] = &["period", "scope", "indicator", "value", "unit"];

/// Plans and runs every indicator file over [`empty_session`], so a syntax
/// error, an unknown table or column, or a missing output column is found
/// before a night's run. Returns how many files were checked and those that failed.
pub(crate) async fn check_definitions(
    config: &Config,
) -> Result<(usize, Vec<IndicatorFailure>), IndicatorError> {
    let ctx = empty_session(config).await?;
    let definitions = definitions(&config.paths.indicators)?;
    let mut failures = Vec::new();
    for definition in &definitions {
        let checked = match ctx.sql(&definition.sql).await {
            Err(e) => Err(e.to_string()),
            Ok(frame) => {
                let returned: Vec<&str> = frame
                    .schema()
                    .fields()
                    .iter()
                    .map(|f| f.name().as_str())
                    .collect();
                let missing: Vec<&str> = OUTPUT_COLUMNS
                    .iter()
                    .filter(|c| !returned.contains(c))
                    .copied()
                    .collect();
                if missing.is_empty() {
                    // Executed too (no data, so quick): some errors only show then.
                    run_definition(&ctx, &definition.sql).await.map(|_| ())
                } else {
                    Err(format!(
                        "the query returns no column {} (it returns {}; expected period, scope, indicator, value, numerator, denominator, unit)",
                        missing.join(", "),
                        returned.join(", ")
                    ))
                }
            }
        };
        if let Err(message) = checked {
            failures.push(IndicatorFailure {
                file: definition.file.clone(),
                message,
            });
        }
    }
    Ok((definitions.len(), failures))
}

async fn run_definition(
    ctx: &SessionContext,
    sql: &str,
) -> Result<Vec<(String, IndicatorRow)>, String> {
    let batches = ctx
        .sql(sql)
        .await
        .map_err(|e| chain(&e))?
        .collect()
        .await
        .map_err(|e| chain(&e))?;
    let mut rows = Vec::new();
    for batch in batches {
        let text = |name: &str| -> Result<StringArray, String> {
            let column = batch
                .column_by_name(name)
                .ok_or_else(|| format!("the query returns no column {name:?} (expected period, scope, indicator, value, numerator, denominator, unit)"))?;
            arrow::compute::cast(column, &DataType::Utf8)
                .map_err(|e| format!("column {name}: {}", Chain(&e)))
                .map(|a| a.as_string::<i32>().clone())
        };
        let number =
            |name: &str, required: bool| -> Result<Option<arrow::array::Float64Array>, String> {
                match batch.column_by_name(name) {
                    None if required => Err(format!("the query returns no column {name:?}")),
                    None => Ok(None),
                    Some(column) => arrow::compute::cast(column, &DataType::Float64)
                        .map_err(|e| format!("column {name}: {}", Chain(&e)))
                        .map(|a| Some(a.as_primitive::<Float64Type>().clone())),
                }
            };
        let period = text("period")?;
        let scope = text("scope")?;
        let indicator = text("indicator")?;
        let unit = text("unit")?;
        let value = number("value", true)?;
        let numerator = number("numerator", false)?;
        let denominator = number("denominator", false)?;
        let get = |a: &Option<arrow::array::Float64Array>, i: usize| {
            a.as_ref()
                .filter(|a| !a.is_null(i))
                .map(|a| a.value(i))
                .filter(|v| v.is_finite())
        };
        for i in 0..batch.num_rows() {
            if period.is_null(i) || scope.is_null(i) || indicator.is_null(i) {
                return Err(format!(
                    "row {i}: period, scope and indicator must not be null"
                ));
            }
            let unit_value = if unit.is_null(i) { "" } else { unit.value(i) };
            let Some(unit) = Unit::parse(unit_value) else {
                return Err(format!(
                    "indicator {}: unit {unit_value:?} is not one of {}",
                    indicator.value(i),
                    Unit::names()
                ));
            };
            rows.push((
                period.value(i).to_string(),
                IndicatorRow {
                    scope: scope.value(i).to_string(),
                    indicator: indicator.value(i).to_string(),
                    value: get(&value, i),
                    numerator: get(&numerator, i),
                    denominator: get(&denominator, i),
                    unit,
                },
            ));
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_folder_gives_the_built_ins() {
        let defs = definitions(Path::new("/nonexistent/indicators")).unwrap();
        assert_eq!(
            defs.len(),
            catalogue::INDICATOR_SQL.built_in_names().count()
        );
    }
}
