//! One run of the program, with every process resource passed in, so tests can drive it in
//! memory and `main` stays a few lines.

use std::ffi::OsString;
use std::io::{Read, Write};

use crate::app::{self, Ctx};
use crate::cli::{self, Command, GitAction, UsageError};
use crate::config::{BackendChoice, Config};
use crate::error::{Error, Result};
use crate::protocol::{self, Request};
use crate::record::Stamp;
use crate::store::Store;
use crate::store::file::FileStore;
use crate::store::keychain::KeychainStore;
use crate::warn::WarnState;

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

/// Runs the program; returns the exit code. Errors are printed here, once, as one line.
pub fn run(mut p: Process<'_>) -> u8 {
    match dispatch(&mut p) {
        Ok(code) => code,
        Err(e) => {
            let _ = writeln!(p.stderr, "git-credential-pat: {e}");
            e.exit_code()
        }
    }
}

const USAGE: &str = "\
usage: git-credential-pat [OPTIONS] <get|store|erase>
       git-credential-pat [OPTIONS] <add|list|remove|prune|import|doctor> [ARGS]

A git credential helper for personal access tokens.

Options (also GIT_CREDENTIAL_PAT_BACKEND, _FILE, _TTL, _WARN):
  --backend=auto|keychain|file  where tokens live (default: auto)
  --file=PATH                   the plain-text store (default: $XDG_DATA_HOME/git-credential-pat/credentials)
  --ttl=DURATION                a credential expires this long after it is stored (default: off)
  --warn=DURATION               warn when a token handed to git expires within this (default: 7d)
  -h, --help                    show this help
  -V, --version                 show the version

Durations: 90s, 30m, 12h, 7d, 2w, or seconds; 0 turns it off.
Configure with: git config --global credential.helper pat
";

fn dispatch(p: &mut Process<'_>) -> Result<u8> {
    let inv = cli::parse(std::mem::take(&mut p.args))?;
    match inv.command {
        Command::Help => {
            p.stdout
                .write_all(USAGE.as_bytes())
                .map_err(Error::Stdout)?;
            Ok(0)
        }
        Command::Version => {
            writeln!(p.stdout, "git-credential-pat {}", env!("CARGO_PKG_VERSION"))
                .map_err(Error::Stdout)?;
            Ok(0)
        }
        Command::Unknown(word) if p.stdin_is_terminal => Err(UsageError(format!(
            "unknown command '{}'; see 'git credential-pat --help'",
            crate::display::escape(word.as_encoded_bytes())
        ))
        .into()),
        // Git requires helpers to ignore actions they do not know, silently.
        Command::Unknown(_) => Ok(0),
        Command::People(name, args) => crate::people::run(&name, inv.options, args, p),
        Command::Git(action) => {
            let config = Config::resolve(&inv.options, p.env)?;
            git_action(p, action, &config)
        }
    }
}

/// Opens the stores `config` selects, in the order `get` consults them.
pub fn open_stores(config: &Config) -> Result<Vec<Box<dyn Store>>> {
    let file = || Box::new(FileStore::new(config.file.clone())) as Box<dyn Store>;
    match config.backend {
        BackendChoice::File => Ok(vec![file()]),
        BackendChoice::Keychain => Ok(vec![Box::new(keychain_store(config))]),
        // The keychain when it answers, then the file. Without a session bus configured the
        // keychain fails its first call at once, without waiting, and is passed over.
        BackendChoice::Auto => Ok(vec![Box::new(keychain_store(config)), file()]),
    }
}

/// The keychain store, not connected yet; its writers lock `<data dir>/keychain.lock`.
pub fn keychain_store(config: &Config) -> KeychainStore {
    let dir = config
        .data_dir
        .clone()
        .or_else(|| config.file.parent().map(Into::into));
    KeychainStore::new(dir.unwrap_or_default().join("keychain.lock"))
}

fn git_action(p: &mut Process<'_>, action: GitAction, config: &Config) -> Result<u8> {
    let stores = open_stores(config)?;
    let stores: Vec<&dyn Store> = stores.iter().map(|s| s.as_ref()).collect();
    let input = protocol::read_request(p.stdin).map_err(Error::Stdin)??;
    let req = Request::parse(&input)?;
    drop(input);
    let mut ctx = Ctx {
        now: p.now,
        ttl: config.ttl,
        warn: config.warn,
        warn_state: config.data_dir.clone().map(WarnState::new),
        notices: p.stderr,
        fall_back: config.backend == BackendChoice::Auto,
    };
    match action {
        GitAction::Get => {
            let answer = app::get(&stores, &req, &mut ctx)?;
            answer.write_to(p.stdout).map_err(Error::Stdout)?;
        }
        GitAction::Store => app::store(&stores, &req, &mut ctx)?,
        GitAction::Erase => app::erase(&stores, &req, &mut ctx)?,
    }
    Ok(0)
}
