//! A person in the test rooms: a real matrix-sdk client (with its own encryption store) that syncs in the
//! background and records every message it sees, so tests can wait for the bot's replies and edits.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use matrix_sdk::config::SyncSettings;
use matrix_sdk::deserialized_responses::EncryptionInfo;
use matrix_sdk::ruma::api::client::filter::FilterDefinition;
use matrix_sdk::ruma::api::client::room::create_room::v3::Request as CreateRoomRequest;
use matrix_sdk::ruma::api::client::sync::sync_events::v3::Filter;
use matrix_sdk::ruma::events::reaction::ReactionEventContent;
use matrix_sdk::ruma::events::relation::{Annotation, Thread};
use matrix_sdk::ruma::events::room::message::{
    MessageType, OriginalSyncRoomMessageEvent, Relation, RoomMessageEventContent,
};
use matrix_sdk::ruma::{OwnedEventId, OwnedRoomId, OwnedUserId, RoomId, UInt, UserId};
use matrix_sdk::{Client, Room};
use mystocks_tests::synapse::{Account, Synapse};

/// A message as a person's client saw it (decrypted when it was encrypted).
#[derive(Clone, Debug)]
pub struct Seen {
    pub room: String,
    pub event_id: String,
    pub sender: String,
    /// The body; for an edit, the new content's body.
    pub body: String,
    pub html: Option<String>,
    pub msgtype: String,
    /// The thread root, when the message was in a thread.
    pub thread: Option<String>,
    /// The edited message, when this is an edit (`m.replace`).
    pub replaces: Option<String>,
    /// Whether it arrived encrypted.
    pub encrypted: bool,
}

/// A logged-in test person.
pub struct TestUser {
    pub client: Client,
    pub user_id: OwnedUserId,
    seen: Arc<Mutex<Vec<Seen>>>,
    sync: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

impl Drop for TestUser {
    fn drop(&mut self) {
        self.sync.abort();
    }
}

impl TestUser {
    /// Logs `account` in on `synapse` and starts syncing.
    pub async fn login(synapse: &Synapse, account: &Account) -> TestUser {
        let dir = tempfile::tempdir().expect("temp dir");
        let client = Client::builder()
            .homeserver_url(&synapse.url)
            .sqlite_store(dir.path(), None)
            .build()
            .await
            .expect("client builds");
        client
            .matrix_auth()
            .login_username(&account.user_id, &account.password)
            .send()
            .await
            .expect("test user logs in");
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let log = seen.clone();
        client.add_event_handler(
            move |ev: OriginalSyncRoomMessageEvent, room: Room, info: Option<EncryptionInfo>| {
                let log = log.clone();
                async move {
                    if let Ok(mut log) = log.lock() {
                        log.push(seen_of(&ev, &room, info.is_some()));
                    }
                }
            },
        );
        client
            .sync_once(SyncSettings::default())
            .await
            .expect("first sync");
        let syncing = client.clone();
        let sync = tokio::spawn(async move {
            let _ = syncing
                .sync(
                    SyncSettings::default()
                        .timeout(Duration::from_secs(5))
                        .filter(long_timelines()),
                )
                .await;
        });
        let user_id = client.user_id().expect("logged in").to_owned();
        TestUser {
            client,
            user_id,
            seen,
            sync,
            _dir: dir,
        }
    }

    /// Creates a room (encrypted or not) and invites `invite`.
    pub async fn create_room(&self, encrypted: bool, invite: &[&str]) -> OwnedRoomId {
        let mut request = CreateRoomRequest::new();
        request.invite = invite
            .iter()
            .map(|u| UserId::parse(*u).expect("user id"))
            .collect();
        let room = self
            .client
            .create_room(request)
            .await
            .expect("room created");
        if encrypted {
            room.enable_encryption().await.expect("encryption enabled");
        }
        room.room_id().to_owned()
    }

