//! The catalogue: the files nhanluc ships compiled in, each kind overlaid by
//! a folder the analyst edits, so a form, an indicator or a message changes
//! without a rebuild.
//!
//! Four kinds, each a [`Kind`]: the form templates (`config/templates/*.toml`),
//! the indicator SQL (`config/indicators/*.sql`), the labels of the ids that
//! SQL returns (`config/indicators/*.toml`, one beside each SQL file) and the
//! message templates (`config/digest/*.j2`). How the folder's files combine
//! with the built-ins differs by kind, and each keeps its own rule: forms by
//! the template name inside the file ([`Kind::layered`]), indicator SQL and
//! labels by file name with new names added ([`Kind::overlaid`]), messages by
//! file name with new names ignored ([`Kind::replaced`]). What a file means
//! (parsing a template, running a query) stays with its reader: this module
//! only finds and reads the files, and parses the labels, which nothing else
//! reads.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::model::indicator::Unit;
use crate::model::posts::{Competencies, PostTable, PostsError, parse_competencies, parse_posts};
use crate::model::template::{Template, TemplateError, parse_template};

/// A kind of catalogue file: the built-in files and the extension of the
/// folder's files that overlay them.
#[derive(Debug, Clone, Copy)]
pub struct Kind {
    built_in: &'static [(&'static str, &'static str)],
    extension: &'static str,
}

/// The form templates departments fill.
pub(crate) const FORMS: Kind = Kind {
    built_in: &[
        ("staff.toml", include_str!("../config/templates/staff.toml")),
        (
            "training.toml",
            include_str!("../config/templates/training.toml"),
        ),
        ("plan.toml", include_str!("../config/templates/plan.toml")),
        (
            "recruitment.toml",
            include_str!("../config/templates/recruitment.toml"),
        ),
    ],
    extension: "toml",
};

/// The indicator queries (see `docs/indicators.md` for the ids and their definitions).
pub const INDICATOR_SQL: Kind = Kind {
    built_in: &[
        (
            "compliance_submission_rate.sql",
            include_str!("../config/indicators/compliance_submission_rate.sql"),
        ),
        (
            "recruitment_it.sql",
            include_str!("../config/indicators/recruitment_it.sql"),
        ),
        (
            "staff_digital_roles.sql",
            include_str!("../config/indicators/staff_digital_roles.sql"),
        ),
        (
            "staff_headcount.sql",
            include_str!("../config/indicators/staff_headcount.sql"),
        ),
        (
            "staff_political_theory.sql",
            include_str!("../config/indicators/staff_political_theory.sql"),
        ),
        (
            "staff_qualification.sql",
            include_str!("../config/indicators/staff_qualification.sql"),
        ),
        (
            "staff_units_with_dedicated_it.sql",
            include_str!("../config/indicators/staff_units_with_dedicated_it.sql"),
        ),
        (
            "training_abroad.sql",
            include_str!("../config/indicators/training_abroad.sql"),
        ),
        (
            "training_categories.sql",
            include_str!("../config/indicators/training_categories.sql"),
        ),
        (
            "training_cost_lessons.sql",
            include_str!("../config/indicators/training_cost_lessons.sql"),
        ),
        (
            "training_digital_coverage.sql",
            include_str!("../config/indicators/training_digital_coverage.sql"),
        ),
        (
            "training_fits_post.sql",
            include_str!("../config/indicators/training_fits_post.sql"),
        ),
        (
            "training_leaders.sql",
            include_str!("../config/indicators/training_leaders.sql"),
        ),
        (
            "training_online.sql",
            include_str!("../config/indicators/training_online.sql"),
        ),
        (
            "training_participants.sql",
            include_str!("../config/indicators/training_participants.sql"),
        ),
        (
            "training_pass_rate.sql",
            include_str!("../config/indicators/training_pass_rate.sql"),
        ),
        (
            "training_people.sql",
            include_str!("../config/indicators/training_people.sql"),
        ),
        (
            "training_plan_attainment.sql",
            include_str!("../config/indicators/training_plan_attainment.sql"),
        ),
        (
            "training_plan_range.sql",
            include_str!("../config/indicators/training_plan_range.sql"),
        ),
    ],
    extension: "sql",
};

