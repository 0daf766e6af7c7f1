//! Approval ids: short, human-typeable (`A12`), typed case-insensitively (`a12` is `A12`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::grammar::{Args, ParseError};

/// The id of an approval request: `A` followed by its number, without leading zeros. Serialised as the text
/// `"A12"`; the store keeps it in that form too.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ApprovalId(String);

/// Why a text is not an approval id (shown to the user inside a parse error).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("approval ids look like A12 (the letter A, then digits)")]
pub struct BadApprovalId;

impl ApprovalId {
    /// The id with this number (`ApprovalId::new(12)` is `A12`).
    pub fn new(number: u64) -> Self {
        ApprovalId(format!("A{number}"))
    }

    /// The number after the `A`.
    pub fn number(&self) -> u64 {
        self.0[1..].parse().unwrap_or_default()
    }

    /// The id as text, `A12`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Takes the next argument as an approval id, with a user-facing error naming the usage line.
pub(crate) fn required(args: &mut Args) -> Result<ApprovalId, ParseError> {
    let given = args.required("approval id (like A12)")?;
    given
        .parse()
        .map_err(|e: BadApprovalId| args.bad_value("approval id", &given, e.to_string()))
}

impl FromStr for ApprovalId {
    type Err = BadApprovalId;

    /// `A12`, `a12`, `A012` (leading zeros are ignored); at most 18 digits.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let digits = s.strip_prefix(['A', 'a']).ok_or(BadApprovalId)?;
        if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(BadApprovalId);
        }
        digits
            .parse()
            .map(ApprovalId::new)
            .map_err(|_| BadApprovalId)
    }
}

impl fmt::Display for ApprovalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for ApprovalId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ApprovalId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_case_insensitively() {
        assert_eq!("A12".parse(), Ok(ApprovalId::new(12)));
        assert_eq!("a12".parse(), Ok(ApprovalId::new(12)));
        assert_eq!(
            "A007".parse::<ApprovalId>().map(|id| id.to_string()),
            Ok("A7".to_string())
        );
        assert_eq!(ApprovalId::new(42).as_str(), "A42");
        assert_eq!(ApprovalId::new(42).number(), 42);
    }

    #[test]
    fn rejects_other_shapes() {
        for bad in [
            "",
            "A",
            "12",
            "B12",
            "A-1",
            "A1x",
            "A 1",
            "A１２",
            "A1234567890123456789",
            "AA1",
        ] {
            assert_eq!(bad.parse::<ApprovalId>(), Err(BadApprovalId), "{bad}");
        }
    }

    #[test]
    fn serialises_as_text() {
        let id = ApprovalId::new(3);
        let json = serde_json::to_string(&id).expect("serialise");
        assert_eq!(json, "\"A3\"");
        assert_eq!(
            serde_json::from_str::<ApprovalId>(&json).expect("deserialise"),
            id
        );
        assert!(serde_json::from_str::<ApprovalId>("\"X3\"").is_err());
    }
}
