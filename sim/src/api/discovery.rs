//! What the server serves and how it tells clients: `/version`, and discovery in the aggregated form
//! (apidiscovery.k8s.io v2 and v2beta1) and the legacy form (APIVersions, APIGroupList, APIResourceList).

use serde_json::{Value, json};

/// A subresource: `(name, (group, version, kind) of the answer, verbs)`.
pub type Subresource = (
    &'static str,
    (&'static str, &'static str, &'static str),
    &'static [&'static str],
);

/// One served resource.
pub struct ResourceInfo {
    pub group: &'static str,
    pub version: &'static str,
    /// Plural name, as in URLs.
    pub plural: &'static str,
    pub singular: &'static str,
    pub kind: &'static str,
    pub namespaced: bool,
    pub verbs: &'static [&'static str],
    pub short_names: &'static [&'static str],
    /// `(name, (group, version, kind) of the answer, verbs)`.
    pub subresources: &'static [Subresource],
}

const RW: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];
const GPU: &[&str] = &["get", "patch", "update"];

/// Everything the server serves.
pub const RESOURCES: &[ResourceInfo] = &[
    ResourceInfo {
        group: "",
        version: "v1",
        plural: "pods",
        singular: "pod",
        kind: "Pod",
        namespaced: true,
        verbs: RW,
        short_names: &["po"],
        subresources: &[
            ("log", ("", "v1", "Pod"), &["get"]),
            (
                "proxy",
                ("", "v1", "PodProxyOptions"),
                &["create", "delete", "get", "patch", "update"],
            ),
            ("status", ("", "v1", "Pod"), GPU),
        ],
    },
    ResourceInfo {
        group: "",
        version: "v1",
        plural: "namespaces",
        singular: "namespace",
        kind: "Namespace",
        namespaced: false,
        verbs: &["get", "list", "watch"],
        short_names: &["ns"],
        subresources: &[],
    },
    ResourceInfo {
        group: "",
        version: "v1",
        plural: "events",
        singular: "event",
        kind: "Event",
        namespaced: true,
        verbs: &["get", "list", "watch"],
        short_names: &["ev"],
        subresources: &[],
    },
    ResourceInfo {
        group: "",
        version: "v1",
        plural: "configmaps",
        singular: "configmap",
        kind: "ConfigMap",
        namespaced: true,
        verbs: &["create", "get", "list", "update", "watch"],
        short_names: &["cm"],
        subresources: &[],
    },
    ResourceInfo {
        group: "apps",
        version: "v1",
        plural: "deployments",
        singular: "deployment",
        kind: "Deployment",
        namespaced: true,
        verbs: RW,
        short_names: &["deploy"],
        subresources: &[
            ("scale", ("autoscaling", "v1", "Scale"), GPU),
            ("status", ("apps", "v1", "Deployment"), GPU),
        ],
    },
    ResourceInfo {
        group: "apps",
        version: "v1",
        plural: "replicasets",
        singular: "replicaset",
        kind: "ReplicaSet",
        namespaced: true,
        verbs: &["get", "list", "watch"],
        short_names: &["rs"],
        subresources: &[("status", ("apps", "v1", "ReplicaSet"), &["get"])],
    },
    ResourceInfo {
        group: "metrics.k8s.io",
        version: "v1beta1",
        plural: "pods",
        singular: "",
        kind: "PodMetrics",
        namespaced: true,
        verbs: &["get", "list"],
        short_names: &[],
        subresources: &[],
    },
];

/// The served resource for `(group, version, plural)`.
pub fn find(group: &str, version: &str, plural: &str) -> Option<&'static ResourceInfo> {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.version == version && r.plural == plural)
}

/// The API groups (besides core), each with its one version.
const GROUPS: &[(&str, &str)] = &[("apps", "v1"), ("metrics.k8s.io", "v1beta1")];

/// The `/version` answer: minor 32, so kubectl's version dispatcher runs kubectl 1.32.
pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": "32",
        "emulationMajor": "1",
        "emulationMinor": "32",
        "gitVersion": "v1.32.4-mystocks-sim",
        "gitCommit": "59526cd4867447956156ae3a602fcbac10a2c335",
        "gitTreeState": "clean",
        "buildDate": "2025-04-22T15:56:55Z",
        "goVersion": "go1.23.8",
        "compiler": "gc",
        "platform": "linux/amd64"
    })
}

