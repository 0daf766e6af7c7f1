//! The bot's RBAC as the deploy/ manifests render it (the real `kubectl kustomize`), turned into the simulated
//! API server's Role for the bot's token — enforced with every RBAC attribute (namespace, API group, resource and
//! subresource, verb, resourceNames), so a call the Role does not grant fails the suite — plus a reading of
//! recorded requests in the same terms, and the list of granted permissions a run never used.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use mystocks_sim::api::path::{Route, parse};
use mystocks_sim::api::query::Query;
use mystocks_sim::{RecordedRequest, RequestAttributes, Role, RoleRule, SimToken};
use serde::Deserialize;

/// The name of the bot's Role, RoleBinding and ServiceAccount in the manifests.
pub const BOT_ROLE: &str = "mystocks-bot";

/// The Role (and RoleBinding) in the bot's own namespace that lets it get and update the audit checkpoint.
pub const CHECKPOINT_ROLE: &str = "mystocks-bot-audit-checkpoint";

/// Where deploy/ puts the audit checkpoint ConfigMap: the bot's namespace, and its name.
pub const CHECKPOINT_NAMESPACE: &str = "mystocks-bot";
pub const CHECKPOINT_NAME: &str = "mystocks-bot-audit-checkpoint";

/// The user name of the bot's token in the sim (what the API server's 403 messages and the request log show).
pub const BOT_USER: &str = "system:serviceaccount:mystocks-bot:mystocks-bot";

/// The overlay whose Role the end-to-end suite enforces (every overlay shares the base's Role; a test checks).
pub const ENFORCED_OVERLAY: &str = "ha";

/// The repository's `deploy/` directory.
pub fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("deploy")
}

/// The overlays under `deploy/overlays`, by name.
pub fn overlays() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(deploy_dir().join("overlays"))
        .map(|dir| {
            dir.flatten()
                .filter(|e| e.path().is_dir())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Renders `dir` with `kubectl kustomize` into its objects.
pub fn kustomize(dir: &Path) -> Result<Vec<serde_yaml::Value>, String> {
    let out = Command::new("kubectl")
        .arg("kustomize")
        .arg(dir)
        .output()
        .map_err(|e| format!("cannot run `kubectl kustomize` (install kubectl): {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "kubectl kustomize {} failed: {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut objects = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(&text) {
        let value = serde_yaml::Value::deserialize(doc)
            .map_err(|e| format!("rendered YAML does not parse: {e}"))?;
        if !value.is_null() {
            objects.push(value);
        }
    }
    Ok(objects)
}

/// The object of `kind` named `name` among rendered objects.
pub fn find<'a>(
    objects: &'a [serde_yaml::Value],
    kind: &str,
    name: &str,
) -> Option<&'a serde_yaml::Value> {
    objects
        .iter()
        .find(|o| o["kind"].as_str() == Some(kind) && o["metadata"]["name"].as_str() == Some(name))
}

/// One rule of a Kubernetes Role.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PolicyRule {
    #[serde(default)]
    pub api_groups: Vec<String>,
    #[serde(default)]
    pub resources: Vec<String>,
    #[serde(default)]
    pub resource_names: Vec<String>,
    #[serde(default)]
    pub verbs: Vec<String>,
}

/// The bot's Role: where it applies and what it grants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderedRole {
    pub namespace: String,
    pub rules: Vec<PolicyRule>,
}

/// One permission a rule grants: `verb` on `group`/`resource`, for the object `name` when the rule names objects.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Grant {
    pub verb: String,
    pub group: String,
    pub resource: String,
    pub name: Option<String>,
}

impl std::fmt::Display for Grant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let group = if self.group.is_empty() {
            "core"
        } else {
            &self.group
        };
        write!(f, "{} {}/{}", self.verb, group, self.resource)?;
        match &self.name {
            Some(name) => write!(f, " {name}"),
            None => Ok(()),
        }
    }
}

/// What an API request asks for, in RBAC terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiCall {
    pub verb: String,
    pub group: String,
    pub namespace: Option<String>,
    /// `pods`, `pods/log`, `deployments/scale`, …
    pub resource: String,
    /// The object's name; for a list or watch, the name a `metadata.name=` field selector pins.
    pub name: Option<String>,
}

impl ApiCall {
    /// The RBAC attributes of a recorded request, derived exactly as the simulated API server derives them when
    /// it authorizes; None for non-resource paths (`/version`, discovery).
    pub fn from_request(r: &RecordedRequest) -> Option<ApiCall> {
        let (path, query) = r
            .path
            .split_once('?')
            .map_or((r.path.as_str(), None), |(p, q)| (p, Some(q)));
        let Route::Resource(p) = parse(path) else {
            return None;
        };
        let method = axum::http::Method::from_bytes(r.method.as_bytes()).ok()?;
        Some(ApiCall::from(RequestAttributes::of(
            &method,
            &p,
            &Query::parse(query),
        )))
    }

    /// The same call as the sim's authorizer sees it.
    pub fn attributes(&self) -> RequestAttributes {
        let (resource, subresource) = match self.resource.split_once('/') {
            Some((r, sub)) => (r.to_string(), Some(sub.to_string())),
            None => (self.resource.clone(), None),
        };
        RequestAttributes {
            verb: self.verb.clone(),
            group: self.group.clone(),
            namespace: self.namespace.clone(),
            resource,
            subresource,
            name: self.name.clone(),
        }
    }
}

impl From<RequestAttributes> for ApiCall {
    fn from(a: RequestAttributes) -> ApiCall {
        ApiCall {
            resource: a.combined_resource(),
            verb: a.verb,
            group: a.group,
            namespace: a.namespace,
            name: a.name,
        }
    }
}

