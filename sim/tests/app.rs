//! The simulated MyStocks application against a fake cluster, over real HTTP and TCP: health, database and
//! metrics endpoints under every scenario, pod logs and usage, the control endpoint and the Redis stand-in.

#[path = "app/fake.rs"]
mod fake;

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::Duration;
use fake::{FakeCluster, parse_metrics, pod, ready, serve, t0};
use http::Method;
use mystocks_sim::app::{self, logs, usage};
use mystocks_sim::world::{ClusterView, PodState, Scenario, ScenarioState};
use serde_json::Value;

async fn get(addr: std::net::SocketAddr, path: &str) -> (u16, String, Option<String>) {
    let response = reqwest::get(format!("http://{addr}{path}"))
        .await
        .expect("request");
    let status = response.status().as_u16();
    let served_by = response
        .headers()
        .get("x-served-by")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    (status, response.text().await.expect("body"), served_by)
}

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

async fn pod_body(
    view: &FakeCluster,
    pod: &mystocks_sim::world::PodView,
    path: &str,
) -> (u16, String) {
    let response = app::respond_as_pod(view, pod, &Method::GET, path).await;
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

#[tokio::test]
async fn healthy_app_balances_over_every_serving_pod() {
    let view = FakeCluster::three("rr", Scenario::Healthy);
    let addr = serve(app::http_router(view.clone())).await;
    let mut seen = BTreeSet::new();
    for _ in 0..6 {
        let (status, body, served_by) = get(addr, "/health").await;
        assert_eq!(status, 200, "{body}");
        let body = json(&body);
        assert_eq!(body["status"], "healthy");
        assert_eq!(body["version"], "v1.0.1");
        assert_eq!(
            Some(body["pod"].as_str().unwrap_or("").to_string()),
            served_by
        );
        seen.insert(served_by.unwrap_or_default());
    }
    assert_eq!(seen.len(), 3, "round robin reaches every pod: {seen:?}");
    let (status, body, _) = get(addr, "/api/health/database").await;
    assert_eq!(status, 200);
    let body = json(&body);
    assert!(body["pool"]["active"].as_u64() < body["pool"]["max"].as_u64());
    let (status, body, _) = get(addr, "/api/v1/nothing-here").await;
    assert_eq!(
        (status, json(&body)["detail"].as_str()),
        (404, Some("Not Found"))
    );
}

#[tokio::test]
async fn no_serving_pod_means_no_healthy_upstream() {
    let pods = vec![
        pod(
            "nh-1",
            "mystocks/api:v1.0.2",
            PodState::CrashLoopBackOff,
            Some(30),
        ),
        pod(
            "nh-2",
            "mystocks/api:v1.0.1",
            PodState::Running { ready: false },
            Some(1),
        ),
    ];
    let addr = serve(app::http_router(FakeCluster::new(
        pods,
        Scenario::BadRelease,
    )))
    .await;
    let (status, body, _) = get(addr, "/health").await;
    assert_eq!((status, body.as_str()), (503, "no healthy upstream"));
}

#[tokio::test]
async fn a_pod_that_is_not_up_refuses_like_the_pod_proxy() {
    let view = FakeCluster::new(vec![], Scenario::Healthy);
    let states = [
        (PodState::Pending, None),
        (PodState::ContainerCreating, None),
        (PodState::CrashLoopBackOff, Some(40)),
        (PodState::ImagePullBackOff, None),
        (PodState::Terminating, Some(600)),
    ];
    for (i, (state, age)) in states.into_iter().enumerate() {
        let p = pod(&format!("down-{i}"), "mystocks/api:v1.0.1", state, age);
        let (status, body) = pod_body(&view, &p, "/health").await;
        assert_eq!(status, 503, "{state:?}");
        let ip = app::pod_ip(&p.uid);
        assert_eq!(
            body,
            format!(
                "error trying to reach service: dial tcp {ip}:8000: connect: connection refused"
            )
        );
    }
    let starting = pod(
        "down-starting",
        "mystocks/api:v1.0.1",
        PodState::Running { ready: false },
        Some(1),
    );
    let (status, body) = pod_body(&view, &starting, "/health").await;
    assert_eq!(
        (status, json(&body)["status"].as_str()),
        (503, Some("unhealthy"))
    );
    let up = ready("down-ok", "mystocks/api:v1.0.1");
    let wrong = app::respond_as_pod(view.as_ref(), &up, &Method::POST, "/health").await;
    assert_eq!(wrong.status().as_u16(), 405);
}

#[tokio::test]
async fn bad_release_pod_answers_500_and_counts_them_until_it_crashes() {
    let view = FakeCluster::new(vec![], Scenario::BadRelease);
    let running = PodState::Running { ready: false };
    let mut crashing = pod("bad-1", "mystocks/api:v1.0.2", running, None);
    crashing.started_at = Some(t0() - Duration::milliseconds(800));
    let (status, body) = pod_body(&view, &crashing, "/health").await;
    assert_eq!(status, 500);
    assert!(
        json(&body)["reason"]
            .as_str()
            .unwrap_or("")
            .contains("exchange_code"),
        "{body}"
    );
    let (status, metrics) = pod_body(&view, &crashing, "/metrics").await;
    assert_eq!(status, 200);
    let m = parse_metrics(&metrics);
    assert!(m["http_requests_total{status=\"500\"}"] > 0.0, "{metrics}");
    view.advance(app::CRASH_AFTER_SECS);
    let (status, body) = pod_body(&view, &crashing, "/health").await;
    assert_eq!(status, 503, "crashed process no longer listens: {body}");
    let good = ready("bad-good", "mystocks/api:v1.0.1");
    assert_eq!(
        pod_body(&view, &good, "/health").await.0,
        200,
        "other tags are unaffected"
    );
}

#[tokio::test]
async fn metrics_are_consistent_and_only_grow() {
    let view = FakeCluster::three("met", Scenario::Healthy);
    let p = view.app_pods().remove(0);
    let response = app::respond_as_pod(view.as_ref(), &p, &Method::GET, "/metrics").await;
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap_or("")
        .to_string();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let first = parse_metrics(&pod_body(&view, &p, "/metrics").await.1);
    for series in [
        "cache_hit_total",
        "cache_miss_total",
        "db_pool_connections_active",
        "db_pool_connections_idle",
        "db_pool_connections_max",
        "db_pool_wait_seconds",
        "http_request_duration_seconds_sum",
    ] {
        assert!(first.contains_key(series), "missing {series}");
    }
    assert!(first["cache_hit_ratio"] > 0.85, "healthy hit ratio");
    let count = first["http_request_duration_seconds_count"];
    assert!(
        count > 1000.0,
        "ten minutes at a few requests a second: {count}"
    );
    assert_eq!(
        first["http_request_duration_seconds_bucket{le=\"+Inf\"}"],
        count
    );
    let by_status: f64 = first
        .iter()
        .filter(|(k, _)| k.starts_with("http_requests_total"))
        .map(|(_, v)| v)
        .sum();
    assert_eq!(by_status, count);
    let buckets: Vec<f64> = first
        .iter()
        .filter(|(k, _)| k.contains("_bucket"))
        .map(|(_, v)| *v)
        .collect();
    assert!(buckets.len() >= 10);
    assert!(
        !first.keys().any(|k| k.contains("status=\"5")),
        "healthy serves no 5xx"
    );
    view.set_scenario_name(Scenario::HighLatency);
    view.advance(60);
    let second = parse_metrics(&pod_body(&view, &p, "/metrics").await.1);
    for (series, value) in &first {
        if series.ends_with("_total") || series.contains("_bucket") || series.ends_with("_count") {
            assert!(
                second[series] >= *value,
                "{series} went from {value} to {}",
                second[series]
            );
        }
    }
    let hits = second["cache_hit_total"] - first["cache_hit_total"];
    let misses = second["cache_miss_total"] - first["cache_miss_total"];
    assert!(
        misses > hits,
        "a miss storm under high-latency: {hits} hits, {misses} misses"
    );
}

#[tokio::test]
async fn exhausted_pool_shows_active_equal_max_and_growing_waits() {
    let view = FakeCluster::three("pool", Scenario::DbPoolExhausted);
    let addr = serve(app::http_router(view.clone())).await;
    let (status, body, _) = get(addr, "/api/health/database").await;
    assert_eq!(status, 503);
    let body = json(&body);
    assert_eq!(body["pool"]["active"], body["pool"]["max"]);
    assert!(
        body["error"]
            .as_str()
            .unwrap_or("")
            .contains("QueuePool limit")
    );
    let (status, body, _) = get(addr, "/health").await;
    assert_eq!(
        (status, json(&body)["status"].as_str()),
        (200, Some("degraded"))
    );
    let first = parse_metrics(&get(addr, "/metrics").await.1);
    assert_eq!(
        first["db_pool_connections_active"],
        first["db_pool_connections_max"]
    );
    assert_eq!(first["db_pool_connections_idle"], 0.0);
    assert!(first["http_requests_total{status=\"503\"}"] > 0.0);
    view.advance(30);
    for _ in 0..3 {
        let next = parse_metrics(&get(addr, "/metrics").await.1);
        if next["process_start_time_seconds"] == first["process_start_time_seconds"] {
            assert!(next["db_pool_wait_seconds"] > first["db_pool_wait_seconds"]);
        }
    }
}

#[tokio::test]
async fn redis_down_reports_the_cache_down_and_no_hits() {
    let view = FakeCluster::three("rd", Scenario::RedisDown);
    let addr = serve(app::http_router(view.clone())).await;
    let (status, body, _) = get(addr, "/health").await;
    assert_eq!(status, 503);
    assert_eq!(json(&body)["checks"]["cache"], "down");
    let m = parse_metrics(&get(addr, "/metrics").await.1);
    assert_eq!(m["cache_hit_total"], 0.0);
    assert_eq!(m["cache_hit_ratio"], 0.0);
    assert!(m["cache_miss_total"] > 0.0);
}

#[tokio::test]
async fn high_latency_really_slows_health_and_high_cpu_stays_healthy() {
    let view = FakeCluster::three("lat", Scenario::HighLatency);
    let addr = serve(app::http_router(view.clone())).await;
    let started = std::time::Instant::now();
    let (status, _, _) = get(addr, "/health").await;
    assert_eq!(status, 200);
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(300),
        "the sleep is real"
    );
    let cpu = FakeCluster::three("cpu", Scenario::HighCpu);
    let addr = serve(app::http_router(cpu)).await;
    assert_eq!(get(addr, "/health").await.0, 200);
}

