//! The people's commands' arguments: each command's flags ([`Spec`]) and the command line
//! parsed against them ([`Args`]), including the URL and user most commands take.

use std::collections::HashMap;
use std::ffi::OsString;

use super::url::CredUrl;
use crate::cli::{self, Options, UsageError};
use crate::error::{Error, Result};

/// A command's flags: name and whether it takes a value.
pub(super) struct Spec {
    /// The `--help` text; its first line is the usage line.
    pub(super) usage: &'static str,
    /// Each flag and whether it takes a value.
    pub(super) flags: &'static [(&'static str, bool)],
    /// How many positional arguments: at least, at most.
    pub(super) positional: (usize, usize),
    /// Whether the command reads a token (`add`): an extra argument is then most likely one,
    /// and the usage error says where the token comes from instead.
    pub(super) reads_token: bool,
}

/// A command line after parsing against a [`Spec`].
pub(super) struct Args {
    /// The helper options given (`--backend`, `--file`, `--ttl`, `--warn`).
    pub(super) options: Options,
    /// The command's own flags given, with their values.
    pub(super) flags: HashMap<&'static str, Option<OsString>>,
    /// The positional arguments.
    pub(super) positional: Vec<OsString>,
}

impl Args {
    /// Whether flag `name` was given.
    pub(super) fn flag(&self, name: &str) -> bool {
        self.flags.contains_key(name)
    }

    /// The value of flag `name`, if given; it must be UTF-8.
    pub(super) fn value(&self, name: &str) -> Result<Option<String>> {
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

/// The options every command takes, for `--help`.
pub(super) const COMMON: &str = "\
Options: --backend=auto|keychain|file|memory, --file=PATH, --ttl=DURATION, --warn=DURATION
(default: those of the credential.helper entry that names pat, then GIT_CREDENTIAL_PAT_*).";

/// Parses `args` (those after the command word `name`) against `spec`, over the options
/// given before it; `None` when help was asked for.
pub(super) fn parse_args(
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
        // Described, never repeated: `add URL ghp_...` puts a token right here.
        let token = if spec.reads_token {
            "; the token is read from standard input or a prompt, never from the command line"
        } else {
            ""
        };
        return Err(UsageError(format!(
            "{name}: unexpected extra argument (not shown: it may be a token){token}; usage: {}",
            first_line(spec.usage)
        ))
        .into());
    }
    Ok(Some(parsed))
}

/// The URL argument of `cmd` and the user it names: the URL's or `--username`'s (both given
/// and different is a usage error). A URL with a password is refused: tokens never come from
/// the command line, where shell history and `ps` would keep them.
pub(super) fn url_and_user(cmd: &str, args: &Args) -> Result<(CredUrl, Option<Vec<u8>>)> {
    url_and_user_with(cmd, args, CredUrl::parse)
}

/// [`url_and_user`] for a URL that names a credential to create (`add`): it must be one a
/// remote can have ([`CredUrl::parse_remote`]). The others take any URL, so that what git
/// stored under an odd host can still be found, removed and checked.
pub(super) fn new_url_and_user(cmd: &str, args: &Args) -> Result<(CredUrl, Option<Vec<u8>>)> {
    url_and_user_with(cmd, args, CredUrl::parse_remote)
}

fn url_and_user_with(
    cmd: &str,
    args: &Args,
    parse: fn(&[u8]) -> std::result::Result<CredUrl, &'static str>,
) -> Result<(CredUrl, Option<Vec<u8>>)> {
    let usage = |msg: String| -> Error { UsageError(format!("{cmd}: {msg}")).into() };
    let url = parse(args.positional[0].as_encoded_bytes())
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
