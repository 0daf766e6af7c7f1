//! Requests per second the sim's API serves: a pod list (3 pods, and 3,000 pods), a pod list as a Table, and a
//! deployment PATCH — over HTTPS on loopback with the sim and the client sharing one runtime thread.

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use mystocks_sim::{Sim, SimConfig};

struct Bench {
    sim: Sim,
    http: reqwest::Client,
}

impl Bench {
    async fn start() -> Bench {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let sim = Sim::start(SimConfig {
            speed: 100.0,
            ..Default::default()
        })
        .await
        .expect("sim starts");
        let ca = reqwest::Certificate::from_pem(sim.ca_pem().as_bytes()).expect("CA");
        let http = reqwest::Client::builder()
            .add_root_certificate(ca)
            .build()
            .expect("client");
        Bench { sim, http }
    }

    async fn get(&self, path: &str, accept: &str) {
        let resp = self
            .http
            .get(format!("{}{path}", self.sim.api_url()))
            .bearer_auth(self.sim.token())
            .header("accept", accept)
            .send()
            .await
            .expect("answer");
        assert!(resp.status().is_success());
        resp.bytes().await.expect("body");
    }

    async fn patch(&self, n: u64) {
        let body = format!(r#"{{"metadata":{{"annotations":{{"bench/iteration":"{n}"}}}}}}"#);
        let resp = self
            .http
            .patch(format!(
                "{}/apis/apps/v1/namespaces/mystocks/deployments/mystocks-api",
                self.sim.api_url()
            ))
            .bearer_auth(self.sim.token())
            .header("content-type", "application/merge-patch+json")
            .body(body)
            .send()
            .await
            .expect("answer");
        assert!(resp.status().is_success());
        resp.bytes().await.expect("body");
    }

    async fn scale_to(&self, replicas: i32) {
        let body = format!(r#"{{"spec":{{"replicas":{replicas}}}}}"#);
        self.http
            .patch(format!(
                "{}/apis/apps/v1/namespaces/mystocks/deployments/mystocks-api/scale",
                self.sim.api_url()
            ))
            .bearer_auth(self.sim.token())
            .header("content-type", "application/merge-patch+json")
            .body(body)
            .send()
            .await
            .expect("scaled");
        let ready = |sim: &Sim| {
            sim.deployment().status.and_then(|s| s.available_replicas) == Some(replicas)
        };
        assert!(
            self.sim.wait_until(ready, Duration::from_secs(120)).await,
            "{replicas} pods ready"
        );
    }
}

const PODS: &str = "/api/v1/namespaces/mystocks/pods?limit=500";
const JSON: &str = "application/json";
const TABLE: &str = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";

fn api(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let bench = rt.block_on(Bench::start());
    c.bench_function("list 3 pods (json)", |b| {
        b.to_async(&rt).iter(|| bench.get(PODS, JSON))
    });
    c.bench_function("list 3 pods (table)", |b| {
        b.to_async(&rt).iter(|| bench.get(PODS, TABLE))
    });
    let mut n = 0u64;
    c.bench_function("patch deployment (merge)", |b| {
        b.to_async(&rt).iter(|| {
            n += 1;
            bench.patch(n)
        })
    });
    rt.block_on(bench.scale_to(3000));
    let all = "/api/v1/namespaces/mystocks/pods";
    c.bench_function("list 3000 pods (json)", |b| {
        b.to_async(&rt).iter(|| bench.get(all, JSON))
    });
    c.bench_function("list 500 of 3000 pods (table)", |b| {
        b.to_async(&rt).iter(|| bench.get(PODS, TABLE))
    });
    c.bench_function("get one pod among 3000", |b| {
        let name = bench.sim.pods()[1500]
            .metadata
            .name
            .clone()
            .unwrap_or_default();
        let path = format!("/api/v1/namespaces/mystocks/pods/{name}");
        b.to_async(&rt).iter(|| bench.get(&path, JSON))
    });
    c.bench_function("patch deployment with 3000 pods", |b| {
        b.to_async(&rt).iter(|| {
            n += 1;
            bench.patch(n)
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = api
}
criterion_main!(benches);
