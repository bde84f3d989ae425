//! What a credential is stored under, and which stored credentials a request reaches.
//!
//! A key is protocol (exact) + host (ASCII-lowercased, port kept exactly as sent) + path
//! (slashes and a trailing `.git` trimmed; none for a host-wide token) + username (exact;
//! empty is a value, distinct from absent). Hosts are compared byte for byte after that one
//! normalisation: no suffix, substring or pattern matching (CVE-2024-53858).

use crate::display::escape;

/// The protocol and host part of a key: every stored credential a request can reach shares
/// it, so backends group and look up credentials by it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HostKey {
    /// `https`, `http`, `smtp`, `cert`, ... compared exactly.
    pub protocol: Vec<u8>,
    /// Lowercased host, with `:port` as git sent it; may be empty.
    pub host: Vec<u8>,
}

impl HostKey {
    /// Builds a host key, lowercasing the host.
    pub fn new(protocol: &[u8], host: &[u8]) -> HostKey {
        HostKey {
            protocol: protocol.to_vec(),
            host: host.to_ascii_lowercase(),
        }
    }
}

impl HostKey {
    /// `protocol://host`, as git's `credential.<url>` settings name it: for git's arguments,
    /// not for people (see [`HostKey::display`]).
    pub fn origin(&self) -> String {
        format!(
            "{}://{}",
            String::from_utf8_lossy(&self.protocol),
            String::from_utf8_lossy(&self.host)
        )
    }

    /// `protocol://host` for people, control characters escaped.
    pub fn display(&self) -> String {
        format!("{}://{}", escape(&self.protocol), escape(&self.host))
    }
}

/// The full key of a stored credential.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    /// Protocol and host.
    pub host: HostKey,
    /// Normalised path; `None` for a host-wide credential.
    pub path: Option<Vec<u8>>,
    /// Username; `None` only for an authtype credential stored without one.
    pub username: Option<Vec<u8>>,
}

impl Key {
    /// Builds a key, normalising host and path.
    pub fn new(protocol: &[u8], host: &[u8], path: Option<&[u8]>, username: Option<&[u8]>) -> Key {
        Key {
            host: HostKey::new(protocol, host),
            path: path.and_then(normalize_path),
            username: username.map(<[u8]>::to_vec),
        }
    }

    /// The key as a URL for people: `https://user@host/path`, control characters escaped.
    pub fn display(&self) -> String {
        let mut s = escape(&self.host.protocol);
        s.push_str("://");
        if let Some(u) = &self.username {
            s.push_str(&escape(u));
            s.push('@');
        }
        s.push_str(&escape(&self.host.host));
        if let Some(p) = &self.path {
            s.push('/');
            s.push_str(&escape(p));
        }
        s
    }
}

/// Trims leading and trailing slashes and one trailing `.git`; an empty result is no path.
pub fn normalize_path(path: &[u8]) -> Option<Vec<u8>> {
    fn trim(mut p: &[u8]) -> &[u8] {
        while let [b'/', rest @ ..] = p {
            p = rest;
        }
        while let [rest @ .., b'/'] = p {
            p = rest;
        }
        p
    }
    let mut p = trim(path);
    if let Some(stripped) = p.strip_suffix(b".git") {
        p = trim(stripped);
    }
    (!p.is_empty()).then(|| p.to_vec())
}

/// A request's `path` after dot-segment resolution: what matching sees.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReqPath {
    /// No path: git sends one only with `credential.useHttpPath`.
    Absent,
    /// A path that is empty once resolved and trimmed (`/`, `acme/..`): the root, which
    /// host-wide credentials serve. Unlike [`ReqPath::Absent`] it is no wildcard for erase.
    Root,
    /// A resolved, normalised path.
    At(Vec<u8>),
    /// A path that climbs above the root (`../acme`, `a/../../b`): fails closed, matching
    /// host-wide credentials only and storing nothing.
    Climbs,
}

impl ReqPath {
    /// Resolves a request's raw `path` (see [`resolve_path`]).
    pub fn of(raw: Option<&[u8]>) -> ReqPath {
        match raw {
            None => ReqPath::Absent,
            Some(p) => match resolve_path(p) {
                None => ReqPath::Climbs,
                Some(p) => normalize_path(&p).map_or(ReqPath::Root, ReqPath::At),
            },
        }
    }

    /// The resolved path, if there is one.
    pub fn as_deref(&self) -> Option<&[u8]> {
        match self {
            ReqPath::At(p) => Some(p),
            _ => None,
        }
    }
}

