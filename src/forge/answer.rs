//! What the forges' answers mean (DESIGN §8). Pure: a [`Reply`] in, a [`Verdict`] out.
//!
//! The one rule: only a 401 says the token is rejected (and GitLab's own `revoked`/`active`
//! flags). Anything else that is not the answer expected (403 for a token with git scopes
//! only, 5xx, a redirect, a proxy's error page, JSON that is not the forge's) is unknown,
//! never "rejected".

use serde_json::Value;
use zeroize::Zeroizing;

use crate::secret::Secret;
use crate::time::parse_date;

/// An HTTP answer, as read.
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// The header lines, names lowercased.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The body (wiped on drop: a rotation's answer holds a token).
    pub body: Zeroizing<Vec<u8>>,
}

impl Reply {
    /// The first value of header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }

    fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// The token's own expiry, as the forge tells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expiry {
    /// It does not expire (GitHub: no expiration header; GitLab: `expires_at` null).
    Never,
    /// It stops working at this instant (Unix seconds).
    At(u64),
    /// The forge did not say, or said something unusable (Gitea has no expiry to tell).
    Unknown,
}

/// What a forge said about a token it accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Facts {
    /// The account the token belongs to.
    pub login: Option<Vec<u8>>,
    /// Its scopes; `None` when the forge does not say.
    pub scopes: Option<Vec<Vec<u8>>>,
    /// Its expiry.
    pub expiry: Expiry,
}

/// The forge's word on a token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Accepted.
    Valid(Facts),
    /// Rejected: 401 (revoked, expired, mistyped), or GitLab says it is revoked or inactive.
    Rejected,
    /// No usable answer; why, for people (never a token).
    Unknown(String),
}

/// Why an answer was not the one expected, for people.
pub fn unexpected(reply: &Reply) -> String {
    match reply.status {
        300..=399 => format!(
            "the API answered with a redirect ({}), which is never followed",
            reply.status
        ),
        200..=299 => format!(
            "HTTP {} with an answer that is not the forge's",
            reply.status
        ),
        403 => "HTTP 403: the token may lack the scope this check needs".to_owned(),
        s => format!("HTTP {s}"),
    }
}

/// An expiry that is not in the future, for a token the forge has just accepted, is wrong
/// (GitHub has been seen to send the current time for fine-grained tokens): ignored.
fn sane(expiry: Expiry, now: u64) -> Expiry {
    match expiry {
        Expiry::At(t) if t <= now => Expiry::Unknown,
        e => e,
    }
}

fn string_field(v: &Value, name: &str) -> Option<Vec<u8>> {
    v.get(name)?.as_str().map(|s| s.as_bytes().to_vec())
}

/// GitHub's `GET /user`: `login` from the JSON, the expiry from
/// `GitHub-Authentication-Token-Expiration`, the scopes from `X-OAuth-Scopes`.
pub fn github_user(reply: &Reply, now: u64) -> Verdict {
    match reply.status {
        401 => return Verdict::Rejected,
        200 => {}
        _ => return Verdict::Unknown(unexpected(reply)),
    }
    let Some(login) = reply.json().and_then(|v| string_field(&v, "login")) else {
        return Verdict::Unknown(unexpected(reply));
    };
    let expiry = match reply.header("github-authentication-token-expiration") {
        None => Expiry::Never,
        Some(v) => std::str::from_utf8(v)
            .ok()
            .and_then(github_expiration)
            .map_or(Expiry::Unknown, Expiry::At),
    };
    let scopes = reply.header("x-oauth-scopes").map(|v| {
        v.split(|&b| b == b',')
            .map(|s| s.trim_ascii().to_vec())
            .filter(|s| !s.is_empty())
            .collect()
    });
    Verdict::Valid(Facts {
        login: Some(login),
        scopes,
        expiry: sane(expiry, now),
    })
}

/// `GitHub-Authentication-Token-Expiration`: `2021-10-07 19:07:53 UTC` or
/// `2023-04-26 20:23:26 +0200`, as Unix seconds.
pub fn github_expiration(value: &str) -> Option<u64> {
    let (date, rest) = value.trim().split_once(' ')?;
    let (time, zone) = rest.split_once(' ')?;
    let offset = match zone {
        "UTC" => "Z".to_owned(),
        z if z.len() == 5
            && matches!(z.as_bytes()[0], b'+' | b'-')
            && z[1..].bytes().all(|b| b.is_ascii_digit()) =>
        {
            format!("{}:{}", &z[..3], &z[3..])
        }
        _ => return None,
    };
    if date.len() != 10 || time.len() != 8 {
        return None;
    }
    parse_date(&format!("{date}T{time}{offset}"))
}

/// GitLab's `expires_at`, a date: the token stops working at the start of that day, UTC.
pub fn gitlab_date(date: &str) -> Option<u64> {
    (date.len() == 10)
        .then(|| parse_date(date))
        .flatten()
        .map(|end| end - 86_399)
}

/// What GitLab's `GET /personal_access_tokens/self` says about the token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GitLabToken {
    /// From `scopes`.
    pub scopes: Option<Vec<Vec<u8>>>,
    /// From `expires_at`.
    pub expiry: Expiry,
    /// From `created_at` (Unix seconds), for a rotation's lifetime.
    pub created: Option<u64>,
}

