//! What git's `get`, `store` and `erase`, and the people's `add`, `remove` and `prune`, mean
//! (DESIGN.md §2, §4, §5), as pure functions over the credentials of one protocol + host.
//!
//! No I/O and no clock: every function takes the records as a backend loaded them and `now`
//! in Unix seconds (UTC), and either answers or changes the records in memory and says
//! whether anything changed. [`crate::chain`] runs them against the backends, once without a
//! lock to learn whether a write is needed at all, and again under the backend's lock.

use std::collections::{HashMap, HashSet};

use crate::key::{self, HostKey, Key, ReqPath};
use crate::protocol::{Request, Response, UnwritableValue};
use crate::record::{Learned, Record, Stamp};
use crate::secret::Secret;

/// Which usernames a request reaches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum User {
    /// No `username` in a get or erase request: every user's credentials.
    Any,
    /// Exactly this username (`None`: an authtype credential stored without one).
    Exactly(Option<Vec<u8>>),
}

impl User {
    fn reaches(&self, rec: &Record) -> bool {
        match self {
            User::Any => true,
            User::Exactly(u) => rec.key.username == *u,
        }
    }
}

/// What a get, store or erase request asks for, within its protocol + host.
#[derive(Clone, Debug)]
pub struct Want {
    /// The request's path after dot-segment resolution.
    pub path: ReqPath,
    /// Whose credentials.
    pub user: User,
    /// Whether git announced `capability[]=authtype` (authtype credentials may answer).
    pub authtype_capable: bool,
}

impl Want {
    /// What a `get` or `erase` request reaches: its username if it names one, else any.
    pub fn of_lookup(req: &Request) -> Want {
        Want {
            path: ReqPath::of(req.path.as_deref()),
            user: req
                .username
                .clone()
                .map_or(User::Any, |u| User::Exactly(Some(u))),
            authtype_capable: req.has_authtype_capability(),
        }
    }

    /// What get would serve for a `store` request: the very same username (absent is a
    /// value here, for an authtype credential stored without one).
    pub fn of_store(req: &Request) -> Want {
        Want {
            user: User::Exactly(req.username.clone()),
            ..Want::of_lookup(req)
        }
    }

    /// Whether a credential stored with path `stored` serves this request's path:
    /// host-wide ones serve every request, a path `P` serves `P` and `P/...`; a request
    /// without a path, or one that climbs above the root, reaches host-wide ones only.
    fn path_served_by(&self, stored: Option<&[u8]>) -> bool {
        match (&self.path, stored) {
            (_, None) => true,
            (ReqPath::At(r), Some(p)) => key::path_serves(Some(p), Some(r)),
            (ReqPath::Absent | ReqPath::Root | ReqPath::Climbs, Some(_)) => false,
        }
    }
}

/// The protocol + host of a request, `None` when either is missing.
pub fn host_of(req: &Request) -> Option<HostKey> {
    Some(HostKey::new(req.protocol.as_deref()?, req.host.as_deref()?))
}

/// Whether `rec` can answer git: a username and password, or (when git announced the
/// capability) an authtype credential.
fn can_answer(rec: &Record, authtype_capable: bool) -> bool {
    (rec.password.is_some() && rec.key.username.is_some())
        || (authtype_capable && rec.credential.is_some() && rec.authtype.is_some())
}

/// Why an expired credential leaves its store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lapse {
    /// The token's own expiry passed: the user is told, once, on stderr.
    Token,
    /// The `--ttl` policy forgot it: silently, as git-credential-cache does.
    Ttl,
}

/// What a `get` finds among one host's credentials.
#[derive(Debug, Default)]
pub struct Selection {
    /// Index of the credential to answer with.
    pub best: Option<usize>,
    /// Expired credentials the request reached, to evict, and why each lapsed.
    pub evict: Vec<(usize, Lapse)>,
}

