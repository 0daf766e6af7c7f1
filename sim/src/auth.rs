//! Bearer tokens and RBAC as Kubernetes evaluates it: a request's attributes (verb, API group, namespace,
//! resource, subresource, object name) against a Role's rules (verbs × apiGroups × resources × resourceNames), in
//! the Role's namespace.

use http::Method;

use crate::api::path::ResourcePath;
use crate::api::query::Query;

/// A bearer token the API server accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimToken {
    /// A name for logs and the request log (e.g. `admin`, `bot`); also the user name in 403 messages.
    pub name: String,
    /// The secret bearer token.
    pub token: String,
    /// `None`: may do everything. `Some`: only what one of these Roles allows (a user bound to a Role in each
    /// of several namespaces, as the bot is: the operated namespace and its own).
    pub roles: Option<Vec<Role>>,
}

impl SimToken {
    /// An all-powerful token.
    pub fn admin(name: &str, token: &str) -> SimToken {
        SimToken {
            name: name.to_string(),
            token: token.to_string(),
            roles: None,
        }
    }
}

/// What a token may do: a Role bound in `namespace` (requests elsewhere, and cluster-scoped ones, are never
/// granted), or — `namespace: None` — a ClusterRole bound cluster-wide.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Role {
    pub namespace: Option<String>,
    pub rules: Vec<RoleRule>,
}

/// One rule of a [`Role`], as in a Kubernetes PolicyRule. Resources are plural names, with a subresource as
/// `pods/log`; `*` matches every resource and `*/scale` every resource's `scale` subresource. `*` in verbs or
/// apiGroups matches all. Empty `resource_names` allows every object; otherwise only the named ones (a list or
/// watch is named only through a `metadata.name=` field selector; a create never is).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleRule {
    pub verbs: Vec<String>,
    pub api_groups: Vec<String>,
    pub resources: Vec<String>,
    pub resource_names: Vec<String>,
}

/// A request in RBAC terms — Kubernetes' authorization attributes of a resource request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestAttributes {
    /// get, list, watch, create, update, patch, delete, deletecollection.
    pub verb: String,
    /// The API group (`""` for core).
    pub group: String,
    pub namespace: Option<String>,
    /// The plural resource, without the subresource.
    pub resource: String,
    pub subresource: Option<String>,
    /// The object's name: from the path, or for a list / watch from a `metadata.name` field selector.
    pub name: Option<String>,
}

impl Role {
    /// A cluster-wide role with one rule: `verbs` on `resources` of any API group.
    pub fn allow(verbs: &[&str], resources: &[&str]) -> Role {
        Role {
            namespace: None,
            rules: vec![RoleRule::new(verbs, resources)],
        }
    }

    /// The same rules as a Role of `namespace`.
    pub fn in_namespace(mut self, namespace: &str) -> Role {
        self.namespace = Some(namespace.to_string());
        self
    }

    /// Whether the role grants the request.
    pub fn allows(&self, request: &RequestAttributes) -> bool {
        if let Some(ns) = &self.namespace
            && request.namespace.as_deref() != Some(ns.as_str())
        {
            return false;
        }
        self.rules.iter().any(|r| r.matches(request))
    }
}

impl RoleRule {
    /// A rule allowing `verbs` on `resources` in every API group, for every object.
    pub fn new(verbs: &[&str], resources: &[&str]) -> RoleRule {
        RoleRule {
            verbs: strings(verbs),
            api_groups: vec!["*".to_string()],
            resources: strings(resources),
            resource_names: Vec::new(),
        }
    }

    /// Only in these API groups (`""` is the core group).
    pub fn in_groups(mut self, groups: &[&str]) -> RoleRule {
        self.api_groups = strings(groups);
        self
    }

    /// Only for objects with these names.
    pub fn named(mut self, names: &[&str]) -> RoleRule {
        self.resource_names = strings(names);
        self
    }

    fn matches(&self, r: &RequestAttributes) -> bool {
        let any = |list: &[String], value: &str| list.iter().any(|v| v == "*" || v == value);
        any(&self.verbs, &r.verb)
            && any(&self.api_groups, &r.group)
            && self.resource_matches(r)
            && (self.resource_names.is_empty()
                || r.name
                    .as_ref()
                    .is_some_and(|n| self.resource_names.contains(n)))
    }

    fn resource_matches(&self, r: &RequestAttributes) -> bool {
        let combined = r.combined_resource();
        self.resources.iter().any(|granted| {
            granted == "*"
                || *granted == combined
                || r.subresource
                    .as_deref()
                    .is_some_and(|sub| granted.strip_prefix("*/") == Some(sub))
        })
    }
}

