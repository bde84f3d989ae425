//! `import [FILE|-]`: move git-credential-store's plain-text credentials in.

use std::path::PathBuf;

use zeroize::Zeroizing;

use super::url::CredUrl;
use super::{Args, Session, Spec};
use crate::cli::UsageError;
use crate::display::{count, escape_path};
use crate::error::{Error, Result};
use crate::record::Record;
use crate::rules;
use crate::secret::Secret;

pub(super) const SPEC: Spec = Spec {
    usage: "usage: git credential-pat import [FILE | -] [--remove-source]

Imports git-credential-store's format (one https://user:token@host[/path] per line) into the
chosen store, replacing credentials with the same key. Default: ~/.git-credentials and
$XDG_CONFIG_HOME/git/credentials (else ~/.config/git/credentials), whichever exist; on a
duplicate the first file wins. A malformed line aborts before anything is stored.

  --remove-source   delete the file(s) read, once every credential is stored",
    flags: &[("--remove-source", false)],
    positional: (0, 1),
};

struct Source {
    name: String,
    path: Option<PathBuf>,
    data: Zeroizing<Vec<u8>>,
}

fn default_sources(s: &Session<'_, '_>) -> Vec<PathBuf> {
    let env = |k: &str| (s.p.env)(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    let mut out = Vec::new();
    if let Some(home) = env("HOME") {
        out.push(home.join(".git-credentials"));
    }
    match (env("XDG_CONFIG_HOME"), env("HOME")) {
        (Some(x), _) => out.push(x.join("git/credentials")),
        (None, Some(home)) => out.push(home.join(".config/git/credentials")),
        _ => {}
    }
    out
}

pub(super) fn run(s: &mut Session<'_, '_>, args: &Args) -> Result<u8> {
    let remove = args.flag("--remove-source");
    let mut sources = Vec::new();
    match args.positional.first() {
        Some(a) if a == "-" => {
            if remove {
                return Err(UsageError(
                    "import: --remove-source needs a file, not standard input".into(),
                )
                .into());
            }
            let mut data = Zeroizing::new(Vec::new());
            s.p.stdin.read_to_end(&mut data).map_err(Error::Stdin)?;
            sources.push(Source {
                name: "standard input".into(),
                path: None,
                data,
            });
        }
        Some(f) => {
            let path = PathBuf::from(f);
            let data = Zeroizing::new(std::fs::read(&path).map_err(|e| {
                Error::Failed(format!("import: cannot read {}: {e}", escape_path(&path)))
            })?);
            sources.push(Source {
                name: escape_path(&path),
                path: Some(path),
                data,
            });
        }
        None => {
            for path in default_sources(s) {
                match std::fs::read(&path) {
                    Ok(d) => sources.push(Source {
                        name: escape_path(&path),
                        data: Zeroizing::new(d),
                        path: Some(path),
                    }),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => {
                        return Err(Error::Failed(format!(
                            "import: cannot read {}: {e}",
                            escape_path(&path)
                        )));
                    }
                }
            }
            if sources.is_empty() {
                let looked = default_sources(s)
                    .iter()
                    .map(|p| escape_path(p))
                    .collect::<Vec<_>>()
                    .join(" or ");
                return Err(Error::Failed(format!(
                    "import: no git-credential-store file found (looked for {looked}); name one: git credential-pat import FILE"
                )));
            }
        }
    }
    // Parse everything first: a malformed line aborts before anything is stored.
    let now = s.p.now;
    let mut records: Vec<Record> = Vec::new();
    let mut skipped = Vec::new();
    for src in &sources {
        for (i, line) in src.data.split(|&b| b == b'\n').enumerate() {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.is_empty() {
                continue;
            }
            let url = CredUrl::parse(line).map_err(|why| {
                Error::Failed(format!(
                    "import: {} line {} is malformed ({why}); nothing was imported",
                    src.name,
                    i + 1
                ))
            })?;
            let (Some(_), Some(password)) = (&url.username, &url.password) else {
                skipped.push(format!("{} line {}", src.name, i + 1));
                continue;
            };
            let key = url.key(None);
            if records.iter().any(|r| r.key == key) {
                continue; // the first file (and line) wins, as git-credential-store reads them
            }
            records.push(Record {
                key,
                password: Some(Secret::from_slice(password)),
                oauth_refresh_token: None,
                authtype: None,
                credential: None,
                expires: None,
                ttl_expires: rules::ttl_deadline(s.config.ttl, now),
                stored: now,
            });
        }
    }
    // Into the primary store (under auto: the keychain, else the file), retiring stale
    // copies in later ones, as git's store does.
    let Some(backend) = crate::manage::import(&mut s.chain, &records)? else {
        return Err(Error::Failed(
            "import: no store could take the credentials".into(),
        ));
    };
    let backend = backend.name();
    let names = sources
        .iter()
        .map(|src| src.name.clone())
        .collect::<Vec<_>>()
        .join(", ");
    for r in &records {
        s.out(&format!("imported {}", r.key.display()))?;
    }
    s.out(&format!(
        "{} imported from {names} into the {backend} store",
        count(records.len(), "credential")
    ))?;
    if !skipped.is_empty() {
        s.out(&format!(
            "skipped {} without a user or password: {}",
            count(skipped.len(), "line"),
            skipped.join(", ")
        ))?;
    }
    if remove {
        for src in &sources {
            if let Some(path) = &src.path {
                std::fs::remove_file(path).map_err(|e| {
                    Error::Failed(format!(
                        "import: everything was imported, but removing {} failed: {e}",
                        escape_path(path)
                    ))
                })?;
                s.out(&format!("removed {}", escape_path(path)))?;
            }
        }
    }
    Ok(0)
}
