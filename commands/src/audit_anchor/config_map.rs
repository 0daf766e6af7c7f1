//! Reading and writing the checkpoint ConfigMap with kube-rs: `get`, and `update` (PUT) carrying the
//! resourceVersion that was read, so a concurrent writer makes ours fail with 409 Conflict instead of being
//! overwritten. Data keys: `seq`, `mac`, `at` (RFC 3339, microseconds) and `signature`; an object without them
//! holds no checkpoint yet (deploy/ creates it empty).

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use kube::api::PostParams;

use super::CheckpointLocation;
use crate::audit::AuditCheckpoint;

/// Why the checkpoint could not be read or written; each says where to act.
#[derive(Debug, thiserror::Error)]
pub enum AnchorError {
    #[error(
        "the audit checkpoint {0} does not exist: create it empty (deploy/base/audit-checkpoint.yaml does) or fix \
         `[audit.checkpoint]` in the settings"
    )]
    Missing(CheckpointLocation),
    #[error(
        "the bot may not read or update the audit checkpoint {0}: bind it the Role in \
         deploy/base/audit-checkpoint.yaml (get and update on that name)"
    )]
    Forbidden(CheckpointLocation),
    #[error(
        "someone else updated the audit checkpoint {0} meanwhile (409 Conflict); it was left as it is"
    )]
    Conflict(CheckpointLocation),
    #[error(
        "the audit checkpoint {location} holds unreadable data ({reason}); it was left as it is"
    )]
    Malformed {
        location: CheckpointLocation,
        reason: String,
    },
    #[error("the Kubernetes API did not answer for the audit checkpoint {location}: {source}")]
    Api {
        location: CheckpointLocation,
        #[source]
        source: kube::Error,
    },
    #[error("the store did not answer: {0}")]
    Store(#[from] crate::store::StoreError),
}

impl AnchorError {
    fn from_kube(location: &CheckpointLocation, err: kube::Error) -> AnchorError {
        match &err {
            kube::Error::Api(status) if status.code == 404 => {
                AnchorError::Missing(location.clone())
            }
            kube::Error::Api(status) if status.code == 403 => {
                AnchorError::Forbidden(location.clone())
            }
            kube::Error::Api(status) if status.code == 409 => {
                AnchorError::Conflict(location.clone())
            }
            _ => AnchorError::Api {
                location: location.clone(),
                source: err,
            },
        }
    }
}

/// The checkpoint as stored, with the object's resourceVersion (the precondition of the next write).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredCheckpoint {
    /// None while the object holds no checkpoint.
    pub checkpoint: Option<AuditCheckpoint>,
    pub resource_version: Option<String>,
}

fn api(client: &kube::Client, location: &CheckpointLocation) -> Api<ConfigMap> {
    Api::namespaced(client.clone(), &location.namespace)
}

/// Reads the checkpoint (a `get` of the named ConfigMap).
pub async fn read_checkpoint(
    client: &kube::Client,
    location: &CheckpointLocation,
) -> Result<StoredCheckpoint, AnchorError> {
    let cm = api(client, location)
        .get(&location.name)
        .await
        .map_err(|e| AnchorError::from_kube(location, e))?;
    let checkpoint = decode(cm.data.as_ref()).map_err(|reason| AnchorError::Malformed {
        location: location.clone(),
        reason,
    })?;
    Ok(StoredCheckpoint {
        checkpoint,
        resource_version: cm.metadata.resource_version,
    })
}

/// Replaces the checkpoint (`None` clears it) if the object is still at `resource_version` (an `update`; a
/// concurrent change answers 409 → [`AnchorError::Conflict`]). Returns the new resourceVersion.
pub async fn write_checkpoint(
    client: &kube::Client,
    location: &CheckpointLocation,
    checkpoint: Option<&AuditCheckpoint>,
    resource_version: Option<String>,
) -> Result<Option<String>, AnchorError> {
    let mut cm = ConfigMap::default();
    cm.metadata.name = Some(location.name.clone());
    cm.metadata.namespace = Some(location.namespace.clone());
    cm.metadata.resource_version = resource_version;
    cm.data = checkpoint.map(encode);
    let stored = api(client, location)
        .replace(&location.name, &PostParams::default(), &cm)
        .await
        .map_err(|e| AnchorError::from_kube(location, e))?;
    Ok(stored.metadata.resource_version)
}

fn encode(cp: &AuditCheckpoint) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("seq".to_string(), cp.seq.to_string()),
        ("mac".to_string(), cp.mac.clone()),
        (
            "at".to_string(),
            cp.at.to_rfc3339_opts(SecondsFormat::Micros, true),
        ),
        ("signature".to_string(), cp.signature.clone()),
    ])
}

fn decode(data: Option<&BTreeMap<String, String>>) -> Result<Option<AuditCheckpoint>, String> {
    let Some(data) = data.filter(|d| d.contains_key("seq")) else {
        return Ok(None);
    };
    let field = |key: &str| {
        data.get(key)
            .cloned()
            .ok_or_else(|| format!("`{key}` is missing"))
    };
    let seq = field("seq")?
        .parse::<i64>()
        .map_err(|e| format!("`seq` is not a number: {e}"))?;
    let at = DateTime::parse_from_rfc3339(&field("at")?)
        .map_err(|e| format!("`at` is not an RFC 3339 time: {e}"))?
        .with_timezone(&Utc);
    Ok(Some(AuditCheckpoint {
        seq,
        mac: field("mac")?,
        at,
        signature: field("signature")?,
    }))
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;

    use super::*;
    use crate::audit::AuditKey;

    #[test]
    fn a_checkpoint_survives_the_config_map() {
        let key = AuditKey::new(SecretString::from("config-map-unit-test-key")).expect("key");
        let cp = AuditCheckpoint::sign(&key, 12, "abcd", Utc::now());
        let back = decode(Some(&encode(&cp))).expect("decodes");
        assert_eq!(back.as_ref(), Some(&cp));
        assert!(back.is_some_and(|b| b.is_signed_by(&key)));
        assert_eq!(decode(None), Ok(None));
        assert_eq!(decode(Some(&BTreeMap::new())), Ok(None));
        let mut bad = encode(&cp);
        bad.insert("seq".into(), "twelve".into());
        assert!(decode(Some(&bad)).is_err());
    }
}
