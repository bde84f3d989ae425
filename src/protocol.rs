//! Git's credential wire format: a pure codec, no storage and no policy.
//!
//! Input is raw bytes split on LF only (never CR, never `lines()`), one `key=value` per line,
//! up to the first blank line or EOF. A value containing CR or NUL, a line longer than git's
//! own limit or a request over [`MAX_REQUEST`] is refused as a whole: a request that could
//! smuggle a line (CVE-2020-5260, CVE-2024-52006) is never half-read. Errors name the line
//! number and key, never a value, since values can be tokens. Unknown keys are ignored so
//! that future git attributes are safe.

use std::io::{self, Read, Write};

use zeroize::Zeroizing;

use crate::secret::Secret;

/// Longest line git writes or reads, LF included (`LARGE_PACKET_MAX`-style limit in git).
pub const MAX_LINE: usize = 65_535;
/// Largest request accepted; git's requests are a few hundred bytes.
pub const MAX_REQUEST: usize = 1 << 20;

/// Why a request was refused. Never carries a value.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParseError {
    /// A line without `=`.
    #[error("malformed request from git: line {line} has no '='")]
    EqualsMissing {
        /// 1-based line number.
        line: usize,
    },
    /// A NUL byte anywhere in a line.
    #[error("refused request: line {line} ({key}) contains a NUL byte")]
    NulByte {
        /// 1-based line number.
        line: usize,
        /// The key of the line when it is one of git's ([`known_key`]), else a description:
        /// anything else on the line may be a token.
        key: &'static str,
    },
    /// A CR byte anywhere in a line: a lone CR is how CVE-2024-52006 injected lines.
    #[error("refused request: line {line} ({key}) contains a carriage return")]
    CarriageReturn {
        /// 1-based line number.
        line: usize,
        /// The key of the line when it is one of git's ([`known_key`]), else a description.
        key: &'static str,
    },
    /// A line over [`MAX_LINE`] bytes.
    #[error("refused request: line {line} is longer than {MAX_LINE} bytes")]
    LineTooLong {
        /// 1-based line number.
        line: usize,
    },
    /// More than [`MAX_REQUEST`] bytes before the end of the request.
    #[error("refused request: larger than {MAX_REQUEST} bytes")]
    RequestTooLarge,
    /// A boolean attribute with a value git would not accept either.
    #[error("refused request: line {line} ({key}) is not a boolean")]
    BadBoolean {
        /// 1-based line number.
        line: usize,
        /// The key.
        key: &'static str,
    },
}

/// The keys git's credential protocol defines (gitcredentials(7), git-credential(1)). A
/// refused line is named by its key only when the key is one of these: a line with no known
/// key may be a token pasted where it does not belong, so it is described, never repeated.
pub fn known_key(key: &[u8]) -> &'static str {
    const KEYS: &[&str] = &[
        "protocol",
        "host",
        "path",
        "username",
        "password",
        "password_expiry_utc",
        "oauth_refresh_token",
        "authtype",
        "credential",
        "ephemeral",
        "capability[]",
        "wwwauth[]",
        "state[]",
        "continue",
        "url",
        "quit",
    ];
    KEYS.iter()
        .find(|k| k.as_bytes() == key)
        .copied()
        .unwrap_or("not a key git sends")
}

