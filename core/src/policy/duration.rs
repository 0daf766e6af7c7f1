//! Durations in settings: whole seconds (`900`) or a text of numbers with units (`"15m"`, `"1h30m"`, `"90s"`).

use std::time::Duration;

use serde::{Deserialize, Deserializer};

/// Parses `"15m"`, `"1h30m"`, `"90s"`, `"2d"` or plain seconds (`"900"`); at least one second.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let hint =
        || format!("`{text}` is not a duration: write seconds (900) or e.g. \"15m\", \"1h30m\"");
    if text.is_empty() {
        return Err(hint());
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return text
            .parse()
            .map(Duration::from_secs)
            .map_err(|_| hint())
            .and_then(at_least_a_second);
    }
    let mut total: u64 = 0;
    let mut digits = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return Err(hint()),
        };
        let n: u64 = digits.parse().map_err(|_| hint())?;
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(hint)?;
        digits.clear();
    }
    if !digits.is_empty() {
        return Err(hint());
    }
    at_least_a_second(Duration::from_secs(total))
}

fn at_least_a_second(d: Duration) -> Result<Duration, String> {
    if d.as_secs() == 0 {
        Err("a duration must be at least 1 second".to_string())
    } else {
        Ok(d)
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Raw {
    Seconds(u64),
    Text(String),
}

fn from_raw(raw: Raw) -> Result<Duration, String> {
    match raw {
        Raw::Seconds(s) => at_least_a_second(Duration::from_secs(s)),
        Raw::Text(t) => parse_duration(&t),
    }
}

/// Serde: a duration from seconds or text.
pub(super) fn deserialize<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Duration, D::Error> {
    from_raw(Raw::deserialize(deserializer)?).map_err(serde::de::Error::custom)
}

/// Serde: an optional duration from seconds or text.
pub(super) fn deserialize_opt<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Duration>, D::Error> {
    match Option::<Raw>::deserialize(deserializer)? {
        Some(raw) => from_raw(raw).map(Some).map_err(serde::de::Error::custom),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_and_unit_texts() {
        assert_eq!(parse_duration("900"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration(" 90s "), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1d"), Ok(Duration::from_secs(86_400)));
    }

    #[test]
    fn nonsense_is_refused_with_a_hint() {
        for bad in [
            "",
            "m",
            "15x",
            "1h30",
            "-5m",
            "99999999999999999999d",
            "0",
            "0m",
        ] {
            let err = parse_duration(bad).expect_err(bad);
            assert!(err.contains("duration"), "{bad}: {err}");
        }
    }
}
