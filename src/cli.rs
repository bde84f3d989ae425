//! Git's calling convention: `git-credential-pat [OPTIONS] <action> [ARGS]`.
//!
//! Git appends the action after the options configured in `credential.helper`, so options
//! come first. An action word this version does not know is not an error: git requires
//! helpers to ignore future actions silently (the caller decides what to do when a person
//! typed it at a terminal).

use std::ffi::{OsStr, OsString};

/// Options shared by every command, as given on the command line (not yet validated).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Options {
    /// `--backend`.
    pub backend: Option<String>,
    /// `--file`.
    pub file: Option<OsString>,
    /// `--ttl`.
    pub ttl: Option<String>,
    /// `--warn`.
    pub warn: Option<String>,
}

/// One of git's actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GitAction {
    /// `get`: answer with a stored credential.
    Get,
    /// `store`: remember a credential that worked.
    Store,
    /// `erase`: forget a credential that was rejected.
    Erase,
}

impl GitAction {
    /// The action's word: `get`, `store` or `erase`.
    pub fn name(self) -> &'static str {
        match self {
            GitAction::Get => "get",
            GitAction::Store => "store",
            GitAction::Erase => "erase",
        }
    }
}

/// What was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// One of git's actions.
    Git(GitAction),
    /// A people's command (`list`, `add`, ...) and its arguments.
    People(String, Vec<OsString>),
    /// `--help`, or no command at all.
    Help,
    /// `--version`.
    Version,
    /// `get|store|erase --help`: what git's action does.
    GitHelp(GitAction),
    /// A word this version does not know, and whether arguments followed it (git sends
    /// one word and nothing after it, so arguments mean a person typed it).
    Unknown(OsString, bool),
}

/// The parsed command line.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// Global options.
    pub options: Options,
    /// The command.
    pub command: Command,
}

/// A usage error: one line naming what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// The names of the people's commands.
pub const PEOPLE_COMMANDS: &[&str] = &[
    "add", "list", "remove", "prune", "import", "doctor", "verify", "rotate",
];

/// Parses the arguments after the program name.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Invocation, UsageError> {
    let mut options = Options::default();
    let mut args = args.into_iter();
    let mut command = None;
    let mut rest = Vec::new();
    while let Some(arg) = args.next() {
        if command.is_some() {
            rest.push(arg);
            continue;
        }
        match take_option(&mut options, &arg, &mut args)? {
            Some(Some(special)) => {
                return Ok(Invocation {
                    options,
                    command: special,
                });
            }
            Some(None) => {}
            None => command = Some(arg),
        }
    }
    let Some(word) = command else {
        // Options and no command: an option probably took the command as its value
        // (`--ttl get`); say so rather than print help and succeed.
        if options != Options::default() {
            return Err(UsageError(
                "no command given after the options (did an option take the command word as its value? write --opt=value); see git credential-pat --help".into(),
            ));
        }
        return Ok(Invocation {
            options,
            command: Command::Help,
        });
    };
    let command = match word.to_str() {
        Some("get") => Command::Git(GitAction::Get),
        Some("store") => Command::Git(GitAction::Store),
        Some("erase") => Command::Git(GitAction::Erase),
        Some(name) if PEOPLE_COMMANDS.contains(&name) => {
            Command::People(name.to_owned(), std::mem::take(&mut rest))
        }
        _ => {
            return Ok(Invocation {
                options,
                command: Command::Unknown(word, !rest.is_empty()),
            });
        }
    };
    if let (Command::Git(action), [only]) = (&command, &rest[..])
        && (only == "--help" || only == "-h")
    {
        return Ok(Invocation {
            options,
            command: Command::GitHelp(*action),
        });
    }
    if let (Command::Git(action), false) = (&command, rest.is_empty()) {
        // Described, never repeated: it may be a token typed after the action.
        return Err(UsageError(format!(
            "{}: unexpected extra argument (not shown: it may be a token); git sends the action last, with nothing after it",
            action.name()
        )));
    }
    Ok(Invocation { options, command })
}

/// Every command word, git's and people's, for suggestions.
pub fn all_commands() -> impl Iterator<Item = &'static str> {
    ["get", "store", "erase"]
        .into_iter()
        .chain(PEOPLE_COMMANDS.iter().copied())
}

