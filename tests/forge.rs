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
    // The learning step is bounded at 2 s; the API would have hung for good.
    assert!(took < Duration::from_millis(3500), "store took {took:?}");
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
    // The server logs the failed handshake from its connection's thread, which may finish
    // a moment after the helper gave up: wait for that line (bounded).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let mut log = f.api.log();
    while log.is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
        log = f.api.log();
    }
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

// ---------------------------------------------------------------------------------------
// add

#[test]
fn add_verifies_and_the_forges_login_fills_a_missing_username() {
    let f = Forge::new("fg-add", "github");
    let url = format!("https://{}", f.api.host());
    let out = f.run(&["add", &url], "tok-gh\n");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(
        said.contains(&format!(
            "Stored the token for https://octo@{}",
            f.api.host()
        )),
        "{said}"
    );
    assert!(
        said.contains("confirmed it: login octo, scopes repo, read:org."),
        "{said}"
    );
    let c = f.only();
    assert_eq!(c["username"], "octo");
    assert_eq!(c["login"], "octo");
    assert!(c["expires_utc"].as_u64().is_some());
    assert_eq!(f.api.requests(), ["GET /api/v3/user"]);
}

#[test]
fn add_keeps_the_earlier_of_the_given_and_the_forges_expiry() {
    let f = Forge::new("fg-add-exp", "github");
    let url = format!("https://octo@{}", f.api.host());
    let out = f.run(&["add", &url, "--expires-in=1d"], "tok-gh\n");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let e = f.only()["expires_utc"].as_u64().unwrap();
    assert!(
        e <= now() + 86_400,
        "the given day is earlier than the forge's three"
    );
    let out = f.run(&["add", &url, "--expires-in=2w"], "tok-gh\n");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let e = f.only()["expires_utc"].as_u64().unwrap();
    assert!(
        e <= now() + 3 * 86_400,
        "the forge's three days are earlier than two weeks"
    );
}

#[test]
fn add_of_a_rejected_token_stores_nothing() {
    let f = Forge::new("fg-add-401", "github");
    let url = format!("https://octo@{}", f.api.host());
    let out = f.run(&["add", &url], "tok-revoked\n");
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("rejected the token") && err.contains("nothing was stored"),
        "{err}"
    );
    assert!(!err.contains("tok-revoked"), "never the token: {err}");
    assert!(f.listed().is_empty());
}

#[test]
fn add_with_an_unknown_answer_stores_with_a_note() {
    let f = Forge::new("fg-add-500", "gitlab");
    f.api.answer(r#"{"status": 503}"#);
    let url = format!("https://alice@{}", f.api.host());
    let out = f.run(&["add", &url], "tok-gl\n");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("note: GitLab")
            && err.contains("HTTP 503")
            && err.contains("stored unchecked"),
        "{err}"
    );
    assert_eq!(f.only()["username"], "alice");
    assert_eq!(f.only()["login"], Value::Null);
}

#[test]
fn add_refuses_a_username_the_forge_contradicts() {
    let f = Forge::new("fg-add-who", "gitea");
    let url = format!("https://mallory@{}", f.api.host());
    let out = f.run(&["add", &url], "tok-tea\n");
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("the token belongs to 'teabag'")
            && err.contains("not 'mallory'")
            && err.contains("--username=teabag"),
        "{err}"
    );
    assert!(f.listed().is_empty());
    let out = f.run(&["add", &url.replace("mallory", "TeaBag")], "tok-tea\n");
    assert!(
        out.status.success(),
        "logins compare without case: {}",
        text(&out.stderr)
    );
}

#[test]
fn add_no_verify_never_connects() {
    let f = Forge::new("fg-add-nov", "github");
    let url = format!("https://octo@{}", f.api.host());
    let out = f.run(&["add", &url, "--no-verify"], "tok-revoked\n");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(f.api.log().is_empty());
    let out = f.run(
        &["add", &format!("https://{}", f.api.host()), "--no-verify"],
        "tok-gh\n",
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "no username without the forge: {}",
        text(&out.stderr)
    );
    assert!(f.api.log().is_empty());
    f.probe();
}

// ---------------------------------------------------------------------------------------
// verify