fn texts(lines: &[logs::LogLine]) -> Vec<&str> {
    lines.iter().map(|l| l.text.as_str()).collect()
}

fn five_xx(line: &str) -> bool {
    ["500", "502", "503"].iter().any(|c| line.contains(c))
}

#[test]
fn logs_are_deterministic_and_clean_when_healthy() {
    let p = ready("log-h", "mystocks/api:v1.0.1");
    let st = ScenarioState::default();
    let from = t0() - Duration::seconds(600);
    let a = logs::lines(&p, &st, from, t0());
    assert_eq!(
        a,
        logs::lines(&p, &st, from, t0()),
        "asking twice gives the same lines"
    );
    assert!(
        a.len() > 1200 && a.len() < 4000,
        "a few lines a second: {}",
        a.len()
    );
    assert!(a.windows(2).all(|w| w[0].at <= w[1].at), "oldest first");
    assert!(a[0].text.starts_with("INFO Starting mystocks-api v1.0.1"));
    assert!(
        a.iter()
            .any(|l| l.text.contains("\"GET /api/v1/quotes/") && l.text.contains("\" 200 "))
    );
    assert!(
        !a.iter().any(|l| l.text.to_lowercase().contains("error")),
        "grep -i error finds nothing"
    );
    assert!(
        !a.iter().any(|l| five_xx(&l.text)),
        "grep 500|502|503 finds nothing"
    );
    let tail = logs::tail(&p, &st, t0(), 100);
    assert_eq!(
        tail.as_slice(),
        &a[a.len() - 100..],
        "tail is the end of lines"
    );
    let last_minute = logs::lines(&p, &st, t0() - Duration::seconds(60), t0());
    assert_eq!(last_minute.as_slice(), &a[a.len() - last_minute.len()..]);
    assert!(
        logs::previous_lines(&p, &st, t0()).is_empty(),
        "never restarted"
    );
    let never = pod(
        "log-never",
        "mystocks/api:v1.0.1",
        PodState::ContainerCreating,
        None,
    );
    assert!(logs::lines(&never, &st, from, t0()).is_empty());
}

