//! "Is this file private to me?" checks for the plain-text credentials file.
//!
//! On Unix a credentials file must be a regular file (not a symlink), owned by the effective
//! user, with no group or other permission bits, in a directory that group and others cannot
//! write (else they could swap the file). On other platforms the checks are documented
//! no-ops: the file lives in the per-user profile directory, whose ACLs keep others out.

use std::fs::Metadata;
use std::path::Path;

/// Why a file or directory is not private.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The path is a symbolic link.
    Symlink,
    /// Not a regular file.
    NotRegular,
    /// Owned by another user.
    ForeignOwner {
        /// The file's owner.
        owner: u32,
        /// The effective uid of this process.
        me: u32,
    },
    /// Group or other permission bits are set.
    LooseMode {
        /// The permission bits.
        mode: u32,
    },
    /// The directory is writable by group or others.
    DirWritable {
        /// The directory's permission bits.
        mode: u32,
    },
}

/// Checks the metadata of an opened credentials file (from `fstat`, so the file checked is the
/// file read).
pub fn check_file(meta: &Metadata) -> Result<(), Problem> {
    imp::check_file(meta)
}

/// Checks the directory that holds the credentials file.
pub fn check_dir(dir: &Path) -> std::io::Result<Result<(), Problem>> {
    imp::check_dir(dir)
}

#[cfg(unix)]
mod imp {
    use super::Problem;
    use std::fs::Metadata;
    use std::os::unix::fs::MetadataExt;
    use std::path::Path;

    pub fn euid() -> u32 {
        // SAFETY: geteuid(2) takes no arguments, cannot fail and touches no memory of ours.
        #[expect(unsafe_code)]
        unsafe {
            libc::geteuid()
        }
    }

    pub fn check_file(meta: &Metadata) -> Result<(), Problem> {
        if meta.file_type().is_symlink() {
            return Err(Problem::Symlink);
        }
        if !meta.file_type().is_file() {
            return Err(Problem::NotRegular);
        }
        let me = euid();
        if meta.uid() != me {
            return Err(Problem::ForeignOwner {
                owner: meta.uid(),
                me,
            });
        }
        let mode = meta.mode() & 0o7777;
        if mode & 0o077 != 0 {
            return Err(Problem::LooseMode { mode });
        }
        Ok(())
    }

    pub fn check_dir(dir: &Path) -> std::io::Result<Result<(), Problem>> {
        let meta = std::fs::metadata(dir)?;
        let mode = meta.mode() & 0o7777;
        Ok(if mode & 0o022 != 0 {
            Err(Problem::DirWritable { mode })
        } else {
            Ok(())
        })
    }
}

#[cfg(not(unix))]
mod imp {
    use super::Problem;
    use std::fs::Metadata;
    use std::path::Path;

    pub fn check_file(meta: &Metadata) -> Result<(), Problem> {
        if meta.file_type().is_symlink() {
            return Err(Problem::Symlink);
        }
        if !meta.file_type().is_file() {
            return Err(Problem::NotRegular);
        }
        Ok(())
    }

    pub fn check_dir(dir: &Path) -> std::io::Result<Result<(), Problem>> {
        std::fs::metadata(dir).map(|_| Ok(()))
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn scratch(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("gcp-fsperm-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o700)).unwrap();
        d
    }

    #[test]
    fn private_files_pass_and_loose_ones_fail() {
        let d = scratch("modes");
        let f = d.join("c");
        std::fs::write(&f, "x").unwrap();
        for (mode, ok) in [
            (0o600, true),
            (0o400, true),
            (0o640, false),
            (0o604, false),
            (0o660, false),
        ] {
            std::fs::set_permissions(&f, std::fs::Permissions::from_mode(mode)).unwrap();
            let got = check_file(&std::fs::symlink_metadata(&f).unwrap());
            assert_eq!(got.is_ok(), ok, "mode {mode:o}");
            if !ok {
                assert_eq!(got, Err(Problem::LooseMode { mode }));
            }
        }
        std::os::unix::fs::symlink(&f, d.join("link")).unwrap();
        assert_eq!(
            check_file(&std::fs::symlink_metadata(d.join("link")).unwrap()),
            Err(Problem::Symlink)
        );
        assert_eq!(
            check_file(&std::fs::metadata(&d).unwrap()),
            Err(Problem::NotRegular)
        );
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn writable_directories_fail() {
        let d = scratch("dir");
        assert_eq!(check_dir(&d).unwrap(), Ok(()));
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o775)).unwrap();
        assert_eq!(
            check_dir(&d).unwrap(),
            Err(Problem::DirWritable { mode: 0o775 })
        );
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(check_dir(&d).unwrap(), Ok(()));
        std::fs::remove_dir_all(&d).unwrap();
    }
}
