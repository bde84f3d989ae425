//! `doctor [URL]`: one explained line per check; exit 1 on any problem.

use super::url::CredUrl;
use super::{Args, Session, Spec};
use crate::display::count;
use crate::error::Result;
use crate::gitconfig::{self, HelperEntry};
use crate::time::format_datetime;

pub(super) const SPEC: Spec = Spec {
    usage: "usage: git credential-pat doctor [URL]

Checks the setup for URL (default: every host with a stored token, and https://github.com):
git's version, the helpers git will ask and in which order, the store's permissions and
contents, expired and expiring tokens, and scoped tokens git never sends a path for.
Prints one line per check; exits 1 if any is a problem.",
    flags: &[],
    positional: (0, 1),
};

#[derive(PartialEq)]
enum Level {
    Ok,
    Note,
    Problem,
}

struct Report<'a, 'b, 'c> {
    s: &'a mut Session<'b, 'c>,
    problems: usize,
}

impl Report<'_, '_, '_> {
    fn line(&mut self, level: Level, msg: &str) -> Result<()> {
        let tag = match level {
            Level::Ok => "ok     ",
            Level::Note => "note   ",
            Level::Problem => {
                self.problems += 1;
                "problem"
            }
        };
        self.s.out(&format!("{tag} {msg}"))
    }
}

pub(super) fn run(s: &mut Session<'_, '_>, args: &Args, notes: &[String]) -> Result<u8> {
    let mut r = Report { s, problems: 0 };
    for n in notes {
        r.line(Level::Note, n.trim_start_matches("note: "))?;
    }
    match gitconfig::git_version() {
        None => r.line(Level::Problem, "git does not run: install git 2.46 or newer")?,
        Some((ma, mi)) if (ma, mi) < (2, 40) => r.line(
            Level::Problem,
            &format!("git {ma}.{mi} is older than 2.40: it ignores token expiry (password_expiry_utc) and authtype; upgrade git"),
        )?,
        Some((ma, mi)) if (ma, mi) < (2, 46) => r.line(
            Level::Problem,
            &format!("git {ma}.{mi} is older than 2.46: no capability[]/authtype support (Bearer credentials); upgrade git"),
        )?,
        Some((ma, mi)) => r.line(Level::Ok, &format!("git {ma}.{mi} handles token expiry and authtype credentials"))?,
    }
    // The stores: permissions and contents.
    let now = r.s.p.now.secs;
    let warn = r.s.config.warn.unwrap_or(0);
    let mut records = Vec::new();
    let auto = r.s.config.backend == crate::config::BackendChoice::Auto;
    let loaded: Vec<_> =
        r.s.chain
            .stores()
            .map(|st| {
                let start = std::time::Instant::now();
                (st.backend(), st.load_all(), start.elapsed())
            })
            .collect();
    for (backend, result, took) in loaded {
        let backend = backend.name();
        if backend == "keychain" && result.is_ok() {
            r.line(
                Level::Note,
                &format!(
                    "the keychain answered in {} ms (each get pays about that)",
                    took.as_millis()
                ),
            )?;
        }
        match result {
            Err(e) if auto && e.is_unreachable() => r.line(
                Level::Note,
                &format!("the keychain is not reachable, so tokens go to the file: {e}"),
            )?,
            Ok(recs) => {
                let what = format!("the {backend} store");
                r.line(
                    Level::Ok,
                    &format!(
                        "{what} is readable and private ({})",
                        count(recs.len(), "credential")
                    ),
                )?;
                records.extend(recs);
            }
            Err(e) => r.line(Level::Problem, &e.to_string())?,
        }
    }
    // An expired token with a refresh token is not a problem: another helper renews it.
    let expired: Vec<_> = records
        .iter()
        .filter(|rec| rec.is_expired(now) && !rec.refreshable())
        .collect();
    if !expired.is_empty() {
        let names = expired
            .iter()
            .map(|rec| rec.key.display())
            .collect::<Vec<_>>()
            .join(", ");
        r.line(Level::Problem, &format!("{} expired token(s) not yet pruned ({names}): run git credential-pat prune, and add fresh ones", expired.len()))?;
    }
    for rec in records.iter().filter(|rec| !rec.is_expired(now)) {
        if let Some(e) = rec
            .expires
            .filter(|_| crate::rules::should_warn(rec, Some(warn), now))
        {
            r.line(
                Level::Note,
                &format!(
                    "the token for {} expires on {}: replace it soon",
                    rec.key.display(),
                    format_datetime(e)
                ),
            )?;
        }
    }
    // The URLs to check the helper configuration for.
    let mut urls: Vec<String> = match args.positional.first() {
        Some(u) => vec![u.to_string_lossy().into_owned()],
        None => {
            let mut v: Vec<String> = records.iter().map(|rec| rec.key.host.origin()).collect();
            v.push("https://github.com".into());
            v
        }
    };
    urls.dedup();
    urls.sort();
    urls.dedup();
    let entries = gitconfig::helper_entries();
    for url in &urls {
        check_helpers(&mut r, url, &entries)?;
    }
    // Scoped tokens only work when git sends paths.
    for rec in &records {
        let Some(path) = rec.key.path.as_deref() else {
            continue;
        };
        if let Some(fix) = gitconfig::use_http_path_fix(&rec.key.host.origin(), path) {
            r.line(
                Level::Note,
                &format!("the scoped token for {} is never used: git sends no path without useHttpPath; run {fix}", rec.key.display()),
            )?;
        }
    }
    let problems = r.problems;
    r.s.out(&if problems == 0 {
        "no problems found".to_string()
    } else {
        format!("{problems} problem(s) found")
    })?;
    Ok(u8::from(problems > 0))
}

