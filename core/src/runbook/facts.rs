//! What a step found out, as typed facts later steps' conditions read (`usage.cpu_max_millicores`): one [`Fact`]
//! per signal, named in runbook files by its snake_case name. A condition's fact names are mapped to [`Fact`]s once,
//! when it is parsed, so a name no step yields is a parse error rather than a condition that never holds.

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

/// One signal a step can yield. Which step yields which is said by the command ([`crate::command::StepRead::facts`])
/// or, for a change, [`CHANGE_FACTS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fact {
    /// Every step's grade.
    Level,
    CpuMaxMillicores,
    CpuAvgMillicores,
    MemoryMaxMib,
    Pods,
    Ready,
    NotReady,
    Restarts,
    Errors,
    Groups,
    Responses,
    Lines,
    Complete,
    Revisions,
    Failing,
    Warning,
    CacheHitRate,
    PoolActive,
    PoolIdle,
    PoolMax,
    PoolWaitSeconds,
    ErrorRatio,
    LatencyP50Ms,
    LatencyP99Ms,
    TotalMedianMs,
    TotalMaxMs,
    TtfbMedianMs,
    Failures,
    Approved,
    Done,
}

impl Fact {
    /// Every fact.
    pub const ALL: [Fact; 30] = [
        Fact::Level,
        Fact::CpuMaxMillicores,
        Fact::CpuAvgMillicores,
        Fact::MemoryMaxMib,
        Fact::Pods,
        Fact::Ready,
        Fact::NotReady,
        Fact::Restarts,
        Fact::Errors,
        Fact::Groups,
        Fact::Responses,
        Fact::Lines,
        Fact::Complete,
        Fact::Revisions,
        Fact::Failing,
        Fact::Warning,
        Fact::CacheHitRate,
        Fact::PoolActive,
        Fact::PoolIdle,
        Fact::PoolMax,
        Fact::PoolWaitSeconds,
        Fact::ErrorRatio,
        Fact::LatencyP50Ms,
        Fact::LatencyP99Ms,
        Fact::TotalMedianMs,
        Fact::TotalMaxMs,
        Fact::TtfbMedianMs,
        Fact::Failures,
        Fact::Approved,
        Fact::Done,
    ];

    /// The name a runbook file uses (`cpu_max_millicores`).
    pub fn name(self) -> &'static str {
        match self {
            Fact::Level => "level",
            Fact::CpuMaxMillicores => "cpu_max_millicores",
            Fact::CpuAvgMillicores => "cpu_avg_millicores",
            Fact::MemoryMaxMib => "memory_max_mib",
            Fact::Pods => "pods",
            Fact::Ready => "ready",
            Fact::NotReady => "not_ready",
            Fact::Restarts => "restarts",
            Fact::Errors => "errors",
            Fact::Groups => "groups",
            Fact::Responses => "responses",
            Fact::Lines => "lines",
            Fact::Complete => "complete",
            Fact::Revisions => "revisions",
            Fact::Failing => "failing",
            Fact::Warning => "warning",
            Fact::CacheHitRate => "cache_hit_rate",
            Fact::PoolActive => "pool_active",
            Fact::PoolIdle => "pool_idle",
            Fact::PoolMax => "pool_max",
            Fact::PoolWaitSeconds => "pool_wait_seconds",
            Fact::ErrorRatio => "error_ratio",
            Fact::LatencyP50Ms => "latency_p50_ms",
            Fact::LatencyP99Ms => "latency_p99_ms",
            Fact::TotalMedianMs => "total_median_ms",
            Fact::TotalMaxMs => "total_max_ms",
            Fact::TtfbMedianMs => "ttfb_median_ms",
            Fact::Failures => "failures",
            Fact::Approved => "approved",
            Fact::Done => "done",
        }
    }

    /// The fact a runbook file names, if there is one.
    pub fn named(name: &str) -> Option<Fact> {
        Fact::ALL.into_iter().find(|f| f.name() == name)
    }
}