/// Stores `token` for `user` under the API's host without asking the forge.
fn plant(f: &Forge, user: &str, token: &str) {
    let url = format!("https://{user}@{}", f.api.host());
    let out = f.run(&["add", &url, "--no-verify"], &format!("{token}\n"));
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn verify_checks_every_token_of_a_known_forge_one_line_each() {
    let f = Forge::new("fg-verify", "github");
    plant(&f, "a", "tok-gh");
    plant(&f, "b", "tok-revoked");
    plant(&f, "c", "tok-fine");
    let out = f.run(&["verify"], "");
    assert_eq!(
        out.status.code(),
        Some(1),
        "a rejected token stays: {}",
        text(&out.stderr)
    );
    let lines: Vec<String> = text(&out.stdout).lines().map(String::from).collect();
    let host = f.api.host();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(
        lines[0].starts_with(&format!("valid     https://a@{host}  expires ")),
        "{lines:?}"
    );
    assert!(
        lines[0].ends_with("login octo, scopes repo, read:org"),
        "{lines:?}"
    );
    assert_eq!(
        lines[1],
        format!("rejected  https://b@{host}  GitHub answered 401 (revoked or expired)")
    );
    assert_eq!(
        lines[2],
        format!("valid     https://c@{host}  no expiry, login octo, scopes not told")
    );
    assert!(
        text(&out.stderr).contains("1 token rejected"),
        "{}",
        text(&out.stderr)
    );
    let listed = f.listed();
    assert_eq!(listed[0]["login"], "octo", "recorded: {listed:?}");
    assert!(listed[0]["expires_utc"].as_u64().is_some());
    assert_eq!(listed[1]["login"], Value::Null);

    // --json, then --remove-rejected.
    f.api.answer(r#"{"status": 500}"#);
    let out = f.run(&["verify", "--json"], "");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 3);
    let mut keys: Vec<&String> = v[0].as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "expires_utc",
            "host",
            "login",
            "path",
            "protocol",
            "scopes",
            "status",
            "username"
        ]
    );
    assert!(
        v.as_array()
            .unwrap()
            .iter()
            .all(|o| o["status"] == "unknown"),
        "{v}"
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        f.listed()[0]["login"],
        "octo",
        "an unknown answer forgets nothing"
    );

    f.api.answer(&standard_answers());
    let out = f.run(&["verify", "--remove-rejected", "--json"], "");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[1]["status"], "rejected");
    assert_eq!(v[0]["status"], "valid");
    assert_eq!(v[0]["login"], "octo");
    assert_eq!(v[0]["scopes"], serde_json::json!(["repo", "read:org"]));
    let users: Vec<Value> = f.listed().iter().map(|c| c["username"].clone()).collect();
    assert_eq!(users, ["a", "c"]);
}

