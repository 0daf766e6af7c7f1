//! The checks through the whole core, against the sim's app URL and Redis stand-in and the real PostgreSQL:
//! the scenario table (each scenario turns the lines it names, with the reason, and nothing else),
//! `health --pods` through the pod proxy without retries, `db tables` and `db vacuum` through approval.

mod every_change;
mod harness;
mod maintenance;
mod pod_proxy;
mod scenarios;
