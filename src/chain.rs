//! The backend chain: which backends a command acts on, in what order, and what happens
//! between them (DESIGN §3). Every command, git's and people's, goes through here; this is
//! the only place that knows that `auto` means "the keychain, then the file".
//!
//! - Stores are consulted in order; the first one reachable is where new credentials go
//!   (the *primary*).
//! - Under `auto` a store that cannot be reached (an absent, locked or hung keychain) is
//!   passed over; the command goes on with the next, and a [`Note`] says so.
//! - A write that lands in a later store because an earlier one was out of reach, and
//!   creates it, is a [`Note::FellBack`]; later stores' stale copies of what the primary
//!   now holds are retired.
//! - Every write is planned first on the records as loaded, without a lock: one that would
//!   change nothing takes no lock and creates nothing, so it succeeds on a read-only or
//!   absent store. The change is then recomputed under the backend's lock on the records as
//!   they are at that moment.
//!
//! `--backend=memory` is a chain of the kernel keyring alone: `auto` never picks it.

use crate::config::{BackendChoice, Config};
use crate::key::HostKey;
use crate::record::Record;
use crate::store::file::FileStore;
use crate::store::keychain::KeychainStore;
use crate::store::memory::MemoryStore;
use crate::store::{self, Backend, Store};

/// What a load or update covers: one protocol + host (git's actions, `add`, `remove`), or
/// every credential (`list`, `prune`, `import`).
#[derive(Clone, Copy, Debug)]
pub enum Scope<'a> {
    /// The credentials of one protocol + host.
    Host(&'a HostKey),
    /// Every stored credential.
    All,
}

/// Something the chain did that a person may need to know; git's actions show only
/// [`Note::FellBack`] and [`Note::StaleCopyLeft`], the people's commands show all.
#[derive(Debug)]
pub enum Note {
    /// A store that could not be reached was passed over.
    PassedOver {
        /// Which one.
        backend: Backend,
        /// Why (no secret in it).
        error: store::Error,
    },
    /// A write went to a later store, which it created, because an earlier one was out of
    /// reach.
    FellBack {
        /// The later store's backend.
        backend: Backend,
        /// Where it is (the file's path, escaped), if it has a place.
        place: Option<String>,
    },
    /// A stale copy in a later store could not be retired after a write.
    StaleCopyLeft {
        /// The credential, as a URL (escaped).
        what: String,
        /// Which store still holds the copy.
        backend: Backend,
        /// Why.
        error: store::Error,
    },
}

impl Note {
    /// Whether git's own actions show it (they pass over an unreachable keychain quietly).
    pub fn shown_to_git(&self) -> bool {
        !matches!(self, Note::PassedOver { .. })
    }
}

impl std::fmt::Display for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // One short line: the whole error chain is for `doctor`.
            Note::PassedOver { backend, .. } => write!(
                f,
                "note: the {} is not reachable, so this used the file (to stop trying it, add --backend=file to pat's entry in git config --global --get-all credential.helper; git credential-pat doctor says why)",
                backend.name()
            ),
            Note::FellBack { backend, place } => write!(
                f,
                "the keychain is not reachable, so the token was stored in the {} {} (run 'git credential-pat doctor' to see why)",
                backend.name(),
                place.as_deref().unwrap_or("store")
            ),
            Note::StaleCopyLeft {
                what,
                backend,
                error,
            } => write!(
                f,
                "stored, but the old copy of {what} could not be removed from the {}: {error}",
                backend.name()
            ),
        }
    }
}

/// The records one store holds for a scope, as loaded (no lock taken).
pub struct Loaded {
    /// The store's position in the chain.
    pub index: usize,
    /// Its records.
    pub records: Vec<Record>,
}

/// The ordered backends of one run.
pub struct Chain {
    stores: Vec<Box<dyn Store>>,
    fall_back: bool,
    notes: Vec<Note>,
}

/// A change to a store's records; returns whether it changed anything.
pub type Change<'a> = dyn FnMut(&mut Vec<Record>) -> bool + 'a;

