//! What git's configuration and environment say about asking a forge: the provider of a
//! credential's URL, and how git itself would connect there (its proxy, its CA file).
//!
//! Read only by the commands that may connect (`add`, `verify`, `rotate`, and `store` of a
//! new token), by running `git config` with a time bound: never by `get` or `erase`.

use std::ffi::OsString;
use std::io::Read;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

use super::client::Net;

/// Runs `git ARGS` with standard input closed, and its output if it exits 0 before
/// `deadline` (killed at the deadline: a hung git never holds the helper).
pub fn git_bounded(args: &[&str], deadline: Instant) -> Option<Vec<u8>> {
    Running::start(args)?.finish(deadline)
}

/// A `git` started with standard input closed, its output read on a thread (so that it never
/// blocks on a full pipe). Dropped unfinished, it is killed and reaped.
pub struct Running {
    child: std::process::Child,
    output: std::sync::mpsc::Receiver<Vec<u8>>,
}

impl Running {
    /// Starts `git ARGS`; `None` when git cannot be started.
    pub fn start(args: &[&str]) -> Option<Running> {
        let mut child = Command::new("git")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let out = child.stdout.take()?;
        let (tx, output) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = out.take(1024 * 1024).read_to_end(&mut v);
            let _ = tx.send(v);
        });
        Some(Running { child, output })
    }

    /// Its output (at most 1 MiB), if it exits 0 before `deadline`; killed at the deadline.
    /// The end of its output is heard at once (git closes it as it exits), not by polling.
    pub fn finish(mut self, deadline: Instant) -> Option<Vec<u8>> {
        let left = deadline.saturating_duration_since(Instant::now());
        let v = self.output.recv_timeout(left).ok()?;
        // Its output is closed: it is exiting. Still bounded, in case it lingers.
        let mut pause = std::time::Duration::from_micros(50);
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return status.success().then_some(v),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(std::time::Duration::from_millis(10));
                }
                _ => return None,
            }
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `credential.<url>.provider` for `url`, as git's URL matching picks it.
pub fn provider(url: &str, deadline: Instant) -> Option<String> {
    provider_lookup(url)?.finish(deadline)
}

/// The `git config` of [`provider`], started: [`ProviderLookup::finish`] gives the value.
pub fn provider_lookup(url: &str) -> Option<ProviderLookup> {
    Running::start(&["config", "--get-urlmatch", "credential.provider", url]).map(ProviderLookup)
}

/// A started lookup of `credential.<url>.provider`.
pub struct ProviderLookup(Running);

impl ProviderLookup {
    /// The value, if git gave one before `deadline`.
    pub fn finish(self, deadline: Instant) -> Option<String> {
        let out = self.0.finish(deadline)?;
        Some(String::from_utf8_lossy(&out).trim().to_owned())
    }
}

/// git's `http.proxy` and `http.sslCAInfo` for `url` (git's URL matching), as written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GitHttp {
    /// `http.proxy`; `Some("")` disables proxying, as in git.
    pub proxy: Option<String>,
    /// `http.sslCAInfo`.
    pub ca_info: Option<String>,
}

/// Reads [`GitHttp`] for `url`.
pub fn git_http(url: &str, deadline: Instant) -> GitHttp {
    let mut http = GitHttp::default();
    let Some(out) = git_bounded(
        &["config", "--null", "--get-urlmatch", "http", url],
        deadline,
    ) else {
        return http;
    };
    for entry in out.split(|&b| b == 0) {
        let entry = String::from_utf8_lossy(entry);
        let (key, value) = entry.split_once('\n').unwrap_or((&entry, ""));
        match key.to_ascii_lowercase().as_str() {
            "http.proxy" => http.proxy = Some(value.to_owned()),
            "http.sslcainfo" => http.ca_info = Some(value.to_owned()),
            _ => {}
        }
    }
    http
}

