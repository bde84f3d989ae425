//! The file system calls under the file backend, on Unix and Windows alike: opening without
//! following a symbolic link, creating private files and directories whatever the umask,
//! making a rename durable, positioned reads, in-kernel copies, and the writers' bounded lock.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::Duration;

use zeroize::Zeroizing;

use crate::store::Error;

/// How long a writer waits for another writer before giving up.
pub const LOCK_WAIT: Duration = Duration::from_secs(10);

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

/// Copies bytes `[from, to)` of `src` to the end of `dst`; on Linux `io::copy` does this with
/// `copy_file_range`, so the old tokens never pass through this process's memory.
pub(super) fn copy_range(src: &File, from: u64, to: u64, dst: &mut File) -> io::Result<()> {
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
pub(super) fn read_at(f: &File, off: u64, n: usize) -> io::Result<Zeroizing<Vec<u8>>> {
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
pub(super) fn create_options() -> OpenOptions {
    use std::os::unix::fs::OpenOptionsExt;
    let mut o = OpenOptions::new();
    o.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    o
}

#[cfg(not(unix))]
pub(super) fn create_options() -> OpenOptions {
    OpenOptions::new()
}

#[cfg(unix)]
pub(super) fn open_nofollow(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
}

#[cfg(not(unix))]
pub(super) fn open_nofollow(path: &Path) -> io::Result<File> {
    if path.symlink_metadata()?.file_type().is_symlink() {
        return Err(io::Error::other("symbolic link"));
    }
    File::open(path)
}

#[cfg(unix)]
pub(super) fn is_symlink_error(e: &io::Error) -> bool {
    e.raw_os_error() == Some(libc::ELOOP)
}

#[cfg(not(unix))]
pub(super) fn is_symlink_error(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::Other
}

/// Sets mode 0600 on a file we created: the umask may have taken bits off `mode(0o600)`
/// (owner write included), and the result must not depend on it.
#[cfg(unix)]
pub(super) fn set_private(f: &File) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    f.set_permissions(std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
pub(super) fn set_private(_: &File) -> io::Result<()> {
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
pub(super) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
pub(super) fn sync_dir(_: &Path) -> io::Result<()> {
    Ok(())
}