    /// Joins a room this person was invited to (waits for the invitation to arrive).
    pub async fn join(&self, room_id: &RoomId) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match self.client.join_room_by_id(room_id).await {
                Ok(_) => return,
                Err(err) if Instant::now() > deadline => {
                    panic!("{} could not join {room_id}: {err}", self.user_id)
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }

    fn room(&self, room_id: &RoomId) -> Room {
        self.client
            .get_room(room_id)
            .unwrap_or_else(|| panic!("{} is not in {room_id}", self.user_id))
    }

    /// Says `text` in the room; returns the event id.
    pub async fn say(&self, room_id: &RoomId, text: &str) -> OwnedEventId {
        let content = RoomMessageEventContent::text_plain(text);
        self.room(room_id)
            .send(content)
            .await
            .expect("message sent")
            .response
            .event_id
    }

    /// Says `text` in the thread under `root`.
    pub async fn say_in_thread(&self, room_id: &RoomId, root: &str, text: &str) -> OwnedEventId {
        let root = OwnedEventId::try_from(root).expect("event id");
        let mut content = RoomMessageEventContent::text_plain(text);
        content.relates_to = Some(Relation::Thread(Thread::plain(root.clone(), root)));
        self.room(room_id)
            .send(content)
            .await
            .expect("thread message sent")
            .response
            .event_id
    }

    /// Reacts to a message with `key`.
    pub async fn react(&self, room_id: &RoomId, event_id: &str, key: &str) -> OwnedEventId {
        let target = OwnedEventId::try_from(event_id).expect("event id");
        let content = ReactionEventContent::new(Annotation::new(target, key.to_string()));
        self.room(room_id)
            .send(content)
            .await
            .expect("reaction sent")
            .response
            .event_id
    }

    /// Everything seen so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Waits (up to `limit`) for a message matching `matches`; panics with everything seen if none comes.
    pub async fn wait_for_within(
        &self,
        limit: Duration,
        what: &str,
        matches: impl Fn(&Seen) -> bool,
    ) -> Seen {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(found) = self.seen().into_iter().find(|s| matches(s)) {
                return found;
            }
            if Instant::now() > deadline {
                let all: Vec<String> = self.seen().iter().map(|s| format!("{s:?}")).collect();
                panic!(
                    "{} never saw {what}; saw:\n{}",
                    self.user_id,
                    all.join("\n")
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// [`Self::wait_for_within`] with a minute's patience.
    pub async fn wait_for(&self, what: &str, matches: impl Fn(&Seen) -> bool) -> Seen {
        self.wait_for_within(Duration::from_secs(60), what, matches)
            .await
    }

    /// Waits until this person's client knows `device` of `user` (so encrypted messages reach it).
    pub async fn wait_for_device(&self, user: &str, device: &str) {
        let user = UserId::parse(user).expect("user id");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(devices) = self.client.encryption().get_user_devices(&user).await
                && devices.devices().any(|d| d.device_id().as_str() == device)
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{} never learnt device {device} of {user}",
                self.user_id
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// A sync filter with long room timelines, so a burst of messages is never cut short (`limited`) for the test.
fn long_timelines() -> Filter {
    let mut definition = FilterDefinition::default();
    definition.room.timeline.limit = Some(UInt::from(500u32));
    Filter::FilterDefinition(definition)
}

fn seen_of(ev: &OriginalSyncRoomMessageEvent, room: &Room, encrypted: bool) -> Seen {
    let (mut body, mut html, mut msgtype) = body_of(&ev.content.msgtype);
    let mut thread = None;
    let mut replaces = None;
    match &ev.content.relates_to {
        Some(Relation::Replacement(r)) => {
            replaces = Some(r.event_id.to_string());
            (body, html, msgtype) = body_of(&r.new_content.msgtype);
        }
        Some(Relation::Thread(t)) => thread = Some(t.event_id.to_string()),
        _ => {}
    }
    Seen {
        room: room.room_id().to_string(),
        event_id: ev.event_id.to_string(),
        sender: ev.sender.to_string(),
        body,
        html,
        msgtype,
        thread,
        replaces,
        encrypted,
    }
}

fn body_of(msgtype: &MessageType) -> (String, Option<String>, String) {
    let kind = msgtype.msgtype().to_string();
    match msgtype {
        MessageType::Text(t) => (
            t.body.clone(),
            t.formatted.as_ref().map(|f| f.body.clone()),
            kind,
        ),
        MessageType::Notice(n) => (
            n.body.clone(),
            n.formatted.as_ref().map(|f| f.body.clone()),
            kind,
        ),
        other => (other.body().to_string(), None, kind),
    }
}