impl fmt::Display for Fact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The names of `facts`, comma-separated (for messages).
pub fn names(facts: &[Fact]) -> String {
    let names: Vec<&str> = facts.iter().map(|f| f.name()).collect();
    names.join(", ")
}

/// Facts of a destructive step: whether it was approved, and whether the change was made and rolled out.
pub const CHANGE_FACTS: &[Fact] = &[Fact::Level, Fact::Approved, Fact::Done];

/// Facts of a guidance step (`say`): its level only.
pub const SAY_FACTS: &[Fact] = &[Fact::Level];

/// One fact's value: a number, or a grade (which compares as 0, 1, 2).
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

/// The facts one step yielded (always including its [`Fact::Level`]). Stored as `{"level": "warn",
/// "cpu_max_millicores": 912}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StepFacts(BTreeMap<Fact, FactValue>);

impl StepFacts {
    /// Starts with the step's grade.
    pub fn graded(grade: Grade) -> Self {
        StepFacts(BTreeMap::from([(Fact::Level, FactValue::Grade(grade))]))
    }

    /// Adds a number.
    pub fn number(mut self, fact: Fact, value: f64) -> Self {
        self.0.insert(fact, FactValue::Number(value));
        self
    }

    /// Adds a number when there is one.
    pub fn maybe(self, fact: Fact, value: Option<f64>) -> Self {
        match value {
            Some(v) => self.number(fact, v),
            None => self,
        }
    }

    /// One fact, if the step yielded it.
    pub fn get(&self, fact: Fact) -> Option<FactValue> {
        self.0.get(&fact).copied()
    }

    /// The step's grade (`ok` when it yielded none).
    pub fn grade(&self) -> Grade {
        match self.get(Fact::Level) {
            Some(FactValue::Grade(g)) => g,
            _ => Grade::Ok,
        }
    }

    /// Every fact yielded, in [`Fact`] order.
    pub fn iter(&self) -> impl Iterator<Item = (Fact, FactValue)> + '_ {
        self.0.iter().map(|(f, v)| (*f, *v))
    }
}

/// Every fact gathered in a run, by the id of the step that yielded it (ids are the runbook's own names).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Facts(BTreeMap<String, StepFacts>);

impl Facts {
    /// The fact `step.fact`, if that step ran and yielded it.
    pub fn get(&self, step: &str, fact: Fact) -> Option<FactValue> {
        self.0.get(step)?.get(fact)
    }

    /// Records what one step yielded, in place of anything it yielded before.
    pub fn set_all(&mut self, step: &str, facts: &StepFacts) {
        self.0.insert(step.to_string(), facts.clone());
    }

    /// The facts of one step.
    pub fn of(&self, step: &str) -> Option<&StepFacts> {
        self.0.get(step)
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
    fn facts_round_trip_through_json_under_their_names() {
        let mut f = Facts::default();
        f.set_all(
            "usage",
            &StepFacts::graded(Grade::Warn).number(Fact::CpuMaxMillicores, 900.0),
        );
        let json = serde_json::to_value(&f).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"usage": {"level": "warn", "cpu_max_millicores": 900.0}})
        );
        let back: Facts = serde_json::from_value(json).unwrap();
        assert_eq!(back, f);
        assert_eq!(
            back.get("usage", Fact::Level),
            Some(FactValue::Grade(Grade::Warn))
        );
        assert_eq!(
            back.get("usage", Fact::CpuMaxMillicores),
            Some(FactValue::Number(900.0))
        );
    }

    #[test]
    fn every_fact_is_found_by_its_name_and_serialised_as_it() {
        for fact in Fact::ALL {
            assert_eq!(Fact::named(fact.name()), Some(fact));
            assert_eq!(
                serde_json::to_value(fact).unwrap(),
                serde_json::json!(fact.name())
            );
        }
        assert_eq!(Fact::named("cpu"), None);
    }
}
