//! The part of the store that keeps incidents and their timelines. An incident is one document with a version:
//! `save_incident` writes only if nobody saved since it was read, so concurrent changes from several processes
//! are never lost (the loser reads again and retries). Timeline entries are append-only.

use async_trait::async_trait;

use super::StoreError;
use crate::incident::{IncidentRecord, NewTimelineEntry, TimelineEntry};

/// Incidents and their timelines; a supertrait of [`super::Store`], implemented by the SQL store.
#[async_trait]
pub trait IncidentStore: Send + Sync {
    /// Stores a new incident, allocating its number (1, 2, …); returns it with `number` set and `version` 1.
    async fn create_incident(
        &self,
        incident: &IncidentRecord,
    ) -> Result<IncidentRecord, StoreError>;

    /// The incident with this number, if any.
    async fn incident(&self, number: i64) -> Result<Option<IncidentRecord>, StoreError>;

    /// The incident whose war room is `thread` in `channel` (open or not), if any.
    async fn incident_in_thread(
        &self,
        channel: &str,
        thread: &str,
    ) -> Result<Option<IncidentRecord>, StoreError>;

    /// Incidents, newest first, at most `limit`; only open ones when `open_only`.
    async fn incidents(
        &self,
        open_only: bool,
        limit: u32,
    ) -> Result<Vec<IncidentRecord>, StoreError>;

    /// Writes `incident` if its stored version is still `incident.version` (then the version goes up by one);
    /// false when someone saved in between — read it again and redo the change.
    async fn save_incident(&self, incident: &IncidentRecord) -> Result<bool, StoreError>;

    /// Appends an entry to an incident's timeline. `NotFound` when there is no such incident.
    async fn append_timeline(&self, entry: NewTimelineEntry) -> Result<TimelineEntry, StoreError>;

    /// An incident's timeline, in the order it was written.
    async fn timeline(&self, incident: i64) -> Result<Vec<TimelineEntry>, StoreError>;
}

/// Reads the stored document back, with the number and version from their columns.
pub(crate) fn decode_doc(
    doc: serde_json::Value,
    number: i64,
    version: i64,
) -> Result<IncidentRecord, StoreError> {
    let mut incident: IncidentRecord = serde_json::from_value(doc)?;
    incident.number = number;
    incident.version = version;
    Ok(incident)
}
