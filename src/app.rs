//! Git's actions, `get`, `store` and `erase`: the [`crate::rules`] run over the backend
//! [`Chain`], with what they say on stderr (evictions, warnings, fallbacks).

use std::io::Write;

use crate::chain::{Chain, Scope};
use crate::display::{escape, shell_quote};
use crate::error::{Error, Result};
use crate::key::{HostKey, Key};
use crate::protocol::{Request, Response};
use crate::record::{Learned, Record, Stamp};
use crate::rules::{self, Lapse, Rejected, Want};
use crate::state::StateKey;
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
    /// The key of the `state[]` proofs (git ≥ 2.46), if there is a data dir.
    pub state_key: Option<StateKey>,
    /// Standard error: evictions, warnings, fallbacks.
    pub notices: &'a mut dyn Write,
}

impl Ctx<'_> {
    fn notice(&mut self, msg: &str) {
        // Best effort: a closed stderr must not turn a good answer into a failure.
        let _ = writeln!(self.notices, "git-credential-pat: {msg}");
    }

    /// Shows the chain's notes that git's actions show (not the quiet pass-overs).
    fn flush(&mut self, chain: &mut Chain) {
        for note in chain.take_notes() {
            if note.shown_to_git() {
                self.notice(&note.to_string());
            }
        }
    }
}

fn host_key(req: &Request, action: &'static str, done: &'static str) -> Result<HostKey> {
    rules::host_of(req).ok_or(Error::FieldMissing {
        action,
        field: if req.protocol.is_none() {
            "protocol"
        } else {
            "host"
        },
        done,
    })
}

/// `get`: the best matching live credential of the first store that has one, or an empty
/// answer. Expired credentials it meets are evicted on the way.
pub fn get(chain: &mut Chain, req: &Request, ctx: &mut Ctx<'_>) -> Result<Response> {
    let host = host_key(req, "get", "answered")?;
    let want = Want::of_lookup(req);
    let now = ctx.now.secs;
    for index in 0..chain.len() {
        // Only the credentials this request reaches are decoded (their secrets included).
        let keep = |key: &Key| want.may_serve(key);
        let Some(records) = chain.load_one_where(index, &host, &keep)? else {
            continue;
        };
        let sel = rules::select(&records, &want, now);
        for &(i, lapse) in &sel.evict {
            evict(chain, index, &host, &records, &records[i], lapse, ctx);
        }
        if let Some(best) = sel.best {
            let rec = &records[best];
            let mut answer = rules::answer(rec, want.authtype_capable, now)?;
            // A proof of what was served lets git's store-after-use skip the backend.
            if req.has_state_capability()
                && !chain.backend(index).ttl_restarts_on_use()
                && let Some(state) = ctx
                    .state_key
                    .as_ref()
                    .and_then(|k| k.seal(req, rec, want.authtype_capable, now))
            {
                answer.push("capability[]", b"state")?;
                answer.push("state[]", &state)?;
            }
            maybe_warn(rec, ctx);
            ctx.flush(chain);
            return Ok(answer);
        }
    }
    ctx.flush(chain);
    Ok(Response::new())
}

/// Removes an expired credential from the store at `index` (only if it is still the same
/// token); a token whose own expiry passed is reported, a TTL lapse is silent.
fn evict(
    chain: &mut Chain,
    index: usize,
    host: &HostKey,
    loaded: &[Record],
    expired: &Record,
    lapse: Lapse,
    ctx: &mut Ctx<'_>,
) {
    let now = ctx.now.secs;
    let result = chain.apply(index, Scope::Host(host), loaded, &mut |recs| {
        rules::evict(recs, expired, now)
    });
    if lapse == Lapse::Ttl {
        return;
    }
    let what = expired.key.display();
    let when = format_datetime(expired.expires.unwrap_or(now));
    let backend = chain.backend(index).name();
    match result {
        Ok(_) => ctx.notice(&format!(
            "the token for {what} expired on {when} and was removed from the {backend} store; git will ask for a new one"
        )),
        Err(e) => ctx.notice(&format!(
            "the token for {what} expired on {when}; it was not handed out, but removing it failed: {e}"
        )),
    }
}

fn maybe_warn(rec: &Record, ctx: &mut Ctx<'_>) {
    let now = ctx.now.secs;
    if !rules::should_warn(rec, ctx.warn, now) {
        return;
    }
    let Some(expires) = rec.expires else { return };
    if let Some(state) = &ctx.warn_state
        && !state.should_warn(&rec.key, rec.stored, now)
    {
        return;
    }
    ctx.notice(&format!(
        "warning: the token for {} expires on {} ({}); create a new one and store it with: {}",
        rec.key.display(),
        format_datetime(expires),
        describe_remaining(expires, now),
        add_command(&rec.key),
    ));
}

/// `git credential-pat add URL [--username=USER]` for `key`, as shown to people: each variable
/// word escaped, then shell-quoted.
pub fn add_command(key: &Key) -> String {
    let url = Key {
        username: None,
        ..key.clone()
    }
    .display();
    let mut command = format!("git credential-pat add {}", shell_quote(&url));
    if let Some(u) = &key.username {
        command.push(' ');
        command.push_str(&shell_quote(&format!("--username={}", escape(u))));
    }
    command
}