/// The helpers git asks for `url`, in order, as git builds the list: every matching
/// `credential.helper` and `credential.<pattern>.helper` in config order, an empty value
/// resetting the list.
fn helpers_for(url: &CredUrl, entries: &[HelperEntry]) -> Vec<String> {
    let mut list = Vec::new();
    for e in entries {
        if e.url.as_deref().is_some_and(|p| !pattern_matches(p, url)) {
            continue;
        }
        if e.value.is_empty() {
            list.clear();
        } else {
            list.push(e.value.clone());
        }
    }
    list
}

/// git's `credential.<url>` matching: scheme and host exact (case-insensitive host, `*` for
/// one label), path by whole leading segments, user if the pattern has one. A pattern without
/// a scheme matches any scheme.
fn pattern_matches(pattern: &str, url: &CredUrl) -> bool {
    let parsed = if pattern.contains("://") {
        CredUrl::parse(pattern.as_bytes()).ok()
    } else {
        CredUrl::parse(format!("any://{pattern}").as_bytes()).ok()
    };
    let Some(p) = parsed else { return false };
    let scheme_ok = !pattern.contains("://") || p.protocol.eq_ignore_ascii_case(&url.protocol);
    let ph = String::from_utf8_lossy(&p.host).to_ascii_lowercase();
    let uh = String::from_utf8_lossy(&url.host).to_ascii_lowercase();
    let host_ok = ph.is_empty() && !pattern.contains("://")
        || (ph.split('.').count() == uh.split('.').count()
            && ph
                .split('.')
                .zip(uh.split('.'))
                .all(|(a, b)| a == "*" || a == b));
    let path_ok = match (&p.path, &url.path) {
        (None, _) => true,
        (Some(pp), up) => crate::key::path_serves(
            crate::key::normalize_path(pp).as_deref(),
            up.as_deref()
                .and_then(crate::key::normalize_path)
                .as_deref(),
        ),
    };
    let user_ok = p.username.is_none() || p.username == url.username;
    scheme_ok && host_ok && path_ok && user_ok
}

fn check_helpers(
    r: &mut Report<'_, '_, '_>,
    url_text: &str,
    entries: &[HelperEntry],
) -> Result<()> {
    let Ok(url) = CredUrl::parse(url_text.as_bytes()) else {
        return r.line(
            Level::Problem,
            &format!(
                "'{}' is not a URL",
                crate::display::escape(url_text.as_bytes())
            ),
        );
    };
    let shown = crate::display::escape(url_text.as_bytes());
    let list = helpers_for(&url, entries);
    let Some(pos) = list.iter().position(|h| gitconfig::pat_words(h).is_some()) else {
        return r.line(
            Level::Problem,
            &format!("pat is not configured for {shown}: run ./install.sh, or git config --global credential.helper pat"),
        );
    };
    for h in &list[..pos] {
        r.line(
            Level::Problem,
            &format!("for {shown} git asks '{}' before pat, and it answers first: put pat first (./install.sh does)", crate::display::escape(h.as_bytes())),
        )?;
    }
    if pos == 0 {
        r.line(
            Level::Ok,
            &format!("pat is the first helper git asks for {shown}"),
        )?;
    }
    for h in &list[pos + 1..] {
        let name = h.split_whitespace().next().unwrap_or("");
        if name == "store" || name.ends_with("/git-credential-store") {
            r.line(
                Level::Problem,
                &format!("for {shown} a 'store' helper comes after pat: git hands it every token, which it copies into ~/.git-credentials in plain text; run git credential-pat import --remove-source, then git config --global --unset-all credential.helper store"),
            )?;
        } else if name == "cache" || name.ends_with("/git-credential-cache") {
            r.line(Level::Note, &format!("for {shown} a 'cache' helper comes after pat: harmless, but it keeps a second copy of tokens in memory"))?;
        }
    }
    Ok(())
}
