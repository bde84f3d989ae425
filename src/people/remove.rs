//! `remove URL` (exactly that key) and `prune` (every expired credential).

use super::{Args, Session, Spec};
use crate::display::count;
use crate::error::Result;
use crate::time::format_datetime;

pub(super) const SPEC: Spec = Spec {
    usage: "usage: git credential-pat remove URL [--username=USER]

Removes the credentials stored exactly for URL: https://host removes the host-wide ones (not the
scoped ones), https://host/acme the one scoped to acme. With a user (in the URL or --username)
only that user's; otherwise every user's. Says how many; exits 1 if none matched.",
    flags: &[("--username", true)],
    positional: (1, 1),
};

pub(super) const PRUNE_SPEC: Spec = Spec {
    usage: "usage: git credential-pat prune

Removes every expired credential from every store and lists what it removed.",
    flags: &[],
    positional: (0, 0),
};

pub(super) fn run(s: &mut Session<'_, '_>, args: &Args) -> Result<u8> {
    let (url, user) = super::url_and_user("remove", args)?;
    let target = url.key(None);
    let removed = crate::manage::remove(
        &mut s.chain,
        &target.host,
        target.path.as_deref(),
        user.as_deref(),
    )?;
    let shown = crate::key::Key {
        username: user.clone(),
        ..target
    }
    .display();
    if removed.is_empty() {
        s.err(&format!("no credential is stored for {shown}"));
        return Ok(1);
    }
    for (rec, backend) in &removed {
        s.out(&format!(
            "removed {} ({})",
            rec.key.display(),
            backend.name()
        ))?;
    }
    s.out(&format!("{} removed", count(removed.len(), "credential")))?;
    Ok(0)
}

pub(super) fn prune(s: &mut Session<'_, '_>) -> Result<u8> {
    let now = s.p.now.secs;
    let removed = crate::manage::prune(&mut s.chain, now)?;
    for (rec, backend) in &removed {
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
    ))?;
    Ok(0)
}
