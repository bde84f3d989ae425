//! The memory backend: credentials held by the Linux kernel's key retention service, never
//! on disk, each forgotten by the kernel when its TTL runs out, and at reboot (DESIGN §3).
//!
//! - One `user` key per credential in the uid's user keyring (`@u`), never linked into a
//!   session keyring: description `git-credential-pat:` + the credential's key as
//!   [`format::encode_key`] writes it (`git-credential-pat:https://github.com /acme @octocat`,
//!   so `keyctl search @u user ...` finds it), payload its v1 line ([`format::encode`]
//!   without the LF), as the keychain's secret is.
//! - Permissions for the owning uid only ([`PERM`]): every process of the uid can use the
//!   keys (any shell, ssh session, tmux or service, whatever its session keyring), and a
//!   process that changed uid but kept the session keyring (`su`, `sudo -u`) cannot.
//! - The kernel timeout is the credential's TTL deadline (`--ttl`, 900 s by default on this
//!   backend); writing a credential again re-arms it. The helper enforces the same deadline
//!   and the token's own expiry, as on every backend.
//! - Writers serialise on `<data dir>/memory.lock`, as the keychain's do: a key changes
//!   atomically, but an update computed from keys read earlier (erase only the token git
//!   rejected, evict only the token that expired) must not act on keys another process has
//!   changed since. The lock file is empty; no secret touches the disk.
//! - Linux only: elsewhere every operation fails with one line naming `--backend=file`.

#[cfg(target_os = "linux")]
mod keys;
#[cfg(target_os = "linux")]
mod sys;

use crate::store::Quota;

#[cfg(target_os = "linux")]
pub use linux::MemoryStore;
#[cfg(not(target_os = "linux"))]
pub use unsupported::MemoryStore;

/// What the description of every key of ours starts with.
pub const PREFIX: &str = "git-credential-pat:";

/// The permissions of our keys: view, read, write, search, link and setattr for the owning
/// uid (`KEY_USR_ALL`), nothing for a possessor, the group or others.
pub const PERM: u32 = 0x003f_0000;

/// The message of [`crate::store::Error::MemoryQuota`].
pub fn quota_message(uid: u32, quota: Option<&Quota>) -> String {
    let usage = quota.map_or_else(|| "see /proc/key-users".to_string(), Quota::usage);
    format!(
        "the kernel's key quota for uid {uid} is used up ({usage}); this credential was not stored, and nothing stored earlier was lost: remove credentials you no longer need (git credential-pat list), or raise the limit in {} (and {})",
        Quota::maxbytes_file(uid),
        Quota::maxkeys_file(uid),
    )
}

/// The message of [`crate::store::Error::MemoryCorrupt`]; `entry` is escaped already.
pub fn corrupt_message(id: i32, entry: &str, reason: &str) -> String {
    format!(
        "kernel key {id} '{entry}' in your user keyring is corrupt ({reason}); nothing was changed: remove it with 'keyctl unlink {id} @u', then store the token again"
    )
}

#[cfg(target_os = "linux")]
mod linux {
    use std::collections::HashMap;
    use std::path::PathBuf;

    use super::keys::{self, Loaded};
    use crate::key::{HostKey, Key};
    use crate::record::{Record, Stamp};
    use crate::store::format;
    use crate::store::{Backend, Error, Quota, Store, Update, writers_lock};

    /// The kernel keyring of the calling uid.
    pub struct MemoryStore {
        lock_path: PathBuf,
    }

    impl MemoryStore {
        /// A store whose writers serialise on `lock_path`. Touches nothing until the first
        /// operation.
        pub fn new(lock_path: PathBuf) -> MemoryStore {
            MemoryStore { lock_path }
        }

        /// Every key of ours, or only `host`'s.
        fn load(&self, host: Option<&HostKey>) -> Result<Vec<Loaded>, Error> {
            keys::list(&host.map(format::group_prefix).unwrap_or_default())
        }

        /// Loads under the writers' lock, lets `update` change the records, writes the
        /// difference.
        fn update(&self, host: Option<&HostKey>, update: &mut Update<'_>) -> Result<bool, Error> {
            let _lock = writers_lock(&self.lock_path)?;
            let old = self.load(host)?;
            let mut records: Vec<Record> = old.iter().map(|l| l.record.clone()).collect();
            if !update(&mut records) {
                return Ok(false);
            }
            debug_assert!(host.is_none_or(|h| records.iter().all(|r| r.key.host == *h)));
            apply(old, records)
        }
    }

    /// Writes the credentials of `new` that are new or changed, then removes the keys of
    /// `old` whose credential is gone: a write the quota refuses loses nothing.
    fn apply(old: Vec<Loaded>, new: Vec<Record>) -> Result<bool, Error> {
        let mut old: HashMap<Key, Loaded> =
            old.into_iter().map(|l| (l.record.key.clone(), l)).collect();
        let now = Stamp::now().secs;
        let mut changed = false;
        for rec in new {
            let existing = old.remove(&rec.key);
            if let Some(l) = &existing
                && format::encode(&l.record)[..] == format::encode(&rec)[..]
            {
                continue;
            }
            keys::write(existing.is_some(), &rec, now)?;
            changed = true;
        }
        for gone in old.into_values() {
            keys::delete(gone.id)?;
            changed = true;
        }
        Ok(changed)
    }

    impl Store for MemoryStore {
        fn backend(&self) -> Backend {
            Backend::Memory
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

        fn location(&self) -> Option<String> {
            Some("the kernel's user keyring (@u)".into())
        }

        fn quota(&self) -> Option<Quota> {
            keys::read_quota(super::sys::euid())
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod unsupported {
    use std::path::PathBuf;

    use crate::key::HostKey;
    use crate::record::Record;
    use crate::store::{Backend, Error, Store, Update};

    /// The memory backend where there is no Linux kernel keyring: every operation fails.
    pub struct MemoryStore;

    impl MemoryStore {
        /// A store that refuses every operation.
        pub fn new(_lock_path: PathBuf) -> MemoryStore {
            MemoryStore
        }
    }

    fn unavailable() -> Error {
        Error::MemoryUnavailable(
            "the memory backend keeps tokens in the Linux kernel's keyring, which this system does not have: use --backend=file".into(),
        )
    }

    impl Store for MemoryStore {
        fn backend(&self) -> Backend {
            Backend::Memory
        }

        fn load_host(&self, _host: &HostKey) -> Result<Vec<Record>, Error> {
            Err(unavailable())
        }

        fn update_host(&self, _host: &HostKey, _update: &mut Update<'_>) -> Result<bool, Error> {
            Err(unavailable())
        }

        fn load_all(&self) -> Result<Vec<Record>, Error> {
            Err(unavailable())
        }

        fn update_all(&self, _update: &mut Update<'_>) -> Result<bool, Error> {
            Err(unavailable())
        }
    }
}
