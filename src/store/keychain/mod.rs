//! The OS keychain backend: one keychain entry per credential.
//!
//! - An entry is service `git-credential-pat`, account = the credential's key as
//!   [`format::encode_key`] writes it (`https://github.com /acme @octocat`), secret = its v1
//!   line ([`format::encode`] without the LF), so token, refresh token, authtype and expiry
//!   survive a round trip. On the Secret Service an entry also carries the attributes
//!   `application`, `protocol` and `host` and a label such as
//!   `git-credential-pat: https://octocat@github.com/acme`, so seahorse and `secret-tool search`
//!   show what it is, and one attribute search finds a host's credentials.
//! - The Secret Service (Linux and the BSDs) is spoken to directly over D-Bus, in the fewest
//!   round trips ([`secret_service`]); macOS Keychain and Windows Credential Manager go through
//!   the `keyring` crates.
//! - zbus has no timeouts: a hung bus or a stopped daemon would hang git forever. Every
//!   keychain call runs on a worker thread and is waited for at most [`CALL_TIMEOUT`]
//!   (connecting: [`CONNECT_TIMEOUT`]); out of reach, locked or hung is
//!   [`Error::KeychainUnavailable`], and nothing is deleted.
//! - Under `auto`, a bus found without a Secret Service is remembered for a minute
//!   ([`secret_service::memo`]), so the file answers at once meanwhile.
//! - Writers serialise on `<data dir>/keychain.lock` (bounded wait, as the file backend does)
//!   and write only the difference. Each entry changes atomically; a group of them does not.
//! - Nothing here runs before the first operation: with `--backend=file` the keychain is
//!   never touched.

mod bounded;
#[cfg(not(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
)))]
mod entries;
#[cfg(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
))]
mod items;
mod platform;
#[cfg(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
))]
pub mod secret_service;

use std::collections::HashMap;
use std::fs::File;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use super::format::{self, Reason};
use super::{Backend, Error, Store, Update, writers_lock};
use crate::display::escape;
use crate::key::{HostKey, Key};
use crate::record::Record;
#[cfg(not(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
)))]
use entries as imp;
#[cfg(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
))]
use items as imp;

pub use platform::SERVICE;

/// How long connecting to the keychain may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long any other keychain call may take.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// A credential as loaded, with the entry that holds it.
struct Loaded {
    record: Record,
    handle: imp::Handle,
}

/// The OS keychain: Secret Service on Linux and BSD, Keychain on macOS, Credential Manager
/// on Windows.
pub struct KeychainStore {
    lock_path: PathBuf,
    conn: OnceLock<imp::Conn>,
    /// Set when a call timed out: its thread may still hold the connection, so every later
    /// call fails at once instead of queueing behind it.
    hung: AtomicBool,
    /// Whether a recent "no Secret Service on this bus" is taken as the answer (`auto`).
    trust_absence: bool,
}

impl KeychainStore {
    /// A keychain store whose writers serialise on `lock_path`. Connects to nothing and
    /// touches no file: that waits for the first operation.
    pub fn new(lock_path: PathBuf) -> KeychainStore {
        KeychainStore {
            lock_path,
            conn: OnceLock::new(),
            hung: AtomicBool::new(false),
            trust_absence: false,
        }
    }

    /// The same store, taking a Secret Service found absent on this bus less than a minute
    /// ago as absent still, without asking (for `auto`, which then uses the file).
    pub fn trusting_recent_absence(mut self) -> KeychainStore {
        self.trust_absence = true;
        self
    }

    /// Whether a keychain can be reached at all, decided without waiting: on Linux and BSD,
    /// whether a session bus is configured (`DBUS_SESSION_BUS_ADDRESS`, or a socket at
    /// `$XDG_RUNTIME_DIR/bus`, as zbus looks for it); elsewhere always.
    pub fn is_configured(&self) -> bool {
        platform::session_bus_problem(&|name| std::env::var_os(name)).is_none()
    }

