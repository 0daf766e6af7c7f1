//! Building a kube-rs `Client` from a kubeconfig (the sim's, or a file), with the bot's connect timeout.

use kube::config::{KubeConfigOptions, Kubeconfig};

use super::error::{API_TIMEOUT, ClusterError};

/// A client for the kubeconfig in `yaml` (its current context). Callers using HTTPS must have installed a rustls
/// crypto provider first (`rustls::crypto::ring::default_provider().install_default()`).
pub async fn client_from_kubeconfig_yaml(yaml: &str) -> Result<kube::Client, ClusterError> {
    let config = config_from_kubeconfig_yaml(yaml).await?;
    kube::Client::try_from(config).map_err(|e| internal("building the Kubernetes client", &e))
}

/// A client for the same kubeconfig without kube-rs's retries, for the pod proxy checks
/// ([`crate::checks::pods::proxy_client`]).
pub async fn pod_proxy_client_from_kubeconfig_yaml(
    yaml: &str,
) -> Result<kube::Client, ClusterError> {
    let config = config_from_kubeconfig_yaml(yaml).await?;
    crate::checks::pods::proxy_client(config)
        .map_err(|e| internal("building the pod proxy client", &e))
}

async fn config_from_kubeconfig_yaml(yaml: &str) -> Result<kube::Config, ClusterError> {
    let kubeconfig =
        Kubeconfig::from_yaml(yaml).map_err(|e| internal("reading the kubeconfig", &e))?;
    let mut config =
        kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
            .await
            .map_err(|e| internal("using the kubeconfig", &e))?;
    // Longer than the per-request timeout, so requests report that one; still bounds a watch's connect.
    config.connect_timeout = Some(API_TIMEOUT + std::time::Duration::from_secs(5));
    Ok(config)
}

fn internal(what: &str, e: &dyn std::fmt::Display) -> ClusterError {
    ClusterError::Internal {
        message: format!("{what}: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bad_kubeconfig_is_an_error_not_a_panic() {
        let Err(err) = client_from_kubeconfig_yaml("::: not yaml").await else {
            panic!("an invalid kubeconfig gave a client");
        };
        assert!(err.to_string().contains("kubeconfig"), "{err}");
    }
}
