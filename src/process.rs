//! The process's resources, passed in so tests can drive a whole run in memory and `main`
//! stays a few lines.

use std::ffi::OsString;
use std::io::{Read, Write};

use crate::record::Stamp;

/// The process's resources.
pub struct Process<'a> {
    /// Arguments after the program name.
    pub args: Vec<OsString>,
    /// Looks up an environment variable.
    pub env: &'a dyn Fn(&str) -> Option<OsString>,
    /// Standard input.
    pub stdin: &'a mut dyn Read,
    /// Standard output: protocol answers and people's output only.
    pub stdout: &'a mut dyn Write,
    /// Standard error: one-line messages.
    pub stderr: &'a mut dyn Write,
    /// Whether standard input is a terminal (a person is typing).
    pub stdin_is_terminal: bool,
    /// Whether standard output is a terminal (colours allowed).
    pub stdout_is_terminal: bool,
    /// The time of this run.
    pub now: Stamp,
}
