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

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs::File;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use keyring_core::{Entry, Error as KeyringError};
use zeroize::{Zeroize, Zeroizing};

use super::file::{create_private_dir, lock_exclusive};
use super::format::{self, Reason};
use super::{Backend, Error, Store, Update};
use crate::display::escape;
use crate::key::{HostKey, Key};
use crate::record::Record;

/// The service name of every entry we create.
pub const SERVICE: &str = "git-credential-pat";
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

/// A credential as loaded, with the entry that holds it.
struct Loaded {
    record: Record,
    entry: Entry,
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

    /// Runs `job` on a worker thread and waits for it at most `limit`.
    fn bounded<T: Send + 'static>(
        &self,
        op: &'static str,
        limit: Duration,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Error> {
        if self.hung.load(Ordering::SeqCst) {
            return Err(Error::KeychainUnavailable(format!(
                "{} stopped answering earlier in this run ({op}): {}, or use --backend=file",
                platform::NAME,
                platform::RESTART
            )));
        }
        let (tx, rx) = mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name("keychain".into())
            .spawn(move || {
                // After a timeout nobody listens: the result (secrets included) is dropped,
                // and wiped, here.
                let _ = tx.send(job());
            })
            .map_err(|e| {
                Error::KeychainFailed(format!("cannot start a thread for the keychain: {e}"))
            })?;
        match rx.recv_timeout(limit) {
            Ok(value) => Ok(value),
            Err(RecvTimeoutError::Timeout) => {
                self.hung.store(true, Ordering::SeqCst);
                Err(Error::KeychainUnavailable(format!(
                    "{} did not answer within {} s ({op}): it may be hung or waiting for an unlock prompt; {} or {}, or use --backend=file",
                    platform::NAME,
                    limit.as_secs(),
                    platform::UNLOCK,
                    platform::RESTART
                )))
            }
            Err(RecvTimeoutError::Disconnected) => Err(Error::KeychainFailed(format!(
                "{} failed unexpectedly ({op}): try again, or use --backend=file",
                platform::NAME
            ))),
        }
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
        if let Some(dir) = self.lock_path.parent()
            && !dir.as_os_str().is_empty()
            && !dir.exists()
        {
            create_private_dir(dir).map_err(|source| Error::Io {
                op: "create directory",
                path: dir.to_path_buf(),
                source,
            })?;
        }
        lock_exclusive(self.lock_path.clone())
    }

