//! What a people's command works with, and where its lines go.

use crate::chain::{Chain, Note};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::process::Process;

/// What every command works with.
pub(super) struct Session<'p, 'a> {
    /// The process's resources.
    pub(super) p: &'p mut Process<'a>,
    /// The resolved settings.
    pub(super) config: Config,
    /// The backend chain of the chosen store.
    pub(super) chain: Chain,
}

impl Session<'_, '_> {
    /// Prints `line` on stdout.
    pub(super) fn out(&mut self, line: &str) -> Result<()> {
        writeln!(self.p.stdout, "{line}").map_err(Error::Stdout)
    }

    /// Prints `line` on stderr, prefixed with the program's name.
    pub(super) fn err(&mut self, line: &str) {
        let _ = writeln!(self.p.stderr, "git-credential-pat: {line}");
    }

    /// Shows every note the backend chain gathered (an unreachable keychain passed over
    /// included: a person asked, so a person is told).
    pub(super) fn flush_notes(&mut self) {
        let notes = self.chain.take_notes();
        // A fallback that created the file says it all: the pass-over is not said twice.
        let fell_back = notes.iter().any(|n| matches!(n, Note::FellBack { .. }));
        for note in notes {
            if fell_back && matches!(note, Note::PassedOver { .. }) {
                continue;
            }
            self.err(&note.to_string());
        }
    }
}
