//! The message templates (the digest, the departments' feedback and
//! reminders): the built-ins, replaced one by one by a file of the same name
//! in the configured folder, rendered with minijinja, and checked for
//! `nhanluc check`. A ground helper so the digest and the departments' mail
//! share one environment without either using the other.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::catalogue::{self, CatalogueError};
use crate::config::{Config, Department};
use crate::model::scope::Level;

/// Why a message template could not be read, parsed or rendered.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("digest template {file}")]
    Template {
        file: String,
        source: minijinja::Error,
    },
    /// A template file of the folder that cannot be read.
    #[error(transparent)]
    Catalogue(#[from] CatalogueError),
}

/// Renders template `name` of `env` with `context`.
pub fn render(
    env: &minijinja::Environment<'_>,
    name: &str,
    context: &minijinja::Value,
) -> Result<String, TemplateError> {
    env.get_template(name)
        .and_then(|t| t.render(context))
        .map_err(|source| TemplateError::Template {
            file: name.to_string(),
            source,
        })
}

/// Every message template: the folder's file where there is one, else the
/// built-in.
pub fn load(dir: &Path) -> Result<minijinja::Environment<'static>, TemplateError> {
    let mut env = minijinja::Environment::new();
    for (name, file) in catalogue::MESSAGES.replaced(dir) {
        env.add_template_owned(name.to_string(), file?.text)
            .map_err(|source| TemplateError::Template {
                file: dir.join(name).display().to_string(),
                source,
            })?;
    }
    Ok(env)
}

/// A digest template that does not parse, or fails on a sample message.
#[derive(Debug, Clone)]
pub struct TemplateProblem {
    /// The file in the digest templates folder, or `built-in <name>`.
    pub file: PathBuf,
    /// minijinja's message, with the template's name and line.
    pub message: String,
}

/// Why a sample message did not render.
#[derive(Debug)]
pub enum SampleError {
    /// A template failed: the problem is reported against that template.
    Template(TemplateError),
    /// Anything else, as one line: reported against the sample's first template.
    Other(String),
}

/// A sample message's template names (the first is blamed for a failure
/// that is not a template's) and whether it rendered.
pub(crate) type Sample = (&'static [&'static str], Result<(), SampleError>);

/// Renders the sample messages of one kind from the configuration, with the
/// templates that parsed (`parsed`: name → file) in `env`.
pub(crate) type Sampler =
    fn(&Config, &minijinja::Environment<'_>, &BTreeMap<&str, PathBuf>) -> Vec<Sample>;

/// Checks the message templates (the folder's, else the built-ins): each must
/// parse, and with a configuration render the samples of `samplers`, in their
/// order. Here, unlike at night, printing a variable the template does not
/// get is an error: a misspelt name would otherwise print as nothing.
/// Returns how many templates were checked.
pub fn check(
    dir: &Path,
    config: Option<&Config>,
    samplers: &[Sampler],
) -> (usize, Vec<TemplateProblem>) {
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::SemiStrict);
    let mut problems = Vec::new();
    let mut shown = BTreeMap::new();
    let files = catalogue::MESSAGES.replaced(dir);
    let count = files.len();
    for (name, file) in files {
        let (file, source) = match file {
            Ok(file) => (
                file.path
                    .unwrap_or_else(|| PathBuf::from(format!("built-in {name}"))),
                file.text,
            ),
            Err(e) => {
                problems.push(TemplateProblem {
                    file: e.file().to_path_buf(),
                    message: match e {
                        CatalogueError::Read { source, .. } => format!("cannot read: {source}"),
                        other => other.to_string(),
                    },
                });
                continue;
            }
        };
        match env.add_template_owned(name.to_string(), source) {
            Ok(()) => {
                shown.insert(name, file);
            }
            Err(e) => problems.push(TemplateProblem {
                file,
                message: e.to_string(),
            }),
        }
    }
    if let Some(config) = config {
        let mut failed = BTreeSet::new();
        let samples = samplers
            .iter()
            .flat_map(|sampler| sampler(config, &env, &shown));
        for (names, result) in samples {
            let Err(e) = result else { continue };
            let (name, message) = match e {
                SampleError::Template(TemplateError::Template { file, source }) => {
                    // The first line: the alternate form adds the template's source.
                    let message = source.to_string();
                    let first = message.lines().next().unwrap_or_default().to_string();
                    (file, first)
                }
                SampleError::Template(other) => {
                    (names[0].to_string(), crate::error_chain::chain(&other))
                }
                SampleError::Other(message) => (names[0].to_string(), message),
            };
            if let Some(file) = shown.get(name.as_str())
                && failed.insert(name.clone())
            {
                problems.push(TemplateProblem {
                    file: file.clone(),
                    message,
                });
            }
        }
    }
    (count, problems)
}

/// The department the samples are addressed to: the configuration's first,
/// else a made-up one.
pub(crate) fn sample_department(config: &Config) -> Department {
    config.departments.first().cloned().unwrap_or(Department {
        code: "SAMPLE".into(),
        name: "Đơn vị mẫu".into(),
        level: Level::Province,
        contacts: vec!["van-thu@example.gov.vn".into()],
    })
}
