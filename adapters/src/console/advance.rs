//! `:advance 15m` — moving the console's clock forward, so SLA timers and expiries can be shown without waiting.
//! The console only knows a [`TimeControl`]; the demo gives it one over the core's `ManualClock` and job runner.

use std::time::Duration;

use async_trait::async_trait;

/// Something that can move time forward and run what became due.
#[async_trait]
pub trait TimeControl: Send + Sync {
    /// Moves the clock forward by `by`, runs the jobs that became due, and says what time it is now.
    async fn advance(&self, by: Duration) -> String;
}

/// Parses the argument of `:advance`: `15m`, `1h30m`, `90s`, `2d` or seconds.
pub fn parse(text: &str) -> Result<Duration, String> {
    mystocks_commands::policy::parse_duration(text)
        .map_err(|e| format!("{e} — usage: :advance 15m"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_directive_parses() {
        use super::super::line::{Line, parse as line};
        assert_eq!(
            line(":advance 15m"),
            Line::Advance(Duration::from_secs(900))
        );
        assert!(matches!(line(":advance"), Line::Invalid(m) if m.contains("usage")));
        assert!(matches!(line(":advance 5 minutes"), Line::Invalid(_)));
    }

    #[test]
    fn durations_with_units() {
        assert_eq!(parse("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse("1h30m"), Ok(Duration::from_secs(5400)));
        assert!(parse("soon").unwrap_err().contains("usage: :advance"));
    }
}
