//! `checks.ca_file`: an app served over HTTPS with a certificate from a private CA (generated with rcgen, the
//! way the sim makes its API server's) is trusted by the HTTP checks and by `latency` only once that CA is
//! configured; an unusable file is named, never a panic.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use mystocks_commands::checks::http_check::client_for;
use mystocks_commands::checks::latency::LatencyError;
use mystocks_commands::checks::{
    CheckLevel, ChecksConfig, measure_latency, run_health, scrape_metrics,
};
use mystocks_commands::cluster::Target;
use tokio::net::TcpListener;

use crate::fakes::{Received, answer_one, only, unused_kube};

const HEALTHY: &str =
    r#"{"status":"healthy","version":"v1.0.1","pool":{"active":2,"idle":5,"max":20}}"#;

/// An HTTPS server for `tls` answering `HEALTHY` to every request (metrics text on `/metrics`).
async fn https_app(tls: Arc<rustls::ServerConfig>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A client that does not trust the certificate aborts the handshake: nothing to answer.
                let Ok(stream) = acceptor.accept(tcp).await else {
                    return;
                };
                let _ = answer_one(stream, |r: &Received| {
                    if r.path == "/metrics" {
                        (
                            200,
                            "text/plain; version=0.0.4",
                            "cache_hit_ratio 0.93\n".into(),
                        )
                    } else {
                        (200, "application/json", HEALTHY.into())
                    }
                })
                .await;
            });
        }
    });
    addr.to_string()
}

fn pem_file(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    file.write_all(text.as_bytes()).expect("write");
    file
}

#[tokio::test]
async fn a_private_ca_is_trusted_once_configured() {
    let tls = mystocks_sim::tls::generate().expect("CA and certificate");
    let addr = https_app(tls.server_config.clone()).await;
    let base = format!("https://{addr}");
    let untrusting = ChecksConfig {
        api_url: Some(base.clone()),
        ..only(&["api", "database"], Duration::from_secs(2))
    };

    let report = run_health(&untrusting, &unused_kube(), &Target::default(), None).await;
    for line in &report.lines {
        assert_eq!(line.level, CheckLevel::Fail, "{line:?}");
        assert!(line.reason.contains("certificate"), "{line:?}");
    }
    let latency = measure_latency(&format!("{base}/health"), 1, &untrusting)
        .await
        .expect("url");
    assert!(latency.samples.is_empty(), "{latency:?}");
    assert!(
        latency.failures[0].starts_with("TLS handshake")
            && latency.failures[0].contains("certificate"),
        "{latency:?}"
    );

    let ca = pem_file(&tls.ca_pem);
    let trusting = ChecksConfig {
        ca_file: Some(ca.path().to_path_buf()),
        ..untrusting
    };
    assert_eq!(trusting.validate(), Ok(()));
    let report = run_health(&trusting, &unused_kube(), &Target::default(), None).await;
    let levels: Vec<_> = report
        .lines
        .iter()
        .map(|l| (l.name.as_str(), l.level))
        .collect();
    assert_eq!(
        levels,
        [("api", CheckLevel::Ok), ("database", CheckLevel::Ok)],
        "{report:?}"
    );
    assert_eq!(report.lines[0].reason, "200 healthy, v1.0.1");

    let latency = measure_latency(&format!("{base}/health"), 2, &trusting)
        .await
        .expect("url");
    assert_eq!(latency.samples.len(), 2, "{latency:?}");
    for p in &latency.samples {
        assert_eq!(p.status, 200);
        let tls = p.tls.expect("a TLS phase");
        assert!(p.connect <= tls && tls <= p.ttfb, "{p:?}");
    }

    let client = client_for(&trusting).expect("client");
    let scraped = scrape_metrics(&client, &format!("{base}/metrics"))
        .await
        .expect("metrics over the private CA");
    assert_eq!(scraped.cache_hit_rate, Some(0.93));
}

#[tokio::test]
async fn an_unusable_ca_file_is_named_by_every_check_that_needs_it() {
    let missing = ChecksConfig {
        api_url: Some("https://127.0.0.1:9".into()),
        ca_file: Some("/nonexistent/mystocks-ca.pem".into()),
        ..only(&["api", "database"], Duration::from_secs(1))
    };
    let err = missing.validate().expect_err("missing file");
    assert!(
        err.starts_with("checks.ca_file: cannot read /nonexistent/mystocks-ca.pem"),
        "{err}"
    );
    let report = run_health(&missing, &unused_kube(), &Target::default(), None).await;
    assert_eq!(report.lines.len(), 2, "{report:?}");
    for line in &report.lines {
        assert_eq!(line.level, CheckLevel::Fail, "{line:?}");
        assert!(
            line.reason.starts_with("checks.ca_file: cannot read"),
            "{line:?}"
        );
    }
    let err = measure_latency("https://127.0.0.1:9/health", 1, &missing)
        .await
        .expect_err("no CA");
    assert!(matches!(err, LatencyError::Trust(_)), "{err}");

    let not_pem = pem_file("this is not a certificate\n");
    let garbage = ChecksConfig {
        ca_file: Some(not_pem.path().to_path_buf()),
        ..missing
    };
    let err = garbage.validate().expect_err("no certificate in it");
    assert!(err.contains("holds no certificate"), "{err}");
    assert!(client_for(&garbage).is_err_and(|e| e.contains("checks.ca_file")));
}
