//! URLs as people write them for `add`/`remove` and as git-credential-store writes them.
//!
//! Hand-parsed on purpose: the `url` crate normalises away what git keys on (it drops a
//! default port such as `:443` and rewrites hosts), while a credential's host must stay
//! exactly as written.

use zeroize::Zeroizing;

use crate::display::escape;
use crate::key::{HostKey, Key};

/// The parts of `scheme://[user[:password]@]host[:port][/path]`, percent-decoded.
pub struct CredUrl {
    /// The scheme, e.g. `https`.
    pub protocol: Vec<u8>,
    /// Host and port as written (decoded).
    pub host: Vec<u8>,
    /// The path without its leading `/`, if any.
    pub path: Option<Vec<u8>>,
    /// The user of the userinfo, if any.
    pub username: Option<Vec<u8>>,
    /// The password of the userinfo, if any (only git-credential-store files carry one).
    pub password: Option<Zeroizing<Vec<u8>>>,
}

impl std::fmt::Debug for CredUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredUrl")
            .field("protocol", &self.protocol)
            .field("host", &self.host)
            .field("path", &self.path)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

impl CredUrl {
    /// Parses `s`. Errors say what is wrong, never echo the input (it may hold a token).
    pub fn parse(s: &[u8]) -> Result<CredUrl, &'static str> {
        let sep = s
            .windows(3)
            .position(|w| w == b"://")
            .ok_or("not a URL (no scheme://)")?;
        let scheme = &s[..sep];
        if scheme.is_empty()
            || !scheme
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(b))
        {
            return Err("not a URL (invalid scheme)");
        }
        let rest = &s[sep + 3..];
        let (authority, path) = match rest.iter().position(|&b| b == b'/') {
            Some(i) => (&rest[..i], Some(&rest[i + 1..])),
            None => (rest, None),
        };
        let (userinfo, host) = match authority.iter().rposition(|&b| b == b'@') {
            Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
            None => (None, authority),
        };
        let (username, password) = match userinfo {
            None => (None, None),
            Some(ui) => match ui.iter().position(|&b| b == b':') {
                Some(i) => (Some(decode(&ui[..i])?), Some(decode(&ui[i + 1..])?)),
                None => (Some(decode(ui)?), None),
            },
        };
        let path = match path {
            Some(p) => Some(decode(p)?),
            None => None,
        };
        Ok(CredUrl {
            protocol: scheme.to_vec(),
            host: decode(host)?.to_vec(),
            path: path.map(|p| p.to_vec()),
            username: username.map(|u| u.to_vec()),
            password,
        })
    }

    /// Parses a URL typed by a person and checks that it is one a remote can have, so that
    /// what is stored under it is what git asks for: a host (a port, if any, of 1 to 65535 digits
    /// after it), no spaces or control bytes in it, no `@` left in the user (`u@@host`), no
    /// `?query` or `#fragment` (git stops the host at them, and a remote's path has none);
    /// the scheme is lowered, as git compares it. The error is the reason, without the URL.
    pub fn parse_remote(s: &[u8]) -> Result<CredUrl, &'static str> {
        let url = CredUrl::parse(s)?;
        let rest = s.splitn(2, |&b| b == b'/').nth(1).unwrap_or_default();
        let authority = rest.strip_prefix(b"/").unwrap_or(rest);
        let authority = authority.split(|&b| b == b'/').next().unwrap_or_default();
        if authority.iter().filter(|&&b| b == b'@').count() > 1 {
            return Err("an '@' in the user (write it as %40 if it is part of the name)");
        }
        url.check_as_remote()
    }

    /// The checks of [`CredUrl::parse_remote`] on the parsed URL.
    fn check_as_remote(mut self) -> Result<CredUrl, &'static str> {
        self.protocol.make_ascii_lowercase();
        if self.host.is_empty() {
            return Err("no host");
        }
        let bad = |b: &u8| b.is_ascii_whitespace() || b.is_ascii_control() || *b == 0x7f;
        if self.host.iter().any(bad) {
            return Err("a space or control character in the host");
        }
        let all = [Some(&self.host), self.path.as_ref()];
        if all
            .iter()
            .flatten()
            .any(|v| v.iter().any(|b| b"?#".contains(b)))
        {
            return Err("a ?query or #fragment: give the repository's URL without it");
        }
        // The port: after the last ':' outside an IPv6 literal's brackets.
        let after_bracket = self
            .host
            .iter()
            .rposition(|&b| b == b']')
            .map_or(0, |i| i + 1);
        if let Some(colon) = self.host[after_bracket..].iter().rposition(|&b| b == b':') {
            let port = &self.host[after_bracket + colon + 1..];
            // Digits only: `parse` alone would take a leading '+'.
            let ok = port.iter().all(u8::is_ascii_digit)
                && std::str::from_utf8(port)
                    .ok()
                    .and_then(|p| p.parse::<u16>().ok())
                    .is_some_and(|p| p != 0);
            if !ok {
                return Err("a port that is not a number from 1 to 65535");
            }
        }
        Ok(self)
    }

    /// The credential key this URL names (`username` overrides the URL's user).
    pub fn key(&self, username: Option<&[u8]>) -> Key {
        Key::new(
            &self.protocol,
            &self.host,
            self.path.as_deref(),
            username.or(self.username.as_deref()),
        )
    }

    /// `scheme://host[/path]` as git's `--get-urlmatch` takes it (no user, no password; raw
    /// bytes made lossy UTF-8: git config URLs are text).
    pub fn origin_and_path(&self) -> String {
        let mut s = format!(
            "{}://{}",
            String::from_utf8_lossy(&self.protocol),
            String::from_utf8_lossy(&self.host)
        );
        if let Some(p) = &self.path {
            s.push('/');
            s.push_str(&String::from_utf8_lossy(p));
        }
        s
    }

    /// The URL for people, as written but without its password: `scheme://[user@]host[/path]`,
    /// each part escaped.
    pub fn display(&self) -> String {
        let mut s = format!("{}://", escape(&self.protocol));
        if let Some(u) = &self.username {
            s.push_str(&escape(u));
            s.push('@');
        }
        s.push_str(&escape(&self.host));
        if let Some(p) = &self.path {
            s.push('/');
            s.push_str(&escape(p));
        }
        s
    }

    /// The URL of `host`'s origin (`protocol://host`, no user, no path).
    pub fn of_host(host: &HostKey) -> CredUrl {
        CredUrl {
            protocol: host.protocol.clone(),
            host: host.host.clone(),
            path: None,
            username: None,
            password: None,
        }
    }
}

