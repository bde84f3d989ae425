//! The text encoding of records in the credentials file (format v1).
//!
//! ```text
//! # git-credential-pat credentials v1
//! https://github.com / @octocat stored=1764000000.123456789 expires=1767225599 password=ghp_abc
//! https://github.com /acme @octocat stored=1764000001.000000000 password=github_pat_xyz
//! ```
//!
//! One line per credential, fields separated by one space: `protocol://host`, path (`/` when
//! host-wide, else `/` + path), username (`@` + username, or `-` when absent), then
//! `name=value` attributes. Every field is percent-encoded for bytes below `!`, DEL, `%` and
//! non-ASCII (and `:`/`/` in the protocol), so a line never contains a space, CR or LF of its
//! own. Lines are sorted bytewise, which keeps every credential of one protocol + host
//! together behind the prefix `protocol://host ` (see [`group_prefix`]): lookups binary-search
//! the file instead of reading it all.

use zeroize::Zeroizing;

use crate::key::{HostKey, Key};
use crate::record::{Learned, Record, Stamp};
use crate::secret::Secret;

/// First line of every v1 file.
pub const HEADER: &[u8] = b"# git-credential-pat credentials v1\n";
/// What every header starts with, whatever the version.
pub const HEADER_PREFIX: &[u8] = b"# git-credential-pat credentials v";

/// Why a line could not be decoded. Never carries line content (it holds tokens).
pub type Reason = &'static str;

/// The prefix shared by every line of `host`'s credentials, and by no other line.
pub fn group_prefix(host: &HostKey) -> Vec<u8> {
    let mut out = Vec::with_capacity(host.protocol.len() + host.host.len() + 4);
    encode_into(&mut out, &host.protocol, true);
    out.extend_from_slice(b"://");
    encode_into(&mut out, &host.host, false);
    out.push(b' ');
    out
}

/// The first three fields of a line: `protocol://host /path @user` (no secret).
pub fn encode_key(key: &Key) -> Vec<u8> {
    let mut out = group_prefix(&key.host);
    out.push(b'/');
    if let Some(p) = &key.path {
        encode_into(&mut out, p, false);
    }
    out.push(b' ');
    match &key.username {
        Some(u) => {
            out.push(b'@');
            encode_into(&mut out, u, false);
        }
        None => out.push(b'-'),
    }
    out
}

/// Encodes `rec` as one line, LF included, in a buffer that is wiped on drop.
pub fn encode(rec: &Record) -> Zeroizing<Vec<u8>> {
    let secret_len = [&rec.password, &rec.credential, &rec.oauth_refresh_token]
        .iter()
        .map(|s| s.as_ref().map_or(0, |s| s.expose().len() * 3 + 24))
        .sum::<usize>();
    let mut out = Zeroizing::new(Vec::with_capacity(256 + secret_len));
    out.extend_from_slice(&encode_key(&rec.key));
    let stored = format!(" stored={}.{:09}", rec.stored.secs, rec.stored.nanos);
    out.extend_from_slice(stored.as_bytes());
    if let Some(e) = rec.expires {
        out.extend_from_slice(format!(" expires={e}").as_bytes());
    }
    if let Some(e) = rec.ttl_expires {
        out.extend_from_slice(format!(" ttl_expires={e}").as_bytes());
    }
    encode_learned(&mut out, &rec.learned);
    if let Some(a) = &rec.authtype {
        out.extend_from_slice(b" authtype=");
        encode_into(&mut out, a, false);
    }
    for (name, secret) in [
        ("password", &rec.password),
        ("credential", &rec.credential),
        ("oauth_refresh_token", &rec.oauth_refresh_token),
    ] {
        if let Some(s) = secret {
            out.push(b' ');
            out.extend_from_slice(name.as_bytes());
            out.push(b'=');
            encode_into(&mut out, s.expose(), false);
        }
    }
    out.push(b'\n');
    out
}

/// The forge's word on the token (DESIGN §8), non-secret: `login=NAME`, `scopes=A,B` (each
/// scope percent-encoded, `,` included; an empty value is an empty list), `verified=SECONDS`.
fn encode_learned(out: &mut Vec<u8>, learned: &Learned) {
    if let Some(login) = &learned.login {
        out.extend_from_slice(b" login=");
        encode_into(out, login, false);
    }
    if let Some(scopes) = &learned.scopes {
        out.extend_from_slice(b" scopes=");
        for (i, scope) in scopes.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            for &b in scope {
                if b == b',' {
                    out.extend_from_slice(b"%2C");
                } else {
                    encode_into(out, &[b], false);
                }
            }
        }
    }
    if let Some(v) = learned.verified {
        out.extend_from_slice(format!(" verified={v}").as_bytes());
    }
}

fn decode_scopes(value: &[u8]) -> Result<Vec<Vec<u8>>, Reason> {
    if value.is_empty() {
        return Ok(Vec::new());
    }
    value
        .split(|&b| b == b',')
        .map(|s| decode_field(s).map(|d| d.to_vec()))
        .collect()
}

