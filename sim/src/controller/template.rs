//! Pod templates compared by meaning: kubectl sends a ReplicaSet's template back (without `pod-template-hash`,
//! with `creationTimestamp: null`), so equality ignores those and empty fields; and the `pod-template-hash`.

use k8s_openapi::api::core::v1::PodTemplateSpec;
use serde_json::Value;

use super::pods::fnv;

/// The label a ReplicaSet adds to its template and selector.
pub const HASH_LABEL: &str = "pod-template-hash";

/// A canonical string for a template: same meaning ⇒ same key.
pub fn template_key(t: &PodTemplateSpec) -> String {
    let mut v = serde_json::to_value(t).unwrap_or(Value::Null);
    if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("creationTimestamp");
        if let Some(labels) = meta.get_mut("labels").and_then(Value::as_object_mut) {
            labels.remove(HASH_LABEL);
        }
    }
    prune(&mut v);
    v.to_string()
}

/// Removes nulls, empty objects and empty arrays, recursively.
fn prune(v: &mut Value) -> bool {
    match v {
        Value::Null => false,
        Value::Object(map) => {
            map.retain(|_, child| prune(child));
            !map.is_empty()
        }
        Value::Array(items) => {
            for item in items.iter_mut() {
                prune(item);
            }
            !items.is_empty()
        }
        _ => true,
    }
}

/// A pod-template-hash in the alphabet Kubernetes uses for generated names (10 characters).
pub fn template_hash(t: &PodTemplateSpec) -> String {
    safe_encode(fnv(template_key(t).as_bytes()), 10)
}

/// Encodes a number with Kubernetes' "safe" alphabet (no vowels, no look-alikes).
pub fn safe_encode(mut n: u64, len: usize) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut out = String::with_capacity(len);
    for _ in 0..len {
        out.push(ALPHABET[(n % ALPHABET.len() as u64) as usize] as char);
        n /= ALPHABET.len() as u64;
        if n == 0 {
            n = fnv(out.as_bytes());
        }
    }
    out
}

/// A random 5-character pod name suffix.
pub fn random_suffix() -> String {
    safe_encode(rand::random::<u64>(), 5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_ignores_hash_label_and_null_timestamp() {
        let a: PodTemplateSpec = serde_json::from_value(serde_json::json!({
            "metadata": {"labels": {"app": "x"}},
            "spec": {"containers": [{"name": "c", "image": "i:1"}]}
        }))
        .expect("valid template");
        let b: PodTemplateSpec = serde_json::from_value(serde_json::json!({
            "metadata": {"labels": {"app": "x", "pod-template-hash": "abc"}, "creationTimestamp": null},
            "spec": {"containers": [{"name": "c", "image": "i:1", "resources": {}}]}
        }))
        .expect("valid template");
        assert_eq!(template_key(&a), template_key(&b));
        assert_eq!(template_hash(&a).len(), 10);
    }
}