impl Chain {
    /// The backends `config` selects, in the order get consults them. Nothing is opened or
    /// connected until the first operation.
    pub fn open(config: &Config) -> Chain {
        let file = || Box::new(FileStore::new(config.file.clone())) as Box<dyn Store>;
        let keychain = || Box::new(keychain_store(config)) as Box<dyn Store>;
        match config.backend {
            BackendChoice::File => Chain::new(vec![file()], false),
            BackendChoice::Keychain => Chain::new(vec![keychain()], false),
            BackendChoice::Memory => {
                let memory = MemoryStore::new(lock_path(config, "memory.lock"));
                Chain::new(vec![Box::new(memory)], false)
            }
            // A bus found without a Secret Service a moment ago is not asked again.
            BackendChoice::Auto => {
                let keychain = keychain_store(config).trusting_recent_absence();
                Chain::new(vec![Box::new(keychain), file()], true)
            }
        }
    }

    /// A chain of `stores` in order; with `fall_back`, unreachable stores are passed over.
    pub fn new(stores: Vec<Box<dyn Store>>, fall_back: bool) -> Chain {
        Chain {
            stores,
            fall_back,
            notes: Vec::new(),
        }
    }

    /// The stores, in order (for `doctor`, which inspects each).
    pub fn stores(&self) -> impl Iterator<Item = &dyn Store> {
        self.stores.iter().map(|s| s.as_ref())
    }

    /// Drops the keychain when no session bus is configured and it is not the only store
    /// (under `auto`): there is no keychain to speak of, and the people's commands then read
    /// the file alone, quietly. Returns whether it dropped one.
    pub fn drop_unconfigured_keychain(&mut self, config: &Config) -> bool {
        if !self.fall_back || keychain_store(config).is_configured() {
            return false;
        }
        let before = self.stores.len();
        self.stores.retain(|s| s.backend() != Backend::Keychain);
        self.stores.len() != before
    }

    /// The notes gathered so far, in order; the chain forgets them.
    pub fn take_notes(&mut self) -> Vec<Note> {
        std::mem::take(&mut self.notes)
    }

