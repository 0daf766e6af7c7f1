//! Conditions on earlier steps' results, as a runbook writes them after `if =` or `expect =`:
//! `usage.cpu_max_millicores > 500`, `scale.done == 1 and after.level != fail`, `pool.level >= warn or x.y < 2`.
//!
//! Grammar: `EXPR := ALL ("or" ALL)*`, `ALL := CLAUSE ("and" CLAUSE)*`, `CLAUSE := OPERAND [OP OPERAND]`,
//! `OPERAND := STEP.FACT | NUMBER | ok | warn | fail | true | false`, `OP := > >= < <= == !=`. A clause without an
//! operator is true when its value is not zero. Each FACT is mapped to its [`Fact`] when the text is parsed (a name
//! that is no fact is a parse error); a fact that is unknown when it is read (its step was skipped or failed) makes
//! its clause false. Pure: no I/O.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::facts::{Fact, FactValue, Facts};

/// A reference to a fact of an earlier step: `usage.cpu_max_millicores`.
#[derive(Clone, Debug, PartialEq)]
pub struct FactRef {
    pub step: String,
    pub fact: Fact,
}

impl fmt::Display for FactRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.step, self.fact)
    }
}

/// One side of a comparison.
#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    Fact(FactRef),
    Value(FactValue),
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Gt,
    Ge,
    Lt,
    Le,
    Eq,
    Ne,
}

impl Op {
    fn as_str(self) -> &'static str {
        match self {
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Eq => "==",
            Op::Ne => "!=",
        }
    }

    fn holds(self, left: f64, right: f64) -> bool {
        match self {
            Op::Gt => left > right,
            Op::Ge => left >= right,
            Op::Lt => left < right,
            Op::Le => left <= right,
            Op::Eq => (left - right).abs() < f64::EPSILON,
            Op::Ne => (left - right).abs() >= f64::EPSILON,
        }
    }
}

/// `left OP right`, or `left` alone (true when not zero).
#[derive(Clone, Debug, PartialEq)]
pub struct Clause {
    pub left: Operand,
    pub compare: Option<(Op, Operand)>,
}

/// A parsed condition; keeps its source text, which is also how it is stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Condition {
    source: String,
    /// Alternatives (`or`), each a conjunction (`and`) of clauses.
    any: Vec<Vec<Clause>>,
}

/// Why a condition text does not parse; `column` counts characters from 1.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("condition `{text}`: {reason} (at column {column})")]
pub struct ConditionError {
    pub text: String,
    pub column: usize,
    pub reason: String,
}

impl TryFrom<String> for Condition {
    type Error = ConditionError;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        Condition::parse(&text)
    }
}

impl From<Condition> for String {
    fn from(c: Condition) -> String {
        c.source
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Word(String),
    Op(Op),
}

fn tokenize(text: &str) -> Result<Vec<(usize, Token)>, (usize, String)> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let column = i + 1;
        if matches!(c, '>' | '<' | '=' | '!') {
            let next_eq = chars.get(i + 1) == Some(&'=');
            let op = match (c, next_eq) {
                ('>', true) => Op::Ge,
                ('>', false) => Op::Gt,
                ('<', true) => Op::Le,
                ('<', false) => Op::Lt,
                ('=', true) => Op::Eq,
                ('!', true) => Op::Ne,
                _ => {
                    return Err((
                        column,
                        format!("`{c}` is not an operator (use >, >=, <, <=, == or !=)"),
                    ));
                }
            };
            i += if next_eq { 2 } else { 1 };
            out.push((column, Token::Op(op)));
            continue;
        }
        if c.is_alphanumeric() || matches!(c, '_' | '-' | '.') {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || matches!(chars[i], '_' | '-' | '.'))
            {
                i += 1;
            }
            out.push((column, Token::Word(chars[start..i].iter().collect())));
            continue;
        }
        return Err((column, format!("unexpected `{c}`")));
    }
    Ok(out)
}

