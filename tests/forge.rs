//! The forges' APIs (DESIGN §8), against a local TLS server that answers as GitHub, GitLab
//! and Gitea do (`tests/support/forge_api_server.py`) and logs every request it gets: what a
//! store of a new token learns, what `add`, `verify` and `rotate` do, and that the token goes
//! only where it should. For every "never connects" claim the server's log is the evidence,
//! with a later request proving the server was up.
//!
//! Needs python3 and openssl; a missing one fails the test, saying what to install.

#![cfg(unix)]

#[path = "common/mod.rs"]
mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime};

use common::{World, text};
use serde_json::Value;

const API_SERVER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/support/forge_api_server.py"
);
const PROXY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/support/connect_proxy.py"
);

fn now() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Runs openssl in `dir`; fails the test, saying what to install, when it cannot.
fn openssl(world: &World, dir: &Path, args: &[&str]) {
    let out = world
        .command("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run openssl ({e}): install openssl"));
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        text(&out.stderr)
    );
}

/// A throwaway CA (`ca.pem`) and a certificate it signed for 127.0.0.1 (`cert.pem`,
/// `key.pem`), in `dir`.
fn make_pki(world: &World, dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    openssl(
        world,
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=forge test CA",
            "-keyout",
            "ca-key.pem",
            "-out",
            "ca.pem",
        ],
    );
    openssl(
        world,
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            "key.pem",
            "-out",
            "cert.csr",
        ],
    );
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        world,
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "cert.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca-key.pem",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
            "-out",
            "cert.pem",
        ],
    );
}

/// A python3 helper server of ours: started, its port read from its first line, killed on
/// drop (and it exits by itself when this process's end of its stdin closes).
struct Python {
    child: Child,
    _stdin: ChildStdin,
    port: u16,
}

impl Python {
    fn start(world: &World, script: &str, args: &[&str], dir: &Path) -> Python {
        let stderr = std::fs::File::create(dir.join("stderr")).unwrap();
        let mut child = world
            .command("python3")
            .arg(script)
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start python3 ({e}): install python3"));
        let stdin = child.stdin.take().unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let port = first.trim().parse().unwrap_or_else(|_| {
            let _ = child.kill();
            let _ = child.wait();
            let err = std::fs::read_to_string(dir.join("stderr")).unwrap_or_default();
            panic!("{script} did not start: {first:?}\n{err}")
        });
        Python {
            child,
            _stdin: stdin,
            port,
        }
    }
}

impl Drop for Python {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The test forge API: answers from `config.json`, logs to `requests.log`.
struct Api {
    server: Python,
    dir: PathBuf,
}

impl Api {
    fn start(world: &World, pki: &Path, name: &str) -> Api {
        let dir = world.root.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("config.json"), "{}").unwrap();
        let cert = pki.join("cert.pem");
        let key = pki.join("key.pem");
        let args = [
            "--cert",
            cert.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
            "--config",
            "config.json",
            "--log",
            "requests.log",
        ];
        let server = Python::start(world, API_SERVER, &args, &dir);
        Api { server, dir }
    }

    /// `host` as git sends it.
    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.server.port)
    }

    /// Replaces the server's answers (it re-reads them on every request).
    fn answer(&self, config: &str) {
        let tmp = self.dir.join("config.json.tmp");
        std::fs::write(&tmp, config).unwrap();
        std::fs::rename(tmp, self.dir.join("config.json")).unwrap();
    }

    /// Every logged line: requests, and TLS handshakes that failed.
    fn log(&self) -> Vec<Value> {
        std::fs::read_to_string(self.dir.join("requests.log"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// The requests (method and path) it got.
    fn requests(&self) -> Vec<String> {
        self.log()
            .iter()
            .filter(|e| e.get("method").is_some())
            .map(|e| {
                format!(
                    "{} {}",
                    e["method"].as_str().unwrap(),
                    e["path"].as_str().unwrap()
                )
            })
            .collect()
    }
}

/// Answers for tokens `tok-gh` (GitHub: expires in 3 days, classic scopes), `tok-fine`
/// (GitHub: no expiry, no scopes), `tok-gl` (GitLab: expires in 40 days, created 50 days
/// ago), `tok-gl-git` (GitLab: git scopes only, `/user` refused), `tok-tea` (Gitea).
fn standard_answers() -> String {
    let in_3_days = now() + 3 * 86_400;
    let gh_expiry = format_utc(in_3_days);
    let gl_expires = date(now() + 40 * 86_400);
    let gl_created = format!("{}T08:00:00.000Z", date(now() - 50 * 86_400));
    format!(
        r#"{{"tokens": {{
  "tok-gh": {{"login": "octo", "github_expiration": "{gh_expiry}", "scopes": "repo, read:org"}},
  "tok-fine": {{"login": "octo"}},
  "tok-gh2": {{"login": "octo", "scopes": "repo"}},
  "tok-gh3": {{"login": "octo", "scopes": "repo"}},
  "tok-gl": {{"login": "alice", "gitlab": {{"expires_at": "{gl_expires}", "created_at": "{gl_created}", "scopes": ["api", "read_repository"]}}}},
  "tok-gl-git": {{"login": "alice", "user_status": 403, "gitlab": {{"expires_at": "{gl_expires}", "scopes": ["read_repository"]}}}},
  "tok-tea": {{"login": "teabag"}}
}}}}"#
    )
}