/// How to reach the API on `api_host` as git would reach a server: `GIT_SSL_CAINFO` over
/// `http.sslCAInfo` (`~/` expanded); the proxy of `http.proxy`, else `https_proxy`,
/// `HTTPS_PROXY`, `all_proxy`, `ALL_PROXY`; none when `no_proxy`/`NO_PROXY` covers the host.
/// `Err` (why) for a proxy this helper cannot use: it never goes around it.
pub fn net(
    git: &GitHttp,
    env: &dyn Fn(&str) -> Option<OsString>,
    api_host: &str,
) -> Result<Net, String> {
    let var = |name: &str| {
        env(name)
            .and_then(|v| v.into_string().ok())
            .filter(|v| !v.is_empty())
    };
    let ca_file = var("GIT_SSL_CAINFO")
        .or_else(|| git.ca_info.clone().filter(|v| !v.is_empty()))
        .map(|p| match (p.strip_prefix("~/"), env("HOME")) {
            (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
            _ => PathBuf::from(p),
        });
    let configured = match &git.proxy {
        Some(p) => Some(p.trim().to_owned()),
        None => ["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"]
            .iter()
            .find_map(|n| var(n)),
    };
    let no_proxy = var("no_proxy").or_else(|| var("NO_PROXY"));
    let proxy = match configured {
        None => None,
        Some(p) if p.is_empty() => None,
        Some(_) if no_proxy.is_some_and(|list| no_proxy_covers(&list, api_host)) => None,
        Some(p) => Some(proxy_url(&p)?),
    };
    Ok(Net { proxy, ca_file })
}

/// A proxy as git writes it (`host:port`, `http://user:pass@host:port`) as a URL; only
/// HTTP(S) proxies, which tunnel with CONNECT.
fn proxy_url(p: &str) -> Result<String, String> {
    let url = if p.contains("://") {
        p.to_owned()
    } else {
        format!("http://{p}")
    };
    let scheme = url
        .split("://")
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    if scheme == "http" || scheme == "https" {
        Ok(url)
    } else {
        Err(format!(
            "the proxy git would use ({}://...) is not an HTTP proxy, which this helper cannot use",
            crate::display::escape(scheme.as_bytes())
        ))
    }
}

/// Whether a `no_proxy` list covers `host` as curl reads it: `*`; a host name and its
/// subdomains (`example.com`, `.example.com`); an IP address or a CIDR range.
pub fn no_proxy_covers(list: &str, host: &str) -> bool {
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    let ip: Option<IpAddr> = host.parse().ok();
    list.split(',').any(|entry| {
        let e = entry.trim().to_ascii_lowercase();
        let e = e.trim_start_matches("*.").trim_start_matches('.');
        let e = e.trim_start_matches('[').trim_end_matches(']');
        if e == "*" {
            return true;
        }
        if e.is_empty() {
            return false;
        }
        if let (Some(ip), Some((net, bits))) = (ip, e.split_once('/')) {
            return in_cidr(ip, net, bits);
        }
        host == e || host.ends_with(&format!(".{e}"))
    })
}

fn in_cidr(ip: IpAddr, net: &str, bits: &str) -> bool {
    let (Ok(net), Ok(bits)) = (net.parse::<IpAddr>(), bits.parse::<u32>()) else {
        return false;
    };
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<OsString> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn git_proxy_beats_the_environment_and_empty_means_none() {
        let env = env_of(&[("https_proxy", "http://env:1")]);
        let git = GitHttp {
            proxy: Some("git.proxy:3128".into()),
            ca_info: None,
        };
        assert_eq!(
            net(&git, &env, "api.github.com").unwrap().proxy.as_deref(),
            Some("http://git.proxy:3128")
        );
        let off = GitHttp {
            proxy: Some(String::new()),
            ca_info: None,
        };
        assert_eq!(net(&off, &env, "api.github.com").unwrap().proxy, None);
        assert_eq!(
            net(&GitHttp::default(), &env, "api.github.com")
                .unwrap()
                .proxy
                .as_deref(),
            Some("http://env:1")
        );
        let upper = env_of(&[
            ("HTTPS_PROXY", "http://up:2"),
            ("ALL_PROXY", "http://all:3"),
        ]);
        assert_eq!(
            net(&GitHttp::default(), &upper, "h")
                .unwrap()
                .proxy
                .as_deref(),
            Some("http://up:2")
        );
        let socks = env_of(&[("https_proxy", "socks5://s:1080")]);
        assert!(
            net(&GitHttp::default(), &socks, "h").is_err(),
            "never around it"
        );
    }

    #[test]
    fn no_proxy_is_read_as_curl_reads_it() {
        let env = env_of(&[
            ("https_proxy", "http://p:1"),
            ("no_proxy", "localhost, .corp.example,10.0.0.0/8"),
        ]);
        let proxied = |h: &str| net(&GitHttp::default(), &env, h).unwrap().proxy.is_some();
        assert!(!proxied("localhost"));
        assert!(!proxied("git.corp.example"));
        assert!(!proxied("corp.example"));
        assert!(!proxied("10.1.2.3"));
        assert!(proxied("api.github.com"));
        assert!(proxied("notcorp.example"));
        assert!(proxied("11.0.0.1"));
        assert!(no_proxy_covers("*", "anything"));
        assert!(no_proxy_covers("127.0.0.1", "127.0.0.1"));
        assert!(no_proxy_covers("::1", "[::1]"));
        assert!(no_proxy_covers("fd00::/8", "fd12::1"));
        assert!(!no_proxy_covers("", "h"));
    }

    #[test]
    fn the_ca_file_comes_from_the_environment_then_git() {
        let git = GitHttp {
            proxy: None,
            ca_info: Some("~/ca.pem".into()),
        };
        let home = env_of(&[("HOME", "/home/me")]);
        assert_eq!(
            net(&git, &home, "h").unwrap().ca_file,
            Some(PathBuf::from("/home/me/ca.pem"))
        );
        let env = env_of(&[("GIT_SSL_CAINFO", "/etc/corp.pem"), ("HOME", "/home/me")]);
        assert_eq!(
            net(&git, &env, "h").unwrap().ca_file,
            Some(PathBuf::from("/etc/corp.pem"))
        );
    }
}
