//! Configuration: `nhanluc.toml`, the department registry and the job files.
//!
//! Everything is validated when loaded, so a bad file stops the program at
//! start-up (exit code 2) with the file, the key and what is allowed, instead
//! of failing at 2 a.m. in the middle of a run.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::model::posts::{Competencies, PostTable, PostsError};
use crate::model::scope::{Language, Level, Scope};
use crate::model::template::{Template, TemplateError};

/// The environment variable that names the config file when `--config` is absent.
pub(crate) const CONFIG_ENV: &str = "NHANLUC_CONFIG";
/// Where the config file is looked for when neither `--config` nor the variable is set.
pub(crate) const DEFAULT_CONFIG: &str = "config/nhanluc.toml";

/// Why the configuration could not be loaded: the file, the key and what
/// was expected.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file itself is missing: said without the OS's "No such
    /// file or directory", which would only repeat it.
    #[error(
        "there is no config file {file}: pass --config FILE, set {CONFIG_ENV}, or run from the folder that holds {DEFAULT_CONFIG}"
    )]
    NoConfigFile { file: PathBuf },
    /// A file or folder the configuration needs cannot be read.
    #[error("cannot read {what} {file}")]
    Read {
        /// "the config file", "the department registry", "the jobs folder", …
        what: &'static str,
        file: PathBuf,
        source: std::io::Error,
    },
    /// Not TOML, or a key or value the file's format does not allow (the
    /// parser's message names the line, the key and what is allowed).
    #[error("{what} {file}")]
    Parse {
        what: &'static str,
        file: PathBuf,
        // Boxed: the parser's error is large, and every `Result` here carries it.
        source: Box<toml::de::Error>,
    },
    /// Well-formed but refused: `message` names the key and what is expected.
    #[error("{file}: {message}")]
    Invalid { file: PathBuf, message: String },
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// The post-name table or the competency table is refused.
    #[error(transparent)]
    Posts(#[from] PostsError),
}

impl ConfigError {
    fn invalid(file: &Path, message: impl Into<String>) -> Self {
        ConfigError::Invalid {
            file: file.to_path_buf(),
            message: message.into(),
        }
    }
}

/// The whole validated configuration, with every path absolute.
#[derive(Debug, Clone)]
pub struct Config {
    pub file: PathBuf,
    pub paths: Paths,
    pub smtp: Option<SmtpConfig>,
    pub recipients: Vec<Recipient>,
    pub digest: DigestSettings,
    pub ingest: IngestSettings,
    pub reminders: ReminderSettings,
    pub alerts: AlertSettings,
    pub serve: ServeSettings,
    pub delivery: DeliverySettings,
    pub sources: Vec<Source>,
    pub departments: Vec<Department>,
    pub jobs: BTreeMap<String, JobSpec>,
    pub templates: Vec<Template>,
    /// Post names → leadership and post group (`config/posts.toml`).
    pub posts: PostTable,
    /// Post group → fitting training categories (`config/competencies.toml`).
    pub competencies: Competencies,
    /// Department code → index in `departments`: a country has 20,000 of them.
    department_index: HashMap<String, usize>,
}

/// Where everything lives, resolved against the configuration file's folder.
#[derive(Debug, Clone)]
pub struct Paths {
    pub inbox: PathBuf,
    pub archive: PathBuf,
    pub quarantine: PathBuf,
    pub warehouse: PathBuf,
    pub outbox: PathBuf,
    pub state: PathBuf,
    pub departments: PathBuf,
    pub jobs: PathBuf,
    /// Analyst templates that add to or replace the built-in ones.
    pub templates: PathBuf,
    /// Indicator SQL files.
    pub indicators: PathBuf,
    /// Digest message templates (minijinja) that replace the built-in ones.
    pub digest_templates: PathBuf,
    /// The post-name table that replaces the built-in one, when the file exists.
    pub posts: PathBuf,
    /// The competency table that replaces the built-in one, when the file exists.
    pub competencies: PathBuf,
    /// Demo workbooks that fill the inbox the first time it is used
    /// (`[paths] demo_inbox`, set only by the bundled config): the demo runs
    /// on copies, so its tracked workbooks never leave the repository.
    pub demo_inbox: Option<PathBuf>,
}

/// How the connection to the SMTP server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    None,
    Starttls,
    Tls,
}

/// The SMTP server the outbox delivers to (`[smtp]`).
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    /// Name of the environment variable holding the password: secrets never live in the file.
    pub password_env: Option<String>,
    pub from: String,
    /// The deadline of each step of a delivery: connecting (TCP, TLS, the
    /// greeting, EHLO, STARTTLS, login) and each message (MAIL, RCPT, DATA and
    /// the server's answer to it; a further `timeout_seconds` per MiB after the first).
    pub timeout_seconds: u64,
    /// How many times a message the server refuses for good (an SMTP 5xx) is
    /// tried before it is marked failed and no longer retried.
    pub max_attempts_refused: u32,
}

