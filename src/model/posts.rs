//! Posts and the training that fits them, as data: the post-name table
//! (`config/posts.toml`: a post name → leadership and post group) and the
//! competency table (`config/competencies.toml`: a post group → the training
//! categories that fit it). Parsed here from their text (no I/O); which file
//! is read (the built-in one, or the config folder's) is the catalogue's
//! business (`crate::catalogue`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::text::fold;

/// Why a posts or competencies file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum PostsError {
    /// The file cannot be read.
    #[error("cannot read {}", file.display())]
    Read {
        file: PathBuf,
        source: std::io::Error,
    },
    /// Not TOML, or well-formed but refused: `message` names the key and
    /// what is expected.
    #[error("{}: {message}", file.display())]
    Invalid { file: PathBuf, message: String },
}

impl PostsError {
    /// The file the problem is in.
    pub fn file(&self) -> &Path {
        match self {
            PostsError::Read { file, .. } | PostsError::Invalid { file, .. } => file,
        }
    }
}

/// Where a post stands: the roster's derived `leadership` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Leadership {
    /// Heads and deputy heads of an agency or a People's Committee.
    Leader,
    /// Heads and deputy heads of a division (phòng, ban, chi cục).
    Manager,
    /// Everyone else.
    Staff,
}

impl Leadership {
    /// The value's name as the warehouse stores it.
    pub fn as_str(self) -> &'static str {
        match self {
            Leadership::Leader => "leader",
            Leadership::Manager => "manager",
            Leadership::Staff => "staff",
        }
    }

    /// Every value's name, in order.
    pub const NAMES: [&'static str; 3] = ["leader", "manager", "staff"];
}

/// One post of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Post {
    /// The post name as written in the table ("Phó Giám đốc").
    pub name: String,
    pub leadership: Leadership,
    /// The post group the competency table is keyed by ("leader", "it").
    pub group: String,
}

/// The post-name table: a roster's "Chức vụ" text → its [`Post`], by the
/// longest post name that is a whole-word prefix of the folded text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PostTable {
    /// (folded name, post), longest folded name first.
    posts: Vec<(String, Post)>,
}

impl PostTable {
    /// A table that knows no post (every position reads as unknown).
    pub const EMPTY: PostTable = PostTable { posts: Vec::new() };

    /// The post `position` names: the longest table name that is the whole
    /// folded text or a whole-word prefix of it ("Phó Giám đốc Sở" → Phó
    /// Giám đốc, never Giám đốc); `None` when no name is.
    pub fn lookup(&self, position: &str) -> Option<&Post> {
        let folded = fold(position);
        self.posts
            .iter()
            .find(|(name, _)| {
                folded.starts_with(name.as_str())
                    && (folded.len() == name.len() || folded.as_bytes()[name.len()] == b' ')
            })
            .map(|(_, post)| post)
    }

    /// Every post group the table names.
    pub fn groups(&self) -> BTreeSet<&str> {
        self.posts.iter().map(|(_, p)| p.group.as_str()).collect()
    }

    /// How many posts the table holds.
    pub fn len(&self) -> usize {
        self.posts.len()
    }

