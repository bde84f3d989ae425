//! The OS keychain backend: one keychain entry per credential, through the `keyring` crates.
//!
//! - An entry is service `git-credential-pat`, account = the credential's key as
//!   [`format::encode_key`] writes it (`https://github.com /acme @octocat`), secret = its v1
//!   line ([`format::encode`] without the LF), so token, refresh token, authtype and expiry
//!   survive a round trip. On the Secret Service an entry also carries the attributes
//!   `application`, `protocol` and `host` and a label such as
//!   `git-credential-pat: https://octocat@github.com/acme`, so seahorse and `secret-tool search`
//!   show what it is, and one attribute search finds a host's credentials.
//! - zbus has no timeouts: a hung bus or a stopped daemon would hang git forever. Every
//!   keychain call runs on a worker thread and is waited for at most [`CALL_TIMEOUT`]
//!   (connecting: [`CONNECT_TIMEOUT`]); out of reach, locked or hung is
//!   [`Error::KeychainUnavailable`], and nothing is deleted.
//! - Writers serialise on `<data dir>/keychain.lock` (bounded wait, as the file backend does)
//!   and write only the difference. Each entry changes atomically; a group of them does not.
//! - Nothing here runs before the first operation: with `--backend=file` the keychain is
//!   never touched.

mod bounded;
mod entries;
mod platform;

use std::collections::HashMap;
use std::fs::File;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use super::format;
use super::{Backend, Error, Store, Update, writers_lock};
use crate::key::{HostKey, Key};
use crate::record::Record;
use entries::{Loaded, delete, describe, read, write};

pub use entries::corrupt_message;
pub use platform::SERVICE;

/// How long connecting to the keychain may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long any other keychain call may take.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// The OS keychain: Secret Service on Linux and BSD, Keychain on macOS, Credential Manager
/// on Windows.
pub struct KeychainStore {
    lock_path: PathBuf,
    connected: OnceLock<()>,
    /// Set when a call timed out: its thread may still hold the connection, so every later
    /// call fails at once instead of queueing behind it.
    hung: AtomicBool,
}

impl KeychainStore {
    /// A keychain store whose writers serialise on `lock_path`. Connects to nothing and
    /// touches no file: that waits for the first operation.
    pub fn new(lock_path: PathBuf) -> KeychainStore {
        KeychainStore {
            lock_path,
            connected: OnceLock::new(),
            hung: AtomicBool::new(false),
        }
    }

    /// Whether a keychain can be reached at all, decided without waiting: on Linux and BSD,
    /// whether a session bus is configured (`DBUS_SESSION_BUS_ADDRESS`, or a socket at
    /// `$XDG_RUNTIME_DIR/bus`, as zbus looks for it); elsewhere always.
    pub fn is_configured(&self) -> bool {
        platform::session_bus_problem(&|name| std::env::var_os(name)).is_none()
    }

    /// Connects to the keychain, waiting at most [`CONNECT_TIMEOUT`]; every operation does
    /// this first. Fails at once when [`KeychainStore::is_configured`] is false. Any failure
    /// is [`Error::KeychainUnavailable`].
    pub fn connect(&self) -> Result<(), Error> {
        if self.connected.get().is_some() {
            return Ok(());
        }
        if let Some(problem) = platform::session_bus_problem(&|name| std::env::var_os(name)) {
            return Err(Error::KeychainUnavailable(problem));
        }
        // `keyring` picks the platform store and connects (once per process) on this call.
        self.bounded("connecting", CONNECT_TIMEOUT, || {
            keyring::Entry::store_status()
                .as_ref()
                .map_err(|e| match describe("connecting", e) {
                    Error::KeychainFailed(m) => Error::KeychainUnavailable(m),
                    other => other,
                })
                .copied()
        })??;
        let _ = self.connected.set(());
        Ok(())
    }

    /// Every entry of ours, or only `host`'s.
    fn load(&self, host: Option<&HostKey>) -> Result<Vec<Loaded>, Error> {
        self.connect()?;
        let spec = platform::search_spec(host);
        let prefix = host.map(format::group_prefix);
        self.bounded("reading", CALL_TIMEOUT, move || {
            read(&spec, prefix.as_deref())
        })?
    }

    /// Loads under the writers' lock, lets `update` change the records, writes the
    /// difference.
    fn update(&self, host: Option<&HostKey>, update: &mut Update<'_>) -> Result<bool, Error> {
        self.connect()?;
        let _lock = self.lock()?;
        let old = self.load(host)?;
        let mut records: Vec<Record> = old.iter().map(|l| l.record.clone()).collect();
        if !update(&mut records) {
            return Ok(false);
        }
        debug_assert!(host.is_none_or(|h| records.iter().all(|r| r.key.host == *h)));
        self.apply(old, records)
    }

    fn lock(&self) -> Result<File, Error> {
        writers_lock(&self.lock_path)
    }

    /// Writes the credentials of `new` that are new or changed, then removes those of `old`
    /// whose key is gone. Returns whether anything changed.
    fn apply(&self, old: Vec<Loaded>, new: Vec<Record>) -> Result<bool, Error> {
        let mut old: HashMap<Key, Loaded> =
            old.into_iter().map(|l| (l.record.key.clone(), l)).collect();
        let mut changed = false;
        for rec in new {
            let existing = old.remove(&rec.key);
            if let Some(l) = &existing
                && format::encode(&l.record)[..] == format::encode(&rec)[..]
            {
                continue;
            }
            let entry = existing.map(|l| l.entry);
            self.bounded("writing", CALL_TIMEOUT, move || write(entry, &rec))??;
            changed = true;
        }
        for gone in old.into_values() {
            let entry = gone.entry;
            self.bounded("deleting", CALL_TIMEOUT, move || delete(entry))??;
            changed = true;
        }
        Ok(changed)
    }
}

impl Store for KeychainStore {
    fn backend(&self) -> Backend {
        Backend::Keychain
    }

    fn load_host(&self, host: &HostKey) -> Result<Vec<Record>, Error> {
        Ok(self
            .load(Some(host))?
            .into_iter()
            .map(|l| l.record)
            .collect())
    }

    fn update_host(&self, host: &HostKey, update: &mut Update<'_>) -> Result<bool, Error> {
        self.update(Some(host), update)
    }

    fn load_all(&self) -> Result<Vec<Record>, Error> {
        let mut records: Vec<Record> = self.load(None)?.into_iter().map(|l| l.record).collect();
        records.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(records)
    }

    fn update_all(&self, update: &mut Update<'_>) -> Result<bool, Error> {
        self.update(None, update)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_that_is_never_used_touches_nothing() {
        let lock = std::env::temp_dir()
            .join(format!("pat-kc-unused-{}", std::process::id()))
            .join("keychain.lock");
        let store = KeychainStore::new(lock.clone());
        assert_eq!(store.backend(), Backend::Keychain);
        drop(store);
        assert!(!lock.parent().unwrap().exists());
    }
}
