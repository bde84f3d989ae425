//! `doctor URL`: which stored credential git will get for that URL, and why.

use super::finding::Finding;
use crate::display::count;
use crate::manage::Which;
use crate::people::url::CredUrl;
use crate::time::{describe_remaining, format_date};

/// The request git sends for `url`: its path only when `credential.useHttpPath` is on for
/// it (`use_http_path`), as git does.
pub(super) fn request_for(url: &CredUrl, use_http_path: bool) -> crate::protocol::Request {
    crate::protocol::Request {
        protocol: Some(url.protocol.clone()),
        host: Some(url.host.clone()),
        path: url.path.clone().filter(|_| use_http_path),
        username: url.username.clone(),
        ..crate::protocol::Request::default()
    }
}

/// One line saying what git gets for `url` and why, plus a note when several accounts
/// could answer a remote URL that names no user.
pub(super) fn explain(url: &CredUrl, use_http_path: bool, which: &Which, now: u64) -> Vec<Finding> {
    let shown = url.display();
    let mut findings = Vec::new();
    let Some((rec, backend)) = &which.chosen else {
        findings.push(Finding::note(format!(
            "for {shown} no stored credential matches: git will ask for a username and token (and pat keeps what works)"
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
    if url.username.is_none() && users.len() > 1 {
        findings.push(Finding::note(format!(
            "{} have tokens for {shown}; a remote URL without a user gets the most specific, then the most recently stored one ({}): put the user in the remote URL (https://USER@host/...) to choose",
            count(users.len(), "account"),
            crate::display::escape(rec.key.username.as_deref().unwrap_or_default()),
        )));
    }
    findings
}
