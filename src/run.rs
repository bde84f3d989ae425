//! One run of the program: parse the command line, dispatch to git's actions or the
//! people's commands, print an error once.

use crate::app::{self, Ctx};
use crate::chain::Chain;
use crate::cli::{self, Command, GitAction, UsageError};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::process::Process;
use crate::protocol::{self, Request};
use crate::state::StateKey;
use crate::warn::WarnState;

/// Runs the program; returns the exit code. Errors are printed here, once, as one line.
pub fn run(mut p: Process<'_>) -> u8 {
    match dispatch(&mut p) {
        Ok(code) => code,
        // A closed output pipe (`list | head -1`): the reader has what it wanted.
        Err(Error::Stdout(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            let _ = writeln!(p.stderr, "git-credential-pat: {e}");
            e.exit_code()
        }
    }
}

const USAGE: &str = "\
usage: git-credential-pat [OPTIONS] <get|store|erase>
       git-credential-pat [OPTIONS] <add|list|remove|prune|import|doctor|verify|rotate> [ARGS]

A git credential helper for personal access tokens.

Options (also GIT_CREDENTIAL_PAT_BACKEND, _FILE, _TTL, _WARN):
  --backend=auto|keychain|file|memory
                                where tokens live (default: auto; memory: the Linux kernel
                                keyring, forgotten after the TTL or at reboot)
  --file=PATH                   the plain-text store (default: $XDG_DATA_HOME/git-credential-pat/credentials)
  --ttl=DURATION                a credential expires this long after it is stored
                                (default: off; on the memory backend 900s, re-armed by each store)
  --warn=DURATION               warn when a token handed to git expires within this (default: 7d)
  -h, --help                    show this help
  -V, --version                 show the version

Durations: 90s, 30m, 12h, 7d, 2w, or seconds; 0 turns it off.
Configure with: git config --global credential.helper pat
";

/// The usage error for an unknown command word: the nearest command, or all of them.
fn unknown_command(word: &std::ffi::OsStr) -> String {
    let shown = crate::display::escape(word.as_encoded_bytes());
    match word.to_str().and_then(cli::nearest_command) {
        Some(near) => format!(
            "unknown command '{shown}'; did you mean '{near}'? (see git credential-pat --help)"
        ),
        None => format!(
            "unknown command '{shown}'; the commands are {} (see git credential-pat --help)",
            cli::all_commands().collect::<Vec<_>>().join(", ")
        ),
    }
}

/// `get|store|erase --help`.
fn git_help(action: GitAction) -> String {
    let what = match action {
        GitAction::Get => {
            "Reads git's request (protocol, host, path, username) on standard input and prints the\nstored token that matches it, as username= and password= lines; prints nothing when none\ndoes. Git runs this before asking you for a password."
        }
        GitAction::Store => {
            "Reads a credential git has just used successfully on standard input and keeps it,\nunless the token already stored for that request is the same one."
        }
        GitAction::Erase => {
            "Reads a credential the server rejected on standard input and forgets it (only that\ntoken: a newer one stored since is kept)."
        }
    };
    format!(
        "usage: git-credential-pat [OPTIONS] {}\n\n{what}\n\nGit runs this itself when credential.helper is pat; see git credential-pat --help.\n",
        action.name()
    )
}

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
        Command::GitHelp(action) => {
            p.stdout
                .write_all(git_help(action).as_bytes())
                .map_err(Error::Stdout)?;
            Ok(0)
        }
        // Git sends one word and nothing after it: arguments, or a terminal, mean a person.
        Command::Unknown(word, with_args) if with_args || p.stdin_is_terminal => {
            Err(UsageError(unknown_command(&word)).into())
        }
        // Git requires helpers to ignore actions they do not know, silently.
        Command::Unknown(..) => Ok(0),
        Command::People(name, args) => crate::people::run(&name, inv.options, args, p),
        Command::Git(action) => {
            let config = Config::resolve(&inv.options, p.env)?;
            git_action(p, action, &config)
        }
    }
}

fn git_action(p: &mut Process<'_>, action: GitAction, config: &Config) -> Result<u8> {
    let mut chain = Chain::open(config);
    let input = protocol::read_request(p.stdin).map_err(Error::Stdin)??;
    let req = Request::parse(&input)?;
    drop(input);
    let mut ctx = Ctx {
        now: p.now,
        ttl: config.ttl,
        warn: config.warn,
        warn_state: config.data_dir.clone().map(WarnState::new),
        state_key: config.data_dir.as_deref().map(StateKey::in_dir),
        notices: p.stderr,
    };
    match action {
        GitAction::Get => {
            let answer = app::get(&mut chain, &req, &mut ctx)?;
            answer.write_to(p.stdout).map_err(Error::Stdout)?;
        }
        GitAction::Store => {
            // A token no store held before: its forge may say when it expires (DESIGN §8).
            let mut learn = crate::forge::OnStore::new(p.env, p.now.secs);
            app::store_then_learn(&mut chain, &req, &mut ctx, &mut learn)?;
        }
        GitAction::Erase => app::erase(&mut chain, &req, &mut ctx)?,
    }
    Ok(0)
}

/// git's `store` learns from the forge ([`crate::forge::OnStore`]).
impl app::Learn for crate::forge::OnStore<'_> {
    fn begin(&mut self, new: &crate::record::Record) {
        crate::forge::OnStore::begin(self, new);
    }

    fn learn(
        &mut self,
        new: &crate::record::Record,
    ) -> Option<(Option<u64>, crate::record::Learned)> {
        crate::forge::OnStore::learn(self, new)
    }
}
