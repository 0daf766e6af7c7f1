//! Pod logs and resource usage: deterministic, scenario-driven, searchable like the manual does.

use chrono::Duration;
use mystocks_sim::app::{logs, usage};
use mystocks_sim::world::{PodState, Scenario, ScenarioState};

use super::fake::{pod, ready, t0};

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
            .any(|l| l.text.starts_with("WARN db: GET /api/v1/portfolio")
                && l.text.contains("for a pool connection (pool 20/20 in use)"))
    );
    assert!(
        pool.iter()
            .any(|l| l.text.starts_with("WARN db: ") && l.text.contains("requests waiting"))
    );
    assert!(
        !pool.iter().any(|l| five_xx(&l.text)),
        "requests wait for a connection and are served: no 5xx"
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
            .any(|l| l.text.contains("\"GET /health/live HTTP/1.1\" 200 ")),
        "the kubelet's probes ask whether the process is up, and it is"
    );
    let slow = under(Scenario::HighLatency);
    assert!(
        slow.iter()
            .any(|l| l.text.starts_with("WARN tdengine: slow query"))
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
