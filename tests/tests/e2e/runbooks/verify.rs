//! Verify after change: a change that rolled out gets a verdict in its thread; a deploy that fails it gets its
//! rollback proposed in the deployer's name.

use mystocks_sim::world::Scenario;

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
