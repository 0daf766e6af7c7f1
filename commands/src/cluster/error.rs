//! Errors of the cluster operations: refusals and cluster answers people can act on, kept apart from internal ones.

use std::future::Future;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How long one API request may take before the bot gives up on it.
pub const API_TIMEOUT: Duration = Duration::from_secs(10);

/// A preview that cannot become a change, with the sentence shown to the person who asked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum Refusal {
    #[error("deployment `{deployment}` has no revision {revision}; `history` lists them")]
    NoSuchRevision { deployment: String, revision: i64 },
    #[error(
        "deployment `{deployment}` has no previous revision to roll back to; `history` lists them"
    )]
    NoPreviousRevision { deployment: String },
    #[error(
        "deployment `{deployment}` already runs the template of revision {revision} ({image}); nothing to roll back"
    )]
    AlreadyAtRevision {
        deployment: String,
        revision: i64,
        image: String,
    },
    #[error("deployment `{deployment}` is paused; resume it before rolling back")]
    Paused { deployment: String },
    #[error("deployment `{deployment}` already runs `{image}`; nothing to deploy")]
    AlreadyRunning { deployment: String, image: String },
    #[error("`{reference}` is not a valid image reference: {reason}")]
    InvalidImage { reference: String, reason: String },
    #[error(
        "`{reference}` is not in the allowed repository `{allowed}`; only its tags or digests can be deployed"
    )]
    ForeignRepository { reference: String, allowed: String },
    #[error("deployment `{deployment}` already has {replicas} replicas; nothing to scale")]
    SameReplicas { deployment: String, replicas: i32 },
    #[error("{replicas} replicas is out of range: allowed {min} to {max}")]
    ReplicasOutOfRange { replicas: i32, min: i32, max: i32 },
    #[error("deployment `{deployment}` has no container `{container}`; it has: {available}")]
    NoSuchContainer {
        deployment: String,
        container: String,
        available: String,
    },
}

/// The deployment is no longer in the state an approval request was bound to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("deployment changed since this was requested: request again ({})", changes.join("; "))]
pub struct Stale {
    /// What changed, one short phrase each (`image mystocks/api:v1.0.1 → mystocks/api:v1.0.3`).
    pub changes: Vec<String>,
}

/// Everything a cluster operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// The preview refused the change; nothing was sent to the cluster.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// The deployment is no longer in the state the request was bound to.
    #[error(transparent)]
    Stale(#[from] Stale),
    #[error("{kind} `{name}` not found in namespace `{namespace}`")]
    NotFound {
        kind: String,
        name: String,
        namespace: String,
    },
    /// The cluster refused a change because the object changed in between (HTTP 409).
    #[error(
        "the cluster refused the change because the deployment changed meanwhile ({message}): request again"
    )]
    Conflict { message: String },
    /// The bot's credentials may not do this (HTTP 401/403).
    #[error("the bot is not allowed to do this in the cluster: {message}")]
    Forbidden { message: String },
    /// The cluster rejected the change as invalid (HTTP 400/422), e.g. in the server-side dry run.
    #[error("the cluster rejected the change: {message}")]
    Rejected { message: String },
    #[error("the Kubernetes API did not answer within {} s", API_TIMEOUT.as_secs())]
    Timeout,
    #[error("the Kubernetes API is unreachable: {message}")]
    Unreachable { message: String },
    /// metrics.k8s.io is missing or has no data yet.
    #[error("metrics not available: {message}")]
    MetricsUnavailable { message: String },
    /// Anything else (unexpected answers, bad kubeconfig); logged in full, shown to people as an internal error.
    #[error("internal error talking to the cluster: {message}")]
    Internal { message: String },
}

impl ClusterError {
    /// Whether the text is meant for people in chat. Internal errors should be logged and shown with a reference.
    pub fn is_user_facing(&self) -> bool {
        !matches!(self, ClusterError::Internal { .. })
    }

    /// Whether the operation refused before anything was sent (refusal or stale binding).
    pub fn is_refusal(&self) -> bool {
        matches!(self, ClusterError::Refused(_) | ClusterError::Stale(_))
    }

