//! Settings resolved in one place: command line beats environment beats default.
//!
//! This is the only module that reads `GIT_CREDENTIAL_PAT_*` or the XDG directories, so what
//! a run does is decided before any credential is touched, and an invalid value is a usage
//! error (exit 2) rather than a surprise later.

use std::ffi::OsString;
use std::path::PathBuf;

use crate::cli::{Options, UsageError};
use crate::time::parse_duration;

/// Where tokens live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendChoice {
    /// The keychain when it answers, else the file.
    Auto,
    /// The OS keychain only.
    Keychain,
    /// The plain-text file only.
    File,
    /// The kernel's key retention service (Linux); never chosen by `auto`.
    Memory,
}

/// Fully resolved settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// `--backend`.
    pub backend: BackendChoice,
    /// The credentials file (`--file`).
    pub file: PathBuf,
    /// `--ttl` in seconds; `None` = off.
    pub ttl: Option<u64>,
    /// `--warn` in seconds; `None` = off.
    pub warn: Option<u64>,
    /// Directory for the small non-secret state (expiry warnings), if a home is known.
    pub data_dir: Option<PathBuf>,
}

/// Default `--warn`: a week.
pub const DEFAULT_WARN: u64 = 7 * 86_400;

/// Default `--ttl` of the memory backend: git-credential-cache's default timeout, 15 minutes.
/// The other backends have none.
pub const DEFAULT_MEMORY_TTL: u64 = 900;

impl Config {
    /// Resolves `options` over the environment (`env` looks a variable up) and defaults.
    pub fn resolve(
        options: &Options,
        env: &dyn Fn(&str) -> Option<OsString>,
    ) -> Result<Config, UsageError> {
        Config::resolve_with(options, env, &Options::default())
    }

    /// Like [`Config::resolve`], with `helper` (the options of the `credential.helper` entry
    /// that names pat) between the environment and the defaults: people's commands see no
    /// helper arguments, but must act on the store git uses.
    pub fn resolve_with(
        options: &Options,
        env: &dyn Fn(&str) -> Option<OsString>,
        helper: &Options,
    ) -> Result<Config, UsageError> {
        let env = Env(env);
        let backend = backend_choice(options, &env, helper)?;
        let ttl = duration(
            &options.ttl,
            &helper.ttl,
            ("--ttl", "GIT_CREDENTIAL_PAT_TTL"),
            &env,
            (backend == BackendChoice::Memory).then_some(DEFAULT_MEMORY_TTL),
        )?;
        let warn = duration(
            &options.warn,
            &helper.warn,
            ("--warn", "GIT_CREDENTIAL_PAT_WARN"),
            &env,
            Some(DEFAULT_WARN),
        )?;
        let data_dir = directories::ProjectDirs::from("", "", "git-credential-pat")
            .map(|d| d.data_dir().to_path_buf());
        let file = credentials_file(options, &env, helper, data_dir.as_deref())?;
        Ok(Config {
            backend,
            file,
            ttl,
            warn,
            data_dir,
        })
    }
}

/// The environment as settings read it: an empty variable counts as unset, as for most of
/// git's own variables.
struct Env<'a>(&'a dyn Fn(&str) -> Option<OsString>);

impl Env<'_> {
    fn var(&self, name: &str) -> Option<OsString> {
        (self.0)(name).filter(|v| !v.is_empty())
    }

    fn text(&self, name: &str) -> Result<Option<String>, UsageError> {
        self.var(name)
            .map(|v| {
                v.into_string()
                    .map_err(|_| UsageError(format!("{name} is not valid UTF-8")))
            })
            .transpose()
    }
}

/// `--backend`, else `GIT_CREDENTIAL_PAT_BACKEND`, else the helper entry's, else `auto`.
fn backend_choice(
    options: &Options,
    env: &Env<'_>,
    helper: &Options,
) -> Result<BackendChoice, UsageError> {
    let source = match &options.backend {
        Some(b) => Some(("--backend", b.clone())),
        None => match env.text("GIT_CREDENTIAL_PAT_BACKEND")? {
            Some(b) => Some(("GIT_CREDENTIAL_PAT_BACKEND", b)),
            None => helper
                .backend
                .clone()
                .map(|b| ("credential.helper --backend", b)),
        },
    };
    match source {
        None => Ok(BackendChoice::Auto),
        Some((_, b)) if b == "auto" => Ok(BackendChoice::Auto),
        Some((_, b)) if b == "keychain" => Ok(BackendChoice::Keychain),
        Some((_, b)) if b == "file" => Ok(BackendChoice::File),
        Some((_, b)) if b == "memory" => Ok(BackendChoice::Memory),
        Some((src, b)) => Err(UsageError(format!(
            "invalid {src} value {}: expected auto, keychain, file or memory",
            shown_value(&b)
        ))),
    }
}

/// A duration setting in seconds (`0` = off, `None`), or `default` when nothing sets it.
/// `name` is the option, `env_name` the variable; the option beats the variable beats the
/// helper entry's option.
fn duration(
    option: &Option<String>,
    from_helper: &Option<String>,
    (name, env_name): (&str, &str),
    env: &Env<'_>,
    default: Option<u64>,
) -> Result<Option<u64>, UsageError> {
    let (src, value) = match (option, env.text(env_name)?, from_helper) {
        (Some(v), _, _) => (name, v.clone()),
        (None, Some(v), _) => (env_name, v),
        (None, None, Some(v)) => (name, v.clone()),
        (None, None, None) => return Ok(default),
    };
    match parse_duration(&value) {
        Some(0) => Ok(None),
        Some(n) => Ok(Some(n)),
        None => Err(UsageError(format!(
            "invalid {src} value {}: expected a duration such as 90s, 30m, 12h, 7d, 2w or 0",
            shown_value(&value)
        ))),
    }
}