/// The labels and units of the ids the indicator queries return, one file
/// beside each query (same name, `.toml`).
pub(crate) const INDICATOR_LABELS: Kind = Kind {
    built_in: &[
        (
            "compliance_submission_rate.toml",
            include_str!("../config/indicators/compliance_submission_rate.toml"),
        ),
        (
            "recruitment_it.toml",
            include_str!("../config/indicators/recruitment_it.toml"),
        ),
        (
            "staff_digital_roles.toml",
            include_str!("../config/indicators/staff_digital_roles.toml"),
        ),
        (
            "staff_headcount.toml",
            include_str!("../config/indicators/staff_headcount.toml"),
        ),
        (
            "staff_political_theory.toml",
            include_str!("../config/indicators/staff_political_theory.toml"),
        ),
        (
            "staff_qualification.toml",
            include_str!("../config/indicators/staff_qualification.toml"),
        ),
        (
            "staff_units_with_dedicated_it.toml",
            include_str!("../config/indicators/staff_units_with_dedicated_it.toml"),
        ),
        (
            "training_abroad.toml",
            include_str!("../config/indicators/training_abroad.toml"),
        ),
        (
            "training_categories.toml",
            include_str!("../config/indicators/training_categories.toml"),
        ),
        (
            "training_cost_lessons.toml",
            include_str!("../config/indicators/training_cost_lessons.toml"),
        ),
        (
            "training_digital_coverage.toml",
            include_str!("../config/indicators/training_digital_coverage.toml"),
        ),
        (
            "training_fits_post.toml",
            include_str!("../config/indicators/training_fits_post.toml"),
        ),
        (
            "training_leaders.toml",
            include_str!("../config/indicators/training_leaders.toml"),
        ),
        (
            "training_online.toml",
            include_str!("../config/indicators/training_online.toml"),
        ),
        (
            "training_participants.toml",
            include_str!("../config/indicators/training_participants.toml"),
        ),
        (
            "training_pass_rate.toml",
            include_str!("../config/indicators/training_pass_rate.toml"),
        ),
        (
            "training_people.toml",
            include_str!("../config/indicators/training_people.toml"),
        ),
        (
            "training_plan_attainment.toml",
            include_str!("../config/indicators/training_plan_attainment.toml"),
        ),
        (
            "training_plan_range.toml",
            include_str!("../config/indicators/training_plan_range.toml"),
        ),
    ],
    extension: "toml",
};

/// The message templates: digest, feedback and reminder, text and HTML.
pub(crate) const MESSAGES: Kind = Kind {
    built_in: &[
        (
            "digest.html.j2",
            include_str!("../config/digest/digest.html.j2"),
        ),
        (
            "digest.txt.j2",
            include_str!("../config/digest/digest.txt.j2"),
        ),
        (
            "feedback.html.j2",
            include_str!("../config/digest/feedback.html.j2"),
        ),
        (
            "feedback.txt.j2",
            include_str!("../config/digest/feedback.txt.j2"),
        ),
        (
            "reminder.html.j2",
            include_str!("../config/digest/reminder.html.j2"),
        ),
        (
            "reminder.txt.j2",
            include_str!("../config/digest/reminder.txt.j2"),
        ),
    ],
    extension: "j2",
};

/// A catalogue file that cannot be used, by the file it is in (the folder's
/// path, or the built-in file's name).
#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    /// The folder or one of its files cannot be read.
    #[error("cannot read {}", file.display())]
    Read {
        file: PathBuf,
        source: std::io::Error,
    },
    /// Not TOML, or a key the file's format does not have.
    #[error("indicator labels {}", file.display())]
    Parse {
        file: PathBuf,
        // Boxed: TOML's error is large, and every step's error carries this one.
        source: Box<toml::de::Error>,
    },
    /// Well-formed but refused: `message` names the key and what is expected.
    #[error("indicator labels {}: {message}", file.display())]
    Invalid { file: PathBuf, message: String },
}

impl CatalogueError {
    /// The file (or folder) the problem is in.
    pub fn file(&self) -> &Path {
        match self {
            CatalogueError::Read { file, .. }
            | CatalogueError::Parse { file, .. }
            | CatalogueError::Invalid { file, .. } => file,
        }
    }
}