/// The command nearest to `word` by edit distance (Levenshtein), if it is close enough to
/// be a typo: at most 2 edits, and fewer than the word's length.
pub fn nearest_command(word: &str) -> Option<&'static str> {
    all_commands()
        .map(|c| (edit_distance(word, c), c))
        .filter(|&(d, _)| d <= 2 && d < word.chars().count().max(1))
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let next = (diag + usize::from(ca != cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            diag = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// Consumes one option (and its value) if `arg` is one. `Ok(None)`: not an option.
/// `Ok(Some(Some(cmd)))`: `--help`/`--version`, which end parsing.
pub fn take_option(
    options: &mut Options,
    arg: &OsStr,
    args: &mut impl Iterator<Item = OsString>,
) -> Result<Option<Option<Command>>, UsageError> {
    let Some(s) = arg.to_str() else {
        // Named up to its `=`, as below: a value is never repeated.
        let bytes = arg.as_encoded_bytes();
        let name = bytes.split(|&b| b == b'=').next().unwrap_or(bytes);
        return if bytes.starts_with(b"-") {
            Err(UsageError(format!(
                "unknown option '{}'; see 'git credential-pat --help'",
                crate::display::escape(name)
            )))
        } else {
            Ok(None)
        };
    };
    if !s.starts_with('-') || s == "-" {
        return Ok(None);
    }
    match s {
        "-h" | "--help" => return Ok(Some(Some(Command::Help))),
        "-V" | "--version" => return Ok(Some(Some(Command::Version))),
        _ => {}
    }
    let (name, inline) = match s.split_once('=') {
        Some((n, v)) => (n, Some(v.to_owned())),
        None => (s, None),
    };
    match name {
        "--backend" | "--file" | "--ttl" | "--warn" => {
            let value = match inline {
                Some(v) => OsString::from(v),
                None => args
                    .next()
                    .ok_or_else(|| UsageError(format!("{name} needs a value")))?,
            };
            if name == "--file" {
                options.file = Some(value);
                return Ok(Some(None));
            }
            let text = value
                .into_string()
                .map_err(|_| UsageError(format!("{name} needs a UTF-8 value")))?;
            match name {
                "--backend" => options.backend = Some(text),
                "--ttl" => options.ttl = Some(text),
                _ => options.warn = Some(text),
            }
            Ok(Some(None))
        }
        _ => Err(UsageError(format!(
            "unknown option '{}'; see 'git credential-pat --help'",
            crate::display::escape(name.as_bytes())
        ))),
    }
}

#[cfg(test)]
mod suggestions {
    use super::*;

    #[test]
    fn typos_name_the_nearest_command() {
        assert_eq!(nearest_command("ad"), Some("add"));
        assert_eq!(nearest_command("lsit"), Some("list"));
        assert_eq!(nearest_command("remvoe"), Some("remove"));
        assert_eq!(nearest_command("docter"), Some("doctor"));
        assert_eq!(nearest_command("frobnicate"), None);
        assert_eq!(nearest_command("x"), None);
    }

    #[test]
    fn a_word_with_arguments_is_a_persons_typo_and_help_is_help() {
        let p = |args: &[&str]| parse(args.iter().map(OsString::from)).unwrap().command;
        assert_eq!(p(&["ad", "https://h"]), Command::Unknown("ad".into(), true));
        assert_eq!(p(&["get", "--help"]), Command::GitHelp(GitAction::Get));
        assert_eq!(p(&["erase", "-h"]), Command::GitHelp(GitAction::Erase));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Invocation, UsageError> {
        parse(args.iter().map(OsString::from))
    }

    #[test]
    fn options_come_before_the_action_in_both_spellings() {
        let inv = p(&[
            "--backend=file",
            "--file",
            "/x/y",
            "--ttl",
            "8h",
            "--warn=0",
            "get",
        ])
        .unwrap();
        assert_eq!(inv.command, Command::Git(GitAction::Get));
        assert_eq!(inv.options.backend.as_deref(), Some("file"));
        assert_eq!(inv.options.file, Some(OsString::from("/x/y")));
        assert_eq!(inv.options.ttl.as_deref(), Some("8h"));
        assert_eq!(inv.options.warn.as_deref(), Some("0"));
    }

    #[test]
    fn unknown_actions_are_not_errors() {
        assert_eq!(
            p(&["capability"]).unwrap().command,
            Command::Unknown("capability".into(), false)
        );
        assert_eq!(
            p(&["--backend", "file", "frobnicate", "x"])
                .unwrap()
                .command,
            Command::Unknown("frobnicate".into(), true)
        );
    }

    #[test]
    fn unknown_options_and_missing_values_are_usage_errors() {
        assert_eq!(
            p(&["--bogus", "get"]).unwrap_err().0,
            "unknown option '--bogus'; see 'git credential-pat --help'"
        );
        assert_eq!(p(&["--file"]).unwrap_err().0, "--file needs a value");
        assert_eq!(
            p(&["--bogus=ghp_secret", "list"]).unwrap_err().0,
            "unknown option '--bogus'; see 'git credential-pat --help'"
        );
    }

    #[test]
    fn an_argument_after_a_git_action_is_described_never_repeated() {
        let e = p(&["get", "ghp_secret"]).unwrap_err().0;
        assert!(
            e.starts_with("get: unexpected extra argument (not shown: it may be a token)"),
            "{e}"
        );
        assert!(!e.contains("ghp_secret"), "{e}");
    }

    #[test]
    fn people_commands_keep_their_arguments() {
        let inv = p(&["list", "--json"]).unwrap();
        assert_eq!(
            inv.command,
            Command::People("list".into(), vec!["--json".into()])
        );
        assert_eq!(p(&[]).unwrap().command, Command::Help);
        assert_eq!(p(&["--version"]).unwrap().command, Command::Version);
    }
}