    /// The backends passed over so far (out of reach under `auto`), in order.
    pub fn passed_over(&self) -> impl Iterator<Item = Backend> + '_ {
        self.notes.iter().filter_map(|n| match n {
            Note::PassedOver { backend, .. } => Some(*backend),
            _ => None,
        })
    }

    /// The backend of the store at `index`.
    pub fn backend(&self, index: usize) -> Backend {
        self.stores[index].backend()
    }

    /// Whether `e` from a store lets the command go on with the next one; if so, notes it.
    fn passes_over(&mut self, index: usize, e: store::Error) -> Result<(), store::Error> {
        if self.fall_back && e.is_unreachable() {
            let backend = self.stores[index].backend();
            self.notes.push(Note::PassedOver { backend, error: e });
            Ok(())
        } else {
            Err(e)
        }
    }

    /// How many stores the chain has.
    pub fn len(&self) -> usize {
        self.stores.len()
    }

    /// Whether the chain has no store at all.
    pub fn is_empty(&self) -> bool {
        self.stores.is_empty()
    }

    /// Loads `scope` from the store at `index` without a lock; `None` when it was passed
    /// over (out of reach under `auto`).
    pub fn load_one(
        &mut self,
        index: usize,
        scope: Scope<'_>,
    ) -> Result<Option<Vec<Record>>, store::Error> {
        let store = &self.stores[index];
        let result = match scope {
            Scope::Host(h) => store.load_host(h),
            Scope::All => store.load_all(),
        };
        self.reached(index, result)
    }

    /// What a load from the store at `index` gave: its records, or `None` when it was passed
    /// over (see [`Chain::passes_over`]).
    fn reached(
        &mut self,
        index: usize,
        result: Result<Vec<Record>, store::Error>,
    ) -> Result<Option<Vec<Record>>, store::Error> {
        match result {
            Ok(records) => Ok(Some(records)),
            Err(e) => self.passes_over(index, e).map(|()| None),
        }
    }

    /// Loads `host`'s credentials whose key `keep` accepts from the store at `index`
    /// ([`Store::load_host_where`]); `None` when it was passed over.
    pub fn load_one_where(
        &mut self,
        index: usize,
        host: &HostKey,
        keep: &dyn Fn(&crate::key::Key) -> bool,
    ) -> Result<Option<Vec<Record>>, store::Error> {
        let result = self.stores[index].load_host_where(host, keep);
        self.reached(index, result)
    }

    /// Loads `scope` from every reachable store, in order, without a lock.
    pub fn load(&mut self, scope: Scope<'_>) -> Result<Vec<Loaded>, store::Error> {
        let mut out = Vec::with_capacity(self.stores.len());
        for index in 0..self.stores.len() {
            if let Some(records) = self.load_one(index, scope)? {
                out.push(Loaded { index, records });
            }
        }
        Ok(out)
    }

    /// Applies `change` to the store at `index` under its lock, if it changes `planned` (the
    /// records as loaded): a change that changes nothing takes no lock and creates nothing.
    /// Returns whether anything was written.
    pub fn apply(
        &mut self,
        index: usize,
        scope: Scope<'_>,
        planned: &[Record],
        change: &mut Change<'_>,
    ) -> Result<bool, store::Error> {
        if !change(&mut planned.to_vec()) {
            return Ok(false);
        }
        let store = &self.stores[index];
        match scope {
            Scope::Host(h) => store.update_host(h, change),
            Scope::All => store.update_all(change),
        }
    }

    /// Applies `change` to every reachable store that it changes (erase, `remove`, `prune`).
    /// `change` learns which backend it is working on. Returns whether anything was written.
    pub fn apply_each(
        &mut self,
        scope: Scope<'_>,
        change: &mut dyn FnMut(Backend, &mut Vec<Record>) -> bool,
    ) -> Result<bool, store::Error> {
        let mut written = false;
        for loaded in self.load(scope)? {
            let backend = self.backend(loaded.index);
            let result = self.apply(loaded.index, scope, &loaded.records, &mut |recs| {
                change(backend, recs)
            });
            match result {
                Ok(w) => written |= w,
                Err(e) => self.passes_over(loaded.index, e)?,
            }
        }
        Ok(written)
    }

    /// Writes a new token into the primary store (the first of `loaded` that takes the
    /// write) with `change`, then retires the stale copies that later stores hold with
    /// `retire` (see [`crate::rules::retire`]). Says so when the write fell back to a store
    /// it created. Returns the primary's position, or `None` when no store was reachable.
    pub fn write_primary(
        &mut self,
        scope: Scope<'_>,
        loaded: &[Loaded],
        change: &mut Change<'_>,
        retire: &mut Change<'_>,
    ) -> Result<Option<usize>, store::Error> {
        for (k, primary) in loaded.iter().enumerate() {
            let existed = self.stores[primary.index].exists();
            match self.apply(primary.index, scope, &primary.records, change) {
                Ok(written) => {
                    if written && primary.index > 0 && !existed {
                        let store = &self.stores[primary.index];
                        self.notes.push(Note::FellBack {
                            backend: store.backend(),
                            place: store.location(),
                        });
                    }
                    self.retire_later(scope, &loaded[k + 1..], retire);
                    return Ok(Some(primary.index));
                }
                Err(e) => self.passes_over(primary.index, e)?,
            }
        }
        Ok(None)
    }

    fn retire_later(&mut self, scope: Scope<'_>, later: &[Loaded], retire: &mut Change<'_>) {
        for l in later {
            if let Err(error) = self.apply(l.index, scope, &l.records, retire) {
                let backend = self.backend(l.index);
                self.notes.push(Note::StaleCopyLeft {
                    what: match scope {
                        Scope::Host(h) => h.origin(),
                        Scope::All => "the imported credentials".into(),
                    },
                    backend,
                    error,
                });
            }
        }
    }
}

/// The keychain store, not connected yet; its writers lock `<data dir>/keychain.lock`.
pub fn keychain_store(config: &Config) -> KeychainStore {
    KeychainStore::new(lock_path(config, "keychain.lock"))
}

/// Where the writers of a backend that is not a file lock: `name` in the data dir (else
/// beside the credentials file).
fn lock_path(config: &Config, name: &str) -> std::path::PathBuf {
    let dir = config
        .data_dir
        .clone()
        .or_else(|| config.file.parent().map(Into::into));
    dir.unwrap_or_default().join(name)
}

#[cfg(test)]
mod tests;