/// A digest recipient: an address, the scope it reads and its language.
#[derive(Debug, Clone)]
pub struct Recipient {
    pub email: String,
    pub scope: Scope,
    pub language: Language,
}

/// The digest's sender (`[digest]`).
#[derive(Debug, Clone)]
pub struct DigestSettings {
    /// The sender organisation, shown in subjects: "[Sở Nội vụ] …".
    pub organisation: String,
    /// The `From:` of messages written to the outbox when no SMTP is configured.
    pub from: String,
}

/// Where the operator hears of failed runs, and the dead-man's-switch pings.
#[derive(Debug, Clone, Default)]
pub struct AlertSettings {
    pub email: Option<String>,
    pub webhook: Option<String>,
    pub ping_start: Option<String>,
    pub ping_success: Option<String>,
    pub ping_fail: Option<String>,
    pub timeout_seconds: u64,
}

/// How `nhanluc serve` behaves between scheduled runs (`[serve]`).
#[derive(Debug, Clone)]
pub struct ServeSettings {
    /// Ingest as soon as files land in the inbox, not only on schedule.
    pub watch_inbox: bool,
}

/// How mail that could not be delivered is retried.
#[derive(Debug, Clone)]
pub struct DeliverySettings {
    /// The outbox's backoff between attempts at a message.
    pub retry: crate::retry::Backoff,
}

/// How often departments report, for reminders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReportingCycle {
    Year,
    /// Half-years, `YYYY-H1` / `YYYY-H2`.
    Half,
    Quarter,
}

/// When departments that sent nothing are reminded (`[reminders]`).
#[derive(Debug, Clone)]
pub struct ReminderSettings {
    pub cycle: ReportingCycle,
    /// A department with no submission this many days after its period ended is reminded.
    pub days_after_period_end: u32,
}

/// Limits of the ingest (`[ingest]`).
#[derive(Debug, Clone)]
pub struct IngestSettings {
    /// A file modified less than this many seconds ago may still be being copied:
    /// it is taken only if its size and modification time are the same this long after.
    pub settle_seconds: u64,
    /// Workbooks larger than this are refused (quarantined) before being opened.
    pub max_file_bytes: u64,
    /// A file that looks incomplete (truncated) is quarantined only once it
    /// stayed byte-identical across two runs at least this long apart.
    pub incomplete_after: std::time::Duration,
    /// Address space a reader process may use for one workbook
    /// (`reader_memory_mib`): past it the file is quarantined.
    pub reader_memory_bytes: u64,
    /// Seconds one workbook may take to read (`read_seconds`): past them the
    /// reader process is killed and the file quarantined.
    pub read_seconds: u64,
}

/// `[ingest] reader_memory_mib` by default: the largest bench workbook
/// (24 MiB, 100,000 rows) reads within it with room to spare.
pub(crate) const DEFAULT_READER_MEMORY_MIB: u64 = 1024;
/// `[ingest] incomplete_after_minutes` by default.
pub(crate) const DEFAULT_INCOMPLETE_AFTER_MINUTES: u64 = 15;
/// `[ingest] read_seconds` by default.
pub(crate) const DEFAULT_READ_SECONDS: u64 = 120;

/// A department of departments.toml: who sends, at which level, and where
/// its feedback goes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Department {
    pub code: String,
    pub name: String,
    pub level: Level,
    #[serde(default)]
    pub contacts: Vec<String>,
}

/// A step of a job, as listed in `steps` of jobs/*.toml.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Step {
    Ingest,
    Indicators,
    Digest,
    Feedback,
    Reminders,
    /// Download the workbooks departments publish at a URL into the inbox.
    Fetch,
}

impl Step {
    /// The step's name as written in a job file.
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Ingest => "ingest",
            Step::Indicators => "indicators",
            Step::Digest => "digest",
            Step::Feedback => "feedback",
            Step::Reminders => "reminders",
            Step::Fetch => "fetch",
        }
    }
}

/// What `serve` does with a run missed while it was down: run it once, or skip it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CatchUp {
    Once,
    Skip,
}

/// A job of the jobs folder: its schedule and steps.
#[derive(Debug, Clone)]
pub struct JobSpec {
    pub name: String,
    pub file: PathBuf,
    pub schedule: String,
    pub timezone: chrono_tz::Tz,
    pub steps: Vec<Step>,
    pub catch_up: CatchUp,
}

// ---- the files as written ---------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    paths: RawPaths,
    smtp: Option<RawSmtp>,
    #[serde(default)]
    recipient: Vec<RawRecipient>,
    #[serde(default)]
    digest: RawDigest,
    #[serde(default)]
    ingest: RawIngest,
    #[serde(default)]
    reminders: RawReminders,
    #[serde(default)]
    alerts: RawAlerts,
    #[serde(default)]
    serve: RawServe,
    #[serde(default)]
    delivery: RawDelivery,
    #[serde(default)]
    source: Vec<RawSource>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    department: String,
    url: String,
}

