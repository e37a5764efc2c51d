//! roster keeps a user directory in step with a CSV file that an HR or IT system drops on an
//! SFTP server. The binary is a thin shell over this library; see SPEC.md for the contract.

pub mod app;
pub mod cli;
pub mod commands;
pub mod config;
pub mod core;
pub mod error;
pub mod input;
pub mod mail;
pub mod pipeline;
pub mod render;
pub mod scim;
pub mod stage;
pub mod store;
pub mod transport;
