//! Group commit of audit rows. Every invocation's row (and every job step's) goes through one writer task per
//! process: it takes whatever rows are waiting, up to [`BATCH`], and appends them in one transaction — one lock of
//! the chain, one commit — chaining their MACs in arrival order. A caller waits until its own row has committed
//! (or failed), so nothing is reported as recorded before it is. The queue is bounded ([`QUEUE`]): when the store
//! falls behind, callers wait for room instead of piling rows up in memory.

use std::sync::{Arc, OnceLock};

use tokio::sync::{mpsc, oneshot};

use crate::audit::{AuditRow, NewAuditEntry};
use crate::store::Store;

/// Rows waiting for the writer, at most; a caller beyond it waits for room.
pub(crate) const QUEUE: usize = 1024;
/// Rows appended in one transaction, at most.
pub(crate) const BATCH: usize = 256;

struct Waiting {
    entry: NewAuditEntry,
    done: oneshot::Sender<Result<AuditRow, String>>,
}

/// The process's audit writer; the task starts with the first row.
#[derive(Default)]
pub(crate) struct AuditWriter {
    queue: OnceLock<mpsc::Sender<Waiting>>,
}

impl AuditWriter {
    /// Appends `entry` to `store`'s log with whatever else is waiting; the row once committed, or why it was not.
    pub(crate) async fn append(
        &self,
        store: &Arc<dyn Store>,
        entry: NewAuditEntry,
    ) -> Result<AuditRow, String> {
        let queue = self.queue.get_or_init(|| spawn(store.clone()));
        let (done, committed) = oneshot::channel();
        queue
            .send(Waiting { entry, done })
            .await
            .map_err(|_| "the audit writer has stopped".to_string())?;
        committed
            .await
            .map_err(|_| "the audit writer has stopped".to_string())?
    }
}

fn spawn(store: Arc<dyn Store>) -> mpsc::Sender<Waiting> {
    let (queue, mut waiting) = mpsc::channel::<Waiting>(QUEUE);
    tokio::spawn(async move {
        let mut batch: Vec<Waiting> = Vec::with_capacity(BATCH);
        while waiting.recv_many(&mut batch, BATCH).await > 0 {
            let (entries, dones): (Vec<NewAuditEntry>, Vec<_>) =
                batch.drain(..).map(|w| (w.entry, w.done)).unzip();
            let count = entries.len();
            match store.append_audit_batch(entries).await {
                Ok(rows) if rows.len() == count => {
                    for (done, row) in dones.into_iter().zip(rows) {
                        let _ = done.send(Ok(row));
                    }
                }
                Ok(rows) => {
                    let why = format!("the store appended {} of {count} rows", rows.len());
                    tracing::error!(%why, "audit batch cut short");
                    for done in dones {
                        let _ = done.send(Err(why.clone()));
                    }
                }
                Err(err) => {
                    let why = err.to_string();
                    for done in dones {
                        let _ = done.send(Err(why.clone()));
                    }
                }
            }
        }
    });
    queue
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::AuditKey;
    use chrono::Utc;

    fn entry(n: usize) -> NewAuditEntry {
        NewAuditEntry {
            at: Utc::now(),
            actor_person: None,
            actor_identity: format!("console:p{n}"),
            conversation: serde_json::Value::Null,
            text: format!("status {n}"),
            command: Some("status".into()),
            decision: "allowed".into(),
            outcome: Some("ok".into()),
            duration_ms: Some(1),
            approval_id: None,
            detail: serde_json::json!({}),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_rows_are_committed_in_batches_into_one_unbroken_chain() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("a.db").display());
        let key = AuditKey::random();
        let store = crate::store::connect(&url, key.clone())
            .await
            .expect("store");
        let writer = Arc::new(AuditWriter::default());
        let rows = futures::future::join_all((0..500).map(|n| {
            let (writer, store) = (writer.clone(), store.clone());
            tokio::spawn(async move { writer.append(&store, entry(n)).await })
        }))
        .await;
        let mut seqs: Vec<i64> = rows
            .into_iter()
            .map(|r| r.expect("task").expect("committed").seq)
            .collect();
        seqs.sort_unstable();
        assert_eq!(
            seqs,
            (1..=500).collect::<Vec<i64>>(),
            "every row once, no gap"
        );
        let report = store.verify_audit(&key, None).await.expect("verify");
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        assert_eq!(report.rows_checked, 500);
    }
}
