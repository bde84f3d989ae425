//! Where credentials live: a small trait that knows nothing about git, and its backends.
//!
//! Every credential a request can reach shares its protocol + host ([`HostKey`]), so a
//! backend only has to load and atomically rewrite the group of one host; the rules of
//! get/store/erase live in [`crate::app`] and work on that group in memory.

pub mod file;
pub mod format;
pub mod heap;
pub mod keychain;
pub mod memory;

use std::path::PathBuf;

use crate::display::escape_path;
use crate::fsperm::Problem;
use crate::key::HostKey;
use crate::record::Record;

/// Which backend holds a credential (the `backend` column of `list`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// The OS keychain.
    Keychain,
    /// The plain-text file.
    File,
    /// The kernel's key retention service (Linux).
    Memory,
}

impl Backend {
    /// The name used in options, `list` and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Keychain => "keychain",
            Backend::File => "file",
            Backend::Memory => "memory",
        }
    }

    /// Whether each successful use (git's `store` after a fetch) restarts a credential's TTL,
    /// as git-credential-cache re-arms its timeout: the memory backend only (DESIGN §3, §4).
    pub fn ttl_restarts_on_use(self) -> bool {
        self == Backend::Memory
    }
}

/// A change to one host's credentials, computed from the records as they are on disk at the
/// moment of the write (under the backend's lock).
pub type Update<'a> = dyn FnMut(&mut Vec<Record>) -> bool + 'a;

/// A place that stores credentials.
pub trait Store {
    /// Which backend this is.
    fn backend(&self) -> Backend;

    /// Every credential stored for `host` (all paths, all users).
    fn load_host(&self, host: &HostKey) -> Result<Vec<Record>, Error>;

    /// [`Store::load_host`], keeping only the credentials whose key `keep` accepts. A backend
    /// may skip decoding the others' secrets (the file does: a `get` on a host holding many
    /// credentials decodes only those it may answer with).
    fn load_host_where(
        &self,
        host: &HostKey,
        keep: &dyn Fn(&crate::key::Key) -> bool,
    ) -> Result<Vec<Record>, Error> {
        let mut records = self.load_host(host)?;
        records.retain(|r| keep(&r.key));
        Ok(records)
    }

    /// Loads `host`'s credentials, lets `update` change them, and if it returns `true`,
    /// replaces them atomically. Concurrent updates are serialised, never lost. Returns
    /// whether anything was written.
    fn update_host(&self, host: &HostKey, update: &mut Update<'_>) -> Result<bool, Error>;

    /// Every stored credential.
    fn load_all(&self) -> Result<Vec<Record>, Error>;

    /// Like [`Store::update_host`] over every stored credential.
    fn update_all(&self, update: &mut Update<'_>) -> Result<bool, Error>;

    /// Whether the store holds anything yet (a file that exists); checked without waiting.
    fn exists(&self) -> bool {
        true
    }

    /// Where the store is, for messages (the file's path).
    fn location(&self) -> Option<String> {
        None
    }

    /// How much of a limited capacity the store uses (the memory backend: the kernel's
    /// per-user key quota), for `doctor`; `None` where there is no such limit or it cannot be
    /// read.
    fn quota(&self) -> Option<Quota> {
        None
    }
}

/// The kernel's key quota of one uid, as `/proc/key-users` shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quota {
    /// The uid it belongs to.
    pub uid: u32,
    /// Keys counted against it (every key and keyring of the uid, not only ours).
    pub keys: u64,
    /// The most keys it allows (`/proc/sys/kernel/keys/maxkeys`, or `root_maxkeys` for root).
    pub max_keys: u64,
    /// Bytes counted against it (descriptions and payloads).
    pub bytes: u64,
    /// The most bytes it allows (`/proc/sys/kernel/keys/maxbytes`, or `root_maxbytes`).
    pub max_bytes: u64,
}

impl Quota {
    /// The file that sets the byte limit for `uid`: root has limits of its own.
    pub fn maxbytes_file(uid: u32) -> &'static str {
        if uid == 0 {
            "/proc/sys/kernel/keys/root_maxbytes"
        } else {
            "/proc/sys/kernel/keys/maxbytes"
        }
    }

    /// The file that sets the key-count limit for `uid`.
    pub fn maxkeys_file(uid: u32) -> &'static str {
        if uid == 0 {
            "/proc/sys/kernel/keys/root_maxkeys"
        } else {
            "/proc/sys/kernel/keys/maxkeys"
        }
    }

    /// `keys` of `max_keys` keys and `bytes` of `max_bytes` bytes, in words.
    pub fn usage(&self) -> String {
        format!(
            "{} of {} keys and {} of {} bytes in use",
            self.keys, self.max_keys, self.bytes, self.max_bytes
        )
    }

    /// Whether either limit is at least 80 % used.
    pub fn nearly_full(&self) -> bool {
        self.keys.saturating_mul(5) >= self.max_keys.saturating_mul(4)
            || self.bytes.saturating_mul(5) >= self.max_bytes.saturating_mul(4)
    }
}

