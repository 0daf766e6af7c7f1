//! Incidents and timelines: the incident is one JSON document with a version; `save` is one conditional
//! `UPDATE`, so a concurrent save is refused rather than overwritten.

use async_trait::async_trait;

use super::bounds::{Affected, BindArg, ReadCol};
use super::{Dialect, SqlStore};
use crate::incident::{IncidentRecord, NewTimelineEntry, TimelineEntry};
use crate::store::StoreError;
use crate::store::incidents::{IncidentStore, decode_doc};

fn decode<DB: Dialect>(row: &DB::Row) -> Result<IncidentRecord, StoreError> {
    decode_doc(
        DB::read_json(row.col("doc")?)?,
        row.col("number")?,
        row.col("version")?,
    )
}

fn decode_entry<DB: Dialect>(row: &DB::Row) -> Result<TimelineEntry, StoreError> {
    Ok(TimelineEntry {
        id: row.col("id")?,
        incident: row.col("incident")?,
        at: DB::read_time(row.col("at")?)?,
        actor: row.col("actor")?,
        kind: row.col("kind")?,
        text: row.col("text")?,
        audit_seq: row.col("audit_seq")?,
        audit_mac: row.col("audit_mac")?,
        detail: DB::read_json(row.col("detail")?)?,
    })
}

#[async_trait]
impl<DB: Dialect> IncidentStore for SqlStore<DB> {
    async fn create_incident(
        &self,
        incident: &IncidentRecord,
    ) -> Result<IncidentRecord, StoreError> {
        let row = sqlx::query(
            "INSERT INTO incidents (channel, thread, open, doc, created_at) \
             VALUES ($1, $2, $3, $4, COALESCE($5, CURRENT_TIMESTAMP)) RETURNING number, version, doc",
        )
        .arg(incident.channel.as_str())
        .arg(incident.thread.clone())
        .arg(incident.is_open())
        .arg(DB::json(incident)?)
        .arg(DB::stamp())
        .fetch_one(DB::pool(&self.pool))
        .await?;
        decode::<DB>(&row)
    }

    async fn incident(&self, number: i64) -> Result<Option<IncidentRecord>, StoreError> {
        let row = sqlx::query("SELECT number, version, doc FROM incidents WHERE number = $1")
            .arg(number)
            .fetch_optional(DB::pool(&self.pool))
            .await?;
        row.as_ref().map(decode::<DB>).transpose()
    }

    async fn incident_in_thread(
        &self,
        channel: &str,
        thread: &str,
    ) -> Result<Option<IncidentRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT number, version, doc FROM incidents WHERE channel = $1 AND thread = $2 \
             ORDER BY number DESC LIMIT 1",
        )
        .arg(channel)
        .arg(thread)
        .fetch_optional(DB::pool(&self.pool))
        .await?;
        row.as_ref().map(decode::<DB>).transpose()
    }

    async fn incidents(
        &self,
        open_only: bool,
        limit: u32,
    ) -> Result<Vec<IncidentRecord>, StoreError> {
        // `open` is a BOOLEAN in PostgreSQL and 0/1 in SQLite; `open OR NOT $1` reads the same on both.
        let rows = sqlx::query(
            "SELECT number, version, doc FROM incidents WHERE (open OR NOT $1) ORDER BY number DESC LIMIT $2",
        )
        .arg(open_only)
        .arg(i64::from(limit))
        .fetch_all(DB::pool(&self.pool))
        .await?;
        rows.iter().map(decode::<DB>).collect()
    }

    async fn save_incident(&self, incident: &IncidentRecord) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE incidents SET version = version + 1, channel = $1, thread = $2, open = $3, doc = $4 \
             WHERE number = $5 AND version = $6",
        )
        .arg(incident.channel.as_str())
        .arg(incident.thread.clone())
        .arg(incident.is_open())
        .arg(DB::json(incident)?)
        .arg(incident.number)
        .arg(incident.version)
        .execute(DB::pool(&self.pool))
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn append_timeline(&self, entry: NewTimelineEntry) -> Result<TimelineEntry, StoreError> {
        let row = sqlx::query(
            "INSERT INTO incident_timeline (incident, at, actor, kind, text, audit_seq, audit_mac, detail) \
             SELECT number, $1, $2, $3, $4, $5, $6, $7 FROM incidents WHERE number = $8 \
             RETURNING id, incident, at, actor, kind, text, audit_seq, audit_mac, detail",
        )
        .arg(DB::time(entry.at))
        .arg(entry.actor)
        .arg(entry.kind)
        .arg(entry.text)
        .arg(entry.audit_seq)
        .arg(entry.audit_mac)
        .arg(DB::json(&entry.detail)?)
        .arg(entry.incident)
        .fetch_optional(DB::pool(&self.pool))
        .await?;
        match row {
            Some(row) => decode_entry::<DB>(&row),
            None => Err(StoreError::NotFound(format!("incident {}", entry.incident))),
        }
    }

    async fn timeline(&self, incident: i64) -> Result<Vec<TimelineEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, incident, at, actor, kind, text, audit_seq, audit_mac, detail FROM incident_timeline \
             WHERE incident = $1 ORDER BY id",
        )
        .arg(incident)
        .fetch_all(DB::pool(&self.pool))
        .await?;
        rows.iter().map(decode_entry::<DB>).collect()
    }
}
