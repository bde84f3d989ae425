//! What a token is, asked of the forge that issued it (DESIGN §8): its expiry, the account it
//! belongs to and its scopes; whether it still works; and, on GitLab, a rotation.
//!
//! Only `add`, `verify`, `rotate` and a `store` of a token no store held before come here:
//! `get`, `erase` and an identical re-store never do, so no HTTP, TLS or `git config` runs on
//! git's hot path. The token goes only over HTTPS, only to the API of its own credential's
//! host (see [`which`]), only in one request header, and never into a URL, a log or a
//! message.
//!
//! What is relied on, per forge (checked against the forges' documentation; see also
//! README, "What the helper asks the forges"):
//!
//! - GitHub, `GET /user` with `Authorization: Bearer TOKEN`
//!   (docs.github.com/en/rest/users/users#get-the-authenticated-user): the JSON field `login`;
//!   the response header `GitHub-Authentication-Token-Expiration`, present when the token
//!   expires, as `2021-10-07 19:07:53 UTC` or `2023-04-26 20:23:26 +0200` (both seen in the
//!   wild: google/go-github#2649); an instant not in the future for a token just accepted is
//!   ignored (google/go-github#3708); the header `X-OAuth-Scopes` for classic tokens
//!   (docs.github.com/en/apps/oauth-apps/building-oauth-apps/scopes-for-oauth-apps).
//!   401 = bad credentials. No API rotates a personal access token.
//! - GitLab, `GET /personal_access_tokens/self` with `PRIVATE-TOKEN: TOKEN`
//!   (docs.gitlab.com/api/personal_access_tokens/): `expires_at` (a date; the token stops
//!   working at the start of that day, UTC), `scopes`, `active`, `revoked`, `created_at`;
//!   then `GET /user` (docs.gitlab.com/api/users/): `username`. A token with git scopes
//!   only gets 403 there: unknown. `POST /personal_access_tokens/self/rotate` with
//!   `expires_at` (GitLab 16.10+): `token`, `expires_at`; the old token is revoked at once,
//!   and a reuse of it revokes the new one too.
//! - Gitea and Forgejo, `GET /user` with `Authorization: token TOKEN`
//!   (gitea.com/api/swagger, codeberg.org/api/swagger): `login`. No expiry, no rotation.

pub mod answer;
pub mod client;
pub mod settings;
pub mod which;

use std::ffi::OsString;
use std::time::{Duration, Instant};

use url::Url;

pub use answer::{Expiry, Facts, Verdict};
use client::{Auth, Bounds, Client, Failure, Net, left};
pub use which::{Forge, Kind, Provider};

use crate::key::HostKey;
use crate::record::{Learned, Record};
use crate::secret::Secret;

/// A `store` of a new token learns within this, `git config` included: git waits for it.
pub const STORE_BOUND: Duration = Duration::from_secs(2);
/// `add` and `verify` give each token this long, its connection included.
pub const ASK_BOUND: Duration = Duration::from_secs(5);
/// Connecting (DNS, TCP, proxy tunnel, TLS) gets at most this, within the bounds above.
pub const CONNECT_BOUND: Duration = Duration::from_secs(3);
/// `rotate` waits this long for GitLab's answer to the rotation itself.
pub const ROTATE_BOUND: Duration = Duration::from_secs(15);

/// A forge to ask about one credential's token, and how to reach it.
pub struct Target {
    /// The forge.
    pub forge: Forge,
    /// How to connect, or why this helper cannot (a proxy it cannot use).
    net: Result<Net, String>,
}

/// The forge of a credential on `host` (and `path`), with how git would reach it, reading
/// `git config` before `deadline`; `None`: never asked (not `https`, not a known forge,
/// `generic`).
pub fn target(
    host: &HostKey,
    path: Option<&[u8]>,
    env: &dyn Fn(&str) -> Option<OsString>,
    deadline: Instant,
) -> Option<Target> {
    target_with(host, path, env, deadline, None)
}