    /// Whether the table holds no post.
    pub fn is_empty(&self) -> bool {
        self.posts.is_empty()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPosts {
    posts: BTreeMap<String, RawPost>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPost {
    leadership: Leadership,
    group: String,
}

/// A name of lower-case letters, digits and '_' (a post group, a category).
fn is_key(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// The post table a file's text defines; errors name `file`.
pub fn parse_posts(file: &Path, text: &str) -> Result<PostTable, PostsError> {
    let invalid = |message: String| PostsError::Invalid {
        file: file.to_path_buf(),
        message,
    };
    let raw: RawPosts = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
    let mut by_folded: BTreeMap<String, Post> = BTreeMap::new();
    for (name, post) in raw.posts {
        let folded = fold(&name);
        if folded.is_empty() {
            return Err(invalid(format!(
                "posts: {name:?} has no letters (a post name, e.g. \"Phó Giám đốc\")"
            )));
        }
        if !is_key(&post.group) {
            return Err(invalid(format!(
                "posts.{name:?}.group: {:?} must be lower-case letters, digits or '_'",
                post.group
            )));
        }
        if let Some(other) = by_folded.get(&folded) {
            return Err(invalid(format!(
                "posts: {name:?} and {:?} are the same name written twice",
                other.name
            )));
        }
        by_folded.insert(
            folded,
            Post {
                name,
                leadership: post.leadership,
                group: post.group,
            },
        );
    }
    let mut posts: Vec<(String, Post)> = by_folded.into_iter().collect();
    posts.sort_by(|(a, _), (b, _)| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    Ok(PostTable { posts })
}

/// The competency table: post group → the training categories that fit it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Competencies {
    groups: BTreeMap<String, Vec<String>>,
}

impl Competencies {
    /// Every (post group, category) pair, sorted: the rows of the SQL table
    /// `competencies(post_group, category)`.
    pub fn pairs(&self) -> Vec<(&str, &str)> {
        self.groups
            .iter()
            .flat_map(|(g, cats)| cats.iter().map(move |c| (g.as_str(), c.as_str())))
            .collect()
    }

    /// The categories that fit a post group (empty for a group the table lacks).
    pub fn categories(&self, group: &str) -> &[String] {
        self.groups
            .get(group)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// Checks the table against what it is used with: every post group of
    /// `posts` has at least one fitting category, and every category is one
    /// of `categories` (the training template's values; empty: not checked).
    pub fn check(
        &self,
        file: &Path,
        posts: &PostTable,
        categories: &[String],
    ) -> Result<(), PostsError> {
        let invalid = |message: String| PostsError::Invalid {
            file: file.to_path_buf(),
            message,
        };
        let missing: Vec<&str> = posts
            .groups()
            .into_iter()
            .filter(|g| self.categories(g).is_empty())
            .collect();
        if !missing.is_empty() {
            return Err(invalid(format!(
                "post group {} of the posts table has no fitting category (every post group needs at least one)",
                missing.join(", ")
            )));
        }
        if !categories.is_empty() {
            for (group, category) in self.pairs() {
                if !categories.iter().any(|c| c == category) {
                    return Err(invalid(format!(
                        "{group}: {category:?} is not a training category (one of {})",
                        categories.join(", ")
                    )));
                }
            }
        }
        Ok(())
    }
}

/// The competency table a file's text defines (`<group> = ["category", …]`);
/// errors name `file`.
pub fn parse_competencies(file: &Path, text: &str) -> Result<Competencies, PostsError> {
    let invalid = |message: String| PostsError::Invalid {
        file: file.to_path_buf(),
        message,
    };
    let raw: BTreeMap<String, Vec<String>> =
        toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
    let mut groups = BTreeMap::new();
    for (group, mut categories) in raw {
        if !is_key(&group) {
            return Err(invalid(format!(
                "{group:?}: a post group is lower-case letters, digits or '_'"
            )));
        }
        if categories.is_empty() {
            return Err(invalid(format!(
                "{group}: lists no category (every post group needs at least one)"
            )));
        }
        categories.sort();
        categories.dedup();
        groups.insert(group, categories);
    }
    Ok(Competencies { groups })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> PostTable {
        parse_posts(
            Path::new("posts.toml"),
            r#"
[posts]
"Giám đốc" = { leadership = "leader", group = "leader" }
"Phó Giám đốc" = { leadership = "leader", group = "leader" }
"Giám đốc Trung tâm" = { leadership = "manager", group = "manager" }
"Trưởng phòng" = { leadership = "manager", group = "manager" }
"Chủ tịch" = { leadership = "leader", group = "leader" }
"Chuyên viên" = { leadership = "staff", group = "specialist" }
"Chuyên viên công nghệ thông tin" = { leadership = "staff", group = "it" }
"#,
        )
        .expect("parses")
    }

    fn post(position: &str) -> Option<(Leadership, String)> {
        table()
            .lookup(position)
            .map(|p| (p.leadership, p.group.clone()))
    }

    #[test]
    fn the_longest_whole_word_prefix_names_the_post() {
        use Leadership::*;
        assert_eq!(post("Phó Giám đốc Sở"), Some((Leader, "leader".into())));
        assert_eq!(post("Giám đốc"), Some((Leader, "leader".into())));
        assert_eq!(
            post("Giám đốc Trung tâm Phục vụ hành chính công"),
            Some((Manager, "manager".into()))
        );
        assert_eq!(
            post("Trưởng phòng Tổ chức"),
            Some((Manager, "manager".into()))
        );
        assert_eq!(post("Chủ tịch UBND xã"), Some((Leader, "leader".into())));
        assert_eq!(post("Chuyên viên"), Some((Staff, "specialist".into())));
        assert_eq!(
            post("Chuyên viên Công nghệ thông tin"),
            Some((Staff, "it".into()))
        );
    }

    #[test]
    fn folding_makes_case_accents_and_spacing_alike() {
        assert_eq!(
            post("PHO GIAM DOC  so"),
            Some((Leadership::Leader, "leader".into()))
        );
        assert_eq!(
            post("trưởng  Phòng"),
            Some((Leadership::Manager, "manager".into()))
        );
    }

    #[test]
    fn a_post_not_in_the_table_or_a_partial_word_is_unknown() {
        assert_eq!(post("Kế toán viên"), None);
        assert_eq!(post(""), None);
        // "Chủ tịch" is a prefix of the letters, not of the words.
        assert_eq!(post("Chủ tịchxã"), None);
        assert_eq!(post("Phó"), None);
    }

    #[test]
    fn a_name_written_twice_or_a_bad_value_is_refused_naming_the_file() {
        let err = parse_posts(
            Path::new("my/posts.toml"),
            "[posts]\n\"Giám đốc\" = { leadership = \"leader\", group = \"leader\" }\n\"GIAM DOC\" = { leadership = \"leader\", group = \"leader\" }\n",
        )
        .expect_err("refused")
        .to_string();
        assert!(
            err.contains("my/posts.toml") && err.contains("twice"),
            "{err}"
        );
        let err = parse_posts(
            Path::new("posts.toml"),
            "[posts]\n\"Giám đốc\" = { leadership = \"boss\", group = \"leader\" }\n",
        )
        .expect_err("refused")
        .to_string();
        assert!(err.contains("boss"), "{err}");
    }

    #[test]
    fn every_post_group_needs_a_fitting_category() {
        let file = Path::new("competencies.toml");
        let categories: Vec<String> = ["digital", "professional", "leadership"]
            .map(String::from)
            .to_vec();
        let partial = parse_competencies(file, "leader = [\"leadership\"]\n").expect("parses");
        let err = partial
            .check(file, &table(), &categories)
            .expect_err("groups missing")
            .to_string();
        assert!(
            err.contains("manager") && err.contains("specialist") && err.contains("it"),
            "{err}"
        );
        let full = parse_competencies(
            file,
            "leader = [\"leadership\", \"digital\"]\nmanager = [\"leadership\"]\nspecialist = [\"professional\"]\nit = [\"digital\", \"professional\"]\n",
        )
        .expect("parses");
        full.check(file, &table(), &categories).expect("complete");
        assert_eq!(full.categories("it"), ["digital", "professional"]);
        assert_eq!(full.pairs().len(), 6);
        let unknown = parse_competencies(file, "leader = [\"cooking\"]\n").expect("parses");
        let err = unknown
            .check(file, &PostTable::EMPTY, &categories)
            .expect_err("unknown category")
            .to_string();
        assert!(err.contains("cooking"), "{err}");
        assert!(parse_competencies(file, "leader = []\n").is_err());
    }
}
