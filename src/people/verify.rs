//! `verify [URL]`: asks each stored token's forge whether it still works, and records what
//! the forge says (expiry, account, scopes) on the credential (DESIGN §8).
//!
//! Parse (URL, `--json`, `--remove-rejected`), act (one bounded check per token on a known
//! forge, then [`crate::manage::confirm`] or [`crate::manage::forget`]), print (one line per
//! token, or JSON).

use std::collections::HashMap;

use super::add::describe_facts;
use super::args::{Args, Spec};
use super::session::Session;
use super::url::CredUrl;
use crate::display::{count, json_string, shell_quote};
use crate::error::{Error, Result};
use crate::forge::{self, Expiry, Target, Verdict};
use crate::key::{self, HostKey, Key};
use crate::manage::Placed;
use crate::time::{describe_remaining, format_datetime};

pub(super) const SPEC: Spec = Spec {
    usage: "usage: git credential-pat verify [URL] [--username=USER] [--json] [--remove-rejected]

Asks the forge that issued each stored token whether it still works, and keeps what it says:
the token's expiry, the account it belongs to, its scopes. Known forges: github.com, *.ghe.com,
gitlab.com, codeberg.org, and any host whose git config credential.<url>.provider is github,
gitlab or gitea (generic: never asked). With URL, only the tokens stored for that host (and,
with a path or user, under that path or of that user). One line per token: valid (with its
expiry and scopes), rejected (the forge answered 401) or unknown (no usable answer within
5 s). Exits 1 if a rejected token stays stored.

  --json             an array of objects with the keys protocol, host, path, username,
                     status (valid, rejected or unknown), expires_utc (the forge's
                     when valid, else the stored expiry; Unix seconds), login and scopes
  --remove-rejected  remove the tokens the forge rejected",
    flags: &[
        ("--json", false),
        ("--remove-rejected", false),
        ("--username", true),
    ],
    positional: (0, 1),
    reads_token: false,
};

pub(super) fn run(s: &mut Session<'_, '_>, args: &Args) -> Result<u8> {
    let request = VerifyRequest::parse(args)?;
    let checks = check_all(s, &request)?;
    print(s, &request, &checks)
}

/// What `verify` was asked.
struct VerifyRequest {
    /// `URL` and its user (from the URL or `--username`); `None`: every stored token.
    only: Option<(CredUrl, Option<Vec<u8>>)>,
    json: bool,
    remove_rejected: bool,
}

impl VerifyRequest {
    fn parse(args: &Args) -> Result<VerifyRequest> {
        let only = match args.positional.first() {
            Some(_) => Some(super::args::url_and_user("verify", args)?),
            None => None,
        };
        Ok(VerifyRequest {
            only,
            json: args.flag("--json"),
            remove_rejected: args.flag("--remove-rejected"),
        })
    }

    /// Whether the request reaches `key`.
    fn reaches(&self, k: &Key) -> bool {
        let Some((url, user)) = &self.only else {
            return true;
        };
        let want = url.key(None);
        k.host == want.host
            && key::path_serves(want.path.as_deref(), k.path.as_deref())
            && user.as_ref().is_none_or(|u| k.username.as_ref() == Some(u))
    }
}

/// One token checked.
struct Check {
    placed: Placed,
    /// The forge's name, for messages.
    forge: &'static str,
    verdict: Verdict,
    /// Whether `--remove-rejected` removed it.
    removed: bool,
}

/// Checks every stored token the request reaches on a known forge, and records what each
/// forge says.
fn check_all(s: &mut Session<'_, '_>, request: &VerifyRequest) -> Result<Vec<Check>> {
    let now = s.p.now.secs;
    let stored: Vec<Placed> = crate::manage::list(&mut s.chain)?
        .into_iter()
        .filter(|(r, _)| r.password.is_some() && request.reaches(&r.key))
        .collect();
    if let (Some((url, _)), true) = (&request.only, stored.is_empty()) {
        return Err(Error::Failed(format!(
            "verify: no token is stored for {}",
            url.display()
        )));
    }
    let mut targets: HashMap<(HostKey, Option<Vec<u8>>), Option<Target>> = HashMap::new();
    let mut checks = Vec::new();
    for (rec, backend) in stored {
        let at = (rec.key.host.clone(), rec.key.path.clone());
        let target = targets.entry(at).or_insert_with(|| {
            let deadline = forge::client::deadline(forge::ASK_BOUND);
            forge::target(&rec.key.host, rec.key.path.as_deref(), s.p.env, deadline)
        });
        let Some(target) = target else { continue };
        let Some(token) = &rec.password else { continue };
        let verdict = target.check(token, now, forge::client::deadline(forge::ASK_BOUND));
        let mut removed = false;
        match &verdict {
            Verdict::Valid(facts) => {
                let (expires, learned) = forge::confirmed(facts.clone(), now);
                crate::manage::confirm(&mut s.chain, &rec, backend, expires, &learned)?;
            }
            Verdict::Rejected if request.remove_rejected => {
                removed = crate::manage::forget(&mut s.chain, &rec, backend)?;
            }
            _ => {}
        }
        checks.push(Check {
            forge: target.forge.kind.name(),
            placed: (rec, backend),
            verdict,
            removed,
        });
    }
    if let (Some((url, _)), true) = (&request.only, checks.is_empty()) {
        let config_key = format!("credential.{}.provider", url.key(None).host.display());
        return Err(Error::Failed(format!(
            "verify: {} is not a known forge, so it is never asked; tell git which forge it is with: git config --global {} github (or gitlab, gitea)",
            url.display(),
            shell_quote(&config_key)
        )));
    }
    Ok(checks)
}