#[test]
fn verify_url_checks_only_that_hosts_tokens_and_never_unknown_hosts() {
    let f = Forge::new("fg-verify-url", "gitlab");
    plant(&f, "alice", "tok-gl");
    let out = f.run(
        &["add", "https://u@example.invalid", "--no-verify"],
        "tok-x\n",
    );
    assert!(out.status.success());
    let out = f.run(&["verify", &format!("https://{}", f.api.host())], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).lines().count(), 1);
    let out = f.run(&["verify", "https://example.invalid"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("is not a known forge"),
        "{}",
        text(&out.stderr)
    );
    let out = f.run(&["verify", "https://nothing.example"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("no token is stored for"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        f.api.requests(),
        [
            "GET /api/v4/personal_access_tokens/self",
            "GET /api/v4/user"
        ]
    );
}

// ---------------------------------------------------------------------------------------
// rotate

#[test]
fn rotate_on_gitlab_stores_the_new_token_with_the_old_lifetime() {
    let f = Forge::new("fg-rotate", "gitlab");
    plant(&f, "alice", "tok-gl");
    let url = format!("https://alice@{}", f.api.host());
    let out = f.run(&["rotate", &url], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(
        said.starts_with(&format!(
            "Rotated the token for https://alice@{}: GitLab issued a new one",
            f.api.host()
        )),
        "{said}"
    );
    assert!(!said.contains("rotated-tok-gl"), "never the token: {said}");
    // created 50 days ago, expires in 40 days: a lifetime of 90 days from today.
    let expected = date(now() + 90 * 86_400);
    let log = f.api.log();
    let post = log.iter().find(|e| e["method"] == "POST").unwrap();
    assert_eq!(post["path"], "/api/v4/personal_access_tokens/self/rotate");
    assert_eq!(post["body"], format!("expires_at={expected}"));
    assert_eq!(post["private_token"], "tok-gl");
    let c = f.only();
    assert_eq!(c["expires_utc"].as_u64(), Some(start_of(&expected)));
    let got = f.run(
        &["get"],
        &format!("protocol=https\nhost={}\n", f.api.host()),
    );
    assert!(
        text(&got.stdout).contains("password=rotated-tok-gl\n"),
        "{}",
        text(&got.stdout)
    );
}

#[test]
fn rotate_sends_the_expiry_asked_for() {
    let f = Forge::new("fg-rotate-exp", "gitlab");
    plant(&f, "alice", "tok-gl");
    let day = date(now() + 20 * 86_400);
    let url = format!("https://{}", f.api.host());
    let out = f.run(&["rotate", &url, &format!("--expires={day}")], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let log = f.api.log();
    assert_eq!(log.last().unwrap()["body"], format!("expires_at={day}"));
    assert_eq!(f.only()["expires_utc"].as_u64(), Some(start_of(&day)));
}

#[test]
fn a_refused_rotation_keeps_the_old_token() {
    let f = Forge::new("fg-rotate-no", "gitlab");
    let answers = standard_answers().replace(
        r#""tok-gl": {"login": "alice","#,
        r#""tok-gl": {"login": "alice", "rotate_status": 404,"#,
    );
    f.api.answer(&answers);
    plant(&f, "alice", "tok-gl");
    let out = f.run(&["rotate", &format!("https://{}", f.api.host())], "");
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("GitLab did not rotate the token")
            && err.contains("HTTP 404")
            && err.contains("still stored, unchanged"),
        "{err}"
    );
    let got = f.run(
        &["get"],
        &format!("protocol=https\nhost={}\n", f.api.host()),
    );
    assert!(text(&got.stdout).contains("password=tok-gl\n"));

    // A forge that cannot be reached: nothing was sent, the old token stays.
    f.api.answer(r#"{"status": 500}"#);
    let out = f.run(&["rotate", &format!("https://{}", f.api.host())], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("nothing was rotated (HTTP 500)"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(f.only()["username"], "alice");
}

#[test]
fn rotate_on_github_names_the_page_to_regenerate_the_token() {
    let f = Forge::new("fg-rotate-gh", "github");
    plant(&f, "octo", "tok-gh");
    let out = f.run(&["rotate", &format!("https://{}", f.api.host())], "");
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1);
    assert!(
        err.contains(&format!(
            "GitHub has no API to rotate a token: regenerate it at https://{}/settings/tokens",
            f.api.host()
        )),
        "{err}"
    );
    assert!(f.api.log().is_empty(), "nothing asked");
}

#[test]
fn doctor_names_tokens_of_a_known_forge_with_no_known_expiry() {
    let f = Forge::new("fg-doctor", "github");
    plant(&f, "octo", "tok-gh");
    let note = format!(
        "note    1 token on a known forge with no known expiry (https://octo@{}): 'git credential-pat verify' asks the forge",
        f.api.host()
    );
    let out = f.run(&["doctor"], "");
    assert!(text(&out.stdout).contains(&note), "{}", text(&out.stdout));
    assert!(f.api.log().is_empty(), "doctor never asks the forge");
    assert!(f.run(&["verify"], "").status.success());
    let out = f.run(&["doctor"], "");
    assert!(
        !text(&out.stdout).contains("no known expiry"),
        "{}",
        text(&out.stdout)
    );
}

/// A forge host with no address (`.invalid` never resolves, RFC 2606; offline, nothing
/// does): verify names the cause, marks the token unknown and keeps it.
#[test]
fn a_host_that_does_not_resolve_is_named_and_the_token_kept() {
    let f = Forge::new("fg-nxdomain", "github");
    f.git_config("credential.https://git.example.invalid.provider", "github");
    let out = f.run(
        &[
            "add",
            "https://u@git.example.invalid",
            "--no-verify",
            "--expires=2030-01-01",
        ],
        "tok-nx\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    // Without a proxy, so that the name is resolved here (a machine may set one), and with
    // glibc's resolver told to give up within a second where DNS does not answer at all.
    let mut verify = f.helper();
    verify.env("RES_OPTIONS", "timeout:1 attempts:1");
    for proxy in [
        "https_proxy",
        "HTTPS_PROXY",
        "http_proxy",
        "HTTP_PROXY",
        "all_proxy",
        "ALL_PROXY",
    ] {
        verify.env_remove(proxy);
    }
    let out = common::run(verify.args(["verify", "https://git.example.invalid"]), b"");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(
        shown.starts_with("unknown")
            && shown
                .contains("the API's host name does not resolve (no network, or no DNS for it)"),
        "{shown}"
    );
    // --json: no word from the forge, so the expiry is the stored one (end of that day, UTC).
    let out = common::run(verify.args(["--json"]), b"");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["status"], "unknown");
    assert_eq!(v[0]["expires_utc"], 1_893_542_399);
    let got = f.run(&["get"], "protocol=https\nhost=git.example.invalid\n");
    assert_eq!(
        text(&got.stdout),
        "username=u\npassword=tok-nx\npassword_expiry_utc=1893542399\n"
    );
}
