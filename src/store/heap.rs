//! A store that keeps credentials on the process heap, gone when the process ends: the
//! backend of unit and model tests (the rules and the backend chain run against it exactly
//! as against the file and the keychain), and a reference for what a backend must do.
//!
//! It counts its writes, so a test can assert that a no-op store or erase wrote nothing,
//! and it can be made unreachable, as a keychain that is out of reach is.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;

use super::{Backend, Error, Store, Update};
use crate::key::HostKey;
use crate::record::Record;

/// Credentials held in memory, grouped by protocol + host.
pub struct HeapStore {
    backend: Backend,
    groups: RefCell<BTreeMap<HostKey, Vec<Record>>>,
    writes: Cell<usize>,
    unreachable: Cell<bool>,
}

impl HeapStore {
    /// An empty store that calls itself `backend` (in `list` and notices).
    pub fn new(backend: Backend) -> HeapStore {
        HeapStore {
            backend,
            groups: RefCell::new(BTreeMap::new()),
            writes: Cell::new(0),
            unreachable: Cell::new(false),
        }
    }

    /// How many updates changed something (each one a write on a real backend).
    pub fn writes(&self) -> usize {
        self.writes.get()
    }

    /// Makes every later call fail as an unreachable keychain does
    /// ([`Error::KeychainUnavailable`]), or succeed again.
    pub fn set_unreachable(&self, unreachable: bool) {
        self.unreachable.set(unreachable);
    }

    fn check(&self) -> Result<(), Error> {
        if self.unreachable.get() {
            return Err(Error::KeychainUnavailable(
                "the test store is unreachable".into(),
            ));
        }
        Ok(())
    }
}

impl Store for HeapStore {
    fn backend(&self) -> Backend {
        self.backend
    }

    fn load_host(&self, host: &HostKey) -> Result<Vec<Record>, Error> {
        self.check()?;
        Ok(self.groups.borrow().get(host).cloned().unwrap_or_default())
    }

    fn update_host(&self, host: &HostKey, update: &mut Update<'_>) -> Result<bool, Error> {
        self.check()?;
        let mut records = self.load_host(host)?;
        if !update(&mut records) {
            return Ok(false);
        }
        debug_assert!(records.iter().all(|r| r.key.host == *host));
        let mut groups = self.groups.borrow_mut();
        if records.is_empty() {
            groups.remove(host);
        } else {
            groups.insert(host.clone(), records);
        }
        self.writes.set(self.writes.get() + 1);
        Ok(true)
    }

    fn load_all(&self) -> Result<Vec<Record>, Error> {
        self.check()?;
        let mut all: Vec<Record> = self.groups.borrow().values().flatten().cloned().collect();
        all.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(all)
    }

    fn update_all(&self, update: &mut Update<'_>) -> Result<bool, Error> {
        let mut records = self.load_all()?;
        if !update(&mut records) {
            return Ok(false);
        }
        let mut groups = BTreeMap::new();
        for r in records {
            groups
                .entry(r.key.host.clone())
                .or_insert_with(Vec::new)
                .push(r);
        }
        *self.groups.borrow_mut() = groups;
        self.writes.set(self.writes.get() + 1);
        Ok(true)
    }

    fn exists(&self) -> bool {
        !self.groups.borrow().is_empty() || self.writes.get() > 0
    }
}

/// A shared handle, so a test can hand the store to a chain and still look inside it.
impl Store for std::rc::Rc<HeapStore> {
    fn backend(&self) -> Backend {
        self.as_ref().backend()
    }

    fn load_host(&self, host: &HostKey) -> Result<Vec<Record>, Error> {
        self.as_ref().load_host(host)
    }

    fn update_host(&self, host: &HostKey, update: &mut Update<'_>) -> Result<bool, Error> {
        self.as_ref().update_host(host, update)
    }

    fn load_all(&self) -> Result<Vec<Record>, Error> {
        self.as_ref().load_all()
    }

    fn update_all(&self, update: &mut Update<'_>) -> Result<bool, Error> {
        self.as_ref().update_all(update)
    }

    fn exists(&self) -> bool {
        self.as_ref().exists()
    }
}
