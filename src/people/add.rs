//! `add URL`: store a token typed at a prompt or piped on stdin, never taken from argv.
//!
//! Gather the request (arguments, then the terminal or stdin for the rest), store it with
//! [`crate::manage::add`], print where it went.

use std::io::Read;

use zeroize::Zeroizing;

use super::args::{Args, Spec};
use super::session::Session;
use super::url::CredUrl;
use crate::cli::UsageError;
use crate::display::{escape, shell_quote};
use crate::error::{Error, Result};
use crate::forge::{self, Facts, Verdict};
use crate::key::Key;
use crate::protocol::Request;
use crate::rules;
use crate::secret::Secret;
use crate::store::Backend;
use crate::time::{describe_remaining, format_datetime, parse_date, parse_duration};

pub(super) const SPEC: Spec = Spec {
    usage: "usage: git credential-pat add URL [--username=USER] [--expires=DATE | --expires-in=DURATION] [--no-verify]

Stores a token for URL (https://host[:port][/owner[/repo]], optionally https://user@host/...).
The token is read from standard input when it is not a terminal (one line), otherwise from a
prompt that does not echo; never from the command line. A URL with a path stores a scoped token
(for fine-grained tokens; needs credential.useHttpPath). Adding over an existing key replaces
its token.

On a known forge (github.com, *.ghe.com, gitlab.com, codeberg.org, or a host whose git config
credential.<url>.provider is github, gitlab or gitea) the token is first checked with the
forge's API (within 5 s): a rejected token is not stored; otherwise the forge's expiry,
account and scopes are kept, and its account name is the username when none is given.

  --username=USER        the username (or put it in the URL; asked at a terminal)
  --expires=DATE         YYYY-MM-DD (end of that day, UTC) or RFC 3339 (2026-12-31T12:00:00Z)
  --expires-in=DURATION  90s, 30m, 12h, 7d, 2w
  --no-verify            do not ask the forge",
    flags: &[
        ("--username", true),
        ("--expires", true),
        ("--expires-in", true),
        ("--no-verify", false),
    ],
    positional: (1, 1),
    reads_token: true,
};

fn usage(msg: String) -> Error {
    UsageError(format!("add: {msg}")).into()
}

pub(super) fn run(s: &mut Session<'_, '_>, args: &Args) -> Result<u8> {
    let request = AddRequest::gather(s, args)?;
    let added = store(s, request)?;
    print(s, &added)?;
    Ok(0)
}

/// What `add` was asked to store, the username and token asked for if not given.
struct AddRequest {
    url: CredUrl,
    username: Vec<u8>,
    /// The token's own expiry (Unix seconds), from `--expires` or `--expires-in`, or the
    /// forge's if earlier.
    expires: Option<u64>,
    token: Secret,
    /// What the forge said, when it was asked.
    checked: Option<Checked>,
}

/// The forge's answer about the token being added.
struct Checked {
    /// The forge's name and host, for messages.
    forge: String,
    verdict: Verdict,
}

impl AddRequest {
    /// Parses `args`, asking at the terminal for what they leave out, in this order: the
    /// username, then (once the flags are checked) the token.
    fn gather(s: &mut Session<'_, '_>, args: &Args) -> Result<AddRequest> {
        let (url, user) = super::args::new_url_and_user("add", args)?;
        let prompts_allowed =
            s.p.stdin_is_terminal && (s.p.env)("GIT_TERMINAL_PROMPT").is_none_or(|v| v != "0");
        let target = if args.flag("--no-verify") {
            None
        } else {
            let host = crate::key::HostKey::new(&url.protocol, &url.host);
            let deadline = forge::client::deadline(forge::ASK_BOUND);
            forge::target(&host, url.path.as_deref(), s.p.env, deadline)
        };
        let no_username = || {
            usage(
                "no username: put it in the URL (https://USER@host/...) or pass --username".into(),
            )
        };
        // On a forge, the forge's account name may be the username: asked after the token.
        let username = match user {
            Some(u) => Some(u),
            None if target.is_some() => None,
            None if prompts_allowed => Some(prompt_line(
                s,
                &format!("Username for '{}': ", url.display()),
            )?),
            None => return Err(no_username()),
        };
        let mut expires = parse_expiry(
            args.value("--expires")?,
            args.value("--expires-in")?,
            s.p.now.secs,
        )?;
        let shown = url.key(username.as_deref()).display();
        let token = read_token(s, prompts_allowed, &shown)?;
        let checked = target.map(|t| Checked {
            forge: format!("{} ({})", t.forge.kind.name(), url.key(None).host.display()),
            verdict: t.check(
                &token,
                s.p.now.secs,
                forge::client::deadline(forge::ASK_BOUND),
            ),
        });
        let login = match checked.as_ref().map(|c| (&c.forge, &c.verdict)) {
            Some((f, Verdict::Rejected)) => {
                return Err(Error::Failed(format!(
                    "add: {f} rejected the token for {shown} (HTTP 401: revoked, expired or mistyped); nothing was stored"
                )));
            }
            Some((_, Verdict::Valid(facts))) => {
                if let Some(at) = forge::confirmed(facts.clone(), 0).0 {
                    expires = Some(expires.map_or(at, |e| e.min(at)));
                }
                facts.login.clone()
            }
            _ => None,
        };
        let username = match (username, login) {
            (Some(u), Some(l)) if !u.eq_ignore_ascii_case(&l) => {
                return Err(Error::Failed(format!(
                    "add: the token belongs to '{}' on {}, not '{}'; nothing was stored: pass --username={} (or --no-verify to store it anyway)",
                    escape(&l),
                    url.key(None).host.display(),
                    escape(&u),
                    shell_quote(&escape(&l)),
                )));
            }
            (Some(u), _) => u,
            (None, Some(l)) => l,
            (None, None) if prompts_allowed => {
                prompt_line(s, &format!("Username for '{}': ", url.display()))?
            }
            (None, None) => return Err(no_username()),
        };
        Ok(AddRequest {
            url,
            username,
            expires,
            token,
            checked,
        })
    }

    /// The key the token goes under.
    fn key(&self) -> Key {
        self.url.key(Some(&self.username))
    }
}

/// `--expires` or `--expires-in` (at most one) as Unix seconds, which must be after `now`.
fn parse_expiry(
    expires: Option<String>,
    expires_in: Option<String>,
    now: u64,
) -> Result<Option<u64>> {
    let expiry = match (expires, expires_in) {
        (Some(_), Some(_)) => return Err(usage("give --expires or --expires-in, not both".into())),
        (Some(d), None) => Some(parse_date(&d).ok_or_else(|| {
            usage(format!(
                "invalid --expires '{}': expected YYYY-MM-DD or RFC 3339",
                crate::display::escape(d.as_bytes())
            ))
        })?),
        (None, Some(d)) => {
            let secs = parse_duration(&d).filter(|&n| n > 0).ok_or_else(|| {
                usage(format!(
                    "invalid --expires-in '{}': expected 90s, 30m, 12h, 7d or 2w",
                    crate::display::escape(d.as_bytes())
                ))
            })?;
            Some(now.saturating_add(secs))
        }
        (None, None) => None,
    };
    match expiry {
        Some(e) if e <= now => Err(usage(format!(
            "the expiry {} is in the past",
            format_datetime(e)
        ))),
        _ => Ok(expiry),
    }
}

/// What `add` stored, and where.
struct Added {
    /// What the forge said, when it was asked.
    checked: Option<Checked>,
    /// The key, as shown to people.
    shown: String,
    backend: Backend,
    /// The earliest of the token's own expiry and the TTL deadline.
    expiry: Option<u64>,
    /// For a scoped token git would never be sent: the command that makes git send paths,
    /// as shown to people.
    use_http_path_fix: Option<String>,
    /// The protocol and host as written, for the default-port and plain-HTTP hints.
    origin: (Vec<u8>, Vec<u8>),
}

/// The hints about where the token will (not) be used: git keys on the host as written in
/// the remote URL, so `https://host:443` is not `https://host`; an `http://` token travels in
/// clear text.
fn url_hints(protocol: &[u8], host: &[u8]) -> Vec<String> {
    let mut hints = Vec::new();
    let default_port = match protocol {
        b"https" => Some(&b":443"[..]),
        b"http" => Some(&b":80"[..]),
        _ => None,
    };
    if let Some(port) = default_port
        && let Some(bare) = host.strip_suffix(port)
    {
        let p = crate::display::escape(protocol);
        let (with, without) = (crate::display::escape(host), crate::display::escape(bare));
        hints.push(format!(
            "hint: git looks tokens up by the host as written in the remote URL, so this token is used for {p}://{with} remotes only, not {p}://{without}; to use it there, add it for {p}://{without}"
        ));
    }
    if protocol == b"http" {
        hints.push(
            "warning: this is a plain http:// URL: git would send the token in clear text, readable on the network; use https:// if the server offers it".into(),
        );
    }
    hints
}

/// Stores the request's token through [`crate::manage::add`].
fn store(s: &mut Session<'_, '_>, request: AddRequest) -> Result<Added> {
    let key = request.key();
    let req = Request {
        protocol: Some(request.url.protocol),
        host: Some(request.url.host),
        path: request.url.path,
        username: Some(request.username),
        password: Some(request.token),
        password_expiry_utc: request.expires,
        ..Request::default()
    };
    let mut new = rules::incoming(&req, s.p.now, s.config.ttl).ok_or_else(|| {
        usage("the URL's path climbs above the root ('..'); write the path it means".into())
    })?;
    if let Some(Checked {
        verdict: Verdict::Valid(facts),
        ..
    }) = &request.checked
    {
        new.learned = forge::confirmed(facts.clone(), s.p.now.secs).1;
    }
    let origin = (new.key.host.protocol.clone(), new.key.host.host.clone());
    let Some(backend) = crate::manage::add(&mut s.chain, &new)? else {
        return Err(Error::Failed(format!(
            "add: no store could take the token for {}",
            key.display()
        )));
    };
    let use_http_path_fix = key
        .path
        .as_deref()
        .and_then(|path| crate::gitconfig::use_http_path_fix(&key.host, path));
    Ok(Added {
        checked: request.checked,
        shown: key.display(),
        backend,
        expiry: new.expiry(),
        use_http_path_fix,
        origin,
    })
}

/// Says where the token went and until when; hints at `useHttpPath` when git would never
/// send the path a scoped token needs.
fn print(s: &mut Session<'_, '_>, added: &Added) -> Result<()> {
    let expires = match added.expiry {
        Some(e) => format!(
            "expires {}, {}",
            format_datetime(e),
            describe_remaining(e, s.p.now.secs)
        ),
        None => "no known expiry".into(),
    };
    s.out(&format!(
        "Stored the token for {} in the {} store ({expires}).",
        added.shown,
        added.backend.name()
    ))?;
    match &added.checked {
        Some(Checked {
            forge,
            verdict: Verdict::Valid(facts),
        }) => s.out(&format!("{forge} confirmed it: {}.", describe_facts(facts)))?,
        Some(Checked {
            forge,
            verdict: Verdict::Unknown(why),
        }) => s.err(&format!(
            "note: {forge} could not confirm the token ({why}); it was stored unchecked"
        )),
        _ => {}
    }
    for hint in url_hints(&added.origin.0, &added.origin.1) {
        s.err(&hint);
    }
    if let Some(fix) = &added.use_http_path_fix {
        s.err(&format!(
            "hint: git sends the repository path to credential helpers only with useHttpPath; without it this scoped token is never used. Run: {fix}"
        ));
    }
    Ok(())
}

/// The forge's word on a token for people: `login octo, scopes repo, read:org`.
pub(super) fn describe_facts(facts: &Facts) -> String {
    let mut parts = Vec::new();
    if let Some(l) = &facts.login {
        parts.push(format!("login {}", escape(l)));
    }
    parts.push(match &facts.scopes {
        None => "scopes not told".to_string(),
        Some(s) if s.is_empty() => "no scopes".to_string(),
        Some(s) => format!(
            "scopes {}",
            s.iter().map(|x| escape(x)).collect::<Vec<_>>().join(", ")
        ),
    });
    parts.join(", ")
}

/// Asks for one line at the terminal (echoed).
fn prompt_line(s: &mut Session<'_, '_>, prompt: &str) -> Result<Vec<u8>> {
    let _ = write!(s.p.stderr, "{prompt}");
    let _ = s.p.stderr.flush();
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while s.p.stdin.read(&mut byte).map_err(Error::Stdin)? == 1 && byte[0] != b'\n' {
        line.push(byte[0]);
    }
    while line.last() == Some(&b'\r') {
        line.pop();
    }
    if line.is_empty() {
        return Err(usage("no username given".into()));
    }
    Ok(line)
}

/// Reads the token: one line of stdin when it is not a terminal, else a no-echo prompt.
fn read_token(s: &mut Session<'_, '_>, prompts_allowed: bool, what: &str) -> Result<Secret> {
    let line: Zeroizing<Vec<u8>> = if !s.p.stdin_is_terminal {
        let mut buf = Zeroizing::new(Vec::with_capacity(crate::protocol::MAX_LINE + 1));
        s.p.stdin
            .take(crate::protocol::MAX_LINE as u64 + 1)
            .read_to_end(&mut buf)
            .map_err(Error::Stdin)?;
        let end = buf.iter().position(|&b| b == b'\n').unwrap_or(buf.len());
        if buf
            .get(end + 1..)
            .is_some_and(|rest| rest.iter().any(|b| !b"\r\n".contains(b)))
        {
            return Err(usage(
                "standard input holds more than one line: give the token alone, on one line".into(),
            ));
        }
        let mut line = Zeroizing::new(buf[..end].to_vec());
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        line
    } else if prompts_allowed {
        let typed =
            rpassword::prompt_password(format!("Token for '{what}': ")).map_err(Error::Stdin)?;
        Zeroizing::new(typed.into_bytes())
    } else {
        return Err(usage(
            "no token: pipe it on standard input (terminal prompts are disabled)".into(),
        ));
    };
    if line.is_empty() {
        return Err(usage("no token given on standard input".into()));
    }
    if line.len() >= crate::protocol::MAX_LINE {
        return Err(usage("the token is longer than 65535 bytes".into()));
    }
    if [line.first(), line.last()]
        .into_iter()
        .flatten()
        .any(|b| *b == b' ' || *b == b'\t')
    {
        return Err(usage(
            "the token starts or ends with a space or tab (a slip of copy and paste?): give it without them".into(),
        ));
    }
    if line.iter().any(|&b| b < 0x20 || b == 0x7f) {
        return Err(usage(
            "the token contains a control character; it cannot be sent to git".into(),
        ));
    }
    Ok(Secret::from_slice(&line))
}

#[cfg(test)]
mod tests {
    use super::{parse_expiry, url_hints};

    fn message(r: crate::error::Result<Option<u64>>) -> String {
        r.unwrap_err().to_string()
    }

    #[test]
    fn default_ports_and_plain_http_get_hints() {
        let hints = url_hints(b"https", b"github.com:443");
        assert_eq!(hints.len(), 1);
        assert!(
            hints[0].contains("https://github.com:443 remotes only, not https://github.com"),
            "{}",
            hints[0]
        );
        assert!(url_hints(b"https", b"github.com").is_empty());
        assert!(url_hints(b"https", b"github.com:8443").is_empty());
        let http = url_hints(b"http", b"h:80");
        assert_eq!(http.len(), 2);
        assert!(http[1].contains("clear text"));
    }

    #[test]
    fn expiry_takes_one_flag_in_the_future() {
        let now = 1_700_000_000;
        assert_eq!(parse_expiry(None, None, now).unwrap(), None);
        assert_eq!(
            parse_expiry(None, Some("2h".into()), now).unwrap(),
            Some(now + 7200)
        );
        assert_eq!(
            parse_expiry(Some("2030-01-01T00:00:00Z".into()), None, now).unwrap(),
            Some(1_893_456_000)
        );
        let both = parse_expiry(Some("2030-01-01".into()), Some("1d".into()), now);
        assert!(message(both).contains("not both"));
        assert!(message(parse_expiry(None, Some("0s".into()), now)).contains("--expires-in '0s'"));
        assert!(message(parse_expiry(Some("soon".into()), None, now)).contains("--expires 'soon'"));
        let past = parse_expiry(Some("2001-01-01".into()), None, now);
        assert!(message(past).contains("is in the past"));
    }
}