/// A clause as written: its left operand and comparison, each operand with the column it starts at.
type WrittenClause = ((usize, Written), Option<(Op, (usize, Written))>);

/// An operand as written, before its fact's name is mapped to a [`Fact`].
#[derive(Clone)]
enum Written {
    Fact { step: String, fact: String },
    Value(FactValue),
}

fn operand(word: &str) -> Result<Written, String> {
    if let Some(value) = FactValue::constant(word) {
        return Ok(Written::Value(value));
    }
    if word.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '.') {
        return word
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .map(|n| Written::Value(FactValue::Number(n)))
            .ok_or_else(|| format!("`{word}` is not a number"));
    }
    match word.split_once('.') {
        Some((step, fact)) if !step.is_empty() && !fact.is_empty() && !fact.contains('.') => {
            Ok(Written::Fact {
                step: step.to_string(),
                fact: fact.to_string(),
            })
        }
        _ => Err(format!(
            "`{word}` is neither STEP.FACT (e.g. `usage.cpu_max_millicores`), a number, nor ok / warn / fail / true / false"
        )),
    }
}

/// Why a condition does not parse in its runbook: its text, or a fact it names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unresolved {
    Syntax(ConditionError),
    /// A `STEP.FACT` the resolver refused, with the column it starts at and the resolver's reason.
    Reference {
        column: usize,
        reason: String,
    },
}

impl Condition {
    /// Parses a condition text; its facts may be any [`Fact`] (runbooks check which step yields which with
    /// [`Condition::parse_in`]).
    pub fn parse(text: &str) -> Result<Condition, ConditionError> {
        let any_fact = |_: &str, name: &str| {
            Fact::named(name).ok_or_else(|| {
                format!(
                    "there is no fact `{name}`; steps yield {}",
                    super::facts::names(&Fact::ALL)
                )
            })
        };
        Condition::parse_in(text, any_fact).map_err(|e| match e {
            Unresolved::Syntax(err) => err,
            Unresolved::Reference { column, reason } => ConditionError {
                text: text.to_string(),
                column,
                reason,
            },
        })
    }

    /// Parses a condition text, mapping each `STEP.FACT` to its [`Fact`] with `resolve(step, fact)` once the
    /// syntax is known good (so a syntax error is reported first).
    pub fn parse_in(
        text: &str,
        resolve: impl Fn(&str, &str) -> Result<Fact, String>,
    ) -> Result<Condition, Unresolved> {
        let fail = |column: usize, reason: String| ConditionError {
            text: text.to_string(),
            column,
            reason,
        };
        let any = Condition::syntax(text, &fail).map_err(Unresolved::Syntax)?;
        let resolve = |(column, written): (usize, Written)| match written {
            Written::Value(v) => Ok(Operand::Value(v)),
            Written::Fact { step, fact } => match resolve(&step, &fact) {
                Ok(fact) => Ok(Operand::Fact(FactRef { step, fact })),
                Err(reason) => Err(Unresolved::Reference { column, reason }),
            },
        };
        let any = any
            .into_iter()
            .map(|all| {
                all.into_iter()
                    .map(|(left, compare)| {
                        Ok(Clause {
                            left: resolve(left)?,
                            compare: match compare {
                                Some((op, right)) => Some((op, resolve(right)?)),
                                None => None,
                            },
                        })
                    })
                    .collect::<Result<Vec<_>, Unresolved>>()
            })
            .collect::<Result<Vec<_>, Unresolved>>()?;
        Ok(Condition {
            source: text.to_string(),
            any,
        })
    }

