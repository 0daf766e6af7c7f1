//! Bearer tokens and a simple Role model (allowed verbs × resources), as the production RBAC would enforce.

/// A bearer token the API server accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimToken {
    /// A name for logs and the request log (e.g. `admin`, `bot`); also the user name in 403 messages.
    pub name: String,
    /// The secret bearer token.
    pub token: String,
    /// `None`: may do everything. `Some`: only what the role allows.
    pub role: Option<Role>,
}

impl SimToken {
    /// An all-powerful token.
    pub fn admin(name: &str, token: &str) -> SimToken {
        SimToken {
            name: name.to_string(),
            token: token.to_string(),
            role: None,
        }
    }
}

/// Allowed verbs × resources. Resources are plural names with optional subresource (`pods`, `pods/log`,
/// `deployments/scale`); `*` matches everything. Verbs are Kubernetes verbs: get, list, watch, create, update,
/// patch, delete, deletecollection; `*` matches all.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Role {
    pub rules: Vec<RoleRule>,
}

/// One rule of a [`Role`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleRule {
    pub verbs: Vec<String>,
    pub resources: Vec<String>,
}

impl Role {
    /// A role with one rule.
    pub fn allow(verbs: &[&str], resources: &[&str]) -> Role {
        Role {
            rules: vec![RoleRule::new(verbs, resources)],
        }
    }

    /// Whether `verb` on `resource` (e.g. `pods/log`) is allowed.
    pub fn allows(&self, verb: &str, resource: &str) -> bool {
        self.rules.iter().any(|r| r.matches(verb, resource))
    }
}

impl RoleRule {
    /// A rule allowing `verbs` on `resources`.
    pub fn new(verbs: &[&str], resources: &[&str]) -> RoleRule {
        RoleRule {
            verbs: verbs.iter().map(|s| s.to_string()).collect(),
            resources: resources.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn matches(&self, verb: &str, resource: &str) -> bool {
        let verb_ok = self.verbs.iter().any(|v| v == "*" || v == verb);
        let res_ok = self.resources.iter().any(|r| r == "*" || r == resource);
        verb_ok && res_ok
    }
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

    #[test]
    fn roles_and_tokens() {
        let role = Role::allow(&["get", "list"], &["pods", "deployments"]);
        assert!(role.allows("get", "pods"));
        assert!(!role.allows("patch", "deployments"));
        assert!(!role.allows("get", "pods/log"));
        let tokens = vec![SimToken::admin("admin", "s3cret")];
        assert_eq!(
            find_token(&tokens, Some("Bearer s3cret")).map(|t| t.name.as_str()),
            Some("admin")
        );
        assert!(find_token(&tokens, Some("Bearer wrong")).is_none());
        assert!(find_token(&tokens, None).is_none());
    }
}
