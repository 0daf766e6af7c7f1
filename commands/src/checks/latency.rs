//! What `curl -w` shows for the API's health endpoint — DNS, connect, TLS, time to first byte, total — timed
//! phase by phase on a connection of our own (hyper over tokio, tokio-rustls for HTTPS), over N samples.
//! Times are cumulative from the start of each sample, as curl's `time_namelookup` … `time_total`.

use std::sync::Arc;
use std::time::Instant;

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// One sample: cumulative milliseconds at the end of each phase (TLS `None` for plain HTTP).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Phases {
    pub dns: f64,
    pub connect: f64,
    pub tls: Option<f64>,
    pub ttfb: f64,
    pub total: f64,
    pub status: u16,
}

/// N samples of one URL.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LatencyReport {
    pub url: String,
    pub samples: Vec<Phases>,
    /// Samples that failed, with the reason.
    pub failures: Vec<String>,
}

/// min / median / max of one phase.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    pub min: f64,
    pub median: f64,
    pub max: f64,
}

impl LatencyReport {
    /// The spread of the phase `pick` selects, over the successful samples.
    pub fn spread(&self, pick: impl Fn(&Phases) -> Option<f64>) -> Option<Spread> {
        let mut values: Vec<f64> = self.samples.iter().filter_map(pick).collect();
        if values.is_empty() {
            return None;
        }
        values.sort_by(f64::total_cmp);
        let median = if values.len() % 2 == 1 {
            values[values.len() / 2]
        } else {
            (values[values.len() / 2 - 1] + values[values.len() / 2]) / 2.0
        };
        Some(Spread {
            min: values[0],
            median,
            max: values[values.len() - 1],
        })
    }
}

/// Why a URL cannot be measured at all.
#[derive(Debug, thiserror::Error)]
pub enum LatencyError {
    #[error("no API URL configured (set `checks.api_url`)")]
    NotConfigured,
    #[error("`{0}` is not an http(s) URL with a host")]
    BadUrl(String),
    /// `checks.ca_file` cannot be used.
    #[error("{0}")]
    Trust(String),
}

/// Measures `url` `samples` times, one after another, each sample within `cfg.timeout`; HTTPS trusts the
/// bundled webpki roots and the CAs of `cfg.ca_file`.
pub async fn measure_latency(
    url: &str,
    samples: u32,
    cfg: &super::ChecksConfig,
) -> Result<LatencyReport, LatencyError> {
    let timeout = cfg.timeout;
    let parsed = url::Url::parse(url).map_err(|_| LatencyError::BadUrl(url.into()))?;
    let https = match parsed.scheme() {
        "http" => false,
        "https" => true,
        _ => return Err(LatencyError::BadUrl(url.into())),
    };
    let host = parsed
        .host_str()
        .ok_or_else(|| LatencyError::BadUrl(url.into()))?
        .to_string();
    let port = parsed
        .port_or_known_default()
        .unwrap_or(if https { 443 } else { 80 });
    let path = match parsed.query() {
        Some(q) => format!("{}?{q}", parsed.path()),
        None => parsed.path().to_string(),
    };
    let tls = if https {
        Some(tls_config(cfg.trusted_cas().map_err(LatencyError::Trust)?)?)
    } else {
        None
    };
    let mut report = LatencyReport {
        url: url.into(),
        samples: Vec::new(),
        failures: Vec::new(),
    };
    for _ in 0..samples.max(1) {
        match tokio::time::timeout(timeout, sample(&host, port, tls.clone(), &path)).await {
            Ok(Ok(phases)) => report.samples.push(phases),
            Ok(Err(reason)) => report.failures.push(reason),
            Err(_) => report.failures.push(format!(
                "no answer within {} ms (timeout)",
                timeout.as_millis()
            )),
        }
    }
    Ok(report)
}

fn ms_since(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1000.0
}

async fn sample(
    host: &str,
    port: u16,
    tls: Option<Arc<rustls::ClientConfig>>,
    path: &str,
) -> Result<Phases, String> {
    let start = Instant::now();
    let host_for_lookup = host.trim_start_matches('[').trim_end_matches(']');
    let addr = tokio::net::lookup_host((host_for_lookup, port))
        .await
        .map_err(|e| format!("DNS lookup of {host} failed: {e}"))?
        .next()
        .ok_or_else(|| format!("DNS lookup of {host} found no address"))?;
    let dns = ms_since(start);
    let tcp = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect to {addr}: {}", super::http_check::io_reason(&e)))?;
    let connect = ms_since(start);
    if let Some(tls) = tls {
        let name = rustls::pki_types::ServerName::try_from(host_for_lookup.to_string())
            .map_err(|_| format!("`{host}` is not a valid TLS server name"))?;
        let tls = tokio_rustls::TlsConnector::from(tls)
            .connect(name, tcp)
            .await
            .map_err(|e| format!("TLS handshake: {e}"))?;
        let tls_done = ms_since(start);
        request(tls, host, path, start, dns, connect, Some(tls_done)).await
    } else {
        request(tcp, host, path, start, dns, connect, None).await
    }
}

async fn request<S>(
    stream: S,
    host: &str,
    path: &str,
    start: Instant,
    dns: f64,
    connect: f64,
    tls: Option<f64>,
) -> Result<Phases, String>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("HTTP handshake: {e}"))?;
    let driver = tokio::spawn(conn);
    let req = http::Request::get(path)
        .header(http::header::HOST, host)
        .header(http::header::USER_AGENT, "mystocks-bot latency")
        .body(Empty::<Bytes>::new())
        .map_err(|e| e.to_string())?;
    let response = sender
        .send_request(req)
        .await
        .map_err(|e| format!("request: {e}"))?;
    let ttfb = ms_since(start);
    let status = response.status().as_u16();
    response
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("reading the body: {e}"))?;
    let total = ms_since(start);
    driver.abort();
    Ok(Phases {
        dns,
        connect,
        tls,
        ttfb,
        total,
        status,
    })
}

/// The TLS client: webpki's roots plus `extra` (the CAs of `checks.ca_file`), HTTP/1.1 only.
fn tls_config(
    extra: Vec<rustls::pki_types::CertificateDer<'static>>,
) -> Result<Arc<rustls::ClientConfig>, LatencyError> {
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    for cert in extra {
        roots
            .add(cert)
            .map_err(|e| LatencyError::Trust(format!("checks.ca_file: unusable CA: {e}")))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| LatencyError::Trust(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
