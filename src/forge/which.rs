//! Which forge a credential's host is, and where its API lives (DESIGN §8). Pure: git's
//! `credential.<url>.provider` is read elsewhere and handed in.
//!
//! Known without configuration: `github.com` (API `https://api.github.com`), `*.ghe.com`
//! (GitHub, API `https://api.HOST`), `gitlab.com` (`https://gitlab.com/api/v4`) and
//! `codeberg.org` (Forgejo, `https://codeberg.org/api/v1`). Any other host through the
//! provider Git Credential Manager already uses: `github` (GitHub Enterprise Server,
//! `https://HOST/api/v3`), `gitlab` (`https://HOST/api/v4`), `gitea` (Gitea and Forgejo,
//! `https://HOST/api/v1`), or `generic` (never ask, known hosts included). The port of the
//! credential's host is kept. Only `https` credentials are ever asked about.

use url::Url;

use crate::key::HostKey;

/// The kinds of forge the helper can ask.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// GitHub, GitHub Enterprise Server, GitHub Enterprise Cloud with data residency.
    GitHub,
    /// GitLab, gitlab.com or self-managed.
    GitLab,
    /// Gitea or Forgejo (codeberg.org).
    Gitea,
}

impl Kind {
    /// The forge's name for messages.
    pub fn name(self) -> &'static str {
        match self {
            Kind::GitHub => "GitHub",
            Kind::GitLab => "GitLab",
            Kind::Gitea => "Gitea",
        }
    }
}

/// What `credential.<url>.provider` says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Provider {
    /// Unset (or `auto`): the known hosts are known, no other.
    Auto,
    /// This kind of forge.
    Is(Kind),
    /// `generic`, or a provider this helper cannot speak to (`bitbucket`, `azure-repos`):
    /// never ask.
    Never,
}

impl Provider {
    /// Reads a configured value (ASCII case ignored); `None`: unset.
    pub fn parse(value: Option<&str>) -> Provider {
        let Some(v) = value.map(str::trim) else {
            return Provider::Auto;
        };
        match v.to_ascii_lowercase().as_str() {
            "" | "auto" => Provider::Auto,
            "github" => Provider::Is(Kind::GitHub),
            "gitlab" => Provider::Is(Kind::GitLab),
            "gitea" | "forgejo" => Provider::Is(Kind::Gitea),
            _ => Provider::Never,
        }
    }
}

/// A forge's API for one credential host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Forge {
    /// Which kind.
    pub kind: Kind,
    /// The credential's origin, `https://host[:port]/` (for pages people visit).
    pub origin: Url,
    /// The API's base, ending in `/`.
    api: Url,
}

impl Forge {
    /// The API endpoint at `segments` below the base (`["user"]` → `.../user`).
    pub fn endpoint(&self, segments: &[&str]) -> Url {
        let mut url = self.api.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    /// The API's host and port, as the connection names them (for `no_proxy`).
    pub fn api_host(&self) -> String {
        self.api.host_str().unwrap_or_default().to_owned()
    }

    /// The page where a person creates or regenerates a token on this forge.
    pub fn token_page(&self) -> Url {
        let path = match self.kind {
            Kind::GitHub => "settings/tokens",
            Kind::GitLab => "-/user_settings/personal_access_tokens",
            Kind::Gitea => "user/settings/applications",
        };
        let mut url = self.origin.clone();
        url.set_path(path);
        url
    }
}

/// The origin `https://host/` of a credential's host, if the host is a plain host name or
/// IP address with an optional port: nothing a URL parser would read as a user, a path, a
/// query or another host (`a@b`, `a/b`, `a#b`), so the token can only go where the host
/// says.
pub fn origin(host: &[u8]) -> Option<Url> {
    let host = std::str::from_utf8(host).ok()?;
    if host.is_empty()
        || !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]_".contains(&b))
    {
        return None;
    }
    let url = Url::parse(&format!("https://{host}/")).ok()?;
    let name = url.host_str()?;
    let rebuilt = match url.port() {
        Some(p) => format!("{name}:{p}"),
        None => name.to_owned(),
    };
    // The parser drops a default port (`:443`); anything else it changed is refused.
    let same =
        rebuilt.eq_ignore_ascii_case(host) || format!("{rebuilt}:443").eq_ignore_ascii_case(host);
    (same && url.path() == "/").then_some(url)
}

