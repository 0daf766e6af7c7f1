//! Where runs live between steps: each run's state is a JSON value in the store (`runbook-run:ID`), and each
//! approval a run waits for points back to its run (`runbook-approval:ID`), so any process can continue it.

use crate::runbook::RunState;
use crate::store::{Store, StoreError};

fn run_key(id: &str) -> String {
    format!("runbook-run:{id}")
}

fn approval_key(approval_id: &str) -> String {
    format!("runbook-approval:{approval_id}")
}

/// A new run id: `R` and 8 hex digits.
pub(super) fn new_run_id() -> String {
    format!("R{:08x}", rand::random::<u32>())
}

/// Stores the run's state (every step checkpoints it).
pub(super) async fn save(store: &dyn Store, run: &RunState) -> Result<(), StoreError> {
    let json = serde_json::to_string(run)
        .map_err(|e| StoreError::Invalid(format!("run {}: {e}", run.id)))?;
    store.put_value(&run_key(&run.id), &json).await
}

/// The run's stored state; `Ok(None)` when there is no such run.
pub(super) async fn load(store: &dyn Store, id: &str) -> Result<Option<RunState>, StoreError> {
    match store.get_value(&run_key(id)).await? {
        None => Ok(None),
        Some(json) => serde_json::from_str(&json).map(Some).map_err(|e| {
            StoreError::Corrupt(format!("stored runbook run {id} is unreadable: {e}"))
        }),
    }
}

/// Remembers that `approval_id` belongs to run `run_id`.
pub(super) async fn link_approval(
    store: &dyn Store,
    approval_id: &str,
    run_id: &str,
) -> Result<(), StoreError> {
    store.put_value(&approval_key(approval_id), run_id).await
}

/// The run waiting for `approval_id`, if any.
pub(super) async fn run_of_approval(
    store: &dyn Store,
    approval_id: &str,
) -> Result<Option<String>, StoreError> {
    store.get_value(&approval_key(approval_id)).await
}
