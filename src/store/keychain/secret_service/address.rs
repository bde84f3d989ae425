//! The session bus socket, connected here when the address is a plain Unix socket (as it
//! nearly always is): `DBUS_SESSION_BUS_ADDRESS=unix:path=...` or `unix:abstract=...`, or
//! unset, meaning `$XDG_RUNTIME_DIR/bus` (else `/run/user/UID/bus`), as zbus reads it. A Unix
//! socket connects at once, so no thread is needed for it; any other address (several
//! alternatives, `tcp:`, `launchd:`, ...) is left to zbus.

use std::ffi::OsString;
use std::io;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;

/// Where the session bus is, when it is a single Unix socket.
#[derive(Debug, PartialEq, Eq)]
enum Socket {
    Path(PathBuf),
    #[cfg_attr(not(any(target_os = "linux", target_os = "android")), allow(dead_code))]
    Abstract(Vec<u8>),
}

/// The session bus, connected; `None` when its address is not a single Unix socket.
pub fn session_socket(env: &dyn Fn(&str) -> Option<OsString>) -> Option<io::Result<UnixStream>> {
    match socket_of(env)? {
        Socket::Path(p) => Some(UnixStream::connect(p)),
        #[cfg(any(target_os = "linux", target_os = "android"))]
        Socket::Abstract(name) => {
            use std::os::linux::net::SocketAddrExt;
            Some(
                std::os::unix::net::SocketAddr::from_abstract_name(&name)
                    .and_then(|a| UnixStream::connect_addr(&a)),
            )
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        Socket::Abstract(_) => None,
    }
}

fn socket_of(env: &dyn Fn(&str) -> Option<OsString>) -> Option<Socket> {
    let address = match env("DBUS_SESSION_BUS_ADDRESS") {
        Some(a) if !a.is_empty() => a.into_string().ok()?,
        _ => {
            let runtime = env("XDG_RUNTIME_DIR")
                .filter(|d| !d.is_empty())
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(format!("/run/user/{}", crate::fsperm::euid())));
            return Some(Socket::Path(runtime.join("bus")));
        }
    };
    let entry = address.strip_suffix(';').unwrap_or(&address);
    if entry.contains(';') {
        return None;
    }
    let params = entry.strip_prefix("unix:")?;
    let mut found = None;
    for kv in params.split(',') {
        let (k, v) = kv.split_once('=')?;
        let v = unescape(v)?;
        match k {
            "path" => found = Some(Socket::Path(PathBuf::from(OsString::from_vec(v)))),
            "abstract" => found = Some(Socket::Abstract(v)),
            "guid" => {}
            // `dir=`, `tmpdir=`, `runtime=` (listening addresses) and anything newer.
            _ => return None,
        }
    }
    found
}

use std::os::unix::ffi::OsStringExt;

/// A D-Bus address value with its `%XX` escapes decoded.
fn unescape(v: &str) -> Option<Vec<u8>> {
    let b = v.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(addr: Option<&str>) -> Option<Socket> {
        let addr = addr.map(OsString::from);
        socket_of(&|k| match k {
            "DBUS_SESSION_BUS_ADDRESS" => addr.clone(),
            "XDG_RUNTIME_DIR" => Some("/run/user/7".into()),
            _ => None,
        })
    }

    #[test]
    fn unix_sockets_are_ours_other_addresses_are_zbus() {
        assert_eq!(of(None), Some(Socket::Path("/run/user/7/bus".into())));
        assert_eq!(of(Some("")), Some(Socket::Path("/run/user/7/bus".into())));
        assert_eq!(
            of(Some("unix:path=/tmp/dbus-x,guid=1273e7")),
            Some(Socket::Path("/tmp/dbus-x".into()))
        );
        assert_eq!(
            of(Some("unix:path=/tmp/a%20b%2c")),
            Some(Socket::Path("/tmp/a b,".into()))
        );
        assert_eq!(
            of(Some("unix:abstract=/tmp/dbus-Q;")),
            Some(Socket::Abstract(b"/tmp/dbus-Q".to_vec()))
        );
        for other in [
            "tcp:host=localhost,port=1",
            "unix:path=/a;unix:path=/b",
            "unix:dir=/tmp",
            "unix:path=/a%2",
            "launchd:env=X",
        ] {
            assert_eq!(of(Some(other)), None, "{other}");
        }
    }
}
