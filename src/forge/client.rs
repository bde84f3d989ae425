//! The HTTP client that talks to the forges' APIs: HTTPS only, certificates checked against
//! the system's roots plus git's own CA file, the proxy git would use, no redirect ever
//! followed, every request bounded in time, the token only in one request header.
//!
//! TLS is rustls with the ring provider, except on macOS and Windows where the OS's own TLS
//! (through `native-tls`) does the work; on every platform the trusted roots are the OS's
//! store (`rustls-native-certs`) and the PEM file of `GIT_SSL_CAINFO` / `http.sslCAInfo`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ureq::tls::{Certificate, RootCerts, TlsConfig, TlsProvider};
use ureq::{Agent, Timeout};
use url::Url;
use zeroize::Zeroizing;

use super::answer::Reply;
use crate::secret::Secret;

/// The most of an answer read: the forges' answers here are a few kilobytes.
const MAX_BODY: u64 = 1024 * 1024;

/// Where and how to connect, beyond the URL.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Net {
    /// The proxy to go through (`http://host:port`), `None`: directly.
    pub proxy: Option<String>,
    /// A PEM file of more trusted roots (git's `GIT_SSL_CAINFO` / `http.sslCAInfo`).
    pub ca_file: Option<PathBuf>,
}

/// How the token goes in the request: always one header, never the URL.
#[derive(Clone, Copy)]
pub enum Auth<'a> {
    /// `Authorization: Bearer TOKEN` (GitHub).
    Bearer(&'a Secret),
    /// `PRIVATE-TOKEN: TOKEN` (GitLab).
    PrivateToken(&'a Secret),
    /// `Authorization: token TOKEN` (Gitea, Forgejo).
    Token(&'a Secret),
}

/// Why a request got no answer. Never holds a token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// Nothing reached the forge: no connection, no TLS, no proxy tunnel, or the request
    /// could not be made (a token that is not a valid header value).
    NotSent(String),
    /// The request may have reached the forge, but no answer came back in time.
    NoAnswer(String),
}

impl Failure {
    /// Why, for people.
    pub fn why(&self) -> &str {
        match self {
            Failure::NotSent(w) | Failure::NoAnswer(w) => w,
        }
    }
}

/// Time bounds of one request: connecting (DNS, TCP, proxy tunnel, TLS handshake) and the
/// whole request.
#[derive(Clone, Copy, Debug)]
pub struct Bounds {
    /// Until the connection is up.
    pub connect: Duration,
    /// The whole request, connection included.
    pub total: Duration,
}

/// A client for one forge's API.
pub struct Client {
    agent: Agent,
}

impl Client {
    /// A client for `net`. Fails (with why) when the CA file cannot be read.
    pub fn new(net: &Net) -> Result<Client, Failure> {
        let roots = roots(net.ca_file.as_deref())?;
        let tls = tls_config(roots);
        let proxy = match &net.proxy {
            Some(p) => Some(ureq::Proxy::new(p).map_err(|_| {
                Failure::NotSent("the proxy git would use is not a URL this helper can use".into())
            })?),
            None => None,
        };
        let config = Agent::config_builder()
            .https_only(true)
            .max_redirects(0)
            .http_status_as_error(false)
            .save_redirect_history(false)
            .user_agent(concat!("git-credential-pat/", env!("CARGO_PKG_VERSION")))
            .max_idle_connections(0)
            .proxy(proxy)
            .tls_config(tls)
            .build();
        Ok(Client {
            agent: config.new_agent(),
        })
    }

    /// `GET url` with the token in one header (and `accept`), bounded by `bounds`.
    pub fn get(
        &self,
        url: &Url,
        auth: Auth<'_>,
        extra: &[(&str, &str)],
        bounds: Bounds,
    ) -> Result<Reply, Failure> {
        let mut req = self.agent.get(url.as_str());
        for (name, value) in extra {
            req = req.header(*name, *value);
        }
        let (name, value) = auth_header(auth)?;
        let req = req
            .header(name, value)
            .config()
            .timeout_connect(Some(bounds.connect))
            .timeout_global(Some(bounds.total))
            .build();
        read(req.call(), bounds.total)
    }

    /// `POST url` with a form body and the token in one header. No global bound: each phase
    /// has its own, so a failure says whether the request can have reached the forge.
    pub fn post_form(
        &self,
        url: &Url,
        auth: Auth<'_>,
        form: &[(&str, &str)],
        bounds: Bounds,
    ) -> Result<Reply, Failure> {
        let (name, value) = auth_header(auth)?;
        let req = self
            .agent
            .post(url.as_str())
            .header(name, value)
            .config()
            .timeout_connect(Some(bounds.connect))
            .timeout_send_request(Some(bounds.connect))
            .timeout_send_body(Some(bounds.connect))
            .timeout_recv_response(Some(bounds.total))
            .timeout_recv_body(Some(bounds.connect))
            .build();
        read(req.send_form(form.iter().copied()), bounds.total)
    }
}

/// The header that carries the token, marked sensitive.
fn auth_header(auth: Auth<'_>) -> Result<(&'static str, ureq::http::HeaderValue), Failure> {
    let (name, prefix, token) = match auth {
        Auth::Bearer(t) => ("authorization", &b"Bearer "[..], t),
        Auth::PrivateToken(t) => ("private-token", &b""[..], t),
        Auth::Token(t) => ("authorization", &b"token "[..], t),
    };
    let mut bytes = Zeroizing::new(Vec::with_capacity(prefix.len() + token.expose().len()));
    bytes.extend_from_slice(prefix);
    bytes.extend_from_slice(token.expose());
    let ok =
        !token.expose().is_empty() && token.expose().iter().all(|&b| (0x21..0x7f).contains(&b));
    let mut value = ok
        .then(|| ureq::http::HeaderValue::from_bytes(&bytes).ok())
        .flatten()
        .ok_or_else(|| {
            Failure::NotSent("the token is not something an HTTP header can carry".into())
        })?;
    value.set_sensitive(true);
    Ok((name, value))
}

/// The answer, or why there is none.
fn read(
    result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    total: Duration,
) -> Result<Reply, Failure> {
    let mut response = result.map_err(|e| failure(&e, total))?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str().to_ascii_lowercase(), v.as_bytes().to_vec()))
        .collect();
    let body = response
        .body_mut()
        .with_config()
        .limit(MAX_BODY)
        .read_to_vec()
        .map_err(|e| failure(&e, total))?;
    Ok(Reply {
        status,
        headers,
        body: Zeroizing::new(body),
    })
}

