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

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use zeroize::Zeroizing;

use super::format::{self, HEADER, HEADER_PREFIX};
use super::{Backend, Error, Store, Update};
use crate::fsperm;
use crate::key::HostKey;
use crate::record::Record;

/// How long a writer waits for another writer before giving up.
pub const LOCK_WAIT: Duration = Duration::from_secs(10);

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
        match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        }
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
        let file = match open_nofollow(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) if is_symlink_error(&e) => {
                return Err(Error::Insecure {
                    path: self.path.clone(),
                    problem: fsperm::Problem::Symlink,
                });
            }
            Err(e) => return Err(self.io_err("open", &self.path)(e)),
        };
        let dir = self.dir();
        if let Err(problem) = fsperm::check_dir(&dir).map_err(self.io_err("inspect", &dir))? {
            return Err(Error::Insecure { path: dir, problem });
        }
        let meta = file
            .metadata()
            .map_err(self.io_err("inspect", &self.path))?;
        if let Err(problem) = fsperm::check_file(&meta) {
            return Err(Error::Insecure {
                path: self.path.clone(),
                problem,
            });
        }
        let len = meta.len();
        let mut opened = Opened {
            file,
            len,
            data_start: 0,
        };
        if len > 0 {
            let head = read_at(&opened.file, 0, HEADER.len().min(len as usize))
                .map_err(self.io_err("read", &self.path))?;
            if head[..] == *HEADER {
                opened.data_start = HEADER.len() as u64;
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
        if !dir.exists() {
            create_private_dir(&dir).map_err(self.io_err("create directory", &dir))?;
        }
        if let Err(problem) = fsperm::check_dir(&dir).map_err(self.io_err("inspect", &dir))? {
            return Err(Error::Insecure { path: dir, problem });
        }
        Ok(())
    }

    /// Takes the writers' lock, waiting at most [`LOCK_WAIT`].
    fn lock(&self) -> Result<File, Error> {
        lock_exclusive(self.sibling(".lock"))
    }

    /// Writes a new file through `fill` and renames it over the old one.
    fn replace_with(&self, fill: impl FnOnce(&mut File) -> io::Result<()>) -> Result<(), Error> {
        let tmp = self.sibling(".tmp");
        // Under the lock nobody else uses the temp name; a leftover is from a crash.
        match std::fs::remove_file(&tmp) {
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

    /// Reads the group of lines starting with `prefix`: the records and their byte range.
    fn read_group(&self, o: &Opened, prefix: &[u8]) -> Result<(Vec<Record>, (u64, u64)), Error> {
        let start = self.lower_bound(o, prefix)?;
        let mut records: Vec<Record> = Vec::new();
        let mut pos = start;
        while pos < o.len {
            let line = self.line_at(o, pos)?;
            if !line.starts_with(prefix) {
                break;
            }
            let rec = format::decode(&line).map_err(|reason| self.corrupt(o, pos, reason))?;
            if records.iter().any(|r| r.key == rec.key) {
                return Err(self.corrupt(o, pos, "duplicate credential"));
            }
            records.push(rec);
            pos += line.len() as u64 + 1;
        }
        Ok((records, (start, pos)))
    }

    /// Offset of the first line `>= prefix` (bytewise), or the end of the file.
    fn lower_bound(&self, o: &Opened, prefix: &[u8]) -> Result<u64, Error> {
        let (mut lo, mut hi) = (o.data_start, o.len);
        // Invariant: lo and hi are line starts (or the end); every line before lo is < prefix
        // and the line at hi (if any) is >= prefix.
        while hi - lo > 4096 {
            let mid = lo + (hi - lo) / 2;
            let start = self.next_line_start(o, mid)?;
            if start >= hi {
                break;
            }
            let line = self.line_at(o, start)?;
            if line[..] < *prefix {
                lo = start + line.len() as u64 + 1;
            } else {
                hi = start;
            }
        }
        let mut pos = lo;
        while pos < hi {
            let line = self.line_at(o, pos)?;
            if line[..] >= *prefix {
                return Ok(pos);
            }
            pos += line.len() as u64 + 1;
        }
        Ok(hi)
    }

    /// The first line start at or after `pos` (pos > data_start).
    fn next_line_start(&self, o: &Opened, pos: u64) -> Result<u64, Error> {
        let mut at = pos - 1;
        while at < o.len {
            let n = 512.min(o.len - at) as usize;
            let chunk = read_at(&o.file, at, n).map_err(self.io_err("read", &self.path))?;
            if let Some(i) = chunk.iter().position(|&b| b == b'\n') {
                return Ok(at + i as u64 + 1);
            }
            at += n as u64;
        }
        Ok(o.len)
    }

    /// The line starting at `pos`, without its LF, in a buffer wiped on drop.
    fn line_at(&self, o: &Opened, pos: u64) -> Result<Zeroizing<Vec<u8>>, Error> {
        let mut want = 512usize;
        loop {
            let n = (want as u64).min(o.len - pos) as usize;
            let mut buf = read_at(&o.file, pos, n).map_err(self.io_err("read", &self.path))?;
            if let Some(i) = buf.iter().position(|&b| b == b'\n') {
                buf.truncate(i);
                return Ok(buf);
            }
            if n < want {
                return Err(self.corrupt(o, pos, "the last line has no newline"));
            }
            want *= 4;
        }
    }

    /// A corruption error naming the line number of the byte offset `pos` (counted only
    /// on this error path).
    fn corrupt(&self, o: &Opened, pos: u64, reason: &'static str) -> Error {
        let mut line = 1;
        let mut off = 0;
        while off < pos {
            let n = 65536.min(pos - off) as usize;
            match read_at(&o.file, off, n) {
                Ok(chunk) => line += chunk.iter().filter(|&&b| b == b'\n').count(),
                Err(_) => break,
            }
            off += n as u64;
        }
        Error::Corrupt {
            path: self.path.clone(),
            line,
            reason,
        }
    }

    /// Reads and decodes every record.
    fn read_all(&self, o: &Opened) -> Result<Vec<Record>, Error> {
        let mut buf = Zeroizing::new(Vec::with_capacity(o.len as usize + 1));
        (&o.file)
            .seek(SeekFrom::Start(0))
            .map_err(self.io_err("read", &self.path))?;
        (&o.file)
            .take(o.len)
            .read_to_end(&mut buf)
            .map_err(self.io_err("read", &self.path))?;
        let data = &buf[o.data_start as usize..];
        if !data.is_empty() && data.last() != Some(&b'\n') {
            let pos = o.data_start
                + data
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(0, |i| i as u64 + 1);
            return Err(self.corrupt(o, pos, "the last line has no newline"));
        }
        let mut records: Vec<Record> = Vec::new();
        let mut lineno = if o.data_start > 0 { 1 } else { 0 };
        for line in data.split(|&b| b == b'\n') {
            if line.is_empty() {
                continue;
            }
            lineno += 1;
            let corrupt = |reason| Error::Corrupt {
                path: self.path.clone(),
                line: lineno,
                reason,
            };
            let rec = format::decode(line).map_err(corrupt)?;
            records.push(rec);
        }
        records.sort_by(|a, b| a.key.cmp(&b.key));
        if records.windows(2).any(|w| w[0].key == w[1].key) {
            return Err(Error::Corrupt {
                path: self.path.clone(),
                line: 0,
                reason: "duplicate credential",
            });
        }
        Ok(records)
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

    fn load_host(&self, host: &HostKey) -> Result<Vec<Record>, Error> {
        match self.open_checked()? {
            None => Ok(Vec::new()),
            Some(o) => Ok(self.read_group(&o, &format::group_prefix(host))?.0),
        }
    }

    fn update_host(&self, host: &HostKey, update: &mut Update<'_>) -> Result<bool, Error> {
        self.ensure_dir()?;
        let _lock = self.lock()?;
        let opened = self.open_checked()?;
        let prefix = format::group_prefix(host);
        let (mut records, (start, end)) = match &opened {
            Some(o) => self.read_group(o, &prefix)?,
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
        let _lock = self.lock()?;
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
        Ok(true)
    }
}

/// Takes an exclusive lock on `path` (created 0600 if missing), waiting at most
/// [`LOCK_WAIT`] for another writer; the lock is released when the returned file is dropped.
pub(crate) fn lock_exclusive(path: PathBuf) -> Result<File, Error> {
    let io_err = |op, path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Io { op, path, source }
    };
    let f = create_options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io_err("open the lock file", &path))?;
    if crate::lock::lock_bounded(&f, LOCK_WAIT).map_err(io_err("lock", &path))? {
        Ok(f)
    } else {
        Err(Error::LockTimeout {
            path,
            secs: LOCK_WAIT.as_secs(),
        })
    }
}

fn encode_sorted(records: &[Record]) -> Vec<Zeroizing<Vec<u8>>> {
    let mut lines: Vec<_> = records.iter().map(format::encode).collect();
    lines.sort_by(|a, b| a[..].cmp(&b[..]));
    lines
}

/// Copies bytes `[from, to)` of `src` to the end of `dst`; on Linux `io::copy` does this with
/// `copy_file_range`, so the old tokens never pass through this process's memory.
fn copy_range(src: &File, from: u64, to: u64, dst: &mut File) -> io::Result<()> {
    if to <= from {
        return Ok(());
    }
    let mut s = src;
    s.seek(SeekFrom::Start(from))?;
    let copied = io::copy(&mut s.take(to - from), dst)?;
    if copied != to - from {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "credentials file shrank while being copied",
        ));
    }
    Ok(())
}