/// Decodes one line (without its LF).
pub fn decode(line: &[u8]) -> Result<Record, Reason> {
    let (key, rest) = decode_key(line)?;
    decode_rest(key, rest)
}

/// Decodes only the key of a line (its first three fields, no secret) and returns the rest
/// of the line for [`decode_rest`]: lookups decode the secrets of the lines they may answer
/// with, not of every line of a host.
pub fn decode_key(line: &[u8]) -> Result<(Key, &[u8]), Reason> {
    let mut fields = line.splitn(4, |&b| b == b' ');
    let origin = fields.next().ok_or("empty line")?;
    let sep = origin
        .windows(3)
        .position(|w| w == b"://")
        .ok_or("no protocol://host")?;
    let protocol = decode_field(&origin[..sep])?;
    let host = decode_field(&origin[sep + 3..])?;
    let path_field = fields.next().ok_or("no path field")?;
    let path = match path_field.strip_prefix(b"/") {
        Some([]) => None,
        Some(p) => Some(decode_field(p)?),
        None => return Err("path field does not start with '/'"),
    };
    let user_field = fields.next().ok_or("no username field")?;
    let username = match user_field {
        b"-" => None,
        [b'@', u @ ..] => Some(decode_field(u)?),
        _ => return Err("username field is neither '-' nor '@name'"),
    };
    let key = Key {
        host: HostKey {
            protocol: protocol.to_vec(),
            host: host.to_vec(),
        },
        path: path.map(|p| p.to_vec()),
        username: username.map(|u| u.to_vec()),
    };
    Ok((key, fields.next().unwrap_or_default()))
}

/// Decodes the attributes that follow a line's key ([`decode_key`]).
pub fn decode_rest(key: Key, rest: &[u8]) -> Result<Record, Reason> {
    let fields = rest
        .split(|&b| b == b' ')
        .filter(|f| !rest.is_empty() || !f.is_empty());
    let mut rec = Record {
        key,
        password: None,
        oauth_refresh_token: None,
        authtype: None,
        credential: None,
        expires: None,
        ttl_expires: None,
        stored: Stamp::default(),
        learned: Learned::default(),
    };
    let mut saw_stored = false;
    for attr in fields {
        let eq = attr
            .iter()
            .position(|&b| b == b'=')
            .ok_or("attribute without '='")?;
        let (name, value) = (&attr[..eq], &attr[eq + 1..]);
        match name {
            b"stored" => {
                rec.stored = parse_stamp(value).ok_or("invalid stored= (expected Unix SECONDS.NANOSECONDS, nine digits after the dot)")?;
                saw_stored = true;
            }
            b"expires" => {
                rec.expires =
                    Some(parse_u64(value).ok_or("invalid expires= (expected Unix seconds)")?)
            }
            b"ttl_expires" => {
                rec.ttl_expires =
                    Some(parse_u64(value).ok_or("invalid ttl_expires= (expected Unix seconds)")?);
            }
            b"login" => rec.learned.login = Some(decode_field(value)?.to_vec()),
            b"scopes" => rec.learned.scopes = Some(decode_scopes(value)?),
            b"verified" => {
                rec.learned.verified =
                    Some(parse_u64(value).ok_or("invalid verified= (expected Unix seconds)")?);
            }
            b"authtype" => rec.authtype = Some(decode_field(value)?.to_vec()),
            b"password" => rec.password = Some(decode_secret(value)?),
            b"credential" => rec.credential = Some(decode_secret(value)?),
            b"oauth_refresh_token" => rec.oauth_refresh_token = Some(decode_secret(value)?),
            _ => return Err("unknown attribute"),
        }
    }
    if !saw_stored {
        return Err("no stored= attribute");
    }
    if rec.password.is_none() && rec.credential.is_none() {
        return Err("neither password= nor credential=");
    }
    Ok(rec)
}

fn needs_escape(b: u8, in_protocol: bool) -> bool {
    !(0x21..0x7f).contains(&b) || b == b'%' || (in_protocol && (b == b':' || b == b'/'))
}

fn encode_into(out: &mut Vec<u8>, bytes: &[u8], in_protocol: bool) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in bytes {
        if needs_escape(b, in_protocol) {
            out.extend_from_slice(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
        } else {
            out.push(b);
        }
    }
}

/// Percent-decodes a field into a buffer that is wiped on drop. Refuses bytes the encoder
/// would have escaped and malformed escapes, so every stored value has one spelling.
fn decode_field(field: &[u8]) -> Result<Zeroizing<Vec<u8>>, Reason> {
    let mut out = Zeroizing::new(Vec::with_capacity(field.len()));
    let mut i = 0;
    while i < field.len() {
        let b = field[i];
        if b == b'%' {
            let hex = field.get(i + 1..i + 3).ok_or("truncated %-escape")?;
            let v = std::str::from_utf8(hex)
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            out.push(v.ok_or("invalid %-escape")?);
            i += 3;
        } else if needs_escape(b, false) {
            return Err("unescaped control or non-ASCII byte");
        } else {
            out.push(b);
            i += 1;
        }
    }
    Ok(out)
}

