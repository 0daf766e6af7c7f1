//! The request log: every API request the sim served, so tests can assert what a client did (or did not) send.

use std::sync::Mutex;

/// One request as the API server saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedRequest {
    /// HTTP method (`GET`, `PATCH`, …).
    pub method: String,
    /// Path and query, as sent.
    pub path: String,
    /// The Content-Type of a PATCH (e.g. `application/strategic-merge-patch+json`).
    pub patch_type: Option<String>,
    /// The name of the token that authenticated it (None: no or unknown token).
    pub token_name: Option<String>,
    /// kubectl's `Kubectl-Command` header (e.g. `kubectl rollout`).
    pub kubectl_command: Option<String>,
    /// The HTTP status answered.
    pub status: u16,
}

impl RecordedRequest {
    /// Whether the request could change state (POST, PUT, PATCH, DELETE).
    pub fn is_changing(&self) -> bool {
        matches!(self.method.as_str(), "POST" | "PUT" | "PATCH" | "DELETE")
    }
}

/// An append-only, bounded list of recorded requests.
#[derive(Default)]
pub struct RequestLog {
    entries: Mutex<Vec<RecordedRequest>>,
}

const MAX_ENTRIES: usize = 100_000;

impl RequestLog {
    /// Appends one request (dropping the oldest beyond 100,000).
    pub fn record(&self, r: RecordedRequest) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.remove(0);
        }
        entries.push(r);
    }

    /// All requests so far.
    pub fn all(&self) -> Vec<RecordedRequest> {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}