/// The forge for a credential of `host` (its protocol must be `https`), given what
/// `credential.<url>.provider` says; `None`: never ask.
pub fn forge_for(host: &HostKey, provider: Provider) -> Option<Forge> {
    if host.protocol != b"https" {
        return None;
    }
    let origin = origin(&host.host)?;
    let name = origin.host_str()?.to_ascii_lowercase();
    let known = match name.as_str() {
        "github.com" => Some((Kind::GitHub, "https://api.github.com/".to_owned())),
        "gitlab.com" => Some((Kind::GitLab, "https://gitlab.com/api/v4/".to_owned())),
        "codeberg.org" => Some((Kind::Gitea, "https://codeberg.org/api/v1/".to_owned())),
        n if n.ends_with(".ghe.com") && n.len() > ".ghe.com".len() => {
            Some((Kind::GitHub, format!("https://api.{n}/")))
        }
        _ => None,
    };
    let (kind, api) = match (provider, known) {
        (Provider::Never, _) => return None,
        (Provider::Auto, None) => return None,
        (Provider::Auto, Some(k)) => k,
        (Provider::Is(kind), Some((k, api))) if kind == k => (k, api),
        (Provider::Is(kind), _) => {
            let base = match kind {
                Kind::GitHub => "api/v3/",
                Kind::GitLab => "api/v4/",
                Kind::Gitea => "api/v1/",
            };
            (kind, format!("https://{name}/{base}"))
        }
    };
    let mut api = Url::parse(&api).ok()?;
    api.set_port(origin.port()).ok()?;
    Some(Forge { kind, origin, api })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(host: &str, provider: Provider) -> Option<(Kind, String)> {
        let forge = forge_for(&HostKey::new(b"https", host.as_bytes()), provider)?;
        Some((forge.kind, forge.endpoint(&["user"]).to_string()))
    }

    #[test]
    fn the_known_hosts_are_known_with_their_apis_and_ports() {
        let auto = Provider::Auto;
        assert_eq!(
            api("github.com", auto),
            Some((Kind::GitHub, "https://api.github.com/user".into()))
        );
        assert_eq!(
            api("GitHub.com:8443", auto),
            Some((Kind::GitHub, "https://api.github.com:8443/user".into()))
        );
        assert_eq!(
            api("gitlab.com", auto),
            Some((Kind::GitLab, "https://gitlab.com/api/v4/user".into()))
        );
        assert_eq!(
            api("codeberg.org", auto),
            Some((Kind::Gitea, "https://codeberg.org/api/v1/user".into()))
        );
        assert_eq!(
            api("octo.ghe.com", auto),
            Some((Kind::GitHub, "https://api.octo.ghe.com/user".into()))
        );
        assert_eq!(api("ghe.com", auto), None);
        assert_eq!(api("github.com.evil.example", auto), None);
        assert_eq!(api("example.com", auto), None);
    }

    #[test]
    fn a_provider_names_any_other_host_and_generic_turns_every_host_off() {
        let gh = Provider::Is(Kind::GitHub);
        assert_eq!(
            api("git.corp.example", gh),
            Some((Kind::GitHub, "https://git.corp.example/api/v3/user".into()))
        );
        assert_eq!(
            api("127.0.0.1:8443", Provider::Is(Kind::GitLab)),
            Some((Kind::GitLab, "https://127.0.0.1:8443/api/v4/user".into()))
        );
        assert_eq!(
            api("[::1]:3000", Provider::Is(Kind::Gitea)),
            Some((Kind::Gitea, "https://[::1]:3000/api/v1/user".into()))
        );
        assert_eq!(
            api("github.com", gh),
            Some((Kind::GitHub, "https://api.github.com/user".into()))
        );
        assert_eq!(api("github.com", Provider::Never), None);
        assert_eq!(Provider::parse(Some("generic")), Provider::Never);
        assert_eq!(Provider::parse(Some("bitbucket")), Provider::Never);
        assert_eq!(Provider::parse(Some("GitLab")), Provider::Is(Kind::GitLab));
        assert_eq!(Provider::parse(Some("auto")), Provider::Auto);
        assert_eq!(Provider::parse(None), Provider::Auto);
    }

    #[test]
    fn only_https_and_only_plain_hosts_are_asked() {
        let gh = Provider::Is(Kind::GitHub);
        assert!(forge_for(&HostKey::new(b"http", b"github.com"), Provider::Auto).is_none());
        for hostile in [
            "github.com@evil.example",
            "evil.example/github.com",
            "evil.example#github.com",
            "evil.example?x",
            "a b",
            "evil.example\\x",
            "",
            "h:notaport",
            "h\u{e9}.example",
        ] {
            assert_eq!(api(hostile, gh), None, "{hostile:?}");
        }
    }

    #[test]
    fn token_pages_are_on_the_credentials_own_host() {
        let forge = |h: &str, p| forge_for(&HostKey::new(b"https", h.as_bytes()), p).unwrap();
        assert_eq!(
            forge("github.com", Provider::Auto).token_page().as_str(),
            "https://github.com/settings/tokens"
        );
        assert_eq!(
            forge("git.example:8443", Provider::Is(Kind::GitLab))
                .token_page()
                .as_str(),
            "https://git.example:8443/-/user_settings/personal_access_tokens"
        );
        assert_eq!(
            forge("codeberg.org", Provider::Auto).token_page().as_str(),
            "https://codeberg.org/user/settings/applications"
        );
    }
}