impl From<CatalogueError> for TemplateError {
    fn from(e: CatalogueError) -> Self {
        match e {
            CatalogueError::Read { file, source } => TemplateError::Read { file, source },
            CatalogueError::Parse { file, source } => TemplateError::Parse {
                file,
                source: *source,
            },
            CatalogueError::Invalid { file, message } => TemplateError::Invalid { file, message },
        }
    }
}

/// One file of the catalogue, read.
#[derive(Debug, Clone)]
pub struct File {
    /// Its name, `staff.toml`: what a folder's file overlays by.
    pub name: String,
    /// The folder's file; `None` for a built-in one.
    pub path: Option<PathBuf>,
    pub text: String,
}

impl File {
    /// How messages name it: the folder's path, or the built-in file's name.
    pub fn shown(&self) -> PathBuf {
        self.path
            .clone()
            .unwrap_or_else(|| PathBuf::from(&self.name))
    }
}

/// A file of the folder, read; the error names it.
pub fn read(path: &Path) -> Result<String, CatalogueError> {
    std::fs::read_to_string(path).map_err(|source| CatalogueError::Read {
        file: path.to_path_buf(),
        source,
    })
}

impl Kind {
    /// The built-in files, in the order they are listed.
    pub(crate) fn built_in(&self) -> impl Iterator<Item = File> + '_ {
        self.built_in.iter().map(|(name, text)| File {
            name: name.to_string(),
            path: None,
            text: text.to_string(),
        })
    }

    /// The names of the built-in files.
    pub fn built_in_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.built_in.iter().map(|(name, _)| *name)
    }

    /// The folder's files of this kind, sorted; none when there is no folder.
    /// An entry that cannot be listed is passed over (a file that cannot be
    /// read is an error when read).
    pub(crate) fn folder_files(&self, dir: &Path) -> Result<Vec<PathBuf>, CatalogueError> {
        if !dir.is_dir() {
            return Ok(Vec::new());
        }
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|source| CatalogueError::Read {
                file: dir.to_path_buf(),
                source,
            })?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.extension().and_then(|e| e.to_str()) == Some(self.extension))
            .collect();
        files.sort();
        Ok(files)
    }

    /// The built-in files, then the folder's, each in order: for a reader
    /// that keys them by what they hold (a form by its template name), the
    /// later one winning. Stops at the first file that cannot be read.
    pub fn layered(&self, dir: &Path) -> Result<Vec<File>, CatalogueError> {
        let mut files: Vec<File> = self.built_in().collect();
        for path in self.folder_files(dir)? {
            let text = read(&path)?;
            files.push(File {
                name: file_name(&path),
                path: Some(path),
                text,
            });
        }
        Ok(files)
    }

    /// The built-in files overlaid by the folder's by file name: a file of
    /// the same name replaces the built-in one, a new name adds one. Sorted
    /// by name. Stops at the first file that cannot be read.
    pub fn overlaid(&self, dir: &Path) -> Result<Vec<File>, CatalogueError> {
        let mut by_name: BTreeMap<String, File> = BTreeMap::new();
        for file in self.layered(dir)? {
            by_name.insert(file.name.clone(), file);
        }
        Ok(by_name.into_values().collect())
    }

    /// Each built-in file, or the folder's file of the same name when there
    /// is one; the folder's other files are not read. One result per
    /// built-in, in order, so a reader can report every unreadable file.
    pub fn replaced(&self, dir: &Path) -> Vec<(&'static str, Result<File, CatalogueError>)> {
        self.built_in
            .iter()
            .map(|(name, text)| {
                let path = dir.join(name);
                let file = if path.is_file() {
                    read(&path).map(|text| File {
                        name: name.to_string(),
                        path: Some(path),
                        text,
                    })
                } else {
                    Ok(File {
                        name: name.to_string(),
                        path: None,
                        text: text.to_string(),
                    })
                };
                (*name, file)
            })
            .collect()
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The built-in form templates, overlaid by the `.toml` files of `dir` if it
/// exists: a file replaces the template of the same *name* (the `name` key,
/// whatever the file is called) and a new name adds one.
pub fn load_templates(dir: &Path) -> Result<Vec<Template>, TemplateError> {
    let mut by_name: BTreeMap<String, Template> = BTreeMap::new();
    for file in FORMS.layered(dir)? {
        let template = parse_template(&file.shown(), &file.text)?;
        by_name.insert(template.name.clone(), template);
    }
    Ok(by_name.into_values().collect())
}

/// The built-in post-name table (`config/posts.toml`).
pub(crate) const POSTS: (&str, &str) = ("posts.toml", include_str!("../config/posts.toml"));
/// The built-in competency table (`config/competencies.toml`).
pub(crate) const COMPETENCIES: (&str, &str) = (
    "competencies.toml",
    include_str!("../config/competencies.toml"),
);

/// The file at `path` when there is one, else the built-in `(name, text)`.
fn file_or_built_in(path: &Path, built_in: (&str, &str)) -> Result<File, PostsError> {
    if path.is_file() {
        let text = std::fs::read_to_string(path).map_err(|source| PostsError::Read {
            file: path.to_path_buf(),
            source,
        })?;
        Ok(File {
            name: file_name(path),
            path: Some(path.to_path_buf()),
            text,
        })
    } else {
        Ok(File {
            name: built_in.0.to_string(),
            path: None,
            text: built_in.1.to_string(),
        })
    }
}

/// The post-name table and the competency table: the files at `posts` and
/// `competencies` when they exist (each replaces its built-in one whole),
/// else the built-in ones; checked together (every post group has a fitting
/// category, every category is one of the training form's).
pub fn load_posts(
    posts: &Path,
    competencies: &Path,
    templates: &[Template],
) -> Result<(PostTable, Competencies), PostsError> {
    let posts_file = file_or_built_in(posts, POSTS)?;
    let table = parse_posts(&posts_file.shown(), &posts_file.text)?;
    let competencies_file = file_or_built_in(competencies, COMPETENCIES)?;
    let shown = competencies_file.shown();
    let fitting = parse_competencies(&shown, &competencies_file.text)?;
    let categories: Vec<String> = templates
        .iter()
        .find(|t| t.name == "training")
        .and_then(|t| t.fields.iter().find(|f| f.name == "category"))
        .map(|f| f.values.clone())
        .unwrap_or_default();
    fitting.check(&shown, &table, &categories)?;
    Ok((table, fitting))
}

/// Every problem of the templates folder, each file checked on its own
/// (where [`load_templates`] stops at the first). No folder, no problem.
pub(crate) fn check_template_overlay(dir: &Path) -> Vec<TemplateError> {
    let files = match FORMS.folder_files(dir) {
        Ok(files) => files,
        Err(e) => return vec![e.into()],
    };
    files
        .into_iter()
        .filter_map(|file| {
            read(&file)
                .map_err(TemplateError::from)
                .and_then(|text| parse_template(&file, &text))
                .err()
        })
        .collect()
}

/// What the digest calls an indicator id, in each language, and its unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndicatorLabel {
    pub label_vi: String,
    pub label_en: String,
    /// The unit the query returns for the id: what the sample messages of
    /// `nhanluc check` are made with.
    pub unit: Unit,
    /// Its place among the digest's key figures (1 first), or `None` for a
    /// figure listed with the details.
    pub key_figure: Option<u32>,
}