    /// Writes the credentials of `new` that are new or changed, then removes those of `old`
    /// whose key is gone. Returns whether anything changed.
    fn apply(&self, old: Vec<Loaded>, new: Vec<Record>) -> Result<bool, Error> {
        let mut old: Vec<Option<Loaded>> = old.into_iter().map(Some).collect();
        let mut changed = false;
        for rec in new {
            let existing = old
                .iter_mut()
                .find(|l| l.as_ref().is_some_and(|l| l.record.key == rec.key))
                .and_then(Option::take);
            if let Some(l) = &existing
                && format::encode(&l.record)[..] == format::encode(&rec)[..]
            {
                continue;
            }
            let entry = existing.map(|l| l.entry);
            self.bounded("writing", CALL_TIMEOUT, move || write(entry, &rec))??;
            changed = true;
        }
        for gone in old.into_iter().flatten() {
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

/// The account of `key`'s entry: the key fields of its v1 line (ASCII, no secret).
fn account(key: &Key) -> String {
    String::from_utf8_lossy(&format::encode_key(key)).into_owned()
}

/// Reads and decodes the entries `spec` finds, keeping those of our service whose account
/// starts with `prefix`.
fn read(spec: &[(&'static str, String)], prefix: Option<&[u8]>) -> Result<Vec<Loaded>, Error> {
    let spec: HashMap<&str, &str> = spec.iter().map(|(k, v)| (*k, v.as_str())).collect();
    // An empty search matches every item of every application.
    debug_assert!(!spec.is_empty());
    let found = Entry::search(&spec).map_err(|e| describe_owned("searching", e))?;
    let mut out: Vec<Loaded> = Vec::new();
    for entry in found {
        let Some((service, account)) = platform::specifiers(&entry)? else {
            continue;
        };
        if service != SERVICE || prefix.is_some_and(|p| !account.as_bytes().starts_with(p)) {
            continue;
        }
        let secret = match entry.get_secret() {
            Ok(secret) => Zeroizing::new(secret),
            // Deleted between the search and now.
            Err(KeyringError::NoEntry) => continue,
            Err(e) => return Err(describe_owned("reading", e)),
        };
        // One trailing LF is forgiven: `echo ... | secret-tool store` adds it.
        let line = secret.strip_suffix(b"\n").unwrap_or(&secret);
        let record = format::decode(line).map_err(|reason| corrupt(&account, reason))?;
        if format::encode_key(&record.key) != account.as_bytes() {
            return Err(corrupt(&account, "its account is not the key inside it"));
        }
        if out.iter().any(|l| l.record.key == record.key) {
            return Err(corrupt(&account, "two entries hold this key"));
        }
        out.push(Loaded { record, entry });
    }
    Ok(out)
}

/// Writes `rec` into `entry`, or into a new entry for its key.
fn write(entry: Option<Entry>, rec: &Record) -> Result<(), Error> {
    let line = format::encode(rec);
    let secret = &line[..line.len() - 1];
    let entry = match entry {
        Some(entry) => entry,
        None => platform::new_entry(&rec.key).map_err(|e| describe_owned("writing", e))?,
    };
    entry
        .set_secret(secret)
        .map_err(|e| describe_owned("writing", e))?;
    platform::after_write(&entry, &rec.key).map_err(|e| describe_owned("writing", e))
}

fn delete(entry: Entry) -> Result<(), Error> {
    match entry.delete_credential() {
        Ok(()) | Err(KeyringError::NoEntry) => Ok(()),
        Err(e) => Err(describe_owned("deleting", e)),
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

/// Like [`describe`], and wipes the secret bytes some errors carry.
fn describe_owned(op: &'static str, e: KeyringError) -> Error {
    let out = describe(op, &e);
    match e {
        KeyringError::BadEncoding(mut bytes) | KeyringError::BadDataFormat(mut bytes, _) => {
            bytes.zeroize()
        }
        _ => {}
    }
    out
}

/// Turns a keyring error into ours: out of reach or locked is `KeychainUnavailable`,
/// anything else `KeychainFailed`. Never shows the bytes some variants carry.
fn describe(op: &'static str, e: &KeyringError) -> Error {
    use platform::{CHECK, NAME, START, UNLOCK};
    let detail = |err: &dyn std::fmt::Display| escape(err.to_string().as_bytes());
    match e {
        KeyringError::NoStorageAccess(err) => Error::KeychainUnavailable(format!(
            "{NAME} is locked or has no default keyring ({op}: {}): {UNLOCK}, or use --backend=file",
            detail(err)
        )),
        KeyringError::PlatformFailure(err) => Error::KeychainUnavailable(format!(
            "cannot use {NAME} ({op}: {}): {START}, or use --backend=file",
            detail(err)
        )),
        KeyringError::NoDefaultStore => Error::KeychainUnavailable(format!(
            "cannot use {NAME} ({op}: no credential store): {START}, or use --backend=file"
        )),
        KeyringError::BadEncoding(_) | KeyringError::BadDataFormat(..) => Error::KeychainFailed(
            format!("{NAME} returned data it cannot decode ({op}): {CHECK}, or use --backend=file"),
        ),
        KeyringError::TooLong(what, limit) => Error::KeychainFailed(format!(
            "{NAME} refused a {} longer than its limit of {limit} ({op}): use --backend=file for this credential",
            detail(what)
        )),
        KeyringError::Ambiguous(entries) => Error::KeychainFailed(format!(
            "{NAME} holds {} entries for one key ({op}): {CHECK}",
            entries.len()
        )),
        KeyringError::Invalid(..)
        | KeyringError::BadStoreFormat(_)
        | KeyringError::NotSupportedByStore(_) => Error::KeychainFailed(format!(
            "{NAME} refused the operation ({op}: {}): {CHECK}, or use --backend=file",
            detail(e)
        )),
        KeyringError::NoEntry => Error::KeychainFailed(format!(
            "{NAME} lost an entry while it was in use ({op}): try again"
        )),
        // A variant added later might carry secret bytes: show nothing of it.
        _ => Error::KeychainFailed(format!(
            "{NAME} failed with an unexpected error ({op}): {CHECK}, or use --backend=file"
        )),
    }
}

/// The Secret Service (Linux and the BSDs), as `keyring` selects it.
#[cfg(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
))]
mod platform {
    use super::*;

    pub const NAME: &str = "the Secret Service keyring";
    pub const UNLOCK: &str =
        "unlock it (log in to your desktop session, or run 'gnome-keyring-daemon --unlock')";
    pub const START: &str = "start a Secret Service such as gnome-keyring or KeePassXC";
    pub const RESTART: &str = "restart it ('gnome-keyring-daemon --replace')";
    pub const CHECK: &str =
        "check its entries with seahorse or 'secret-tool search --all service git-credential-pat'";

    /// Why zbus cannot even try to connect, mirroring its choice of address: the
    /// `DBUS_SESSION_BUS_ADDRESS`, else `$XDG_RUNTIME_DIR/bus`, else `/run/user/UID/bus`.
    pub fn session_bus_problem(env: &dyn Fn(&str) -> Option<OsString>) -> Option<String> {
        if env("DBUS_SESSION_BUS_ADDRESS").is_some_and(|a| !a.is_empty()) {
            return None;
        }
        let runtime = env("XDG_RUNTIME_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(format!("/run/user/{}", crate::fsperm::euid())));
        let bus = runtime.join("bus");
        if bus.exists() {
            return None;
        }
        Some(format!(
            "no D-Bus session bus, so {NAME} is out of reach (DBUS_SESSION_BUS_ADDRESS is not set and {} does not exist): run in a desktop session, or start one with dbus-run-session and gnome-keyring-daemon, or use --backend=file",
            crate::display::escape_path(&bus)
        ))
    }

    /// Our attributes, never an empty map (which would match everyone's items).
    pub fn search_spec(host: Option<&HostKey>) -> Vec<(&'static str, String)> {
        let mut spec = vec![("service", SERVICE.to_owned())];
        if let Some(h) = host {
            spec.extend(attributes(h));
        }
        spec
    }

    /// What an entry shows besides `service` and `username`: who made it, and for which
    /// protocol and (lowercased) host, escaped as they are for display.
    fn attributes(host: &HostKey) -> [(&'static str, String); 3] {
        [
            ("application", SERVICE.to_owned()),
            ("protocol", escape(&host.protocol)),
            ("host", escape(&host.host)),
        ]
    }

    pub fn label(key: &Key) -> String {
        format!("{SERVICE}: {}", key.display())
    }

    /// The service and account of a found item.
    pub fn specifiers(entry: &Entry) -> Result<Option<(String, String)>, Error> {
        match entry.get_attributes() {
            Ok(mut a) => Ok(a.remove("service").zip(a.remove("username"))),
            Err(KeyringError::NoEntry) => Ok(None),
            Err(e) => Err(describe_owned("reading", e)),
        }
    }

    pub fn new_entry(key: &Key) -> Result<Entry, KeyringError> {
        let label = label(key);
        Entry::new_with_modifiers(
            SERVICE,
            &account(key),
            &HashMap::from([("label", label.as_str())]),
        )
    }

    /// Sets our attributes: a second call, as the store creates items with `service` and
    /// `username` only. An item left without them by a crash in between is repaired by the
    /// next write of its key (the store finds items by `service` and `username`).
    pub fn after_write(entry: &Entry, key: &Key) -> Result<(), KeyringError> {
        let attrs = attributes(&key.host);
        entry.update_attributes(&attrs.iter().map(|(k, v)| (*k, v.as_str())).collect())
    }

    pub fn remove_hint(entry: &str) -> String {
        format!(
            "remove it with seahorse, or with secret-tool clear service {SERVICE} username '{entry}'"
        )
    }
}

/// macOS Keychain, Windows Credential Manager (and whatever else `keyring` supports): no
/// attributes, so entries are found by service and filtered by account.
#[cfg(not(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
)))]
mod platform {
    use super::*;

    #[cfg(target_os = "macos")]
    pub const NAME: &str = "the macOS Keychain";
    #[cfg(windows)]
    pub const NAME: &str = "the Windows Credential Manager";
    #[cfg(not(any(target_os = "macos", windows)))]
    pub const NAME: &str = "the OS keychain";

    #[cfg(target_os = "macos")]
    pub const UNLOCK: &str = "unlock it ('security unlock-keychain')";
    #[cfg(not(target_os = "macos"))]
    pub const UNLOCK: &str = "unlock it (log in again)";
    pub const START: &str = "check that it is available to this session";
    pub const RESTART: &str = "log in again";
    #[cfg(target_os = "macos")]
    pub const CHECK: &str = "check its entries for git-credential-pat in Keychain Access";
    #[cfg(not(target_os = "macos"))]
    pub const CHECK: &str = "check its entries for git-credential-pat in Credential Manager";

    /// Always reachable as far as a quick check can tell.
    pub fn session_bus_problem(_env: &dyn Fn(&str) -> Option<OsString>) -> Option<String> {
        None
    }

    /// Every entry of our service: the account prefix narrows it down afterwards.
    pub fn search_spec(_host: Option<&HostKey>) -> Vec<(&'static str, String)> {
        // Credential Manager's target names are `{account}.{service}`, searched by regex.
        #[cfg(windows)]
        return vec![("pattern", format!(r"\.{SERVICE}$"))];
        #[cfg(not(windows))]
        return vec![("service", SERVICE.to_owned())];
    }

    pub fn specifiers(entry: &Entry) -> Result<Option<(String, String)>, Error> {
        Ok(entry.get_specifiers())
    }

    pub fn new_entry(key: &Key) -> Result<Entry, KeyringError> {
        // Kept on this machine, as git-credential-wincred does, not roamed with the profile.
        #[cfg(windows)]
        return Entry::new_with_modifiers(
            SERVICE,
            &account(key),
            &HashMap::from([("persistence", "Local")]),
        );
        #[cfg(not(windows))]
        return Entry::new(SERVICE, &account(key));
    }

    pub fn after_write(_entry: &Entry, _key: &Key) -> Result<(), KeyringError> {
        Ok(())
    }

    pub fn remove_hint(_entry: &str) -> String {
        CHECK.replacen("check", "remove it from", 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Stamp;
    use crate::secret::Secret;

    #[test]
    #[cfg(all(
        unix,
        not(any(target_os = "macos", target_os = "ios", target_os = "android"))
    ))]
    fn a_missing_session_bus_is_known_without_connecting() {
        let dir = std::env::temp_dir().join(format!("pat-kc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let runtime = OsString::from(&dir);
        let env = |k: &str| (k == "XDG_RUNTIME_DIR").then(|| runtime.clone());
        let problem = platform::session_bus_problem(&env).expect("no bus socket");
        assert!(
            problem.contains("DBUS_SESSION_BUS_ADDRESS is not set"),
            "{problem}"
        );
        assert!(
            problem.contains(&format!("{}/bus does not exist", dir.display())),
            "{problem}"
        );
        assert!(problem.ends_with("or use --backend=file"), "{problem}");
        std::fs::write(dir.join("bus"), "").unwrap();
        assert_eq!(platform::session_bus_problem(&env), None);
        std::fs::remove_dir_all(&dir).unwrap();
        let set = |k: &str| (k == "DBUS_SESSION_BUS_ADDRESS").then(|| "unix:path=/x".into());
        assert_eq!(
            platform::session_bus_problem(&set),
            None,
            "zbus will try it"
        );
        let empty = |k: &str| match k {
            "DBUS_SESSION_BUS_ADDRESS" => Some(OsString::new()),
            "XDG_RUNTIME_DIR" => Some(runtime.clone()),
            _ => None,
        };
        assert!(
            platform::session_bus_problem(&empty).is_some(),
            "empty is unset"
        );
    }

    #[test]
    fn searches_are_never_empty() {
        for host in [None, Some(&HostKey::new(b"https", b"github.com"))] {
            let spec = platform::search_spec(host);
            assert!(!spec.is_empty());
        }
    }

    #[test]
    #[cfg(all(
        unix,
        not(any(target_os = "macos", target_os = "ios", target_os = "android"))
    ))]
    fn secret_service_entries_are_recognisable() {
        let key = Key::new(b"https", b"GitHub.com", Some(b"acme"), Some(b"octocat"));
        assert_eq!(account(&key), "https://github.com /acme @octocat");
        assert_eq!(
            platform::label(&key),
            "git-credential-pat: https://octocat@github.com/acme"
        );
        let spec = platform::search_spec(Some(&key.host));
        for pair in [
            ("service", "git-credential-pat"),
            ("application", "git-credential-pat"),
            ("protocol", "https"),
            ("host", "github.com"),
        ] {
            assert!(spec.contains(&(pair.0, pair.1.to_owned())), "{spec:?}");
        }
    }

