//! Recent rates without Prometheus: every running pod's `/metrics` scraped twice through the pod proxy, a
//! short gap apart, and the counters' differences summed. Through the load balancer two scrapes would reach
//! different pods, and one scrape only tells totals since each process started.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::metrics::{MetricsSummary, parse_metrics, quantile};
use super::pods::{proxy_get, proxy_path};
use super::prometheus::WindowedRates;
use crate::cluster::{self, Target};

/// Scrapes the running pods' metrics twice, `gap` apart; `None` when no pod could be scraped twice.
pub async fn scrape_twice(
    kube: &kube::Client,
    target: &Target,
    port: u16,
    path: &str,
    gap: Duration,
    timeout: Duration,
) -> Result<WindowedRates, String> {
    let rows = cluster::pods(kube, target, None)
        .await
        .map_err(|e| e.to_string())?;
    let urls: Vec<String> = rows
        .iter()
        .filter(|r| r.status == "Running" && r.ready == r.containers)
        .map(|r| proxy_path(&target.namespace, &r.name, port, path))
        .collect();
    if urls.is_empty() {
        return Err("no running pod to scrape".into());
    }
    let first = scrape_all(kube, &urls, timeout).await;
    let started = Instant::now();
    tokio::time::sleep(gap).await;
    let second = scrape_all(kube, &urls, timeout).await;
    let seconds = started.elapsed().as_secs_f64();
    let pairs: Vec<(MetricsSummary, MetricsSummary)> = first
        .into_iter()
        .zip(second)
        .filter_map(|(a, b)| Some((a?, b?)))
        .collect();
    if pairs.is_empty() {
        return Err("no pod answered both scrapes".into());
    }
    Ok(rates(&pairs, seconds))
}

async fn scrape_all(
    kube: &kube::Client,
    urls: &[String],
    timeout: Duration,
) -> Vec<Option<MetricsSummary>> {
    let scrapes = urls.iter().map(|url| async move {
        match tokio::time::timeout(timeout, proxy_get(kube, url)).await {
            Ok(Ok((200, body))) => parse_metrics(&body).ok(),
            _ => None,
        }
    });
    futures::future::join_all(scrapes).await
}

/// The rates between pairs of scrapes of the same pods, `seconds` apart. A counter that went down (the process
/// restarted) counts from zero.
pub fn rates(pairs: &[(MetricsSummary, MetricsSummary)], seconds: f64) -> WindowedRates {
    let delta = |a: Option<f64>, b: Option<f64>| -> Option<f64> {
        let (a, b) = (a?, b?);
        Some(if b >= a { b - a } else { b })
    };
    let sum = |f: &dyn Fn(&MetricsSummary, &MetricsSummary) -> Option<f64>| -> Option<f64> {
        let values: Vec<f64> = pairs.iter().filter_map(|(a, b)| f(a, b)).collect();
        (!values.is_empty()).then(|| values.iter().fold(0.0, |x, y| x + y))
    };
    let requests = sum(&|a, b| delta(Some(a.requests()), Some(b.requests())));
    let errors = sum(&|a, b| delta(Some(a.server_errors()), Some(b.server_errors())));
    let hits = sum(&|a, b| delta(a.cache_hits, b.cache_hits));
    let misses = sum(&|a, b| delta(a.cache_misses, b.cache_misses));
    let wait = sum(&|a, b| delta(a.pool_wait_seconds, b.pool_wait_seconds));
    let mut buckets: BTreeMap<u64, (f64, f64)> = BTreeMap::new();
    for (a, b) in pairs {
        for &(le, count) in &b.buckets {
            let before = a
                .buckets
                .iter()
                .find(|(l, _)| *l == le)
                .map_or(0.0, |(_, c)| *c);
            let key = if le.is_infinite() {
                u64::MAX
            } else {
                (le * 1e9) as u64
            };
            let d = if count >= before {
                count - before
            } else {
                count
            };
            buckets.entry(key).or_insert((le, 0.0)).1 += d;
        }
    }
    let buckets: Vec<(f64, f64)> = buckets.into_values().collect();
    let per_second = |v: Option<f64>| v.map(|v| v / seconds.max(0.001));
    WindowedRates {
        requests_per_second: per_second(requests),
        error_ratio: match (errors, requests) {
            (Some(e), Some(r)) if r > 0.0 => Some(e / r),
            _ => None,
        },
        cache_hit_rate: match (hits, misses) {
            (Some(h), Some(m)) if h + m > 0.0 => Some(h / (h + m)),
            _ => None,
        },
        pool_wait_per_second: per_second(wait),
        latency_p50_seconds: quantile(0.5, &buckets),
        latency_p99_seconds: quantile(0.99, &buckets),
        source: format!("{} pods over {seconds:.1} s", pairs.len()),
    }
}
