//! End to end: real `git clone`, `fetch` and `push` over HTTPS, with the helper as git's only
//! credential helper, against a local smart-HTTP server that checks tokens and can revoke them
//! (`tests/support/git_https_server.py`).
//!
//! Needs git >= 2.46 with git-http-backend, python3 and openssl. Tokens never appear in the
//! argv of a process these tests start: they go through files (the server's grants, the
//! askpass answers) and stdin.

// These tests drive Unix permissions, mounts and shells; the code they test compiles
// everywhere (cargo clippy --target ...), and runs on Unix.
#![cfg(unix)]

mod common;

use common::{World, mode, require_git, text};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Output, Stdio};

const SERVER_SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/support/git_https_server.py"
);

/// One token the server accepts: for `user`, on repositories whose path starts with `prefix`.
struct Grant {
    user: &'static str,
    token: &'static str,
    prefix: &'static str,
}

/// The test server: git-http-backend behind TLS and Basic auth, on an OS-chosen port.
struct Server {
    child: Child,
    /// Kept open so the server also exits when this process dies without running `Drop`.
    _stdin: ChildStdin,
    port: u16,
    dir: PathBuf,
}

impl Server {
    /// Makes a throwaway certificate, starts the server and trusts it in the world's git config.
    fn start(world: &World) -> Server {
        let dir = world.root.join("server");
        std::fs::create_dir_all(dir.join("repos")).unwrap();
        make_certificate(world, &dir);
        let server = Server::spawn(world, dir);
        let cert = server.dir.join("cert.pem");
        git_ok(
            world,
            &["config", "--global", "http.sslCAInfo", path_str(&cert)],
        );
        server
    }

    fn spawn(world: &World, dir: PathBuf) -> Server {
        let http_backend = exec_path(world).join("git-http-backend");
        assert!(
            http_backend.exists(),
            "{} is missing: install git with git-http-backend (git-core) to run these tests",
            http_backend.display()
        );
        std::fs::write(dir.join("auth.json"), r#"{"tokens": []}"#).unwrap();
        let stderr = std::fs::File::create(dir.join("stderr")).unwrap();
        let mut child = world
            .command("python3")
            .arg(SERVER_SCRIPT)
            .args(["--cert", "cert.pem", "--key", "key.pem", "--root", "repos"])
            .args(["--auth", "auth.json", "--log", "requests.log"])
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start python3 ({e}): install python3"));
        let stdin = child.stdin.take().unwrap();
        let mut first_line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first_line)
            .unwrap();
        let port = first_line.trim().parse().unwrap_or_else(|_| {
            let _ = child.kill();
            let _ = child.wait();
            let err = std::fs::read_to_string(dir.join("stderr")).unwrap_or_default();
            panic!("the test server did not start: {first_line:?}\n{err}")
        });
        Server {
            child,
            _stdin: stdin,
            port,
            dir,
        }
    }

    /// `host` as git sends it to credential helpers.
    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn url(&self, repo: &str) -> String {
        format!("https://{}/{repo}", self.host())
    }

    fn repo_dir(&self, repo: &str) -> PathBuf {
        self.dir.join("repos").join(repo)
    }

