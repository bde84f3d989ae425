//! The crate's error type and its exit codes: 1 for failures, 2 for usage errors.
//!
//! Every message is one line that says what happened and what to do. None carries a token:
//! variants hold keys, paths and line numbers, never values.

use crate::cli::UsageError;
use crate::protocol::{ParseError, UnwritableValue};

/// Everything that can stop a command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad command line or settings (exit 2).
    #[error(transparent)]
    Usage(#[from] UsageError),
    /// A request git (or someone) sent that must be refused.
    #[error(transparent)]
    Protocol(#[from] ParseError),
    /// A stored value cannot be sent back without breaking the protocol.
    #[error(transparent)]
    Unwritable(#[from] UnwritableValue),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] crate::store::Error),
    /// A request without a field git always sends.
    #[error(
        "{action} request without '{field}'; nothing was {done} (git always sends it: something else is calling the helper)"
    )]
    FieldMissing {
        /// `get`, `store` or `erase`.
        action: &'static str,
        /// The missing key.
        field: &'static str,
        /// What did not happen.
        done: &'static str,
    },
    /// Reading standard input failed.
    #[error("cannot read the request on standard input: {0}")]
    Stdin(std::io::Error),
    /// Writing standard output failed.
    #[error("cannot write to standard output: {0}")]
    Stdout(std::io::Error),
    /// A people's command failed for a reason of its own.
    #[error("{0}")]
    Failed(String),
}

impl Error {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) => 2,
            _ => 1,
        }
    }
}

/// Result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;
