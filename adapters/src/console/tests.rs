//! Console session tests: directives change who speaks and where, each line's work is settled before the next,
//! and the JSON output is one parseable object per line.

use std::io::Write;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use mystocks_commands::reply::{Level, Reply, ReplyKind};
use mystocks_commands::{Handler, Invocation, ReplySink};
use tokio::sync::Notify;

use super::*;

/// A writer tests can read back.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("poisoned"))?
            .extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Buffer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("buffer")).into_owned()
    }
}

/// Records invocations; answers `who` and `where`; `slow` posts, then updates the message from a background task
/// that `settle` waits for.
#[derive(Default)]
struct Recorder {
    seen: Mutex<Vec<Invocation>>,
    background: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

#[async_trait]
impl Handler for Recorder {
    async fn handle(&self, inv: Invocation, sink: Arc<dyn ReplySink>) {
        self.seen.lock().expect("seen").push(inv.clone());
        let text = format!("{} said {}", inv.actor.identity, inv.text);
        let reply = Reply::text(ReplyKind::Result, Level::Ok, text);
        let Ok(message) = sink.post(&inv.conversation, &reply).await else {
            return;
        };
        if inv.text == "slow" {
            let gate = Arc::new(Notify::new());
            let task = tokio::spawn(async move {
                // yield a few times so the update would come late if `settle` did not wait
                for _ in 0..20 {
                    tokio::task::yield_now().await;
                }
                let done = Reply::text(ReplyKind::Progress, Level::Ok, "rollout complete");
                let _ = sink.update(&message, &done).await;
                gate.notify_one();
            });
            self.background.lock().expect("bg").push(task);
        }
    }

    async fn settle(&self) {
        let tasks: Vec<_> = self.background.lock().expect("bg").drain(..).collect();
        for t in tasks {
            let _ = t.await;
        }
    }
}

async fn session(format: Format, transcript: &str) -> (String, Arc<Recorder>) {
    let recorder = Arc::new(Recorder::default());
    let buffer = Buffer::default();
    let options = ConsoleOptions {
        format,
        ..ConsoleOptions::default()
    };
    let mut console = Console::new(recorder.clone(), options, output(buffer.clone()));
    console
        .run(transcript.as_bytes())
        .await
        .expect("console runs");
    (buffer.text(), recorder)
}

#[tokio::test]
async fn directives_switch_person_and_thread() {
    let transcript = "pods\n:as bob\n:thread incident-1\napprove A1\n:thread\n# a comment\n\n:as carol\nwhoami\n";
    let (_, rec) = session(Format::Json, transcript).await;
    let seen = rec.seen.lock().expect("seen").clone();
    let got: Vec<(&str, Option<&str>, &str)> = seen
        .iter()
        .map(|i| {
            (
                i.actor.identity.as_str(),
                i.conversation.thread.as_deref(),
                i.text.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("console:alice", None, "pods"),
            ("console:bob", Some("incident-1"), "approve A1"),
            ("console:carol", None, "whoami"),
        ]
    );
    assert!(
        seen.iter()
            .all(|i| i.conversation.channel == CHANNEL && i.addressing == Addressing::Direct)
    );
    let mut ids: Vec<&str> = seen.iter().map(|i| i.event_id.as_str()).collect();
    ids.dedup();
    assert_eq!(ids.len(), 3, "event ids are unique per line");
}

#[tokio::test]
async fn json_output_is_one_object_per_line_with_sequential_ids() {
    let (out, _) = session(Format::Json, "pods\nslow\n:bogus\ntop\n").await;
    let records: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    let summary: Vec<(String, String, bool)> = records
        .iter()
        .map(|r| {
            (
                r["kind"].as_str().unwrap_or("?").to_string(),
                r["message_id"].to_string(),
                r["update"] == true,
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("result".to_string(), "\"m1\"".to_string(), false),
            ("result".to_string(), "\"m2\"".to_string(), false),
            // the background update of m2 is printed before the next line is read
            ("progress".to_string(), "\"m2\"".to_string(), true),
            ("console".to_string(), "null".to_string(), false),
            ("result".to_string(), "\"m3\"".to_string(), false),
        ]
    );
    assert_eq!(records[0]["text"], "console:alice said pods");
}

#[tokio::test]
async fn piped_text_reads_as_a_transcript() {
    let (out, _) = session(Format::Text, ":as bob\n:thread inc\nstatus\n").await;
    assert_eq!(
        out,
        "alice@main> :as bob\nbob@main> :thread inc\nbob@inc> status\n[m1] bot → thread inc\nconsole:bob said status\n\n"
    );
}

#[tokio::test]
async fn control_sequences_in_input_never_reach_the_terminal() {
    let (out, rec) = session(Format::Text, "logs \u{1b}[2J\u{1b}]0;owned\u{7}x\n").await;
    assert!(!out.contains('\u{1b}') && !out.contains('\u{7}'), "{out:?}");
    // the bot still receives what was typed; escaping is the renderer's job
    assert_eq!(
        rec.seen.lock().expect("seen")[0].text,
        "logs \u{1b}[2J\u{1b}]0;owned\u{7}x"
    );
}

#[tokio::test]
async fn invalid_utf8_and_quit_are_handled() {
    let recorder = Arc::new(Recorder::default());
    let buffer = Buffer::default();
    let mut console = Console::new(
        recorder.clone(),
        ConsoleOptions::default(),
        output(buffer.clone()),
    );
    let input: &[u8] = b"pods \xff\xfe\n:quit\nnever\n";
    console.run(input).await.expect("runs");
    let seen = recorder.seen.lock().expect("seen").clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].text, "pods \u{fffd}\u{fffd}");
}

#[tokio::test]
async fn help_is_a_console_notice() {
    let (out, rec) = session(Format::Text, ":help\n").await;
    assert!(
        out.contains(":as NAME") && out.contains(":thread NAME"),
        "{out}"
    );
    assert!(rec.seen.lock().expect("seen").is_empty());
}