    /// Replaces the tokens the server accepts (atomically: it re-reads them per request).
    fn grant(&self, grants: &[Grant]) {
        let entries: Vec<String> = grants
            .iter()
            .map(|g| {
                format!(
                    r#"{{"user": "{}", "token": "{}", "prefix": "{}"}}"#,
                    g.user, g.token, g.prefix
                )
            })
            .collect();
        let tmp = self.dir.join("auth.json.tmp");
        std::fs::write(&tmp, format!(r#"{{"tokens": [{}]}}"#, entries.join(", "))).unwrap();
        std::fs::rename(tmp, self.dir.join("auth.json")).unwrap();
    }

    /// Creates a bare repository open for pushes, with one commit on `main`.
    fn create_repo(&self, world: &World, repo: &str) {
        let bare = self.repo_dir(repo);
        git_ok(
            world,
            &["init", "-q", "--bare", "-b", "main", path_str(&bare)],
        );
        git_ok(
            world,
            &["-C", path_str(&bare), "config", "http.receivepack", "true"],
        );
        let seed = world.root.join("seed").join(repo);
        git_ok(world, &["init", "-q", "-b", "main", path_str(&seed)]);
        commit(world, &seed, "README", b"seed\n", "seed");
        git_ok(
            world,
            &["-C", path_str(&seed), "push", "-q", path_str(&bare), "main"],
        );
    }

    /// Subject of the newest commit on `main` in the server's copy of `repo`.
    fn head_subject(&self, world: &World, repo: &str) -> String {
        let git_dir = format!("--git-dir={}", self.repo_dir(repo).display());
        let out = git_ok(world, &[&git_dir, "log", "-1", "--format=%s", "main"]);
        text(&out.stdout).trim().to_string()
    }

    /// The request log: one line per request, `METHOD PATH STATUS USER BODY`.
    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("requests.log")).unwrap_or_default()
    }