/// An id's table in a label file, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLabel {
    label_vi: String,
    label_en: String,
    unit: String,
    #[serde(default)]
    key_figure: Option<u32>,
}

/// The labels of every indicator id that has one.
#[derive(Debug, Clone, Default)]
pub struct IndicatorLabels {
    by_id: BTreeMap<String, IndicatorLabel>,
}

impl IndicatorLabels {
    /// The label of `id` in the language, or the id itself when no label file
    /// names it (an analyst's query without one is still shown).
    pub fn label(&self, id: &str, vi: bool) -> String {
        match self.by_id.get(id) {
            Some(l) if vi => l.label_vi.clone(),
            Some(l) => l.label_en.clone(),
            None => id.to_string(),
        }
    }

    /// The label of indicator `id`, if it has one.
    pub fn get(&self, id: &str) -> Option<&IndicatorLabel> {
        self.by_id.get(id)
    }

    /// Every labelled id with its label, by id.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &IndicatorLabel)> {
        self.by_id.iter().map(|(id, l)| (id.as_str(), l))
    }

    /// The ids the digest shows first, as key figures, in their order
    /// (`key_figure` of their label; ids of the same place by id).
    pub fn key_figures(&self) -> Vec<&str> {
        let mut keyed: Vec<(u32, &str)> = self
            .by_id
            .iter()
            .filter_map(|(id, l)| l.key_figure.map(|place| (place, id.as_str())))
            .collect();
        keyed.sort();
        keyed.into_iter().map(|(_, id)| id).collect()
    }

    /// How many indicators have a label.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether no indicator has a label.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

