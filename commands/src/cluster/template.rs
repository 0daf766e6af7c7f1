//! Pod templates compared like the deployment controller does: ignoring the `pod-template-hash` label and fields
//! that only differ by being absent or empty (kubectl's `EqualIgnoreHash`).

use k8s_openapi::api::core::v1::PodTemplateSpec;
use serde_json::Value;

/// The label the deployment controller adds to each ReplicaSet's template.
pub const POD_TEMPLATE_HASH: &str = "pod-template-hash";

/// A copy of `template` without the `pod-template-hash` label (what kubectl patches into the deployment).
pub fn without_hash(template: &PodTemplateSpec) -> PodTemplateSpec {
    let mut t = template.clone();
    if let Some(meta) = t.metadata.as_mut() {
        if let Some(labels) = meta.labels.as_mut() {
            labels.remove(POD_TEMPLATE_HASH);
        }
        meta.creation_timestamp = None;
    }
    t
}

/// Whether two templates describe the same pods, ignoring the hash label, creation timestamps and empty values.
pub fn equal_ignoring_hash(a: &PodTemplateSpec, b: &PodTemplateSpec) -> bool {
    normalized(a) == normalized(b)
}

/// The template as JSON with the hash label, creation timestamp, nulls and empty maps/lists removed.
pub fn normalized(template: &PodTemplateSpec) -> Value {
    let mut v = serde_json::to_value(without_hash(template)).unwrap_or(Value::Null);
    prune(&mut v);
    v
}

/// Removes nulls, empty objects and empty arrays, recursively; returns whether `v` itself is now empty.
fn prune(v: &mut Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(map) => {
            map.retain(|_, child| !prune(child));
            map.is_empty()
        }
        Value::Array(items) => {
            for item in items.iter_mut() {
                prune(item);
            }
            items.is_empty()
        }
        _ => false,
    }
}

/// The `(container, image)` pairs of a template, in spec order.
pub fn images(template: &PodTemplateSpec) -> Vec<(String, String)> {
    template
        .spec
        .as_ref()
        .map(|s| {
            s.containers
                .iter()
                .map(|c| (c.name.clone(), c.image.clone().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default()
}

/// The image of `container` in the template, or, if there is no such container, all images joined with `, `.
pub fn image_of(template: &PodTemplateSpec, container: &str) -> String {
    let all = images(template);
    all.iter()
        .find(|(name, _)| name == container)
        .map(|(_, image)| image.clone())
        .unwrap_or_else(|| {
            all.into_iter()
                .map(|(_, i)| i)
                .collect::<Vec<_>>()
                .join(", ")
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn template(v: serde_json::Value) -> PodTemplateSpec {
        serde_json::from_value(v).expect("template")
    }

    #[test]
    fn hash_label_and_empty_fields_do_not_matter() {
        let rs = template(json!({
            "metadata": {"labels": {"app": "a", "pod-template-hash": "5d8f"}, "creationTimestamp": null},
            "spec": {"containers": [{"name": "a", "image": "mystocks/api:v1.0.0", "env": []}]}
        }));
        let dep = template(json!({
            "metadata": {"labels": {"app": "a"}, "annotations": {}},
            "spec": {"containers": [{"name": "a", "image": "mystocks/api:v1.0.0"}]}
        }));
        assert!(equal_ignoring_hash(&rs, &dep));
        let stripped = without_hash(&rs);
        let labels = stripped.metadata.and_then(|m| m.labels).expect("labels");
        assert!(!labels.contains_key(POD_TEMPLATE_HASH));
        assert_eq!(labels.get("app").map(String::as_str), Some("a"));
    }

    #[test]
    fn images_and_annotations_do_matter() {
        let a = template(json!({"spec": {"containers": [{"name": "a", "image": "x:1"}]}}));
        let b = template(json!({"spec": {"containers": [{"name": "a", "image": "x:2"}]}}));
        assert!(!equal_ignoring_hash(&a, &b));
        let restarted = template(json!({
            "metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "2026-11-28T14:00:00Z"}},
            "spec": {"containers": [{"name": "a", "image": "x:1"}]}
        }));
        assert!(!equal_ignoring_hash(&a, &restarted));
        assert_eq!(image_of(&a, "a"), "x:1");
        assert_eq!(image_of(&a, "other"), "x:1");
        assert_eq!(images(&PodTemplateSpec::default()), vec![]);
    }
}
