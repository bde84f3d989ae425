//! The credential helpers git asks for a URL, and in which order: pat must be configured and
//! asked first, and no `store` helper may come after it.

use super::finding::Finding;
use crate::display::escape;
use crate::gitconfig::{self, HelperEntry};
use crate::people::url::CredUrl;

/// Stands for the URL in a finding until findings alike are merged.
const URL_MARK: &str = "\u{1}URL\u{1}";

/// The helper order for each of `urls`, as git's config sets it: a finding that holds for
/// several URLs alike (a global entry's) is one line naming them all.
pub(super) fn check(urls: &[CredUrl]) -> Vec<Finding> {
    let entries = gitconfig::helper_entries();
    merge(
        urls.iter()
            .map(|url| (url.display(), check_url_as(url, URL_MARK, &entries))),
    )
}

/// Findings per URL (written with [`URL_MARK`]), each distinct one once, in order of first
/// appearance, naming every URL it holds for.
fn merge(per_url: impl Iterator<Item = (String, Vec<Finding>)>) -> Vec<Finding> {
    let mut merged: Vec<(Finding, Vec<String>)> = Vec::new();
    for (shown, findings) in per_url {
        for f in findings {
            match merged.iter_mut().find(|(g, _)| *g == f) {
                Some((_, urls)) => urls.push(shown.clone()),
                None => merged.push((f, vec![shown.clone()])),
            }
        }
    }
    merged
        .into_iter()
        .map(|(f, urls)| Finding {
            level: f.level,
            message: f.message.replace(URL_MARK, &join(&urls)),
        })
        .collect()
}

