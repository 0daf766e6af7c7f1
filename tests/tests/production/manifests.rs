//! Every overlay renders with the real `kubectl kustomize`, and what it renders is what the operator guide
//! promises: the bot in its own namespace, the Role in the operated one, probes on the ops port, replicas.

use mystocks_tests::rbac::{self, RenderedRole, find};
use serde_yaml::Value;

fn render(overlay: &str) -> Vec<Value> {
    let dir = rbac::deploy_dir().join("overlays").join(overlay);
    rbac::kustomize(&dir).unwrap_or_else(|e| panic!("overlay {overlay}: {e}"))
}

fn deployment(objects: &[Value]) -> &Value {
    find(objects, "Deployment", "mystocks-bot").expect("a Deployment named mystocks-bot")
}

#[test]
fn every_overlay_renders_with_its_replica_count_and_store() {
    let overlays = rbac::overlays();
    assert_eq!(
        overlays,
        ["ha", "ha-matrix", "single"],
        "overlays under deploy/overlays"
    );
    let ha = render("ha");
    assert_eq!(deployment(&ha)["spec"]["replicas"].as_i64(), Some(3));
    let env =
        serde_yaml::to_string(&deployment(&ha)["spec"]["template"]["spec"]["containers"][0]["env"])
            .expect("env");
    assert!(
        env.contains("MYSTOCKS_BOT__STORE__URL")
            && env.contains("MYSTOCKS_BOT__COORDINATOR__REDIS_URL"),
        "{env}"
    );
    assert_eq!(
        find(&ha, "PodDisruptionBudget", "mystocks-bot")
            .map(|p| p["spec"]["minAvailable"].as_i64()),
        Some(Some(2))
    );

    let single = render("single");
    let d = deployment(&single);
    assert_eq!(d["spec"]["replicas"].as_i64(), Some(1));
    assert_eq!(d["spec"]["strategy"]["type"].as_str(), Some("Recreate"));
    assert!(
        find(&single, "PersistentVolumeClaim", "mystocks-bot-data").is_some(),
        "SQLite needs a volume"
    );
    assert!(
        find(&single, "PodDisruptionBudget", "mystocks-bot").is_none(),
        "one replica: a PDB would block drains"
    );
    let volumes =
        serde_yaml::to_string(&d["spec"]["template"]["spec"]["volumes"]).expect("volumes");
    assert!(
        volumes.contains("claimName: mystocks-bot-data"),
        "{volumes}"
    );
}

#[test]
fn the_bot_runs_in_its_own_namespace_and_its_role_in_the_operated_one() {
    for overlay in rbac::overlays() {
        let objects = render(&overlay);
        for o in &objects {
            let kind = o["kind"].as_str().unwrap_or_default();
            let ns = o["metadata"]["namespace"].as_str();
            match kind {
                "Namespace" => assert_eq!(o["metadata"]["name"].as_str(), Some("mystocks-bot")),
                // The audit checkpoint's Role lives with its ConfigMap, in the bot's own namespace.
                "Role" | "RoleBinding"
                    if o["metadata"]["name"].as_str() == Some(rbac::CHECKPOINT_ROLE) =>
                {
                    assert_eq!(ns, Some("mystocks-bot"), "{overlay}: {kind}")
                }
                "Role" | "RoleBinding" => assert_eq!(ns, Some("mystocks"), "{overlay}: {kind}"),
                _ => assert_eq!(
                    ns,
                    Some("mystocks-bot"),
                    "{overlay}: {kind} {:?}",
                    o["metadata"]["name"]
                ),
            }
            assert!(
                !kind.starts_with("Cluster"),
                "{overlay}: no cluster-wide RBAC, found {kind}"
            );
        }
        let binding = find(&objects, "RoleBinding", "mystocks-bot").expect("RoleBinding");
        assert_eq!(
            binding["subjects"][0]["namespace"].as_str(),
            Some("mystocks-bot")
        );
        assert_eq!(
            binding["subjects"][0]["name"].as_str(),
            Some("mystocks-bot")
        );
        let d = deployment(&objects);
        assert_eq!(
            d["spec"]["template"]["spec"]["serviceAccountName"].as_str(),
            Some("mystocks-bot")
        );
    }
}

#[test]
fn the_role_has_no_wildcards_and_names_the_deployment_it_may_change() {
    let mut roles = Vec::new();
    for overlay in rbac::overlays() {
        let role = RenderedRole::from_objects(&render(&overlay)).expect("role");
        for rule in &role.rules {
            let all = rule
                .verbs
                .iter()
                .chain(&rule.resources)
                .chain(&rule.api_groups)
                .chain(&rule.resource_names);
            assert!(
                all.clone().all(|s| !s.contains('*')),
                "{overlay}: wildcard in {rule:?}"
            );
            let changes = rule
                .verbs
                .iter()
                .any(|v| matches!(v.as_str(), "patch" | "update" | "create" | "delete"));
            if changes {
                assert_eq!(
                    rule.resource_names,
                    ["mystocks-api"],
                    "{overlay}: changing rights limited by name: {rule:?}"
                );
            }
        }
        roles.push(role);
    }
    assert!(
        roles.windows(2).all(|w| w[0] == w[1]),
        "every overlay grants the same Role"
    );
}

