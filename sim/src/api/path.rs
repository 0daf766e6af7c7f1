//! URL paths of the Kubernetes API, parsed into what they address.

/// What a request path addresses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// `/version`
    Version,
    /// `/healthz`, `/livez`, `/readyz`
    Health,
    /// `/api`
    CoreDiscovery,
    /// `/apis`
    GroupsDiscovery,
    /// `/apis/{group}`
    Group(String),
    /// `/api/v1` or `/apis/{group}/{version}`
    GroupVersion(String, String),
    /// A resource collection, object or subresource.
    Resource(ResourcePath),
    /// Anything else.
    Unknown,
}

/// `/api/v1/namespaces/{ns}/{plural}/{name}/{sub}/{rest…}` and the cluster-scoped / all-namespaces forms.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ResourcePath {
    pub group: String,
    pub version: String,
    pub namespace: Option<String>,
    pub plural: String,
    pub name: Option<String>,
    pub sub: Option<String>,
    /// What follows the subresource (`/health` for a proxy), with its leading slash; empty when nothing.
    pub rest: String,
}

/// Parses a path (no query).
pub fn parse(path: &str) -> Route {
    let trimmed = path.trim_end_matches('/');
    let segs: Vec<&str> = trimmed.split('/').skip(1).collect();
    match segs.as_slice() {
        ["version"] => Route::Version,
        ["healthz" | "livez" | "readyz"] => Route::Health,
        ["api"] => Route::CoreDiscovery,
        ["apis"] => Route::GroupsDiscovery,
        ["api", v] => Route::GroupVersion(String::new(), v.to_string()),
        ["apis", g] => Route::Group(g.to_string()),
        ["apis", g, v] => Route::GroupVersion(g.to_string(), v.to_string()),
        ["api", v, rest @ ..] => resource(String::new(), v, rest, path),
        ["apis", g, v, rest @ ..] => resource(g.to_string(), v, rest, path),
        _ => Route::Unknown,
    }
}

fn resource(group: String, version: &str, rest: &[&str], full: &str) -> Route {
    let (namespace, rest) = match rest {
        ["namespaces", ns, plural, more @ ..] => {
            (Some(ns.to_string()), [&[*plural][..], more].concat())
        }
        other => (None, other.to_vec()),
    };
    let Some(plural) = rest.first() else {
        return Route::Unknown;
    };
    if rest.iter().any(|s| s.is_empty()) && rest.len() < 3 {
        return Route::Unknown;
    }
    let mut rp = ResourcePath {
        group,
        version: version.to_string(),
        namespace,
        plural: plural.to_string(),
        name: rest.get(1).map(|s| s.to_string()),
        sub: rest.get(2).map(|s| s.to_string()),
        rest: String::new(),
    };
    if rest.len() > 3 {
        // Keep the rest exactly as sent (including a trailing slash), for the pod proxy.
        let marker = format!("/{}/{}/{}", rest[0], rest[1], rest[2]);
        rp.rest = full
            .find(&marker)
            .map(|i| full[i + marker.len()..].to_string())
            .unwrap_or_default();
    } else if rp.sub.as_deref() == Some("proxy") && full.ends_with('/') {
        rp.rest = "/".into();
    }
    Route::Resource(rp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(parse("/version"), Route::Version);
        assert_eq!(
            parse("/apis/apps/v1"),
            Route::GroupVersion("apps".into(), "v1".into())
        );
        let Route::Resource(r) =
            parse("/api/v1/namespaces/mystocks/pods/p-1:8000/proxy/api/health/database")
        else {
            panic!("not a resource")
        };
        assert_eq!(r.name.as_deref(), Some("p-1:8000"));
        assert_eq!(r.sub.as_deref(), Some("proxy"));
        assert_eq!(r.rest, "/api/health/database");
        let Route::Resource(r) =
            parse("/apis/apps/v1/namespaces/mystocks/deployments/mystocks-api/scale")
        else {
            panic!("not a resource")
        };
        assert_eq!(
            (r.group.as_str(), r.plural.as_str(), r.sub.as_deref()),
            ("apps", "deployments", Some("scale"))
        );
        let Route::Resource(r) = parse("/api/v1/pods") else {
            panic!("not a resource")
        };
        assert_eq!((r.namespace, r.plural.as_str()), (None, "pods"));
        assert_eq!(parse("/nope"), Route::Unknown);
    }
}
