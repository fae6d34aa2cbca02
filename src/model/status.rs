//! How a run ended, and where a file stands in the ledger.

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    Succeeded,
    Failed,
    /// Stopped between steps by a shutdown request, or found unfinished after a crash.
    Interrupted,
}

impl RunStatus {
    /// The status as stored in the run history.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
            RunStatus::Interrupted => "interrupted",
        }
    }
}

/// Where a file stands in the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SubmissionStatus {
    /// Its rows are the department's current rows of its forms and period.
    Accepted,
    /// A later submission of the same department, form and period replaced it.
    Superseded,
    /// Refused whole; its reason is in the ledger and beside the file.
    Quarantined,
}

impl SubmissionStatus {
    /// The status as stored in the ledger and the `submissions` table.
    pub fn as_str(self) -> &'static str {
        match self {
            SubmissionStatus::Accepted => "accepted",
            SubmissionStatus::Superseded => "superseded",
            SubmissionStatus::Quarantined => "quarantined",
        }
    }

    /// Whether its rows were ever in the warehouse (accepted, or accepted
    /// and later replaced).
    pub fn was_accepted(self) -> bool {
        matches!(
            self,
            SubmissionStatus::Accepted | SubmissionStatus::Superseded
        )
    }
}

impl std::fmt::Display for SubmissionStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored status this build does not know.
#[derive(Debug, thiserror::Error)]
#[error("{0:?} is not a submission status (accepted, superseded or quarantined)")]
pub struct UnknownStatus(pub String);

impl std::str::FromStr for SubmissionStatus {
    type Err = UnknownStatus;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "accepted" => Ok(SubmissionStatus::Accepted),
            "superseded" => Ok(SubmissionStatus::Superseded),
            "quarantined" => Ok(SubmissionStatus::Quarantined),
            other => Err(UnknownStatus(other.to_string())),
        }
    }
}
