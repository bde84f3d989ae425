//! The plain-text file backend: one private, sorted, versioned file (see [`super::format`]).
//!
//! - Every read and write first checks that the file is private ([`crate::fsperm`]); a loose
//!   file is an alarm, not something to fix silently.
//! - Readers take no lock: writers replace the file by `rename`, so a reader sees the old or
//!   the new file, never a torn one.
//! - Writers hold an exclusive lock on `FILE.lock` (bounded wait), copy the unchanged byte
//!   ranges of the old file into `FILE.tmp` (in the kernel, never through our memory), write
//!   the one host group that changed, fsync, rename, and fsync the directory.
//! - Lookups binary-search the sorted file with positioned reads, so a `get` costs the same
//!   at one credential as at a hundred thousand.

mod search;

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use super::format::{self, HEADER, HEADER_PREFIX};
use super::{Backend, Error, Store, Update};
use crate::fsio::{
    self, OpenError, copy_range, create_options, create_private_dir, read_at, set_private, sync_dir,
};
use crate::fsperm;
use crate::key::HostKey;
use crate::record::Record;

pub use crate::fsio::LOCK_WAIT;
pub use search::MAX_LINE;

/// Takes the writers' lock at `path` (see [`fsio::lock_exclusive`]), as a store error.
pub(crate) fn lock_exclusive(path: &Path) -> Result<File, Error> {
    fsio::lock_exclusive(path).map_err(|e| open_error(path, e))
}

/// A file-system failure on `path` as a store error naming it.
pub(crate) fn open_error(path: &Path, e: OpenError) -> Error {
    match e {
        OpenError::Io(op, source) => Error::Io {
            op,
            path: path.to_path_buf(),
            source,
        },
        OpenError::Insecure(problem) => Error::Insecure {
            path: path.to_path_buf(),
            problem,
        },
        OpenError::LockTimeout => Error::LockTimeout {
            path: path.to_path_buf(),
            secs: LOCK_WAIT.as_secs(),
        },
    }
}

/// The plain-text credentials file.
pub struct FileStore {
    path: PathBuf,
}

/// An opened, checked credentials file.
struct Opened {
    file: File,
    len: u64,
    /// Offset of the first record line (0 for an empty file).
    data_start: u64,
    /// Whether this is the very file this helper last wrote and checked whole (its identity
    /// is the one recorded in the lock file, see [`signature`]). A file edited by hand, or
    /// written by something else, is checked whole — order, every line decodable, no
    /// duplicates — before anything trusts it, so it is never silently half-used.
    verified: bool,
}

/// The identity of the credentials file as this helper left it: its size and modification
/// time (ns). An editor, a script or another program that writes the file changes them; a
/// copy that keeps both (`cp -p`) is the same bytes as far as this check can tell.
#[cfg(unix)]
fn signature(meta: &std::fs::Metadata) -> Vec<u8> {
    use std::os::unix::fs::MetadataExt;
    format!(
        "git-credential-pat verified v1 {} {} {}\n",
        meta.len(),
        meta.mtime(),
        meta.mtime_nsec()
    )
    .into_bytes()
}

/// Off Unix no identity is recorded: every file is checked whole.
#[cfg(not(unix))]
fn signature(_: &std::fs::Metadata) -> Vec<u8> {
    Vec::new()
}

impl FileStore {
    /// A store at `path`; nothing is touched until the first operation.
    pub fn new(path: PathBuf) -> FileStore {
        FileStore { path }
    }

    /// The credentials file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the credentials file exists (without following a symlink).
    pub fn exists(&self) -> bool {
        self.path.symlink_metadata().is_ok()
    }

    fn dir(&self) -> PathBuf {
        fsio::parent_of(&self.path)
    }

    fn sibling(&self, suffix: &str) -> PathBuf {
        let mut s = self.path.as_os_str().to_owned();
        s.push(suffix);
        PathBuf::from(s)
    }

    fn io_err(&self, op: &'static str, path: &Path) -> impl FnOnce(io::Error) -> Error {
        let path = path.to_path_buf();
        move |source| Error::Io { op, path, source }
    }