    /// The clauses as written: alternatives of conjunctions of `(operand, comparison)`, each operand with its
    /// column.
    fn syntax(
        text: &str,
        fail: &dyn Fn(usize, String) -> ConditionError,
    ) -> Result<Vec<Vec<WrittenClause>>, ConditionError> {
        let tokens = tokenize(text).map_err(|(c, r)| fail(c, r))?;
        if tokens.is_empty() {
            return Err(fail(1, "it is empty".into()));
        }
        let mut any = vec![Vec::new()];
        let mut i = 0;
        loop {
            let (column, token) = tokens.get(i).cloned().ok_or_else(|| {
                fail(
                    text.chars().count() + 1,
                    "a value is missing at the end".into(),
                )
            })?;
            let Token::Word(word) = token else {
                return Err(fail(column, "expected a value before the operator".into()));
            };
            let left = (column, operand(&word).map_err(|r| fail(column, r))?);
            i += 1;
            let mut compare = None;
            if let Some((column, Token::Op(op))) = tokens.get(i).cloned() {
                let (rcol, right) = match tokens.get(i + 1) {
                    Some((c, Token::Word(w))) => (*c, w.clone()),
                    _ => {
                        return Err(fail(
                            column,
                            format!("`{}` needs a value on its right", op.as_str()),
                        ));
                    }
                };
                compare = Some((op, (rcol, operand(&right).map_err(|r| fail(rcol, r))?)));
                i += 2;
            }
            if let Some(all) = any.last_mut() {
                all.push((left, compare));
            }
            match tokens.get(i) {
                None => break,
                Some((_, Token::Word(w))) if w.eq_ignore_ascii_case("and") => i += 1,
                Some((_, Token::Word(w))) if w.eq_ignore_ascii_case("or") => {
                    any.push(Vec::new());
                    i += 1;
                }
                Some((column, _)) => {
                    return Err(fail(*column, "expected `and`, `or` or the end".into()));
                }
            }
        }
        Ok(any)
    }

    /// The source text.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Every fact the condition reads.
    pub fn references(&self) -> Vec<&FactRef> {
        let mut refs = Vec::new();
        for clause in self.any.iter().flatten() {
            if let Operand::Fact(r) = &clause.left {
                refs.push(r);
            }
            if let Some((_, Operand::Fact(r))) = &clause.compare {
                refs.push(r);
            }
        }
        refs
    }

    /// Evaluates against the facts gathered so far.
    pub fn holds(&self, facts: &Facts) -> bool {
        self.any
            .iter()
            .any(|all| all.iter().all(|c| clause_holds(c, facts)))
    }

    /// The condition with the values it read, e.g. `usage.cpu_max_millicores (912) > 500`.
    pub fn explain(&self, facts: &Facts) -> String {
        let show = |o: &Operand| match o {
            Operand::Value(v) => v.to_string(),
            Operand::Fact(r) => match facts.get(&r.step, r.fact) {
                Some(v) => format!("{r} ({v})"),
                None => format!("{r} (unknown)"),
            },
        };
        let alternatives: Vec<String> = self
            .any
            .iter()
            .map(|all| {
                let parts: Vec<String> = all
                    .iter()
                    .map(|c| match &c.compare {
                        Some((op, right)) => {
                            format!("{} {} {}", show(&c.left), op.as_str(), show(right))
                        }
                        None => show(&c.left),
                    })
                    .collect();
                parts.join(" and ")
            })
            .collect();
        alternatives.join(" or ")
    }
}

fn value_of(operand: &Operand, facts: &Facts) -> Option<f64> {
    match operand {
        Operand::Value(v) => Some(v.number()),
        Operand::Fact(r) => facts.get(&r.step, r.fact).map(|v| v.number()),
    }
}