/// Removes `.` and `..` segments as RFC 3986 §5.2.4 (remove_dot_segments) does; `None` when a
/// `..` would climb above the root. Git hands helpers a URL's `%2e%2e` decoded, and curl
/// resolves dot segments before it sends the request, so the path git names is not the
/// path the server serves until this is done.
pub fn resolve_path(path: &[u8]) -> Option<Vec<u8>> {
    let mut out: Vec<&[u8]> = Vec::new();
    let leading = path.first() == Some(&b'/');
    let body = if leading { &path[1..] } else { path };
    for seg in body.split(|&b| b == b'/') {
        match seg {
            b"." => {}
            b".." => {
                out.pop()?;
            }
            s => out.push(s),
        }
    }
    let mut joined = out.join(&b'/');
    if leading {
        joined.insert(0, b'/');
    }
    Some(joined)
}

/// Whether a credential stored with `stored` path serves a request for `requested`.
///
/// Host-wide credentials serve every request; a request without a path reaches only those;
/// a stored path `P` serves `P` and `P/...`, whole segments only (`acme` never serves
/// `acme-corp`).
pub fn path_serves(stored: Option<&[u8]>, requested: Option<&[u8]>) -> bool {
    match (stored, requested) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(p), Some(r)) => {
            r == p || (r.len() > p.len() && r.starts_with(p) && r[p.len()] == b'/')
        }
    }
}

/// How specific a stored path is: longer wins among credentials that serve a request.
pub fn specificity(path: Option<&[u8]>) -> usize {
    path.map_or(0, |p| p.len() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_is_lowercased_and_port_kept() {
        let k = HostKey::new(b"https", b"GitHub.COM:443");
        assert_eq!(k.host, b"github.com:443");
        assert_ne!(
            HostKey::new(b"https", b"github.com:443"),
            HostKey::new(b"https", b"github.com")
        );
        assert_ne!(HostKey::new(b"http", b"a"), HostKey::new(b"https", b"a"));
        assert_ne!(
            HostKey::new(b"HTTPS", b"a"),
            HostKey::new(b"https", b"a"),
            "protocol exact"
        );
    }

    #[test]
    fn paths_are_trimmed() {
        assert_eq!(
            normalize_path(b"/acme/tool.git/"),
            Some(b"acme/tool".to_vec())
        );
        assert_eq!(
            normalize_path(b"acme/tool.git"),
            Some(b"acme/tool".to_vec())
        );
        assert_eq!(normalize_path(b"acme"), Some(b"acme".to_vec()));
        assert_eq!(normalize_path(b"/"), None);
        assert_eq!(normalize_path(b""), None);
        assert_eq!(normalize_path(b".git"), None);
        assert_eq!(
            normalize_path(b"Acme/Tool"),
            Some(b"Acme/Tool".to_vec()),
            "case kept"
        );
    }

    #[test]
    fn stored_paths_serve_whole_segments() {
        assert!(path_serves(None, None));
        assert!(path_serves(None, Some(b"acme/tool")));
        assert!(!path_serves(Some(b"acme"), None));
        assert!(path_serves(Some(b"acme"), Some(b"acme")));
        assert!(path_serves(Some(b"acme"), Some(b"acme/tool")));
        assert!(!path_serves(Some(b"acme"), Some(b"acme-corp/tool")));
        assert!(!path_serves(Some(b"acme/tool"), Some(b"acme")));
    }

    #[test]
    fn dot_segments_are_resolved_and_climbing_fails_closed() {
        let of = |p: &[u8]| ReqPath::of(Some(p));
        assert_eq!(of(b"acme/../other/x"), ReqPath::At(b"other/x".to_vec()));
        assert_eq!(
            of(b"other/../acme/tool.git"),
            ReqPath::At(b"acme/tool".to_vec())
        );
        assert_eq!(of(b"/acme/./tool/"), ReqPath::At(b"acme/tool".to_vec()));
        assert_eq!(of(b"acme/tool/.."), ReqPath::At(b"acme".to_vec()));
        assert_eq!(of(b"acme/.."), ReqPath::Root);
        assert_eq!(of(b"/"), ReqPath::Root);
        assert_eq!(of(b"../acme"), ReqPath::Climbs);
        assert_eq!(of(b"/../acme"), ReqPath::Climbs);
        assert_eq!(of(b"a/../../b"), ReqPath::Climbs);
        assert_eq!(
            of(b"a/.../b"),
            ReqPath::At(b"a/.../b".to_vec()),
            "only . and .."
        );
        assert_eq!(of(b"a/..b"), ReqPath::At(b"a/..b".to_vec()));
        assert_eq!(ReqPath::of(None), ReqPath::Absent);
    }

    #[test]
    fn display_escapes_control_characters() {
        let k = Key::new(
            b"https",
            b"evil\x1b[2J.example",
            Some(b"a\nb"),
            Some(b"bob"),
        );
        assert_eq!(
            k.display(),
            "https://bob@evil\\x1B[2j.example/a\\x0Ab",
            "host is lowercased"
        );
    }
}
