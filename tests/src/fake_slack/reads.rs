//! The fake's read methods, strict like Slack: `usergroups.users.list` (unknown group → `no_such_subteam`) and
//! `conversations.replies` (unknown channel → `channel_not_found`, unknown message → `thread_not_found`, bad
//! arguments → `invalid_arguments`). Arguments come as query parameters (GET, as slack-morphism sends them) or in
//! a JSON body.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::FakeSlack;

/// One message the fake knows, in one channel: people's messages added by tests, and the bot's posts.
pub(super) fn message_json(ts: &str, body: &Value) -> Value {
    let mut m = json!({"type": "message", "ts": ts, "text": body["text"]});
    for key in [
        "user",
        "bot_id",
        "thread_ts",
        "subtype",
        "reply_count",
        "reply_users",
        "reply_users_count",
        "latest_reply",
    ] {
        if !body[key].is_null() {
            m[key] = body[key].clone();
        }
    }
    m
}

fn arg<'a>(args: &'a Value, name: &str) -> Option<&'a str> {
    args[name].as_str().filter(|v| !v.is_empty())
}

/// `usergroups.users.list`.
pub(super) fn usergroup_users(fake: &FakeSlack, args: &Value) -> Result<Value, String> {
    let group = arg(args, "usergroup").ok_or("invalid_arguments")?;
    if let Some(flag) = arg(args, "include_disabled")
        && !matches!(flag, "true" | "false" | "1" | "0")
    {
        return Err("invalid_arguments".into());
    }
    let users = fake
        .lock()
        .usergroups
        .get(group)
        .cloned()
        .ok_or("no_such_subteam")?;
    Ok(json!({"ok": true, "users": users}))
}

fn ts_value(ts: &str) -> Result<f64, String> {
    let (secs, micros) = ts.split_once('.').ok_or("invalid_arguments")?;
    if secs.is_empty()
        || micros.len() != 6
        || !secs
            .bytes()
            .chain(micros.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return Err("invalid_arguments".into());
    }
    ts.parse::<f64>()
        .map_err(|_| "invalid_arguments".to_string())
}

fn flag(args: &Value, name: &str) -> Result<bool, String> {
    match arg(args, name) {
        None | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some(_) => Err("invalid_arguments".into()),
    }
}

/// `conversations.replies`: the thread of the message `ts` (its parent first), within `oldest`…`latest`.
pub(super) fn replies(fake: &FakeSlack, args: &Value) -> Result<Value, String> {
    let channel = arg(args, "channel").ok_or("channel_not_found")?;
    let ts = arg(args, "ts").ok_or("invalid_arguments")?;
    ts_value(ts)?;
    let inclusive = flag(args, "inclusive")?;
    let bound = |name: &str| arg(args, name).map(ts_value).transpose();
    let (oldest, latest) = (bound("oldest")?, bound("latest")?);
    let limit = match arg(args, "limit") {
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|l| (1..=1000).contains(l))
            .ok_or("invalid_arguments")?,
        None => 1000,
    };
    let inner = fake.lock();
    if !inner.channels.contains(channel) {
        return Err("channel_not_found".into());
    }
    let empty = HashMap::new();
    let in_channel = inner.messages.get(channel).unwrap_or(&empty);
    let target = in_channel.get(ts).ok_or("thread_not_found")?;
    let root = target["thread_ts"].as_str().unwrap_or(ts).to_string();
    let in_window = |t: f64| {
        let after = oldest.is_none_or(|o| if inclusive { t >= o } else { t > o });
        let before = latest.is_none_or(|l| if inclusive { t <= l } else { t < l });
        after && before
    };
    let mut thread: Vec<(f64, Value)> = in_channel
        .iter()
        .filter(|(t, body)| t.as_str() == root || body["thread_ts"] == root.as_str())
        .filter_map(|(t, body)| Some((ts_value(t).ok()?, message_json(t, body))))
        .collect();
    thread.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Like Slack, the parent comes first whatever the window; then the replies inside it.
    let messages: Vec<Value> = thread
        .into_iter()
        .enumerate()
        .filter(|(i, (t, _))| *i == 0 || in_window(*t))
        .map(|(_, (_, m))| m)
        .take(limit)
        .collect();
    Ok(json!({"ok": true, "messages": messages, "has_more": false}))
}
