//! Incidents and timelines in PostgreSQL: the document is JSONB; `save` is one conditional `UPDATE`.

use async_trait::async_trait;
use serde_json::json;
use sqlx::Row;
use sqlx::postgres::PgRow;

use super::PostgresStore;
use crate::incident::{IncidentRecord, NewTimelineEntry, TimelineEntry};
use crate::store::StoreError;
use crate::store::incidents::{IncidentStore, decode_doc};

fn decode(row: &PgRow) -> Result<IncidentRecord, StoreError> {
    decode_doc(
        row.try_get("doc")?,
        row.try_get("number")?,
        row.try_get("version")?,
    )
}

fn decode_entry(row: &PgRow) -> Result<TimelineEntry, StoreError> {
    Ok(TimelineEntry {
        id: row.try_get("id")?,
        incident: row.try_get("incident")?,
        at: row.try_get("at")?,
        actor: row.try_get("actor")?,
        kind: row.try_get("kind")?,
        text: row.try_get("text")?,
        audit_seq: row.try_get("audit_seq")?,
        audit_mac: row.try_get("audit_mac")?,
        detail: row.try_get("detail")?,
    })
}

#[async_trait]
impl IncidentStore for PostgresStore {
    async fn create_incident(
        &self,
        incident: &IncidentRecord,
    ) -> Result<IncidentRecord, StoreError> {
        let row = sqlx::query(
            "INSERT INTO incidents (channel, thread, open, doc, created_at) VALUES ($1, $2, $3, $4, now()) \
             RETURNING number, version, doc",
        )
        .bind(&incident.channel)
        .bind(&incident.thread)
        .bind(incident.is_open())
        .bind(json!(incident))
        .fetch_one(&self.pool)
        .await?;
        decode(&row)
    }

    async fn incident(&self, number: i64) -> Result<Option<IncidentRecord>, StoreError> {
        let row = sqlx::query("SELECT number, version, doc FROM incidents WHERE number = $1")
            .bind(number)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(decode).transpose()
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
        .bind(channel)
        .bind(thread)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(decode).transpose()
    }

    async fn incidents(
        &self,
        open_only: bool,
        limit: u32,
    ) -> Result<Vec<IncidentRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT number, version, doc FROM incidents WHERE (open OR NOT $1) ORDER BY number DESC LIMIT $2",
        )
        .bind(open_only)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(decode).collect()
    }

    async fn save_incident(&self, incident: &IncidentRecord) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE incidents SET version = version + 1, channel = $1, thread = $2, open = $3, doc = $4 \
             WHERE number = $5 AND version = $6",
        )
        .bind(&incident.channel)
        .bind(&incident.thread)
        .bind(incident.is_open())
        .bind(json!(incident))
        .bind(incident.number)
        .bind(incident.version)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn append_timeline(&self, entry: NewTimelineEntry) -> Result<TimelineEntry, StoreError> {
        let row = sqlx::query(
            "INSERT INTO incident_timeline (incident, at, actor, kind, text, audit_seq, audit_mac, detail) \
             SELECT number, $1, $2, $3, $4, $5, $6, $7 FROM incidents WHERE number = $8 \
             RETURNING id, incident, at, actor, kind, text, audit_seq, audit_mac, detail",
        )
        .bind(entry.at)
        .bind(&entry.actor)
        .bind(&entry.kind)
        .bind(&entry.text)
        .bind(entry.audit_seq)
        .bind(&entry.audit_mac)
        .bind(&entry.detail)
        .bind(entry.incident)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(row) => decode_entry(&row),
            None => Err(StoreError::NotFound(format!("incident {}", entry.incident))),
        }
    }

    async fn timeline(&self, incident: i64) -> Result<Vec<TimelineEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, incident, at, actor, kind, text, audit_seq, audit_mac, detail FROM incident_timeline \
             WHERE incident = $1 ORDER BY id",
        )
        .bind(incident)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(decode_entry).collect()
    }
}