    /// Opens the file for reading after checking it and its directory; `None` if it does not
    /// exist.
    fn open_checked(&self) -> Result<Option<Opened>, Error> {
        let Some((file, meta)) =
            fsio::open_private(&self.path).map_err(|e| open_error(&self.path, e))?
        else {
            return Ok(None);
        };
        let dir = self.dir();
        if let Err(problem) = fsperm::check_dir(&dir).map_err(self.io_err("inspect", &dir))? {
            return Err(Error::Insecure { path: dir, problem });
        }
        let len = meta.len();
        let recorded = fsio::read_private(&self.sibling(".lock"), 256)
            .ok()
            .flatten();
        let mine = signature(&meta);
        let mut opened = Opened {
            file,
            len,
            data_start: 0,
            verified: !mine.is_empty() && recorded.is_some_and(|r| r[..] == mine[..]),
        };
        if len > 0 {
            let head = read_at(&opened.file, 0, HEADER.len().min(len as usize))
                .map_err(self.io_err("read", &self.path))?;
            let crlf = head.len() == HEADER.len()
                && head[..HEADER.len() - 1] == HEADER[..HEADER.len() - 1]
                && head.last() == Some(&b'\r');
            if head[..] == *HEADER {
                opened.data_start = HEADER.len() as u64;
            } else if crlf {
                return Err(Error::CrlfEndings {
                    path: self.path.clone(),
                });
            } else if head.starts_with(HEADER_PREFIX) {
                let v: Vec<u8> = head[HEADER_PREFIX.len()..]
                    .iter()
                    .take_while(|b| b.is_ascii_alphanumeric())
                    .copied()
                    .collect();
                return Err(Error::NewerFormat {
                    path: self.path.clone(),
                    version: crate::display::escape(&v),
                });
            } else {
                return Err(Error::NotOurs {
                    path: self.path.clone(),
                });
            }
        }
        Ok(Some(opened))
    }

    /// Creates the directory (0700, whatever the umask) if needed and checks it.
    fn ensure_dir(&self) -> Result<(), Error> {
        let dir = self.dir();
        if dir.symlink_metadata().is_err() {
            create_private_dir(&dir).map_err(self.io_err("create directory", &dir))?;
        }
        if let Err(problem) = fsperm::check_dir(&dir).map_err(self.io_err("inspect", &dir))? {
            return Err(Error::Insecure { path: dir, problem });
        }
        Ok(())
    }

    /// Takes the writers' lock, waiting at most [`LOCK_WAIT`].
    fn lock(&self) -> Result<File, Error> {
        lock_exclusive(&self.sibling(".lock"))
    }

    /// Checks a file this helper did not write whole (see [`Opened::verified`]).
    fn trust(&self, o: &Opened) -> Result<(), Error> {
        if o.verified {
            return Ok(());
        }
        self.scan(o, true).map(|_| ())
    }

    /// Records in the lock file (held) the identity of the file just written and checked, so
    /// later readers can trust it without reading it whole. Best effort: unrecorded, the next
    /// reader checks the file whole.
    fn record_verified(&self, lock: &File) {
        #[cfg(unix)]
        if let Ok(meta) = self.path.symlink_metadata() {
            use std::os::unix::fs::FileExt;
            let sig = signature(&meta);
            if lock.set_len(0).is_ok() {
                let _ = lock.write_all_at(&sig, 0);
            }
        }
        #[cfg(not(unix))]
        let _ = lock;
    }