#[test]
fn probes_and_metrics_use_the_ops_port_and_resources_are_set() {
    for overlay in rbac::overlays() {
        let objects = render(&overlay);
        let c = &deployment(&objects)["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(
            c["livenessProbe"]["httpGet"]["path"].as_str(),
            Some("/healthz"),
            "{overlay}"
        );
        assert_eq!(
            c["readinessProbe"]["httpGet"]["path"].as_str(),
            Some("/readyz?degraded=ok"),
            "{overlay}"
        );
        for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
            assert_eq!(
                c[probe]["httpGet"]["port"].as_str(),
                Some("ops"),
                "{overlay} {probe}"
            );
        }
        assert!(
            c["resources"]["requests"]["memory"].is_string()
                && c["resources"]["limits"]["memory"].is_string()
        );
        assert_eq!(
            c["securityContext"]["readOnlyRootFilesystem"].as_bool(),
            Some(true)
        );
        let service = find(&objects, "Service", "mystocks-bot").expect("Service");
        let ports = serde_yaml::to_string(&service["spec"]["ports"]).expect("ports");
        assert!(
            ports.contains("name: slack") && ports.contains("name: ops"),
            "{ports}"
        );
    }
}

#[test]
fn the_runbooks_configmap_holds_the_repository_runbooks() {
    let repo = rbac::deploy_dir().join("..").join("runbooks");
    let objects = render("ha");
    let cm = find(&objects, "ConfigMap", "mystocks-bot-runbooks")
        .or_else(|| {
            objects.iter().find(|o| {
                o["kind"] == "ConfigMap"
                    && o["metadata"]["name"]
                        .as_str()
                        .is_some_and(|n| n.starts_with("mystocks-bot-runbooks"))
            })
        })
        .expect("runbooks ConfigMap");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&repo).expect("runbooks/").flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".toml") {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).expect("runbook");
        assert_eq!(
            cm["data"][name.as_str()].as_str(),
            Some(text.as_str()),
            "deploy/base/runbooks/{name} differs from runbooks/{name}: copy it"
        );
        names.push(name);
    }
    let in_map = cm["data"].as_mapping().map_or(0, |m| m.len());
    assert_eq!(
        in_map,
        names.len(),
        "the ConfigMap has exactly the repository's runbooks: {names:?}"
    );
}

#[test]
fn the_matrix_side_is_one_pod_with_its_device_on_a_volume() {
    let objects = render("ha-matrix");
    let sts = find(&objects, "StatefulSet", "mystocks-bot-matrix").expect("the Matrix StatefulSet");
    assert_eq!(
        sts["spec"]["replicas"].as_i64(),
        Some(1),
        "one device, one pod"
    );
    assert_eq!(
        sts["spec"]["volumeClaimTemplates"][0]["metadata"]["name"].as_str(),
        Some("data")
    );
    let mounts =
        serde_yaml::to_string(&sts["spec"]["template"]["spec"]["containers"][0]["volumeMounts"])
            .expect("mounts");
    assert!(
        mounts.contains("mountPath: /var/lib/mystocks-bot\n"),
        "{mounts}"
    );
    let config = objects
        .iter()
        .find(|o| {
            o["kind"] == "ConfigMap"
                && o["metadata"]["name"]
                    .as_str()
                    .is_some_and(|n| n.starts_with("mystocks-bot-matrix-config"))
        })
        .expect("the Matrix pod's settings");
    let toml = config["data"]["config.toml"].as_str().expect("config.toml");
    assert!(
        toml.contains("store_dir = \"/var/lib/mystocks-bot/matrix\""),
        "the crypto store is on the volume: {toml}"
    );
    assert!(
        !toml.contains("[slack]"),
        "the Matrix pod serves Matrix only"
    );
    assert_eq!(
        deployment(&objects)["spec"]["replicas"].as_i64(),
        Some(3),
        "Slack replicas still scale out"
    );
}

#[test]
fn the_audit_checkpoint_is_created_empty_and_only_get_and_update_are_granted_on_it() {
    for overlay in rbac::overlays() {
        let objects = render(&overlay);
        let cm = find(&objects, "ConfigMap", rbac::CHECKPOINT_NAME).expect("checkpoint ConfigMap");
        assert_eq!(
            cm["metadata"]["namespace"].as_str(),
            Some(rbac::CHECKPOINT_NAMESPACE)
        );
        assert!(
            cm["data"].is_null(),
            "{overlay}: no data key, so re-applying never clears the checkpoint"
        );
        let role = RenderedRole::named(&objects, rbac::CHECKPOINT_ROLE).expect("checkpoint Role");
        assert_eq!(role.namespace, rbac::CHECKPOINT_NAMESPACE);
        let grants: Vec<String> = role.grants().iter().map(ToString::to_string).collect();
        assert_eq!(
            grants,
            [
                format!("get core/configmaps {}", rbac::CHECKPOINT_NAME),
                format!("update core/configmaps {}", rbac::CHECKPOINT_NAME),
            ],
            "{overlay}"
        );
        let binding = find(&objects, "RoleBinding", rbac::CHECKPOINT_ROLE).expect("binding");
        assert_eq!(
            binding["subjects"][0]["name"].as_str(),
            Some("mystocks-bot")
        );
        assert_eq!(
            binding["subjects"][0]["namespace"].as_str(),
            Some("mystocks-bot")
        );
        let config = find(&objects, "ConfigMap", "mystocks-bot-config")
            .or_else(|| {
                objects.iter().find(|o| {
                    o["kind"].as_str() == Some("ConfigMap")
                        && o["metadata"]["name"]
                            .as_str()
                            .is_some_and(|n| n.starts_with("mystocks-bot-config"))
                })
            })
            .expect("the settings ConfigMap");
        let toml = config["data"]["config.toml"].as_str().unwrap_or_default();
        assert!(
            toml.contains(&format!("namespace = \"{}\"", rbac::CHECKPOINT_NAMESPACE))
                && toml.contains(&format!("name = \"{}\"", rbac::CHECKPOINT_NAME)),
            "{overlay}: the settings name the checkpoint deploy/ creates"
        );
    }
}
