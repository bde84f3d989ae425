//! What git's `get`, `store` and `erase` mean (DESIGN.md §2 and §4), over any [`Store`].
//!
//! This is the only module that knows git's semantics: matching, the longest-path rule,
//! idempotent upserts, erase-only-the-rejected-token, expiry, eviction and warnings. Stores
//! are consulted in order (the keychain before the file under `auto`); the first is where
//! new credentials go.

use std::io::Write;

use crate::error::{Error, Result};
use crate::key::{self, HostKey, Key};
use crate::protocol::{Request, Response};
use crate::record::{Record, Stamp};
use crate::secret::Secret;
use crate::store::Store;
use crate::time::{describe_remaining, format_datetime};
use crate::warn::WarnState;

/// The context of one run: clock, policy and where to say things.
pub struct Ctx<'a> {
    /// The time of this run (read once).
    pub now: Stamp,
    /// `--ttl` in seconds.
    pub ttl: Option<u64>,
    /// `--warn` in seconds.
    pub warn: Option<u64>,
    /// Where warnings are remembered (once per 24 hours per token).
    pub warn_state: Option<WarnState>,
    /// Standard error: evictions, warnings.
    pub notices: &'a mut dyn Write,
    /// Under `--backend=auto`: a store that cannot be reached (the keychain) is passed over
    /// quietly for the next one (the file) instead of failing the request.
    pub fall_back: bool,
}

impl Ctx<'_> {
    /// Whether `e` lets the request go on with the next store.
    fn passes_over(&self, e: &crate::store::Error) -> bool {
        self.fall_back && e.is_unreachable()
    }
}

impl Ctx<'_> {
    fn notice(&mut self, msg: &str) {
        // Best effort: a closed stderr must not turn a good answer into a failure.
        let _ = writeln!(self.notices, "git-credential-pat: {msg}");
    }
}

fn host_key(req: &Request, action: &'static str, done: &'static str) -> Result<HostKey> {
    let protocol = req.protocol.as_deref().ok_or(Error::FieldMissing {
        action,
        field: "protocol",
        done,
    })?;
    let host = req.host.as_deref().ok_or(Error::FieldMissing {
        action,
        field: "host",
        done,
    })?;
    Ok(HostKey::new(protocol, host))
}

/// Whether `rec` can answer git: a username and password, or (when git announced the
/// capability) an authtype credential.
fn answers(rec: &Record, authtype_capable: bool) -> bool {
    (rec.password.is_some() && rec.key.username.is_some())
        || (authtype_capable && rec.credential.is_some() && rec.authtype.is_some())
}

/// `get`: the best matching live credential, or an empty answer.
pub fn get(stores: &[&dyn Store], req: &Request, ctx: &mut Ctx<'_>) -> Result<Response> {
    let host = host_key(req, "get", "answered")?;
    let path = req.path.as_deref().and_then(key::normalize_path);
    let capable = req.has_authtype_capability();
    for store in stores {
        let records = match store.load_host(&host) {
            Ok(records) => records,
            Err(e) if ctx.passes_over(&e) => continue,
            Err(e) => return Err(e.into()),
        };
        let mut best: Option<Record> = None;
        for rec in records {
            let user_ok = req.username.is_none() || rec.key.username == req.username;
            if !user_ok
                || !key::path_serves(rec.key.path.as_deref(), path.as_deref())
                || !answers(&rec, capable)
            {
                continue;
            }
            if rec.is_expired(ctx.now.secs) {
                evict(*store, &rec, ctx);
                continue;
            }
            let rank = |r: &Record| (key::specificity(r.key.path.as_deref()), r.stored);
            if best.as_ref().is_none_or(|b| rank(&rec) > rank(b)) {
                best = Some(rec);
            }
        }
        if let Some(rec) = best {
            let answer = answer(&rec, capable)?;
            maybe_warn(&rec, ctx);
            return Ok(answer);
        }
    }
    Ok(Response::new())
}