    /// Writes a new file through `fill` and renames it over the old one.
    fn replace_with(&self, fill: impl FnOnce(&mut File) -> io::Result<()>) -> Result<(), Error> {
        let tmp = self.sibling(".tmp");
        // Under the lock nobody else uses the temp name; a leftover is from a crash.
        match std::fs::remove_file(&tmp) {
            // Not ours to remove: say what is there, and the fix.
            Err(e) if e.kind() == io::ErrorKind::IsADirectory => {
                return Err(Error::Insecure {
                    path: tmp,
                    problem: crate::fsperm::Problem::NotRegular {
                        kind: "a directory",
                    },
                });
            }
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                return Err(self.io_err("remove", &tmp)(e));
            }
            _ => {}
        }
        let result = (|| {
            let mut f = create_options().write(true).create_new(true).open(&tmp)?;
            set_private(&f)?;
            fill(&mut f)?;
            f.sync_all()?;
            drop(f);
            std::fs::rename(&tmp, &self.path)?;
            sync_dir(&self.dir())
        })();
        result.map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            self.io_err("write", &self.path)(e)
        })
    }
}

impl Store for FileStore {
    fn backend(&self) -> Backend {
        Backend::File
    }

    fn exists(&self) -> bool {
        FileStore::exists(self)
    }

    fn location(&self) -> Option<String> {
        Some(crate::display::escape_path(&self.path))
    }

    fn load_host_where(
        &self,
        host: &HostKey,
        keep: &dyn Fn(&crate::key::Key) -> bool,
    ) -> Result<Vec<Record>, Error> {
        match self.open_checked()? {
            None => Ok(Vec::new()),
            Some(o) => {
                self.trust(&o)?;
                Ok(self.read_group(&o, &format::group_prefix(host), keep)?.0)
            }
        }
    }

    fn load_host(&self, host: &HostKey) -> Result<Vec<Record>, Error> {
        match self.open_checked()? {
            None => Ok(Vec::new()),
            Some(o) => {
                self.trust(&o)?;
                Ok(self
                    .read_group(&o, &format::group_prefix(host), &|_| true)?
                    .0)
            }
        }
    }

    fn update_host(&self, host: &HostKey, update: &mut Update<'_>) -> Result<bool, Error> {
        self.ensure_dir()?;
        let lock = self.lock()?;
        let opened = self.open_checked()?;
        if let Some(o) = &opened {
            // A write copies the rest of the file as it is: it must be sound, or a credential
            // out of place would be missed now and duplicated later.
            self.trust(o)?;
        }
        let prefix = format::group_prefix(host);
        let (mut records, (start, end)) = match &opened {
            Some(o) => self.read_group(o, &prefix, &|_| true)?,
            None => (Vec::new(), (0, 0)),
        };
        if !update(&mut records) {
            return Ok(false);
        }
        let lines = encode_sorted(&records);
        debug_assert!(lines.iter().all(|l| l.starts_with(&prefix)));
        self.replace_with(|tmp| {
            match &opened {
                Some(o) if o.data_start > 0 => copy_range(&o.file, 0, start, tmp)?,
                _ => tmp.write_all(HEADER)?,
            }
            for line in &lines {
                tmp.write_all(line)?;
            }
            if let Some(o) = &opened {
                copy_range(&o.file, end, o.len, tmp)?;
            }
            Ok(())
        })?;
        self.record_verified(&lock);
        Ok(true)
    }

    fn load_all(&self) -> Result<Vec<Record>, Error> {
        match self.open_checked()? {
            None => Ok(Vec::new()),
            Some(o) => self.read_all(&o),
        }
    }

    fn update_all(&self, update: &mut Update<'_>) -> Result<bool, Error> {
        self.ensure_dir()?;
        let lock = self.lock()?;
        let mut records = match self.open_checked()? {
            None => Vec::new(),
            Some(o) => self.read_all(&o)?,
        };
        if !update(&mut records) {
            return Ok(false);
        }
        let lines = encode_sorted(&records);
        self.replace_with(|tmp| {
            tmp.write_all(HEADER)?;
            for line in &lines {
                tmp.write_all(line)?;
            }
            Ok(())
        })?;
        self.record_verified(&lock);
        Ok(true)
    }
}

fn encode_sorted(records: &[Record]) -> Vec<Zeroizing<Vec<u8>>> {
    let mut lines: Vec<_> = records.iter().map(format::encode).collect();
    lines.sort_by(|a, b| a[..].cmp(&b[..]));
    lines
}
