//! The message checks of the fake Slack: what `chat.postMessage`, `chat.postEphemeral` and `chat.update` refuse,
//! with Slack's error codes (limits from Slack's Block Kit reference).

use serde_json::Value;

fn chars(v: &Value) -> usize {
    v.as_str().map_or(0, |s| s.chars().count())
}

/// Checks a message body as Slack would; the error is Slack's code (`no_text`, `invalid_blocks`, `msg_too_long`).
pub fn check_message(body: &Value) -> Result<(), String> {
    let text = body.get("text").and_then(Value::as_str).unwrap_or("");
    let blocks = match body.get("blocks") {
        None | Some(Value::Null) => None,
        Some(Value::Array(b)) => Some(b),
        Some(_) => return Err("invalid_blocks_format".into()),
    };
    if text.is_empty() && blocks.is_none_or(|b| b.is_empty()) {
        return Err("no_text".into());
    }
    if text.chars().count() > 40_000 {
        return Err("msg_too_long".into());
    }
    let Some(blocks) = blocks else { return Ok(()) };
    if blocks.len() > 50 {
        return Err("invalid_blocks".into());
    }
    blocks.iter().try_for_each(check_block).map_err(|why| {
        // Slack says only `invalid_blocks`; the reason helps whoever reads the failing test's output.
        eprintln!("fake Slack refused blocks: {why}");
        "invalid_blocks".to_string()
    })
}

fn check_block(b: &Value) -> Result<(), String> {
    match b["type"].as_str() {
        Some("section") => {
            if b.get("text").is_none() && b.get("fields").is_none() {
                return Err("section without text or fields".into());
            }
            if let Some(t) = b.get("text") {
                check_text(t, 3000, "section text")?;
            }
            if let Some(fields) = b.get("fields") {
                let fields = fields.as_array().ok_or("fields not a list")?;
                if fields.len() > 10 {
                    return Err(format!("{} fields (max 10)", fields.len()));
                }
                fields
                    .iter()
                    .try_for_each(|f| check_text(f, 2000, "field"))?;
            }
            Ok(())
        }
        Some("header") => {
            if b["text"]["type"] != "plain_text" {
                return Err("header text must be plain_text".into());
            }
            check_text(&b["text"], 150, "header")
        }
        Some("context") => {
            let elements = b["elements"].as_array().ok_or("context without elements")?;
            if elements.is_empty() || elements.len() > 10 {
                return Err("context needs 1–10 elements".into());
            }
            elements
                .iter()
                .try_for_each(|e| check_text(e, 3000, "context"))
        }
        Some("actions") => {
            let elements = b["elements"].as_array().ok_or("actions without elements")?;
            if elements.is_empty() || elements.len() > 25 {
                return Err("actions needs 1–25 elements".into());
            }
            for e in elements {
                if e["type"] != "button" {
                    return Err("only buttons expected".into());
                }
                check_text(&e["text"], 75, "button label")?;
                if chars(&e["value"]) > 2000 {
                    return Err("button value over 2000".into());
                }
                if let Some(style) = e.get("style")
                    && style != "primary"
                    && style != "danger"
                {
                    return Err("bad button style".into());
                }
            }
            Ok(())
        }
        Some("divider") => Ok(()),
        other => Err(format!("unknown block type {other:?}")),
    }
}

fn check_text(t: &Value, max: usize, what: &str) -> Result<(), String> {
    match t["type"].as_str() {
        Some("mrkdwn") | Some("plain_text") => {}
        _ => return Err(format!("{what}: text object without a valid type")),
    }
    let n = chars(&t["text"]);
    if n == 0 || n > max {
        return Err(format!("{what}: {n} characters (1–{max})"));
    }
    Ok(())
}
