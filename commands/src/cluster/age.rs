//! Times of Kubernetes objects: conversion from the API's timestamps and kubectl's short age format (`5m12s`).

use chrono::{DateTime, Utc};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

/// An API timestamp as a chrono time.
pub fn to_chrono(time: &Time) -> DateTime<Utc> {
    let ts = time.0;
    DateTime::from_timestamp(ts.as_second(), ts.subsec_nanosecond().max(0) as u32)
        .unwrap_or_default()
}

/// The age of something created at `created`, seen at `now`, as kubectl prints it.
pub fn age(created: Option<DateTime<Utc>>, now: DateTime<Utc>) -> String {
    match created {
        Some(c) => human_duration((now - c).num_seconds()),
        None => "<unknown>".to_string(),
    }
}

/// kubectl's `duration.HumanDuration`: `45s`, `3m12s`, `25m`, `4h5m`, `30h`, `3d4h`, `400d`, `2y10d`.
pub fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".to_string();
    }
    if seconds < 0 {
        return "0s".to_string();
    }
    if seconds < 120 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{h}h", hours / 24)
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let days = (hours / 24) % 365;
        let years = hours / 24 / 365;
        return if days == 0 {
            format!("{years}y")
        } else {
            format!("{years}y{days}d")
        };
    }
    format!("{}y", hours / 24 / 365)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_kubectl() {
        assert_eq!(human_duration(-5), "<invalid>");
        assert_eq!(human_duration(-1), "0s");
        assert_eq!(human_duration(45), "45s");
        assert_eq!(human_duration(119), "119s");
        assert_eq!(human_duration(192), "3m12s");
        assert_eq!(human_duration(300), "5m");
        assert_eq!(human_duration(25 * 60 + 7), "25m");
        assert_eq!(human_duration(4 * 3600 + 5 * 60), "4h5m");
        assert_eq!(human_duration(30 * 3600), "30h");
        assert_eq!(human_duration(3 * 86400 + 4 * 3600), "3d4h");
        assert_eq!(human_duration(400 * 86400), "400d");
        assert_eq!(human_duration((2 * 365 + 10) * 86400), "2y10d");
        assert_eq!(human_duration(9 * 365 * 86400), "9y");
    }

    #[test]
    fn converts_api_times() {
        let t: Time = serde_json::from_str("\"2026-11-28T14:00:00Z\"").expect("time");
        let c = to_chrono(&t);
        assert_eq!(c.to_rfc3339(), "2026-11-28T14:00:00+00:00");
        assert_eq!(age(Some(c), c + chrono::Duration::seconds(61)), "61s");
        assert_eq!(age(None, c), "<unknown>");
    }
}