impl RequestAttributes {
    /// The attributes of a request for `path` (API group, namespace, resource, name, subresource) by `method`
    /// with `query`, as the API server's request-info step derives them.
    pub fn of(method: &Method, path: &ResourcePath, query: &Query) -> RequestAttributes {
        let collection = path.name.is_none();
        let verb = match *method {
            Method::GET | Method::HEAD if collection && query.flag("watch") => "watch",
            Method::GET | Method::HEAD if collection => "list",
            Method::GET | Method::HEAD => "get",
            Method::POST => "create",
            Method::PUT => "update",
            Method::PATCH => "patch",
            Method::DELETE if collection => "deletecollection",
            Method::DELETE => "delete",
            _ => "unknown",
        };
        let selected = match verb {
            "list" | "watch" | "deletecollection" => query
                .get("fieldSelector")
                .and_then(exact_name_selected)
                .map(str::to_string),
            _ => None,
        };
        RequestAttributes {
            verb: verb.to_string(),
            group: path.group.clone(),
            namespace: path.namespace.clone(),
            resource: path.plural.clone(),
            subresource: path.sub.clone(),
            name: path.name.clone().or(selected),
        }
    }

    /// `pods` or `pods/log`, as rules name it.
    pub fn combined_resource(&self) -> String {
        match &self.subresource {
            Some(sub) => format!("{}/{sub}", self.resource),
            None => self.resource.clone(),
        }
    }

    /// The API server's refusal text for `user`.
    pub fn forbidden_message(&self, user: &str) -> String {
        let group_suffix = if self.group.is_empty() {
            String::new()
        } else {
            format!(".{}", self.group)
        };
        let what = match &self.name {
            Some(n) => format!("{}{group_suffix} {n:?} is forbidden", self.resource),
            None => format!("{}{group_suffix} is forbidden", self.resource),
        };
        let scope = match &self.namespace {
            Some(ns) => format!(" in the namespace {ns:?}"),
            None => " at the cluster scope".into(),
        };
        format!(
            "{what}: User {user:?} cannot {} resource {:?} in API group {:?}{scope}",
            self.verb,
            self.combined_resource(),
            self.group
        )
    }
}