#[test]
fn logs_follow_the_scenario() {
    let p = ready("log-s", "mystocks/api:v1.0.1");
    let from = t0() - Duration::seconds(300);
    let under = |scenario| {
        logs::lines(
            &p,
            &ScenarioState {
                scenario,
                ..Default::default()
            },
            from,
            t0(),
        )
    };
    let pool = under(Scenario::DbPoolExhausted);
    assert!(
        pool.iter()
            .any(|l| l.text.starts_with("ERROR db: QueuePool limit of size 20"))
    );
    assert!(
        pool.iter()
            .any(|l| l.text.starts_with("INFO ") && l.text.contains("\" 503 "))
    );
    let redis = under(Scenario::RedisDown);
    assert!(
        redis
            .iter()
            .any(|l| l.text.starts_with("ERROR cache:") && l.text.contains("Connection refused"))
    );
    assert!(
        redis
            .iter()
            .any(|l| l.text.contains("\"GET /health HTTP/1.1\" 503 ")),
        "probes fail"
    );
    let slow = under(Scenario::HighLatency);
    assert!(
        slow.iter()
            .any(|l| l.text.starts_with("WARN cache miss storm"))
    );
    assert!(slow.iter().any(|l| l.text.starts_with("WARN slow request")));
    let cpu = under(Scenario::HighCpu);
    assert!(
        cpu.iter()
            .any(|l| l.text.starts_with("WARN event loop blocked"))
    );
}

