//! TLS for the API server: a generated CA and a separate 127.0.0.1/localhost server certificate it signed
//! (rustls clients refuse a self-signed certificate that is itself a CA, so kubectl and kube-rs need both).

use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A CA certificate (what clients trust) and the rustls server configuration using a certificate it signed.
pub struct SimTls {
    /// The CA certificate in PEM form, for kubeconfig `certificate-authority-data`.
    pub ca_pem: String,
    /// The server configuration (HTTP/1.1 only).
    pub server_config: Arc<rustls::ServerConfig>,
}

/// Generates a fresh CA and server certificate (valid for 127.0.0.1, ::1 and localhost).
pub fn generate() -> Result<SimTls, String> {
    let ca_key = KeyPair::generate().map_err(|e| format!("generating the CA key: {e}"))?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(|e| e.to_string())?;
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "mystocks-sim CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params
        .self_signed(&ca_key)
        .map_err(|e| format!("signing the CA certificate: {e}"))?;
    let issuer = Issuer::new(ca_params, ca_key);

    let server_key = KeyPair::generate().map_err(|e| format!("generating the server key: {e}"))?;
    let names = vec![
        "127.0.0.1".to_string(),
        "::1".to_string(),
        "localhost".to_string(),
    ];
    let mut server_params = CertificateParams::new(names).map_err(|e| e.to_string())?;
    server_params
        .distinguished_name
        .push(DnType::CommonName, "mystocks-sim apiserver");
    server_params.is_ca = IsCa::ExplicitNoCa;
    server_params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    server_params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let server_cert = server_params
        .signed_by(&server_key, &issuer)
        .map_err(|e| format!("signing the server certificate: {e}"))?;

    let chain = vec![
        CertificateDer::from(server_cert.der().to_vec()),
        CertificateDer::from(ca_cert.der().to_vec()),
    ];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS protocol versions: {e}"))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| format!("TLS server certificate: {e}"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(SimTls {
        ca_pem: ca_cert.pem(),
        server_config: Arc::new(config),
    })
}
