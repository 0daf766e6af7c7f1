//! Nothing is lost to a gap: a sync asks for long timelines, and when the homeserver still cuts a room's timeline
//! short (`limited`, e.g. after a long outage or while the bot waited out rate limits), the missing events are
//! fetched with `/messages` back to the previous sync position and handled first, oldest first.

use matrix_sdk::Room;
use matrix_sdk::deserialized_responses::TimelineEvent;
use matrix_sdk::room::MessagesOptions;
use matrix_sdk::ruma::UInt;
use matrix_sdk::ruma::api::client::filter::{FilterDefinition, RoomEventFilter, RoomFilter};
use matrix_sdk::ruma::api::client::sync::sync_events::v3::Filter;

/// Events per room per sync before the homeserver cuts the timeline.
const TIMELINE_LIMIT: u32 = 100;
/// Pages of `/messages` fetched to fill one gap (each up to 100 events).
const MAX_PAGES: usize = 20;

/// The sync filter: long room timelines.
pub(super) fn sync_filter() -> Filter {
    let mut timeline = RoomEventFilter::default();
    timeline.limit = Some(UInt::from(TIMELINE_LIMIT));
    let mut room = RoomFilter::default();
    room.timeline = timeline;
    let mut definition = FilterDefinition::default();
    definition.room = room;
    Filter::FilterDefinition(definition)
}

/// The events between the previous sync position `since` and the start of a cut timeline (`prev_batch`), oldest
/// first. A failure is logged and gives what was fetched so far.
pub(super) async fn missing_events(
    room: &Room,
    prev_batch: &str,
    since: &str,
) -> Vec<TimelineEvent> {
    let mut fetched: Vec<TimelineEvent> = Vec::new();
    let mut from = prev_batch.to_string();
    for _ in 0..MAX_PAGES {
        let mut options = MessagesOptions::backward().from(from.as_str());
        options.to = Some(since.to_string());
        options.limit = UInt::from(100u32);
        match room.messages(options).await {
            Ok(page) => {
                let done = page.chunk.is_empty() || page.end.is_none();
                fetched.extend(page.chunk);
                match page.end {
                    Some(end) if !done => from = end,
                    _ => break,
                }
            }
            Err(err) => {
                tracing::warn!(room = %room.room_id(), error = %err, "could not fetch the events a sync skipped");
                break;
            }
        }
    }
    if fetched.len() >= MAX_PAGES * 100 {
        tracing::warn!(room = %room.room_id(), "a very long gap: older skipped events are not handled");
    }
    fetched.reverse();
    fetched
}