fn answer(rec: &Record, capable: bool) -> Result<Response> {
    let mut out = Response::new();
    if let (true, Some(authtype), Some(credential)) = (capable, &rec.authtype, &rec.credential) {
        out.push("capability[]", b"authtype")?;
        out.push("authtype", authtype)?;
        out.push("credential", credential.expose())?;
    }
    if let (Some(user), Some(password)) = (&rec.key.username, &rec.password) {
        out.push("username", user)?;
        out.push("password", password.expose())?;
    }
    if let Some(rt) = &rec.oauth_refresh_token {
        out.push("oauth_refresh_token", rt.expose())?;
    }
    if let Some(e) = rec.expires {
        out.push("password_expiry_utc", e.to_string().as_bytes())?;
    }
    Ok(out)
}

/// Removes an expired credential, but only if it is still the same token: another process
/// may have stored a fresh one a moment ago.
fn evict(store: &dyn Store, expired: &Record, ctx: &mut Ctx<'_>) {
    let now = ctx.now.secs;
    let result = store.update_host(&expired.key.host, &mut |recs| {
        let before = recs.len();
        recs.retain(|r| {
            !(r.key == expired.key
                && r.stored == expired.stored
                && r.same_token(expired)
                && r.is_expired(now))
        });
        recs.len() != before
    });
    let what = expired.key.display();
    let when = format_datetime(expired.expires.unwrap_or(now));
    match result {
        Ok(_) => ctx.notice(&format!(
            "the token for {what} expired on {when} and was removed from the {} store; git will ask for a new one",
            store.backend().name()
        )),
        Err(e) => ctx.notice(&format!("the token for {what} expired on {when}; it was not handed out, but removing it failed: {e}")),
    }
}

fn maybe_warn(rec: &Record, ctx: &mut Ctx<'_>) {
    let (Some(expires), Some(window)) = (rec.expires, ctx.warn) else {
        return;
    };
    let now = ctx.now.secs;
    if expires.saturating_sub(now) > window {
        return;
    }
    if let Some(state) = &ctx.warn_state
        && !state.should_warn(&rec.key, rec.stored, now)
    {
        return;
    }
    let mut url = Key {
        username: None,
        ..rec.key.clone()
    }
    .display();
    if let Some(u) = &rec.key.username {
        url.push_str(&format!(" --username={}", crate::display::escape(u)));
    }
    ctx.notice(&format!(
        "warning: the token for {} expires on {} ({}); create a new one and store it with 'git credential-pat add {url}'",
        rec.key.display(),
        format_datetime(expires),
        describe_remaining(expires, now),
    ));
}