/// An invalid option value as shown in its error: a short one (a typo such as `fiel` or
/// `7days`) quoted and escaped; a long one, which may be a token pasted in the wrong place
/// (personal access tokens are 26 to 93 characters), described, never repeated (DESIGN §6).
fn shown_value(value: &str) -> String {
    if value.chars().count() <= 12 {
        format!("'{}'", crate::display::escape(value.as_bytes()))
    } else {
        "(not shown: it may be a token)".into()
    }
}

/// `--file`, else `GIT_CREDENTIAL_PAT_FILE`, else the helper entry's, else `credentials` in
/// the data directory.
fn credentials_file(
    options: &Options,
    env: &Env<'_>,
    helper: &Options,
    data_dir: Option<&std::path::Path>,
) -> Result<PathBuf, UsageError> {
    if options.file.as_ref().is_some_and(|f| f.is_empty())
        || helper.file.as_ref().is_some_and(|f| f.is_empty())
    {
        return Err(UsageError("--file needs a path (it was empty)".into()));
    }
    match options
        .file
        .clone()
        .or_else(|| env.var("GIT_CREDENTIAL_PAT_FILE"))
        .or_else(|| helper.file.clone())
    {
        Some(f) => Ok(PathBuf::from(f)),
        None => data_dir.map(|d| d.join("credentials")).ok_or_else(|| {
            UsageError(
                "cannot find a home directory for the credentials file: set HOME, or pass --file"
                    .into(),
            )
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<OsString> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn command_line_beats_environment_beats_default() {
        let env = env_of(&[
            ("GIT_CREDENTIAL_PAT_BACKEND", "keychain"),
            ("GIT_CREDENTIAL_PAT_TTL", "1h"),
            ("GIT_CREDENTIAL_PAT_FILE", "/env/file"),
        ]);
        let c = Config::resolve(&Options::default(), &env).unwrap();
        assert_eq!(c.backend, BackendChoice::Keychain);
        assert_eq!(c.ttl, Some(3600));
        assert_eq!(c.warn, Some(DEFAULT_WARN));
        assert_eq!(c.file, PathBuf::from("/env/file"));
        let opts = Options {
            backend: Some("file".into()),
            ttl: Some("0".into()),
            file: Some("/cli".into()),
            warn: Some("2w".into()),
        };
        let c = Config::resolve(&opts, &env).unwrap();
        assert_eq!(c.backend, BackendChoice::File);
        assert_eq!(c.ttl, None);
        assert_eq!(c.warn, Some(14 * 86_400));
        assert_eq!(c.file, PathBuf::from("/cli"));
    }

    #[test]
    fn helper_options_sit_between_environment_and_defaults() {
        let helper = Options {
            backend: Some("file".into()),
            ttl: Some("2h".into()),
            file: Some("/helper".into()),
            warn: None,
        };
        let c = Config::resolve_with(&Options::default(), &env_of(&[]), &helper).unwrap();
        assert_eq!(
            (c.backend, c.ttl, c.file.clone()),
            (BackendChoice::File, Some(7200), PathBuf::from("/helper"))
        );
        let env = env_of(&[
            ("GIT_CREDENTIAL_PAT_TTL", "1h"),
            ("GIT_CREDENTIAL_PAT_FILE", "/env"),
        ]);
        let c = Config::resolve_with(&Options::default(), &env, &helper).unwrap();
        assert_eq!((c.ttl, c.file), (Some(3600), PathBuf::from("/env")));
    }

    #[test]
    fn the_memory_backend_forgets_after_15_minutes_unless_told_otherwise() {
        let memory = |ttl: Option<&str>| Options {
            backend: Some("memory".into()),
            ttl: ttl.map(Into::into),
            ..Options::default()
        };
        let c = Config::resolve(&memory(None), &env_of(&[])).unwrap();
        assert_eq!((c.backend, c.ttl), (BackendChoice::Memory, Some(900)));
        assert_eq!(
            Config::resolve(&memory(Some("0")), &env_of(&[]))
                .unwrap()
                .ttl,
            None
        );
        assert_eq!(
            Config::resolve(&memory(Some("1h")), &env_of(&[]))
                .unwrap()
                .ttl,
            Some(3600)
        );
        let env = env_of(&[("GIT_CREDENTIAL_PAT_BACKEND", "memory")]);
        let c = Config::resolve(&Options::default(), &env).unwrap();
        assert_eq!((c.backend, c.ttl), (BackendChoice::Memory, Some(900)));
        let file = Options {
            backend: Some("file".into()),
            ..Options::default()
        };
        assert_eq!(Config::resolve(&file, &env_of(&[])).unwrap().ttl, None);
    }

    #[test]
    fn invalid_values_name_their_source() {
        let env = env_of(&[("GIT_CREDENTIAL_PAT_TTL", "forever")]);
        let e = Config::resolve(&Options::default(), &env).unwrap_err();
        assert!(
            e.0.contains("GIT_CREDENTIAL_PAT_TTL") && e.0.contains("forever"),
            "{e}"
        );
        let opts = Options {
            backend: Some("cloud".into()),
            ..Options::default()
        };
        let e = Config::resolve(&opts, &env_of(&[])).unwrap_err();
        assert!(e.0.starts_with("invalid --backend value 'cloud'"), "{e}");
        let opts = Options {
            ttl: Some("ghp_0123456789abcdefABCDEF0123456789abcd".into()),
            ..Options::default()
        };
        let e = Config::resolve(&opts, &env_of(&[])).unwrap_err();
        assert!(!e.0.contains("ghp_") && e.0.contains("not shown"), "{e}");
    }
}