/// GitLab's `GET /personal_access_tokens/self`: `expires_at`, `scopes`, `active`, `revoked`,
/// `created_at`. `Err` is the verdict when the token is not accepted or the answer unusable.
pub fn gitlab_token(reply: &Reply, now: u64) -> Result<GitLabToken, Verdict> {
    match reply.status {
        401 => return Err(Verdict::Rejected),
        200 => {}
        _ => return Err(Verdict::Unknown(unexpected(reply))),
    }
    let v = reply
        .json()
        .filter(|v| v.get("active").is_some_and(Value::is_boolean))
        .ok_or_else(|| Verdict::Unknown(unexpected(reply)))?;
    if v.get("revoked") == Some(&Value::Bool(true)) || v.get("active") == Some(&Value::Bool(false))
    {
        return Err(Verdict::Rejected);
    }
    let expiry = match v.get("expires_at") {
        Some(Value::Null) | None => Expiry::Never,
        Some(Value::String(d)) => gitlab_date(d).map_or(Expiry::Unknown, Expiry::At),
        Some(_) => Expiry::Unknown,
    };
    let scopes = v.get("scopes").and_then(Value::as_array).map(|a| {
        a.iter()
            .filter_map(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(|s| s.as_bytes().to_vec())
            .collect()
    });
    let created = v
        .get("created_at")
        .and_then(Value::as_str)
        .and_then(parse_date);
    Ok(GitLabToken {
        scopes,
        expiry: sane(expiry, now),
        created,
    })
}

/// GitLab's `GET /user`: `username`, when the token may read it (`read_user`, `api`).
pub fn gitlab_user(reply: &Reply) -> Option<Vec<u8>> {
    (reply.status == 200)
        .then(|| reply.json())
        .flatten()
        .and_then(|v| string_field(&v, "username"))
}

/// Gitea's and Forgejo's `GET /user`: `login` (no expiry or scopes to learn).
pub fn gitea_user(reply: &Reply) -> Verdict {
    match reply.status {
        401 => Verdict::Rejected,
        200 => match reply.json().and_then(|v| string_field(&v, "login")) {
            Some(login) => Verdict::Valid(Facts {
                login: Some(login),
                scopes: None,
                expiry: Expiry::Unknown,
            }),
            None => Verdict::Unknown(unexpected(reply)),
        },
        _ => Verdict::Unknown(unexpected(reply)),
    }
}

/// GitLab's answer to `POST /personal_access_tokens/self/rotate`: the new `token` and its
/// `expires_at`. `None` when the answer holds no token.
pub fn gitlab_rotated(reply: &Reply) -> Option<(Secret, Expiry)> {
    if reply.status != 200 && reply.status != 201 {
        return None;
    }
    let mut v: Value = serde_json::from_slice(&reply.body).ok()?;
    let expiry = match v.get("expires_at") {
        Some(Value::String(d)) => gitlab_date(d).map_or(Expiry::Unknown, Expiry::At),
        Some(Value::Null) => Expiry::Never,
        _ => Expiry::Unknown,
    };
    let Value::String(token) = v.as_object_mut()?.remove("token")? else {
        return None;
    };
    let token = Zeroizing::new(token);
    let ok = !token.is_empty() && token.bytes().all(|b| (0x21..0x7f).contains(&b));
    ok.then(|| (Secret::from_slice(token.as_bytes()), expiry))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_764_000_000; // 2025-11-24

    fn reply(status: u16, headers: &[(&str, &str)], body: &str) -> Reply {
        Reply {
            status,
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_ascii_lowercase(), v.as_bytes().to_vec()))
                .collect(),
            body: Zeroizing::new(body.as_bytes().to_vec()),
        }
    }

    #[test]
    fn github_expiration_takes_both_formats_seen() {
        assert_eq!(
            github_expiration("2021-10-07 19:07:53 UTC"),
            Some(1_633_633_673)
        );
        assert_eq!(
            github_expiration("2023-04-26 20:23:26 +0200"),
            Some(1_682_533_406)
        );
        assert_eq!(
            github_expiration("2023-04-26 18:23:26 UTC"),
            github_expiration("2023-04-26 20:23:26 +0200")
        );
        assert_eq!(
            github_expiration("2023-04-26 13:23:26 -0500"),
            github_expiration("2023-04-26 18:23:26 UTC")
        );
        for bad in [
            "",
            "2023-04-26",
            "2023-04-26T18:23:26Z",
            "2023-04-26 18:23:26 CET",
        ] {
            assert_eq!(github_expiration(bad), None, "{bad}");
        }
    }

    #[test]
    fn github_user_reads_login_expiry_and_scopes() {
        let ok = reply(
            200,
            &[
                (
                    "GitHub-Authentication-Token-Expiration",
                    "2026-01-31 12:00:00 UTC",
                ),
                ("X-OAuth-Scopes", "repo, read:org"),
            ],
            r#"{"login": "octocat", "id": 1}"#,
        );
        assert_eq!(
            github_user(&ok, NOW),
            Verdict::Valid(Facts {
                login: Some(b"octocat".to_vec()),
                scopes: Some(vec![b"repo".to_vec(), b"read:org".to_vec()]),
                expiry: Expiry::At(1_769_860_800),
            })
        );
        let fine_grained = reply(200, &[], r#"{"login": "octocat"}"#);
        let Verdict::Valid(f) = github_user(&fine_grained, NOW) else {
            panic!()
        };
        assert_eq!((f.expiry, f.scopes), (Expiry::Never, None));
        let no_scopes = reply(200, &[("x-oauth-scopes", "")], r#"{"login": "o"}"#);
        let Verdict::Valid(f) = github_user(&no_scopes, NOW) else {
            panic!()
        };
        assert_eq!(f.scopes, Some(vec![]));
    }

    #[test]
    fn an_expiry_not_in_the_future_for_an_accepted_token_is_ignored() {
        let now_as_expiry = reply(
            200,
            &[(
                "github-authentication-token-expiration",
                "2025-11-24 16:00:00 UTC",
            )],
            r#"{"login": "o"}"#,
        );
        let Verdict::Valid(f) = github_user(&now_as_expiry, NOW) else {
            panic!()
        };
        assert_eq!(f.expiry, Expiry::Unknown);
        let garbled = reply(
            200,
            &[("github-authentication-token-expiration", "soon")],
            r#"{"login": "o"}"#,
        );
        let Verdict::Valid(f) = github_user(&garbled, NOW) else {
            panic!()
        };
        assert_eq!(f.expiry, Expiry::Unknown);
    }

    #[test]
    fn only_a_401_rejects() {
        assert_eq!(github_user(&reply(401, &[], ""), NOW), Verdict::Rejected);
        assert_eq!(gitea_user(&reply(401, &[], "")), Verdict::Rejected);
        for (status, body) in [
            (403, r#"{"message": "Resource not accessible"}"#),
            (500, ""),
            (502, "<html>proxy error</html>"),
            (302, ""),
            (200, "<html>captive portal</html>"),
            (200, r#"{"message": "no login here"}"#),
            (200, "[1, 2"),
        ] {
            let r = reply(status, &[], body);
            assert!(
                matches!(github_user(&r, NOW), Verdict::Unknown(_)),
                "{status} {body}"
            );
            assert!(matches!(gitea_user(&r), Verdict::Unknown(_)), "{status}");
            assert!(
                matches!(gitlab_token(&r, NOW), Err(Verdict::Unknown(_))),
                "{status}"
            );
        }
        assert!(unexpected(&reply(301, &[], "")).contains("never followed"));
    }

    #[test]
    fn gitlab_reads_the_token_and_its_flags() {
        let body = r#"{"id": 4, "name": "laptop", "revoked": false, "created_at": "2025-10-01T08:00:00.000Z",
            "scopes": ["api", "read_repository"], "user_id": 3, "active": true, "expires_at": "2026-01-01"}"#;
        let t = gitlab_token(&reply(200, &[], body), NOW).unwrap();
        assert_eq!(
            t.expiry,
            Expiry::At(1_767_225_600),
            "the start of that day, UTC"
        );
        assert_eq!(
            t.scopes,
            Some(vec![b"api".to_vec(), b"read_repository".to_vec()])
        );
        assert_eq!(t.created, Some(1_759_305_600));
        let never = body.replace(r#""2026-01-01""#, "null");
        assert_eq!(
            gitlab_token(&reply(200, &[], &never), NOW).unwrap().expiry,
            Expiry::Never
        );
        let revoked = body.replace(r#""revoked": false"#, r#""revoked": true"#);
        assert_eq!(
            gitlab_token(&reply(200, &[], &revoked), NOW),
            Err(Verdict::Rejected)
        );
        let inactive = body.replace(r#""active": true"#, r#""active": false"#);
        assert_eq!(
            gitlab_token(&reply(200, &[], &inactive), NOW),
            Err(Verdict::Rejected)
        );
        assert_eq!(
            gitlab_user(&reply(200, &[], r#"{"username": "alice"}"#)),
            Some(b"alice".to_vec())
        );
        assert_eq!(gitlab_user(&reply(403, &[], r#"{"username": "x"}"#)), None);
    }

    #[test]
    fn a_rotation_answer_gives_the_new_token_and_its_expiry() {
        let r = reply(
            200,
            &[],
            r#"{"id": 5, "token": "glpat-new", "expires_at": "2026-03-01", "active": true}"#,
        );
        let (token, expiry) = gitlab_rotated(&r).unwrap();
        assert_eq!(token.expose(), b"glpat-new");
        assert_eq!(expiry, Expiry::At(gitlab_date("2026-03-01").unwrap()));
        assert!(gitlab_rotated(&reply(200, &[], r#"{"token": ""}"#)).is_none());
        assert!(gitlab_rotated(&reply(200, &[], r#"{"token": "a\nb"}"#)).is_none());
        assert!(gitlab_rotated(&reply(200, &[], "nope")).is_none());
        assert!(gitlab_rotated(&reply(400, &[], r#"{"token": "x"}"#)).is_none());
    }
}