/// A workbook a department publishes at a URL, fetched by the `fetch` step.
#[derive(Debug, Clone)]
pub struct Source {
    pub department: String,
    pub url: String,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawAlerts {
    email: Option<String>,
    webhook: Option<String>,
    ping_start: Option<String>,
    ping_success: Option<String>,
    ping_fail: Option<String>,
    timeout_seconds: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawServe {
    watch_inbox: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDelivery {
    retry_first_seconds: Option<u64>,
    retry_max_seconds: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawReminders {
    period: Option<ReportingCycle>,
    days_after_period_end: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPaths {
    inbox: PathBuf,
    archive: PathBuf,
    quarantine: PathBuf,
    warehouse: PathBuf,
    outbox: PathBuf,
    state: PathBuf,
    departments: PathBuf,
    jobs: PathBuf,
    templates: Option<PathBuf>,
    indicators: Option<PathBuf>,
    digest_templates: Option<PathBuf>,
    posts: Option<PathBuf>,
    competencies: Option<PathBuf>,
    demo_inbox: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSmtp {
    host: String,
    port: Option<u16>,
    security: Option<SmtpSecurity>,
    username: Option<String>,
    password_env: Option<String>,
    from: String,
    timeout_seconds: Option<u64>,
    max_attempts_refused: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRecipient {
    email: String,
    scope: String,
    #[serde(default = "default_language")]
    language: Language,
}

fn default_language() -> Language {
    Language::Vi
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDigest {
    organisation: Option<String>,
    from: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawIngest {
    settle_seconds: Option<u64>,
    max_file_mib: Option<u64>,
    incomplete_after_minutes: Option<u64>,
    reader_memory_mib: Option<u64>,
    read_seconds: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDepartments {
    #[serde(default)]
    department: Vec<Department>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawJob {
    schedule: String,
    timezone: Option<String>,
    steps: Vec<Step>,
    #[serde(default = "default_catch_up")]
    catch_up: CatchUp,
}

fn default_catch_up() -> CatchUp {
    CatchUp::Once
}

/// The config file to use: the `--config` argument, else `$NHANLUC_CONFIG`, else `./config/nhanluc.toml`.
pub fn resolve_config_path(cli: Option<&Path>) -> PathBuf {
    if let Some(path) = cli {
        return path.to_path_buf();
    }
    match std::env::var_os(CONFIG_ENV) {
        Some(value) if !value.is_empty() => PathBuf::from(value),
        _ => PathBuf::from(DEFAULT_CONFIG),
    }
}

fn read(what: &'static str, file: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(file).map_err(|source| ConfigError::Read {
        what,
        file: file.to_path_buf(),
        source,
    })
}

fn parse<T: for<'de> Deserialize<'de>>(
    what: &'static str,
    file: &Path,
    text: &str,
) -> Result<T, ConfigError> {
    toml::from_str(text).map_err(|source| ConfigError::Parse {
        what,
        file: file.to_path_buf(),
        source: Box::new(source),
    })
}

impl Config {
    /// Loads and validates the config file and everything it points to.
    pub fn load(file: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(file).map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => ConfigError::NoConfigFile {
                file: file.to_path_buf(),
            },
            _ => ConfigError::Read {
                what: "the config file",
                file: file.to_path_buf(),
                source,
            },
        })?;
        let raw: RawConfig = parse("the config file", file, &text)?;
        let file = std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf());
        let base = file.parent().map(Path::to_path_buf).unwrap_or_default();
        let paths = resolve_paths(&base, &raw.paths);

        if let Some(demo) = &paths.demo_inbox {
            validate_demo_inbox(&file, demo, &paths.inbox)?;
        }
        let smtp = raw.smtp.map(|s| validate_smtp(&file, s)).transpose()?;
        let departments = load_departments(&paths.departments)?;
        let recipients = raw
            .recipient
            .into_iter()
            .map(|r| validate_recipient(&file, &departments, r))
            .collect::<Result<Vec<_>, _>>()?;
        let jobs = load_jobs(&paths.jobs)?;
        let templates = crate::catalogue::load_templates(&paths.templates)?;
        let (posts, competencies) =
            crate::catalogue::load_posts(&paths.posts, &paths.competencies, &templates)?;
        let organisation = raw
            .digest
            .organisation
            .unwrap_or_else(|| "Sở Nội vụ".to_string());
        let from = raw
            .digest
            .from
            .or_else(|| smtp.as_ref().map(|s| s.from.clone()))
            .unwrap_or_else(|| format!("{organisation} <nhanluc@localhost>"));
        if from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(ConfigError::invalid(
                &file,
                format!(
                    "digest.from: {from:?} is not a mail address like \"Sở Nội vụ <bao-cao@example.gov.vn>\""
                ),
            ));
        }
        let ingest = IngestSettings {
            settle_seconds: bounded(
                &file,
                "ingest.settle_seconds",
                raw.ingest.settle_seconds,
                3,
                SETTLE_SECONDS,
            )?,
            max_file_bytes: bounded(
                &file,
                "ingest.max_file_mib",
                raw.ingest.max_file_mib,
                200,
                MAX_FILE_MIB,
            )? * 1024
                * 1024,
            incomplete_after: std::time::Duration::from_secs(
                60 * bounded(
                    &file,
                    "ingest.incomplete_after_minutes",
                    raw.ingest.incomplete_after_minutes,
                    DEFAULT_INCOMPLETE_AFTER_MINUTES,
                    INCOMPLETE_AFTER_MINUTES,
                )?,
            ),
            reader_memory_bytes: bounded(
                &file,
                "ingest.reader_memory_mib",
                raw.ingest.reader_memory_mib,
                DEFAULT_READER_MEMORY_MIB,
                READER_MEMORY_MIB,
            )? * 1024
                * 1024,
            read_seconds: bounded(
                &file,
                "ingest.read_seconds",
                raw.ingest.read_seconds,
                DEFAULT_READ_SECONDS,
                READ_SECONDS,
            )?,
        };
        let days_after_period_end = bounded(
            &file,
            "reminders.days_after_period_end",
            raw.reminders.days_after_period_end.map(u64::from),
            15,
            DAYS_AFTER_PERIOD_END,
        )? as u32;
        let reminders = ReminderSettings {
            cycle: raw.reminders.period.unwrap_or(ReportingCycle::Year),
            days_after_period_end,
        };
        let alerts = validate_alerts(&file, raw.alerts)?;
        let mut sources = Vec::new();
        for raw_source in raw.source {
            if !departments.iter().any(|d| d.code == raw_source.department) {
                return Err(ConfigError::invalid(
                    &file,
                    format!(
                        "source.department: {:?} (for {}) is not in the department registry",
                        raw_source.department, raw_source.url
                    ),
                ));
            }
            if reqwest::Url::parse(&raw_source.url)
                .map(|u| !matches!(u.scheme(), "http" | "https"))
                .unwrap_or(true)
            {
                return Err(ConfigError::invalid(
                    &file,
                    format!("source.url: {:?} is not an http(s) URL", raw_source.url),
                ));
            }
            sources.push(Source {
                department: raw_source.department,
                url: raw_source.url,
            });
        }
        let serve = ServeSettings {
            watch_inbox: raw.serve.watch_inbox.unwrap_or(true),
        };
        let delivery = validate_delivery(&file, &raw.delivery)?;
        Ok(Config {
            file,
            paths,
            smtp,
            recipients,
            digest: DigestSettings { organisation, from },
            ingest,
            reminders,
            alerts,
            serve,
            delivery,
            sources,
            department_index: departments
                .iter()
                .enumerate()
                .rev() // the first of duplicate codes wins, as a scan would
                .map(|(i, d)| (d.code.clone(), i))
                .collect(),
            departments,
            jobs,
            templates,
            posts,
            competencies,
        })
    }

    /// The department whose code is `code`.
    pub fn department(&self, code: &str) -> Option<&Department> {
        self.department_index
            .get(code)
            .and_then(|&i| self.departments.get(i))
    }

    /// The template (form) named `name`.
    pub fn template(&self, name: &str) -> Option<&Template> {
        self.templates.iter().find(|t| t.name == name)
    }
}

/// `[paths]` made absolute: relative to the config file's folder `base`.
fn resolve_paths(base: &Path, raw: &RawPaths) -> Paths {
    let resolve = |p: &Path| -> PathBuf { normalize(&base.join(p)) };
    Paths {
        inbox: resolve(&raw.inbox),
        archive: resolve(&raw.archive),
        quarantine: resolve(&raw.quarantine),
        warehouse: resolve(&raw.warehouse),
        outbox: resolve(&raw.outbox),
        state: resolve(&raw.state),
        departments: resolve(&raw.departments),
        jobs: resolve(&raw.jobs),
        templates: resolve(raw.templates.as_deref().unwrap_or(Path::new("templates"))),
        indicators: resolve(raw.indicators.as_deref().unwrap_or(Path::new("indicators"))),
        digest_templates: resolve(
            raw.digest_templates
                .as_deref()
                .unwrap_or(Path::new("digest")),
        ),
        posts: resolve(raw.posts.as_deref().unwrap_or(Path::new("posts.toml"))),
        competencies: resolve(
            raw.competencies
                .as_deref()
                .unwrap_or(Path::new("competencies.toml")),
        ),
        demo_inbox: raw.demo_inbox.as_deref().map(resolve),
    }
}

/// Removes `.` and `..` components lexically, so messages show clean paths.
fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// The demo workbooks are copied, never taken: their folder must exist and
/// be neither the inbox (which the ingest empties) nor inside or around it.
fn validate_demo_inbox(file: &Path, demo: &Path, inbox: &Path) -> Result<(), ConfigError> {
    if !demo.is_dir() {
        return Err(ConfigError::invalid(
            file,
            format!(
                "paths.demo_inbox: {} is not a folder (the demo workbooks copied into the inbox the first time it is used)",
                demo.display()
            ),
        ));
    }
    if demo.starts_with(inbox) || inbox.starts_with(demo) {
        return Err(ConfigError::invalid(
            file,
            format!(
                "paths.demo_inbox: {} must lie outside paths.inbox {} and not contain it: the ingest empties the inbox, and the demo workbooks are only copied from",
                demo.display(),
                inbox.display()
            ),
        ));
    }
    Ok(())
}

fn validate_smtp(file: &Path, raw: RawSmtp) -> Result<SmtpConfig, ConfigError> {
    if raw.host.trim().is_empty() {
        return Err(ConfigError::invalid(file, "smtp.host: must not be empty"));
    }
    if raw.from.parse::<lettre::message::Mailbox>().is_err() {
        return Err(ConfigError::invalid(
            file,
            format!(
                "smtp.from: {:?} is not a mail address like \"Sở Nội vụ <bao-cao@example.gov.vn>\"",
                raw.from
            ),
        ));
    }
    if raw.username.is_some() != raw.password_env.is_some() {
        return Err(ConfigError::invalid(
            file,
            "smtp: username and password_env go together (the password itself is read from the environment variable password_env names)",
        ));
    }
    let max_attempts_refused = bounded(
        file,
        "smtp.max_attempts_refused",
        raw.max_attempts_refused.map(u64::from),
        3,
        MAX_ATTEMPTS_REFUSED,
    )? as u32;
    let security = raw.security.unwrap_or(SmtpSecurity::Starttls);
    let default_port = match security {
        SmtpSecurity::None => 25,
        SmtpSecurity::Starttls => 587,
        SmtpSecurity::Tls => 465,
    };
    let port = bounded(
        file,
        "smtp.port",
        raw.port.map(u64::from),
        default_port,
        PORT,
    )? as u16;
    let timeout_seconds = bounded(
        file,
        "smtp.timeout_seconds",
        raw.timeout_seconds,
        30,
        TIMEOUT_SECONDS,
    )?;
    Ok(SmtpConfig {
        host: raw.host,
        port,
        security,
        username: raw.username,
        password_env: raw.password_env,
        from: raw.from,
        timeout_seconds,
        max_attempts_refused,
    })
}

fn validate_alerts(file: &Path, raw: RawAlerts) -> Result<AlertSettings, ConfigError> {
    if let Some(email) = &raw.email
        && email.parse::<lettre::Address>().is_err()
    {
        return Err(ConfigError::invalid(
            file,
            format!("alerts.email: {email:?} is not a mail address"),
        ));
    }
    for (key, url) in [
        ("webhook", &raw.webhook),
        ("ping_start", &raw.ping_start),
        ("ping_success", &raw.ping_success),
        ("ping_fail", &raw.ping_fail),
    ] {
        if let Some(url) = url
            && reqwest::Url::parse(url)
                .map(|u| !matches!(u.scheme(), "http" | "https"))
                .unwrap_or(true)
        {
            return Err(ConfigError::invalid(
                file,
                format!("alerts.{key}: {url:?} is not an http(s) URL"),
            ));
        }
    }
    Ok(AlertSettings {
        email: raw.email,
        webhook: raw.webhook,
        ping_start: raw.ping_start,
        ping_success: raw.ping_success,
        ping_fail: raw.ping_fail,
        timeout_seconds: bounded(
            file,
            "alerts.timeout_seconds",
            raw.timeout_seconds,
            10,
            TIMEOUT_SECONDS,
        )?,
    })
}

// ---- the bounds of numeric keys ---------------------------------------------
//
// Every number in the config file is checked against a range at load, so an
// absurd value is exit 2 naming the file and the key, never an overflow or a
// panic in the middle of a run (seconds become `Duration`s added to
// `Instant`s, MiB are multiplied into bytes, days are added to dates).

/// A closed range of allowed values, with what its unit is, for the message.
struct Bounds {
    min: u64,
    max: u64,
    unit: &'static str,
}

/// A settle wait is slept through by every run: at most an hour.
const SETTLE_SECONDS: Bounds = Bounds {
    min: 0,
    max: 3600,
    unit: "seconds",
};
/// 0 would refuse every file; beyond 4 GiB no workbook is a submission.
const MAX_FILE_MIB: Bounds = Bounds {
    min: 1,
    max: 4096,
    unit: "MiB",
};
/// Up to a week between the two looks at an incomplete-looking file.
const INCOMPLETE_AFTER_MINUTES: Bounds = Bounds {
    min: 0,
    max: 7 * 24 * 60,
    unit: "minutes",
};
/// Below 64 MiB the reader program itself does not start; 1 TiB is no limit.
const READER_MEMORY_MIB: Bounds = Bounds {
    min: 64,
    max: 1 << 20,
    unit: "MiB",
};
/// A day for one workbook is no budget.
const READ_SECONDS: Bounds = Bounds {
    min: 1,
    max: 24 * 3600,
    unit: "seconds",
};
/// Reminders are about a period that ended within the year.
const DAYS_AFTER_PERIOD_END: Bounds = Bounds {
    min: 0,
    max: 366,
    unit: "days",
};
/// Port 0 is no server's port.
const PORT: Bounds = Bounds {
    min: 1,
    max: 65535,
    unit: "",
};
/// Three refusals by default: a 5xx caused by a passing misconfiguration of
/// the server is survived, a mailbox that does not exist is not tried for ever.
const MAX_ATTEMPTS_REFUSED: Bounds = Bounds {
    min: 1,
    max: 100,
    unit: "refusals",
};
/// A network wait: at least a second, at most an hour.
const TIMEOUT_SECONDS: Bounds = Bounds {
    min: 1,
    max: 3600,
    unit: "seconds",
};

/// `value` (or `default` when the key is absent), if within `bounds`.
fn bounded(
    file: &Path,
    key: &str,
    value: Option<u64>,
    default: u64,
    bounds: Bounds,
) -> Result<u64, ConfigError> {
    let value = value.unwrap_or(default);
    if (bounds.min..=bounds.max).contains(&value) {
        return Ok(value);
    }
    let unit = if bounds.unit.is_empty() {
        String::new()
    } else {
        format!(" {}", bounds.unit)
    };
    Err(ConfigError::invalid(
        file,
        format!(
            "{key}: {value} is out of range: from {} to {}{unit}, default {default}",
            bounds.min, bounds.max
        ),
    ))
}

/// The longest wait `[delivery]` accepts between two attempts at a message.
const RETRY_LIMIT_SECONDS: u64 = 7 * 24 * 3600;

fn validate_delivery(file: &Path, raw: &RawDelivery) -> Result<DeliverySettings, ConfigError> {
    let default = crate::retry::Backoff::MAIL;
    let first = raw.retry_first_seconds.unwrap_or(default.first.as_secs());
    if !(1..=RETRY_LIMIT_SECONDS).contains(&first) {
        return Err(ConfigError::invalid(
            file,
            format!(
                "delivery.retry_first_seconds: {first} is out of range: from 1 to {RETRY_LIMIT_SECONDS} (a week) seconds, default {}",
                default.first.as_secs()
            ),
        ));
    }
    // Without an explicit cap, the default one, unless the first delay is longer.
    let max = raw
        .retry_max_seconds
        .unwrap_or(default.max.as_secs().max(first));
    if !(first..=RETRY_LIMIT_SECONDS).contains(&max) {
        return Err(ConfigError::invalid(
            file,
            format!(
                "delivery.retry_max_seconds: {max} is out of range: from retry_first_seconds ({first}) to {RETRY_LIMIT_SECONDS} (a week) seconds, default {}",
                default.max.as_secs()
            ),
        ));
    }
    Ok(DeliverySettings {
        retry: crate::retry::Backoff {
            first: std::time::Duration::from_secs(first),
            factor: default.factor,
            max: std::time::Duration::from_secs(max),
        },
    })
}

fn validate_recipient(
    file: &Path,
    departments: &[Department],
    raw: RawRecipient,
) -> Result<Recipient, ConfigError> {
    if raw.email.parse::<lettre::Address>().is_err() {
        return Err(ConfigError::invalid(
            file,
            format!("recipient.email: {:?} is not a mail address", raw.email),
        ));
    }
    let scope = parse_scope(&raw.scope).ok_or_else(|| {
        ConfigError::invalid(
            file,
            format!(
                "recipient.scope: {:?} for {}: expected \"province\" or \"department:<CODE>\"",
                raw.scope, raw.email
            ),
        )
    })?;
    if let Scope::Department(code) = &scope
        && !departments.iter().any(|d| &d.code == code)
    {
        return Err(ConfigError::invalid(
            file,
            format!(
                "recipient.scope: department {code:?} (for {}) is not in the department registry",
                raw.email
            ),
        ));
    }
    Ok(Recipient {
        email: raw.email,
        scope,
        language: raw.language,
    })
}

/// A scope as written in the configuration: `province` or `department:<CODE>`.
pub(crate) fn parse_scope(text: &str) -> Option<Scope> {
    match text.trim() {
        "province" => Some(Scope::Province),
        other => other
            .strip_prefix("department:")
            .filter(|code| !code.is_empty())
            .map(|code| Scope::Department(code.to_string())),
    }
}

fn load_departments(file: &Path) -> Result<Vec<Department>, ConfigError> {
    const WHAT: &str = "the department registry";
    let raw: RawDepartments = parse(WHAT, file, &read(WHAT, file)?)?;
    let mut seen = std::collections::BTreeSet::new();
    for department in &raw.department {
        let code_ok = !department.code.is_empty()
            && department
                .code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !code_ok {
            return Err(ConfigError::invalid(
                file,
                format!(
                    "department.code: {:?} must be letters, digits, '-' or '_' (it is also the inbox folder's name)",
                    department.code
                ),
            ));
        }
        if !seen.insert(department.code.clone()) {
            return Err(ConfigError::invalid(
                file,
                format!("department.code: {:?} appears twice", department.code),
            ));
        }
        for contact in &department.contacts {
            if contact.parse::<lettre::Address>().is_err() {
                return Err(ConfigError::invalid(
                    file,
                    format!(
                        "department.contacts: {contact:?} (department {}) is not a mail address",
                        department.code
                    ),
                ));
            }
        }
    }
    if raw.department.is_empty() {
        return Err(ConfigError::invalid(
            file,
            "no [[department]] entries: the registry lists every department expected to submit",
        ));
    }
    Ok(raw.department)
}

fn load_jobs(dir: &Path) -> Result<BTreeMap<String, JobSpec>, ConfigError> {
    let unreadable = |source| ConfigError::Read {
        what: "the jobs folder",
        file: dir.to_path_buf(),
        source,
    };
    let entries = std::fs::read_dir(dir).map_err(unreadable)?;
    let mut jobs = BTreeMap::new();
    for entry in entries {
        let path = entry.map_err(unreadable)?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        let Some(name) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        let job = load_job(&path, name)?;
        jobs.insert(name.to_string(), job);
    }
    Ok(jobs)
}

fn load_job(file: &Path, name: &str) -> Result<JobSpec, ConfigError> {
    const WHAT: &str = "the job file";
    let raw: RawJob = parse(WHAT, file, &read(WHAT, file)?)?;
    validate_cron(&raw.schedule).map_err(|why| {
        ConfigError::invalid(
            file,
            format!(
                "schedule: {:?} is not a valid cron expression ({why}); six fields are expected: \"sec min hour day-of-month month day-of-week\", e.g. \"0 0 2 * * *\"",
                raw.schedule
            ),
        )
    })?;
    let timezone_name = raw.timezone.as_deref().unwrap_or("Asia/Ho_Chi_Minh");
    let timezone: chrono_tz::Tz = timezone_name.parse().map_err(|_| {
        ConfigError::invalid(
            file,
            format!(
                "timezone: {timezone_name:?} is not an IANA time zone name such as \"Asia/Ho_Chi_Minh\""
            ),
        )
    })?;
    if raw.steps.is_empty() {
        return Err(ConfigError::invalid(
            file,
            "steps: at least one of ingest, indicators, digest, feedback, reminders",
        ));
    }
    Ok(JobSpec {
        name: name.to_string(),
        file: file.to_path_buf(),
        schedule: raw.schedule,
        timezone,
        steps: raw.steps,
        catch_up: raw.catch_up,
    })
}

/// Checks a cron expression the way the scheduler will read it: seconds
/// required (6 fields, or 7 with a year).
pub(crate) fn validate_cron(expr: &str) -> Result<(), String> {
    let fields = expr.split_whitespace().count();
    if !(6..=7).contains(&fields) {
        return Err(format!("{fields} fields"));
    }
    croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Required)
        .dom_and_dow(true)
        .build()
        .parse(expr)
        .map(|_| ())
        .map_err(|e| crate::error_chain::chain(&e))
}

// ---- `nhanluc check`: every file read, every problem collected --------------

/// What [`check`] learns from the configuration files: every problem found
/// (each file is read even when another one is wrong), and what could be read.
#[derive(Debug, Default)]
pub struct ConfigCheck {
    /// The whole configuration, when it loads.
    pub config: Option<Config>,
    /// `[paths]` resolved, when that table reads (even if other keys are wrong).
    pub paths: Option<Paths>,
    /// Entries of the department registry that read.
    pub departments: usize,
    /// Job files that read.
    pub jobs: usize,
    /// Form templates, built-in and overlay, when the overlay reads.
    pub templates: Option<usize>,
    pub problems: Vec<ConfigError>,
}

impl ConfigError {
    /// The file the problem is in.
    pub fn file(&self) -> &Path {
        match self {
            ConfigError::NoConfigFile { file }
            | ConfigError::Read { file, .. }
            | ConfigError::Parse { file, .. }
            | ConfigError::Invalid { file, .. } => file,
            ConfigError::Template(e) => e.file(),
            ConfigError::Posts(e) => e.file(),
        }
    }
}

/// Checks the config file and every file it names, collecting every problem
/// instead of stopping at the first as [`Config::load`] does. Reads only.
pub fn check(file: &Path) -> ConfigCheck {
    let mut check = ConfigCheck::default();
    let text = match read("the config file", file) {
        Ok(text) => text,
        Err(e) => {
            check.problems.push(e);
            return check;
        }
    };
    let absolute = std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf());
    let base = absolute.parent().map(Path::to_path_buf).unwrap_or_default();
    // The same path as `Config::load` gives its parse error, so the two are recognised as one.
    let raw = parse::<RawConfig>("the config file", file, &text);
    let raw_paths = match &raw {
        Ok(raw) => Some(resolve_paths(&base, &raw.paths)),
        // Another key is wrong: `[paths]` alone may still read, and the files it names be checked.
        Err(_) => toml::from_str::<toml::Table>(&text)
            .ok()
            .and_then(|table| table.get("paths").cloned())
            .and_then(|paths| paths.try_into::<RawPaths>().ok())
            .map(|paths| resolve_paths(&base, &paths)),
    };
    let raw = raw.map_err(|e| check.problems.push(e)).ok();

    let mut departments = None;
    if let Some(paths) = &raw_paths {
        match check_departments(&paths.departments) {
            Ok(found) => {
                check.departments = found.len();
                departments = Some(found);
            }
            Err(mut problems) => check.problems.append(&mut problems),
        }
        match job_files(&paths.jobs) {
            Ok(files) => {
                for (file, name) in files {
                    match load_job(&file, &name) {
                        Ok(_) => check.jobs += 1,
                        Err(e) => check.problems.push(e),
                    }
                }
            }
            Err(e) => check.problems.push(e),
        }
        let overlay_problems = crate::catalogue::check_template_overlay(&paths.templates);
        if overlay_problems.is_empty() {
            match crate::catalogue::load_templates(&paths.templates) {
                Ok(templates) => {
                    check.templates = Some(templates.len());
                    if let Err(e) =
                        crate::catalogue::load_posts(&paths.posts, &paths.competencies, &templates)
                    {
                        check.problems.push(e.into());
                    }
                }
                Err(e) => check.problems.push(e.into()),
            }
        }
        check
            .problems
            .extend(overlay_problems.into_iter().map(ConfigError::from));
    }
    if let Some(raw) = raw {
        if let Some(smtp) = raw.smtp
            && let Err(e) = validate_smtp(&absolute, smtp)
        {
            check.problems.push(e);
        }
        // Scopes are checked against the registry, so only once it reads.
        if let Some(departments) = &departments {
            for recipient in raw.recipient {
                if let Err(e) = validate_recipient(&absolute, departments, recipient) {
                    check.problems.push(e);
                }
            }
        }
        if let Err(e) = validate_alerts(&absolute, raw.alerts) {
            check.problems.push(e);
        }
    }
    // The loader itself, for whatever it checks that the pieces above do not;
    // a file already reported is not reported again.
    match Config::load(file) {
        Ok(config) => check.config = Some(config),
        Err(e) => {
            if !check.problems.iter().any(|p| p.file() == e.file()) {
                check.problems.push(e);
            }
        }
    }
    check.paths = raw_paths;
    check
}

/// The registry, every entry checked: each entry that does not read is a
/// problem of its own (with its line), then the checks of [`load_departments`].
fn check_departments(file: &Path) -> Result<Vec<Department>, Vec<ConfigError>> {
    use serde::Deserialize as _;
    let text = read("the department registry", file).map_err(|e| vec![e])?;
    let one_line = |mut e: toml::de::Error| {
        e.set_input(Some(&text));
        ConfigError::invalid(file, e.to_string().trim_end())
    };
    let root = toml::de::DeTable::parse(&text).map_err(|e| vec![one_line(e)])?;
    let mut problems = Vec::new();
    for (key, value) in root.get_ref().iter() {
        let key = key.get_ref();
        if key.as_ref() != "department" {
            problems.push(ConfigError::invalid(
                file,
                format!("{key}: unknown key; the registry has only [[department]] entries"),
            ));
            continue;
        }
        let Some(entries) = value.get_ref().as_array() else {
            problems.push(ConfigError::invalid(
                file,
                "department: expected [[department]] entries",
            ));
            continue;
        };
        for entry in entries.iter() {
            let deserializer = toml::de::ValueDeserializer::from(entry.clone());
            if let Err(e) = Department::deserialize(deserializer) {
                problems.push(one_line(e));
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    load_departments(file).map_err(|e| vec![e])
}

/// The job files of the jobs folder, with the job names they define.
fn job_files(dir: &Path) -> Result<Vec<(PathBuf, String)>, ConfigError> {
    let read_error = |source| ConfigError::Read {
        what: "the jobs folder",
        file: dir.to_path_buf(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_error)? {
        let path = entry.map_err(read_error)?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        if let Some(name) = path.file_stem().and_then(|s| s.to_str()) {
            let name = name.to_string();
            files.push((path, name));
        }
    }
    files.sort();
    Ok(files)
}
