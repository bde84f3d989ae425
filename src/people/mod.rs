//! The people's commands: `add`, `list`, `remove`, `prune`, `import`, `doctor`.
//!
//! They see no helper arguments, so their settings come from the defaults, then the options of
//! the first `credential.helper` entry that names pat, then the environment, then their own
//! command line: they act on exactly the store git uses. Unlike git's actions they may start
//! git (to read its config), prompt at a terminal and print tables.

mod add;
mod doctor;
mod import;
mod list;
mod remove;
pub mod url;

use std::collections::HashMap;
use std::ffi::OsString;

use crate::chain::Chain;
use crate::cli::{self, Options, UsageError};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::process::Process;

/// A command's flags: name and whether it takes a value.
struct Spec {
    usage: &'static str,
    flags: &'static [(&'static str, bool)],
    positional: (usize, usize),
}

/// A command line after parsing against a [`Spec`].
struct Args {
    options: Options,
    flags: HashMap<&'static str, Option<OsString>>,
    positional: Vec<OsString>,
}

impl Args {
    fn flag(&self, name: &str) -> bool {
        self.flags.contains_key(name)
    }

    fn value(&self, name: &str) -> Result<Option<String>> {
        match self.flags.get(name) {
            Some(Some(v)) => v
                .clone()
                .into_string()
                .map(Some)
                .map_err(|_| UsageError(format!("{name} needs a UTF-8 value")).into()),
            _ => Ok(None),
        }
    }
}

const COMMON: &str = "\
Options: --backend=auto|keychain|file, --file=PATH, --ttl=DURATION, --warn=DURATION
(default: those of the credential.helper entry that names pat, then GIT_CREDENTIAL_PAT_*).";

fn parse_args(
    name: &str,
    spec: &Spec,
    before: Options,
    args: Vec<OsString>,
) -> Result<Option<Args>> {
    // Options given before the command word count too; those after it win.
    let mut parsed = Args {
        options: before,
        flags: HashMap::new(),
        positional: Vec::new(),
    };
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        let s = arg.to_str().unwrap_or("");
        if s == "-h" || s == "--help" {
            return Ok(None);
        }
        let (flag, inline) = match s.split_once('=') {
            Some((f, v)) => (f, Some(OsString::from(v))),
            None => (s, None),
        };
        if let Some(&(known, takes)) = spec.flags.iter().find(|(f, _)| *f == flag) {
            let value = match (takes, inline) {
                (true, Some(v)) => Some(v),
                (true, None) => Some(
                    it.next()
                        .ok_or_else(|| UsageError(format!("{known} needs a value")))?,
                ),
                (false, None) => None,
                (false, Some(_)) => {
                    return Err(UsageError(format!("{known} takes no value")).into());
                }
            };
            parsed.flags.insert(known, value);
            continue;
        }
        if s == "-" || !arg.as_encoded_bytes().starts_with(b"-") {
            parsed.positional.push(arg);
            continue;
        }
        match cli::take_option(&mut parsed.options, &arg, &mut it)? {
            Some(None) => {}
            Some(Some(_)) => return Ok(None),
            None => unreachable!("starts with '-'"),
        }
    }
    let (min, max) = spec.positional;
    if parsed.positional.len() < min {
        return Err(UsageError(format!(
            "{name}: missing argument; usage: {}",
            first_line(spec.usage)
        ))
        .into());
    }
    if parsed.positional.len() > max {
        return Err(UsageError(format!(
            "{name}: unexpected argument '{}'; usage: {}",
            crate::display::escape(parsed.positional[max].as_encoded_bytes()),
            first_line(spec.usage)
        ))
        .into());
    }
    Ok(Some(parsed))
}

/// The URL argument of `cmd` and the user it names: the URL's or `--username`'s (both given
/// and different is a usage error). A URL with a password is refused: tokens never come from
/// the command line, where shell history and `ps` would keep them.
fn url_and_user(cmd: &str, args: &Args) -> Result<(url::CredUrl, Option<Vec<u8>>)> {
    let usage = |msg: String| -> Error { UsageError(format!("{cmd}: {msg}")).into() };
    let url = url::CredUrl::parse(args.positional[0].as_encoded_bytes())
        .map_err(|why| usage(format!("invalid URL: {why}")))?;
    if url.password.is_some() {
        return Err(usage(
            "the URL carries a password: never put a token on the command line (it lands in shell history and ps)".into(),
        ));
    }
    let flag_user = args.value("--username")?.map(String::into_bytes);
    let user = match (&url.username, flag_user) {
        (Some(a), Some(b)) if *a != b => {
            return Err(usage(format!(
                "the URL's user '{}' and --username '{}' differ",
                crate::display::escape(a),
                crate::display::escape(&b)
            )));
        }
        (a, b) => b.or(a.clone()),
    };
    Ok((url, user))
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s).trim_start_matches("usage: ")
}

/// What every command works with.
struct Session<'p, 'a> {
    p: &'p mut Process<'a>,
    config: Config,
    chain: Chain,
}

impl Session<'_, '_> {
    fn out(&mut self, line: &str) -> Result<()> {
        writeln!(self.p.stdout, "{line}").map_err(Error::Stdout)
    }

    fn err(&mut self, line: &str) {
        let _ = writeln!(self.p.stderr, "git-credential-pat: {line}");
    }

    /// Shows every note the backend chain gathered (an unreachable keychain passed over
    /// included: a person asked, so a person is told).
    fn flush_notes(&mut self) {
        for note in self.chain.take_notes() {
            self.err(&note.to_string());
        }
    }
}

/// Runs the people's command `name`.
pub fn run(name: &str, before: Options, args: Vec<OsString>, p: &mut Process<'_>) -> Result<u8> {
    let spec = match name {
        "add" => &add::SPEC,
        "list" => &list::SPEC,
        "remove" => &remove::SPEC,
        "prune" => &remove::PRUNE_SPEC,
        "import" => &import::SPEC,
        _ => &doctor::SPEC,
    };
    let Some(args) = parse_args(name, spec, before, args)? else {
        writeln!(p.stdout, "{}\n{COMMON}", spec.usage).map_err(Error::Stdout)?;
        return Ok(0);
    };
    let mut notes = Vec::new();
    let helper = crate::gitconfig::helper_options(&mut notes);
    for n in &notes {
        let _ = writeln!(p.stderr, "git-credential-pat: {n}");
    }
    let config = Config::resolve_with(&args.options, p.env, &helper)?;
    let mut chain = Chain::open(&config);
    // Under auto without any session bus there is no keychain to speak of: the people's
    // commands read the file alone, quietly (`doctor` says why). `add` keeps it so that
    // falling back to the file is reported as git's own store reports it.
    if name != "add" && chain.drop_unconfigured_keychain(&config) && name == "doctor" {
        notes.push(
            "note: no session bus is configured (DBUS_SESSION_BUS_ADDRESS, $XDG_RUNTIME_DIR/bus), so auto keeps tokens in the file".into(),
        );
    }
    let mut s = Session { p, config, chain };
    let code = match name {
        "add" => add::run(&mut s, &args),
        "list" => list::run(&mut s, &args),
        "remove" => remove::run(&mut s, &args),
        "prune" => remove::prune(&mut s),
        "import" => import::run(&mut s, &args),
        _ => doctor::run(&mut s, &args, &notes),
    };
    s.flush_notes();
    code
}
