//! The deployment the cluster operations act on: namespace, deployment, container and pod selector.

use serde::{Deserialize, Serialize};

/// What a command acts on. Every cluster operation takes one; it comes from the settings (defaults:
/// namespace `mystocks`, deployment `mystocks-api`, container named like the deployment, selector `app=<deployment>`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Target {
    /// Namespace of the deployment and its pods.
    pub namespace: String,
    /// Name of the deployment.
    pub deployment: String,
    /// The container whose image `deploy` changes and whose logs are read.
    pub container: String,
    /// Label selector of the deployment's pods (`app=mystocks-api`).
    pub selector: String,
}

impl Target {
    /// A target whose container is named like the deployment and whose pods carry `app=<deployment>`.
    pub fn new(namespace: impl Into<String>, deployment: impl Into<String>) -> Self {
        let deployment = deployment.into();
        Target {
            namespace: namespace.into(),
            container: deployment.clone(),
            selector: format!("app={deployment}"),
            deployment,
        }
    }

    /// The same target with another container name.
    pub fn with_container(mut self, container: impl Into<String>) -> Self {
        self.container = container.into();
        self
    }

    /// The same target with another pod label selector.
    pub fn with_selector(mut self, selector: impl Into<String>) -> Self {
        self.selector = selector.into();
        self
    }
}

impl Default for Target {
    fn default() -> Self {
        Target::new("mystocks", "mystocks-api")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_deployment_name() {
        let t = Target::new("shop", "web");
        assert_eq!(t.container, "web");
        assert_eq!(t.selector, "app=web");
        assert_eq!(Target::default().deployment, "mystocks-api");
        assert_eq!(t.with_container("c").container, "c");
    }
}
