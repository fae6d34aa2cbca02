//! Who a figure is about: the province or one department, and a
//! department's level; the language a reader is written to in.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The part of the province an indicator row or a digest is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Province,
    Department(String),
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Province => f.write_str("province"),
            Scope::Department(code) => write!(f, "department:{code}"),
        }
    }
}

/// The language a recipient reads; `vi` or `en` in the configuration and
/// the templates (`lang`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Vi,
    En,
}

/// Where a department sits in the province's administration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Province,
    District,
    Commune,
}

impl Level {
    /// The level as written in departments.toml and the warehouse.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Province => "province",
            Level::District => "district",
            Level::Commune => "commune",
        }
    }
}
