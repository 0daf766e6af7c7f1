//! What Slack sends, decoded into plain structs: slash commands (form), Events API callbacks (JSON) and
//! interactivity payloads (`payload=` form field holding JSON). Socket Mode delivers the same JSON, so both
//! transports share these decoders. Decoding never panics; anything malformed is an [`InboundError`].

use serde_json::Value;

/// A request Slack sent that cannot be understood (answered with 400).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("malformed Slack request: {0}")]
pub struct InboundError(pub String);

/// A slash command (`/mystocks scale 5`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlashCommand {
    pub team_id: String,
    /// The Enterprise Grid organisation (`E…`) the workspace belongs to, when it does.
    pub enterprise_id: Option<String>,
    pub api_app_id: Option<String>,
    pub channel_id: String,
    pub user_id: String,
    pub user_name: String,
    pub command: String,
    pub text: String,
    pub response_url: Option<String>,
    pub trigger_id: String,
}

/// How a message event addressed the bot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageKind {
    /// `app_mention`: the mention has been removed from the text.
    Mention,
    /// A plain message inside a thread.
    ThreadMessage,
}

/// A message event the bot may act on (already filtered: no bots, no edits).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageEvent {
    pub event_id: String,
    pub team_id: String,
    /// The Enterprise Grid organisation (`E…`), when the workspace belongs to one.
    pub enterprise_id: Option<String>,
    pub api_app_id: Option<String>,
    /// The sender's own workspace (differs from `team_id` for Slack Connect outsiders).
    pub user_team: String,
    pub user_id: String,
    pub channel_id: String,
    pub ts: String,
    pub thread_ts: Option<String>,
    pub text: String,
    pub kind: MessageKind,
}

/// A 📌 (`pushpin`) reaction added to a message (`reaction_added`); other reactions are ignored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReactionEvent {
    pub event_id: String,
    pub team_id: String,
    /// The Enterprise Grid organisation (`E…`), when the workspace belongs to one.
    pub enterprise_id: Option<String>,
    pub api_app_id: Option<String>,
    /// The reacting person's own workspace (differs from `team_id` for Slack Connect outsiders).
    pub user_team: String,
    /// Who reacted.
    pub user_id: String,
    /// The reacted-to message.
    pub channel_id: String,
    pub message_ts: String,
}

/// A button press (`block_actions`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ButtonPress {
    pub team_id: String,
    /// The Enterprise Grid organisation (`E…`), when the workspace belongs to one.
    pub enterprise_id: Option<String>,
    pub api_app_id: Option<String>,
    pub user_team: String,
    pub user_id: String,
    pub user_name: String,
    pub channel_id: String,
    pub message_ts: String,
    pub thread_ts: Option<String>,
    /// The command the button stands for (`approve A12`).
    pub value: String,
    pub trigger_id: String,
    /// Where an answer for the presser alone can go when the bot is not in the channel.
    pub response_url: Option<String>,
}

/// One decoded Events API or interactivity request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Inbound {
    /// The URL check Slack makes when the events URL is configured.
    UrlVerification {
        challenge: String,
    },
    Message(MessageEvent),
    Reaction(ReactionEvent),
    Button(ButtonPress),
    /// Understood, and deliberately not acted on (bots, edits, other event types).
    Ignored(&'static str),
}

fn form_fields(body: &[u8]) -> impl Iterator<Item = (String, String)> + '_ {
    url::form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned()))
}

/// Decodes a slash command's form body. Every request pays for this, so each field it keeps is decoded into its
/// own string once and the rest are skipped (a repeated field: the last one counts).
pub fn parse_command_form(body: &[u8]) -> Result<SlashCommand, InboundError> {
    command_of(url::form_urlencoded::parse(body))
}

/// Decodes a Socket Mode `slash_commands` payload: the form's fields as a JSON object of strings.
pub fn parse_command_value(v: &Value) -> Result<SlashCommand, InboundError> {
    let fields = v
        .as_object()
        .ok_or_else(|| InboundError("the slash command payload is not an object".into()))?;
    command_of(
        fields
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().into(), v.as_str()?.into()))),
    )
}