fn decode_secret(field: &[u8]) -> Result<Secret, Reason> {
    Ok(Secret::from_slice(&decode_field(field)?))
}

fn parse_u64(v: &[u8]) -> Option<u64> {
    if v.is_empty() || v.len() > 20 || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(v).ok()?.parse().ok()
}

fn parse_stamp(v: &[u8]) -> Option<Stamp> {
    let dot = v.iter().position(|&b| b == b'.')?;
    let (secs, nanos) = (&v[..dot], &v[dot + 1..]);
    if nanos.len() != 9 {
        return None;
    }
    let nanos = u32::try_from(parse_u64(nanos)?)
        .ok()
        .filter(|n| *n < 1_000_000_000)?;
    Some(Stamp {
        secs: parse_u64(secs)?,
        nanos,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(path: Option<&[u8]>, user: Option<&[u8]>, token: &[u8]) -> Record {
        Record {
            key: Key::new(b"https", b"github.com", path, user),
            password: Some(Secret::from_slice(token)),
            oauth_refresh_token: None,
            authtype: None,
            credential: None,
            expires: None,
            ttl_expires: None,
            stored: Stamp {
                secs: 1_764_000_000,
                nanos: 5,
            },
            learned: Learned::default(),
        }
    }

    #[test]
    fn encodes_the_documented_line() {
        let mut r = rec(None, Some(b"octocat"), b"ghp_abc");
        r.expires = Some(1_767_225_599);
        assert_eq!(
            &encode(&r)[..],
            b"https://github.com / @octocat stored=1764000000.000000005 expires=1767225599 password=ghp_abc\n"
        );
        let scoped = rec(Some(b"acme/tool"), None, b"t");
        assert_eq!(
            &encode(&scoped)[..],
            b"https://github.com /acme/tool - stored=1764000000.000000005 password=t\n"
        );
    }

    #[test]
    fn round_trips_awkward_bytes() {
        let mut r = rec(Some(b"a b/c%d"), Some(b""), b"p w\t%\xff=");
        r.key.host.protocol = b"we:ird/".to_vec();
        r.key.host.host = b"".to_vec();
        r.authtype = Some(b"Bearer".to_vec());
        r.credential = Some(Secret::from_slice(b"cred"));
        r.oauth_refresh_token = Some(Secret::from_slice(b"r t"));
        let line = encode(&r);
        assert_eq!(
            line.iter().filter(|&&b| b == b' ').count(),
            7,
            "no raw spaces inside fields"
        );
        let back = decode(&line[..line.len() - 1]).unwrap();
        assert_eq!(back.key, r.key);
        assert!(back.same_content(&r));
        assert_eq!(back.authtype, r.authtype);
    }

    #[test]
    fn the_forges_word_is_kept_beside_the_token() {
        let mut r = rec(None, Some(b"octocat"), b"ghp_abc");
        r.learned = Learned {
            login: Some(b"Octo Cat".to_vec()),
            scopes: Some(vec![
                b"repo".to_vec(),
                b"read:org".to_vec(),
                b"a,b".to_vec(),
            ]),
            verified: Some(1_764_000_100),
        };
        let line = encode(&r);
        assert_eq!(
            &line[..],
            &b"https://github.com / @octocat stored=1764000000.000000005 login=Octo%20Cat scopes=repo,read:org,a%2Cb verified=1764000100 password=ghp_abc\n"[..]
        );
        let back = decode(&line[..line.len() - 1]).unwrap();
        assert_eq!(back.learned, r.learned);
        r.learned.scopes = Some(Vec::new());
        let line = encode(&r);
        assert!(line.windows(8).any(|w| w == b"scopes= "), "{line:?}");
        assert_eq!(decode(&line[..line.len() - 1]).unwrap().learned, r.learned);
        assert!(decode(b"https://h / @u stored=1.000000000 verified=x password=t").is_err());
    }

    #[test]
    fn group_prefix_separates_similar_hosts() {
        let a = group_prefix(&HostKey::new(b"https", b"github.com"));
        let line = encode(&rec(None, Some(b"u"), b"t"));
        assert!(line.starts_with(&a));
        assert!(!group_prefix(&HostKey::new(b"https", b"github.com.evil")).starts_with(&a));
        assert!(!line.starts_with(&group_prefix(&HostKey::new(b"https", b"github.co"))));
    }

    #[test]
    fn refuses_malformed_lines_without_echoing_them() {
        for bad in [
            &b"https://h / @u password=x"[..],
            b"https://h / @u stored=1.000000000",
            b"https://h acme @u stored=1.000000000 password=x",
            b"https://h / u stored=1.000000000 password=x",
            b"https//h / @u stored=1.000000000 password=x",
            b"https://h / @u stored=1.5 password=x",
            b"https://h / @u stored=1.000000000 password=%zz",
            b"https://h / @u stored=1.000000000 password=x bogus=1",
            b"https://h / @u stored=1.000000000 expires=soon password=x",
        ] {
            let e = decode(bad).unwrap_err();
            assert!(!e.contains("password=x"), "{e}");
        }
    }
}