/// A ureq error as a [`Failure`]: what fails before the request is written is `NotSent`.
fn failure(e: &ureq::Error, total: Duration) -> Failure {
    use ureq::Error as E;
    let secs = total.as_secs_f64();
    match e {
        E::Timeout(Timeout::Resolve | Timeout::Connect) => {
            Failure::NotSent("no connection to the API in time".into())
        }
        E::Timeout(_) => Failure::NoAnswer(format!("no answer within {secs:.0} s")),
        E::HostNotFound => Failure::NotSent("the API's host name does not resolve".into()),
        E::ConnectionFailed => Failure::NotSent("the API refused the connection".into()),
        E::ConnectProxyFailed(_) | E::InvalidProxyUrl => {
            Failure::NotSent("the proxy did not open a tunnel to the API".into())
        }
        E::Tls(_) => Failure::NotSent("the TLS handshake failed".into()),
        #[cfg(not(any(target_os = "macos", windows)))]
        E::Rustls(_) => Failure::NotSent(
            "the TLS handshake failed (is the certificate trusted? see http.sslCAInfo)".into(),
        ),
        #[cfg(any(target_os = "macos", windows))]
        E::NativeTls(_) => Failure::NotSent(
            "the TLS handshake failed (is the certificate trusted? see http.sslCAInfo)".into(),
        ),
        E::BadUri(_) | E::RequireHttpsOnly(_) | E::Http(_) => {
            Failure::NotSent("the API's URL cannot be used".into())
        }
        E::BodyExceedsLimit(_) => Failure::NoAnswer("an answer too large to be the API's".into()),
        E::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            Failure::NotSent("the API refused the connection".into())
        }
        // ureq's resolver passes getaddrinfo's failure through as I/O; std words it so on
        // every Unix (its kind is not yet nameable on stable Rust).
        E::Io(io)
            if io
                .to_string()
                .starts_with("failed to lookup address information") =>
        {
            Failure::NotSent(
                "the API's host name does not resolve (no network, or no DNS for it)".into(),
            )
        }
        _ => Failure::NoAnswer("the connection failed before a whole answer came".into()),
    }
}