fn command_of<'a>(
    pairs: impl Iterator<Item = (std::borrow::Cow<'a, str>, std::borrow::Cow<'a, str>)>,
) -> Result<SlashCommand, InboundError> {
    let mut fields: [Option<String>; 10] = Default::default();
    const NAMES: [&str; 10] = [
        "team_id",
        "enterprise_id",
        "api_app_id",
        "channel_id",
        "user_id",
        "user_name",
        "command",
        "text",
        "response_url",
        "trigger_id",
    ];
    for (k, v) in pairs {
        if let Some(i) = NAMES.iter().position(|name| *name == k) {
            fields[i] = Some(v.into_owned());
        }
    }
    let [
        team_id,
        enterprise_id,
        api_app_id,
        channel_id,
        user_id,
        user_name,
        command,
        text,
        response_url,
        trigger_id,
    ] = fields;
    let need = |value: Option<String>, name: &str| -> Result<String, InboundError> {
        value
            .filter(|v| !v.is_empty())
            .ok_or_else(|| InboundError(format!("no `{name}` field")))
    };
    Ok(SlashCommand {
        team_id: need(team_id, "team_id")?,
        enterprise_id: enterprise_id.filter(|e| !e.is_empty()),
        api_app_id,
        channel_id: need(channel_id, "channel_id")?,
        user_id: need(user_id, "user_id")?,
        user_name: user_name.unwrap_or_default(),
        command: need(command, "command")?,
        text: text.map(unescape).unwrap_or_default(),
        response_url,
        trigger_id: need(trigger_id, "trigger_id")?,
    })
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut cur = v;
    for key in path {
        cur = cur.get(key)?;
    }
    cur.as_str()
}

fn need_str(v: &Value, path: &[&str]) -> Result<String, InboundError> {
    str_at(v, path)
        .map(str::to_string)
        .ok_or_else(|| InboundError(format!("no `{}`", path.join("."))))
}

/// Decodes an Events API body (HTTP) or a Socket Mode `events_api` payload.
pub fn parse_event(body: &[u8], bot_user_id: Option<&str>) -> Result<Inbound, InboundError> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| InboundError(format!("body is not JSON: {e}")))?;
    parse_event_value(&v, bot_user_id)
}

/// As [`parse_event`], from parsed JSON.
pub fn parse_event_value(v: &Value, bot_user_id: Option<&str>) -> Result<Inbound, InboundError> {
    match str_at(v, &["type"]) {
        Some("url_verification") => Ok(Inbound::UrlVerification {
            challenge: need_str(v, &["challenge"])?,
        }),
        Some("event_callback") => parse_callback(v, bot_user_id),
        Some(_) => Ok(Inbound::Ignored("not an event callback")),
        None => Err(InboundError("no `type`".into())),
    }
}

/// The Enterprise Grid organisation an Events API envelope names (`enterprise_id`, or for an org-wide install
/// `context_enterprise_id`).
fn envelope_enterprise(v: &Value) -> Option<String> {
    str_at(v, &["enterprise_id"])
        .or(str_at(v, &["context_enterprise_id"]))
        .filter(|e| !e.is_empty())
        .map(str::to_string)
}