    /// Maps a kube error for a request about `kind`/`name` in `namespace`.
    pub fn from_kube(err: kube::Error, kind: &str, name: &str, namespace: &str) -> Self {
        match err {
            kube::Error::Api(status) => match status.code {
                404 => ClusterError::NotFound {
                    kind: kind.to_string(),
                    name: name.to_string(),
                    namespace: namespace.to_string(),
                },
                409 => ClusterError::Conflict {
                    message: status.message,
                },
                401 | 403 => ClusterError::Forbidden {
                    message: status.message,
                },
                400 | 422 => ClusterError::Rejected {
                    message: status.message,
                },
                code => ClusterError::Internal {
                    message: format!("HTTP {code}: {}", status.message),
                },
            },
            kube::Error::HyperError(e) => transport(&e),
            kube::Error::Service(e) => transport(&*e),
            other => ClusterError::Internal {
                message: other.to_string(),
            },
        }
    }
}

/// A transport failure: a timeout anywhere in the chain is [`ClusterError::Timeout`], anything else is
/// unreachable, described by the whole chain (`client error (Connect): tcp connect error: Connection refused`).
fn transport(err: &(dyn std::error::Error + 'static)) -> ClusterError {
    let mut parts: Vec<String> = Vec::new();
    let mut timed_out = false;
    let mut current = Some(err);
    while let Some(e) = current {
        let text = e.to_string();
        let io_timeout = e
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut);
        timed_out |= io_timeout || text.to_ascii_lowercase().contains("timed out");
        if !parts.last().is_some_and(|last| last.contains(&text)) {
            parts.push(text);
        }
        current = e.source();
    }
    if timed_out {
        ClusterError::Timeout
    } else {
        ClusterError::Unreachable {
            message: parts.join(": "),
        }
    }
}

/// Runs one API request with the [`API_TIMEOUT`], mapping its error for `kind`/`name` in `namespace`.
pub(crate) async fn call<T>(
    fut: impl Future<Output = Result<T, kube::Error>>,
    what: (&str, &str, &str),
) -> Result<T, ClusterError> {
    let (kind, name, namespace) = what;
    match tokio::time::timeout(API_TIMEOUT, fut).await {
        Err(_) => Err(ClusterError::Timeout),
        Ok(Err(e)) => Err(ClusterError::from_kube(e, kind, name, namespace)),
        Ok(Ok(v)) => Ok(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_texts() {
        let r = Refusal::NoSuchRevision {
            deployment: "mystocks-api".into(),
            revision: 9,
        };
        assert_eq!(
            r.to_string(),
            "deployment `mystocks-api` has no revision 9; `history` lists them"
        );
        let s = Stale {
            changes: vec!["generation 3 → 4".into(), "replicas 3 → 5".into()],
        };
        assert_eq!(
            s.to_string(),
            "deployment changed since this was requested: request again (generation 3 → 4; replicas 3 → 5)"
        );
        assert_eq!(
            ClusterError::Timeout.to_string(),
            "the Kubernetes API did not answer within 10 s"
        );
        assert!(ClusterError::Refused(r).is_refusal());
        assert!(
            !ClusterError::Internal {
                message: "x".into()
            }
            .is_user_facing()
        );
    }

    #[test]
    fn transport_errors_name_their_cause() {
        let refused =
            std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "Connection refused");
        let err = kube::Error::Service(Box::new(refused));
        let mapped = ClusterError::from_kube(err, "deployment", "x", "ns");
        assert_eq!(
            mapped.to_string(),
            "the Kubernetes API is unreachable: Connection refused"
        );
        let slow = std::io::Error::new(std::io::ErrorKind::TimedOut, "deadline has elapsed");
        let mapped = ClusterError::from_kube(kube::Error::Service(Box::new(slow)), "d", "x", "ns");
        assert!(matches!(mapped, ClusterError::Timeout), "{mapped}");
    }

    #[test]
    fn maps_api_status_codes() {
        let status = |code: u16| {
            kube::Error::Api(Box::new(kube::core::Status {
                code,
                message: "m".into(),
                ..Default::default()
            }))
        };
        assert!(matches!(
            ClusterError::from_kube(status(404), "deployment", "x", "ns"),
            ClusterError::NotFound { .. }
        ));
        assert!(matches!(
            ClusterError::from_kube(status(409), "d", "x", "ns"),
            ClusterError::Conflict { .. }
        ));
        assert!(matches!(
            ClusterError::from_kube(status(403), "d", "x", "ns"),
            ClusterError::Forbidden { .. }
        ));
        assert!(matches!(
            ClusterError::from_kube(status(422), "d", "x", "ns"),
            ClusterError::Rejected { .. }
        ));
        assert!(matches!(
            ClusterError::from_kube(status(500), "d", "x", "ns"),
            ClusterError::Internal { .. }
        ));
    }
}
