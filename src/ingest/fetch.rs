//! The `fetch` step: departments that publish their workbook at a URL. Each
//! configured URL is downloaded into `inbox/<DEPT>/` with a conditional request
//! (ETag / If-Modified-Since), within the file-size limit, written atomically,
//! and then taken by the ingest like any dropped file (same stability,
//! duplicate and quarantine rules).

use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

use crate::config::{Config, Source};
use crate::error_chain::chain;
use crate::state::State;

#[derive(Debug, Default, Clone)]
pub(crate) struct FetchOutcome {
    /// Files written into the inbox.
    pub fetched: usize,
    /// Sources that had not changed (304, or the same bytes).
    pub unchanged: usize,
    /// Sources that could not be fetched: (url, why).
    pub failed: Vec<(String, String)>,
}

/// Fetches every configured source. A source that fails is logged and
/// counted; the others are still fetched.
pub(crate) async fn fetch_sources(config: &Config, state: &State) -> FetchOutcome {
    let mut outcome = FetchOutcome::default();
    if config.sources.is_empty() {
        return outcome;
    }
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .connect_timeout(Duration::from_secs(15))
        .user_agent(concat!("nhanluc/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(client) => client,
        Err(e) => {
            outcome.failed.push(("*".into(), chain(&e)));
            return outcome;
        }
    };
    for source in &config.sources {
        match fetch_one(config, state, &client, source).await {
            Ok(true) => outcome.fetched += 1,
            Ok(false) => outcome.unchanged += 1,
            Err(why) => {
                tracing::warn!(url = %source.url, department = %source.department, error = %why, "source not fetched");
                outcome.failed.push((source.url.clone(), why));
            }
        }
    }
    outcome
}

/// Returns whether a new file was written.
async fn fetch_one(
    config: &Config,
    state: &State,
    client: &reqwest::Client,
    source: &Source,
) -> Result<bool, String> {
    let last = state.last_fetch(&source.url).map_err(|e| chain(&e))?;
    let (etag, last_modified, previous_sha) = (last.etag, last.last_modified, last.sha256);
    let mut request = client.get(&source.url);
    if let Some(etag) = &etag {
        request = request.header(reqwest::header::IF_NONE_MATCH, etag);
    }
    if let Some(last_modified) = &last_modified {
        request = request.header(reqwest::header::IF_MODIFIED_SINCE, last_modified);
    }
    let mut response = request.send().await.map_err(|e| chain(&e))?;
    if response.status() == reqwest::StatusCode::NOT_MODIFIED {
        return Ok(false);
    }
    if !response.status().is_success() {
        return Err(format!("HTTP {}", response.status()));
    }
    let limit = config.ingest.max_file_bytes;
    if response.content_length().is_some_and(|n| n > limit) {
        return Err(format!(
            "larger than the {} MiB limit",
            limit / (1024 * 1024)
        ));
    }
    let header = |name: reqwest::header::HeaderName| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let new_etag = header(reqwest::header::ETAG);
    let new_last_modified = header(reqwest::header::LAST_MODIFIED);
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| chain(&e))? {
        if bytes.len() as u64 + chunk.len() as u64 > limit {
            return Err(format!(
                "larger than the {} MiB limit",
                limit / (1024 * 1024)
            ));
        }
        bytes.extend_from_slice(&chunk);
    }
    let sha = hex::encode(Sha256::digest(&bytes));
    if previous_sha.as_deref() == Some(sha.as_str()) {
        state
            .record_fetch(
                &source.url,
                new_etag.as_deref(),
                new_last_modified.as_deref(),
                &sha,
            )
            .map_err(|e| chain(&e))?;
        return Ok(false);
    }
    let name = file_name(&source.url);
    let path = config.paths.inbox.join(&source.department).join(name);
    super::write_atomic(&path, &bytes).map_err(|e| chain(&e))?;
    // The download is complete (written and renamed): not a file still being
    // copied, so the ingest of this run may take it.
    let settled = SystemTime::now() - Duration::from_secs(config.ingest.settle_seconds + 1);
    if let Ok(file) = std::fs::File::options().write(true).open(&path) {
        let _ = file.set_modified(settled);
    }
    state
        .record_fetch(
            &source.url,
            new_etag.as_deref(),
            new_last_modified.as_deref(),
            &sha,
        )
        .map_err(|e| chain(&e))?;
    tracing::info!(url = %source.url, file = %path.display(), bytes = bytes.len(), "fetched");
    Ok(true)
}

/// The URL's last path segment, made safe. A newer version replaces an
/// older one still waiting in the inbox, as a department re-dropping would.
fn file_name(url: &str) -> String {
    let last = reqwest::Url::parse(url)
        .ok()
        .and_then(|u| {
            u.path_segments()
                .and_then(|mut s| s.next_back().map(str::to_string))
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "workbook.xlsx".to_string());
    crate::model::names::safe_file_name(&last)
}