/// Why a backend could not do its job. Never carries a secret.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An I/O error on the credentials file or its directory.
    #[error("cannot {op} {}: {source}", escape_path(path))]
    Io {
        /// What was being done ("read", "create", "replace", ...).
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The file or its directory is not private; nothing was read or written.
    #[error("{}", insecure_message(path, problem))]
    Insecure {
        /// The file or directory at fault.
        path: PathBuf,
        /// What is wrong.
        problem: Problem,
    },
    /// A line of the file cannot be decoded; nothing was written.
    #[error(
        "{} is corrupt at line {line} ({reason}); nothing was changed: fix or remove that line (see README, 'File format')",
        escape_path(path)
    )]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The file is not one of ours.
    #[error(
        "{} is not a git-credential-pat credentials file (no '# git-credential-pat credentials v1' header); nothing was changed: point --file elsewhere, or use 'git credential-pat import' for a git-credential-store file",
        escape_path(path)
    )]
    NotOurs {
        /// The file.
        path: PathBuf,
    },
    /// The file's lines are not in the sorted order lookups rely on (a hand edit).
    #[error(
        "{} is not sorted (line {line} is out of order), so lookups could miss credentials; nothing was changed: sort it, keeping the first line first: (umask 077 && {{ head -n 1 {q}; tail -n +2 {q} | LC_ALL=C sort; }} > {q}.sorted && mv {q}.sorted {q})",
        escape_path(path),
        q = crate::display::quoted_path(path)
    )]
    Unsorted {
        /// The file.
        path: PathBuf,
        /// 1-based number of the first line found out of order.
        line: usize,
    },
    /// The file has Windows (CRLF) line endings, from an editor or a copy.
    #[error(
        "{} has CRLF (Windows) line endings; nothing was changed: convert it with sed -i 's/\\r$//' {}",
        escape_path(path),
        crate::display::quoted_path(path)
    )]
    CrlfEndings {
        /// The file.
        path: PathBuf,
    },
    /// The file was written by a newer version.
    #[error(
        "{} uses credentials format v{version}, newer than this git-credential-pat understands (v1): upgrade git-credential-pat",
        escape_path(path)
    )]
    NewerFormat {
        /// The file.
        path: PathBuf,
        /// The version in its header.
        version: String,
    },
    /// Another process held the lock for too long.
    #[error(
        "timed out after {secs} s waiting for the lock {}; nothing was changed: another git-credential-pat is still writing (find it with: fuser {})",
        escape_path(path),
        crate::display::quoted_path(path)
    )]
    LockTimeout {
        /// The lock file.
        path: PathBuf,
        /// How long we waited.
        secs: u64,
    },
    /// The keychain cannot be used: no session bus or Secret Service, locked, or not
    /// answering in time. (Under `auto` this means: use the file.)
    #[error("{0}")]
    KeychainUnavailable(String),
    /// The keychain answered but refused or failed the operation (an entry too long for it,
    /// two entries for one key, ...).
    #[error("{0}")]
    KeychainFailed(String),
    /// One of our keychain entries cannot be decoded; nothing was changed.
    #[error("{}", keychain::corrupt_message(entry, reason))]
    KeychainCorrupt {
        /// The entry's account (its key, which holds no secret), escaped.
        entry: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The kernel keyring cannot be used at all: not Linux, or the kernel refuses keyctl
    /// (a container runtime's seccomp profile).
    #[error("{0}")]
    MemoryUnavailable(String),
    /// The kernel's per-user key quota is used up; the credential was not stored, and
    /// nothing stored earlier was lost.
    #[error("{}", memory::quota_message(*uid, quota.as_ref()))]
    MemoryQuota {
        /// The uid whose quota is full.
        uid: u32,
        /// Its use and limits, when `/proc/key-users` could be read.
        quota: Option<Quota>,
    },
    /// A credential does not fit in one kernel key (a fixed limit of the kernel).
    #[error(
        "the kernel keeps at most {limit} bytes in a key's {what}, and this credential needs {len}; nothing was stored: use --backend=file for it"
    )]
    MemoryTooLarge {
        /// `payload` (the credential's line, token included) or `description` (its key).
        what: &'static str,
        /// How many bytes it needs.
        len: usize,
        /// The kernel's limit, formatted (`32,767`).
        limit: &'static str,
    },
    /// The kernel refused or failed an operation on a key.
    #[error("{0}")]
    MemoryFailed(String),
    /// One of our kernel keys cannot be decoded; nothing was changed.
    #[error("{}", memory::corrupt_message(*id, entry, reason))]
    MemoryCorrupt {
        /// The key's serial number.
        id: i32,
        /// Its description (the credential's key, which holds no secret), escaped.
        entry: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}

impl Error {
    /// Whether the store could not be reached at all (a keychain that is absent, locked or
    /// hung), as opposed to a store that answered with a failure.
    pub fn is_unreachable(&self) -> bool {
        matches!(self, Error::KeychainUnavailable(_))
    }
}

/// Takes the writers' lock of a backend that is not a file (`<data dir>/keychain.lock`,
/// `memory.lock`), creating its directory (0700) first: bounded wait, as the file's lock.
pub(crate) fn writers_lock(path: &std::path::Path) -> Result<std::fs::File, Error> {
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
        && !dir.exists()
    {
        crate::fsio::create_private_dir(dir).map_err(|source| Error::Io {
            op: "create directory",
            path: dir.to_path_buf(),
            source,
        })?;
    }
    file::lock_exclusive(path)
}

fn insecure_message(path: &std::path::Path, problem: &Problem) -> String {
    problem.message(path)
}