/// `a`, `a and b`, `a, b and c`.
fn join(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// The helpers git asks for `url`, in order, as git builds the list: every matching
/// `credential.helper` and `credential.<pattern>.helper` in config order, an empty value
/// resetting the list.
#[cfg(test)]
fn helpers_for(url: &CredUrl, entries: &[HelperEntry]) -> Vec<String> {
    lists_for(url, entries).0
}

/// [`helpers_for`], and the entries written for this URL's pattern (`credential.<url>.helper`)
/// that a later empty value cleared: helpers someone set up for this host that git no longer
/// asks (`gh auth setup-git`'s, before install.sh's reset), as (pattern, value).
fn lists_for(url: &CredUrl, entries: &[HelperEntry]) -> (Vec<String>, Vec<(String, String)>) {
    let mut list = Vec::new();
    let mut pending: Vec<(String, String)> = Vec::new();
    let mut cleared = Vec::new();
    for e in entries {
        if e.url.as_deref().is_some_and(|p| !pattern_matches(p, url)) {
            continue;
        }
        if e.value.is_empty() {
            list.clear();
            // An empty value of the same pattern is that pattern's own reset, not a loss.
            if e.url.is_none() {
                cleared.append(&mut pending);
            } else {
                pending.clear();
            }
        } else {
            list.push(e.value.clone());
            if let Some(p) = &e.url {
                pending.push((p.clone(), e.value.clone()));
            }
        }
    }
    (list, cleared)
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

/// The helper order git uses for `url`: pat configured, asked first, and no `store` helper
/// after it to copy tokens into plain text.
#[cfg(test)]
fn check_url(url: &CredUrl, entries: &[HelperEntry]) -> Vec<Finding> {
    check_url_as(url, &url.display(), entries)
}

/// [`check_url`] with `url` shown as `shown`.
fn check_url_as(url: &CredUrl, shown: &str, entries: &[HelperEntry]) -> Vec<Finding> {
    let shown = shown.to_owned();
    let (list, cleared) = lists_for(url, entries);
    let Some(pos) = list.iter().position(|h| gitconfig::pat_words(h).is_some()) else {
        return vec![Finding::problem(format!(
            "pat is not configured for {shown}: run ./install.sh (it puts pat first and keeps the helpers you had)"
        ))];
    };
    let mut findings: Vec<Finding> = list[..pos]
        .iter()
        .map(|h| Finding::problem(format!("for {shown} git asks '{}' before pat, and it answers first: put pat first (./install.sh does)", escape(h.as_bytes()))))
        .collect();
    if !gitconfig::git_can_run(&list[pos]) {
        findings.push(Finding::problem(format!(
            "for {shown} the helper value '{}' names pat, but git cannot run it: git runs a value as a command only when it starts with '/' or '!', and otherwise runs 'git credential-' followed by it; write the absolute path unquoted after its leading '/' (/'dir with space'/git-credential-pat), or put the directory on PATH and write pat (./install.sh does)",
            escape(list[pos].as_bytes())
        )));
    } else if pos == 0 {
        findings.push(Finding::ok(format!(
            "pat is the first helper git asks for {shown}"
        )));
    }
    for (pattern, value) in &cleared {
        findings.push(Finding::note(format!(
            "for {shown} git no longer asks '{}' (credential.{}.helper): an empty credential.helper after it (install.sh writes one) clears the list; add it again after pat's entry if you still want it asked",
            escape(value.as_bytes()),
            escape(pattern.as_bytes())
        )));
    }
    for h in &list[pos + 1..] {
        let name = h.split_whitespace().next().unwrap_or("");
        if let Some(words) = gitconfig::pat_words(h) {
            findings.push(second_pat(&shown, &list[pos], h, words));
        } else if name == "store" || name.ends_with("/git-credential-store") {
            findings.push(Finding::problem(format!("for {shown} a 'store' helper comes after pat: git hands it every token, which it copies into ~/.git-credentials in plain text; run git credential-pat import --remove-source, then git config --global --fixed-value --unset-all credential.helper store")));
        } else if name == "cache" || name.ends_with("/git-credential-cache") {
            findings.push(Finding::note(format!("for {shown} a 'cache' helper comes after pat: harmless, but it keeps a second copy of tokens in memory")));
        }
    }
    findings
}

/// pat configured a second time (`later`) after `first` for one URL: git runs both for every
/// store and erase. With the same options that is only work done twice; with others (another
/// backend or file) every token is kept in two places and a rejected one stays in one.
fn second_pat(
    shown: &str,
    first: &str,
    later: &str,
    words: Result<Vec<String>, String>,
) -> Finding {
    let same = gitconfig::pat_words(first).is_some_and(|w| w.ok() == words.ok());
    let fix = "keep one pat entry: see git config --show-origin --get-all credential.helper";
    if same {
        Finding::note(format!(
            "for {shown} pat is configured twice ('{}'), so git runs it twice for each store and erase: {fix}",
            escape(later.as_bytes())
        ))
    } else {
        Finding::problem(format!(
            "for {shown} pat is configured twice with different options ('{}' and '{}'): git gives every token to both, so it is kept in two places, and a token the forge rejects can stay behind in the second: {fix}",
            escape(first.as_bytes()),
            escape(later.as_bytes())
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::people::doctor::finding::Level;

    fn entry(url: Option<&str>, value: &str) -> HelperEntry {
        HelperEntry {
            url: url.map(String::from),
            value: value.into(),
        }
    }

    fn levels(findings: &[Finding]) -> Vec<Level> {
        findings.iter().map(|f| f.level).collect()
    }

    #[test]
    fn helpers_follow_config_order_and_an_empty_value_resets() {
        let entries = [
            entry(None, "store"),
            entry(Some("https://github.com"), ""),
            entry(Some("https://*.example.com/acme"), "cache"),
            entry(None, "pat"),
        ];
        let url = |u: &str| CredUrl::parse(u.as_bytes()).unwrap();
        assert_eq!(helpers_for(&url("https://github.com"), &entries), ["pat"]);
        assert_eq!(
            helpers_for(&url("https://git.example.com/acme/tool"), &entries),
            ["store", "cache", "pat"]
        );
        assert_eq!(
            helpers_for(&url("https://git.example.com/other"), &entries),
            ["store", "pat"]
        );
    }

    #[test]
    fn a_finding_alike_for_several_urls_is_one_line_naming_them() {
        let entries = [
            entry(None, "pat"),
            entry(None, "store"),
            entry(Some("https://b.example"), "cache"),
        ];
        let urls = [
            "https://a.example",
            "https://b.example",
            "https://c.example",
        ]
        .map(|u| CredUrl::parse(u.as_bytes()).unwrap());
        let found = merge(
            urls.iter()
                .map(|u| (u.display(), check_url_as(u, URL_MARK, &entries))),
        );
        let lines: Vec<(Level, &str)> = found
            .iter()
            .map(|f| (f.level, f.message.split(':').next().unwrap()))
            .collect();
        assert_eq!(
            lines,
            [
                (Level::Ok, "pat is the first helper git asks for https"),
                (Level::Problem, "for https"),
                (Level::Note, "for https"),
            ]
        );
        assert!(
            found[0]
                .message
                .ends_with("for https://a.example, https://b.example and https://c.example")
        );
        assert!(found[1].message.starts_with(
            "for https://a.example, https://b.example and https://c.example a 'store' helper"
        ));
        assert!(
            found[2]
                .message
                .starts_with("for https://b.example a 'cache' helper")
        );
    }

    #[test]
    fn a_host_helper_cleared_by_a_later_global_reset_is_a_note() {
        let h = CredUrl::parse(b"https://github.com").unwrap();
        // gh auth setup-git's entries, then install.sh's reset and pat.
        let gh = [
            entry(Some("https://github.com"), ""),
            entry(Some("https://github.com"), "!gh auth git-credential"),
            entry(None, ""),
            entry(None, "pat"),
        ];
        let found = check_url(&h, &gh);
        assert_eq!(levels(&found), [Level::Ok, Level::Note]);
        assert!(
            found[1].message.contains(
                "git no longer asks '!gh auth git-credential' (credential.https://github.com.helper)"
            ),
            "{}",
            found[1].message
        );
        // For another host, nothing was cleared.
        let other = CredUrl::parse(b"https://gitlab.com").unwrap();
        assert_eq!(levels(&check_url(&other, &gh)), [Level::Ok]);
        // gh's own reset of its pattern is no loss.
        let own = [
            entry(Some("https://github.com"), "!old"),
            entry(Some("https://github.com"), ""),
            entry(None, "pat"),
        ];
        assert_eq!(levels(&check_url(&h, &own)), [Level::Ok]);
    }

    #[test]
    fn pat_configured_twice_is_a_note_or_with_other_options_a_problem() {
        let h = CredUrl::parse(b"https://h").unwrap();
        let twice = check_url(&h, &[entry(None, "pat"), entry(None, "pat")]);
        assert_eq!(levels(&twice), [Level::Ok, Level::Note]);
        assert!(
            twice[1].message.contains("configured twice"),
            "{}",
            twice[1].message
        );
        let other = check_url(&h, &[entry(None, "pat"), entry(None, "pat --backend=file")]);
        assert_eq!(levels(&other), [Level::Ok, Level::Problem]);
        assert!(
            other[1].message.contains("'pat' and 'pat --backend=file'"),
            "{}",
            other[1].message
        );
        // An empty value between them resets the list: one entry, nothing to say.
        let reset = check_url(
            &h,
            &[
                entry(None, "pat --backend=file"),
                entry(None, ""),
                entry(None, "pat"),
            ],
        );
        assert_eq!(levels(&reset), [Level::Ok]);
    }

    #[test]
    fn pat_first_without_a_store_after_it_is_ok() {
        let h = CredUrl::parse(b"https://h").unwrap();
        let ok = check_url(&h, &[entry(None, "pat"), entry(None, "cache")]);
        assert_eq!(levels(&ok), [Level::Ok, Level::Note]);
        let late = check_url(&h, &[entry(None, "store"), entry(None, "pat")]);
        assert_eq!(levels(&late), [Level::Problem]);
        let leaky = check_url(&h, &[entry(None, "pat"), entry(None, "store")]);
        assert_eq!(levels(&leaky), [Level::Ok, Level::Problem]);
        let missing = check_url(&h, &[entry(None, "cache")]);
        assert!(
            missing[0]
                .message
                .starts_with("pat is not configured for https://h")
        );
    }

    #[test]
    fn urls_and_helper_values_are_escaped() {
        let evil = CredUrl::parse(b"https://u%07@h\x1b[2J/p%E2%80%AE").unwrap();
        let found = check_url(&evil, &[entry(None, "!x\x1b[2J"), entry(None, "pat")]);
        assert_eq!(
            found[0].message,
            "for https://u\\x07@h\\x1B[2J/p\\u{202E} git asks '!x\\x1B[2J' before pat, and it answers first: put pat first (./install.sh does)"
        );
    }
}
