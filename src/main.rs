//! The `nhanluc` command line: parses arguments, loads the configuration and
//! hands over to the library. Exit codes: 0 success, 1 the work failed, 2 bad
//! usage or bad configuration.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use nhanluc::config::{self, Config};
use nhanluc::error_chain::Chain;
use nhanluc::ingest;
use nhanluc::jobs::{self, RunLock};
use nhanluc::logging::{self, LogFormat, LogOptions};
use nhanluc::model::addition::Effect;
use nhanluc::model::names::printable;
use nhanluc::model::period::Period;
use nhanluc::model::report::Outcome;
use nhanluc::state::State;
use nhanluc::{digest, indicators, status};

#[derive(Parser)]
#[command(
    name = "nhanluc",
    version,
    about = "Workbooks in, Parquet warehouse, training indicators and digests out"
)]
struct Cli {
    /// Config file [default: $NHANLUC_CONFIG, then ./config/nhanluc.toml]
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Only warnings and errors on stderr
    #[arg(long, short, global = true)]
    quiet: bool,
    /// More detail on stderr (-v debug, -vv trace)
    #[arg(long, short, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// Log lines as `text`, or `json` (one object a line, for journald or Kubernetes)
    #[arg(
        long,
        global = true,
        value_name = "FORMAT",
        default_value = "text",
        env = "NHANLUC_LOG_FORMAT"
    )]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one job from the jobs folder now; exit 0 only if it succeeded
    Run { job: String },
    /// Run every job on its schedule, and ingest as files land
    Serve,
    /// Ingest the inbox (or just these files)
    Ingest { files: Vec<PathBuf> },
    /// Recompute indicators (every period with data by default)
    Indicators {
        #[arg(long, value_name = "P", value_parser = parse_period)]
        period: Option<Period>,
    },
    /// Build and deliver the digest (latest period by default)
    Digest {
        #[arg(long, value_name = "P", value_parser = parse_period)]
        period: Option<Period>,
    },
    /// Reconstruct the ledger and the warehouse from the archive (after the
    /// state database was lost): every archived workbook with a manifest is
    /// ingested again in received order; the old warehouse is moved aside
    Rebuild {
        /// Rebuild even though the state database holds submissions (it is
        /// moved aside, never deleted)
        #[arg(long)]
        force: bool,
    },
    /// Recent runs, jobs, outbox, submissions per department, period and form
    Status {
        /// One JSON document for scripts instead of tables
        #[arg(long)]
        json: bool,
    },
    /// How a workbook is read, changing nothing: its sheets (hidden or not),
    /// header rows, each column → field, each row's class (data, rejected and
    /// why, skipped and which kind), the period and its evidence.
    ///
    /// Exit codes: 0 the file was read (whatever ingest would decide), 1 the
    /// file cannot be read (the reason ingest would quarantine it with), 2 bad
    /// usage or configuration (an unknown template or department).
    Inspect {
        /// The workbook (inside the inbox, its folder is its department)
        file: PathBuf,
        /// Read the sheets against this template only
        #[arg(long, value_name = "T")]
        template: Option<String>,
        /// The department of a file outside the inbox (its level is the
        /// default of a blank level cell)
        #[arg(long, value_name = "D")]
        department: Option<String>,
        /// One JSON document for tools instead of text
        #[arg(long)]
        json: bool,
    },
    /// Validate the config, registry, jobs, templates, indicator SQL, digest
    /// templates and paths; exit 0 if all is well, 2 with one line per problem
    Check {
        /// Also connect to the SMTP server and log in
        #[arg(long)]
        smtp: bool,
    },
    /// Write the blank official workbook of a template (drop-downs for
    /// enumerations), the form departments should fill in
    Form {
        /// Template name (staff, training, plan, recruitment, or one of the templates folder)
        template: String,
        /// Department code: its name goes in the title block and the file name
        #[arg(long, value_name = "D")]
        department: Option<String>,
        /// Reporting period (2025, 2025-Q4): in the title block and the file name
        #[arg(long, value_name = "P", value_parser = parse_period)]
        period: Option<Period>,
        /// Output file [default: mau_<template>[_<department>][_<period>].xlsx here]
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

fn parse_period(text: &str) -> Result<Period, String> {
    text.parse()
        .map_err(|e: nhanluc::model::period::PeriodParseError| e.to_string())
}

fn main() -> ExitCode {
    // A reader process (see `ingest::reader`): before clap and logging, it
    // answers requests on stdin and nothing else.
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(ingest::reader::CHILD_ARG) {
        let code = ingest::reader::child_main(&args[1..]);
        return ExitCode::from(u8::try_from(code).unwrap_or(1));
    }
    // Every workbook is read in a child with resource limits: a hostile file
    // kills its reader, not this process. /proc/self/exe is this very
    // program even after an upgrade replaced the file (`serve` runs for
    // months): parent and child always speak the same frames.
    let this = std::path::Path::new("/proc/self/exe");
    match if this.exists() {
        Ok(this.to_path_buf())
    } else {
        std::env::current_exe()
    } {
        Ok(program) => ingest::reader::isolate_with(program),
        Err(e) => eprintln!("nhanluc: cannot find its own program, reading in-process: {e}"),
    }
    let code = run_main();
    ingest::reader::shutdown();
    code
}

fn run_main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(LogOptions {
        quiet: cli.quiet,
        verbose: cli.verbose,
        format: cli.log_format,
    });
    let config_path = config::resolve_config_path(cli.config.as_deref());
    if let Command::Check { smtp } = cli.command {
        // Before loading: `check` lists every problem where loading stops at the first.
        return match tokio::runtime::Runtime::new() {
            Ok(runtime) => {
                print_check(&runtime.block_on(nhanluc::check::check(&config_path, smtp)))
            }
            Err(e) => {
                eprintln!("nhanluc: cannot start the async runtime: {e}");
                ExitCode::from(1)
            }
        };
    }
    let config = match Config::load(&config_path) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("nhanluc: bad configuration: {}", Chain(&e));
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("nhanluc: cannot start the async runtime: {}", Chain(&e));
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(dispatch(&config, cli.command)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("nhanluc: {}", Chain(&*e));
            ExitCode::from(1)
        }
    }
}