    #[test]
    fn errors_never_show_secret_bytes() {
        let token = b"ghp_secret_token".to_vec();
        for e in [
            KeyringError::BadEncoding(token.clone()),
            KeyringError::BadDataFormat(token.clone(), "bad".into()),
        ] {
            let shown = describe_owned("reading", e).to_string();
            assert!(!shown.contains("ghp_secret"), "{shown}");
            assert!(shown.contains("cannot decode"), "{shown}");
        }
        let rec = Record {
            key: Key::new(b"https", b"h", None, Some(b"u")),
            password: Some(Secret::from_slice(b"ghp_secret_token")),
            oauth_refresh_token: None,
            authtype: None,
            credential: None,
            expires: None,
            stored: Stamp::default(),
        };
        let e = corrupt(&account(&rec.key), "unknown attribute");
        assert!(!format!("{e} {e:?}").contains("ghp_secret"));
        assert!(e.to_string().starts_with("keychain entry 'https://h / @u' (service git-credential-pat) is corrupt (unknown attribute); nothing was changed: "), "{e}");
    }

    #[test]
    fn locked_and_unreachable_are_unavailable_other_failures_are_not() {
        let locked = describe("reading", &KeyringError::NoStorageAccess("locked".into()));
        assert!(matches!(&locked, Error::KeychainUnavailable(m) if m.contains("unlock it")));
        let gone = describe(
            "connecting",
            &KeyringError::PlatformFailure("no bus".into()),
        );
        assert!(matches!(gone, Error::KeychainUnavailable(_)));
        let long = describe("writing", &KeyringError::TooLong("password".into(), 2560));
        assert!(matches!(&long, Error::KeychainFailed(m) if m.contains("limit of 2560")));
        for e in [locked, long] {
            let m = e.to_string();
            assert!(!m.contains('\n') && m.contains("--backend=file"), "{m}");
        }
    }

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