impl std::fmt::Display for ApiCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let group = if self.group.is_empty() {
            "core"
        } else {
            &self.group
        };
        let ns = self.namespace.as_deref().unwrap_or("(cluster)");
        let name = self
            .name
            .as_deref()
            .map(|n| format!(" {n}"))
            .unwrap_or_default();
        write!(f, "{} {group}/{}{name} in {ns}", self.verb, self.resource)
    }
}

impl RenderedRole {
    /// The Role named [`BOT_ROLE`] among rendered objects.
    pub fn from_objects(objects: &[serde_yaml::Value]) -> Result<RenderedRole, String> {
        RenderedRole::named(objects, BOT_ROLE)
    }

    /// The Role named `name` among rendered objects.
    pub fn named(objects: &[serde_yaml::Value], name: &str) -> Result<RenderedRole, String> {
        let role = find(objects, "Role", name)
            .ok_or_else(|| format!("no Role named {name} in the rendered manifests"))?;
        let namespace = role["metadata"]["namespace"]
            .as_str()
            .ok_or("the Role has no namespace")?
            .to_string();
        let rules: Vec<PolicyRule> = serde_yaml::from_value(role["rules"].clone())
            .map_err(|e| format!("the Role's rules do not parse: {e}"))?;
        Ok(RenderedRole { namespace, rules })
    }

    /// Whether the Role grants `call` — namespace, API group, resource and subresource, verb and resourceNames,
    /// evaluated as the simulated API server evaluates it for the bot's token.
    pub fn allows(&self, call: &ApiCall) -> bool {
        self.sim_role().allows(&call.attributes())
    }

    /// Every verb × group × resource (× object name, for rules that name objects) the Role grants.
    pub fn grants(&self) -> Vec<Grant> {
        let mut out = Vec::new();
        for rule in &self.rules {
            let names: Vec<Option<String>> = if rule.resource_names.is_empty() {
                vec![None]
            } else {
                rule.resource_names.iter().cloned().map(Some).collect()
            };
            for group in &rule.api_groups {
                for resource in &rule.resources {
                    for verb in &rule.verbs {
                        for name in &names {
                            out.push(Grant {
                                verb: verb.clone(),
                                group: group.clone(),
                                resource: resource.clone(),
                                name: name.clone(),
                            });
                        }
                    }
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// Grants that none of `calls` used (a named grant is used only by a call on that object).
    pub fn unused(&self, calls: &[ApiCall]) -> Vec<Grant> {
        self.grants()
            .into_iter()
            .filter(|g| {
                !calls.iter().any(|c| {
                    c.verb == g.verb
                        && c.group == g.group
                        && c.resource == g.resource
                        && g.name.as_ref().is_none_or(|n| c.name.as_ref() == Some(n))
                        && self.allows(c)
                })
            })
            .collect()
    }

    /// The same Role as the simulated API server enforces it for the bot's token: in the Role's namespace, with
    /// its API groups, resources and subresources, verbs and resourceNames.
    pub fn sim_role(&self) -> Role {
        fn strs(v: &[String]) -> Vec<&str> {
            v.iter().map(String::as_str).collect()
        }
        Role {
            namespace: Some(self.namespace.clone()),
            rules: self
                .rules
                .iter()
                .map(|r| {
                    RoleRule::new(&strs(&r.verbs), &strs(&r.resources))
                        .in_groups(&strs(&r.api_groups))
                        .named(&strs(&r.resource_names))
                })
                .collect(),
        }
    }
}

/// The objects rendered from the enforced overlay, once per test process. Panics (failing the test) when kubectl
/// is missing or the manifests do not render: a missing tool is a failure, never a silent skip.
fn enforced_objects() -> &'static [serde_yaml::Value] {
    static OBJECTS: OnceLock<Vec<serde_yaml::Value>> = OnceLock::new();
    OBJECTS.get_or_init(|| {
        let dir = deploy_dir().join("overlays").join(ENFORCED_OVERLAY);
        kustomize(&dir).unwrap_or_else(|e| panic!("{e}"))
    })
}

/// The Role in the operated namespace, rendered from the enforced overlay, once per test process.
pub fn bot_role() -> &'static RenderedRole {
    static ROLE: OnceLock<RenderedRole> = OnceLock::new();
    ROLE.get_or_init(|| {
        RenderedRole::from_objects(enforced_objects()).unwrap_or_else(|e| panic!("{e}"))
    })
}

/// The Role in the bot's own namespace (the audit checkpoint), rendered from the enforced overlay.
pub fn checkpoint_role() -> &'static RenderedRole {
    static ROLE: OnceLock<RenderedRole> = OnceLock::new();
    ROLE.get_or_init(|| {
        RenderedRole::named(enforced_objects(), CHECKPOINT_ROLE).unwrap_or_else(|e| panic!("{e}"))
    })
}

/// The bot's bearer token for the sim, limited to the rendered Roles (both are bound to the bot's account).
pub fn bot_token() -> SimToken {
    SimToken {
        name: BOT_USER.to_string(),
        token: format!("bot-{}", uuid::Uuid::new_v4().simple()),
        roles: Some(vec![bot_role().sim_role(), checkpoint_role().sim_role()]),
    }
}

/// The requests a token made that the rendered Role does not grant (full RBAC semantics), as text.
pub fn denied_calls(
    requests: &[RecordedRequest],
    token_name: &str,
    role: &RenderedRole,
) -> Vec<String> {
    requests
        .iter()
        .filter(|r| r.token_name.as_deref() == Some(token_name))
        .filter_map(|r| ApiCall::from_request(r).map(|c| (r, c)))
        .filter(|(_, c)| !role.allows(c))
        .map(|(r, c)| format!("{c} ({} {} → {})", r.method, r.path, r.status))
        .collect()
}
