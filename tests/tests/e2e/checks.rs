//! The checks through the whole core, against the sim's app URL and Redis stand-in and the real PostgreSQL:
//! the scenario table (each scenario turns the lines it names, with the reason), `db tables` and
//! `db vacuum` through approval.

mod harness;
mod maintenance;
mod scenarios;