    /// Parsed request log.
    fn requests(&self) -> Vec<Request> {
        self.log()
            .lines()
            .map(|line| {
                let f: Vec<&str> = line.split(' ').collect();
                assert_eq!(f.len(), 5, "bad log line {line:?}");
                Request {
                    method: f[0].to_string(),
                    path: f[1].to_string(),
                    status: f[2].parse().unwrap(),
                    user: f[3].to_string(),
                    body: f[4].to_string(),
                }
            })
            .collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One line of the server's request log.
#[derive(Debug)]
struct Request {
    method: String,
    path: String,
    status: u16,
    user: String,
    body: String,
}

/// An askpass program that answers from files and records every prompt it is called with.
struct Askpass {
    dir: PathBuf,
    script: PathBuf,
}

impl Askpass {
    fn new(world: &World) -> Askpass {
        let dir = world.root.join("askpass");
        std::fs::create_dir_all(&dir).unwrap();
        let script = dir.join("askpass.sh");
        let body = format!(
            "#!/bin/sh\n\
             dir={}\n\
             printf '%s\\n' \"$1\" >> \"$dir/calls\"\n\
             case \"$1\" in\n\
             Username*) cat \"$dir/username\" ;;\n\
             Password*) cat \"$dir/password\" ;;\n\
             *) exit 1 ;;\n\
             esac\n",
            common::shell_quote(path_str(&dir))
        );
        std::fs::write(&script, body).unwrap();
        common::set_mode(&script, 0o700);
        Askpass { dir, script }
    }

    /// The next prompts are answered with `user` and `token`.
    fn answer(&self, user: &str, token: &str) {
        std::fs::write(self.dir.join("username"), user).unwrap();
        std::fs::write(self.dir.join("password"), token).unwrap();
    }

    /// From now on a prompt gets no answer (so the git command that asked fails).
    fn refuse(&self) {
        for name in ["username", "password"] {
            let _ = std::fs::remove_file(self.dir.join(name));
        }
    }

    /// Every prompt so far, in order.
    fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.join("calls"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

/// A world with the test server, the askpass program and the helper configured.
struct E2e {
    world: World,
    server: Server,
    askpass: Askpass,
}

impl E2e {
    fn new(name: &str) -> E2e {
        let t = E2e::unconfigured(name);
        t.world.use_pat("");
        t
    }

    /// A world with the server and askpass but no credential helper configured yet.
    fn unconfigured(name: &str) -> E2e {
        require_git(2, 46);
        let world = World::new(name);
        for (key, value) in [
            ("user.name", "E2E Test"),
            ("user.email", "e2e@example.com"),
            ("init.defaultBranch", "main"),
            ("advice.detachedHead", "false"),
        ] {
            git_ok(&world, &["config", "--global", key, value]);
        }
        let server = Server::start(&world);
        let askpass = Askpass::new(&world);
        E2e {
            world,
            server,
            askpass,
        }
    }

    /// git in the world, with the askpass program; prompts on the terminal stay disabled.
    fn git(&self, dir: &Path, args: &[&str]) -> Output {
        let mut cmd = self.world.git();
        cmd.current_dir(dir)
            .env("GIT_ASKPASS", &self.askpass.script);
        common::run(cmd.args(args), b"")
    }

    /// Runs git in `dir`, failing the test (with the server's log) unless it succeeds.
    fn git_ok(&self, dir: &Path, args: &[&str]) -> Output {
        let out = self.git(dir, args);
        assert!(
            out.status.success(),
            "git {args:?} failed:\n{}\nserver log:\n{}",
            text(&out.stderr),
            self.server.log()
        );
        out
    }

    /// Clones `repo` from the server into the world; returns the work tree.
    fn clone(&self, repo: &str, into: &str) -> PathBuf {
        self.git_ok(
            &self.world.root,
            &["clone", "-q", &self.server.url(repo), into],
        );
        self.world.root.join(into)
    }

    /// What git's credential machinery knows for `https://<server>/<path>` without prompting:
    /// `Some((username, password))` or `None`. `path` is sent only if given.
    fn known(&self, path: Option<&str>) -> Option<(String, String)> {
        self.known_for(&self.server.host(), path)
    }

    fn known_for(&self, host: &str, path: Option<&str>) -> Option<(String, String)> {
        let mut request = format!("protocol=https\nhost={host}\n");
        if let Some(path) = path {
            request.push_str(&format!("path={path}\n"));
        }
        // No askpass here, and no terminal: git fails rather than prompt.
        let out = self.world.run_git(&["credential", "fill"], &request);
        if !out.status.success() {
            let err = text(&out.stderr);
            assert!(err.contains("terminal prompts disabled"), "{err}");
            return None;
        }
        let answer = text(&out.stdout);
        let field = |key: &str| {
            answer
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .unwrap_or_else(|| panic!("no {key} in {answer:?}"))
                .to_string()
        };
        Some((field("username="), field("password=")))
    }

    /// Stores a credential through `git credential approve` (so through the helper).
    fn approve(&self, url: &str, user: &str, token: &str) {
        let request = format!("url={url}\nusername={user}\npassword={token}\n");
        let out = self.world.run_git(&["credential", "approve"], &request);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }

    /// The server log must never contain a token.
    fn assert_log_has_no_token(&self) {
        let log = self.server.log();
        assert!(!log.contains("tok-"), "a token leaked into the log:\n{log}");
    }
}

fn some(user: &str, token: &str) -> Option<(String, String)> {
    Some((user.to_string(), token.to_string()))
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("test paths are UTF-8")
}

/// Runs git in `world`, failing the test unless it succeeds.
fn git_ok(world: &World, args: &[&str]) -> Output {
    let out = world.run_git(args, "");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        text(&out.stderr)
    );
    out
}

fn exec_path(world: &World) -> PathBuf {
    let out = git_ok(world, &["--exec-path"]);
    PathBuf::from(text(&out.stdout).trim())
}

/// Writes `content` to `file` in the work tree `dir` and commits it.
fn commit(world: &World, dir: &Path, file: &str, content: &[u8], message: &str) {
    std::fs::write(dir.join(file), content).unwrap();
    git_ok(world, &["-C", path_str(dir), "add", file]);
    git_ok(world, &["-C", path_str(dir), "commit", "-q", "-m", message]);
}

/// A self-signed certificate for 127.0.0.1 and localhost: `cert.pem` and `key.pem` in `dir`.
fn make_certificate(world: &World, dir: &Path) {
    let out = world
        .command("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args(["-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"])
        .args(["-keyout", "key.pem", "-out", "cert.pem"])
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run openssl ({e}): install openssl"));
    assert!(
        out.status.success(),
        "openssl could not make a certificate: {}",
        text(&out.stderr)
    );
}

/// `len` bytes that do not compress, so a push of them is large on the wire.
fn incompressible(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// The prompts git shows for a credential it does not know.
fn prompts(url: &str, user: &str) -> Vec<String> {
    let (scheme, rest) = url.split_once("://").unwrap();
    vec![
        format!("Username for '{url}': "),
        format!("Password for '{scheme}://{user}@{rest}': "),
    ]
}

/// A host-wide token: typed once, stored by the helper, used for clone, fetch and push without
/// prompts; revoked on the server, erased by git through the helper (and only it); replaced by
/// a new token typed once.
#[test]
fn host_wide_token_is_prompted_once_reused_and_forgotten_when_revoked() {
    let t = E2e::new("e2e-host-wide");
    let s = &t.server;
    let host = s.host();
    s.create_repo(&t.world, "acme/tool.git");
    s.create_repo(&t.world, "umbrella/lab.git");
    s.grant(&[Grant {
        user: "alice",
        token: "tok-1",
        prefix: "",
    }]);

    // First clone: git asks once (user and token) and hands the token to the helper.
    t.askpass.answer("alice", "tok-1");
    let tool = t.clone("acme/tool.git", "tool");
    assert_eq!(
        t.askpass.calls(),
        prompts(&format!("https://{host}"), "alice")
    );
    let file = t.world.default_file();
    let stored = std::fs::read_to_string(&file).expect("the helper stored nothing");
    // Host and port, however the file's format spells them.
    let port = s.port.to_string();
    assert!(
        stored.contains("127.0.0.1") && stored.contains(&port),
        "host missing from the store:\n{stored}"
    );
    assert!(stored.contains("alice"), "user missing from the store");
    assert_eq!(mode(&file), 0o600, "{}", file.display());
    assert_eq!(t.known(None), some("alice", "tok-1"));

    // From now on nobody answers a prompt, and none is needed.
    t.askpass.refuse();
    let lab = t.clone("umbrella/lab.git", "lab");
    let fetch = t.git_ok(&tool, &["fetch", "-q"]);
    // The helper is silent when it succeeds (DESIGN §6).
    assert_eq!(text(&fetch.stderr), "", "noise on a quiet fetch");
    // A file large enough that git streams the push with chunked transfer encoding.
    commit(
        &t.world,
        &tool,
        "blob.bin",
        &incompressible(2 << 20),
        "big push",
    );
    t.git_ok(&tool, &["push", "-q", "origin", "main"]);
    assert_eq!(s.head_subject(&t.world, "acme/tool.git"), "big push");
    assert!(
        s.requests().iter().any(|r| r.method == "POST"
            && r.path.ends_with("/git-receive-pack")
            && r.status == 200
            && r.body == "chunked"),
        "the push was not chunked; log:\n{}",
        s.log()
    );
    commit(&t.world, &lab, "notes", b"lab\n", "lab change");
    t.git_ok(&lab, &["push", "-q", "origin", "main"]);
    assert_eq!(s.head_subject(&t.world, "umbrella/lab.git"), "lab change");
    assert_eq!(t.askpass.calls().len(), 2, "git prompted again");
    assert!(
        s.requests()
            .iter()
            .all(|r| r.status != 200 || r.user == "alice"),
        "{}",
        s.log()
    );

    // An unrelated credential on another host must survive what follows.
    t.approve("https://git.example.com", "bob", "tok-other");
    assert_eq!(
        t.known_for("git.example.com", None),
        some("bob", "tok-other")
    );

    // The server revokes the token: the fetch fails and git makes the helper erase it.
    s.grant(&[]);
    let out = t.git(&tool, &["fetch", "-q"]);
    assert!(!out.status.success(), "fetch with a revoked token worked");
    assert!(
        text(&out.stderr).contains("Authentication failed"),
        "{}",
        text(&out.stderr)
    );
    let last = s.requests().pop().unwrap();
    assert_eq!((last.status, last.user.as_str()), (401, "alice"));
    assert_eq!(t.askpass.calls().len(), 2, "git prompted on revocation");
    assert_eq!(t.known(None), None, "the revoked token is still handed out");
    let get = t.world.run_helper(
        &["get"],
        &format!("protocol=https\nhost={host}\nusername=alice\n"),
    );
    assert!(get.status.success(), "{}", text(&get.stderr));
    assert_eq!(
        text(&get.stdout),
        "",
        "the helper still knows alice's token"
    );
    assert_eq!(
        t.known_for("git.example.com", None),
        some("bob", "tok-other"),
        "erase removed a credential of another host"
    );

    // A new token, typed once, works again; later operations need no prompt.
    s.grant(&[Grant {
        user: "alice",
        token: "tok-2",
        prefix: "",
    }]);
    t.askpass.answer("alice", "tok-2");
    t.git_ok(&tool, &["fetch", "-q"]);
    assert_eq!(t.askpass.calls().len(), 4);
    assert_eq!(
        t.askpass.calls()[2..],
        prompts(&format!("https://{host}"), "alice")
    );
    t.askpass.refuse();
    commit(&t.world, &tool, "after", b"rotated\n", "after rotation");
    t.git_ok(&tool, &["push", "-q", "origin", "main"]);
    t.git_ok(&lab, &["fetch", "-q"]);
    assert_eq!(s.head_subject(&t.world, "acme/tool.git"), "after rotation");
    assert_eq!(t.askpass.calls().len(), 4, "git prompted after rotation");
    assert_eq!(t.known(None), some("alice", "tok-2"));
    t.assert_log_has_no_token();
}

/// `credential.useHttpPath` with fine-grained tokens for two owners on one host: each
/// repository authenticates with its owner's token; revoking one erases only that one.
#[test]
fn scoped_tokens_per_owner_are_used_and_revoked_independently() {
    let t = E2e::new("e2e-scoped");
    let s = &t.server;
    git_ok(
        &t.world,
        &["config", "--global", "credential.useHttpPath", "true"],
    );
    s.create_repo(&t.world, "acme/tool.git");
    s.create_repo(&t.world, "umbrella/lab.git");
    s.create_repo(&t.world, "umbrella/kit.git");
    s.grant(&[
        Grant {
            user: "alice",
            token: "tok-acme",
            prefix: "acme/",
        },
        Grant {
            user: "bob",
            token: "tok-umbrella",
            prefix: "umbrella/",
        },
    ]);

    // The umbrella token is stored for the whole owner (as `git credential-pat add` would);
    // the acme one is typed at the first clone and stored for that repository.
    t.approve(&s.url("umbrella"), "bob", "tok-umbrella");
    t.askpass.answer("alice", "tok-acme");
    let tool = t.clone("acme/tool.git", "tool");
    assert_eq!(t.askpass.calls(), prompts(&s.url("acme/tool.git"), "alice"));
    t.askpass.refuse();
    let lab = t.clone("umbrella/lab.git", "lab");
    t.git_ok(&tool, &["fetch", "-q"]);
    t.git_ok(&lab, &["fetch", "-q"]);
    assert_eq!(t.askpass.calls().len(), 2, "git prompted again");

    // Each repository was served with its own owner's token.
    let ok: Vec<Request> = s
        .requests()
        .into_iter()
        .filter(|r| r.status == 200)
        .collect();
    assert!(ok.iter().any(|r| r.path.starts_with("/acme/")));
    assert!(ok.iter().any(|r| r.path.starts_with("/umbrella/")));
    for r in &ok {
        let owner_user = if r.path.starts_with("/acme/") {
            "alice"
        } else {
            "bob"
        };
        assert_eq!(r.user, owner_user, "{r:?}\n{}", s.log());
    }
    // What the helper answers, per path: the longest stored scope wins, nothing host-wide.
    assert_eq!(t.known(Some("acme/tool.git")), some("alice", "tok-acme"));
    assert_eq!(
        t.known(Some("umbrella/kit.git")),
        some("bob", "tok-umbrella")
    );
    assert_eq!(
        t.known(Some("acme")),
        None,
        "a repo scope leaked to its owner"
    );
    assert_eq!(
        t.known(None),
        None,
        "a scoped token was handed out host-wide"
    );

    // The server revokes the umbrella token: git erases it, reaching the owner-wide entry.
    s.grant(&[Grant {
        user: "alice",
        token: "tok-acme",
        prefix: "acme/",
    }]);
    let out = t.git(&lab, &["fetch", "-q"]);
    assert!(!out.status.success(), "fetch with a revoked token worked");
    assert!(
        text(&out.stderr).contains("Authentication failed"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(t.known(Some("umbrella/lab.git")), None);
    assert_eq!(
        t.known(Some("umbrella/kit.git")),
        None,
        "the owner-wide umbrella token survived its revocation"
    );
    assert_eq!(t.known(Some("acme/tool.git")), some("alice", "tok-acme"));

    // The other owner's repository still works with no prompt.
    commit(&t.world, &tool, "change", b"acme\n", "acme change");
    t.git_ok(&tool, &["push", "-q", "origin", "main"]);
    assert_eq!(s.head_subject(&t.world, "acme/tool.git"), "acme change");
    assert_eq!(t.askpass.calls().len(), 2, "git prompted for acme");

    // A new umbrella token, typed once for the next repository, is used from then on.
    s.grant(&[
        Grant {
            user: "alice",
            token: "tok-acme",
            prefix: "acme/",
        },
        Grant {
            user: "bob",
            token: "tok-umbrella-2",
            prefix: "umbrella/",
        },
    ]);
    t.askpass.answer("bob", "tok-umbrella-2");
    let kit = t.clone("umbrella/kit.git", "kit");
    assert_eq!(
        t.askpass.calls()[2..],
        prompts(&s.url("umbrella/kit.git"), "bob")
    );
    t.askpass.refuse();
    commit(&t.world, &kit, "change", b"kit\n", "kit change");
    t.git_ok(&kit, &["push", "-q", "origin", "main"]);
    assert_eq!(s.head_subject(&t.world, "umbrella/kit.git"), "kit change");
    assert_eq!(t.askpass.calls().len(), 4);
    let last = s.requests().pop().unwrap();
    assert_eq!((last.status, last.user.as_str()), (200, "bob"));
    t.assert_log_has_no_token();
}

/// The README's quick start, step by step: `./install.sh`, add a token, clone.
#[test]
fn the_readme_quick_start_works_as_written() {
    let t = E2e::unconfigured("e2e-quickstart");
    let s = &t.server;
    let host = s.host();
    s.create_repo(&t.world, "you/private-repo.git");
    s.grant(&[Grant {
        user: "alice",
        token: "tok-quick",
        prefix: "",
    }]);
    let prefix = t.world.home.join(".local");
    let path = format!(
        "{}:{}",
        prefix.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let repo_root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // 1. ./install.sh (the test hands it the binary cargo built instead of a release build).
    let out = common::run(
        t.world
            .command(repo_root.join("install.sh"))
            .env("PATH", &path)
            .env("GIT_CREDENTIAL_PAT_BIN", common::BIN),
        b"",
    );
    assert!(out.status.success(), "install.sh: {}", text(&out.stderr));
    let helpers = common::run(
        t.world
            .git()
            .env("PATH", &path)
            .args(["config", "--get-all", "credential.helper"]),
        b"",
    );
    assert_eq!(text(&helpers.stdout), "\npat\n");
    // 2. Add a token (read from stdin, never from argv).
    let out = common::run(
        t.world.git().env("PATH", &path).args([
            "credential-pat",
            "add",
            &format!("https://alice@{host}"),
        ]),
        b"tok-quick\n",
    );
    assert!(out.status.success(), "add: {}", text(&out.stderr));
    // 3. Clone: no prompt at all.
    t.askpass.refuse();
    let out = common::run(
        t.world
            .git()
            .current_dir(&t.world.root)
            .env("PATH", &path)
            .env("GIT_ASKPASS", &t.askpass.script)
            .args([
                "clone",
                "-q",
                &s.url("you/private-repo.git"),
                "private-repo",
            ]),
        b"",
    );
    assert!(
        out.status.success(),
        "clone: {}\n{}",
        text(&out.stderr),
        s.log()
    );
    assert!(t.askpass.calls().is_empty(), "{:?}", t.askpass.calls());
    assert!(t.world.root.join("private-repo/.git").is_dir());
    assert!(
        s.requests()
            .iter()
            .any(|r| r.status == 200 && r.user == "alice")
    );
}
