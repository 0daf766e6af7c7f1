//! Latency percentiles and the report row of one load level.

use std::time::Duration;

/// What one load level measured.
#[derive(Clone, Debug, Default)]
pub struct LevelResult {
    pub connections: usize,
    pub acks: u64,
    pub errors: u64,
    pub elapsed: Duration,
    /// Latencies of acknowledged requests, microseconds.
    pub latencies_us: Vec<u32>,
}

impl LevelResult {
    /// Acknowledged requests per second.
    pub fn rate(&self) -> f64 {
        self.acks as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The `p`-th percentile (0–100) in milliseconds; 0 with no samples.
    pub fn percentile_ms(&mut self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        self.latencies_us.sort_unstable();
        let rank = ((p / 100.0) * (self.latencies_us.len() - 1) as f64).round() as usize;
        f64::from(self.latencies_us[rank.min(self.latencies_us.len() - 1)]) / 1000.0
    }

    /// A Markdown table row: connections, acks/s, p50, p99, max, errors.
    pub fn row(&mut self) -> String {
        let (p50, p99, max) = (
            self.percentile_ms(50.0),
            self.percentile_ms(99.0),
            self.percentile_ms(100.0),
        );
        format!(
            "| {} | {:.0} | {:.2} | {:.2} | {:.2} | {} | {} |",
            self.connections,
            self.rate(),
            p50,
            p99,
            max,
            self.acks,
            self.errors
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_and_rate() {
        let mut r = LevelResult {
            connections: 1,
            acks: 100,
            errors: 0,
            elapsed: Duration::from_secs(2),
            latencies_us: (1..=100).rev().map(|i| i * 1000).collect(),
        };
        assert_eq!(r.rate(), 50.0);
        assert_eq!(r.percentile_ms(50.0), 51.0);
        assert_eq!(r.percentile_ms(99.0), 99.0);
        assert_eq!(r.percentile_ms(100.0), 100.0);
        assert!(
            r.row()
                .starts_with("| 1 | 50 | 51.00 | 99.00 | 100.00 | 100 | 0 |")
        );
    }
}
