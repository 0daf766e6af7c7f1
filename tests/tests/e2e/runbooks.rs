//! Runbooks end to end: each shipped runbook runs against the sim under its scenario, changes pause for approval
//! and the run continues after the decision (also in another process), and changes are verified after rollout.

mod harness;
mod one_judge;
mod runs;
mod verify;