    /// Connects to the keychain, waiting at most [`CONNECT_TIMEOUT`]; every operation does
    /// this first. Fails at once when [`KeychainStore::is_configured`] is false, or (when
    /// trusting recent absence) when this bus had no Secret Service a moment ago. Any
    /// failure is [`Error::KeychainUnavailable`].
    pub fn connect(&self) -> Result<(), Error> {
        self.conn().map(drop)
    }

    fn conn(&self) -> Result<imp::Conn, Error> {
        if let Some(conn) = self.conn.get() {
            return Ok(conn.clone());
        }
        self.reachable()?;
        let conn = self.bounded("connecting", CONNECT_TIMEOUT, imp::connect)??;
        Ok(self.conn.get_or_init(|| conn).clone())
    }

    /// Fails at once when there is no bus, or (when trusting recent absence) when this bus
    /// had no Secret Service a moment ago.
    fn reachable(&self) -> Result<(), Error> {
        if let Some(problem) = platform::session_bus_problem(&|name| std::env::var_os(name)) {
            return Err(Error::KeychainUnavailable(problem));
        }
        if self.trust_absence
            && let Some(problem) = imp::remembered_absence()
        {
            return Err(Error::KeychainUnavailable(problem));
        }
        Ok(())
    }

    /// Every entry of ours, or only `host`'s. The first call of a process connects and reads
    /// on one worker thread.
    fn load(&self, host: Option<&HostKey>) -> Result<Vec<Loaded>, Error> {
        let host = host.cloned();
        if let Some(conn) = self.conn.get() {
            let conn = conn.clone();
            return self.bounded("reading", CALL_TIMEOUT, move || {
                imp::read(&conn, host.as_ref())
            })?;
        }
        self.reachable()?;
        let (conn, loaded) = self.bounded_connect("reading", move |connected| {
            let conn = imp::connect()?;
            connected();
            let loaded = imp::read(&conn, host.as_ref());
            Ok::<_, Error>((conn, loaded))
        })??;
        let _ = self.conn.get_or_init(|| conn);
        loaded
    }

    /// Loads under the writers' lock, lets `update` change the records, writes the
    /// difference.
    fn update(&self, host: Option<&HostKey>, update: &mut Update<'_>) -> Result<bool, Error> {
        self.conn()?;
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
        let conn = self.conn()?;
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
            let handle = existing.map(|l| l.handle);
            let conn = conn.clone();
            self.bounded("writing", CALL_TIMEOUT, move || {
                imp::write(&conn, handle, &rec)
            })??;
            changed = true;
        }
        for gone in old.into_values() {
            let handle = gone.handle;
            let conn = conn.clone();
            self.bounded("deleting", CALL_TIMEOUT, move || imp::delete(&conn, handle))??;
            changed = true;
        }
        Ok(changed)
    }
}

fn corrupt(account: &str, reason: Reason) -> Error {
    Error::KeychainCorrupt {
        entry: escape(account.as_bytes()),
        reason,
    }
}

/// The message of [`Error::KeychainCorrupt`].
pub fn corrupt_message(entry: &str, reason: &str) -> String {
    format!(
        "keychain entry '{entry}' (service {SERVICE}) is corrupt ({reason}); nothing was changed: {}, then store the token again",
        platform::remove_hint(entry)
    )
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

    #[test]
    fn a_corrupt_entry_is_named_by_its_account_never_its_secret() {
        let key = Key::new(b"https", b"h", None, Some(b"u"));
        let e = corrupt(&platform::account(&key), "unknown attribute");
        assert!(e.to_string().starts_with("keychain entry 'https://h / @u' (service git-credential-pat) is corrupt (unknown attribute); nothing was changed: "), "{e}");
        let hostile = corrupt("a\x1b]0;x", "bad");
        assert!(!hostile.to_string().contains('\x1b'));
    }
}
