//! Every file system call the helper makes on its own files: the credentials file, its lock
//! and temporary file, the keychain writers' lock and the expiry-warning state (DESIGN §3).
//!
//! - Opens never follow a symbolic link (`O_NOFOLLOW`) and never block (`O_NONBLOCK`: a FIFO
//!   planted at one of our paths would otherwise hang git); what was opened is then checked
//!   with `fstat` to be a regular file of ours ([`crate::fsperm`]).
//! - Files we create are mode 0600 and directories 0700 whatever the umask (set explicitly
//!   after creation), parents included.
//! - Replacements are atomic: a temporary file in the same directory, fsync, rename, fsync of
//!   the directory.
//! - Plus positioned reads, in-kernel copies and the writers' bounded lock.

use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use zeroize::Zeroizing;

use crate::fsperm::{self, Problem};

/// How long a writer waits for another writer before giving up.
pub const LOCK_WAIT: Duration = Duration::from_secs(10);

/// Why a file of ours could not be opened or used.
#[derive(Debug)]
pub enum OpenError {
    /// An OS error, with what was being done ("open", "lock", ...).
    Io(&'static str, io::Error),
    /// The path is not a private regular file of ours (a symlink, FIFO, directory, ...).
    Insecure(Problem),
    /// Another process held the lock for [`LOCK_WAIT`].
    LockTimeout,
}

/// Opens `path` for reading without following a symlink and without blocking, then checks
/// (on the opened file) that it is a regular file owned by us with no group/other bits.
/// `Ok(None)` when it does not exist.
pub fn open_private(path: &Path) -> Result<Option<(File, Metadata)>, OpenError> {
    let file = match open_nofollow(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) if is_symlink_error(&e) => return Err(OpenError::Insecure(Problem::Symlink)),
        Err(e) => return Err(refused(path, e)),
    };
    let meta = file.metadata().map_err(|e| OpenError::Io("inspect", e))?;
    fsperm::check_file(&meta).map_err(OpenError::Insecure)?;
    Ok(Some((file, meta)))
}

/// An open that failed with `e`. Refused for want of permission, a file of another user (one
/// left by `sudo git ...`, mode 0600, so only its owner can open it) is named as such, with
/// the fix, from `lstat` (which neither follows a link nor opens a FIFO); anything else is
/// the OS error.
fn refused(path: &Path, e: io::Error) -> OpenError {
    if e.kind() == io::ErrorKind::PermissionDenied
        && let Ok(meta) = std::fs::symlink_metadata(path)
        && let Err(problem @ Problem::ForeignOwner { .. }) = fsperm::check_file(&meta)
    {
        return OpenError::Insecure(problem);
    }
    OpenError::Io("open", e)
}

/// Reads a small private file (at most `cap` bytes; more is refused as not ours) into a
/// wiped buffer; `Ok(None)` when it does not exist.
pub fn read_private(path: &Path, cap: u64) -> Result<Option<Zeroizing<Vec<u8>>>, OpenError> {
    let Some((file, meta)) = open_private(path)? else {
        return Ok(None);
    };
    if meta.len() > cap {
        return Err(OpenError::Io(
            "read",
            io::Error::other(format!("larger than {cap} bytes")),
        ));
    }
    let mut buf = Zeroizing::new(Vec::with_capacity(meta.len() as usize));
    file.take(cap)
        .read_to_end(&mut buf)
        .map_err(|e| OpenError::Io("read", e))?;
    Ok(Some(buf))
}

/// Replaces `path` atomically with `data`: a fresh temporary file (random name, `O_EXCL`, so
/// nothing planted at a predictable name is followed) in the same, checked directory, mode
/// 0600 whatever the umask, fsync, rename over `path` (a symlink there is replaced, never
/// followed).
pub fn write_private(path: &Path, data: &[u8]) -> Result<(), OpenError> {
    let dir = parent_of(path);
    if let Err(problem) = fsperm::check_dir(&dir).map_err(|e| OpenError::Io("inspect", e))? {
        return Err(OpenError::Insecure(problem));
    }
    let mut tmp = tempfile::Builder::new()
        .prefix(".gcp-")
        .tempfile_in(&dir)
        .map_err(|e| OpenError::Io("create", e))?;
    let result = (|| {
        set_private(tmp.as_file())?;
        tmp.write_all(data)?;
        tmp.as_file().sync_all()
    })();
    result.map_err(|e| OpenError::Io("write", e))?;
    tmp.persist(path)
        .map_err(|e| OpenError::Io("replace", e.error))?;
    Ok(())
}

