//! Pure logic with no I/O: records and their rules, phone and mail checks, and the plan.

pub mod file;
pub mod fold;
pub mod mail;
pub mod phone;
pub mod plan;
pub mod policy;
pub mod problem;
pub mod record;
pub mod report;
pub mod revert;
pub mod signal;
pub mod spreadsheet;
pub mod status;