/// Reads exactly `n` bytes at `off` (fewer only at EOF) into a wiped buffer.
fn read_at(f: &File, off: u64, n: usize) -> io::Result<Zeroizing<Vec<u8>>> {
    let mut buf = Zeroizing::new(vec![0u8; n]);
    let mut got = 0;
    while got < n {
        match pread(f, &mut buf[got..], off + got as u64) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buf.truncate(got);
    Ok(buf)
}

#[cfg(unix)]
fn pread(f: &File, buf: &mut [u8], off: u64) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(f, buf, off)
}

#[cfg(windows)]
fn pread(f: &File, buf: &mut [u8], off: u64) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(f, buf, off)
}

#[cfg(unix)]
fn create_options() -> OpenOptions {
    use std::os::unix::fs::OpenOptionsExt;
    let mut o = OpenOptions::new();
    o.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    o
}

#[cfg(not(unix))]
fn create_options() -> OpenOptions {
    OpenOptions::new()
}

#[cfg(unix)]
fn open_nofollow(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
}

#[cfg(not(unix))]
fn open_nofollow(path: &Path) -> io::Result<File> {
    if path.symlink_metadata()?.file_type().is_symlink() {
        return Err(io::Error::other("symbolic link"));
    }
    File::open(path)
}

#[cfg(unix)]
fn is_symlink_error(e: &io::Error) -> bool {
    e.raw_os_error() == Some(libc::ELOOP)
}

#[cfg(not(unix))]
fn is_symlink_error(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::Other
}

/// Sets mode 0600 on a file we created: the umask may have taken bits off `mode(0o600)`
/// (owner write included), and the result must not depend on it.
#[cfg(unix)]
fn set_private(f: &File) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    f.set_permissions(std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn set_private(_: &File) -> io::Result<()> {
    Ok(())
}

/// Creates `dir` and missing parents with mode 0700, whatever the umask.
#[cfg(unix)]
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}

/// Creates `dir` and missing parents.
#[cfg(not(unix))]
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)
}

/// Makes a rename durable: fsync the directory that holds the entry.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_: &Path) -> io::Result<()> {
    Ok(())
}
