//! What a step found out, as named values later steps' conditions read (`usage.cpu_max_millicores`), and the
//! catalogue of facts each command yields, so a runbook that names a fact no step gives is refused at load.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// A step's verdict, comparable in conditions: `ok` < `warn` < `fail`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Grade {
    Ok,
    Warn,
    Fail,
}

impl Grade {
    /// `ok`, `warn`, `fail`.
    pub fn as_str(self) -> &'static str {
        match self {
            Grade::Ok => "ok",
            Grade::Warn => "warn",
            Grade::Fail => "fail",
        }
    }
}

/// One fact: a number, or a grade (which compares as 0, 1, 2).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FactValue {
    Grade(Grade),
    Number(f64),
}

impl FactValue {
    /// The words a condition may use as constants: `ok`, `warn`, `fail`, `true` (1), `false` (0).
    pub fn constant(word: &str) -> Option<FactValue> {
        match word.to_ascii_lowercase().as_str() {
            "ok" => Some(FactValue::Grade(Grade::Ok)),
            "warn" => Some(FactValue::Grade(Grade::Warn)),
            "fail" => Some(FactValue::Grade(Grade::Fail)),
            "true" | "yes" => Some(FactValue::Number(1.0)),
            "false" | "no" => Some(FactValue::Number(0.0)),
            _ => None,
        }
    }

    /// The value compared: numbers as they are, grades as 0 (ok), 1 (warn), 2 (fail).
    pub fn number(self) -> f64 {
        match self {
            FactValue::Number(n) => n,
            FactValue::Grade(g) => g as u8 as f64,
        }
    }

    /// A yes/no fact.
    pub fn flag(yes: bool) -> FactValue {
        FactValue::Number(if yes { 1.0 } else { 0.0 })
    }
}

impl fmt::Display for FactValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FactValue::Grade(g) => f.write_str(g.as_str()),
            FactValue::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => {
                write!(f, "{}", *n as i64)
            }
            FactValue::Number(n) => write!(f, "{n:.3}"),
        }
    }
}

/// Every fact gathered in a run, by step id then fact name.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Facts(BTreeMap<String, BTreeMap<String, FactValue>>);

impl Facts {
    /// The fact `step.fact`, if that step ran and yielded it.
    pub fn get(&self, step: &str, fact: &str) -> Option<FactValue> {
        self.0.get(step)?.get(fact).copied()
    }

    /// Records `step.fact`.
    pub fn set(&mut self, step: &str, fact: &str, value: FactValue) {
        self.0
            .entry(step.to_string())
            .or_default()
            .insert(fact.to_string(), value);
    }

    /// Records every fact of one step.
    pub fn set_all(&mut self, step: &str, facts: &StepFacts) {
        for (name, value) in &facts.0 {
            self.set(step, name, *value);
        }
    }

    /// The facts of one step.
    pub fn of(&self, step: &str) -> Option<&BTreeMap<String, FactValue>> {
        self.0.get(step)
    }
}

/// The facts one step yielded (always including `level`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StepFacts(pub Vec<(&'static str, FactValue)>);

impl StepFacts {
    /// Starts with the step's grade.
    pub fn graded(grade: Grade) -> Self {
        StepFacts(vec![("level", FactValue::Grade(grade))])
    }

    /// Adds a number.
    pub fn number(mut self, name: &'static str, value: f64) -> Self {
        self.0.push((name, FactValue::Number(value)));
        self
    }

    /// Adds a number when there is one.
    pub fn maybe(self, name: &'static str, value: Option<f64>) -> Self {
        match value {
            Some(v) => self.number(name, v),
            None => self,
        }
    }
}

/// The read-only commands a runbook step can run (each yields the facts [`facts_of`] lists).
pub const READ_STEPS: &[&str] = &[
    "top", "pods", "errors", "5xx", "logs", "status", "history", "health", "metrics", "latency",
];

/// Facts of a destructive step: whether it was approved, and whether the change was made and rolled out.
pub const CHANGE_FACTS: &[&str] = &["level", "approved", "done"];

/// The facts a command yields in a runbook step (`level` always), by command name.
pub fn facts_of(command: &str) -> &'static [&'static str] {
    match command {
        "top" => &[
            "level",
            "cpu_max_millicores",
            "cpu_avg_millicores",
            "memory_max_mib",
            "pods",
        ],
        "pods" => &["level", "pods", "ready", "not_ready", "restarts"],
        "errors" => &["level", "errors", "groups"],
        "5xx" => &["level", "responses", "groups"],
        "logs" => &["level", "lines"],
        "status" => &["level", "complete"],
        "history" => &["level", "revisions"],
        "health" => &["level", "failing", "warning"],
        "checklist" => &["level", "failing", "warning"],
        "metrics" => &[
            "level",
            "cache_hit_rate",
            "pool_active",
            "pool_idle",
            "pool_max",
            "pool_wait_seconds",
            "error_ratio",
            "latency_p50_ms",
            "latency_p99_ms",
        ],
        "latency" => &[
            "level",
            "total_median_ms",
            "total_max_ms",
            "ttfb_median_ms",
            "failures",
        ],
        "scale" | "deploy" | "rollback" | "restart" | "db" => CHANGE_FACTS,
        _ => &["level"],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grades_compare_in_order_and_show_as_words() {
        assert!(FactValue::Grade(Grade::Fail).number() > FactValue::Grade(Grade::Warn).number());
        assert_eq!(FactValue::Grade(Grade::Warn).to_string(), "warn");
        assert_eq!(FactValue::Number(912.0).to_string(), "912");
        assert_eq!(FactValue::Number(0.3125).to_string(), "0.312");
    }

    #[test]
    fn facts_round_trip_through_json() {
        let mut f = Facts::default();
        f.set_all(
            "usage",
            &StepFacts::graded(Grade::Warn).number("cpu_max_millicores", 900.0),
        );
        let back: Facts = serde_json::from_value(serde_json::to_value(&f).unwrap()).unwrap();
        assert_eq!(back, f);
        assert_eq!(
            back.get("usage", "level"),
            Some(FactValue::Grade(Grade::Warn))
        );
        assert_eq!(
            back.get("usage", "cpu_max_millicores"),
            Some(FactValue::Number(900.0))
        );
    }

    #[test]
    fn every_command_yields_a_level() {
        for name in ["top", "metrics", "scale", "whoami"] {
            assert!(facts_of(name).contains(&"level"), "{name}");
        }
    }
}
