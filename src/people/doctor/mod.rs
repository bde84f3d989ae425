//! `doctor [URL]`: one explained line per check; exit 1 on any problem.
//!
//! Each group of checks returns its findings as data (`finding`; the helper order in
//! `helpers`); one printer turns them into lines and the exit code.

mod finding;
mod helpers;
mod which;

use super::args::{Args, Spec};
use super::session::Session;
use super::url::CredUrl;
use crate::display::count;
use crate::error::Result;
use crate::gitconfig;
use crate::key::HostKey;
use crate::record::Record;
use crate::store::Quota;
use crate::time::format_datetime;
use finding::{Finding, Level};

pub(super) const SPEC: Spec = Spec {
    usage: "usage: git credential-pat doctor [URL]

Checks the setup for URL (default: every host with a stored token, and https://github.com):
git's version, the helpers git will ask and in which order, the store's permissions and
contents, expired and expiring tokens, and scoped tokens git never sends a path for.
Prints one line per check; exits 1 if any is a problem.",
    flags: &[],
    positional: (0, 1),
    reads_token: false,
};

pub(super) fn run(s: &mut Session<'_, '_>, args: &Args, notes: &[String]) -> Result<u8> {
    let request = DoctorRequest::parse(args)?;
    let now = s.p.now.secs;
    let mut findings: Vec<Finding> = notes
        .iter()
        .map(|n| Finding::note(n.trim_start_matches("note: ")))
        .collect();
    findings.push(git_version());
    let records = stores(s, &mut findings);
    findings.extend(expiry(&records, now, s.config.warn.unwrap_or(0)));
    if let Some(url) = &request.url {
        let use_http_path =
            gitconfig::urlmatch_bool("credential.useHttpPath", &url.origin_and_path());
        // git fills in `credential.username` for a URL without a user (gitcredentials(7)).
        let configured = url
            .username
            .is_none()
            .then(|| gitconfig::urlmatch_value("credential.username", &url.origin_and_path()))
            .flatten();
        let req = which::request_for(url, configured.as_deref(), use_http_path);
        let answer = crate::manage::which(&mut s.chain, &req, now)?;
        findings.extend(which::explain(
            url,
            configured.as_deref(),
            use_http_path,
            &answer,
            now,
        ));
    }
    findings.extend(unknown_expiry(&records));
    findings.extend(helpers::check(&urls_to_check(request.url, &records)));
    findings.extend(scoped_tokens(&records));
    print(s, &findings)
}

/// What `doctor` was asked to check.
struct DoctorRequest {
    /// `URL`; `None`: every host with a stored token, and https://github.com.
    url: Option<CredUrl>,
}

impl DoctorRequest {
    /// A URL that does not parse, or carries a password, is a usage error that describes it
    /// and never repeats it (it may be a token).
    fn parse(args: &Args) -> Result<DoctorRequest> {
        let url = match args.positional.first() {
            Some(_) => Some(super::args::url_and_user("doctor", args)?.0),
            None => None,
        };
        Ok(DoctorRequest { url })
    }
}

/// Prints one tagged line per finding and a summary; exit 1 if any is a problem.
fn print(s: &mut Session<'_, '_>, findings: &[Finding]) -> Result<u8> {
    for f in findings {
        let tag = match f.level {
            Level::Ok => "ok     ",
            Level::Note => "note   ",
            Level::Problem => "problem",
        };
        s.out(&format!("{tag} {}", f.message))?;
    }
    let problems = findings
        .iter()
        .filter(|f| f.level == Level::Problem)
        .count();
    s.out(&if problems == 0 {
        "no problems found".to_string()
    } else {
        format!("{} found", count(problems, "problem"))
    })?;
    Ok(u8::from(problems > 0))
}

/// Whether git runs and is new enough for token expiry and authtype credentials.
fn git_version() -> Finding {
    match gitconfig::git_version() {
        None => Finding::problem("git does not run: install git 2.46 or newer"),
        Some((ma, mi)) if (ma, mi) < (2, 40) => Finding::problem(format!(
            "git {ma}.{mi} is older than 2.40: it ignores token expiry (password_expiry_utc) and authtype; upgrade git"
        )),
        Some((ma, mi)) if (ma, mi) < (2, 46) => Finding::problem(format!(
            "git {ma}.{mi} is older than 2.46: no capability[]/authtype support (Bearer credentials); upgrade git"
        )),
        Some((ma, mi)) => Finding::ok(format!(
            "git {ma}.{mi} handles token expiry and authtype credentials"
        )),
    }
}

/// The stores: permissions and contents (and how fast the keychain answers). Adds the
/// findings to `findings` and returns every record read.
fn stores(s: &Session<'_, '_>, findings: &mut Vec<Finding>) -> Vec<Record> {
    let auto = s.config.backend == crate::config::BackendChoice::Auto;
    let mut records = Vec::new();
    for st in s.chain.stores() {
        let start = std::time::Instant::now();
        let result = st.load_all();
        let took = start.elapsed();
        let backend = st.backend().name();
        if backend == "keychain" && result.is_ok() {
            findings.push(Finding::note(format!(
                "the keychain answered in {} ms (each get pays about that)",
                took.as_millis()
            )));
        }
        match result {
            Err(e) if auto && e.is_unreachable() => findings.push(Finding::note(format!(
                "the keychain is not reachable, so tokens go to the file: {e}"
            ))),
            Ok(recs) => {
                findings.push(Finding::ok(format!(
                    "the {backend} store is readable and private ({})",
                    count(recs.len(), "credential")
                )));
                records.extend(recs);
            }
            Err(e) => findings.push(Finding::problem(e.to_string())),
        }
        if let Some(q) = st.quota() {
            findings.push(quota(&q));
        }
    }
    records
}

/// The kernel's key quota that the memory backend lives in: a note when it is nearly full.
fn quota(q: &Quota) -> Finding {
    let line = format!(
        "the kernel's key quota for uid {} has {} (limits: {} and {})",
        q.uid,
        q.usage(),
        Quota::maxkeys_file(q.uid),
        Quota::maxbytes_file(q.uid)
    );
    if q.nearly_full() {
        Finding::note(format!(
            "{line}: nearly full, so new tokens may be refused; remove tokens you no longer need, or raise the limits"
        ))
    } else {
        Finding::ok(line)
    }
}

/// Expired tokens not yet pruned, and tokens that expire within the `--warn` window.
fn expiry(records: &[Record], now: u64, warn: u64) -> Vec<Finding> {
    let mut findings = Vec::new();
    // An expired token with a refresh token is not a problem: another helper renews it.
    let expired: Vec<_> = records
        .iter()
        .filter(|rec| rec.is_expired(now) && !rec.refreshable())
        .collect();
    if !expired.is_empty() {
        let names = expired
            .iter()
            .map(|rec| rec.key.display())
            .collect::<Vec<_>>()
            .join(", ");
        findings.push(Finding::problem(format!(
            "{} not yet pruned ({names}): run git credential-pat prune, and add fresh ones",
            count(expired.len(), "expired token")
        )));
    }
    for rec in records.iter().filter(|rec| !rec.is_expired(now)) {
        if let Some(e) = rec
            .expires
            .filter(|_| crate::rules::should_warn(rec, Some(warn), now))
        {
            findings.push(Finding::note(format!(
                "the token for {} expires on {}: replace it soon",
                rec.key.display(),
                format_datetime(e)
            )));
        }
    }
    findings
}

/// A note on tokens of a known forge whose expiry is unknown and that their forge never
/// confirmed: `verify` learns it (DESIGN §5, §8). Reads `credential.<url>.provider`.
fn unknown_expiry(records: &[Record]) -> Option<Finding> {
    use crate::forge::{Provider, settings, which};
    let deadline = crate::forge::client::deadline(crate::forge::ASK_BOUND);
    let mut providers: std::collections::HashMap<HostKey, Provider> = Default::default();
    let unknown: Vec<String> = records
        .iter()
        .filter(|r| r.expires.is_none() && r.learned.verified.is_none() && r.password.is_some())
        .filter(|r| {
            let provider = *providers.entry(r.key.host.clone()).or_insert_with(|| {
                let url = r.key.host.origin();
                Provider::parse(settings::provider(&url, deadline).as_deref())
            });
            which::forge_for(&r.key.host, provider).is_some()
        })
        .map(|r| r.key.display())
        .collect();
    (!unknown.is_empty()).then(|| {
        Finding::note(format!(
            "{} on a known forge with no known expiry ({}): 'git credential-pat verify' asks the forge",
            count(unknown.len(), "token"),
            unknown.join(", ")
        ))
    })
}

/// The URLs to check the helper configuration for: `url`, else the origin of every stored
/// credential and https://github.com; sorted, each once.
fn urls_to_check(url: Option<CredUrl>, records: &[Record]) -> Vec<CredUrl> {
    if let Some(u) = url {
        return vec![u];
    }
    let mut hosts: Vec<HostKey> = records.iter().map(|rec| rec.key.host.clone()).collect();
    hosts.push(HostKey::new(b"https", b"github.com"));
    hosts.sort();
    hosts.dedup();
    hosts.iter().map(CredUrl::of_host).collect()
}

/// Scoped tokens only work when git sends paths: one problem per scoped token git never
/// uses.
fn scoped_tokens(records: &[Record]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for rec in records {
        let Some(path) = rec.key.path.as_deref() else {
            continue;
        };
        if let Some(fix) = gitconfig::use_http_path_fix(&rec.key.host, path) {
            findings.push(Finding::problem(format!("the scoped token for {} is never used: git sends no path without useHttpPath; run {fix}", rec.key.display())));
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::Key;
    use crate::record::Stamp;

    fn record(host: &[u8], path: Option<&[u8]>, expires: Option<u64>) -> Record {
        Record {
            key: Key::new(b"https", host, path, Some(b"u")),
            password: None,
            oauth_refresh_token: None,
            authtype: None,
            credential: None,
            expires,
            ttl_expires: None,
            stored: Stamp::default(),
            learned: Default::default(),
        }
    }

    #[test]
    fn a_nearly_full_key_quota_is_a_note() {
        let q = Quota {
            uid: 1000,
            keys: 5,
            max_keys: 200,
            bytes: 1_000,
            max_bytes: 20_000,
        };
        assert_eq!(
            quota(&q),
            Finding::ok(
                "the kernel's key quota for uid 1000 has 5 of 200 keys and 1000 of 20000 bytes in use (limits: /proc/sys/kernel/keys/maxkeys and /proc/sys/kernel/keys/maxbytes)"
            )
        );
        let full = quota(&Quota { bytes: 16_000, ..q });
        assert_eq!(full.level, Level::Note);
        assert!(full.message.contains("nearly full"), "{full:?}");
        let root = quota(&Quota { uid: 0, ..q });
        assert!(root.message.contains("/proc/sys/kernel/keys/root_maxbytes"));
    }

    #[test]
    fn urls_are_the_stored_origins_and_github_each_once() {
        let recs = [
            record(b"b.example", Some(b"acme"), None),
            record(b"a.example", None, None),
            record(b"b.example", None, None),
        ];
        let shown = |urls: Vec<CredUrl>| urls.iter().map(CredUrl::display).collect::<Vec<_>>();
        assert_eq!(
            shown(urls_to_check(None, &recs)),
            [
                "https://a.example",
                "https://b.example",
                "https://github.com"
            ]
        );
        let given = CredUrl::parse(b"https://u@x/y").unwrap();
        assert_eq!(shown(urls_to_check(Some(given), &recs)), ["https://u@x/y"]);
    }

    #[test]
    fn expired_tokens_are_a_problem_and_expiring_ones_a_note() {
        let day = 86_400;
        let recs = [
            record(b"gone.example", None, Some(day)),
            record(b"soon.example", None, Some(3 * day)),
            record(b"later.example", None, Some(30 * day)),
        ];
        let found = expiry(&recs, 2 * day, 7 * day);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0].level, Level::Problem);
        assert!(
            found[0]
                .message
                .starts_with("1 expired token not yet pruned (https://u@gone.example)")
        );
        assert_eq!(
            found[1],
            Finding::note(
                "the token for https://u@soon.example expires on 1970-01-04 00:00 UTC: replace it soon"
            )
        );
    }
}
