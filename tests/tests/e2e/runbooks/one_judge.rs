//! One judge: `metrics` in chat and a runbook step running `metrics` grade the same app alike — the step's reply
//! and the `level` its conditions read say what chat says.

use std::path::PathBuf;

use mystocks_commands::reply::Level;
use mystocks_commands::runbook::RunbookSet;
use mystocks_sim::world::Scenario;

use super::harness::{RunbookApp, all, headed, start};

/// A metrics step, then one guidance step per grade: exactly the one for the step's `level` runs.
const GRADED: &str = r#"title = "Metrics grade"
when = "Comparing the runbook step's grade with chat's."

[[steps]]
id = "m"
title = "Metrics"
run = "metrics"

[[steps]]
title = "Graded ok"
if = "m.level == ok"
say = "graded ok"

[[steps]]
title = "Graded warn"
if = "m.level == warn"
say = "graded warn"

[[steps]]
title = "Graded fail"
if = "m.level == fail"
say = "graded fail"
"#;

fn graded() -> RunbookSet {
    RunbookSet::from_texts([(PathBuf::from("runbooks/metrics-grade.toml"), GRADED)])
}

/// The grade the run's steps say the metrics step had.
fn step_grade(posted: &[mystocks_tests::Recorded]) -> Vec<Level> {
    [(2, Level::Ok), (3, Level::Warn), (4, Level::Fail)]
        .into_iter()
        .filter(|(n, _)| {
            headed(posted, &format!("Metrics grade · step {n}/4"))
                .is_some_and(|r| !r.text().contains("Skipped"))
        })
        .map(|(_, level)| level)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_and_a_runbook_step_grade_the_same_metrics_alike() {
    // Healthy grades ok, a full DB pool fails, no cache hits while Redis is down fails on the cache hit rate.
    for (scenario, expected) in [
        (Scenario::Healthy, Level::Ok),
        (Scenario::DbPoolExhausted, Level::Fail),
        (Scenario::RedisDown, Level::Fail),
    ] {
        let app = RunbookApp::spawn(scenario, graded()).await;
        let chat = app.say("carol", None, "metrics").await;
        assert_eq!(chat.len(), 1, "{scenario:?}: {}", all(&chat));
        assert_eq!(
            chat[0].reply.level,
            expected,
            "{scenario:?}: {}",
            all(&chat)
        );
        let (_, posted) = start(&app, "metrics-grade").await;
        let step = headed(&posted, "Metrics grade · step 1/4").expect("metrics step");
        assert_eq!(
            step.reply.level,
            chat[0].reply.level,
            "{scenario:?}: the step's reply grades as chat's: {}",
            all(&posted)
        );
        assert_eq!(
            step_grade(&posted),
            [expected],
            "{scenario:?}: the step's `level` fact is chat's grade: {}",
            all(&posted)
        );
    }
}