/// `YYYY-MM-DD HH:MM:SS UTC` of Unix seconds, as GitHub's expiration header writes it.
fn format_utc(secs: u64) -> String {
    let rem = secs % 86_400;
    format!(
        "{} {:02}:{:02}:{:02} UTC",
        date(secs),
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// `YYYY-MM-DD` of Unix seconds, UTC.
fn date(secs: u64) -> String {
    let out = common::run(
        Command::new("date").args(["-u", "-d", &format!("@{secs}"), "+%Y-%m-%d"]),
        b"",
    );
    text(&out.stdout).trim().to_owned()
}

/// GitLab's `expires_at` date as an instant: the start of that day, UTC.
fn start_of(day: &str) -> u64 {
    let out = common::run(
        Command::new("date").args(["-u", "-d", &format!("{day} 00:00:00"), "+%s"]),
        b"",
    );
    text(&out.stdout).trim().parse().unwrap()
}

/// One test's world: a CA, the forge API, the helper on the file backend, and git told that
/// the server's host is `provider`.
struct Forge {
    w: World,
    pki: PathBuf,
    api: Api,
    file: PathBuf,
}

impl Forge {
    fn new(name: &str, provider: &str) -> Forge {
        let w = World::new(name);
        let pki = w.root.join("pki");
        make_pki(&w, &pki);
        let api = Api::start(&w, &pki, "api");
        api.answer(&standard_answers());
        let file = w.root.join("store/credentials");
        let f = Forge { w, pki, api, file };
        f.provider(provider);
        f
    }

    /// Sets `credential.https://HOST.provider`.
    fn provider(&self, provider: &str) {
        self.git_config(
            &format!("credential.https://{}.provider", self.api.host()),
            provider,
        );
    }

    fn git_config(&self, key: &str, value: &str) {
        let out = self.w.run_git(&["config", "--global", key, value], "");
        assert!(out.status.success(), "{}", text(&out.stderr));
    }

    /// The helper on the test's file, trusting the test CA through `GIT_SSL_CAINFO`.
    fn helper(&self) -> Command {
        let mut cmd = self.w.helper();
        cmd.arg("--backend=file")
            .arg(format!("--file={}", self.file.display()))
            .env("GIT_SSL_CAINFO", self.pki.join("ca.pem"));
        cmd
    }

    fn run(&self, args: &[&str], stdin: &str) -> Output {
        common::run(self.helper().args(args), stdin.as_bytes())
    }

    /// `store` of `token` for `user` on the server's host (git's store, as git sends it).
    fn store(&self, user: &str, token: &str) -> Output {
        let out = self.run(
            &["store"],
            &format!(
                "protocol=https\nhost={}\nusername={user}\npassword={token}\n",
                self.api.host()
            ),
        );
        assert!(out.status.success(), "store: {}", text(&out.stderr));
        out
    }

    /// `list --json`, parsed.
    fn listed(&self) -> Vec<Value> {
        let out = self.run(&["list", "--json"], "");
        assert!(out.status.success(), "{}", text(&out.stderr));
        serde_json::from_slice::<Value>(&out.stdout)
            .unwrap()
            .as_array()
            .unwrap()
            .clone()
    }

    /// The only stored credential.
    fn only(&self) -> Value {
        let listed = self.listed();
        assert_eq!(listed.len(), 1, "{listed:?}");
        listed[0].clone()
    }

    /// A request that must reach the server: proves it was up when the log says nothing.
    fn probe(&self) {
        let before = self.api.requests().len();
        self.store("probe", "tok-fine");
        assert_eq!(
            self.api.requests().len(),
            before + 1,
            "the probe reached the server: {:?}",
            self.api.log()
        );
    }
}

// ---------------------------------------------------------------------------------------
// store of a new token

#[test]
fn a_stored_github_token_learns_its_expiry_login_and_scopes() {
    let f = Forge::new("fg-store-gh", "github");
    f.store("octo", "tok-gh");
    let c = f.only();
    let expected = now() + 3 * 86_400;
    let e = c["expires_utc"].as_u64().unwrap();
    assert!((expected - 5..=expected + 5).contains(&e), "{c}");
    assert_eq!(c["login"], "octo");
    assert_eq!(c["scopes"], serde_json::json!(["repo", "read:org"]));
    let v = c["verified_utc"].as_u64().unwrap();
    assert!(now() - v < 60, "{c}");
    let log = f.api.log();
    assert_eq!(log.len(), 1, "one request: {log:?}");
    assert_eq!(log[0]["method"], "GET");
    assert_eq!(log[0]["path"], "/api/v3/user", "no token in the URL");
    assert_eq!(log[0]["authorization"], "Bearer tok-gh");
    assert_eq!(log[0]["private_token"], Value::Null);
}

#[test]
fn a_fine_grained_github_token_has_no_expiry_and_no_scopes() {
    let f = Forge::new("fg-store-fine", "github");
    f.store("octo", "tok-fine");
    let c = f.only();
    assert_eq!(c["expires_utc"], Value::Null);
    assert_eq!(c["scopes"], Value::Null);
    assert_eq!(c["login"], "octo");
}

#[test]
fn a_stored_gitlab_token_learns_from_two_requests() {
    let f = Forge::new("fg-store-gl", "gitlab");
    f.store("anything", "tok-gl");
    let c = f.only();
    let day = date(now() + 40 * 86_400);
    assert_eq!(
        c["expires_utc"].as_u64(),
        Some(start_of(&day)),
        "start of that day: {c}"
    );
    assert_eq!(c["login"], "alice");
    assert_eq!(c["scopes"], serde_json::json!(["api", "read_repository"]));
    assert_eq!(
        f.api.requests(),
        [
            "GET /api/v4/personal_access_tokens/self",
            "GET /api/v4/user"
        ]
    );
    assert!(
        f.api
            .log()
            .iter()
            .all(|e| e["private_token"] == "tok-gl" && e["authorization"] == Value::Null)
    );
}

#[test]
fn a_gitlab_token_with_git_scopes_only_still_learns_its_expiry() {
    let f = Forge::new("fg-store-glgit", "gitlab");
    f.store("u", "tok-gl-git");
    let c = f.only();
    assert!(c["expires_utc"].as_u64().is_some(), "{c}");
    assert_eq!(c["login"], Value::Null, "/user was refused: {c}");
}

#[test]
fn a_stored_gitea_token_learns_its_login_only() {
    let f = Forge::new("fg-store-tea", "gitea");
    f.store("u", "tok-tea");
    let c = f.only();
    assert_eq!(c["login"], "teabag");
    assert_eq!(c["expires_utc"], Value::Null);
    assert_eq!(f.api.log()[0]["authorization"], "token tok-tea");
    assert_eq!(f.api.requests(), ["GET /api/v1/user"]);
}

#[test]
fn get_erase_and_an_identical_store_never_connect() {
    let f = Forge::new("fg-quiet", "github");
    f.store("octo", "tok-gh");
    assert_eq!(f.api.requests().len(), 1);
    let req = format!("protocol=https\nhost={}\n", f.api.host());
    let got = f.run(&["get"], &req);
    assert!(text(&got.stdout).contains("password=tok-gh"));
    assert!(text(&got.stdout).contains("password_expiry_utc="));
    f.store("octo", "tok-gh");
    let scoped = format!(
        "protocol=https\nhost={}\npath=acme/tool.git\nusername=octo\npassword=tok-gh\n",
        f.api.host()
    );
    assert!(f.run(&["store"], &scoped).status.success());
    let erase = format!("protocol=https\nhost={}\npassword=other\n", f.api.host());
    assert!(f.run(&["erase"], &erase).status.success());
    assert_eq!(f.api.requests().len(), 1, "{:?}", f.api.log());
    f.probe();
}

#[test]
fn an_http_credential_is_never_verified() {
    let f = Forge::new("fg-http", "github");
    f.git_config(
        &format!("credential.http://{}.provider", f.api.host()),
        "github",
    );
    let req = format!(
        "protocol=http\nhost={}\nusername=octo\npassword=tok-gh\n",
        f.api.host()
    );
    assert!(f.run(&["store"], &req).status.success());
    assert!(f.api.log().is_empty(), "{:?}", f.api.log());
    assert_eq!(f.only()["login"], Value::Null);
    f.probe();
}

#[test]
fn the_generic_provider_turns_asking_off() {
    let f = Forge::new("fg-generic", "generic");
    f.store("octo", "tok-gh");
    assert!(f.api.log().is_empty(), "{:?}", f.api.log());
    f.provider("github");
    f.probe();
}

#[test]
fn an_unknown_host_is_never_asked() {
    let f = Forge::new("fg-unknown", "github");
    let out = f.w.run_git(
        &[
            "config",
            "--global",
            "--unset",
            &format!("credential.https://{}.provider", f.api.host()),
        ],
        "",
    );
    assert!(out.status.success());
    f.store("octo", "tok-gh");
    assert!(f.api.log().is_empty(), "{:?}", f.api.log());
    f.provider("github");
    f.probe();
}

#[test]
fn a_store_that_learns_nothing_still_stores_silently() {
    for (name, answer) in [
        ("fg-401", r#"{"tokens": {}}"#),
        ("fg-500", r#"{"status": 500}"#),
        ("fg-403", r#"{"status": 403}"#),
        ("fg-html", r#"{"html": true}"#),
    ] {
        let f = Forge::new(name, "github");
        f.api.answer(answer);
        let out = f.store("octo", "tok-gh");
        assert_eq!(text(&out.stderr), "", "{name}: silent");
        let c = f.only();
        assert_eq!(c["login"], Value::Null, "{name}: {c}");
        assert_eq!(c["expires_utc"], Value::Null, "{name}: {c}");
        assert_eq!(f.api.requests().len(), 1, "{name}");
        let req = format!("protocol=https\nhost={}\n", f.api.host());
        assert!(
            text(&f.run(&["get"], &req).stdout).contains("password=tok-gh"),
            "{name}"
        );
    }
}

#[test]
fn a_store_against_a_hung_forge_finishes_within_its_bound() {
    let f = Forge::new("fg-hung", "github");
    f.api.answer(r#"{"hang": true}"#);
    let start = Instant::now();
    let out = f.store("octo", "tok-gh");
    let took = start.elapsed();
    assert!(took < Duration::from_millis(2500), "store took {took:?}");
    assert_eq!(text(&out.stderr), "");
    assert_eq!(f.only()["login"], Value::Null);
    assert_eq!(f.api.requests(), ["GET /api/v3/user"], "it did connect");
}

#[test]
fn a_redirect_is_never_followed() {
    let f = Forge::new("fg-redirect", "github");
    let other = Api::start(&f.w, &f.pki, "other");
    other.answer(&standard_answers());
    f.api.answer(&format!(
        r#"{{"redirect": "https://{}/api/v3/user"}}"#,
        other.host()
    ));
    f.store("octo", "tok-gh");
    assert_eq!(f.api.requests(), ["GET /api/v3/user"]);
    assert!(
        other.log().is_empty(),
        "the redirect was followed: {:?}",
        other.log()
    );
    assert_eq!(f.only()["login"], Value::Null);
    // The other listener was up: it answers when asked directly.
    f.git_config(
        &format!("credential.https://{}.provider", other.host()),
        "github",
    );
    let req = format!(
        "protocol=https\nhost={}\nusername=o\npassword=tok-gh\n",
        other.host()
    );
    assert!(f.run(&["store"], &req).status.success());
    assert_eq!(other.requests(), ["GET /api/v3/user"]);
}

#[test]
fn an_untrusted_certificate_gets_no_request_and_no_token() {
    let f = Forge::new("fg-untrusted", "github");
    let req = format!(
        "protocol=https\nhost={}\nusername=octo\npassword=tok-gh\n",
        f.api.host()
    );
    let out = common::run(
        f.w.helper()
            .arg("--backend=file")
            .arg(format!("--file={}", f.file.display()))
            .arg("store"),
        req.as_bytes(),
    );
    assert!(out.status.success());
    assert_eq!(text(&out.stderr), "");
    let log = f.api.log();
    assert!(
        !log.is_empty() && log.iter().all(|e| e.get("tls_error").is_some()),
        "a refused handshake, no request: {log:?}"
    );
    assert_eq!(f.only()["login"], Value::Null);
    f.probe();
}

#[test]
fn http_ssl_ca_info_from_git_config_is_trusted_too() {
    let f = Forge::new("fg-cainfo", "github");
    f.git_config("http.sslCAInfo", f.pki.join("ca.pem").to_str().unwrap());
    let req = format!(
        "protocol=https\nhost={}\nusername=octo\npassword=tok-gh\n",
        f.api.host()
    );
    let out = common::run(
        f.w.helper()
            .arg("--backend=file")
            .arg(format!("--file={}", f.file.display()))
            .arg("store"),
        req.as_bytes(),
    );
    assert!(out.status.success());
    assert_eq!(f.only()["login"], "octo");
}

/// A CONNECT proxy in front of the API, logging the tunnels it opens.
fn proxy(f: &Forge) -> (Python, PathBuf) {
    let dir = f.w.root.join("proxy");
    std::fs::create_dir_all(&dir).unwrap();
    (
        Python::start(&f.w, PROXY, &["--log", "tunnels.log"], &dir),
        dir.join("tunnels.log"),
    )
}

#[test]
fn the_request_goes_through_the_proxy_git_would_use() {
    let f = Forge::new("fg-proxy", "github");
    let (p, log) = proxy(&f);
    let req = |token: &str| {
        format!(
            "protocol=https\nhost={}\nusername=octo\npassword={token}\n",
            f.api.host()
        )
    };
    let via = format!("http://127.0.0.1:{}", p.port);
    let out = common::run(
        f.helper().env("https_proxy", &via).arg("store"),
        req("tok-gh").as_bytes(),
    );
    assert!(out.status.success());
    let tunnel = format!("CONNECT {}\n", f.api.host());
    assert_eq!(std::fs::read_to_string(&log).unwrap(), tunnel);
    assert_eq!(f.api.requests().len(), 1);
    assert_eq!(f.listed()[0]["login"], "octo");

    // no_proxy covers the host: straight to the API.
    let out = common::run(
        f.helper()
            .env("https_proxy", &via)
            .env("no_proxy", "localhost,127.0.0.1")
            .arg("store"),
        req("tok-gh2").as_bytes(),
    );
    assert!(out.status.success());
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        tunnel,
        "not through the proxy"
    );
    assert_eq!(f.api.requests().len(), 2);

    // http.proxy from git's config, as git uses it.
    f.git_config("http.proxy", &format!("127.0.0.1:{}", p.port));
    let out = common::run(f.helper().arg("store"), req("tok-gh3").as_bytes());
    assert!(out.status.success());
    assert_eq!(std::fs::read_to_string(&log).unwrap(), tunnel.repeat(2));
    assert_eq!(f.api.requests().len(), 3);
}

// ---------------------------------------------------------------------------------------
// through real git

#[test]
fn git_approve_of_a_new_token_learns_its_expiry_and_fill_warns() {
    common::require_git(2, 46);
    let f = Forge::new("fg-git", "github");
    f.w.use_pat(&format!(
        "--backend=file --file={} --warn=7d",
        f.file.display()
    ));
    let git = |args: &[&str], stdin: &str| {
        common::run(
            f.w.git()
                .args(args)
                .env("GIT_SSL_CAINFO", f.pki.join("ca.pem")),
            stdin.as_bytes(),
        )
    };
    let approve = format!(
        "protocol=https\nhost={}\nusername=octo\npassword=tok-gh\n\n",
        f.api.host()
    );
    let out = git(&["credential", "approve"], &approve);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(f.api.requests(), ["GET /api/v3/user"]);
    let fill = git(
        &["credential", "fill"],
        &format!("protocol=https\nhost={}\n\n", f.api.host()),
    );
    assert!(fill.status.success(), "{}", text(&fill.stderr));
    let answer = text(&fill.stdout);
    let expiry: u64 = answer
        .lines()
        .find_map(|l| l.strip_prefix("password_expiry_utc="))
        .unwrap_or_else(|| panic!("no expiry in {answer}"))
        .parse()
        .unwrap();
    let expected = now() + 3 * 86_400;
    assert!(
        (expected - 10..=expected + 10).contains(&expiry),
        "{answer}"
    );
    let warned = text(&fill.stderr);
    assert!(
        warned.contains("warning: the token for https://octo@")
            && (warned.contains("(in 2 days)") || warned.contains("(in 3 days)")),
        "{warned}"
    );
    assert_eq!(f.api.requests().len(), 1, "fill never connects");
}
