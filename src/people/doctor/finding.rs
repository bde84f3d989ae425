//! What one check of `doctor` found: a tagged line of the report, as data.

/// How a finding is tagged.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Level {
    /// `ok`.
    Ok,
    /// `note`.
    Note,
    /// `problem`.
    Problem,
}

/// One checked fact: one line of the report.
#[derive(Debug, PartialEq)]
pub(super) struct Finding {
    /// Fine, worth knowing, or in the way.
    pub(super) level: Level,
    /// One line, no tag.
    pub(super) message: String,
}

impl Finding {
    /// Fine.
    pub(super) fn ok(message: impl Into<String>) -> Finding {
        Finding {
            level: Level::Ok,
            message: message.into(),
        }
    }

    /// Worth knowing, not a problem.
    pub(super) fn note(message: impl Into<String>) -> Finding {
        Finding {
            level: Level::Note,
            message: message.into(),
        }
    }

    /// In the way: `doctor` exits 1.
    pub(super) fn problem(message: impl Into<String>) -> Finding {
        Finding {
            level: Level::Problem,
            message: message.into(),
        }
    }
}