/// The expiry of a newly stored token: the earliest of its own expiry and now + TTL.
pub fn initial_expiry(token_expiry: Option<u64>, ttl: Option<u64>, stored: Stamp) -> Option<u64> {
    let by_ttl = ttl.map(|t| stored.secs.saturating_add(t));
    match (token_expiry, by_ttl) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// A new credential from a `store` request, or `None` when there is nothing to store.
fn record_from(req: &Request, host: HostKey, ctx: &Ctx<'_>) -> Option<Record> {
    if req.ephemeral {
        return None;
    }
    let capable = req.has_authtype_capability();
    let with_password = req.username.is_some() && req.password.is_some();
    let with_credential = capable && req.authtype.is_some() && req.credential.is_some();
    if !with_password && !with_credential {
        return None;
    }
    if req.password_expiry_utc.is_some_and(|e| e <= ctx.now.secs) {
        return None;
    }
    let (authtype, credential) = if with_credential {
        (req.authtype.clone(), req.credential.clone())
    } else {
        (None, None)
    };
    Some(Record {
        key: Key {
            host,
            path: req.path.as_deref().and_then(key::normalize_path),
            username: req.username.clone(),
        },
        password: if with_password {
            req.password.clone()
        } else {
            None
        },
        oauth_refresh_token: req.oauth_refresh_token.clone(),
        authtype,
        credential,
        expires: initial_expiry(req.password_expiry_utc, ctx.ttl, ctx.now),
        stored: ctx.now,
    })
}

/// Merges a stored-again credential into the one already there. The same token keeps its
/// stored time (it is not newer), its TTL deadline and, without a new expiry from git, its
/// known expiry.
fn merge(old: &Record, mut new: Record, req_expiry: Option<u64>, ttl: Option<u64>) -> Record {
    if old.same_token(&new) {
        new.stored = old.stored;
        new.expires = match req_expiry {
            Some(e) => initial_expiry(Some(e), ttl, old.stored),
            None => old.expires,
        };
        if new.oauth_refresh_token.is_none() {
            new.oauth_refresh_token = old.oauth_refresh_token.clone();
        }
    }
    new
}

/// `store`: upsert by key; storing the same thing again writes nothing.
pub fn store(stores: &[&dyn Store], req: &Request, ctx: &mut Ctx<'_>) -> Result<()> {
    let host = host_key(req, "store", "stored")?;
    let Some(new) = record_from(req, host.clone(), ctx) else {
        return Ok(());
    };
    let (req_expiry, ttl) = (req.password_expiry_utc, ctx.ttl);
    for (i, store) in stores.iter().enumerate() {
        let existed = store.exists();
        match store.update_host(&host, &mut |recs| {
            upsert(recs, new.clone(), req_expiry, ttl)
        }) {
            Ok(_) => {
                if i > 0 && !existed {
                    let place = store
                        .location()
                        .unwrap_or_else(|| store.backend().name().into());
                    ctx.notice(&format!(
                        "the keychain is not reachable, so the token was stored in the file {place} (run 'git credential-pat doctor' to see why)"
                    ));
                }
                drop_stale_copies(&stores[i + 1..], &new.key, ctx);
                return Ok(());
            }
            Err(e) if i + 1 < stores.len() && ctx.passes_over(&e) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// After a store into the keychain, removes an older copy of the same key from the file, so
/// the plain-text copy does not outlive its replacement.
fn drop_stale_copies(later: &[&dyn Store], key: &Key, ctx: &mut Ctx<'_>) {
    for store in later.iter().filter(|s| s.exists()) {
        let result = store.update_host(&key.host, &mut |recs| {
            let before = recs.len();
            recs.retain(|r| r.key != *key);
            recs.len() != before
        });
        if let Err(e) = result {
            ctx.notice(&format!(
                "stored, but the old copy of {} could not be removed from the file: {e}",
                key.display()
            ));
        }
    }
}

/// Puts `candidate` into `recs`, replacing the credential with the same key (see [`merge`]).
/// Returns whether anything changed.
pub fn upsert(
    recs: &mut Vec<Record>,
    candidate: Record,
    req_expiry: Option<u64>,
    ttl: Option<u64>,
) -> bool {
    match recs.iter_mut().find(|r| r.key == candidate.key) {
        Some(old) => {
            let merged = merge(old, candidate, req_expiry, ttl);
            if merged.same_content(old) {
                return false;
            }
            *old = merged;
            true
        }
        None => {
            recs.push(candidate);
            true
        }
    }
}

/// Whether an `erase` request reaches `rec`.
///
/// When git names the rejected secret, every copy of exactly that secret on the host is
/// reached, whatever its path: git stores a token under each repository path it worked for,
/// and once the server rejects it, the copies for sibling repositories are just as revoked.
/// A different (newer) secret is never reached.
fn erase_reaches(req: &Request, path: Option<&[u8]>, rec: &Record) -> bool {
    let user_ok = req.username.is_none() || rec.key.username == req.username;
    let secret_given = req.password.is_some() || req.credential.is_some();
    let path_ok =
        req.path.is_none() || secret_given || key::path_serves(rec.key.path.as_deref(), path);
    let secret_ok = |given: &Option<Secret>, stored: &Option<Secret>| match (given, stored) {
        (None, _) => true,
        (Some(g), Some(s)) => g.ct_eq(s),
        (Some(_), None) => false,
    };
    user_ok
        && path_ok
        && secret_ok(&req.password, &rec.password)
        && secret_ok(&req.credential, &rec.credential)
}

/// `erase`: removes every credential the request reaches, in every store; with a password
/// (or credential), only those holding exactly that secret.
pub fn erase(stores: &[&dyn Store], req: &Request, ctx: &mut Ctx<'_>) -> Result<()> {
    let host = host_key(req, "erase", "erased")?;
    let path = req.path.as_deref().and_then(key::normalize_path);
    for store in stores {
        let result = store.update_host(&host, &mut |recs| {
            let before = recs.len();
            recs.retain(|r| !erase_reaches(req, path.as_deref(), r));
            recs.len() != before
        });
        match result {
            Ok(_) => {}
            Err(e) if ctx.passes_over(&e) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}
