//! The store test suite: one set of cases written against `Arc<dyn Store>`, run on SQLite (a temp file) and on
//! PostgreSQL (a fresh database per test on `MYSTOCKS_TEST_PG`, default `postgres://postgres@127.0.0.1:5432/`).
//! PostgreSQL not running is a test failure, not a skip.

#[path = "store/approvals.rs"]
mod approvals;
#[path = "store/audit.rs"]
mod audit;
#[path = "store/connect.rs"]
mod connect;
#[path = "store/harness.rs"]
mod harness;
#[path = "store/jobs.rs"]
mod jobs;
#[path = "store/misc.rs"]
mod misc;
#[path = "store/upgrade.rs"]
mod upgrade;

/// Instantiates each case once per database.
macro_rules! on_both_databases {
    ($($module:ident :: $case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let db = crate::harness::TestDb::sqlite().await;
                    crate::$module::$case(&db).await;
                    db.finish().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let db = crate::harness::TestDb::postgres().await;
                    crate::$module::$case(&db).await;
                    db.finish().await;
                }
            )*
        }
    };
}

on_both_databases!(
    approvals::approvals_round_trip_with_sequential_ids,
    approvals::approval_ids_are_unique_under_concurrency,
    approvals::approvals_are_listed_by_state_and_target,
    approvals::one_vote_per_person,
    approvals::concurrent_presses_record_one_vote,
    approvals::transition_is_conditional,
    approvals::exactly_one_of_50_transitions_wins,
    approvals::request_message_is_kept,
    approvals::one_open_request_per_target,
    approvals::transitions_are_audited_with_their_job,
    approvals::a_failed_write_leaves_no_half_transition,
    approvals::stranded_requests_are_found,
    jobs::job_life_cycle,
    jobs::failed_jobs_keep_their_reason,
    jobs::expired_lease_is_taken_over,
    jobs::released_job_is_claimed_at_once,
    jobs::jobs_are_claimed_oldest_first,
    jobs::exactly_one_of_50_claimers_gets_the_job,
    jobs::concurrent_claimers_share_out_jobs,
    jobs::bad_leases_are_refused,
    misc::events_are_claimed_once,
    misc::old_claims_are_pruned_in_batches,
    misc::freeze_is_set_read_and_lifted,
    misc::values_are_stored_and_replaced,
    misc::a_second_process_sees_everything,
    misc::debug_output_hides_key_and_password,
    audit::appends_chain_and_verify,
    audit::concurrent_appends_leave_no_gaps,
    audit::edited_middle_row_is_found,
    audit::edited_json_and_actor_are_found,
    audit::deleted_middle_row_is_found,
    audit::chain_rehashed_without_the_key_is_found,
    audit::deleted_newest_rows_are_found,
    audit::deleted_head_is_found,
    audit::whole_log_deleted_is_found,
    audit::cut_tail_with_an_old_head_put_back_is_found,
    audit::old_head_restored_and_written_on_is_found,
    audit::both_tables_emptied_are_found,
    audit::an_intact_log_matches_its_checkpoint,
);