/// Reads git's request from `input`: everything up to EOF, at most [`MAX_REQUEST`] bytes.
///
/// The buffer is wiped on drop: it holds the `password=` line of `store` and `erase`.
pub fn read_request(
    input: &mut (impl Read + ?Sized),
) -> io::Result<Result<Zeroizing<Vec<u8>>, ParseError>> {
    let mut buf = Zeroizing::new(Vec::with_capacity(4096));
    let mut chunk = Zeroizing::new([0u8; 4096]);
    loop {
        let n = match input.read(&mut chunk[..]) {
            Ok(0) => return Ok(Ok(buf)),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.capacity() < buf.len() + n {
            // Grow by copying into a new wiped buffer; Vec's own growth would free the old
            // allocation without wiping it.
            let mut bigger = Zeroizing::new(Vec::with_capacity((buf.len() + n) * 2));
            bigger.extend_from_slice(&buf);
            buf = bigger;
        }
        let scan_from = buf.len().saturating_sub(1);
        buf.extend_from_slice(&chunk[..n]);
        // A blank line ends the request; whatever follows is not ours.
        if let Some(end) = request_end(&buf, scan_from) {
            buf.truncate(end);
            return Ok(Ok(buf));
        }
        if buf.len() > MAX_REQUEST {
            return Ok(Err(ParseError::RequestTooLarge));
        }
    }
}

/// Offset just past the blank line that ends a request, searching from `from`.
fn request_end(buf: &[u8], from: usize) -> Option<usize> {
    if buf.first() == Some(&b'\n') {
        return Some(1);
    }
    buf[from..]
        .windows(2)
        .position(|w| w == b"\n\n")
        .map(|p| from + p + 2)
}

/// One parsed request from git. Secret fields are [`Secret`]s; the rest are raw bytes,
/// exactly as git sent them (git does not promise UTF-8).
#[derive(Default, Debug, Clone)]
pub struct Request {
    /// `protocol`: `https`, `http`, `smtp`, `cert`, ...
    pub protocol: Option<Vec<u8>>,
    /// `host`: host name plus `:port` when the URL had one; may be empty (`cert:`).
    pub host: Option<Vec<u8>>,
    /// `path`: present for http(s) only with `credential.useHttpPath`.
    pub path: Option<Vec<u8>>,
    /// `username`: empty is a value, distinct from absent.
    pub username: Option<Vec<u8>>,
    /// `password`: the token (sent on store and erase).
    pub password: Option<Secret>,
    /// `password_expiry_utc`: Unix seconds; `None` when absent, zero or unparsable, as git
    /// reads it.
    pub password_expiry_utc: Option<u64>,
    /// `oauth_refresh_token`: opaque secret, kept with the password.
    pub oauth_refresh_token: Option<Secret>,
    /// `authtype` (gated on `capability[]=authtype`).
    pub authtype: Option<Vec<u8>>,
    /// `credential`: pre-encoded secret for `authtype` (gated on `capability[]=authtype`).
    pub credential: Option<Secret>,
    /// `ephemeral`: the credential must not be persisted.
    pub ephemeral: bool,
    /// `capability[]` values, in order (an empty value resets the list).
    pub capabilities: Vec<Vec<u8>>,
    /// `state[]` values, in order (an empty value resets the list): helpers' own state, ours
    /// tagged `pat:` ([`crate::state`]).
    pub state: Vec<Vec<u8>>,
}

impl Request {
    /// Parses a request. Stops at the first blank line; a final line without LF is accepted
    /// (git closes the pipe instead of writing a blank line).
    pub fn parse(input: &[u8]) -> Result<Request, ParseError> {
        if input.len() > MAX_REQUEST {
            return Err(ParseError::RequestTooLarge);
        }
        let mut req = Request::default();
        let mut rest = input;
        let mut lineno = 0;
        while !rest.is_empty() {
            lineno += 1;
            let (line, next) = match rest.iter().position(|&b| b == b'\n') {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => (rest, &rest[rest.len()..]),
            };
            rest = next;
            if line.len() + 1 > MAX_LINE {
                return Err(ParseError::LineTooLong { line: lineno });
            }
            if line.is_empty() {
                break;
            }
            req.parse_line(lineno, line)?;
        }
        Ok(req)
    }

    fn parse_line(&mut self, lineno: usize, line: &[u8]) -> Result<(), ParseError> {
        let eq = line.iter().position(|&b| b == b'=');
        let key = &line[..eq.unwrap_or(line.len())];
        let shown_key = || known_key(key);
        if line.contains(&0) {
            return Err(ParseError::NulByte {
                line: lineno,
                key: shown_key(),
            });
        }
        if line.contains(&b'\r') {
            return Err(ParseError::CarriageReturn {
                line: lineno,
                key: shown_key(),
            });
        }
        let Some(eq) = eq else {
            return Err(ParseError::EqualsMissing { line: lineno });
        };
        let value = &line[eq + 1..];
        match key {
            b"protocol" => self.protocol = Some(value.to_vec()),
            b"host" => self.host = Some(value.to_vec()),
            b"path" => self.path = Some(value.to_vec()),
            b"username" => self.username = Some(value.to_vec()),
            b"password" => self.password = Some(Secret::from_slice(value)),
            b"password_expiry_utc" => self.password_expiry_utc = parse_expiry(value),
            b"oauth_refresh_token" => self.oauth_refresh_token = Some(Secret::from_slice(value)),
            b"authtype" => self.authtype = Some(value.to_vec()),
            b"credential" => self.credential = Some(Secret::from_slice(value)),
            b"ephemeral" => {
                self.ephemeral = parse_bool(value).ok_or(ParseError::BadBoolean {
                    line: lineno,
                    key: "ephemeral",
                })?
            }
            b"capability[]" if value.is_empty() => self.capabilities.clear(),
            b"capability[]" => self.capabilities.push(value.to_vec()),
            b"state[]" if value.is_empty() => self.state.clear(),
            b"state[]" => self.state.push(value.to_vec()),
            // `url=` is an input convenience of `git credential`, never sent to helpers;
            // `wwwauth[]`, `continue` and anything newer are not ours.
            _ => {}
        }
        Ok(())
    }

    /// Whether git announced `capability[]=authtype` in this request.
    pub fn has_authtype_capability(&self) -> bool {
        self.capabilities.iter().any(|c| c == b"authtype")
    }

    /// Whether git announced `capability[]=state` (git ≥ 2.46).
    pub fn has_state_capability(&self) -> bool {
        self.capabilities.iter().any(|c| c == b"state")
    }
}

/// Git's reading of `password_expiry_utc`: decimal Unix seconds; zero, unparsable or
/// overflowing values mean "never expires".
pub fn parse_expiry(value: &[u8]) -> Option<u64> {
    if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n: u64 = std::str::from_utf8(value).ok()?.parse().ok()?;
    (n != 0).then_some(n)
}

/// Git's config boolean syntax.
fn parse_bool(value: &[u8]) -> Option<bool> {
    match value.to_ascii_lowercase().as_slice() {
        b"1" | b"true" | b"yes" | b"on" => Some(true),
        b"0" | b"false" | b"no" | b"off" | b"" => Some(false),
        _ => None,
    }
}

/// An attribute value that cannot be written: it would end or split a protocol line.
#[derive(Debug, thiserror::Error)]
#[error("refused to answer: the stored {key} contains a line break or NUL byte")]
pub struct UnwritableValue {
    /// Which attribute.
    pub key: &'static str,
}

/// Builds a `get` answer in memory, validating every value, so that git receives the whole
/// answer or nothing: git keeps attributes it has read even if the helper then fails.
#[derive(Default)]
pub struct Response {
    buf: Zeroizing<Vec<u8>>,
}

impl Response {
    /// An empty answer ("no match").
    pub fn new() -> Response {
        Response::default()
    }

    /// Appends `key=value`; refuses a value containing LF, CR or NUL.
    pub fn push(&mut self, key: &'static str, value: &[u8]) -> Result<(), UnwritableValue> {
        if value.iter().any(|&b| matches!(b, b'\n' | b'\r' | 0)) {
            return Err(UnwritableValue { key });
        }
        let need = self.buf.len() + key.len() + value.len() + 2;
        if self.buf.capacity() < need {
            let mut bigger = Zeroizing::new(Vec::with_capacity(need.max(256) * 2));
            bigger.extend_from_slice(&self.buf);
            self.buf = bigger;
        }
        self.buf.extend_from_slice(key.as_bytes());
        self.buf.push(b'=');
        self.buf.extend_from_slice(value);
        self.buf.push(b'\n');
        Ok(())
    }

    /// Whether nothing was added.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Writes the whole answer at once and flushes.
    pub fn write_to(&self, out: &mut (impl Write + ?Sized)) -> io::Result<()> {
        out.write_all(&self.buf)?;
        out.flush()
    }

    /// The encoded answer (for tests).
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &[u8]) -> Result<Request, ParseError> {
        Request::parse(s)
    }

    #[test]
    fn parses_every_known_field() {
        let r = parse(
            b"capability[]=authtype\nprotocol=https\nhost=Example.com:8443\npath=a/b.git\n\
              username=bob\npassword=p=w\npassword_expiry_utc=1700000000\n\
              oauth_refresh_token=rt\nauthtype=Bearer\ncredential=c\nephemeral=true\n",
        )
        .unwrap();
        assert_eq!(r.protocol.as_deref(), Some(&b"https"[..]));
        assert_eq!(r.host.as_deref(), Some(&b"Example.com:8443"[..]));
        assert_eq!(r.path.as_deref(), Some(&b"a/b.git"[..]));
        assert_eq!(r.username.as_deref(), Some(&b"bob"[..]));
        assert_eq!(
            r.password.unwrap().expose(),
            b"p=w",
            "split at the first '=' only"
        );
        assert_eq!(r.password_expiry_utc, Some(1_700_000_000));
        assert_eq!(r.oauth_refresh_token.unwrap().expose(), b"rt");
        assert_eq!(r.authtype.as_deref(), Some(&b"Bearer"[..]));
        assert_eq!(r.credential.unwrap().expose(), b"c");
        assert!(r.ephemeral);
        assert!(r.capabilities == vec![b"authtype".to_vec()]);
    }

    #[test]
    fn stops_at_the_first_blank_line() {
        let r = parse(b"protocol=https\nhost=a\n\nhost=evil\n").unwrap();
        assert_eq!(r.host.as_deref(), Some(&b"a"[..]));
    }

    #[test]
    fn accepts_eof_without_a_final_newline() {
        let r = parse(b"protocol=https\nhost=a").unwrap();
        assert_eq!(r.host.as_deref(), Some(&b"a"[..]));
    }

    #[test]
    fn last_value_of_a_repeated_key_wins() {
        let r = parse(b"host=a\nhost=b\n").unwrap();
        assert_eq!(r.host.as_deref(), Some(&b"b"[..]));
    }

    #[test]
    fn empty_values_are_values() {
        let r = parse(b"host=\nusername=\n").unwrap();
        assert_eq!(r.host.as_deref(), Some(&b""[..]));
        assert_eq!(r.username.as_deref(), Some(&b""[..]));
    }

    #[test]
    fn unknown_keys_and_url_are_ignored() {
        let r = parse(b"url=https://evil.example/\nwwwauth[]=Basic realm=\"x\"\nstate[]=a\nfuture=1\nprotocol=https\n").unwrap();
        assert!(r.host.is_none());
        assert_eq!(r.protocol.as_deref(), Some(&b"https"[..]));
    }

    #[test]
    fn state_values_are_kept_in_order_and_an_empty_one_resets_them() {
        let r = parse(b"capability[]=state\nstate[]=a\nstate[]=\nstate[]=pat:v1:x\nstate[]=b=c\n")
            .unwrap();
        assert!(r.has_state_capability());
        assert!(r.state == vec![b"pat:v1:x".to_vec(), b"b=c".to_vec()]);
    }

    #[test]
    fn empty_capability_resets_the_list() {
        let r = parse(b"capability[]=authtype\ncapability[]=\ncapability[]=state\n").unwrap();
        assert!(r.capabilities == vec![b"state".to_vec()]);
        assert!(!r.has_authtype_capability());
    }

    #[test]
    fn control_bytes_other_than_cr_nul_are_kept() {
        let r = parse(b"wwwauth[]=a\tb\nusername=x\ty\x1b\n").unwrap();
        assert_eq!(r.username.as_deref(), Some(&b"x\ty\x1b"[..]));
    }

    #[test]
    fn cr_anywhere_is_refused_without_showing_the_value() {
        let e = parse(b"protocol=https\nhost=a\rhost=evil\n").unwrap_err();
        assert_eq!(
            e,
            ParseError::CarriageReturn {
                line: 2,
                key: "host"
            }
        );
        let e = parse(b"password=secret\r\n").unwrap_err();
        assert!(!e.to_string().contains("secret"), "{e}");
    }

    #[test]
    fn nul_is_refused() {
        let e = parse(b"host=a\0b\n").unwrap_err();
        assert_eq!(
            e,
            ParseError::NulByte {
                line: 1,
                key: "host"
            }
        );
    }

    #[test]
    fn a_line_without_equals_is_refused_without_showing_it() {
        let e = parse(b"protocol=https\nghp_secretvalue\n").unwrap_err();
        assert_eq!(e, ParseError::EqualsMissing { line: 2 });
        assert!(!e.to_string().contains("ghp_"));
    }

    #[test]
    fn long_lines_are_refused_not_split() {
        let mut ok = b"wwwauth[]=".to_vec();
        ok.resize(MAX_LINE - 1, b'a');
        ok.push(b'\n');
        assert!(
            parse(&ok).is_ok(),
            "65535 bytes with LF is git's limit and allowed"
        );
        let mut long = b"wwwauth[]=".to_vec();
        long.resize(MAX_LINE, b'a');
        long.extend_from_slice(b"host=victim.example.com\n");
        assert_eq!(
            parse(&long).unwrap_err(),
            ParseError::LineTooLong { line: 1 }
        );
    }

    #[test]
    fn oversized_requests_are_refused() {
        let mut big = Vec::new();
        while big.len() <= MAX_REQUEST {
            big.extend_from_slice(b"wwwauth[]=0123456789012345678901234567890123456789\n");
        }
        let got = read_request(&mut &big[..]).unwrap();
        assert_eq!(got.unwrap_err(), ParseError::RequestTooLarge);
        assert_eq!(parse(&big).unwrap_err(), ParseError::RequestTooLarge);
    }

    #[test]
    fn reading_stops_at_a_blank_line() {
        let mut input: Vec<u8> = b"protocol=https\nhost=a\n\n".to_vec();
        input.resize(MAX_REQUEST * 2, b'x');
        let got = read_request(&mut &input[..]).unwrap().unwrap();
        assert_eq!(&got[..], b"protocol=https\nhost=a\n\n");
    }

    #[test]
    fn expiry_is_read_as_git_reads_it() {
        assert_eq!(parse_expiry(b"1700000000"), Some(1_700_000_000));
        assert_eq!(parse_expiry(b"0"), None);
        assert_eq!(parse_expiry(b"soon"), None);
        assert_eq!(parse_expiry(b"-5"), None);
        assert_eq!(parse_expiry(b"99999999999999999999999"), None);
        assert_eq!(parse_expiry(b""), None);
    }

    #[test]
    fn invalid_booleans_are_refused() {
        assert!(matches!(
            parse(b"ephemeral=maybe\n"),
            Err(ParseError::BadBoolean { line: 1, .. })
        ));
        assert!(!parse(b"ephemeral=0\n").unwrap().ephemeral);
    }

    #[test]
    fn debug_of_a_request_redacts_secrets() {
        let r = parse(b"password=S3CRET-A\noauth_refresh_token=S3CRET-B\ncredential=S3CRET-C\n")
            .unwrap();
        let shown = format!("{r:?}");
        assert!(!shown.contains("S3CRET"), "{shown}");
    }

    #[test]
    fn response_writes_exact_bytes() {
        let mut r = Response::new();
        r.push("username", b"bob").unwrap();
        r.push("password", b"a=b").unwrap();
        assert_eq!(r.as_bytes(), b"username=bob\npassword=a=b\n");
        let mut out = Vec::new();
        r.write_to(&mut out).unwrap();
        assert_eq!(out, b"username=bob\npassword=a=b\n");
    }

    #[test]
    fn response_refuses_values_that_would_inject_lines() {
        let mut r = Response::new();
        for bad in [&b"a\nhost=evil"[..], b"a\rb", b"a\0b"] {
            assert!(r.push("username", bad).is_err());
        }
        assert!(r.is_empty());
    }
}
