//! `rotate URL`: asks a forge that can rotate a token by itself (GitLab 16.10+) for a new
//! one in place of the stored one, stores it, and only then forgets the old (DESIGN §8).
//!
//! Parse (URL, user, `--expires`), act (find the stored token, [`forge::Target::rotate`],
//! [`crate::manage::add`]), print what happened — plainly when the forge rotated but the new
//! token could not be kept, since the old one is then dead and must never be used again.

use super::args::{Args, Spec};
use super::session::Session;
use super::url::CredUrl;
use crate::cli::UsageError;
use crate::display::{escape, shell_quote};
use crate::error::{Error, Result};
use crate::forge::{self, Forge, Rotation};
use crate::key::Key;
use crate::manage::Placed;
use crate::record::Record;
use crate::time::{describe_remaining, format_datetime, parse_date};

pub(super) const SPEC: Spec = Spec {
    usage: "usage: git credential-pat rotate URL [--username=USER] [--expires=YYYY-MM-DD]

Replaces the token stored for URL (exactly that key, as for remove) with a new one that the
forge issues in its place, stores the new one and only then forgets the old. GitLab (16.10 or
newer, a token with the api or self_rotate scope) rotates tokens; the new token expires at the
start of --expires (UTC), by default after as long as the old one lived (created to expires).
GitHub and Gitea have no such API: rotate names the page where a person regenerates the
token.

  --username=USER          whose token, when several users have one for URL
  --expires=YYYY-MM-DD     when the new token expires (GitLab's expires_at)",
    flags: &[("--username", true), ("--expires", true)],
    positional: (1, 1),
    reads_token: false,
};

fn usage(msg: String) -> Error {
    UsageError(format!("rotate: {msg}")).into()
}

pub(super) fn run(s: &mut Session<'_, '_>, args: &Args) -> Result<u8> {
    let request = RotateRequest::parse(args, s.p.now.secs)?;
    let (old, backend) = stored(s, &request)?;
    let deadline = forge::client::deadline(forge::ASK_BOUND);
    let Some(target) = forge::target(&old.key.host, old.key.path.as_deref(), s.p.env, deadline)
    else {
        return Err(Error::Failed(format!(
            "rotate: {} is not a known forge, so it cannot be asked for a new token (tell git which forge it is with: git config --global {} gitlab)",
            request.url.display(),
            shell_quote(&format!("credential.{}.provider", old.key.host.display()))
        )));
    };
    let Some(token) = &old.password else {
        return Err(Error::Failed(
            "rotate: the stored credential holds no token".into(),
        ));
    };
    let rotation = target.rotate(token, request.expires.clone(), s.p.now.secs);
    finish(s, &target.forge, (old, backend), rotation)
}

/// What `rotate` was asked.
struct RotateRequest {
    url: CredUrl,
    user: Option<Vec<u8>>,
    /// `--expires`, as GitLab's `expires_at` (`YYYY-MM-DD`).
    expires: Option<String>,
}

impl RotateRequest {
    fn parse(args: &Args, now: u64) -> Result<RotateRequest> {
        let (url, user) = super::args::url_and_user("rotate", args)?;
        let expires = match args.value("--expires")? {
            None => None,
            Some(d) => {
                let end = (d.len() == 10)
                    .then(|| parse_date(&d))
                    .flatten()
                    .ok_or_else(|| {
                        usage(format!(
                            "invalid --expires '{}': expected YYYY-MM-DD",
                            escape(d.as_bytes())
                        ))
                    })?;
                if end - 86_399 <= now {
                    return Err(usage(format!(
                        "--expires {} is not in the future (the token would stop working at the start of that day, UTC)",
                        escape(d.as_bytes())
                    )));
                }
                Some(d)
            }
        };
        Ok(RotateRequest { url, user, expires })
    }
}

/// The one stored token at exactly the request's key.
fn stored(s: &mut Session<'_, '_>, request: &RotateRequest) -> Result<Placed> {
    let want = request.url.key(None);
    let mut found: Vec<Placed> = crate::manage::list(&mut s.chain)?
        .into_iter()
        .filter(|(r, _)| {
            r.key.host == want.host
                && r.key.path == want.path
                && r.password.is_some()
                && request
                    .user
                    .as_ref()
                    .is_none_or(|u| r.key.username.as_ref() == Some(u))
        })
        .collect();
    let shown = Key {
        username: request.user.clone(),
        ..want
    }
    .display();
    match found.len() {
        0 => Err(Error::Failed(format!(
            "rotate: no token is stored for {shown}"
        ))),
        1 => Ok(found.remove(0)),
        n => Err(usage(format!(
            "{n} tokens are stored for {shown} (one per user or store): name the user with --username=USER"
        ))),
    }
}

/// Stores the new token, or says plainly what became of the old one.
fn finish(s: &mut Session<'_, '_>, forge: &Forge, old: Placed, rotation: Rotation) -> Result<u8> {
    let (old, backend) = old;
    let shown = old.key.display();
    let page = forge.token_page();
    let add = crate::app::add_command(&old.key);
    let name = forge.kind.name();
    let fail = |msg: String| Err(Error::Failed(format!("rotate: {msg}")));
    match rotation {
        Rotation::Unsupported => fail(format!(
            "{name} has no API to rotate a token: regenerate it at {page}, then store the new one with: {add}"
        )),
        Rotation::NotRotated(why) => fail(format!(
            "nothing was rotated ({why}); the token for {shown} is still stored, unchanged"
        )),
        Rotation::Refused(why) => fail(format!(
            "{name} did not rotate the token for {shown} ({why}); it is still stored, unchanged"
        )),
        Rotation::Rejected => fail(format!(
            "{name} rejected the token for {shown} (HTTP 401): it no longer works; create a new one at {page} and store it with: {add}"
        )),
        Rotation::NeedsExpiry => Err(usage(format!(
            "the token for {shown} has no expiry whose lifetime a new one could copy: pass --expires=YYYY-MM-DD"
        ))),
        Rotation::Uncertain(why) => fail(format!(
            "{name} did not answer ({why}), so it may have rotated the token for {shown}, which revokes the old one at once; the old token is still stored, and if git is refused, create a new one at {page} and store it with: {add}"
        )),
        Rotation::Unreadable => {
            let _ = crate::manage::forget(&mut s.chain, &old, backend);
            fail(format!(
                "{name} rotated the token for {shown} but its answer held no new token: the old token is revoked and was removed; create a new one at {page} and store it with: {add}"
            ))
        }
        Rotation::Rotated { token, expires } => {
            let new = Record {
                password: Some(token),
                expires,
                stored: s.p.now,
                ttl_expires: crate::rules::ttl_deadline(s.config.ttl, s.p.now),
                learned: crate::record::Learned {
                    verified: Some(s.p.now.secs),
                    ..old.learned.clone()
                },
                ..old.clone()
            };
            match crate::manage::add(&mut s.chain, &new) {
                Ok(Some(into)) => {
                    let until = match new.expiry() {
                        Some(e) => format!(
                            "expires {}, {}",
                            format_datetime(e),
                            describe_remaining(e, s.p.now.secs)
                        ),
                        None => "no expiry".into(),
                    };
                    s.out(&format!(
                        "Rotated the token for {shown}: {name} issued a new one, stored in the {} store ({until}); the old one is revoked.",
                        into.name()
                    ))?;
                    Ok(0)
                }
                outcome => {
                    // The old token is dead at the forge, and a reuse of it would revoke
                    // the new one too: never leave it where git would use it.
                    let why = match outcome {
                        Err(e) => e.to_string(),
                        _ => "no store could take it".into(),
                    };
                    let _ = crate::manage::forget(&mut s.chain, &old, backend);
                    fail(format!(
                        "{name} rotated the token for {shown}, but the new one could not be stored ({why}); the old one is revoked and was removed; create a new one at {page} and store it with: {add}"
                    ))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::format_date;

    #[test]
    fn the_expiry_is_a_future_date() {
        let now = parse_date("2026-01-10").unwrap();
        let args = |e: &str| {
            super::super::args::parse_args(
                "rotate",
                &SPEC,
                crate::cli::Options::default(),
                vec!["https://gitlab.com".into(), format!("--expires={e}").into()],
            )
            .unwrap()
            .unwrap()
        };
        assert_eq!(
            RotateRequest::parse(&args("2026-02-01"), now)
                .unwrap()
                .expires
                .as_deref(),
            Some("2026-02-01")
        );
        for bad in ["2026-01-10", "2026-01-01", "2026-02-01T00:00:00Z", "soon"] {
            assert!(RotateRequest::parse(&args(bad), now).is_err(), "{bad}");
        }
        assert_eq!(format_date(now), "2026-01-10");
    }
}