/// The directory that holds `path` (`.` for a bare name).
pub fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Takes an exclusive lock on `path`, waiting at most [`LOCK_WAIT`] for another writer; the
/// lock is released when the returned file is dropped. The lock file is created 0600 if
/// missing (and set back to 0600 if the umask took bits off; one left read-only is opened
/// read-only, as a lock needs no write access), never through a symlink and never blocking
/// on a FIFO.
pub fn lock_exclusive(path: &Path) -> Result<File, OpenError> {
    let opened = create_options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path);
    // A lock file left read-only by an earlier umask: a lock needs no write access.
    let opened = match opened {
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
            let mut read_only = create_options();
            read_only.read(true);
            read_only.open(path)
        }
        other => other,
    };
    let f = opened.map_err(|e| {
        if is_symlink_error(&e) {
            OpenError::Insecure(Problem::Symlink)
        } else if e.kind() == io::ErrorKind::IsADirectory {
            OpenError::Insecure(Problem::NotRegular {
                kind: "a directory",
            })
        } else if e.kind() == io::ErrorKind::ReadOnlyFilesystem {
            OpenError::Io(
                "take the writers' lock (the store is on a read-only file system: nothing can be changed there; use --file on a writable one)",
                e,
            )
        } else {
            refused(path, e)
        }
    })?;
    let meta = f.metadata().map_err(|e| OpenError::Io("inspect", e))?;
    match fsperm::check_file(&meta) {
        Ok(()) => {}
        Err(Problem::LooseMode { .. }) => {}
        Err(p) => return Err(OpenError::Insecure(p)),
    }
    if fsperm::mode_of(&meta) != 0o600 {
        set_private(&f).map_err(|e| OpenError::Io("set the mode of", e))?;
    }
    if crate::lock::lock_bounded(&f, LOCK_WAIT).map_err(|e| OpenError::Io("lock", e))? {
        Ok(f)
    } else {
        Err(OpenError::LockTimeout)
    }
}

/// Copies bytes `[from, to)` of `src` to the end of `dst`; on Linux `io::copy` does this with
/// `copy_file_range`, so the old tokens never pass through this process's memory.
pub fn copy_range(src: &File, from: u64, to: u64, dst: &mut File) -> io::Result<()> {
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
pub fn read_at(f: &File, off: u64, n: usize) -> io::Result<Zeroizing<Vec<u8>>> {
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

/// Options for creating a file of ours: mode 0600 (before the umask; see [`set_private`]),
/// no symlink followed, no blocking open.
#[cfg(unix)]
pub fn create_options() -> OpenOptions {
    use std::os::unix::fs::OpenOptionsExt;
    let mut o = OpenOptions::new();
    o.mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY);
    o
}

/// Options for creating a file of ours.
#[cfg(not(unix))]
pub fn create_options() -> OpenOptions {
    OpenOptions::new()
}

#[cfg(unix)]
fn open_nofollow(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
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
pub fn set_private(f: &File) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    f.set_permissions(std::fs::Permissions::from_mode(0o600))
}

/// Sets mode 0600 on a file we created (a no-op off Unix).
#[cfg(not(unix))]
pub fn set_private(_: &File) -> io::Result<()> {
    Ok(())
}

/// Creates `dir` and every missing parent with mode 0700, whatever the umask: each one is
/// made and then set to 0700 before the next is made inside it.
#[cfg(unix)]
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let missing: Vec<&Path> = dir
        .ancestors()
        .take_while(|p| !p.as_os_str().is_empty() && p.symlink_metadata().is_err())
        .collect();
    for p in missing.into_iter().rev() {
        match std::fs::DirBuilder::new().mode(0o700).create(p) {
            Ok(()) => std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o700))?,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Creates `dir` and missing parents.
#[cfg(not(unix))]
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)
}

/// Makes a rename durable: fsync the directory that holds the entry.
#[cfg(unix)]
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Makes a rename durable (a no-op off Unix).
#[cfg(not(unix))]
pub fn sync_dir(_: &Path) -> io::Result<()> {
    Ok(())
}
