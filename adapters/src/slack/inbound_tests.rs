//! Decoding tests: what is acted on, what is ignored, and that malformed input is an error, never a panic.

use serde_json::json;

use super::*;

fn callback(event: serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(&json!({"type": "event_callback", "team_id": "T1", "api_app_id": "A1", "event_id": "Ev1", "event": event}))
        .unwrap()
}

#[test]
fn slash_command_form_is_decoded() {
    let body = b"team_id=T1&api_app_id=A1&channel_id=C1&user_id=U1&user_name=alice&command=%2Fmystocks&text=scale+5+%26gt%3B&response_url=https%3A%2F%2Fhooks&trigger_id=tr1";
    let c = parse_command_form(body).unwrap();
    assert_eq!(
        (c.team_id.as_str(), c.user_id.as_str(), c.text.as_str()),
        ("T1", "U1", "scale 5 >")
    );
    assert!(parse_command_form(b"team_id=T1").is_err());
    assert!(parse_command_form(&[0xff, 0xfe, b'=', b'%']).is_err());
}

#[test]
fn slash_command_form_keeps_the_last_of_a_repeated_field_and_needs_non_empty_ids() {
    let base = "api_app_id=A1&channel_id=C1&user_id=U1&command=%2Fmystocks&trigger_id=tr1";
    let c =
        parse_command_form(format!("team_id=T9&{base}&team_id=T1&text=status").as_bytes()).unwrap();
    assert_eq!((c.team_id.as_str(), c.text.as_str()), ("T1", "status"));
    assert_eq!(c.user_name, "", "an absent user_name is empty");
    assert_eq!(c.response_url, None);
    let empty_team = parse_command_form(format!("team_id=&{base}").as_bytes()).unwrap_err();
    assert!(empty_team.to_string().contains("team_id"), "{empty_team}");
    let no_text = parse_command_form(format!("team_id=T1&{base}").as_bytes()).unwrap();
    assert_eq!(no_text.text, "");
}

#[test]
fn mentions_and_thread_messages_are_taken() {
    let m = parse_event(&callback(json!({"type": "app_mention", "user": "U1", "text": "<@UBOT> logs &lt;x&gt;", "ts": "2.0", "thread_ts": "1.0", "channel": "C1"})), Some("UBOT")).unwrap();
    let Inbound::Message(m) = m else {
        panic!("{m:?}")
    };
    assert_eq!(
        (m.text.as_str(), m.kind, m.thread_ts.as_deref()),
        ("logs <x>", MessageKind::Mention, Some("1.0"))
    );
    let t = parse_event(&callback(json!({"type": "message", "user": "U1", "text": "status", "ts": "2.0", "thread_ts": "1.0", "channel": "C1"})), Some("UBOT")).unwrap();
    assert!(
        matches!(
            t,
            Inbound::Message(MessageEvent {
                kind: MessageKind::ThreadMessage,
                ..
            })
        ),
        "{t:?}"
    );
}

#[test]
fn bots_edits_own_and_top_level_messages_are_ignored() {
    let cases = [
        json!({"type": "message", "user": "U1", "bot_id": "B1", "text": "status", "ts": "2", "thread_ts": "1", "channel": "C1"}),
        json!({"type": "message", "subtype": "bot_message", "text": "status", "ts": "2", "thread_ts": "1", "channel": "C1"}),
        json!({"type": "message", "subtype": "message_changed", "channel": "C1", "ts": "3", "message": {"text": "status"}}),
        json!({"type": "message", "user": "UBOT", "text": "status", "ts": "2", "thread_ts": "1", "channel": "C1"}),
        json!({"type": "message", "user": "U1", "text": "status", "ts": "2", "channel": "C1"}),
        json!({"type": "message", "user": "U1", "text": "<@UBOT> status", "ts": "2", "thread_ts": "1", "channel": "C1"}),
        json!({"type": "reaction_added", "user": "U1"}),
    ];
    for case in cases {
        let got = parse_event(&callback(case.clone()), Some("UBOT")).unwrap();
        assert!(matches!(got, Inbound::Ignored(_)), "{case} → {got:?}");
    }
}

#[test]
fn a_pushpin_on_a_message_is_a_reaction_and_other_reactions_are_ignored() {
    let pin = json!({"type": "reaction_added", "user": "U1", "reaction": "pushpin", "item_user": "U2",
                     "item": {"type": "message", "channel": "C1", "ts": "1700000000.000200"}, "event_ts": "1700000001.1"});
    match parse_event(&callback(pin.clone()), Some("UBOT")).unwrap() {
        Inbound::Reaction(r) => {
            assert_eq!(
                (
                    r.user_id.as_str(),
                    r.channel_id.as_str(),
                    r.message_ts.as_str()
                ),
                ("U1", "C1", "1700000000.000200")
            );
            assert_eq!(r.team_id, "T1");
        }
        other => panic!("{other:?}"),
    }
    let mut toned = pin.clone();
    toned["reaction"] = json!("pushpin::skin-tone-2");
    assert!(matches!(
        parse_event(&callback(toned), Some("UBOT")).unwrap(),
        Inbound::Reaction(_)
    ));
    let mut other = pin.clone();
    other["reaction"] = json!("thumbsup");
    let mut on_file = pin.clone();
    on_file["item"] = json!({"type": "file", "file": "F1"});
    let mut by_bot = pin.clone();
    by_bot["user"] = json!("UBOT");
    for case in [other, on_file, by_bot] {
        let got = parse_event(&callback(case.clone()), Some("UBOT")).unwrap();
        assert!(matches!(got, Inbound::Ignored(_)), "{case} → {got:?}");
    }
    let mut broken = pin;
    broken["item"] = json!({"type": "message"});
    assert!(parse_event(&callback(broken), Some("UBOT")).is_err());
}

#[test]
fn url_verification_and_malformed_bodies() {
    let v = parse_event(br#"{"type":"url_verification","challenge":"abc"}"#, None).unwrap();
    assert_eq!(
        v,
        Inbound::UrlVerification {
            challenge: "abc".into()
        }
    );
    assert!(parse_event(b"{not json", None).is_err());
    assert!(parse_event(b"{}", None).is_err());
    assert!(parse_event(br#"{"type":"event_callback"}"#, None).is_err());
}

#[test]
fn button_press_carries_the_command_and_thread() {
    let payload = json!({
        "type": "block_actions", "team": {"id": "T1"}, "api_app_id": "A1",
        "user": {"id": "U2", "username": "bob", "team_id": "T1"},
        "container": {"type": "message", "message_ts": "5.0", "channel_id": "C1"},
        "message": {"ts": "5.0", "thread_ts": "1.0"},
        "trigger_id": "tr9", "actions": [{"type": "button", "action_id": "mystocks-0", "value": "approve A1"}]
    });
    let body = format!(
        "payload={}",
        url::form_urlencoded::byte_serialize(payload.to_string().as_bytes()).collect::<String>()
    );
    let Inbound::Button(b) = parse_interaction_form(body.as_bytes()).unwrap() else {
        panic!()
    };
    assert_eq!(
        (
            b.value.as_str(),
            b.thread_ts.as_deref(),
            b.message_ts.as_str()
        ),
        ("approve A1", Some("1.0"), "5.0")
    );
    assert!(parse_interaction_form(b"payload=%7Bbad").is_err());
    assert!(parse_interaction_form(b"nothing=1").is_err());
}