/// Which aggregated discovery version the Accept header asks for, if any.
pub fn aggregated_version(accept: &str) -> Option<&'static str> {
    let offered: Vec<&str> = accept
        .split(',')
        .filter_map(|part| {
            let params: Vec<&str> = part.split(';').map(str::trim).collect();
            if !params.contains(&"g=apidiscovery.k8s.io") {
                return None;
            }
            params.iter().find_map(|p| p.strip_prefix("v="))
        })
        .collect();
    ["v2", "v2beta1"].into_iter().find(|v| offered.contains(v))
}

/// The Content-Type of an aggregated discovery answer.
pub fn aggregated_content_type(v: &str) -> String {
    format!("application/json;g=apidiscovery.k8s.io;v={v};as=APIGroupDiscoveryList")
}

fn resource_entry(r: &ResourceInfo) -> Value {
    let subresources: Vec<Value> = r
        .subresources
        .iter()
        .map(|(name, (g, v, k), verbs)| {
            json!({"subresource": name, "responseKind": {"group": g, "version": v, "kind": k}, "verbs": verbs})
        })
        .collect();
    let mut entry = json!({
        "resource": r.plural,
        "responseKind": {"group": r.group, "version": r.version, "kind": r.kind},
        "scope": if r.namespaced { "Namespaced" } else { "Cluster" },
        "singularResource": r.singular,
        "verbs": r.verbs,
    });
    if !r.short_names.is_empty() {
        entry["shortNames"] = json!(r.short_names);
    }
    if matches!(r.plural, "pods" | "deployments" | "replicasets") && r.group != "metrics.k8s.io" {
        entry["categories"] = json!(["all"]);
    }
    if !subresources.is_empty() {
        entry["subresources"] = json!(subresources);
    }
    entry
}

fn group_entry(group: &str, version: &str) -> Value {
    let resources: Vec<Value> = RESOURCES
        .iter()
        .filter(|r| r.group == group && r.version == version)
        .map(resource_entry)
        .collect();
    json!({
        "metadata": {"name": group, "creationTimestamp": null},
        "versions": [{"version": version, "resources": resources, "freshness": "Current"}]
    })
}

/// Aggregated discovery for `/api` (core) or `/apis` (groups).
pub fn aggregated(core: bool, v: &str) -> Value {
    let items: Vec<Value> = if core {
        vec![group_entry("", "v1")]
    } else {
        GROUPS.iter().map(|(g, ver)| group_entry(g, ver)).collect()
    };
    json!({"kind": "APIGroupDiscoveryList", "apiVersion": format!("apidiscovery.k8s.io/{v}"), "metadata": {}, "items": items})
}

/// Legacy `/api`.
pub fn api_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]
    })
}

fn api_group(group: &str, version: &str) -> Value {
    let gv = json!({"groupVersion": format!("{group}/{version}"), "version": version});
    json!({"name": group, "versions": [gv.clone()], "preferredVersion": gv})
}

/// Legacy `/apis`.
pub fn api_group_list() -> Value {
    let groups: Vec<Value> = GROUPS.iter().map(|(g, v)| api_group(g, v)).collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// Legacy `/apis/{group}`, if served.
pub fn group(group: &str) -> Option<Value> {
    let (g, v) = GROUPS.iter().find(|(g, _)| *g == group)?;
    let mut value = api_group(g, v);
    value["kind"] = json!("APIGroup");
    value["apiVersion"] = json!("v1");
    Some(value)
}

/// Legacy `/api/v1` or `/apis/{group}/{version}`, if served.
pub fn resource_list(group: &str, version: &str) -> Option<Value> {
    let served: Vec<&ResourceInfo> = RESOURCES
        .iter()
        .filter(|r| r.group == group && r.version == version)
        .collect();
    if served.is_empty() {
        return None;
    }
    let mut resources = Vec::new();
    for r in served {
        let mut entry = json!({
            "name": r.plural, "singularName": r.singular, "namespaced": r.namespaced, "kind": r.kind, "verbs": r.verbs,
        });
        if !r.short_names.is_empty() {
            entry["shortNames"] = json!(r.short_names);
        }
        resources.push(entry);
        for (sub, (g, v, k), verbs) in r.subresources {
            let mut e = json!({"name": format!("{}/{sub}", r.plural), "singularName": "", "namespaced": r.namespaced,
                "kind": k, "verbs": verbs});
            if !g.is_empty() {
                e["group"] = json!(g);
                e["version"] = json!(v);
            }
            resources.push(e);
        }
    }
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some(
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_negotiation() {
        let kubectl = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
        assert_eq!(aggregated_version(kubectl), Some("v2"));
        assert_eq!(
            aggregated_version(
                "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
            ),
            Some("v2beta1")
        );
        assert_eq!(aggregated_version("application/json"), None);
    }
}