#[test]
fn a_crashing_release_logs_500s_then_a_traceback_and_keeps_it_for_previous() {
    let st = ScenarioState {
        scenario: Scenario::BadRelease,
        ..Default::default()
    };
    let mut p = pod(
        "log-c",
        "mystocks/api:v1.0.2",
        PodState::CrashLoopBackOff,
        Some(20),
    );
    p.restarts = 3;
    let current = logs::lines(&p, &st, t0() - Duration::seconds(60), t0());
    let text = texts(&current);
    assert!(text.iter().any(|l| l.contains("\" 500 ")), "{text:#?}");
    assert!(text.iter().any(|l| l.starts_with("ERROR request failed")));
    assert!(text.contains(&"Traceback (most recent call last):"));
    assert!(
        text.last()
            .is_some_and(|l| l.starts_with("CRITICAL mystocks-api v1.0.2 exiting")),
        "{text:#?}"
    );
    let previous = logs::previous_lines(&p, &st, t0());
    assert!(!previous.is_empty());
    assert!(previous.last().is_some_and(|l| l.text.contains("exiting")));
    assert!(previous.last().map(|l| l.at) < current.first().map(|l| l.at));
}

#[test]
fn a_finished_run_keeps_the_lines_it_wrote_while_running() {
    let st = ScenarioState {
        scenario: Scenario::BadRelease,
        ..Default::default()
    };
    let running = PodState::Running { ready: false };
    let mut p = pod("log-run", "mystocks/api:v1.0.2", running, None);
    let started = t0() - Duration::milliseconds(900);
    p.started_at = Some(started);
    let while_up = logs::lines(&p, &st, started, t0());
    assert!(!while_up.is_empty());
    assert!(
        !texts(&while_up).contains(&"Traceback (most recent call last):"),
        "not crashed yet"
    );
    // The crash: the cluster records the run and the container waits in CrashLoopBackOff.
    let run = logs::FinishedRun {
        started_at: started,
        finished_at: started + Duration::seconds(1),
    };
    p.state = PodState::CrashLoopBackOff;
    p.started_at = None;
    p.restarts = 1;
    let after = logs::run_lines(&p, &st, run);
    assert_eq!(
        &after[..while_up.len()],
        while_up.as_slice(),
        "the run's lines do not change"
    );
    assert!(
        after
            .last()
            .is_some_and(|l| l.text.starts_with("CRITICAL") && l.at >= run.finished_at)
    );
    assert_eq!(after, logs::run_lines(&p, &st, run));
    assert!(
        logs::lines(&p, &st, started, t0() + Duration::seconds(5)).is_empty(),
        "nothing runs now"
    );
}