/// The name a field selector pins with `metadata.name=` (or `==`), as RBAC reads it for lists and watches.
fn exact_name_selected(selector: &str) -> Option<&str> {
    selector.split(',').map(str::trim).find_map(|term| {
        let value = term.strip_prefix("metadata.name")?;
        let value = value
            .strip_prefix("==")
            .or_else(|| value.strip_prefix('='))?;
        (!value.is_empty()).then_some(value)
    })
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// Finds the token presented in an `Authorization` header value (`Bearer …`).
pub fn find_token<'a>(tokens: &'a [SimToken], header: Option<&str>) -> Option<&'a SimToken> {
    let presented = header?.strip_prefix("Bearer ")?.trim();
    tokens
        .iter()
        .find(|t| constant_time_eq(t.token.as_bytes(), presented.as_bytes()))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::path::{Route, parse};

    fn request(method: Method, uri: &str) -> RequestAttributes {
        let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
        let Route::Resource(p) = parse(path) else {
            panic!("{uri} is not a resource path")
        };
        RequestAttributes::of(&method, &p, &Query::parse(Some(query)))
    }

    /// The shape of the bot's Role in deploy/: named deployment, scale subresource, pod logs and proxy.
    fn bot_role() -> Role {
        Role {
            namespace: None,
            rules: vec![
                RoleRule::new(&["get", "list", "watch", "patch"], &["deployments"])
                    .in_groups(&["apps"])
                    .named(&["api"]),
                RoleRule::new(&["patch"], &["deployments/scale"])
                    .in_groups(&["apps"])
                    .named(&["api"]),
                RoleRule::new(&["get", "list"], &["pods"]).in_groups(&[""]),
                RoleRule::new(&["get"], &["pods/log", "pods/proxy"]).in_groups(&[""]),
            ],
        }
        .in_namespace("shop")
    }

    #[test]
    fn attributes_as_the_api_server_derives_them() {
        let watch = request(
            Method::GET,
            "/apis/apps/v1/namespaces/shop/deployments?fieldSelector=metadata.name%3Dapi&watch=true",
        );
        assert_eq!(
            watch,
            RequestAttributes {
                verb: "watch".into(),
                group: "apps".into(),
                namespace: Some("shop".into()),
                resource: "deployments".into(),
                subresource: None,
                name: Some("api".into()),
            }
        );
        let proxy = request(
            Method::GET,
            "/api/v1/namespaces/shop/pods/api-1:8000/proxy/health",
        );
        assert_eq!(
            (proxy.verb.as_str(), proxy.combined_resource(), proxy.name),
            ("get", "pods/proxy".to_string(), Some("api-1:8000".into()))
        );
        let create = request(Method::POST, "/api/v1/namespaces/shop/pods");
        assert_eq!((create.verb.as_str(), create.name), ("create", None));
        assert_eq!(
            exact_name_selected("status.phase=Running,metadata.name==x"),
            Some("x")
        );
        assert_eq!(exact_name_selected("metadata.name!=x"), None);
        assert_eq!(exact_name_selected("metadata.namespace=x"), None);
    }

    #[test]
    fn resource_names_limit_objects_and_named_lists() {
        let role = bot_role();
        let allows = |m: Method, uri: &str| role.allows(&request(m, uri));
        assert!(allows(
            Method::PATCH,
            "/apis/apps/v1/namespaces/shop/deployments/api"
        ));
        assert!(
            !allows(
                Method::PATCH,
                "/apis/apps/v1/namespaces/shop/deployments/other"
            ),
            "a deployment the Role does not name"
        );
        assert!(allows(
            Method::GET,
            "/apis/apps/v1/namespaces/shop/deployments?fieldSelector=metadata.name=api"
        ));
        assert!(
            !allows(Method::GET, "/apis/apps/v1/namespaces/shop/deployments"),
            "an unnamed list is not granted by a named rule"
        );
        assert!(!allows(
            Method::GET,
            "/apis/apps/v1/namespaces/shop/deployments?fieldSelector=metadata.name=other"
        ));
    }

    #[test]
    fn subresources_are_granted_only_by_name() {
        let role = bot_role();
        let allows = |m: Method, uri: &str| role.allows(&request(m, uri));
        assert!(allows(
            Method::PATCH,
            "/apis/apps/v1/namespaces/shop/deployments/api/scale"
        ));
        assert!(
            !allows(
                Method::PATCH,
                "/apis/apps/v1/namespaces/shop/deployments/other/scale"
            ),
            "scale of another deployment"
        );
        assert!(
            !allows(
                Method::GET,
                "/apis/apps/v1/namespaces/shop/deployments/api/scale"
            ),
            "patch on the scale subresource does not grant get"
        );
        assert!(
            !allows(
                Method::PATCH,
                "/apis/apps/v1/namespaces/shop/deployments/api/status"
            ),
            "deployments does not grant deployments/status"
        );
        assert!(allows(Method::GET, "/api/v1/namespaces/shop/pods/p-1/log"));
        assert!(allows(
            Method::GET,
            "/api/v1/namespaces/shop/pods/p-1:8000/proxy/metrics"
        ));
        assert!(
            !allows(
                Method::POST,
                "/api/v1/namespaces/shop/pods/p-1:8000/proxy/metrics"
            ),
            "POST through the proxy is create"
        );
        assert!(
            !allows(Method::GET, "/api/v1/namespaces/shop/pods/p-1/exec"),
            "pods does not grant pods/exec"
        );
        let wildcard = Role::allow(&["get"], &["*/log"]);
        assert!(wildcard.allows(&request(Method::GET, "/api/v1/namespaces/x/pods/p/log")));
        assert!(!wildcard.allows(&request(Method::GET, "/api/v1/namespaces/x/pods/p")));
    }

    #[test]
    fn groups_and_namespaces_count() {
        let role = bot_role();
        let allows = |m: Method, uri: &str| role.allows(&request(m, uri));
        assert!(
            !allows(Method::GET, "/apis/apps/v1/namespaces/shop/pods"),
            "pods are granted in the core group only"
        );
        assert!(
            !allows(Method::GET, "/api/v1/namespaces/other/pods"),
            "another namespace"
        );
        assert!(
            !allows(Method::GET, "/api/v1/pods"),
            "all namespaces (cluster scope) is never granted by a Role"
        );
        assert!(!allows(Method::DELETE, "/api/v1/namespaces/shop/pods/p-1"));
        let cluster_wide = Role::allow(&["list"], &["pods"]);
        assert!(cluster_wide.allows(&request(Method::GET, "/api/v1/pods")));
    }

    #[test]
    fn tokens() {
        let tokens = vec![SimToken::admin("admin", "s3cret")];
        assert_eq!(
            find_token(&tokens, Some("Bearer s3cret")).map(|t| t.name.as_str()),
            Some("admin")
        );
        assert!(find_token(&tokens, Some("Bearer wrong")).is_none());
        assert!(find_token(&tokens, None).is_none());
        let denied = request(
            Method::PATCH,
            "/apis/apps/v1/namespaces/shop/deployments/x/scale",
        );
        assert_eq!(
            denied.forbidden_message("bot"),
            "deployments.apps \"x\" is forbidden: User \"bot\" cannot patch resource \"deployments/scale\" in API group \"apps\" in the namespace \"shop\""
        );
    }
}
