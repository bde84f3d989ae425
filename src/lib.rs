//! git-credential-pat: a git credential helper for personal access tokens.
//!
//! This library is the helper's implementation, split so each module has one job; it is
//! internal and makes no semver promise. `main.rs` wires the process (arguments, stdin,
//! stdout, stderr, clock, environment) into [`run`].

pub mod app;
pub mod chain;
pub mod cli;
pub mod config;
pub mod display;
pub mod error;
pub mod forge;
pub mod fsio;
pub mod fsperm;
pub mod gitconfig;
pub mod hardening;
pub mod key;
pub mod lock;
pub mod manage;
pub mod people;
pub mod process;
pub mod protocol;
pub mod record;
pub mod rules;
pub mod secret;
pub mod state;
pub mod store;
pub mod time;
pub mod warn;

mod run;
pub use process::Process;
pub use run::run;
