//! "No Secret Service on this bus", remembered for [`TTL`], so that `auto` on a machine
//! with a session bus but no keyring daemon (a server, a container, an SSH login) reads the
//! file at once instead of asking the bus on every git call.
//!
//! - One file per bus, holding no secret:
//!   `$XDG_RUNTIME_DIR/git-credential-pat/no-secret-service-<hash of the bus address>`, whose
//!   content is the address (checked on reading, so a hash collision is harmless). Its
//!   modification time is when absence was learned; one more than a second in the future does
//!   not count. The runtime dir is per user and emptied at logout, the right lifetime.
//! - Written with the care of every file of ours ([`crate::fsio`]): 0600 in a 0700
//!   directory, atomically, never through a symlink, never opened blocking.
//! - Only `auto` reads it: a command that asks for the keychain explicitly always asks the
//!   bus, so starting a keyring takes effect at once there, and within [`TTL`] under `auto`.
//! - Without `XDG_RUNTIME_DIR` nothing is remembered.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

use crate::fsio;

/// How long absence is remembered.
pub const TTL: Duration = Duration::from_secs(60);

/// The largest memo file read.
const MAX: u64 = 4096;

/// The session bus address zbus connects to, as it finds it: `DBUS_SESSION_BUS_ADDRESS`,
/// else the socket `bus` in `XDG_RUNTIME_DIR`.
fn bus_address(env: &dyn Fn(&str) -> Option<std::ffi::OsString>) -> Option<Vec<u8>> {
    match env("DBUS_SESSION_BUS_ADDRESS") {
        Some(a) if !a.is_empty() => Some(a.into_encoded_bytes()),
        _ => {
            let dir = PathBuf::from(env("XDG_RUNTIME_DIR")?);
            let mut a = b"unix:path=".to_vec();
            a.extend_from_slice(dir.join("bus").as_os_str().as_encoded_bytes());
            Some(a)
        }
    }
}

/// The memo file for the current bus and the address it must hold; `None` without a runtime
/// dir or a bus address.
fn memo_path(env: &dyn Fn(&str) -> Option<std::ffi::OsString>) -> Option<(PathBuf, Vec<u8>)> {
    let runtime = env("XDG_RUNTIME_DIR").filter(|d| !d.is_empty())?;
    let address = bus_address(env)?;
    let hash = Sha256::digest(&address);
    let name: String = hash[..8].iter().map(|b| format!("{b:02x}")).collect();
    let path = PathBuf::from(runtime)
        .join("git-credential-pat")
        .join(format!("no-secret-service-{name}"));
    Some((path, address))
}

/// Whether absence was learned on this bus less than [`TTL`] ago (at `now`).
pub fn remembered(env: &dyn Fn(&str) -> Option<std::ffi::OsString>, now: SystemTime) -> bool {
    let Some((path, address)) = memo_path(env) else {
        return false;
    };
    if !matches!(fsperm_dir_ok(&path), Some(true)) {
        return false;
    }
    let Ok(Some((file, meta))) = fsio::open_private(&path) else {
        return false;
    };
    let fresh = meta.modified().ok().is_some_and(|at| {
        now.duration_since(at).is_ok_and(|age| age < TTL)
            // Written this very instant by a clock a little ahead.
            || at.duration_since(now).is_ok_and(|ahead| ahead < Duration::from_secs(1))
    });
    if !fresh || meta.len() > MAX {
        return false;
    }
    let mut content = Vec::new();
    use std::io::Read;
    file.take(MAX).read_to_end(&mut content).is_ok()
        && content.strip_suffix(b"\n") == Some(&address[..])
}

/// Remembers that this bus has no Secret Service, best effort: a memo that cannot be
/// written only costs the next call a question to the bus.
pub fn remember(env: &dyn Fn(&str) -> Option<std::ffi::OsString>) {
    let Some((path, mut address)) = memo_path(env) else {
        return;
    };
    let dir = fsio::parent_of(&path);
    if dir.symlink_metadata().is_err() && fsio::create_private_dir(&dir).is_err() {
        return;
    }
    address.push(b'\n');
    let _ = fsio::write_private(&path, &address);
}

/// Whether the memo's directory is private (not writable by others); `None` when absent.
fn fsperm_dir_ok(path: &std::path::Path) -> Option<bool> {
    let dir = fsio::parent_of(path);
    if dir.symlink_metadata().ok()?.file_type().is_symlink() {
        return Some(false);
    }
    Some(matches!(crate::fsperm::check_dir(&dir), Ok(Ok(()))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("pat-memo-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        fsio::create_private_dir(&d).unwrap();
        d
    }

    #[test]
    fn absence_is_remembered_per_bus_for_a_minute() {
        let run = dir("ttl");
        let env_for = |addr: &'static str| {
            let run = run.clone();
            move |k: &str| match k {
                "XDG_RUNTIME_DIR" => Some(OsString::from(&run)),
                "DBUS_SESSION_BUS_ADDRESS" => Some(OsString::from(addr)),
                _ => None,
            }
        };
        let (a, b) = (env_for("unix:path=/tmp/a"), env_for("unix:path=/tmp/b"));
        let now = SystemTime::now();
        assert!(!remembered(&a, now));
        remember(&a);
        assert!(remembered(&a, now));
        assert!(!remembered(&b, now), "another bus is another question");
        assert!(remembered(&a, now + TTL - Duration::from_secs(2)));
        assert!(
            !remembered(&a, now + TTL + Duration::from_secs(2)),
            "forgotten"
        );
        let (path, _) = memo_path(&a).unwrap();
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().unwrap()), 0o700);
        // A loose memo is not ours: it counts for nothing.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(!remembered(&a, now));
        std::fs::remove_dir_all(&run).unwrap();
    }

    #[test]
    fn without_a_runtime_dir_nothing_is_remembered() {
        let env =
            |k: &str| (k == "DBUS_SESSION_BUS_ADDRESS").then(|| OsString::from("unix:path=/x"));
        remember(&env);
        assert!(!remembered(&env, SystemTime::now()));
    }

    #[test]
    fn the_default_address_is_the_runtime_dirs_bus_socket() {
        let env = |k: &str| (k == "XDG_RUNTIME_DIR").then(|| OsString::from("/run/user/7"));
        assert_eq!(bus_address(&env).unwrap(), b"unix:path=/run/user/7/bus");
    }
}
