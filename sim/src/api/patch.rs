//! PATCH bodies: JSON patch (RFC 6902), JSON merge patch (RFC 7386) and strategic merge patch (lists of
//! containers, ports, env, volumes … merged by key; `$setElementOrder`, `$retainKeys` ignored; `$patch:
//! delete|replace` honoured).

use serde_json::{Map, Value};

use super::status::{ApiError, ApiResult};

/// The patch types the server accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchType {
    Json,
    Merge,
    Strategic,
}

impl PatchType {
    /// From a Content-Type (parameters ignored); unknown → 415.
    pub fn from_content_type(ct: &str) -> ApiResult<PatchType> {
        match ct.split(';').next().unwrap_or("").trim() {
            "application/json-patch+json" => Ok(PatchType::Json),
            "application/merge-patch+json" => Ok(PatchType::Merge),
            "application/strategic-merge-patch+json" => Ok(PatchType::Strategic),
            _ => Err(ApiError::unsupported_media_type(ct)),
        }
    }
}

/// Applies a patch body to `target`. Malformed JSON → 400; a JSON patch that cannot apply → 422.
pub fn apply(target: &Value, patch_type: PatchType, body: &[u8]) -> ApiResult<Value> {
    let patch: Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(format!(
            "error decoding patch: {e}; the body must be valid JSON"
        ))
    })?;
    let mut out = target.clone();
    match patch_type {
        PatchType::Json => {
            let ops: json_patch::Patch = serde_json::from_value(patch).map_err(|e| {
                ApiError::bad_request(format!(
                    "error decoding JSON patch: {e}; expected an array of operations"
                ))
            })?;
            json_patch::patch(&mut out, &ops).map_err(|e| {
                ApiError::unprocessable(format!("the JSON patch could not be applied: {e}"))
            })?;
        }
        PatchType::Merge => {
            require_object(&patch)?;
            json_patch::merge(&mut out, &patch);
        }
        PatchType::Strategic => {
            require_object(&patch)?;
            strategic_merge(&mut out, &patch, "");
        }
    }
    Ok(out)
}

fn require_object(patch: &Value) -> ApiResult<()> {
    if patch.is_object() {
        Ok(())
    } else {
        Err(ApiError::bad_request("a merge patch must be a JSON object"))
    }
}

/// The merge key of a list field, by field name (what the Kubernetes schema declares for the fields we serve).
fn merge_key(field: &str) -> Option<&'static str> {
    match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "env"
        | "volumes"
        | "imagePullSecrets"
        | "hostAliases" => Some("name"),
        "ports" => Some("containerPort"),
        "volumeMounts" => Some("mountPath"),
        "volumeDevices" => Some("devicePath"),
        "conditions" => Some("type"),
        "tolerations" | "topologySpreadConstraints" => None,
        _ => None,
    }
}

fn strategic_merge(target: &mut Value, patch: &Value, field: &str) {
    let Some(pmap) = patch.as_object() else {
        *target = patch.clone();
        return;
    };
    if pmap.get("$patch").and_then(Value::as_str) == Some("replace") {
        let mut replaced = pmap.clone();
        replaced.remove("$patch");
        *target = Value::Object(replaced);
        return;
    }
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Some(tmap) = target.as_object_mut() else {
        return;
    };
    for (k, v) in pmap {
        if k.starts_with('$') {
            continue; // $setElementOrder/…, $retainKeys, $deleteFromPrimitiveList/…: ordering hints only
        }
        if v.is_null() {
            tmap.remove(k);
            continue;
        }
        match (tmap.get_mut(k), v) {
            (Some(existing @ Value::Array(_)), Value::Array(items)) => match merge_key(k) {
                Some(key) => merge_list(existing, items, key),
                None => *existing = v.clone(),
            },
            (Some(existing @ Value::Object(_)), Value::Object(_)) => {
                strategic_merge(existing, v, k)
            }
            (_, Value::Object(_)) => {
                let mut fresh = Value::Object(Map::new());
                strategic_merge(&mut fresh, v, k);
                tmap.insert(k.clone(), fresh);
            }
            (_, Value::Array(items)) => {
                let cleaned: Vec<Value> = items
                    .iter()
                    .filter(|i| i.get("$patch").is_none())
                    .cloned()
                    .collect();
                tmap.insert(k.clone(), Value::Array(cleaned));
            }
            _ => {
                tmap.insert(k.clone(), v.clone());
            }
        }
    }
    let _ = field;
}

fn merge_list(existing: &mut Value, items: &[Value], key: &str) {
    let Some(list) = existing.as_array_mut() else {
        return;
    };
    for item in items {
        let Some(id) = item.get(key) else {
            list.push(item.clone());
            continue;
        };
        let pos = list.iter().position(|e| e.get(key) == Some(id));
        let directive = item.get("$patch").and_then(Value::as_str);
        match (pos, directive) {
            (Some(i), Some("delete")) => {
                list.remove(i);
            }
            (None, Some("delete")) => {}
            (Some(i), Some("replace")) => {
                let mut replaced = item.clone();
                if let Some(m) = replaced.as_object_mut() {
                    m.remove("$patch");
                }
                list[i] = replaced;
            }
            (Some(i), _) => strategic_merge(&mut list[i], item, key),
            (None, _) => {
                let mut fresh = Value::Object(Map::new());
                strategic_merge(&mut fresh, item, key);
                list.push(fresh);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment() -> Value {
        json!({"spec": {"template": {"spec": {"containers": [
            {"name": "api", "image": "a:1", "ports": [{"containerPort": 8000}]},
            {"name": "sidecar", "image": "s:1"}
        ]}}}})
    }

    #[test]
    fn strategic_merges_containers_by_name() {
        let body = br#"{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"api"},{"name":"sidecar"}],"containers":[{"image":"a:2","name":"api"}]}}}}"#;
        let out = apply(&deployment(), PatchType::Strategic, body).expect("applies");
        let cs = &out["spec"]["template"]["spec"]["containers"];
        assert_eq!(cs[0]["image"], "a:2");
        assert_eq!(cs[0]["ports"][0]["containerPort"], 8000);
        assert_eq!(cs[1]["image"], "s:1");
    }

    #[test]
    fn merge_replaces_lists_and_json_patch_fails_cleanly() {
        let out = apply(
            &deployment(),
            PatchType::Merge,
            br#"{"spec":{"template":{"spec":{"containers":[{"name":"x"}]}}}}"#,
        )
        .expect("applies");
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"]
                .as_array()
                .map(Vec::len),
            Some(1)
        );
        let err = apply(
            &deployment(),
            PatchType::Json,
            br#"[{"op":"replace","path":"/nope/x","value":1}]"#,
        )
        .unwrap_err();
        assert_eq!(err.code.as_u16(), 422);
        assert_eq!(
            apply(&deployment(), PatchType::Merge, b"{nope")
                .unwrap_err()
                .code
                .as_u16(),
            400
        );
        assert_eq!(
            PatchType::from_content_type("application/apply-patch+yaml")
                .unwrap_err()
                .code
                .as_u16(),
            415
        );
    }
}