/// The labels of the built-in label files overlaid by the `.toml` files of
/// the indicators folder `dir` (by file name, like the SQL beside them).
/// Stops at the first file that is refused.
pub(crate) fn indicator_labels(dir: &Path) -> Result<IndicatorLabels, CatalogueError> {
    merge_labels(INDICATOR_LABELS.overlaid(dir)?)
}

/// The labels of the built-in label files alone.
pub(crate) fn built_in_indicator_labels() -> IndicatorLabels {
    // The built-in files are checked by the tests: none is refused.
    merge_labels(INDICATOR_LABELS.built_in().collect()).unwrap_or_default()
}

/// The labels of `files`, in order; an id labelled by two files is refused.
fn merge_labels(files: Vec<File>) -> Result<IndicatorLabels, CatalogueError> {
    let mut labels = IndicatorLabels::default();
    // Which file labelled each id, to name both when two do.
    let mut from: BTreeMap<String, PathBuf> = BTreeMap::new();
    for file in files {
        let shown = file.shown();
        for (id, label) in parse_labels(&shown, &file.text)? {
            if let Some(first) = from.get(&id) {
                return Err(CatalogueError::Invalid {
                    file: shown,
                    message: format!("{id:?} is labelled in {} too", first.display()),
                });
            }
            from.insert(id.clone(), shown.clone());
            labels.by_id.insert(id, label);
        }
    }
    Ok(labels)
}

/// Every problem of the label files in effect, each file checked on its own
/// (where [`indicator_labels`] stops at the first).
pub(crate) fn check_indicator_labels(dir: &Path) -> Vec<CatalogueError> {
    let folder = match INDICATOR_LABELS.folder_files(dir) {
        Ok(files) => files,
        Err(e) => return vec![e],
    };
    let mut problems = Vec::new();
    // By file name, as [`Kind::overlaid`]; `None`: the folder's file, unreadable.
    let mut by_name: BTreeMap<String, Option<File>> = INDICATOR_LABELS
        .built_in()
        .map(|f| (f.name.clone(), Some(f)))
        .collect();
    for path in folder {
        let name = file_name(&path);
        match read(&path) {
            Ok(text) => {
                by_name.insert(
                    name.clone(),
                    Some(File {
                        name,
                        path: Some(path),
                        text,
                    }),
                );
            }
            Err(e) => {
                problems.push(e);
                by_name.insert(name, None);
            }
        }
    }
    let mut from: BTreeMap<String, PathBuf> = BTreeMap::new();
    for file in by_name.into_values().flatten() {
        let shown = file.shown();
        match parse_labels(&shown, &file.text) {
            Ok(labels) => {
                for id in labels.into_keys() {
                    match from.get(&id) {
                        Some(first) => problems.push(CatalogueError::Invalid {
                            file: shown.clone(),
                            message: format!("{id:?} is labelled in {} too", first.display()),
                        }),
                        None => {
                            from.insert(id, shown.clone());
                        }
                    }
                }
            }
            Err(e) => problems.push(e),
        }
    }
    problems
}

