//! `doctor URL`: which stored credential git will get for that URL, and why.

use super::finding::Finding;
use crate::display::count;
use crate::manage::Which;
use crate::people::url::CredUrl;
use crate::time::{describe_remaining, format_date};

/// The request git sends for `url`: its path only when `credential.useHttpPath` is on for
/// it (`use_http_path`), and, when the URL names no user, the `credential.username` git
/// config gives for it (`configured`), as git does.
pub(super) fn request_for(
    url: &CredUrl,
    configured: Option<&[u8]>,
    use_http_path: bool,
) -> crate::protocol::Request {
    crate::protocol::Request {
        protocol: Some(url.protocol.clone()),
        host: Some(url.host.clone()),
        path: url.path.clone().filter(|_| use_http_path),
        username: url
            .username
            .clone()
            .or_else(|| configured.map(<[u8]>::to_vec)),
        ..crate::protocol::Request::default()
    }
}

/// One line saying what git gets for `url` and why, plus a note when several accounts
/// could answer a remote URL that names no user.
pub(super) fn explain(
    url: &CredUrl,
    configured: Option<&[u8]>,
    use_http_path: bool,
    which: &Which,
    now: u64,
) -> Vec<Finding> {
    let shown = match configured {
        Some(user) => format!(
            "{} (user {}, from git config credential.username)",
            url.display(),
            crate::display::escape(user)
        ),
        None => url.display(),
    };
    let mut findings = Vec::new();
    let Some((rec, backend)) = &which.chosen else {
        let ask = if url.username.is_some() || configured.is_some() {
            "a token"
        } else {
            "a username and token"
        };
        findings.push(Finding::note(format!(
            "for {shown} no stored credential matches: git will ask for {ask} (and pat keeps what works)"
        )));
        return findings;
    };
    let expiry = match rec.expiry() {
        Some(e) => format!(
            "expires {} ({})",
            format_date(e),
            describe_remaining(e, now)
        ),
        None => "no known expiry".into(),
    };
    let why = match (&rec.key.path, url.path.is_some(), use_http_path) {
        (Some(_), _, _) => "the longest stored path that serves this URL".to_string(),
        (None, true, false) => {
            "a host-wide token (git sends no path here: credential.useHttpPath is off)".into()
        }
        (None, _, _) => "a host-wide token".into(),
    };
    findings.push(Finding::ok(format!(
        "for {shown} git gets the token stored for {} ({} store, {expiry}, stored {}): {why}",
        rec.key.display(),
        backend.name(),
        format_date(rec.stored.secs),
    )));
    let mut users: Vec<&[u8]> = which
        .candidates
        .iter()
        .filter_map(|(r, _)| r.key.username.as_deref())
        .collect();
    users.sort();
    users.dedup();
    if url.username.is_none() && configured.is_none() && users.len() > 1 {
        findings.push(Finding::note(format!(
            "{} have tokens for {shown}; a remote URL without a user gets the most specific, then the most recently stored one ({}): put the user in the remote URL (https://USER@host/...) to choose",
            count(users.len(), "account"),
            crate::display::escape(rec.key.username.as_deref().unwrap_or_default()),
        )));
    }
    findings
}
