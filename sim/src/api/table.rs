//! Server-side Table output (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`): the columns and cells a
//! real API server renders for pods, deployments, replicasets, namespaces and events.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::clock::{elapsed, human_age};

/// Whether the Accept header asks for a Table.
pub fn wants_table(accept: &str) -> bool {
    accept.split(',').any(|p| p.contains("as=Table"))
}

/// What each row carries as `object` (`includeObject`: None, Metadata (default), Object).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Include {
    None,
    Metadata,
    Object,
}

impl Include {
    /// From the `includeObject` query parameter.
    pub fn from_query(v: Option<&str>) -> Include {
        match v {
            Some("None") => Include::None,
            Some("Object") => Include::Object,
            _ => Include::Metadata,
        }
    }
}

fn col(name: &str, ty: &str, priority: u8, description: &str) -> Value {
    let format = if name == "Name" { "name" } else { "" };
    json!({"name": name, "type": ty, "format": format, "description": description, "priority": priority})
}

fn columns(kind: &str) -> Vec<Value> {
    let name = col(
        "Name",
        "string",
        0,
        "Name must be unique within a namespace.",
    );
    let age = col(
        "Age",
        "string",
        0,
        "CreationTimestamp is a timestamp representing the server time when this object was created.",
    );
    match kind {
        "Pod" => vec![
            name,
            col(
                "Ready",
                "string",
                0,
                "The aggregate readiness state of this pod for accepting traffic.",
            ),
            col(
                "Status",
                "string",
                0,
                "The aggregate status of the containers in this pod.",
            ),
            col(
                "Restarts",
                "string",
                0,
                "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
            ),
            age,
            col("IP", "string", 1, "IP address allocated to the pod."),
            col(
                "Node",
                "string",
                1,
                "Name of the Node this pod is scheduled on.",
            ),
            col(
                "Nominated Node",
                "string",
                1,
                "Name of the Node this pod is nominated to run on.",
            ),
            col("Readiness Gates", "string", 1, "The pod's readiness gates."),
        ],
        "Deployment" => vec![
            name,
            col("Ready", "string", 0, "Number of the pod with ready state"),
            col(
                "Up-to-date",
                "integer",
                0,
                "Total number of non-terminated pods targeted by this deployment that have the desired template spec.",
            ),
            col(
                "Available",
                "integer",
                0,
                "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.",
            ),
            age,
            col(
                "Containers",
                "string",
                1,
                "Names of each container in the template.",
            ),
            col(
                "Images",
                "string",
                1,
                "Images referenced by each container in the template.",
            ),
            col("Selector", "string", 1, "Label selector for pods."),
        ],
        "ReplicaSet" => vec![
            name,
            col(
                "Desired",
                "integer",
                0,
                "Replicas is the number of desired replicas.",
            ),
            col(
                "Current",
                "integer",
                0,
                "Replicas is the most recently observed number of replicas.",
            ),
            col(
                "Ready",
                "integer",
                0,
                "The number of ready replicas for this replica set.",
            ),
            age,
            col(
                "Containers",
                "string",
                1,
                "Names of each container in the template.",
            ),
            col(
                "Images",
                "string",
                1,
                "Images referenced by each container in the template.",
            ),
            col("Selector", "string", 1, "Label selector for pods."),
        ],
        "Namespace" => vec![
            name,
            col("Status", "string", 0, "The status of the namespace"),
            age,
        ],
        "Event" => vec![
            col(
                "Last Seen",
                "string",
                0,
                "Time when this Event was last observed.",
            ),
            col("Type", "string", 0, "Type of this event."),
            col(
                "Reason",
                "string",
                0,
                "Short, machine understandable string.",
            ),
            col("Object", "string", 0, "The object this Event is about."),
            col(
                "Message",
                "string",
                0,
                "A human-readable description of the status of this operation.",
            ),
        ],
        _ => vec![name, col("Created At", "date", 0, "CreationTimestamp")],
    }
}

fn time(v: &Value) -> Option<DateTime<Utc>> {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
}

fn age(obj: &Value, field: &Value, now: DateTime<Utc>) -> String {
    let _ = obj;
    time(field)
        .map(|t| human_age(elapsed(t, now)))
        .unwrap_or_else(|| "<unknown>".into())
}

