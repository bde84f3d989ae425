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
    NotRegular {
        /// What it is instead: "a FIFO (named pipe)", "a socket", "a directory", "a device".
        kind: &'static str,
    },
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

impl Problem {
    /// One line naming `path`, what is wrong with it and the fix; commands in it are
    /// shell-quoted, the path escaped.
    pub fn message(&self, path: &Path) -> String {
        let p = crate::display::escape_path(path);
        let q = crate::display::quoted_path(path);
        match self {
            Problem::Symlink => format!(
                "{p} is a symbolic link; refusing to follow it: replace it with the file itself, or point --file at the real path"
            ),
            Problem::NotRegular {
                kind: "a directory",
            } => format!(
                "{p} is a directory, not a regular file; refusing to use it: point --file at a file, or move the directory away"
            ),
            Problem::NotRegular { kind } => format!(
                "{p} is {kind}, not a regular file; refusing to open it: if you did not put it there, remove it: rm -- {q}"
            ),
            Problem::ForeignOwner { owner, me } => format!(
                "{p} is owned by uid {owner}, not by you (uid {me}); refusing to use it: remove it, or if it is yours (a file created under sudo), run: sudo chown {me} {q}"
            ),
            Problem::LooseMode { mode } => format!(
                "{p} is accessible by group or others (mode {mode:04o}); refusing to use it: run chmod 600 {q}, and replace any token others may have read"
            ),
            // A shared directory such as /tmp (sticky, world-writable) is never to be
            // chmod-ed: the file belongs elsewhere.
            Problem::DirWritable { mode } if mode & 0o1000 != 0 => format!(
                "{p} is a shared directory (mode {mode:04o}), writable by others; refusing to keep credentials in it: point --file at a private directory, such as the default ~/.local/share/git-credential-pat/credentials"
            ),
            Problem::DirWritable { mode } => format!(
                "{p} is writable by group or others (mode {mode:04o}), so they could replace the credentials file; refusing to use it: run chmod 700 {q}, or use --file in a private directory"
            ),
        }
    }
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

/// The permission bits of `meta` (`0o7777`; 0o600 off Unix).
pub fn mode_of(meta: &Metadata) -> u32 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        meta.mode() & 0o7777
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        0o600
    }
}

/// What a non-regular file is, for messages.
fn kind_of(meta: &Metadata) -> &'static str {
    let t = meta.file_type();
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_block_device() || t.is_char_device() {
            return "a device";
        }
    }
    if t.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

/// The effective user id of this process.
#[cfg(unix)]
pub fn euid() -> u32 {
    imp::euid()
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
            return Err(Problem::NotRegular {
                kind: super::kind_of(meta),
            });
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
            return Err(Problem::NotRegular {
                kind: super::kind_of(meta),
            });
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
            Err(Problem::NotRegular {
                kind: "a directory"
            })
        );
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_shared_directory_is_never_to_be_chmod_ed() {
        let m = Problem::DirWritable { mode: 0o1777 }.message(Path::new("/tmp"));
        assert!(
            m.contains("shared directory") && !m.contains("chmod"),
            "{m}"
        );
        let m = Problem::DirWritable { mode: 0o775 }.message(Path::new("/x"));
        assert!(m.contains("chmod 700 /x"), "{m}");
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

    #[test]
    fn messages_escape_the_path_and_quote_the_commands() {
        let path = Path::new("/tmp/a'\x1b[2J$(id)/c");
        let loose = Problem::LooseMode { mode: 0o644 }.message(path);
        assert_eq!(
            loose,
            r"/tmp/a'\x1B[2J$(id)/c is accessible by group or others (mode 0644); refusing to use it: run chmod 600 '/tmp/a'\''\x1B[2J$(id)/c', and replace any token others may have read"
        );
        let fifo = Problem::NotRegular { kind: "a FIFO" }.message(path);
        assert!(
            fifo.ends_with(r"remove it: rm -- '/tmp/a'\''\x1B[2J$(id)/c'"),
            "{fifo}"
        );
    }
}