#[test]
fn usage_follows_the_load_and_the_scenario() {
    let p = ready("use-1", "mystocks/api:v1.0.1");
    let hot = ScenarioState {
        scenario: Scenario::HighCpu,
        ..Default::default()
    };
    let at3 = usage::pod_usage(&p, &hot, 3, t0());
    assert!(
        (800..=1000).contains(&at3.cpu_millicores),
        "~900m at 3 pods: {at3:?}"
    );
    assert_eq!(
        at3,
        usage::pod_usage(&p, &hot, 3, t0() + Duration::seconds(20)),
        "same minute, same usage"
    );
    let at10 = usage::pod_usage(&p, &hot, 10, t0());
    assert!(
        at10.cpu_millicores < at3.cpu_millicores / 2,
        "load is shared: {at10:?}"
    );
    let calm = usage::pod_usage(&p, &ScenarioState::default(), 3, t0());
    assert!(
        calm.cpu_millicores < 200 && calm.memory_bytes > 100 << 20,
        "{calm:?}"
    );
    let waiting = pod(
        "use-2",
        "mystocks/api:v1.0.1",
        PodState::ImagePullBackOff,
        None,
    );
    assert_eq!(usage::pod_usage(&waiting, &hot, 3, t0()).cpu_millicores, 0);
}

#[tokio::test]
async fn control_endpoint_switches_and_rejects() {
    let view = FakeCluster::three("ctl", Scenario::Healthy);
    let addr = serve(app::control_router(view.clone())).await;
    let client = reqwest::Client::new();
    let (status, body, _) = get(addr, "/scenario").await;
    assert_eq!(
        (status, json(&body)),
        (
            200,
            serde_json::json!({"scenario":"healthy","bad_tag":"v1.0.2"})
        )
    );
    assert!(get(addr, "/").await.1.contains("PUT  /scenario"));
    let put = client
        .put(format!("http://{addr}/scenario"))
        .body(r#"{"scenario":"bad-release","bad_tag":"v9"}"#);
    assert_eq!(put.send().await.expect("put").status().as_u16(), 200);
    assert_eq!(
        view.scenario(),
        ScenarioState {
            scenario: Scenario::BadRelease,
            bad_tag: "v9".into()
        }
    );
    let post = client
        .post(format!("http://{addr}/scenario/redis-down"))
        .send()
        .await
        .expect("post");
    assert_eq!(post.status().as_u16(), 200);
    assert_eq!(view.scenario().scenario, Scenario::RedisDown);
    assert_eq!(view.scenario().bad_tag, "v9", "kept when not given");
    let unknown = client
        .post(format!("http://{addr}/scenario/meltdown"))
        .send()
        .await
        .expect("post");
    assert_eq!(unknown.status().as_u16(), 400);
    let body = json(&unknown.text().await.expect("body"));
    assert!(
        body["error"]
            .as_str()
            .unwrap_or("")
            .contains("unknown scenario `meltdown`")
    );
    assert_eq!(body["known"].as_array().map(Vec::len), Some(6));
    let malformed = client
        .put(format!("http://{addr}/scenario"))
        .body("{nope")
        .send()
        .await
        .expect("put");
    assert_eq!(malformed.status().as_u16(), 400);
    assert_eq!(
        view.scenario().scenario,
        Scenario::RedisDown,
        "rejected requests change nothing"
    );
}

async fn start_redis(
    view: Arc<FakeCluster>,
) -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    (addr, tokio::spawn(app::redis::serve(listener, view)))
}