fn clause_holds(clause: &Clause, facts: &Facts) -> bool {
    let Some(left) = value_of(&clause.left, facts) else {
        return false;
    };
    match &clause.compare {
        None => left != 0.0,
        Some((op, right)) => value_of(right, facts).is_some_and(|right| op.holds(left, right)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runbook::facts::{Grade, StepFacts};

    fn facts() -> Facts {
        let mut f = Facts::default();
        f.set_all(
            "usage",
            &StepFacts::graded(Grade::Warn).number(Fact::CpuMaxMillicores, 912.0),
        );
        f.set_all("scale", &StepFacts::default().number(Fact::Done, 1.0));
        f
    }

    #[test]
    fn comparisons_read_facts() {
        let f = facts();
        assert!(
            Condition::parse("usage.cpu_max_millicores > 500")
                .unwrap()
                .holds(&f)
        );
        assert!(
            !Condition::parse("usage.cpu_max_millicores<=500")
                .unwrap()
                .holds(&f)
        );
        assert!(Condition::parse("usage.level >= warn").unwrap().holds(&f));
        assert!(!Condition::parse("usage.level == fail").unwrap().holds(&f));
        assert!(Condition::parse("scale.done").unwrap().holds(&f));
        assert!(Condition::parse("scale.done == true").unwrap().holds(&f));
    }

    #[test]
    fn and_binds_tighter_than_or() {
        let f = facts();
        let c =
            Condition::parse("usage.level == ok and scale.done or usage.cpu_max_millicores > 900")
                .unwrap();
        assert!(c.holds(&f));
        let c =
            Condition::parse("usage.level == ok and scale.done or usage.cpu_max_millicores > 950")
                .unwrap();
        assert!(!c.holds(&f));
    }

    #[test]
    fn unknown_facts_make_the_clause_false() {
        let f = facts();
        assert!(
            !Condition::parse("after.cpu_max_millicores < 500")
                .unwrap()
                .holds(&f)
        );
        assert!(
            !Condition::parse("after.cpu_max_millicores >= 0")
                .unwrap()
                .holds(&f)
        );
        let c = Condition::parse("after.cpu_max_millicores < usage.cpu_max_millicores").unwrap();
        assert_eq!(
            c.explain(&f),
            "after.cpu_max_millicores (unknown) < usage.cpu_max_millicores (912)"
        );
    }

    #[test]
    fn explain_shows_values() {
        let c = Condition::parse("usage.cpu_max_millicores > 500 and usage.level != ok").unwrap();
        assert_eq!(
            c.explain(&facts()),
            "usage.cpu_max_millicores (912) > 500 and usage.level (warn) != ok"
        );
    }

    #[test]
    fn bad_texts_say_where_and_why() {
        for (text, column, needle) in [
            ("", 1, "empty"),
            ("usage.cpu >", 11, "needs a value"),
            ("usage.cpu => 5", 11, "not an operator"),
            ("cpu > 5", 1, "STEP.FACT"),
            ("usage.cpu > 5 but x.y", 15, "expected `and`"),
            ("usage.cpu > 5 and", 18, "missing"),
            ("usage.cpu > 5e", 13, "not a number"),
            ("usage.cpu $ 5", 11, "unexpected"),
            ("> 5", 1, "before the operator"),
        ] {
            let err = Condition::parse(text).expect_err(text);
            assert_eq!(err.column, column, "{text}: {err}");
            assert!(err.reason.contains(needle), "{text}: {err}");
        }
    }

    #[test]
    fn a_name_that_is_no_fact_is_a_parse_error_after_the_syntax() {
        let err =
            Condition::parse("usage.cpu_max_millicores > 5 and usage.cpu < 2").expect_err("cpu");
        assert_eq!(err.column, 34, "{err}");
        assert!(
            err.reason.contains("no fact `cpu`") && err.reason.contains("cpu_max_millicores"),
            "{err}"
        );
        let err = Condition::parse("usage.cpu >").expect_err("syntax first");
        assert!(err.reason.contains("needs a value"), "{err}");
    }

    #[test]
    fn references_and_round_trip() {
        let c = Condition::parse("a.pods > b.ready or c.done").unwrap();
        let refs: Vec<String> = c.references().iter().map(|r| r.to_string()).collect();
        assert_eq!(refs, ["a.pods", "b.ready", "c.done"]);
        assert_eq!(c.references()[0].fact, Fact::Pods);
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(json, "\"a.pods > b.ready or c.done\"");
        let back: Condition = serde_json::from_str(&json).unwrap();
        assert_eq!(back, c);
    }
}