/// [`target`], with the provider's lookup already started by [`OnStore::begin`] (for the
/// same host and path), if it was.
fn target_with(
    host: &HostKey,
    path: Option<&[u8]>,
    env: &dyn Fn(&str) -> Option<OsString>,
    deadline: Instant,
    started: Option<settings::ProviderLookup>,
) -> Option<Target> {
    let url = https_config_url(host, path)?;
    let lookup = started.or_else(|| settings::provider_lookup(url.as_str()));
    let provider = Provider::parse(lookup.and_then(|l| l.finish(deadline)).as_deref());
    let forge = which::forge_for(host, provider)?;
    let git = settings::git_http(url.as_str(), deadline);
    let net = settings::net(&git, env, &forge.api_host());
    Some(Target { forge, net })
}

/// [`config_url`] for `host` and `path`; `None` where no forge is asked (not https, or a
/// host that makes no URL).
fn https_config_url(host: &HostKey, path: Option<&[u8]>) -> Option<Url> {
    if host.protocol != b"https" {
        return None;
    }
    Some(config_url(which::origin(&host.host)?, path))
}

/// The URL git's `credential.<url>.*` and `http.<url>.*` settings are matched against.
fn config_url(mut origin: Url, path: Option<&[u8]>) -> Url {
    if let Some(p) = path {
        origin.set_path(&String::from_utf8_lossy(p));
    }
    origin
}

fn bounds(deadline: Instant) -> Bounds {
    let total = left(deadline);
    Bounds {
        connect: total.min(CONNECT_BOUND),
        total,
    }
}

impl Target {
    fn client(&self) -> Result<Client, Failure> {
        match &self.net {
            Ok(net) => Client::new(net),
            Err(why) => Err(Failure::NotSent(why.clone())),
        }
    }

    /// Asks the forge about `token` before `deadline`: one request, two for GitLab.
    pub fn check(&self, token: &Secret, now: u64, deadline: Instant) -> Verdict {
        match self.ask(token, now, deadline) {
            Ok(v) => v,
            Err(f) => Verdict::Unknown(f.why().to_owned()),
        }
    }

    fn ask(&self, token: &Secret, now: u64, deadline: Instant) -> Result<Verdict, Failure> {
        let client = self.client()?;
        let f = &self.forge;
        Ok(match f.kind {
            Kind::GitHub => {
                let reply = client.get(
                    &f.endpoint(&["user"]),
                    Auth::Bearer(token),
                    &GITHUB_HEADERS,
                    bounds(deadline),
                )?;
                answer::github_user(&reply, now)
            }
            Kind::GitLab => {
                let t = match self.gitlab_token(&client, token, now, deadline)? {
                    Ok(t) => t,
                    Err(verdict) => return Ok(verdict),
                };
                let user = client.get(
                    &f.endpoint(&["user"]),
                    Auth::PrivateToken(token),
                    &JSON,
                    bounds(deadline),
                );
                Verdict::Valid(Facts {
                    login: user.ok().and_then(|r| answer::gitlab_user(&r)),
                    scopes: t.scopes,
                    expiry: t.expiry,
                })
            }
            Kind::Gitea => {
                let reply = client.get(
                    &f.endpoint(&["user"]),
                    Auth::Token(token),
                    &JSON,
                    bounds(deadline),
                )?;
                answer::gitea_user(&reply)
            }
        })
    }

    fn gitlab_token(
        &self,
        client: &Client,
        token: &Secret,
        now: u64,
        deadline: Instant,
    ) -> Result<Result<answer::GitLabToken, Verdict>, Failure> {
        let reply = client.get(
            &self.forge.endpoint(&["personal_access_tokens", "self"]),
            Auth::PrivateToken(token),
            &JSON,
            bounds(deadline),
        )?;
        Ok(answer::gitlab_token(&reply, now))
    }

