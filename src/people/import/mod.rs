//! `import [FILE|-]`: move git-credential-store's plain-text credentials in.
//!
//! Parse the arguments, read the sources whole, parse their lines into records
//! (`store_format`, no I/O), store them with [`crate::manage::import`], report; then, if
//! asked, delete the files read.

mod store_format;

use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use super::args::{Args, Spec};
use super::session::Session;
use crate::cli::UsageError;
use crate::display::{count, escape_path};
use crate::error::{Error, Result};
use crate::store::Backend;
use store_format::{Parsed, Source};

pub(super) const SPEC: Spec = Spec {
    usage: "usage: git credential-pat import [FILE | -] [--remove-source]

Imports git-credential-store's format (one https://user:token@host[/path] per line) into the
chosen store, replacing credentials with the same key. Default: ~/.git-credentials and
$XDG_CONFIG_HOME/git/credentials (else ~/.config/git/credentials), whichever exist; on a
duplicate the first file wins. A malformed line aborts before anything is stored.

  --remove-source   delete the file(s) read, once every credential is stored (kept, exit 1,
                    when a line holds a token that was not imported)",
    flags: &[("--remove-source", false)],
    positional: (0, 1),
    reads_token: false,
};

pub(super) fn run(s: &mut Session<'_, '_>, args: &Args) -> Result<u8> {
    let request = ImportRequest::parse(args)?;
    let sources = read_sources(s, &request.from)?;
    // Parse everything first: a malformed line aborts before anything is stored.
    let parsed = store_format::parse(&sources, s.config.ttl, s.p.now)?;
    // Into the primary store (under auto: the keychain, else the file), retiring stale
    // copies in later ones, as git's store does.
    let Some((backend, done)) = crate::manage::import(&mut s.chain, &parsed.records)? else {
        return Err(Error::Failed(
            "import: no store could take the credentials".into(),
        ));
    };
    report(s, &sources, &parsed, backend, done)?;
    if request.remove_source {
        if parsed.tokens_left > 0 {
            let names: Vec<&str> = sources.iter().map(|src| src.name.as_str()).collect();
            s.err(&format!(
                "kept {}: {} a token that was not imported (listed above); remove it yourself once you have checked them",
                names.join(" and "),
                count_lines_holding(parsed.tokens_left)
            ));
            return Ok(1);
        }
        remove_sources(s, &sources)?;
    }
    Ok(0)
}

/// What `import` was asked to do.
struct ImportRequest {
    from: From,
    /// `--remove-source`: delete the files read once everything is stored.
    remove_source: bool,
}

/// Where the git-credential-store lines come from.
enum From {
    /// `-`.
    StandardInput,
    /// `FILE`.
    File(PathBuf),
    /// No argument: git-credential-store's own files, those that exist.
    Defaults,
}

impl ImportRequest {
    fn parse(args: &Args) -> Result<ImportRequest> {
        let remove_source = args.flag("--remove-source");
        let from = match args.positional.first() {
            Some(a) if a == "-" => {
                if remove_source {
                    return Err(UsageError(
                        "import: --remove-source needs a file, not standard input".into(),
                    )
                    .into());
                }
                From::StandardInput
            }
            Some(f) => From::File(PathBuf::from(f)),
            None => From::Defaults,
        };
        Ok(ImportRequest {
            from,
            remove_source,
        })
    }
}

/// Reads what `from` names, whole.
fn read_sources(s: &mut Session<'_, '_>, from: &From) -> Result<Vec<Source>> {
    match from {
        From::StandardInput => {
            let mut data = Zeroizing::new(Vec::new());
            s.p.stdin.read_to_end(&mut data).map_err(Error::Stdin)?;
            Ok(vec![Source {
                name: "standard input".into(),
                path: None,
                data,
                exposed_mode: None,
            }])
        }
        From::File(path) => {
            let data = std::fs::read(path).map_err(|e| cannot_read(path, &e))?;
            Ok(vec![Source::file(path.clone(), data, mode_of(path))])
        }
        From::Defaults => read_default_sources(s),
    }
}

/// git-credential-store's files that exist, in the order it reads them; an error when none
/// does.
fn read_default_sources(s: &Session<'_, '_>) -> Result<Vec<Source>> {
    let mut sources = Vec::new();
    for path in default_sources(s) {
        match std::fs::read(&path) {
            Ok(data) => {
                let mode = mode_of(&path);
                sources.push(Source::file(path, data, mode));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(cannot_read(&path, &e)),
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
    Ok(sources)
}

/// `~/.git-credentials`, then `$XDG_CONFIG_HOME/git/credentials` (else
/// `~/.config/git/credentials`): where git-credential-store reads.
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

/// The permission bits of the file at `path`, when it can be inspected.
fn mode_of(path: &Path) -> Option<u32> {
    std::fs::metadata(path)
        .ok()
        .map(|m| crate::fsperm::mode_of(&m))
}

fn cannot_read(path: &Path, e: &std::io::Error) -> Error {
    Error::Failed(format!("import: cannot read {}: {e}", escape_path(path)))
}

/// One line per credential imported, a count naming the sources and the store, and the
/// lines skipped.
fn report(
    s: &mut Session<'_, '_>,
    sources: &[Source],
    parsed: &Parsed,
    backend: Backend,
    done: crate::rules::Upserted,
) -> Result<()> {
    let names = sources
        .iter()
        .map(|src| src.name.clone())
        .collect::<Vec<_>>()
        .join(", ");
    s.out(&format!(
        "{} imported ({} new, {} updated), {} already stored, from {names} into the {} store",
        count(done.new + done.updated, "credential"),
        done.new,
        done.updated,
        done.unchanged,
        backend.name()
    ))?;
    if parsed.copies > 0 {
        s.out(&format!(
            "dropped {} that only repeated a host-wide token (git-credential-store writes them under useHttpPath; the host-wide token serves those repositories)",
            count(parsed.copies, "per-repository line")
        ))?;
    }
    for src in sources {
        if let Some(mode) = src.exposed_mode {
            let path = src.path.as_deref().map(escape_path).unwrap_or_default();
            s.err(&format!(
                "warning: {path} was readable by others (mode {mode:04o}): anyone who could read it may have its tokens; revoke and replace them at the forge"
            ));
        }
    }
    if !parsed.shadowed.is_empty() {
        s.out(&format!(
            "skipped {} that gave a key an earlier line already gave, with another token (git-credential-store answers with the first, so the first was imported): {}",
            count(parsed.shadowed.len(), "line"),
            parsed.shadowed.join(", ")
        ))?;
    }
    if !parsed.skipped.is_empty() {
        s.out(&format!(
            "skipped {} without a user or password: {}",
            count(parsed.skipped.len(), "line"),
            parsed.skipped.join(", ")
        ))?;
    }
    Ok(())
}

/// "1 line holds" / "N lines hold".
fn count_lines_holding(n: usize) -> String {
    format!(
        "{} {}",
        count(n, "line"),
        if n == 1 { "holds" } else { "hold" }
    )
}

/// `--remove-source`: deletes each file read, saying so as it goes.
fn remove_sources(s: &mut Session<'_, '_>, sources: &[Source]) -> Result<()> {
    for path in sources.iter().filter_map(|src| src.path.as_ref()) {
        std::fs::remove_file(path).map_err(|e| {
            Error::Failed(format!(
                "import: everything was imported, but removing {} failed: {e}",
                escape_path(path)
            ))
        })?;
        s.out(&format!("removed {}", escape_path(path)))?;
    }
    Ok(())
}