/// One label file: a table per indicator id.
fn parse_labels(
    file: &Path,
    text: &str,
) -> Result<BTreeMap<String, IndicatorLabel>, CatalogueError> {
    let raw: BTreeMap<String, RawLabel> =
        toml::from_str(text).map_err(|source| CatalogueError::Parse {
            file: file.to_path_buf(),
            source: Box::new(source),
        })?;
    let mut labels = BTreeMap::new();
    for (id, label) in raw {
        let invalid = |message: String| CatalogueError::Invalid {
            file: file.to_path_buf(),
            message,
        };
        if label.label_vi.trim().is_empty() || label.label_en.trim().is_empty() {
            return Err(invalid(format!(
                "{id}: label_vi and label_en must not be empty"
            )));
        }
        let Some(unit) = Unit::parse(&label.unit) else {
            return Err(invalid(format!(
                "{id}.unit: {:?} is not one of {}",
                label.unit,
                Unit::names()
            )));
        };
        labels.insert(
            id,
            IndicatorLabel {
                label_vi: label.label_vi,
                label_en: label.label_en,
                unit,
                key_figure: label.key_figure,
            },
        );
    }
    Ok(labels)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_of_the_config_folders_is_built_in_and_the_same() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
        for (kind, folder) in [
            (FORMS, "templates"),
            (INDICATOR_SQL, "indicators"),
            (INDICATOR_LABELS, "indicators"),
            (MESSAGES, "digest"),
        ] {
            let on_disk: Vec<(String, String)> = kind
                .folder_files(&root.join(folder))
                .unwrap()
                .iter()
                .map(|p| (file_name(p), std::fs::read_to_string(p).unwrap()))
                .collect();
            let mut built_in: Vec<(String, String)> =
                kind.built_in().map(|f| (f.name, f.text)).collect();
            built_in.sort();
            assert_eq!(built_in, on_disk, "{folder}/*.{}", kind.extension);
        }
    }

    #[test]
    fn the_post_and_competency_tables_on_disk_are_the_built_in_ones_and_load() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
        for (name, text) in [POSTS, COMPETENCIES] {
            assert_eq!(std::fs::read_to_string(root.join(name)).unwrap(), text);
        }
        let templates = load_templates(Path::new("/nonexistent")).unwrap();
        let (posts, competencies) = load_posts(
            Path::new("/nonexistent/posts.toml"),
            Path::new("/nonexistent/competencies.toml"),
            &templates,
        )
        .unwrap();
        assert!(posts.len() > 40, "{}", posts.len());
        // Every post group has a fitting category (checked on load).
        for group in posts.groups() {
            assert!(!competencies.categories(group).is_empty(), "{group}");
        }
    }

    #[test]
    fn every_built_in_query_has_its_label_file_and_every_label_parses() {
        let sql: Vec<String> = INDICATOR_SQL
            .built_in_names()
            .map(|n| n.replace(".sql", ".toml"))
            .collect();
        let labels: Vec<&str> = INDICATOR_LABELS.built_in_names().collect();
        assert_eq!(sql, labels);
        let labels = indicator_labels(Path::new("/nonexistent")).unwrap();
        // 32 before issue 16; +7 people, +3 plan range, +2 IT recruitment.
        assert_eq!(labels.len(), 44);
        assert_eq!(built_in_indicator_labels().len(), 44);
        assert_eq!(
            labels.label("staff.headcount", true),
            "Tổng số cán bộ, công chức, viên chức"
        );
        assert_eq!(labels.label("training.cost_vnd", false), "Training cost");
        assert_eq!(labels.label("my.new_id", true), "my.new_id");
    }

    /// What a leader reads on the first screen, in this order: the label
    /// files hold it as data (`key_figure`), no id twice in one place.
    #[test]
    fn the_built_in_key_figures_are_the_designs_in_order() {
        let labels = built_in_indicator_labels();
        assert_eq!(
            labels.key_figures(),
            [
                "staff.headcount",
                "training.participants",
                "training.plan_attainment_pct",
                "training.online_pct",
                "training.digital_coverage_pct",
                "staff.qualification.postgraduate_pct",
                "compliance.submission_rate_pct",
            ]
        );
        let mut places: Vec<u32> = labels.iter().filter_map(|(_, l)| l.key_figure).collect();
        places.sort();
        assert_eq!(places, (1..=7).collect::<Vec<_>>());
    }

    #[test]
    fn a_folder_file_overlays_the_built_in_of_the_same_name() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("staff_headcount.sql"), "SELECT 1").unwrap();
        std::fs::write(dir.path().join("zz_new.sql"), "SELECT 2").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not a query").unwrap();
        let files = INDICATOR_SQL.overlaid(dir.path()).unwrap();
        assert_eq!(files.len(), 20);
        let headcount = files
            .iter()
            .find(|f| f.name == "staff_headcount.sql")
            .unwrap();
        assert_eq!(headcount.text, "SELECT 1");
        assert_eq!(
            headcount.path.as_deref(),
            Some(dir.path().join("staff_headcount.sql").as_path())
        );
        assert_eq!(files.last().unwrap().name, "zz_new.sql");
        // Messages: the same name replaces, a new name is not read.
        std::fs::write(dir.path().join("digest.txt.j2"), "{{ m.title }}").unwrap();
        std::fs::write(dir.path().join("other.j2"), "unused").unwrap();
        let messages = MESSAGES.replaced(dir.path());
        assert_eq!(messages.len(), 6);
        for (name, file) in messages {
            let file = file.unwrap();
            assert_eq!(file.path.is_some(), name == "digest.txt.j2", "{name}");
        }
        // No folder: the built-ins alone.
        assert_eq!(
            INDICATOR_SQL
                .overlaid(Path::new("/nonexistent"))
                .unwrap()
                .len(),
            19
        );
    }

    #[test]
    fn a_refused_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("mine.toml");
        std::fs::write(
            &bad,
            "[\"my.id\"]\nlabel_vi = \"Của tôi\"\nlabel_en = \"Mine\"\nunit = \"kg\"\n",
        )
        .unwrap();
        let err = indicator_labels(dir.path()).unwrap_err();
        assert_eq!(err.file(), bad);
        let text = err.to_string();
        assert!(
            text.contains("mine.toml") && text.contains("my.id.unit"),
            "{text}"
        );

        std::fs::write(
            &bad,
            "[\"staff.headcount\"]\nlabel_vi = \"Lại\"\nlabel_en = \"Again\"\nunit = \"count\"\n",
        )
        .unwrap();
        let err = indicator_labels(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("mine.toml") && err.contains("staff_headcount.toml"),
            "{err}"
        );
        assert_eq!(check_indicator_labels(dir.path()).len(), 1);

        // A file that cannot be read: a folder named like one.
        std::fs::remove_file(&bad).unwrap();
        std::fs::create_dir(&bad).unwrap();
        let err = INDICATOR_LABELS.overlaid(dir.path()).unwrap_err();
        assert_eq!(err.file(), bad);
        assert!(err.to_string().starts_with("cannot read "), "{err}");
    }

    // The built-in forms, as the catalogue loads them.
    mod forms {
        use super::*;
        use crate::model::template::Field;
        use crate::model::value::DateBound;

        #[test]
        fn built_in_templates_load() {
            let templates = load_templates(Path::new("/nonexistent")).expect("built-ins parse");
            let names: Vec<&str> = templates.iter().map(|t| t.name.as_str()).collect();
            assert_eq!(names, ["plan", "recruitment", "staff", "training"]);
            let staff = templates.iter().find(|t| t.name == "staff").expect("staff");
            let qualification = staff
                .field_for_header("TRÌNH ĐỘ\nCHUYÊN MÔN")
                .expect("header");
            assert_eq!(staff.fields[qualification].name, "qualification");
            assert_eq!(
                staff.fields[qualification].enum_value("cao học"),
                None,
                "a spelling the template does not list is not guessed"
            );
            assert_eq!(
                staff.fields[qualification].enum_value("THẠC SĨ"),
                Some("master")
            );
            assert_eq!(
                staff.fields[qualification].enum_value("master"),
                Some("master")
            );
        }

        fn field<'t>(templates: &'t [Template], template: &str, name: &str) -> &'t Field {
            let template = templates
                .iter()
                .find(|t| t.name == template)
                .expect("template");
            &template.fields[template.field_index(name).expect("field")]
        }

        #[test]
        fn spellings_offices_use_are_known_per_field() {
            let templates = load_templates(Path::new("/nonexistent")).expect("built-ins parse");
            let qualification = field(&templates, "staff", "qualification");
            for (written, value) in [
                ("Thạc sỹ", "master"),
                ("Tiến sỹ", "doctorate"),
                ("Th.S", "master"),
                ("ThS", "master"),
                ("Th.s", "master"),
                ("TS", "doctorate"),
                ("TSKH", "doctorate"),
                ("CN", "university"),
                ("Cử nhân", "university"),
                ("Kỹ sư", "university"),
                ("Kĩ sư", "university"),
                ("Bác sĩ", "university"),
                ("ĐH", "university"),
                ("Đ.H", "university"),
                ("CĐ", "college"),
                ("TC", "intermediate"),
                ("Trung học chuyên nghiệp", "intermediate"),
            ] {
                assert_eq!(qualification.enum_value(written), Some(value), "{written}");
            }
            // The same abbreviation, another field, another meaning.
            let theory = field(&templates, "staff", "political_theory");
            for (written, value) in [
                ("TC", "intermediate"),
                ("CC", "advanced"),
                ("SC", "elementary"),
                ("Cao cấp", "advanced"),
                ("Cử nhân", "advanced"),
                ("Cao cấp lý luận chính trị", "advanced"),
                ("Trung cấp LLCT", "intermediate"),
            ] {
                assert_eq!(theory.enum_value(written), Some(value), "{written}");
            }
            assert_eq!(
                theory.enum_value("CN"),
                None,
                "CN is a degree, not a theory level"
            );
            assert_eq!(
                qualification.enum_value("CC"),
                None,
                "CC is a theory level, not a degree"
            );
            let training = templates
                .iter()
                .find(|t| t.name == "training")
                .expect("training");
            for (header, name) in [
                ("Kinh phí (VNĐ)", "cost_vnd"),
                ("Kinh phí (đồng)", "cost_vnd"),
                ("KINH PHÍ\n(VND)", "cost_vnd"),
                ("Thời lượng (số tiết)", "lessons"),
                ("Kết quả học tập", "result"),
                ("Được cấp chứng chỉ", "certified"),
            ] {
                let index = training.field_for_header(header).expect(header);
                assert_eq!(training.fields[index].name, name, "{header}");
            }
            assert_eq!(
                training.field_for_header("Kinh phí (nghìn đồng)"),
                None,
                "thousands of đồng are not đồng"
            );
            let result = field(&templates, "training", "result");
            assert_eq!(result.enum_value("Đạt yêu cầu"), Some("passed"));
            assert_eq!(result.enum_value("Chưa đạt"), Some("failed"));
            let category = field(&templates, "training", "category");
            assert_eq!(category.enum_value("CNTT"), Some("digital"));
            assert_eq!(category.enum_value("QP-AN"), Some("defense_security"));
        }

        #[test]
        fn date_bounds_are_template_data() {
            use chrono::NaiveDate;
            let templates = load_templates(Path::new("/nonexistent")).expect("built-ins parse");
            let birth = field(&templates, "staff", "birth_date");
            assert_eq!(birth.dates.age, Some((15, 100)));
            let start = field(&templates, "training", "start_date");
            assert_eq!(
                start.dates.earliest,
                NaiveDate::from_ymd_opt(1990, 1, 1).map(DateBound::On)
            );
            assert_eq!(start.dates.latest, Some(DateBound::YearsFromToday(2)));
            let with = |extra: &str, kind: &str| {
                let text = format!(
                    "name = \"x\"\n[[fields]]\nname = \"a\"\nheaders = [\"A\"]\ntype = \"{kind}\"\nrequired = true\n{extra}\n"
                );
                parse_template(Path::new("x.toml"), &text).map_err(|e| e.to_string())
            };
            assert!(with("earliest = \"today-3y\"\nlatest = \"2030-12-31\"", "date").is_ok());
            let err = with("earliest = \"last year\"", "date").expect_err("refused");
            assert!(err.contains("fields.earliest"), "{err}");
            let err = with("age = [100, 15]", "date").expect_err("refused");
            assert!(err.contains("youngest"), "{err}");
            let err = with("age = [15, 100]", "text").expect_err("refused");
            assert!(err.contains("not a date"), "{err}");
        }
    }
}
