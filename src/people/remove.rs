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
    let mut removed = Vec::new();
    s.each_store(|store| {
        store.update_host(&target.host, &mut |recs| {
            let before = recs.len();
            recs.retain(|r| {
                let hit = r.key.path == target.path
                    && user
                        .as_ref()
                        .is_none_or(|u| r.key.username.as_ref() == Some(u));
                if hit {
                    removed.push((r.key.display(), store.backend().name()));
                }
                !hit
            });
            recs.len() != before
        })
    })?;
    let shown = crate::key::Key {
        username: user.clone(),
        ..target
    }
    .display();
    if removed.is_empty() {
        s.err(&format!("no credential is stored for {shown}"));
        return Ok(1);
    }
    for (what, backend) in &removed {
        s.out(&format!("removed {what} ({backend})"))?;
    }
    s.out(&format!("{} removed", count(removed.len(), "credential")))?;
    Ok(0)
}

pub(super) fn prune(s: &mut Session<'_, '_>) -> Result<u8> {
    let now = s.p.now.secs;
    let mut removed = Vec::new();
    s.each_store(|store| {
        store.update_all(&mut |recs| {
            let before = recs.len();
            recs.retain(|r| {
                if r.is_expired(now) {
                    removed.push((
                        r.key.display(),
                        r.expires.unwrap_or(now),
                        store.backend().name(),
                    ));
                    return false;
                }
                true
            });
            recs.len() != before
        })
    })?;
    for (what, when, backend) in &removed {
        s.out(&format!(
            "removed {what} ({backend}, expired {})",
            format_datetime(*when)
        ))?;
    }
    s.out(&format!(
        "{} removed",
        count(removed.len(), "expired credential")
    ))?;
    Ok(0)
}
