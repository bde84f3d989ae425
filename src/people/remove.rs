//! `remove URL` (exactly that key) and `prune` (every expired credential).
//!
//! Each parses its arguments, calls [`crate::manage::remove`] or [`crate::manage::prune`], and
//! prints what they removed.

use super::args::{Args, Spec};
use super::session::Session;
use crate::display::count;
use crate::error::Result;
use crate::key::Key;
use crate::manage::Placed;
use crate::time::format_datetime;

pub(super) const SPEC: Spec = Spec {
    usage: "usage: git credential-pat remove URL [--username=USER]

Removes the credentials stored exactly for URL: https://host removes the host-wide ones (not the
scoped ones), https://host/acme the one scoped to acme. With a user (in the URL or --username)
only that user's; otherwise every user's. Says how many; exits 1 if none matched.",
    flags: &[("--username", true)],
    positional: (1, 1),
    reads_token: false,
};

pub(super) const PRUNE_SPEC: Spec = Spec {
    usage: "usage: git credential-pat prune

Removes every expired credential from every store and lists what it removed.",
    flags: &[],
    positional: (0, 0),
    reads_token: false,
};

pub(super) fn run(s: &mut Session<'_, '_>, args: &Args) -> Result<u8> {
    let request = RemoveRequest::parse(args)?;
    let removed = crate::manage::remove(
        &mut s.chain,
        &request.target.host,
        request.target.path.as_deref(),
        request.user.as_deref(),
    )?;
    print_removed(s, &request, &removed)
}

pub(super) fn prune(s: &mut Session<'_, '_>) -> Result<u8> {
    let now = s.p.now.secs;
    let removed = crate::manage::prune(&mut s.chain, now)?;
    print_pruned(s, &removed, now)?;
    Ok(0)
}

/// What `remove` was asked to remove.
struct RemoveRequest {
    /// Protocol, host and path, exactly; no username.
    target: Key,
    /// Only this user's credentials; `None`: every user's.
    user: Option<Vec<u8>>,
}

impl RemoveRequest {
    fn parse(args: &Args) -> Result<RemoveRequest> {
        let (url, user) = super::args::url_and_user("remove", args)?;
        Ok(RemoveRequest {
            target: url.key(None),
            user,
        })
    }

    /// The key as asked, with the user if one was named.
    fn shown(&self) -> String {
        Key {
            username: self.user.clone(),
            ..self.target.clone()
        }
        .display()
    }
}

/// One line per credential removed and a count; exit 1 (and a message) when none matched.
fn print_removed(
    s: &mut Session<'_, '_>,
    request: &RemoveRequest,
    removed: &[Placed],
) -> Result<u8> {
    if removed.is_empty() {
        s.err(&format!(
            "no credential is stored for {} (git credential-pat list shows what is)",
            request.shown()
        ));
        return Ok(1);
    }
    for (rec, backend) in removed {
        s.out(&format!(
            "removed {} ({})",
            rec.key.display(),
            backend.name()
        ))?;
    }
    s.out(&format!("{} removed", count(removed.len(), "credential")))?;
    Ok(0)
}

/// One line per expired credential removed, with when it expired, and a count.
fn print_pruned(s: &mut Session<'_, '_>, removed: &[Placed], now: u64) -> Result<()> {
    for (rec, backend) in removed {
        s.out(&format!(
            "removed {} ({}, expired {})",
            rec.key.display(),
            backend.name(),
            format_datetime(rec.expiry().unwrap_or(now))
        ))?;
    }
    s.out(&format!(
        "{} removed",
        count(removed.len(), "expired credential")
    ))
}