/// The trusted roots: the OS's store, plus the certificates of `ca_file`.
fn roots(ca_file: Option<&std::path::Path>) -> Result<Vec<Certificate<'static>>, Failure> {
    let mut roots: Vec<Certificate<'static>> = rustls_native_certs::load_native_certs()
        .certs
        .iter()
        .map(|c| Certificate::from_der(c.as_ref()).to_owned())
        .collect();
    if let Some(path) = ca_file {
        let shown = crate::display::escape_path(path);
        let pem = read_public(path, 16 * 1024 * 1024).map_err(|_| {
            Failure::NotSent(format!("cannot read the CA file {shown} (http.sslCAInfo)"))
        })?;
        let before = roots.len();
        for item in ureq::tls::parse_pem(&pem) {
            if let Ok(ureq::tls::PemItem::Certificate(c)) = item {
                roots.push(c);
            }
        }
        if roots.len() == before {
            return Err(Failure::NotSent(format!(
                "the CA file {shown} (http.sslCAInfo) holds no certificate"
            )));
        }
    }
    Ok(roots)
}

/// Reads a public file (a CA bundle, often a symlink into /etc/ssl) of at most `cap` bytes,
/// without ever blocking on a FIFO or a device: only a regular file is read.
fn read_public(path: &std::path::Path, cap: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    let file = options.open(path)?;
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    let mut out = Vec::new();
    file.take(cap).read_to_end(&mut out)?;
    Ok(out)
}

#[cfg(not(any(target_os = "macos", windows)))]
fn tls_config(roots: Vec<Certificate<'static>>) -> TlsConfig {
    TlsConfig::builder()
        .provider(TlsProvider::Rustls)
        .root_certs(RootCerts::Specific(Arc::new(roots)))
        .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .build()
}

#[cfg(any(target_os = "macos", windows))]
fn tls_config(roots: Vec<Certificate<'static>>) -> TlsConfig {
    TlsConfig::builder()
        .provider(TlsProvider::NativeTls)
        .root_certs(RootCerts::Specific(Arc::new(roots)))
        .build()
}

/// When `bound` from `start` runs out.
pub fn deadline(bound: Duration) -> Instant {
    Instant::now() + bound
}

/// What is left of `deadline`, at least a millisecond (a zero bound would mean none).
pub fn left(deadline: Instant) -> Duration {
    deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_millis(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_goes_in_one_sensitive_header_and_only_if_it_can() {
        let t = Secret::from_slice(b"ghp_abc");
        let (name, value) = auth_header(Auth::Bearer(&t)).unwrap();
        assert_eq!(
            (name, value.as_bytes()),
            ("authorization", &b"Bearer ghp_abc"[..])
        );
        assert!(value.is_sensitive());
        let (name, value) = auth_header(Auth::PrivateToken(&t)).unwrap();
        assert_eq!((name, value.as_bytes()), ("private-token", &b"ghp_abc"[..]));
        let (_, value) = auth_header(Auth::Token(&t)).unwrap();
        assert_eq!(value.as_bytes(), b"token ghp_abc");
        for bad in [&b"a b"[..], b"a\r\nX-Evil: 1", b"", b"caf\xc3\xa9"] {
            let e = auth_header(Auth::Bearer(&Secret::from_slice(bad))).unwrap_err();
            assert!(matches!(e, Failure::NotSent(_)));
        }
    }
}