    /// Asks GitLab for a new token in place of `token` (DESIGN §8, rotation), to expire on
    /// `expires_at` (`YYYY-MM-DD`), else today plus the old token's lifetime.
    pub fn rotate(&self, token: &Secret, expires_at: Option<String>, now: u64) -> Rotation {
        if self.forge.kind != Kind::GitLab {
            return Rotation::Unsupported;
        }
        let client = match self.client() {
            Ok(c) => c,
            Err(f) => return Rotation::NotRotated(f.why().to_owned()),
        };
        let deadline = client::deadline(ASK_BOUND);
        let old = match self.gitlab_token(&client, token, now, deadline) {
            Err(f) => return Rotation::NotRotated(f.why().to_owned()),
            Ok(Err(Verdict::Rejected)) => return Rotation::Rejected,
            Ok(Err(v)) => {
                let why = match v {
                    Verdict::Unknown(w) => w,
                    _ => "an unexpected answer".into(),
                };
                return Rotation::NotRotated(why);
            }
            Ok(Ok(t)) => t,
        };
        let Some(date) = expires_at.or_else(|| same_lifetime(&old, now)) else {
            return Rotation::NeedsExpiry;
        };
        let url = self
            .forge
            .endpoint(&["personal_access_tokens", "self", "rotate"]);
        let bounds = Bounds {
            connect: CONNECT_BOUND,
            total: ROTATE_BOUND,
        };
        let reply = match client.post_form(
            &url,
            Auth::PrivateToken(token),
            &[("expires_at", &date)],
            bounds,
        ) {
            Ok(r) => r,
            Err(Failure::NotSent(why)) => return Rotation::NotRotated(why),
            Err(Failure::NoAnswer(why)) => return Rotation::Uncertain(why),
        };
        match reply.status {
            200..=299 => match answer::gitlab_rotated(&reply) {
                Some((token, expiry)) => Rotation::Rotated {
                    token,
                    expires: match expiry {
                        Expiry::At(t) => Some(t),
                        _ => answer::gitlab_date(&date),
                    },
                },
                None => Rotation::Unreadable,
            },
            401 => Rotation::Rejected,
            400..=499 => Rotation::Refused(refusal(&reply)),
            _ => Rotation::Uncertain(answer::unexpected(&reply)),
        }
    }
}

const JSON: [(&str, &str); 1] = [("accept", "application/json")];
const GITHUB_HEADERS: [(&str, &str); 2] = [
    ("accept", "application/vnd.github+json"),
    ("x-github-api-version", "2022-11-28"),
];

/// `expires_at` for a new token that lives as long as `old` did: today plus the days from
/// its `created_at` to its `expires_at`. `None` when it has no expiry to copy.
fn same_lifetime(old: &answer::GitLabToken, now: u64) -> Option<String> {
    let (Expiry::At(expires), Some(created)) = (old.expiry, old.created) else {
        return None;
    };
    let days = (expires / 86_400).checked_sub(created / 86_400)?;
    (days > 0).then(|| crate::time::format_date((now / 86_400 + days) * 86_400))
}

/// Why GitLab refused a rotation, for people: the status and GitLab's own message.
fn refusal(reply: &answer::Reply) -> String {
    let message = serde_json::from_slice::<serde_json::Value>(&reply.body)
        .ok()
        .and_then(|v| {
            let m = v.get("message").or_else(|| v.get("error"))?;
            Some(m.as_str().map_or_else(|| m.to_string(), str::to_owned))
        })
        .map(|m| {
            let m: String = m.chars().take(200).collect();
            format!(": {}", crate::display::escape(m.as_bytes()))
        })
        .unwrap_or_default();
    let hint = match reply.status {
        403 => " (the token needs the api or self_rotate scope)",
        404 => " (GitLab 16.10 or newer rotates tokens)",
        _ => "",
    };
    format!("HTTP {}{message}{hint}", reply.status)
}