async fn dispatch(config: &Config, command: Command) -> anyhow::Result<ExitCode> {
    // Every command that sends mail needs the SMTP password at hand: said at
    // the start (bad configuration), not as mail that waits for ever.
    if matches!(
        command,
        Command::Run { .. } | Command::Serve | Command::Digest { .. }
    ) && let Err(e) = nhanluc::mail::smtp_credentials(config)
    {
        eprintln!("nhanluc: bad configuration: {e}");
        return Ok(ExitCode::from(2));
    }
    match command {
        Command::Run { job } => {
            if !config.jobs.contains_key(&job) {
                let known = config.jobs.keys().cloned().collect::<Vec<_>>().join(", ");
                eprintln!(
                    "nhanluc: no job {job:?} in {} (jobs there: {known})",
                    config.paths.jobs.display()
                );
                return Ok(ExitCode::from(2));
            }
            let result = jobs::run_job(config, &job).await?;
            let c = &result.counts;
            println!(
                "run {} of {job}: files fetched {}; files accepted {}, already ingested {}, quarantined {}, waiting {}; rows loaded {}, rejected {}, skipped {}; indicators {} in {} period(s); messages queued {}, delivered {}, waiting {}, failed {}",
                result.run_id,
                c.files_fetched,
                c.files_accepted,
                c.files_duplicate,
                c.files_quarantined,
                c.files_waiting,
                c.rows_loaded,
                c.rows_rejected,
                c.rows_skipped,
                c.indicator_rows,
                c.indicator_periods,
                c.messages_queued,
                c.messages_delivered,
                c.messages_waiting,
                c.messages_failed
            );
            // Mail that did not go does not fail the run (it is retried, or
            // given up and reported): exit 0, with a warning.
            for warning in &result.mail {
                eprintln!("nhanluc: warning: {}", Chain(warning));
            }
            match result.error {
                None => Ok(ExitCode::SUCCESS),
                Some(e) => {
                    eprintln!("nhanluc: job {job} failed: {}", Chain(&e));
                    Ok(ExitCode::from(1))
                }
            }
        }
        Command::Serve => {
            jobs::serve::serve(std::sync::Arc::new(config.clone())).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Ingest { files } => {
            let _lock = RunLock::acquire(config)?;
            let mut state = open_state(config)?;
            let report = ingest::ingest(config, &mut state, &files)?;
            nhanluc::indicators::publish_contract(config)?;
            print_ingest(&report);
            Ok(ExitCode::SUCCESS)
        }
        Command::Indicators { period } => {
            let _lock = RunLock::acquire(config)?;
            let mut state = open_state(config)?;
            nhanluc::rebuild::ensure_parts(config, &mut state)?;
            drop(state);
            let period = period.map(|p| p.to_string());
            let outcome = indicators::compute(config, period.as_deref()).await?;
            for (period, rows) in &outcome.periods {
                println!("period {period}");
                println!("  {:<28} {:<44} {:>14}", "scope", "indicator", "value");
                for row in rows {
                    println!(
                        "  {:<28} {:<44} {:>14}",
                        row.scope,
                        row.indicator,
                        digest::format_value(row.value, row.unit, false)
                    );
                }
            }
            for failure in &outcome.failures {
                eprintln!(
                    "nhanluc: indicator file {}: {}",
                    failure.file, failure.message
                );
            }
            Ok(if outcome.failures.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Digest { period } => {
            let _lock = RunLock::acquire(config)?;
            let mut state = open_state(config)?;
            nhanluc::rebuild::ensure_parts(config, &mut state)?;
            let period = period.map(|p| p.to_string());
            // What already waits goes even when no digest can be built.
            let built = digest::build(config, &state, period.as_deref());
            let delivery = nhanluc::mail::deliver_pending(config, &state).await?;
            let written = if config.smtp.is_none() {
                format!(" (no [smtp]: written to {})", config.paths.outbox.display())
            } else {
                String::new()
            };
            let Ok(outcome) = built else {
                println!(
                    "digest: waiting messages {} delivered, {} still waiting, {} given up{written}",
                    delivery.delivered, delivery.failed, delivery.given_up
                );
                print_mail_warnings(&delivery);
                if let Some((ids, note)) = delivery.given_up_note() {
                    jobs::alerts::mail_given_up(config, &state, "`nhanluc digest`", &ids, &note)
                        .await;
                }
                return built.map(|_| ExitCode::from(1)).map_err(Into::into);
            };
            println!(
                "digest {}: {} message(s) queued, {} delivered, {} failed{}{written}",
                outcome.period,
                outcome.queued,
                delivery.delivered,
                delivery.failed,
                if delivery.given_up > 0 {
                    format!(", {} given up", delivery.given_up)
                } else {
                    String::new()
                },
            );
            print_mail_warnings(&delivery);
            if let Some((ids, note)) = delivery.given_up_note() {
                jobs::alerts::mail_given_up(config, &state, "`nhanluc digest`", &ids, &note).await;
            }
            for (to, missing) in &outcome.incomplete {
                eprintln!("nhanluc: no digest for {to}: indicators missing: {missing}");
            }
            // Mail that waits is retried (and given-up mail is in `status`):
            // exit 1 only when a digest could not be built.
            Ok(if outcome.incomplete.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Form {
            template,
            department,
            period,
            output,
        } => Ok(write_form(
            config,
            &template,
            department.as_deref(),
            period,
            output,
        )),
        Command::Inspect {
            file,
            template,
            department,
            json,
        } => Ok(print_inspection(
            config,
            &file,
            template.as_deref(),
            department.as_deref(),
            json,
        )),
        // `main` runs it before loading (so a broken file is listed, not fatal); the same here.
        Command::Check { smtp } => Ok(print_check(
            &nhanluc::check::check(&config.file, smtp).await,
        )),
        Command::Rebuild { force } => {
            let report =
                nhanluc::rebuild::rebuild(config, nhanluc::rebuild::RebuildOptions { force })
                    .await?;
            print_rebuild(config, &report);
            Ok(
                if report.without_manifest.is_empty()
                    && report.bad_manifests.is_empty()
                    && report
                        .indicators
                        .as_ref()
                        .is_none_or(|i| i.failures.is_empty())
                {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(1)
                },
            )
        }
        Command::Status { json } => {
            let state = open_state(config)?;
            let snapshot = status::gather(config, &state, chrono::Utc::now())?;
            print!(
                "{}",
                if json {
                    status::render_json(&snapshot)
                } else {
                    status::render_text(&snapshot)
                }
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Mail that did not go, on stderr as warnings (the command still exits 0 for it).
fn print_mail_warnings(delivery: &nhanluc::mail::DeliveryOutcome) {
    if delivery.failed > 0 {
        eprintln!(
            "nhanluc: warning: {} message(s) could not be delivered and wait in the outbox (retried later): {}",
            delivery.failed,
            delivery.errors.join("; ")
        );
    }
    if delivery.given_up > 0 {
        eprintln!(
            "nhanluc: warning: {} message(s) refused by the mail server every time are given up and not retried (see `nhanluc status`): {}",
            delivery.given_up,
            delivery.given_up_text()
        );
    }
}

/// `form`: an unknown template or department is bad usage (exit 2, with
/// what exists); a failed write is exit 1.
fn write_form(
    config: &Config,
    template: &str,
    department: Option<&str>,
    period: Option<Period>,
    output: Option<PathBuf>,
) -> ExitCode {
    use nhanluc::form::{self, FormError, FormOptions};
    let built = (|| {
        let found = form::find_template(config, template)?;
        let department = department
            .map(|code| form::find_department(config, code))
            .transpose()?;
        let path = match output {
            Some(path) => path,
            None => PathBuf::from(form::default_file_name(
                template,
                department.map(|d| d.code.as_str()),
                period,
            )?),
        };
        let options = FormOptions {
            department,
            period,
            organisation: &config.digest.organisation,
        };
        let bytes = form::build(found, &options)?;
        form::write_atomic(&path, &bytes)?;
        Ok::<_, FormError>(path)
    })();
    match built {
        Ok(path) => {
            println!("form {template} written to {}", path.display());
            ExitCode::SUCCESS
        }
        Err(
            e @ (FormError::UnknownTemplate { .. }
            | FormError::UnknownDepartment { .. }
            | FormError::MisleadingFileName { .. }
            | FormError::RangeNotAPlan { .. }
            | FormError::NoLabel { .. }),
        ) => {
            eprintln!("nhanluc form: {e}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("nhanluc form: {}", Chain(&e));
            ExitCode::from(1)
        }
    }
}

/// `inspect`: 0 read, 1 unreadable (the quarantine reason), 2 bad usage.
fn print_inspection(
    config: &Config,
    file: &std::path::Path,
    template: Option<&str>,
    department: Option<&str>,
    json: bool,
) -> ExitCode {
    use nhanluc::ingest::inspect::{self, Options, Verdict};
    let options = Options {
        template,
        department,
    };
    match inspect::inspect(config, file, &options) {
        Ok(inspection) => {
            if json {
                print!("{}", inspect::render_json(&inspection));
            } else {
                print!("{}", inspect::render_text(&inspection));
            }
            if let Verdict::Unreadable {
                reason_vi,
                reason_en,
            } = &inspection.verdict
            {
                eprintln!(
                    "nhanluc inspect: {}: {reason_vi} / {reason_en}",
                    file.display()
                );
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) if e.is_usage() => {
            eprintln!("nhanluc inspect: {e}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("nhanluc inspect: {}", Chain(&e));
            ExitCode::from(1)
        }
    }
}

/// One line per problem, then the summary; exit 0 or 2.
fn print_check(report: &nhanluc::check::Report) -> ExitCode {
    for problem in &report.problems {
        println!("{problem}");
    }
    println!("{}", report.summary());
    if report.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    }
}

fn open_state(config: &Config) -> anyhow::Result<State> {
    // StateError names the file and says what failed: no context to add. A
    // lost state (missing or empty beside data) is refused, not recreated.
    Ok(nhanluc::rebuild::open_checked(config)?)
}

/// `rebuild`: what was moved aside, what was re-ingested, what was left out.
fn print_rebuild(config: &Config, report: &nhanluc::rebuild::RebuildReport) {
    for moved in &report.moved_state {
        println!("old state kept as {}", moved.display());
    }
    if let Some(moved) = &report.moved_warehouse {
        println!(
            "old warehouse kept as {} (remove it once the rebuilt one is checked)",
            moved.display()
        );
    }
    let files = &report.ingest;
    println!(
        "rebuild: {} manifest(s) re-ingested from {}: {} accepted, {} duplicate, {} quarantined now; {} quarantined file(s) re-recorded from their sidecars",
        report.manifests,
        config.paths.archive.display(),
        files.accepted(),
        files.count(|o| matches!(o, Outcome::Duplicate { .. })),
        files.quarantined(),
        report.quarantined
    );
    for file in &files.files {
        if let Outcome::Quarantined { reason_en, .. } = &file.outcome {
            println!(
                "    {} quarantined when read again: {reason_en}",
                file.source_file
            );
        }
    }
    let c = &report.counts;
    println!(
        "ledger: {} accepted, {} superseded, {} quarantined",
        c.accepted, c.superseded, c.quarantined
    );
    if let Some(indicators) = &report.indicators {
        println!(
            "indicators: {} row(s) in {} period(s), {} file(s) failed",
            indicators.periods.values().map(Vec::len).sum::<usize>(),
            indicators.periods.len(),
            indicators.failures.len()
        );
        for failure in &indicators.failures {
            eprintln!(
                "nhanluc: indicator file {}: {}",
                failure.file, failure.message
            );
        }
    }
    for workbook in &report.without_manifest {
        eprintln!(
            "nhanluc rebuild: {} has no manifest (archived by an older nhanluc): not re-ingested; put it back in inbox/<DEPT>/ under its original name to take it again",
            workbook.display()
        );
    }
    for (manifest, why) in &report.bad_manifests {
        eprintln!("nhanluc rebuild: manifest {}: {why}", manifest.display());
    }
}

fn print_ingest(report: &ingest::IngestReport) {
    println!(
        "{:<48} {:<8} {:<12} {:>7} {:>8} {:>7}  note",
        "file", "dept", "outcome", "loaded", "rejected", "skipped"
    );
    for file in &report.files {
        let (loaded, rejected, skipped) = file.rows();
        let (outcome, note) = match &file.outcome {
            Outcome::Accepted {
                period,
                superseded,
                effect,
                ..
            } => {
                let mut note = format!("period {period}");
                // A period more specific than some of its evidence (a year in
                // the name, a quarter in the title) is said, not taken silently.
                if file
                    .period_evidence
                    .iter()
                    .any(|e| e.period.is_some_and(|p| p.to_string() != *period))
                {
                    let from: Vec<String> =
                        file.period_evidence.iter().map(|e| e.says_en()).collect();
                    note.push_str(&format!(" ({})", from.join("; ")));
                }
                if let Effect::Added { addition, to, .. } = effect {
                    let files: Vec<&str> = to.iter().map(|e| e.source_file.as_str()).collect();
                    note.push_str(&format!(
                        "; {} added to {}",
                        addition.label_en(),
                        files.join(", ")
                    ));
                }
                if !superseded.is_empty() {
                    note.push_str(&format!("; supersedes {}", superseded.join(", ")));
                }
                ("accepted", note)
            }
            Outcome::Duplicate { submission_id } => {
                ("duplicate", format!("same bytes as {submission_id}"))
            }
            Outcome::Quarantined { reason_en, .. } => ("quarantined", reason_en.clone()),
            Outcome::Waiting { reason } => ("waiting", reason.clone()),
        };
        println!(
            "{:<48} {:<8} {:<12} {:>7} {:>8} {:>7}  {note}",
            printable(&file.source_file),
            file.department.as_deref().unwrap_or("-"),
            outcome,
            loaded,
            rejected,
            skipped
        );
        for sheet in &file.sheets {
            if let Some(refused) = &sheet.refused {
                println!(
                    "    sheet {:?}: refused ({} rows not taken): {}",
                    sheet.sheet, sheet.skips.other_period, refused.reason_en
                );
            }
            if sheet.template.is_none() && sheet.data_rows > 0 {
                println!(
                    "    sheet {:?}: matches no template ({} rows counted as skipped)",
                    sheet.sheet, sheet.data_rows
                );
            }
            if !sheet.unknown_columns.is_empty() {
                println!(
                    "    sheet {:?}: columns ignored: {}",
                    sheet.sheet,
                    sheet.unknown_columns.join(", ")
                );
            }
            for warning in &sheet.warnings {
                println!(
                    "    {} {}: warning: {}",
                    sheet.sheet, warning.cell, warning.message_en
                );
            }
            for reject in sheet.rejects.iter().take(20) {
                println!(
                    "    {} {}: {} ({:?}): {}",
                    reject.sheet, reject.cell, reject.column, reject.value, reject.reason_en
                );
            }
        }
    }
    println!(
        "{} file(s): {} accepted, {} quarantined{}",
        report.files.len(),
        report.accepted(),
        report.quarantined(),
        if report.repaired > 0 {
            format!(", {} stray warehouse file(s) repaired", report.repaired)
        } else {
            String::new()
        }
    );
}
