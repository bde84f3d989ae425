//! The people's actions on stored credentials, `add`, `remove`, `prune`, `import` and
//! `list`: the [`crate::rules`] run over the backend [`Chain`]. No parsing and no printing:
//! the people's commands parse their arguments, call one of these, and print what it
//! returns.

use crate::chain::{Chain, Scope};
use crate::key::HostKey;
use crate::record::Record;
use crate::rules;
use crate::store::{Backend, Error};

/// A credential and the backend that holds (or held) it.
pub type Placed = (Record, Backend);

/// `add`: stores `new` in the primary store, replacing the token at its key and the
/// per-repository copies of that token ([`rules::add`]); a later store's stale copy is
/// retired. Returns the backend it went to, `None` when no store could be reached.
pub fn add(chain: &mut Chain, new: &Record) -> Result<Option<Backend>, Error> {
    let scope = Scope::Host(&new.key.host);
    let loaded = chain.load(scope)?;
    let primary = chain.write_primary(
        scope,
        &loaded,
        &mut |recs| rules::add(recs, new),
        &mut |recs| rules::retire(recs, new),
    )?;
    Ok(primary.map(|i| chain.backend(i)))
}

/// `remove`: from every store, the credentials stored exactly at `path` (`None`: the
/// host-wide ones) of `user` (`None`: every user's) on `host`, with their per-repository
/// copies ([`rules::remove`]). Returns what was removed, and from where.
pub fn remove(
    chain: &mut Chain,
    host: &HostKey,
    path: Option<&[u8]>,
    user: Option<&[u8]>,
) -> Result<Vec<Placed>, Error> {
    let mut removed: Vec<Placed> = Vec::new();
    chain.apply_each(Scope::Host(host), &mut |backend, recs| {
        // Called once to plan and once under the lock: report the last call.
        removed.retain(|(_, b)| *b != backend);
        let gone = rules::remove(recs, path, user);
        let any = !gone.is_empty();
        removed.extend(gone.into_iter().map(|r| (r, backend)));
        any
    })?;
    Ok(removed)
}

/// `prune`: every credential expired at `now` (Unix seconds), from every store. Returns what
/// was removed, and from where.
pub fn prune(chain: &mut Chain, now: u64) -> Result<Vec<Placed>, Error> {
    let mut removed: Vec<Placed> = Vec::new();
    chain.apply_each(Scope::All, &mut |backend, recs| {
        removed.retain(|(_, b)| *b != backend);
        let gone = rules::prune(recs, now);
        let any = !gone.is_empty();
        removed.extend(gone.into_iter().map(|r| (r, backend)));
        any
    })?;
    Ok(removed)
}

/// `import`: upserts `records` into the primary store ([`rules::upsert_all`]), retiring
/// later stores' stale copies as `add` does. Returns the backend they went to and what
/// changed, `None` when no store could be reached.
pub fn import(
    chain: &mut Chain,
    records: &[Record],
) -> Result<Option<(Backend, rules::Upserted)>, Error> {
    let loaded = chain.load(Scope::All)?;
    let mut done = rules::Upserted::default();
    let primary = chain.write_primary(
        Scope::All,
        &loaded,
        &mut |recs| {
            // Called once to plan and once under the lock: report the last call.
            done = rules::upsert_all(recs, records);
            done.changed()
        },
        &mut |recs| rules::retire_all(recs, records),
    )?;
    Ok(primary.map(|i| (chain.backend(i), done)))
}

/// `list`: every credential of every reachable store, sorted by protocol, host, path and
/// username, with its backend.
pub fn list(chain: &mut Chain) -> Result<Vec<Placed>, Error> {
    let mut rows: Vec<Placed> = Vec::new();
    for l in chain.load(Scope::All)? {
        let backend = chain.backend(l.index);
        rows.extend(l.records.into_iter().map(|r| (r, backend)));
    }
    rows.sort_by(|a, b| a.0.key.cmp(&b.0.key));
    Ok(rows)
}

/// What git would be answered for one request, without evicting anything: `doctor URL`.
#[derive(Debug, Default)]
pub struct Which {
    /// The credential get would serve, and its backend.
    pub chosen: Option<Placed>,
    /// Every live credential that serves the request (any user), in chain order.
    pub candidates: Vec<Placed>,
}

/// The credential `get` would answer `req` with at `now` (Unix seconds), and the others that
/// serve it: the same selection as git's get ([`rules::select`]), store by store in the
/// chain's order, but read-only.
pub fn which(chain: &mut Chain, req: &crate::protocol::Request, now: u64) -> Result<Which, Error> {
    let mut out = Which::default();
    let Some(host) = rules::host_of(req) else {
        return Ok(out);
    };
    let want = rules::Want::of_lookup(req);
    let any_user = rules::Want {
        user: rules::User::Any,
        ..want.clone()
    };
    for l in chain.load(Scope::Host(&host))? {
        let backend = chain.backend(l.index);
        if out.chosen.is_none()
            && let Some(best) = rules::select(&l.records, &want, now).best
        {
            out.chosen = Some((l.records[best].clone(), backend));
        }
        for (i, r) in l.records.iter().enumerate() {
            let one = std::slice::from_ref(r);
            if rules::select(one, &any_user, now).best.is_some() {
                out.candidates.push((l.records[i].clone(), backend));
            }
        }
    }
    Ok(out)
}

/// `verify`: records what the forge said about `rec`'s token (its expiry when it told one)
/// on the credential at `rec`'s key in `backend`'s store, if that still holds the same token
/// ([`rules::confirm`]). Returns whether anything was written.
pub fn confirm(
    chain: &mut Chain,
    rec: &Record,
    backend: Backend,
    expires: Option<u64>,
    learned: &crate::record::Learned,
) -> Result<bool, Error> {
    on_backend(chain, rec, backend, &mut |recs| {
        rules::confirm(recs, rec, expires, learned)
    })
}

/// `verify --remove-rejected`, `rotate`: removes `rec`'s token, and its per-repository
/// copies, from `backend`'s store, if the credential at its key still holds it
/// ([`rules::forget_token`]). Returns whether anything was removed.
pub fn forget(chain: &mut Chain, rec: &Record, backend: Backend) -> Result<bool, Error> {
    on_backend(chain, rec, backend, &mut |recs| {
        !rules::forget_token(recs, rec).is_empty()
    })
}

/// Applies `change` to `rec`'s host in the store of `backend`, if it is reachable.
fn on_backend(
    chain: &mut Chain,
    rec: &Record,
    backend: Backend,
    change: &mut dyn FnMut(&mut Vec<Record>) -> bool,
) -> Result<bool, Error> {
    let scope = Scope::Host(&rec.key.host);
    let Some(index) = (0..chain.len()).find(|&i| chain.backend(i) == backend) else {
        return Ok(false);
    };
    match chain.load_one(index, scope)? {
        Some(records) => chain.apply(index, scope, &records, change),
        None => Ok(false),
    }
}