/// Percent-decodes `s` into a wiped buffer; refuses bad escapes and decoded CR, LF or NUL
/// (they would smuggle protocol lines).
fn decode(s: &[u8]) -> Result<Zeroizing<Vec<u8>>, &'static str> {
    let mut out = Zeroizing::new(Vec::with_capacity(s.len()));
    let mut i = 0;
    while i < s.len() {
        let b = if s[i] == b'%' {
            let hex = s.get(i + 1..i + 3).ok_or("bad %-escape")?;
            let v = std::str::from_utf8(hex)
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or("bad %-escape")?;
            i += 3;
            v
        } else {
            i += 1;
            s[i - 1]
        };
        if matches!(b, b'\r' | b'\n' | 0) {
            return Err("a line break or NUL byte in the URL");
        }
        out.push(b);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_part_and_keeps_the_port() {
        let u = CredUrl::parse(b"https://oc%40to:p%3Ass@GitHub.com:443/acme/tool.git").unwrap();
        assert_eq!(u.protocol, b"https");
        assert_eq!(u.host, b"GitHub.com:443");
        assert_eq!(u.path.as_deref(), Some(&b"acme/tool.git"[..]));
        assert_eq!(u.username.as_deref(), Some(&b"oc@to"[..]));
        assert_eq!(u.password.as_deref().map(|p| &p[..]), Some(&b"p:ss"[..]));
        let k = u.key(None);
        assert_eq!(k.host.host, b"github.com:443");
        assert_eq!(k.path.as_deref(), Some(&b"acme/tool"[..]));
        assert!(!format!("{u:?}").contains("p:ss"));
    }

    #[test]
    fn display_escapes_each_part_and_never_shows_the_password() {
        let u = CredUrl::parse(b"https://u%07:ghp_x@Evil%1B[2J.example/a%E2%80%AEb").unwrap();
        assert_eq!(
            u.display(),
            "https://u\\x07@Evil\\x1B[2J.example/a\\u{202E}b"
        );
        let bare = CredUrl::parse(b"https://h").unwrap();
        assert_eq!(bare.display(), "https://h");
        let of_host = CredUrl::of_host(&HostKey::new(b"https", b"H:8443"));
        assert_eq!(of_host.display(), "https://h:8443");
    }

    #[test]
    fn refuses_what_is_not_a_credential_url() {
        assert!(CredUrl::parse(b"github.com/acme").is_err());
        assert!(CredUrl::parse(b"://h").is_err());
        assert!(CredUrl::parse(b"https://h%0aevil").is_err());
        assert!(CredUrl::parse(b"https://u:tok%0d@h").is_err());
        assert!(CredUrl::parse(b"https://h/%zz").is_err());
        let bare = CredUrl::parse(b"https://h/").unwrap();
        assert_eq!(bare.key(None).path, None);
    }

    #[test]
    fn urls_a_remote_cannot_have_are_refused_for_people() {
        let check = |u: &str| CredUrl::parse_remote(u.as_bytes());
        for ok in [
            "https://u@h.com",
            "https://h.com:8443/acme",
            "https://[::1]:8443",
            "https://[::1]",
            "https://u%40corp@h.com",
        ] {
            assert!(check(ok).is_ok(), "{ok}: {:?}", check(ok).err());
        }
        assert_eq!(check("HTTPS://h.com").unwrap().protocol, b"https");
        for (bad, why) in [
            ("https://u@h.com?x=1", "?query"),
            ("https://u@h.com/a#frag", "#fragment"),
            ("https://u@h.com:abc", "port"),
            ("https://u@h.com:99999", "port"),
            ("https://u@h.com:0", "port"),
            ("https://u@h.com:", "port"),
            ("https://u@", "no host"),
            ("https://u@@h.com", "'@' in the user"),
            ("https://u@h%20.com", "space"),
        ] {
            let e = check(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }
}
