//! Verify after change: a change that rolled out gets a verdict in its thread; a deploy that fails it gets its
//! rollback proposed in the deployer's name.

use mystocks_sim::world::Scenario;

use mystocks_sim::{PodDelays, SimConfig};
use mystocks_tests::StoreKind;

use super::harness::{RunbookApp, all, headed, requested, shipped};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scale_that_rolled_out_is_verified_ok() {
    let app = RunbookApp::spawn(Scenario::Healthy, shipped()).await;
    let id = requested(&app.say("alice", None, "scale 4").await).expect("request");
    let done = app.say("bob", None, &format!("approve {id}")).await;
    let verdict = headed(&done, "Verification after `scale 4`")
        .expect("verdict posted")
        .text();
    assert!(verdict.contains(": ok"), "{verdict}");
    assert!(
        verdict.contains("api"),
        "the health lines are shown: {verdict}"
    );
    assert!(
        requested(&done).is_none(),
        "no rollback proposed: {}",
        all(&done)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_deploy_gets_its_rollback_proposed_in_the_deployers_name() {
    let app = RunbookApp::spawn(Scenario::BadRelease, shipped()).await;
    let deploy = requested(&app.say("alice", None, "deploy v1.0.2").await).expect("deploy request");
    let done = app.say("bob", None, &format!("approve {deploy}")).await;
    let text = all(&done);
    let verdict = headed(&done, "Verification after `deploy")
        .expect("verdict")
        .text();
    assert!(verdict.contains(": fail"), "{verdict}");
    let rollback = requested(&done).expect("a rollback request");
    assert_ne!(rollback, deploy);
    let request = done
        .iter()
        .find(|r| {
            r.reply.kind == mystocks_commands::reply::ReplyKind::ApprovalRequest
                && !r.update
                && r.text().contains(&rollback)
        })
        .expect("request message")
        .text();
    assert!(request.contains("rollback"), "{request}");
    assert!(
        request.to_lowercase().contains("requested by alice"),
        "in the deployer's name: {request}"
    );
    let own = app.say("alice", None, &format!("approve {rollback}")).await;
    assert!(all(&own).contains("two-person rule"), "{}", all(&own));
    let rolled = app.say("bob", None, &format!("approve {rollback}")).await;
    assert!(
        headed(&rolled, "Verification after `rollback`").is_some(),
        "{text}\n{}",
        all(&rolled)
    );
}

/// Pods removed by a scale-down take a while to stop (their grace period); as `kubectl rollout status` does, the
/// verification leaves them out of the readiness counts, and `pods` shows them as terminating.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scale_down_is_verified_ok_while_the_removed_pods_terminate() {
    let delays = PodDelays {
        // 10 simulated minutes: still terminating when the verification runs (12 s at the sim's speed).
        termination: std::time::Duration::from_secs(600),
        ..SimConfig::default().pod_delays
    };
    let app =
        RunbookApp::spawn_with_delays(Scenario::Healthy, shipped(), StoreKind::Sqlite, delays)
            .await;
    let id = requested(&app.say("alice", None, "scale 1").await).expect("request");
    let done = app.say("bob", None, &format!("approve {id}")).await;
    let verdict = headed(&done, "Verification after `scale 1`")
        .expect("verdict posted")
        .text();
    assert!(
        verdict.contains(": ok") && !verdict.contains("not ready"),
        "terminating pods are not unready ones: {verdict}"
    );
    assert!(verdict.contains("terminating"), "{verdict}");
    let pods = all(&app.say("carol", None, "pods").await);
    assert!(pods.contains("Terminating"), "{pods}");
    assert!(
        pods.contains("1 running and ready") && pods.contains("2 terminating"),
        "{pods}"
    );
}