/// Selects the credential `get` answers with (DESIGN §2): among those `want` reaches, the
/// longest stored path, then the most recently stored token. A credential the TTL forgot, or
/// whose own expiry passed without a refresh token, takes no part and is listed for
/// eviction; an expired one with an `oauth_refresh_token` takes part like a live one (it is
/// answered with the refresh token alone, see [`answer`]). O(n) in `recs`.
pub fn select(recs: &[Record], want: &Want, now: u64) -> Selection {
    let mut sel = Selection::default();
    let mut best_rank = None;
    for (i, rec) in recs.iter().enumerate() {
        if !want.user.reaches(rec)
            || !want.path_served_by(rec.key.path.as_deref())
            || !can_answer(rec, want.authtype_capable)
        {
            continue;
        }
        if rec.ttl_lapsed(now) {
            sel.evict.push((i, Lapse::Ttl));
            continue;
        }
        if rec.token_expired(now) && !rec.refreshable() {
            sel.evict.push((i, Lapse::Token));
            continue;
        }
        let rank = (key::specificity(rec.key.path.as_deref()), rec.stored);
        if best_rank.is_none_or(|b| rank > b) {
            best_rank = Some(rank);
            sel.best = Some(i);
        }
    }
    sel
}

/// The `get` answer for `rec`: `username` and the secret, the token's own
/// `password_expiry_utc` (never the TTL's) and `oauth_refresh_token`; `capability[]`,
/// `authtype` and `credential` when `authtype_capable`. A token whose own expiry has
/// passed is answered with `username` and `oauth_refresh_token` only, so a generator helper
/// later in git's chain renews it without a browser (DESIGN §4).
pub fn answer(rec: &Record, authtype_capable: bool, now: u64) -> Result<Response, UnwritableValue> {
    let mut out = Response::new();
    if rec.token_expired(now) {
        if let Some(user) = &rec.key.username {
            out.push("username", user)?;
        }
        if let Some(rt) = &rec.oauth_refresh_token {
            out.push("oauth_refresh_token", rt.expose())?;
        }
        return Ok(out);
    }
    if let (true, Some(authtype), Some(credential)) =
        (authtype_capable, &rec.authtype, &rec.credential)
    {
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

/// Whether `rec` deserves the "expires soon" warning at `now` with a window of `warn`
/// seconds: only for the token's own expiry, and never for a token another helper renews.
pub fn should_warn(rec: &Record, warn: Option<u64>, now: u64) -> bool {
    match (rec.expires, warn) {
        (Some(e), Some(w)) => !rec.refreshable() && e > now && e - now <= w,
        _ => false,
    }
}

/// Removes `expired` from `recs` if it is still there, still the same token and still
/// expired: never a token another process stored a moment ago. Returns whether it did.
pub fn evict(recs: &mut Vec<Record>, expired: &Record, now: u64) -> bool {
    let before = recs.len();
    recs.retain(|r| {
        !(r.key == expired.key
            && r.stored == expired.stored
            && r.same_token(expired)
            && r.is_expired(now))
    });
    recs.len() != before
}

/// The deadline the TTL policy sets for a token stored at `stored`: `None` without a TTL.
pub fn ttl_deadline(ttl: Option<u64>, stored: Stamp) -> Option<u64> {
    ttl.map(|t| stored.secs.saturating_add(t))
}

/// A new credential from a `store` request, or `None` when there is nothing to store: no
/// username and password (and no authtype credential), `ephemeral`, already expired, or a
/// path that climbs above the root.
pub fn incoming(req: &Request, now: Stamp, ttl: Option<u64>) -> Option<Record> {
    let host = host_of(req)?;
    if req.ephemeral || req.password_expiry_utc.is_some_and(|e| e <= now.secs) {
        return None;
    }
    let path = match ReqPath::of(req.path.as_deref()) {
        ReqPath::Climbs => return None,
        ReqPath::Absent | ReqPath::Root => None,
        ReqPath::At(p) => Some(p),
    };
    let with_password = req.username.is_some() && req.password.is_some();
    let with_credential =
        req.has_authtype_capability() && req.authtype.is_some() && req.credential.is_some();
    if !with_password && !with_credential {
        return None;
    }
    Some(Record {
        key: Key {
            host,
            path,
            username: req.username.clone(),
        },
        password: req.password.clone().filter(|_| with_password),
        oauth_refresh_token: req.oauth_refresh_token.clone(),
        authtype: req.authtype.clone().filter(|_| with_credential),
        credential: req.credential.clone().filter(|_| with_credential),
        expires: req.password_expiry_utc,
        ttl_expires: ttl_deadline(ttl, now),
        stored: now,
        learned: Default::default(),
    })
}

/// Refreshes `old`, which holds the same token as `new`, with what `new` brings: its own
/// expiry when git sent one, its refresh token when it carries one, what its forge just said
/// about it (`add` verifies; git's store never carries that). The stored time and the TTL
/// deadline stay (an identical re-store is not newer). Returns whether anything changed.
fn refresh_same_token(old: &mut Record, new: &Record) -> bool {
    let mut changed = false;
    if new.learned.verified.is_some() && new.learned != old.learned {
        old.learned = new.learned.clone();
        changed = true;
    }
    if new.expires.is_some() && new.expires != old.expires {
        old.expires = new.expires;
        changed = true;
    }
    if let Some(rt) = &new.oauth_refresh_token
        && !old
            .oauth_refresh_token
            .as_ref()
            .is_some_and(|o| o.ct_eq(rt))
    {
        old.oauth_refresh_token = Some(rt.clone());
        changed = true;
    }
    changed
}

/// `store` (DESIGN §2): **a store changes only what would change an answer**. When the
/// credential `get` would serve for this very request (`want`, username included) already
/// holds `new`'s secret, at most its expiry and refresh token are updated; so with
/// `useHttpPath` a host-wide token that served `acme/tool` is never copied to `acme/tool`.
/// Otherwise `new` is upserted by key: a new token replaces the one at its key (stored
/// now, TTL from now); the same token there is refreshed as above. Returns whether `recs`
/// changed; `false` means nothing needs writing.
pub fn store(recs: &mut Vec<Record>, new: &Record, want: &Want, now: u64) -> bool {
    if let Some(i) = select(recs, want, now).best
        && recs[i].same_token(new)
    {
        return refresh_same_token(&mut recs[i], new);
    }
    upsert(recs, new.clone())
}

/// On a backend whose TTL restarts with each use (the memory backend, as git-credential-cache
/// re-arms its timeout on every store): after [`store`], the credential that serves this very
/// request with `new`'s token takes `new`'s TTL deadline (now + TTL; none with `--ttl=0`), so
/// an identical re-store, which changes nothing else, still re-arms it (DESIGN §3, §4).
/// Returns whether that changed anything.
pub fn restart_ttl(recs: &mut [Record], new: &Record, want: &Want, now: u64) -> bool {
    match select(recs, want, now).best {
        Some(i) if recs[i].same_token(new) && recs[i].ttl_expires != new.ttl_expires => {
            recs[i].ttl_expires = new.ttl_expires;
            true
        }
        _ => false,
    }
}

/// Puts `new` at its key: a different token replaces the one there, the same token is
/// refreshed ([`refresh_same_token`]). Returns whether anything changed.
pub fn upsert(recs: &mut Vec<Record>, new: Record) -> bool {
    match recs.iter_mut().find(|r| r.key == new.key) {
        Some(old) if old.same_token(&new) => refresh_same_token(old, &new),
        Some(old) => {
            *old = new;
            true
        }
        None => {
            recs.push(new);
            true
        }
    }
}

/// What [`upsert_all`] did, record by record.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Upserted {
    /// Keys that were not stored before.
    pub new: usize,
    /// Keys whose token (or expiry, refresh token) changed.
    pub updated: usize,
    /// Keys that already held exactly this.
    pub unchanged: usize,
}

impl Upserted {
    /// Whether anything changed.
    pub fn changed(&self) -> bool {
        self.new + self.updated > 0
    }
}

/// Upserts every record of `news` ([`upsert`]), in O(n + m) with an index by key; of several
/// with one key the first wins (a later one with the same token refreshes it at most).
pub fn upsert_all(recs: &mut Vec<Record>, news: &[Record]) -> Upserted {
    let mut at: HashMap<Key, usize> = recs
        .iter()
        .enumerate()
        .map(|(i, r)| (r.key.clone(), i))
        .collect();
    let mut done = Upserted::default();
    for new in news {
        match at.get(&new.key) {
            Some(&i) if recs[i].same_token(new) => {
                if refresh_same_token(&mut recs[i], new) {
                    done.updated += 1;
                } else {
                    done.unchanged += 1;
                }
            }
            Some(&i) => {
                recs[i] = new.clone();
                done.updated += 1;
            }
            None => {
                at.insert(new.key.clone(), recs.len());
                recs.push(new.clone());
                done.new += 1;
            }
        }
    }
    done
}

/// [`retire`] for every record of `news` at once, in O(n + m) for distinct users: stale
/// copies are found by key, and their per-repository copies through an index by host and
/// user; a copy under several retired keys takes the new token of the most specific one
/// (what retiring them one at a time, host-wide first, leaves).
pub fn retire_all(recs: &mut Vec<Record>, news: &[Record]) -> bool {
    let at: HashMap<&Key, usize> = recs.iter().enumerate().map(|(i, r)| (&r.key, i)).collect();
    let mut retired: Vec<(usize, &Record)> = news
        .iter()
        .filter_map(|n| at.get(&n.key).map(|&i| (i, n)))
        .collect();
    if retired.is_empty() {
        return false;
    }
    retired.sort_by_key(|&(i, _)| i);
    retired.dedup_by_key(|&mut (i, _)| i);
    let mut by_user: HashMap<(&HostKey, Option<&[u8]>), Vec<usize>> = HashMap::new();
    for (i, r) in recs.iter().enumerate() {
        by_user
            .entry((&r.key.host, r.key.username.as_deref()))
            .or_default()
            .push(i);
    }
    // A copy takes the new token of the most specific retired key it copies (as retiring
    // them one at a time, host-wide first, would leave it).
    let mut rewrite: HashMap<usize, (usize, &Record)> = HashMap::new();
    for &(i, new) in &retired {
        // A key retired for the same token still counts: its copies keep that token.
        let old = &recs[i];
        let depth = key::specificity(old.key.path.as_deref());
        let peers = by_user
            .get(&(&old.key.host, old.key.username.as_deref()))
            .map_or(&[][..], Vec::as_slice);
        for &j in peers.iter().filter(|&&j| is_copy_of(&recs[j], old)) {
            let entry = rewrite.entry(j).or_insert((depth, new));
            if depth > entry.0 {
                *entry = (depth, new);
            }
        }
    }
    let gone: HashSet<usize> = retired.iter().map(|&(i, _)| i).collect();
    let rewrite: Vec<(usize, Record)> = rewrite
        .into_iter()
        .map(|(j, (_, new))| {
            let key = recs[j].key.clone();
            (j, Record { key, ..new.clone() })
        })
        .collect();
    for (j, r) in rewrite {
        recs[j] = r;
    }
    let mut i = 0;
    recs.retain(|_| {
        i += 1;
        !gone.contains(&(i - 1))
    });
    true
}

/// Whether `new`'s token is one none of `recs` (one store's credentials of its host) holds:
/// a `store` of it writes a token the helper has not seen before, the only store that asks
/// the token's forge about it (DESIGN §8). An identical re-store, or a token already kept
/// under another path or user, is not new.
pub fn unseen(recs: &[Record], new: &Record) -> bool {
    !recs.iter().any(|r| r.same_token(new))
}

/// Records what the forge said about `rec`'s token (`expires`: its expiry, when the forge
/// told one) on the credential at `rec`'s key, if that still holds the same token: never on
/// a token another process stored meanwhile. Like an expiry update, it does not make the
/// credential newer. Returns whether anything changed.
pub fn confirm(recs: &mut [Record], rec: &Record, expires: Option<u64>, learned: &Learned) -> bool {
    let Some(r) = recs
        .iter_mut()
        .find(|r| r.key == rec.key && r.same_token(rec))
    else {
        return false;
    };
    let before = (r.expires, r.learned.clone());
    if expires.is_some() {
        r.expires = expires;
    }
    r.learned = learned.clone();
    before != (r.expires, r.learned.clone())
}

/// Removes the credential at `rec`'s key if it still holds `rec`'s token (one its forge
/// rejected), with that token's per-repository copies (see [`is_copy_of`]). Returns what it
/// removed.
pub fn forget_token(recs: &mut Vec<Record>, rec: &Record) -> Vec<Record> {
    let Some(target) = recs
        .iter()
        .find(|r| r.key == rec.key && r.same_token(rec))
        .cloned()
    else {
        return Vec::new();
    };
    let (gone, kept): (Vec<Record>, Vec<Record>) = std::mem::take(recs)
        .into_iter()
        .partition(|r| r.key == target.key || is_copy_of(r, &target));
    *recs = kept;
    gone
}

/// What an `erase` request names besides its [`Want`]: the rejected secrets.
#[derive(Clone, Debug, Default)]
pub struct Rejected {
    /// `password`, when git sent it.
    pub password: Option<Secret>,
    /// `credential`, when git sent it.
    pub credential: Option<Secret>,
}

impl Rejected {
    /// The secrets of an erase request.
    pub fn of(req: &Request) -> Rejected {
        Rejected {
            password: req.password.clone(),
            credential: req.credential.clone(),
        }
    }

    fn matches(&self, rec: &Record) -> bool {
        let same = |given: &Option<Secret>, stored: &Option<Secret>| match (given, stored) {
            (None, _) => true,
            (Some(g), Some(s)) => g.ct_eq(s),
            (Some(_), None) => false,
        };
        same(&self.password, &rec.password) && same(&self.credential, &rec.credential)
    }
}

/// `erase` (DESIGN §2): removes every credential the request reaches by get's path rule
/// (every credential that serves the path, host-wide ones included; no path in the request
/// reaches every path), of the named user if any, holding the rejected secret if one is
/// given. A 401 on one path never deletes a token that serves other paths only. Returns
/// whether anything was removed.
pub fn erase(recs: &mut Vec<Record>, want: &Want, rejected: &Rejected) -> bool {
    let before = recs.len();
    recs.retain(|r| {
        let path_ok = match want.path {
            ReqPath::Absent => true,
            _ => want.path_served_by(r.key.path.as_deref()),
        };
        !(path_ok && want.user.reaches(r) && rejected.matches(r))
    });
    recs.len() != before
}

/// Whether `copy` is a more specific copy of `of`'s token: same protocol + host (records of
/// several hosts meet in `import`), same user, a path under `of`'s
/// (any path when `of` is host-wide), the same secret. Git stored such copies per
/// repository before the store rule existed.
fn is_copy_of(copy: &Record, of: &Record) -> bool {
    copy.key.host == of.key.host
        && copy.key.username == of.key.username
        && copy.key.path != of.key.path
        && key::path_serves(of.key.path.as_deref(), copy.key.path.as_deref())
        && copy.same_token(of)
}

/// `add` (DESIGN §5): upserts `new` at its key; when that replaces a different token, every
/// per-repository copy of the old token (see [`is_copy_of`]) gets the new token too, so a
/// rotation reaches every repository. Returns whether anything changed.
pub fn add(recs: &mut Vec<Record>, new: &Record) -> bool {
    let old = recs
        .iter()
        .find(|r| r.key == new.key && !r.same_token(new))
        .cloned();
    let mut changed = upsert(recs, new.clone());
    if let Some(old) = old {
        for r in recs.iter_mut().filter(|r| is_copy_of(r, &old)) {
            *r = Record {
                key: r.key.clone(),
                ..new.clone()
            };
            changed = true;
        }
    }
    changed
}

/// After `new` was written to an earlier store, retires what a later store holds at its key:
/// the stale copy goes, and its token's per-repository copies get `new`'s token (as [`add`]
/// does), so the plain-text file keeps no old token that a later get could reach. Returns
/// whether anything changed.
pub fn retire(recs: &mut Vec<Record>, new: &Record) -> bool {
    let Some(at) = recs.iter().position(|r| r.key == new.key) else {
        return false;
    };
    let old = recs.remove(at);
    if !old.same_token(new) {
        for r in recs.iter_mut().filter(|r| is_copy_of(r, &old)) {
            *r = Record {
                key: r.key.clone(),
                ..new.clone()
            };
        }
    }
    true
}

/// `remove` (DESIGN §5): removes the credentials whose key is exactly `path` (`None`: the
/// host-wide ones) and, if given, `user`, together with every per-repository copy of each
/// one's token. Returns what it removed, copies included.
pub fn remove(recs: &mut Vec<Record>, path: Option<&[u8]>, user: Option<&[u8]>) -> Vec<Record> {
    // The targets by user: one per user at most (a key is unique), so each record is
    // checked against at most one target.
    let targets: HashMap<Option<Vec<u8>>, Record> = recs
        .iter()
        .filter(|r| {
            r.key.path.as_deref() == path
                && user.is_none_or(|u| r.key.username.as_deref() == Some(u))
        })
        .map(|r| (r.key.username.clone(), r.clone()))
        .collect();
    let (gone, kept): (Vec<Record>, Vec<Record>) =
        std::mem::take(recs).into_iter().partition(|r| {
            targets
                .get(&r.key.username)
                .is_some_and(|t| t.key == r.key || is_copy_of(r, t))
        });
    *recs = kept;
    gone
}

/// `prune` (DESIGN §4): removes every expired credential; returns them.
pub fn prune(recs: &mut Vec<Record>, now: u64) -> Vec<Record> {
    let (gone, kept) = std::mem::take(recs)
        .into_iter()
        .partition(|r| r.is_expired(now));
    *recs = kept;
    gone
}

#[cfg(test)]
mod tests;