fn parse_callback(v: &Value, bot_user_id: Option<&str>) -> Result<Inbound, InboundError> {
    let event_id = need_str(v, &["event_id"])?;
    // An org-wide install (Enterprise Grid) may leave `team_id` empty and name the workspace in `context_team_id`.
    let team_id = str_at(v, &["team_id"])
        .filter(|t| !t.is_empty())
        .or(str_at(v, &["context_team_id"]))
        .map(str::to_string)
        .ok_or_else(|| InboundError("no `team_id`".into()))?;
    let event = v
        .get("event")
        .ok_or_else(|| InboundError("no `event`".into()))?;
    let kind = match str_at(event, &["type"]) {
        Some("reaction_added") => return parse_reaction(v, event, event_id, team_id, bot_user_id),
        Some("app_mention") => MessageKind::Mention,
        Some("message") => MessageKind::ThreadMessage,
        _ => return Ok(Inbound::Ignored("event type the bot does not handle")),
    };
    if event.get("bot_id").is_some_and(|b| !b.is_null()) || event.get("bot_profile").is_some() {
        return Ok(Inbound::Ignored("message from a bot"));
    }
    match str_at(event, &["subtype"]) {
        None | Some("thread_broadcast") => {}
        Some("bot_message") => return Ok(Inbound::Ignored("message from a bot")),
        Some(_) => return Ok(Inbound::Ignored("edit, deletion or other message change")),
    }
    if event.get("edited").is_some() {
        return Ok(Inbound::Ignored("edited message"));
    }
    let user_id = need_str(event, &["user"])?;
    if bot_user_id == Some(user_id.as_str()) {
        return Ok(Inbound::Ignored("the bot's own message"));
    }
    let ts = need_str(event, &["ts"])?;
    let thread_ts = str_at(event, &["thread_ts"]).map(str::to_string);
    let raw = str_at(event, &["text"]).unwrap_or("");
    let text = match kind {
        MessageKind::Mention => strip_mention(raw, bot_user_id),
        MessageKind::ThreadMessage => {
            if thread_ts.as_deref().is_none_or(|t| t == ts) {
                return Ok(Inbound::Ignored("a channel message outside a thread"));
            }
            if mentions_bot(raw, bot_user_id) {
                return Ok(Inbound::Ignored("a mention (handled as app_mention)"));
            }
            unescape(raw)
        }
    };
    let user_team = user_team(event, &team_id);
    Ok(Inbound::Message(MessageEvent {
        event_id,
        enterprise_id: envelope_enterprise(v),
        api_app_id: str_at(v, &["api_app_id"]).map(str::to_string),
        team_id,
        user_team,
        user_id,
        channel_id: need_str(event, &["channel"])?,
        ts,
        thread_ts,
        text,
        kind,
    }))
}

/// The acting person's own workspace in an event: `user_team` (Slack Connect), else `team`, else the envelope's.
fn user_team(event: &Value, team_id: &str) -> String {
    str_at(event, &["user_team"])
        .or(str_at(event, &["team"]))
        .unwrap_or(team_id)
        .to_string()
}

fn parse_reaction(
    v: &Value,
    event: &Value,
    event_id: String,
    team_id: String,
    bot_user_id: Option<&str>,
) -> Result<Inbound, InboundError> {
    // Skin tones and the like come as `pushpin::skin-tone-2`; only the name counts.
    let reaction = str_at(event, &["reaction"]).unwrap_or("");
    if reaction.split("::").next() != Some(super::pins::PUSHPIN) {
        return Ok(Inbound::Ignored("a reaction other than a pushpin"));
    }
    if str_at(event, &["item", "type"]) != Some("message") {
        return Ok(Inbound::Ignored(
            "a reaction on something other than a message",
        ));
    }
    let user_id = need_str(event, &["user"])?;
    if bot_user_id == Some(user_id.as_str()) {
        return Ok(Inbound::Ignored("the bot's own reaction"));
    }
    Ok(Inbound::Reaction(ReactionEvent {
        event_id,
        enterprise_id: envelope_enterprise(v),
        user_team: user_team(event, &team_id),
        team_id,
        api_app_id: str_at(v, &["api_app_id"]).map(str::to_string),
        user_id,
        channel_id: need_str(event, &["item", "channel"])?,
        message_ts: need_str(event, &["item", "ts"])?,
    }))
}