/// One line per token, or JSON; exit 1 if a rejected token stays stored.
fn print(s: &mut Session<'_, '_>, request: &VerifyRequest, checks: &[Check]) -> Result<u8> {
    let now = s.p.now.secs;
    if request.json {
        s.out(&json(checks))?;
    } else if checks.is_empty() {
        s.err("no stored token is on a known forge (github.com, *.ghe.com, gitlab.com, codeberg.org, or a host with git config credential.<url>.provider)");
    } else {
        for c in checks {
            s.out(&line(c, now))?;
        }
    }
    let kept = checks
        .iter()
        .filter(|c| c.verdict == Verdict::Rejected && !c.removed)
        .count();
    if kept > 0 && !request.json {
        s.err(&format!(
            "{} rejected by {} forge: remove {} with 'git credential-pat verify --remove-rejected'",
            count(kept, "token"),
            if kept == 1 { "its" } else { "their" },
            if kept == 1 { "it" } else { "them" },
        ));
    }
    Ok(u8::from(kept > 0))
}

/// `valid     https://octo@github.com  login octo, expires ..., scopes repo`.
fn line(c: &Check, now: u64) -> String {
    let shown = c.placed.0.key.display();
    match &c.verdict {
        Verdict::Valid(facts) => {
            let expiry = match facts.expiry {
                Expiry::At(t) => format!(
                    "expires {} ({})",
                    format_datetime(t),
                    describe_remaining(t, now)
                ),
                Expiry::Never => "no expiry".into(),
                Expiry::Unknown => "expiry not told".into(),
            };
            format!("valid     {shown}  {expiry}, {}", describe_facts(facts))
        }
        Verdict::Rejected if c.removed => format!(
            "rejected  {shown}  {} answered 401 (revoked or expired): removed",
            c.forge
        ),
        Verdict::Rejected => format!(
            "rejected  {shown}  {} answered 401 (revoked or expired)",
            c.forge
        ),
        Verdict::Unknown(why) => format!(
            "unknown   {shown}  {} gave no answer to go by: {why}",
            c.forge
        ),
    }
}

/// `--json`: one object per token checked.
fn json(checks: &[Check]) -> String {
    let mut out = String::from("[");
    for (i, c) in checks.iter().enumerate() {
        let k = &c.placed.0.key;
        let (status, facts) = match &c.verdict {
            Verdict::Valid(f) => ("valid", Some(f)),
            Verdict::Rejected => ("rejected", None),
            Verdict::Unknown(_) => ("unknown", None),
        };
        // The forge's word when it accepted the token, else the expiry stored with it.
        let expires = match facts.map(|f| f.expiry) {
            Some(Expiry::At(t)) => Some(t),
            Some(Expiry::Never) => None,
            Some(Expiry::Unknown) | None => c.placed.0.expires,
        }
        .map_or("null".into(), |t| t.to_string());
        let login = facts
            .and_then(|f| f.login.as_deref())
            .map_or("null".into(), json_string);
        let scopes = facts
            .and_then(|f| f.scopes.as_ref())
            .map_or("null".into(), |s| {
                let items: Vec<String> = s.iter().map(|x| json_string(x)).collect();
                format!("[{}]", items.join(", "))
            });
        out.push_str(if i == 0 { "\n  " } else { ",\n  " });
        out.push_str(&format!(
            "{{\"protocol\": {}, \"host\": {}, \"path\": {}, \"username\": {}, \"status\": \"{status}\", \"expires_utc\": {expires}, \"login\": {login}, \"scopes\": {scopes}}}",
            json_string(&k.host.protocol),
            json_string(&k.host.host),
            k.path.as_deref().map_or("null".into(), json_string),
            k.username.as_deref().map_or("null".into(), json_string),
        ));
    }
    out.push_str(if checks.is_empty() { "]" } else { "\n]" });
    out
}