/// `store`: a store changes only what would change an answer (see [`rules::store`]). When
/// the store that get would answer from already serves this very secret, only that
/// credential's expiry and refresh token may change there; otherwise the new token goes to
/// the primary store and later stores' stale copies are retired. Nothing to change: no
/// lock, no file.
pub fn store(chain: &mut Chain, req: &Request, ctx: &mut Ctx<'_>) -> Result<()> {
    store_then_learn(chain, req, ctx, &mut LearnNothing)
}

/// What a store finds out about a token no store held before, from outside (its forge).
pub trait Learn {
    /// The token is new and about to be written: start what can run beside the write (a
    /// `git config` lookup). Nothing, by default.
    fn begin(&mut self, _new: &Record) {}
    /// Its expiry (Unix seconds), if told, and what else was said; `None`: nothing learned.
    fn learn(&mut self, new: &Record) -> Option<(Option<u64>, Learned)>;
}

/// Learns nothing: [`store`].
struct LearnNothing;

impl Learn for LearnNothing {
    fn learn(&mut self, _new: &Record) -> Option<(Option<u64>, Learned)> {
        None
    }
}

/// [`store`], then, for a token no store held before ([`rules::unseen`]), what `learn` finds
/// out about it from its forge (DESIGN §8), recorded on that credential only if it still
/// holds the same token. The token is stored first: nothing learned, or learned late, can
/// lose it, and a forge that does not answer costs only the time `learn` allows itself.
pub fn store_then_learn(
    chain: &mut Chain,
    req: &Request,
    ctx: &mut Ctx<'_>,
    learn: &mut dyn Learn,
) -> Result<()> {
    let host = host_key(req, "store", "stored")?;
    let Some(new) = rules::incoming(req, ctx.now, ctx.ttl) else {
        return Ok(());
    };
    // The memory backend re-arms the TTL on each successful use (it stands alone in its
    // chain). Otherwise a store carrying the proof of exactly what our get answered for this
    // request changes nothing (the memory backend's get gives no state).
    let restarts = (0..chain.len()).any(|i| chain.backend(i).ttl_restarts_on_use());
    if !restarts && ctx.state_key.as_ref().is_some_and(|k| k.proves(req)) {
        return Ok(());
    }
    let want = Want::of_store(req);
    let now = ctx.now.secs;
    let loaded = chain.load(Scope::Host(&host))?;
    let unseen = loaded.iter().all(|l| rules::unseen(&l.records, &new));
    let mut change = |recs: &mut Vec<Record>| {
        let stored = rules::store(recs, &new, &want, now);
        let restarted = restarts && rules::restart_ttl(recs, &new, &want, now);
        stored || restarted
    };
    let serving = loaded.iter().find_map(|l| {
        let best = rules::select(&l.records, &want, now).best?;
        Some((l, l.records[best].same_token(&new)))
    });
    if let Some((l, true)) = serving {
        chain.apply(l.index, Scope::Host(&host), &l.records, &mut change)?;
    } else {
        let mut retire = |recs: &mut Vec<Record>| rules::retire(recs, &new);
        if unseen {
            learn.begin(&new);
        }
        let primary = chain.write_primary(Scope::Host(&host), &loaded, &mut change, &mut retire)?;
        if let (true, Some(index)) = (unseen, primary) {
            ctx.flush(chain);
            if let Some((expires, learned)) = learn.learn(&new) {
                // Best effort: the token is stored; what its forge said is only an extra.
                if let Ok(Some(records)) = chain.load_one(index, Scope::Host(&host)) {
                    let _ = chain.apply(index, Scope::Host(&host), &records, &mut |recs| {
                        rules::confirm(recs, &new, expires, &learned)
                    });
                }
            }
        }
    }
    ctx.flush(chain);
    Ok(())
}

/// `erase`: removes what the request reaches (see [`rules::erase`]) from every store;
/// nothing reached: no lock, no file.
pub fn erase(chain: &mut Chain, req: &Request, ctx: &mut Ctx<'_>) -> Result<()> {
    let host = host_key(req, "erase", "erased")?;
    let want = Want::of_lookup(req);
    let rejected = Rejected::of(req);
    chain.apply_each(Scope::Host(&host), &mut |_, recs| {
        rules::erase(recs, &want, &rejected)
    })?;
    ctx.flush(chain);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::add_command;
    use crate::key::Key;

    #[test]
    fn the_add_command_escapes_then_quotes_each_word() {
        let plain = Key::new(b"https", b"h.example", Some(b"acme"), Some(b"u"));
        assert_eq!(
            add_command(&plain),
            "git credential-pat add https://h.example/acme --username=u"
        );
        let hostile = Key::new(b"https", b"e\x1b.example", Some(b"a b"), Some(b"$(id)'"));
        assert_eq!(
            add_command(&hostile),
            r"git credential-pat add 'https://e\x1B.example/a b' '--username=$(id)'\'''"
        );
        let no_user = Key::new(b"https", b"h", None, None);
        assert_eq!(add_command(&no_user), "git credential-pat add https://h");
    }
}