/// Decodes an interactivity body: the form field `payload` holding JSON.
pub fn parse_interaction_form(body: &[u8]) -> Result<Inbound, InboundError> {
    let payload = form_fields(body)
        .find(|(k, _)| k == "payload")
        .map(|(_, v)| v)
        .ok_or_else(|| InboundError("no `payload` field".into()))?;
    let v: Value = serde_json::from_str(&payload)
        .map_err(|e| InboundError(format!("payload is not JSON: {e}")))?;
    parse_interaction_value(&v)
}

/// Decodes an interactivity payload (HTTP or Socket Mode).
pub fn parse_interaction_value(v: &Value) -> Result<Inbound, InboundError> {
    if str_at(v, &["type"]) != Some("block_actions") {
        return Ok(Inbound::Ignored("interaction type the bot does not handle"));
    }
    let action = v
        .get("actions")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .ok_or_else(|| InboundError("no `actions`".into()))?;
    let value = need_str(action, &["value"])?;
    // An org-wide install (Enterprise Grid) may send `team: null`; the presser's workspace is then the one.
    let team_id = str_at(v, &["team", "id"])
        .or(str_at(v, &["user", "team_id"]))
        .map(str::to_string)
        .ok_or_else(|| InboundError("no `team.id`".into()))?;
    let channel_id = str_at(v, &["container", "channel_id"])
        .or(str_at(v, &["channel", "id"]))
        .ok_or_else(|| InboundError("no channel".into()))?
        .to_string();
    let message_ts = str_at(v, &["container", "message_ts"])
        .or(str_at(v, &["message", "ts"]))
        .ok_or_else(|| InboundError("no message".into()))?
        .to_string();
    // A thread's parent carries `thread_ts == ts` once it has replies; it is still a top-level message, so the press
    // comes from the channel, as it did before the first reply (as the message path normalises it).
    let thread_ts = str_at(v, &["message", "thread_ts"])
        .or(str_at(v, &["container", "thread_ts"]))
        .filter(|t| *t != message_ts)
        .map(str::to_string);
    Ok(Inbound::Button(ButtonPress {
        enterprise_id: str_at(v, &["enterprise", "id"])
            .or(str_at(v, &["team", "enterprise_id"]))
            .filter(|e| !e.is_empty())
            .map(str::to_string),
        api_app_id: str_at(v, &["api_app_id"]).map(str::to_string),
        user_team: str_at(v, &["user", "team_id"])
            .unwrap_or(&team_id)
            .to_string(),
        team_id,
        user_id: need_str(v, &["user", "id"])?,
        user_name: str_at(v, &["user", "username"])
            .or(str_at(v, &["user", "name"]))
            .unwrap_or("")
            .to_string(),
        channel_id,
        message_ts,
        thread_ts,
        value,
        trigger_id: need_str(v, &["trigger_id"])?,
        response_url: str_at(v, &["response_url"]).map(str::to_string),
    }))
}

/// Removes the bot's mention (`<@UBOT>`, or the first mention when the bot's id is not configured).
fn strip_mention(text: &str, bot_user_id: Option<&str>) -> String {
    let trimmed = text.trim_start();
    let stripped = match bot_user_id {
        Some(id) => {
            let plain = format!("<@{id}>");
            match trimmed.find(&plain) {
                Some(at) => format!("{}{}", &trimmed[..at], &trimmed[at + plain.len()..]),
                None => trimmed.to_string(),
            }
        }
        None => match (trimmed.starts_with("<@"), trimmed.find('>')) {
            (true, Some(end)) => trimmed[end + 1..].to_string(),
            _ => trimmed.to_string(),
        },
    };
    unescape(stripped.trim())
}

fn mentions_bot(text: &str, bot_user_id: Option<&str>) -> bool {
    bot_user_id.is_some_and(|id| text.contains(&format!("<@{id}>")))
}

/// Slack sends `&`, `<`, `>` in message text as entities; the command grammar wants the characters.
pub fn unescape(text: impl Into<String> + AsRef<str>) -> String {
    if !text.as_ref().contains('&') {
        return text.into();
    }
    text.as_ref()
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[cfg(test)]
#[path = "inbound_tests.rs"]
mod tests;