fn cells(kind: &str, o: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let name = json!(o["metadata"]["name"]);
    let created = age(o, &o["metadata"]["creationTimestamp"], now);
    match kind {
        "Pod" => pod_cells(o, now),
        "Deployment" => {
            let s = &o["status"];
            let n = |v: &Value| v.as_i64().unwrap_or(0);
            let (containers, images) = template_columns(&o["spec"]["template"]);
            vec![
                name,
                json!(format!(
                    "{}/{}",
                    n(&s["readyReplicas"]),
                    n(&o["spec"]["replicas"])
                )),
                json!(n(&s["updatedReplicas"])),
                json!(n(&s["availableReplicas"])),
                json!(created),
                json!(containers),
                json!(images),
                json!(selector_string(&o["spec"]["selector"])),
            ]
        }
        "ReplicaSet" => {
            let s = &o["status"];
            let n = |v: &Value| v.as_i64().unwrap_or(0);
            let (containers, images) = template_columns(&o["spec"]["template"]);
            vec![
                name,
                json!(n(&o["spec"]["replicas"])),
                json!(n(&s["replicas"])),
                json!(n(&s["readyReplicas"])),
                json!(created),
                json!(containers),
                json!(images),
                json!(selector_string(&o["spec"]["selector"])),
            ]
        }
        "Namespace" => vec![
            name,
            json!(o["status"]["phase"].as_str().unwrap_or("Active")),
            json!(created),
        ],
        "Event" => {
            let io = &o["involvedObject"];
            let object = format!(
                "{}/{}",
                io["kind"].as_str().unwrap_or("").to_lowercase(),
                io["name"].as_str().unwrap_or("")
            );
            vec![
                json!(age(o, &o["lastTimestamp"], now)),
                json!(o["type"]),
                json!(o["reason"]),
                json!(object),
                json!(o["message"]),
            ]
        }
        _ => vec![name, json!(o["metadata"]["creationTimestamp"])],
    }
}

fn template_columns(t: &Value) -> (String, String) {
    let containers = t["spec"]["containers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let names: Vec<&str> = containers
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    let images: Vec<&str> = containers
        .iter()
        .filter_map(|c| c["image"].as_str())
        .collect();
    (names.join(","), images.join(","))
}

fn selector_string(sel: &Value) -> String {
    let Some(m) = sel["matchLabels"].as_object() else {
        return "<none>".into();
    };
    m.iter()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
        .collect::<Vec<_>>()
        .join(",")
}

/// Pod columns, following kubectl's printPod.
fn pod_cells(o: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let statuses = o["status"]["containerStatuses"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let total = o["spec"]["containers"]
        .as_array()
        .map(Vec::len)
        .unwrap_or(0);
    let ready = statuses
        .iter()
        .filter(|c| c["ready"] == json!(true))
        .count();
    let restarts: i64 = statuses
        .iter()
        .map(|c| c["restartCount"].as_i64().unwrap_or(0))
        .sum();
    let last_restart = statuses
        .iter()
        .filter_map(|c| time(&c["lastState"]["terminated"]["finishedAt"]))
        .max();
    let mut reason = o["status"]["reason"]
        .as_str()
        .or(o["status"]["phase"].as_str())
        .unwrap_or("Unknown")
        .to_string();
    let mut has_running = false;
    for c in statuses.iter().rev() {
        let state = &c["state"];
        if let Some(r) = state["waiting"]["reason"]
            .as_str()
            .filter(|r| !r.is_empty())
        {
            reason = r.to_string();
        } else if let Some(r) = state["terminated"]["reason"]
            .as_str()
            .filter(|r| !r.is_empty())
        {
            reason = r.to_string();
        } else if state["running"].is_object() && c["ready"] == json!(true) {
            has_running = true;
        }
    }
    if reason == "Completed" && has_running {
        reason = "Running".into();
    }
    if o["metadata"]["deletionTimestamp"].is_string() {
        reason = "Terminating".into();
    }
    let restarts_cell = match last_restart {
        Some(t) if restarts > 0 => format!("{restarts} ({} ago)", human_age(elapsed(t, now))),
        _ => restarts.to_string(),
    };
    vec![
        json!(o["metadata"]["name"]),
        json!(format!("{ready}/{total}")),
        json!(reason),
        json!(restarts_cell),
        json!(age(o, &o["metadata"]["creationTimestamp"], now)),
        json!(o["status"]["podIP"].as_str().unwrap_or("<none>")),
        json!(o["spec"]["nodeName"].as_str().unwrap_or("<none>")),
        json!("<none>"),
        json!("<none>"),
    ]
}

/// A Table of `objects` (JSON) of `kind`, at list resourceVersion `rv`.
pub fn table(
    kind: &str,
    objects: &[&Value],
    rv: &str,
    include: Include,
    now: DateTime<Utc>,
) -> Value {
    let rows: Vec<Value> = objects
        .iter()
        .map(|o| {
            let mut row = json!({"cells": cells(kind, o, now)});
            match include {
                Include::None => {}
                Include::Object => row["object"] = (*o).clone(),
                Include::Metadata => {
                    row["object"] = json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": o["metadata"]})
                }
            }
            row
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": rv},
        "columnDefinitions": columns(kind),
        "rows": rows,
    })
}