#[tokio::test]
async fn the_cache_stand_in_answers_the_redis_crate() {
    let view = FakeCluster::three("cache", Scenario::Healthy);
    let (addr, _server) = start_redis(view.clone()).await;
    let client = redis::Client::open(format!("redis://{addr}/")).expect("client");
    let mut con = client
        .get_multiplexed_async_connection()
        .await
        .expect("connect");
    let pong: String = redis::cmd("PING")
        .query_async(&mut con)
        .await
        .expect("ping");
    assert_eq!(pong, "PONG");
    let echo: String = redis::cmd("PING")
        .arg("hi there")
        .query_async(&mut con)
        .await
        .expect("ping msg");
    assert_eq!(echo, "hi there");
    let info: String = redis::cmd("INFO")
        .query_async(&mut con)
        .await
        .expect("info");
    for field in [
        "redis_version:",
        "connected_clients:",
        "used_memory:",
        "keyspace_hits:",
        "keyspace_misses:",
    ] {
        assert!(info.contains(field), "INFO lacks {field}: {info}");
    }
    let unknown: redis::RedisResult<String> = redis::cmd("FLUSHALL").query_async(&mut con).await;
    assert!(unknown.is_err_and(|e| e.to_string().contains("unknown command")));
}

#[tokio::test]
async fn the_cache_is_unreachable_under_redis_down() {
    let view = FakeCluster::three("cache-down", Scenario::RedisDown);
    let (addr, _server) = start_redis(view.clone()).await;
    let client = redis::Client::open(format!("redis://{addr}/")).expect("client");
    let result = async {
        let mut con = client.get_multiplexed_async_connection().await?;
        redis::cmd("PING").query_async::<String>(&mut con).await
    };
    assert!(
        result.await.is_err(),
        "PING must fail while the cache is down"
    );
    view.set_scenario_name(Scenario::Healthy);
    let mut con = client
        .get_multiplexed_async_connection()
        .await
        .expect("back up");
    let pong: String = redis::cmd("PING")
        .query_async(&mut con)
        .await
        .expect("ping");
    assert_eq!(pong, "PONG");
}

#[tokio::test]
async fn the_cache_speaks_inline_and_survives_garbage() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let view = FakeCluster::three("cache-raw", Scenario::Healthy);
    let (addr, server) = start_redis(view).await;
    let exchange = |input: &'static [u8]| async move {
        let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        stream.write_all(input).await.expect("write");
        let mut out = Vec::new();
        let _ = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            stream.read_to_end(&mut out),
        )
        .await;
        String::from_utf8_lossy(&out).into_owned()
    };
    assert_eq!(
        exchange(b"PING\r\nECHO hello\r\nQUIT\r\n").await,
        "+PONG\r\n$5\r\nhello\r\n+OK\r\n"
    );
    assert!(
        exchange(b"*1\r\n+PING\r\n")
            .await
            .starts_with("-ERR Protocol error")
    );
    assert!(
        exchange(b"*2\r\n$4\r\nECHO\r\n$-7\r\n")
            .await
            .starts_with("-ERR Protocol error")
    );
    assert!(
        exchange(b"HELLO 3\r\nQUIT\r\n")
            .await
            .starts_with("-ERR unknown command 'HELLO'")
    );
    server.abort();
    let _ = server.await;
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "dropping the server closes the port"
    );
}