/// The outcome of [`Target::rotate`].
pub enum Rotation {
    /// This forge has no API to rotate a token: a person regenerates it.
    Unsupported,
    /// Nothing reached the rotation endpoint (or the forge could not be asked first): the
    /// old token is untouched.
    NotRotated(String),
    /// The forge rejected the old token (401): it no longer works.
    Rejected,
    /// The old token has no expiry to copy: `--expires` is needed.
    NeedsExpiry,
    /// The forge answered that it would not rotate (403, 404, 400): the old token stands.
    Refused(String),
    /// The request may have reached the forge, but no answer came: it may have rotated.
    Uncertain(String),
    /// The forge rotated the token but its answer held no new token.
    Unreadable,
    /// The new token, and its expiry.
    Rotated {
        /// The new token.
        token: Secret,
        /// When it stops working.
        expires: Option<u64>,
    },
}

/// What a `store` of a token no store held before learns from its forge, within
/// [`STORE_BOUND`] in all: the token's expiry (when the forge tells one) and what
/// [`Learned`] holds; nothing, silently, for anything but a confirmation. The `git config`
/// lookup of the host's provider is begun before the write ([`OnStore::begin`]) and runs
/// beside it.
pub struct OnStore<'a> {
    env: &'a dyn Fn(&str) -> Option<OsString>,
    now: u64,
    started: Option<settings::ProviderLookup>,
}

impl<'a> OnStore<'a> {
    /// For a run with environment `env` at `now` (Unix seconds).
    pub fn new(env: &'a dyn Fn(&str) -> Option<OsString>, now: u64) -> OnStore<'a> {
        OnStore {
            env,
            now,
            started: None,
        }
    }

    /// `new` is about to be written: starts its provider's lookup, to run beside the write.
    pub fn begin(&mut self, new: &Record) {
        if new.password.is_some() {
            self.started = https_config_url(&new.key.host, new.key.path.as_deref())
                .and_then(|url| settings::provider_lookup(url.as_str()));
        }
    }

    /// Asks `rec`'s forge (within [`STORE_BOUND`]), if it has one; `None`: nothing learned.
    pub fn learn(&mut self, rec: &Record) -> Option<(Option<u64>, Learned)> {
        let token = rec.password.as_ref()?;
        let deadline = client::deadline(STORE_BOUND);
        let started = self.started.take();
        let target = target_with(
            &rec.key.host,
            rec.key.path.as_deref(),
            self.env,
            deadline,
            started,
        )?;
        match target.check(token, self.now, deadline) {
            Verdict::Valid(facts) => Some(confirmed(facts, self.now)),
            _ => None,
        }
    }
}

/// A confirmation as stored: the expiry the forge told, if any, and what it said.
pub fn confirmed(facts: Facts, now: u64) -> (Option<u64>, Learned) {
    let expires = match facts.expiry {
        Expiry::At(t) => Some(t),
        _ => None,
    };
    let learned = Learned {
        login: facts.login,
        scopes: facts.scopes,
        verified: Some(now),
    };
    (expires, learned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rotation_keeps_the_old_tokens_lifetime() {
        let day = 86_400;
        let old = answer::GitLabToken {
            scopes: None,
            expiry: Expiry::At(100 * day),
            created: Some(10 * day + 3600),
        };
        assert_eq!(
            same_lifetime(&old, 200 * day + 5),
            Some(crate::time::format_date(290 * day))
        );
        let never = answer::GitLabToken {
            expiry: Expiry::Never,
            ..old.clone()
        };
        assert_eq!(same_lifetime(&never, 200 * day), None);
        let no_created = answer::GitLabToken {
            created: None,
            ..old
        };
        assert_eq!(same_lifetime(&no_created, 200 * day), None);
    }

    #[test]
    fn the_settings_url_keeps_the_path() {
        let origin = which::origin(b"git.example:8443").unwrap();
        assert_eq!(
            config_url(origin.clone(), Some(b"acme/tool")).as_str(),
            "https://git.example:8443/acme/tool"
        );
        assert_eq!(
            config_url(origin, None).as_str(),
            "https://git.example:8443/"
        );
    }
}
