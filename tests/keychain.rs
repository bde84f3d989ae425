//! The keychain backend against a real Secret Service (a private gnome-keyring per test
//! binary), through the built helper with `--backend=keychain`. Tests on the shared keyring
//! use hosts of their own; tests that lock, stop or enumerate it start their own.
#![cfg(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
))]

#[path = "common/mod.rs"]
mod common;
#[path = "common/secret_service.rs"]
mod secret_service;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{World, text};
use secret_service::{BareBus, HungBus, SecretService};

/// A world whose helper uses the keychain of `ss`.
struct Kc<'a> {
    world: World,
    ss: &'a SecretService,
}

impl Kc<'static> {
    fn new(name: &str) -> Kc<'static> {
        Kc::on(name, SecretService::shared())
    }
}

impl<'a> Kc<'a> {
    fn on(name: &str, ss: &'a SecretService) -> Kc<'a> {
        Kc {
            world: World::new(name),
            ss,
        }
    }

    fn command(&self, action: &str) -> Command {
        let mut cmd = self.ss.helper(&self.world);
        cmd.args(["--backend=keychain", action]);
        cmd
    }

    /// Runs an action: (exit code, stdout, stderr, wall time).
    fn run(&self, action: &str, input: &str) -> (i32, String, String, Duration) {
        let start = Instant::now();
        let out = common::run(&mut self.command(action), input.as_bytes());
        (
            out.status.code().unwrap_or(-1),
            text(&out.stdout),
            text(&out.stderr),
            start.elapsed(),
        )
    }

    /// Runs an action that must succeed silently; returns stdout.
    fn ok(&self, action: &str, input: &str) -> String {
        let (code, out, err, _) = self.run(action, input);
        assert_eq!(
            (code, err.as_str()),
            (0, ""),
            "{action} failed for:\n{input}"
        );
        out
    }

    fn store(&self, input: &str) {
        assert_eq!(self.ok("store", input), "", "store prints nothing");
    }

    fn get(&self, input: &str) -> String {
        self.ok("get", input)
    }

    fn erase(&self, input: &str) {
        assert_eq!(self.ok("erase", input), "", "erase prints nothing");
    }

    /// The secret of the entry with `account`, as `secret-tool lookup` shows it.
    fn lookup(&self, account: &str) -> String {
        let out = self.ss.secret_tool(
            &[
                "lookup",
                "service",
                "git-credential-pat",
                "username",
                account,
            ],
            "",
        );
        text(&out.stdout)
    }
}

fn cred(host: &str, user: &str, token: &str) -> String {
    format!("protocol=https\nhost={host}\nusername={user}\npassword={token}\n")
}

#[test]
fn store_get_erase_round_trip_through_the_keychain() {
    let k = Kc::new("roundtrip");
    k.store(&cred("RoundTrip.example", "octocat", "ghp_one"));
    assert_eq!(
        k.get("protocol=https\nhost=roundtrip.example\n"),
        "username=octocat\npassword=ghp_one\n"
    );
    assert_eq!(k.ss.items_on("roundtrip.example").len(), 1);
    assert_eq!(k.get("protocol=http\nhost=roundtrip.example\n"), "");
    assert_eq!(k.get("protocol=https\nhost=roundtrip.example:443\n"), "");
    k.erase("protocol=https\nhost=roundtrip.example\n");
    assert_eq!(k.get("protocol=https\nhost=roundtrip.example\n"), "");
    assert!(k.ss.items_on("roundtrip.example").is_empty());
    assert!(
        !k.world.default_file().exists(),
        "the keychain backend never creates the file"
    );
}

#[test]
fn the_longest_stored_path_wins_on_whole_segments() {
    let k = Kc::new("paths");
    let h = "paths.example";
    k.store(&cred(h, "u", "host-wide"));
    k.store(&format!(
        "protocol=https\nhost={h}\npath=acme.git\nusername=u\npassword=acme\n"
    ));
    k.store(&format!(
        "protocol=https\nhost={h}\npath=/acme/tool.git/\nusername=u\npassword=tool\n"
    ));
    let get = |path: &str| k.get(&format!("protocol=https\nhost={h}\npath={path}\n"));
    assert_eq!(get("acme/tool/sub.git"), "username=u\npassword=tool\n");
    assert_eq!(get("acme/other.git"), "username=u\npassword=acme\n");
    assert_eq!(
        get("acme-corp/tool.git"),
        "username=u\npassword=host-wide\n"
    );
    assert_eq!(
        k.get(&format!("protocol=https\nhost={h}\n")),
        "username=u\npassword=host-wide\n",
        "no path: host-wide only"
    );
    assert_eq!(k.ss.items_on(h).len(), 3);
}

#[test]
fn requests_without_a_username_get_the_newest_and_usernames_filter() {
    let k = Kc::new("users");
    let h = "users.example";
    k.store(&cred(h, "alice", "tok-a"));
    k.store(&cred(h, "bob", "tok-b"));
    assert_eq!(
        k.get(&format!("protocol=https\nhost={h}\n")),
        "username=bob\npassword=tok-b\n"
    );
    assert_eq!(
        k.get(&format!("protocol=https\nhost={h}\nusername=alice\n")),
        "username=alice\npassword=tok-a\n"
    );
    assert_eq!(
        k.get(&format!("protocol=https\nhost={h}\nusername=carol\n")),
        ""
    );
}

#[test]
fn erase_removes_only_the_rejected_token_and_reaches_scoped_ones() {
    let k = Kc::new("erase");
    let h = "erase.example";
    k.store(&cred(h, "u", "current"));
    k.store(&format!(
        "protocol=https\nhost={h}\npath=acme\nusername=u\npassword=scoped\n"
    ));
    k.erase(&format!(
        "protocol=https\nhost={h}\nusername=u\npassword=stale\n"
    ));
    assert_eq!(
        k.ss.items_on(h).len(),
        2,
        "a stale rejection deletes nothing"
    );
    k.erase(&format!(
        "protocol=https\nhost={h}\npath=acme/tool.git\nusername=u\npassword=scoped\n"
    ));
    assert_eq!(k.ss.items_on(h).len(), 1);
    assert_eq!(
        k.get(&format!("protocol=https\nhost={h}\npath=acme/tool\n")),
        "username=u\npassword=current\n"
    );
    k.erase(&format!("protocol=https\nhost={h}\npassword=current\n"));
    assert!(k.ss.items_on(h).is_empty());
}

#[test]
fn expiry_refresh_token_and_authtype_survive_the_keychain() {
    let k = Kc::new("fields");
    let h = "fields.example";
    k.store(&format!(
        "protocol=https\nhost={h}\nusername=u\npassword=tok\npassword_expiry_utc=4000000000\noauth_refresh_token=refresh-me\n"
    ));
    assert_eq!(
        k.get(&format!("protocol=https\nhost={h}\n")),
        "username=u\npassword=tok\noauth_refresh_token=refresh-me\npassword_expiry_utc=4000000000\n"
    );
    let secret = k.lookup(&format!("https://{h} / @u"));
    assert!(
        secret.starts_with(&format!("https://{h} / @u stored=")),
        "{secret}"
    );
    assert!(
        secret.ends_with(" expires=4000000000 password=tok oauth_refresh_token=refresh-me"),
        "the secret is the v1 line without LF: {secret:?}"
    );
    k.store(&format!(
        "capability[]=authtype\nprotocol=https\nhost={h}\npath=api\nauthtype=Bearer\ncredential=bearer-tok\n"
    ));
    assert_eq!(
        k.get(&format!(
            "capability[]=authtype\nprotocol=https\nhost={h}\npath=api\n"
        )),
        "capability[]=authtype\nauthtype=Bearer\ncredential=bearer-tok\n"
    );
    assert_eq!(k.ss.items_on(h).len(), 2);
}

/// What a forge said about a token (login, scopes, when it confirmed it) is part of the line
/// the keychain holds: it is read back, and kept when git's store updates the expiry.
#[test]
fn what_the_forge_said_survives_the_keychain() {
    let k = Kc::new("learned");
    let h = "learned.example";
    let account = format!("https://{h} / @u");
    k.ss.put_raw(
        h,
        &account,
        &format!("{account} stored=1764000000.000000000 login=Octo%20Cat scopes=repo,read:org verified=1764000100 password=tok"),
    );
    let list = || {
        let out = common::run(
            k.ss.helper(&k.world)
                .args(["--backend=keychain", "list", "--json"]),
            b"",
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    let shown = list();
    assert!(
        shown.contains(
            r#""login": "Octo Cat", "scopes": ["repo", "read:org"], "verified_utc": 1764000100}"#
        ),
        "{shown}"
    );
    k.store(&format!(
        "protocol=https\nhost={h}\nusername=u\npassword=tok\npassword_expiry_utc=4000000000\n"
    ));
    let secret = k.lookup(&account);
    assert!(
        secret.ends_with(" expires=4000000000 login=Octo%20Cat scopes=repo,read:org verified=1764000100 password=tok"),
        "{secret:?}"
    );
    assert!(list().contains(r#""login": "Octo Cat""#));
}

#[test]
fn storing_the_same_again_writes_nothing() {
    let k = Kc::new("idempotent");
    let h = "idempotent.example";
    k.store(&cred(h, "u", "same"));
    let items = k.ss.items_on(h);
    assert_eq!(items.len(), 1);
    let (line, stamp) = (
        k.lookup(&format!("https://{h} / @u")),
        k.ss.modified(&items[0]),
    );
    // The Secret Service keeps modification times in seconds.
    std::thread::sleep(Duration::from_millis(1100));
    k.store(&cred(h, "u", "same"));
    assert_eq!(k.ss.items_on(h), items, "no new item");
    assert_eq!(k.lookup(&format!("https://{h} / @u")), line);
    assert_eq!(k.ss.modified(&items[0]), stamp, "not rewritten");
    k.store(&cred(h, "u", "rotated"));
    assert_eq!(k.ss.items_on(h), items, "rotation updates the same item");
    assert_ne!(k.ss.modified(&items[0]), stamp, "a new token is written");
}

#[test]
fn entries_are_recognisable_in_secret_tool_and_the_helper_shows_no_secret() {
    let k = Kc::new("visible");
    let h = "visible.example";
    let input = format!(
        "protocol=https\nhost={h}\npath=acme\nusername=octocat\npassword=ghp_visible_secret\n"
    );
    let (code, out, err, _) = k.run("store", &input);
    assert_eq!((code, out.as_str(), err.as_str()), (0, "", ""));
    let shown = k.ss.secret_tool(
        &[
            "search",
            "--all",
            "service",
            "git-credential-pat",
            "host",
            h,
        ],
        "",
    );
    let shown = text(&shown.stdout) + &text(&shown.stderr);
    for line in [
        &format!("label = git-credential-pat: https://octocat@{h}/acme") as &str,
        "attribute.application = git-credential-pat",
        "attribute.service = git-credential-pat",
        "attribute.protocol = https",
        &format!("attribute.host = {h}"),
        &format!("attribute.username = https://{h} /acme @octocat"),
    ] {
        assert!(
            shown.lines().any(|l| l == line),
            "{line:?} not in:\n{shown}"
        );
    }
    let (code, out, err, _) = k.run("erase", &format!("protocol=https\nhost={h}\n"));
    assert_eq!((code, out.as_str(), err.as_str()), (0, "", ""));
    assert!(k.ss.items_on(h).is_empty());
}

#[test]
fn an_expired_entry_is_evicted_from_the_keychain() {
    let k = Kc::new("expired");
    let h = "expired.example";
    k.ss.put_raw(
        h,
        &format!("https://{h} / @u"),
        &format!("https://{h} / @u stored=1.000000000 expires=1000 password=old-token\n"),
    );
    let (code, out, err, _) = k.run("get", &format!("protocol=https\nhost={h}\n"));
    assert_eq!((code, out.as_str()), (0, ""));
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(&format!("https://u@{h}"))
            && err.contains("expired")
            && err.contains("keychain store"),
        "{err}"
    );
    assert!(!err.contains("old-token"));
    assert!(k.ss.items_on(h).is_empty(), "evicted");
}

#[test]
fn a_corrupt_entry_is_named_never_shown_and_nothing_changes() {
    let k = Kc::new("corrupt");
    let h = "corrupt.example";
    let account = format!("https://{h} / @u");
    k.ss.put_raw(h, &account, "not-a-record ghp_leaked_token");
    for (action, input) in [
        ("get", format!("protocol=https\nhost={h}\n")),
        ("erase", format!("protocol=https\nhost={h}\n")),
        ("store", cred(h, "other", "t")),
    ] {
        let (code, out, err, _) = k.run(action, &input);
        assert_eq!((code, out.as_str()), (1, ""), "{action}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with(&format!(
                "git-credential-pat: keychain entry '{account}' (service git-credential-pat) is corrupt ("
            )),
            "{err}"
        );
        assert!(!err.contains("ghp_leaked"), "{err}");
    }
    assert_eq!(k.ss.items_on(h).len(), 1, "nothing deleted or added");
    k.ss.secret_tool(
        &[
            "clear",
            "service",
            "git-credential-pat",
            "username",
            &account,
        ],
        "",
    );
}

#[test]
fn a_locked_keyring_fails_in_one_line_and_deletes_nothing() {
    let ss = SecretService::start("locked");
    let k = Kc::on("locked", &ss);
    let h = "locked.example";
    k.store(&cred(h, "u", "ghp_locked_token"));
    ss.lock();
    for (action, input) in [
        ("get", format!("protocol=https\nhost={h}\n")),
        ("erase", format!("protocol=https\nhost={h}\n")),
        ("store", cred(h, "u", "ghp_new_token")),
    ] {
        let (code, out, err, took) = k.run(action, &input);
        assert_eq!((code, out.as_str()), (1, ""), "{action}: {err}");
        assert!(took < Duration::from_secs(6), "{action} took {took:?}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains("locked") && err.contains("unlock it") && err.contains("--backend=file"),
            "{action}: {err}"
        );
        assert!(!err.contains("ghp_"), "{err}");
    }
    let (unlocked, locked) = ss.search(&[("service", "git-credential-pat"), ("host", h)]);
    assert_eq!((unlocked.len(), locked.len()), (0, 1), "still there");
}

#[test]
fn no_session_bus_fails_at_once() {
    let world = World::new("nobus");
    let runtime = world.root.join("run");
    std::fs::create_dir_all(&runtime).unwrap();
    for (action, input) in [
        ("get", "protocol=https\nhost=h\n".to_owned()),
        ("store", cred("h", "u", "t")),
        ("erase", "protocol=https\nhost=h\n".to_owned()),
    ] {
        let start = Instant::now();
        let out = common::run(
            world
                .helper()
                .env("XDG_RUNTIME_DIR", &runtime)
                .args(["--backend=keychain", action]),
            input.as_bytes(),
        );
        let took = start.elapsed();
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{action}: {err}");
        assert!(took < Duration::from_secs(1), "{action} took {took:?}");
        assert_eq!(
            err,
            format!(
                "git-credential-pat: no D-Bus session bus, so the Secret Service keyring is out of reach (DBUS_SESSION_BUS_ADDRESS is not set and {}/bus does not exist): run in a desktop session, or start one with dbus-run-session and gnome-keyring-daemon, or use --backend=file\n",
                runtime.display()
            )
        );
    }
    assert!(!world.default_file().exists());
}

#[test]
fn a_hung_bus_fails_within_the_bound() {
    let world = World::new("hungbus");
    let bus = HungBus::start(&world.root);
    for (action, input) in [
        ("get", "protocol=https\nhost=h\n".to_owned()),
        ("store", cred("h", "u", "t")),
    ] {
        let start = Instant::now();
        let out = common::run(
            world
                .helper()
                .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
                .args(["--backend=keychain", action]),
            input.as_bytes(),
        );
        let took = start.elapsed();
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{action}: {err}");
        assert!(took < Duration::from_secs(7), "{action} took {took:?}");
        assert!(
            err.starts_with(
                "git-credential-pat: the Secret Service keyring did not answer within 2 s (connecting)"
            ) && err.trim_end().ends_with("or use --backend=file"),
            "{err}"
        );
        assert_eq!(err.lines().count(), 1);
    }
    // The file backend never looks at the bus, so a hung one costs it nothing.
    let start = Instant::now();
    let out = common::run(
        world
            .helper()
            .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
            .args(["--backend=file", "store"]),
        cred("h", "u", "t").as_bytes(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(start.elapsed() < Duration::from_secs(1));
    assert!(world.default_file().exists());
}

#[test]
fn a_stopped_keyring_daemon_fails_within_the_bound_and_loses_nothing() {
    let ss = SecretService::start("stopped");
    let k = Kc::on("stopped", &ss);
    let h = "stopped.example";
    k.store(&cred(h, "u", "kept"));
    let pid = ss.daemon_pid().to_string();
    // The shell's own kill: no procps needed.
    let signal = |sig: &str| {
        let st = Command::new("sh")
            .args(["-c", r#"kill "$0" "$1""#, sig, &pid])
            .status()
            .unwrap();
        assert!(st.success(), "kill {sig} {pid}");
    };
    signal("-STOP");
    let result = std::panic::catch_unwind(|| {
        for (action, input) in [
            ("get", format!("protocol=https\nhost={h}\n")),
            ("erase", format!("protocol=https\nhost={h}\n")),
        ] {
            let (code, out, err, took) = k.run(action, &input);
            assert_eq!((code, out.as_str()), (1, ""), "{action}: {err}");
            assert!(took < Duration::from_secs(7), "{action} took {took:?}");
            assert!(err.contains("did not answer within"), "{err}");
        }
    });
    signal("-CONT");
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
    assert_eq!(
        k.get(&format!("protocol=https\nhost={h}\n")),
        "username=u\npassword=kept\n"
    );
}

#[test]
fn concurrent_stores_of_distinct_keys_lose_nothing() {
    let k = Kc::new("concurrent");
    let h = "concurrent.example";
    let children: Vec<_> = (0..16)
        .map(|i| {
            let mut child = k
                .command("store")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            use std::io::Write;
            let mut stdin = child.stdin.take().unwrap();
            stdin
                .write_all(cred(h, &format!("user{i}"), &format!("token{i}")).as_bytes())
                .unwrap();
            child
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    assert_eq!(k.ss.items_on(h).len(), 16);
    for i in 0..16 {
        assert_eq!(
            k.get(&format!("protocol=https\nhost={h}\nusername=user{i}\n")),
            format!("username=user{i}\npassword=token{i}\n")
        );
    }
}

const CHILD: &str = "GIT_CREDENTIAL_PAT_TEST_CHILD_LOCK";

/// `load_all` and `update_all` (for people's commands) see exactly our entries. They run in
/// this test binary, re-executed with the private bus in its environment, because the
/// keychain crates read `DBUS_SESSION_BUS_ADDRESS` from the process itself.
#[test]
fn load_all_and_update_all_see_exactly_our_entries() {
    if let Some(lock) = std::env::var_os(CHILD) {
        return enumerate_and_prune(lock.into());
    }
    let ss = SecretService::start("all");
    let k = Kc::on("all", &ss);
    k.store(&cred("a.example", "u", "ta"));
    k.store("protocol=https\nhost=a.example\npath=x\nusername=u\npassword=tax\n");
    k.store(&cred("b.example", "u", "tb"));
    let foreign = ss.secret_tool(
        &[
            "store",
            "--label=other app",
            "service",
            "other-app",
            "username",
            "me",
        ],
        "foreign-secret",
    );
    assert!(foreign.status.success());
    let out = ss
        .on_bus(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "load_all_and_update_all_see_exactly_our_entries",
            "--nocapture",
        ])
        .env(CHILD, k.world.root.join("keychain.lock"))
        .output()
        .unwrap();
    let log = text(&out.stdout) + &text(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("1 passed"), "the child ran the test: {log}");
    assert_eq!(k.get("protocol=https\nhost=b.example\n"), "", "pruned");
    assert_eq!(
        k.get("protocol=https\nhost=a.example\npath=x\n"),
        "username=u\npassword=tax\n"
    );
    let other = ss.secret_tool(&["lookup", "service", "other-app", "username", "me"], "");
    assert_eq!(
        text(&other.stdout),
        "foreign-secret",
        "other apps' items untouched"
    );
}

fn enumerate_and_prune(lock: std::path::PathBuf) {
    use git_credential_pat::store::Store;
    use git_credential_pat::store::keychain::KeychainStore;
    let store = KeychainStore::new(lock);
    assert!(store.is_configured());
    let keys: Vec<String> = store
        .load_all()
        .unwrap()
        .iter()
        .map(|r| r.key.display())
        .collect();
    assert_eq!(
        keys,
        [
            "https://u@a.example",
            "https://u@a.example/x",
            "https://u@b.example"
        ]
    );
    let changed = store
        .update_all(&mut |recs| {
            recs.retain(|r| r.key.host.host != b"b.example");
            true
        })
        .unwrap();
    assert!(changed);
    assert_eq!(store.load_all().unwrap().len(), 2);
    assert!(
        !store.update_all(&mut |_| true).unwrap(),
        "nothing to write"
    );
}

/// Runs the helper under the default `--backend=auto` on `ss`'s bus: (code, stdout, stderr).
fn auto(ss: &SecretService, world: &World, args: &[&str], input: &str) -> (i32, String, String) {
    let out = common::run(ss.helper(world).args(args), input.as_bytes());
    (
        out.status.code().unwrap_or(-1),
        text(&out.stdout),
        text(&out.stderr),
    )
}

#[test]
fn auto_prefers_the_keychain_and_list_shows_both_backends() {
    let ss = SecretService::shared();
    let world = World::new("auto-prefers");
    let h = "auto-prefers.example";
    let (code, _, err) = auto(ss, &world, &["store"], &cred(h, "u", "ghp_auto_kc"));
    assert_eq!((code, err.as_str()), (0, ""));
    assert_eq!(ss.items_on(h).len(), 1, "stored in the keychain");
    assert!(!world.default_file().exists(), "no plain-text copy");
    let (_, out, _) = auto(ss, &world, &["get"], &format!("protocol=https\nhost={h}\n"));
    assert_eq!(out, "username=u\npassword=ghp_auto_kc\n");
    // A credential in the file too: list shows both, each with its backend.
    let file_only = "auto-file-only.example";
    let out = common::run(
        world.helper().args(["--backend=file", "store"]),
        cred(file_only, "f", "ghp_in_file").as_bytes(),
    );
    assert!(out.status.success());
    let (code, json, err) = auto(ss, &world, &["list", "--json"], "");
    assert_eq!(code, 0, "{err}");
    assert!(
        json.contains(&format!(
            r#""host": "{h}", "path": null, "username": "u", "backend": "keychain""#
        )),
        "{json}"
    );
    assert!(
        json.contains(&format!(
            r#""host": "{file_only}", "path": null, "username": "f", "backend": "file""#
        )),
        "{json}"
    );
    assert!(!json.contains("ghp_"), "{json}");
    // get reaches the file when the keychain has no match.
    let (_, out, _) = auto(
        ss,
        &world,
        &["get"],
        &format!("protocol=https\nhost={file_only}\n"),
    );
    assert_eq!(out, "username=f\npassword=ghp_in_file\n");
    // erase acts on both.
    auto(
        ss,
        &world,
        &["erase"],
        &format!("protocol=https\nhost={h}\n"),
    );
    auto(
        ss,
        &world,
        &["erase"],
        &format!("protocol=https\nhost={file_only}\n"),
    );
    assert!(ss.items_on(h).is_empty());
    assert!(
        !std::fs::read_to_string(world.default_file())
            .unwrap()
            .contains("ghp_in_file")
    );
}

#[test]
fn an_auto_store_into_the_keychain_removes_the_stale_file_copy() {
    let ss = SecretService::shared();
    let world = World::new("auto-stale");
    let h = "auto-stale.example";
    let out = common::run(
        world.helper().args(["--backend=file", "store"]),
        cred(h, "u", "ghp_old_plain").as_bytes(),
    );
    assert!(out.status.success());
    let (code, _, err) = auto(ss, &world, &["store"], &cred(h, "u", "ghp_new_kc"));
    assert_eq!((code, err.as_str()), (0, ""));
    let file = std::fs::read_to_string(world.default_file()).unwrap();
    assert!(!file.contains(h), "stale plain-text copy left: {file}");
    let (_, out, _) = auto(ss, &world, &["get"], &format!("protocol=https\nhost={h}\n"));
    assert_eq!(out, "username=u\npassword=ghp_new_kc\n");
}

#[test]
fn auto_falls_back_to_the_file_when_the_keychain_is_locked_and_says_so_once() {
    let ss = SecretService::start("auto-locked");
    let world = World::new("auto-locked");
    ss.lock();
    let start = Instant::now();
    let (code, _, err) = auto(
        &ss,
        &world,
        &["store"],
        &cred("a.example", "u", "ghp_fallback"),
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        err,
        format!(
            "git-credential-pat: the keychain is not reachable, so the token was stored in the file {} (run 'git credential-pat doctor' to see why)\n",
            world.default_file().display()
        )
    );
    let (code, _, err) = auto(
        &ss,
        &world,
        &["store"],
        &cred("b.example", "u", "ghp_quiet"),
    );
    assert_eq!((code, err.as_str()), (0, ""), "later stores stay quiet");
    let (code, out, err) = auto(&ss, &world, &["get"], "protocol=https\nhost=a.example\n");
    assert_eq!(
        (code, out.as_str(), err.as_str()),
        (0, "username=u\npassword=ghp_fallback\n", "")
    );
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
    let (code, json, _) = auto(&ss, &world, &["list", "--json"], "");
    assert_eq!(code, 0);
    assert!(
        json.contains(r#""host": "a.example", "path": null, "username": "u", "backend": "file""#),
        "{json}"
    );
}

#[test]
fn auto_without_a_session_bus_uses_the_file_at_once_and_says_so_once() {
    let world = World::new("auto-nobus");
    let start = Instant::now();
    let out = common::run(world.helper().arg("store"), cred("h", "u", "t").as_bytes());
    assert!(out.status.success());
    assert_eq!(
        text(&out.stderr),
        format!(
            "git-credential-pat: the keychain is not reachable, so the token was stored in the file {} (run 'git credential-pat doctor' to see why)\n",
            world.default_file().display()
        )
    );
    let out = common::run(world.helper().arg("store"), cred("h2", "u", "t").as_bytes());
    assert_eq!(text(&out.stderr), "");
    let out = common::run(world.helper().arg("get"), b"protocol=https\nhost=h\n");
    assert_eq!(
        (text(&out.stdout).as_str(), text(&out.stderr).as_str()),
        ("username=u\npassword=t\n", "")
    );
    let out = common::run(world.helper().args(["list", "--json"]), b"");
    assert_eq!(text(&out.stderr), "", "no keychain to speak of: quiet");
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
}

/// `list` under `auto` with a stale bus address (common over SSH): it names only the store it
/// read, and the note says why the keychain was not.
#[test]
fn list_with_an_unreachable_keychain_names_only_the_store_it_read() {
    let world = World::new("auto-stale-list");
    let out = common::run(
        world
            .helper()
            .env("DBUS_SESSION_BUS_ADDRESS", NO_BUS)
            .arg("list"),
        b"",
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout), "");
    let err = text(&out.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert_eq!(
        lines[0],
        format!(
            "git-credential-pat: no credentials stored (in the file store: {})",
            world.default_file().display()
        )
    );
    assert!(
        lines[1].starts_with("git-credential-pat: note: the keychain is not reachable"),
        "{err}"
    );
    // Asked for the keychain itself: the stale variable is named, with the fix.
    let out = common::run(
        world
            .helper()
            .env("DBUS_SESSION_BUS_ADDRESS", NO_BUS)
            .args(["--backend=keychain", "list"]),
        b"",
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        format!(
            "git-credential-pat: DBUS_SESSION_BUS_ADDRESS names a session bus that is gone ({NO_BUS}), so the Secret Service keyring is out of reach (connecting): it is left over from an earlier session (tmux, screen, SSH); run unset DBUS_SESSION_BUS_ADDRESS, or use --backend=file\n"
        )
    );
}

/// The people's commands on the keychain backend, with git configured to use it.
#[test]
fn people_commands_work_on_the_keychain() {
    common::require_git(2, 46);
    let ss = SecretService::start("people");
    let world = World::new("kc-people");
    world.use_pat("--backend=keychain");
    let pat = |args: &[&str], input: &str| {
        let out = common::run(ss.helper(&world).args(args), input.as_bytes());
        (
            out.status.code().unwrap_or(-1),
            text(&out.stdout),
            text(&out.stderr),
        )
    };
    // add (no --backend: it comes from the credential.helper entry), then git fill.
    let (code, out, err) = pat(&["add", "https://octo@github.com"], "ghp_people_kc\n");
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "Stored the token for https://octo@github.com in the keychain store (no known expiry).\n"
    );
    assert_eq!(ss.items_on("github.com").len(), 1);
    let fill = common::run(
        world
            .git()
            .env("DBUS_SESSION_BUS_ADDRESS", &ss.address)
            .args(["credential", "fill"]),
        b"protocol=https\nhost=github.com\n",
    );
    assert!(
        text(&fill.stdout).ends_with("username=octo\npassword=ghp_people_kc\n"),
        "{}",
        text(&fill.stderr)
    );
    // import, list, list --json: never a token.
    let src = world.root.join("store-file");
    std::fs::write(&src, "https://u:ghp_imported@gitlab.com\n").unwrap();
    let (code, out, err) = pat(&["import", src.to_str().unwrap()], "");
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("1 credential imported") && out.contains("into the keychain store"),
        "{out}"
    );
    let (_, table, _) = pat(&["list"], "");
    assert!(
        table.contains("https://github.com  octo      keychain"),
        "{table}"
    );
    assert!(
        table.contains("https://gitlab.com  u         keychain"),
        "{table}"
    );
    let (_, json, _) = pat(&["list", "--json"], "");
    assert!(
        json.contains(r#""backend": "keychain""#) && !json.contains("ghp_"),
        "{json}"
    );
    assert!(!table.contains("ghp_"));
    // prune: an expired entry, planted directly, is evicted and listed.
    ss.put_raw(
        "old.example",
        "https://old.example / @u",
        "https://old.example / @u stored=1700000000.000000000 expires=1700000001 password=ghp_old",
    );
    let (code, out, err) = pat(&["prune"], "");
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "removed https://u@old.example (keychain, expired 2023-11-14 22:13 UTC)\n1 expired credential removed\n"
    );
    assert!(ss.items_on("old.example").is_empty());
    // remove: counts, exit 1 when nothing matched.
    let (code, out, _) = pat(&["remove", "https://github.com"], "");
    assert_eq!(
        (code, out.as_str()),
        (
            0,
            "removed https://octo@github.com (keychain)\n1 credential removed\n"
        )
    );
    assert!(ss.items_on("github.com").is_empty());
    let (code, _, err) = pat(&["remove", "https://github.com"], "");
    assert_eq!(code, 1, "{err}");
    let (code, out, _) = pat(&["doctor", "https://gitlab.com"], "");
    assert!(
        out.contains("ok      the keychain store is readable and private (1 credential)"),
        "{out}"
    );
    assert_eq!(code, 0, "{out}");
}

/// A bus address where nothing listens: a helper that touches the keychain fails with it.
const NO_BUS: &str = "unix:path=/nonexistent/git-credential-pat-test-bus";

/// The `state[]=` line of a get answer.
fn state_line(answer: &str) -> &str {
    answer
        .lines()
        .find(|l| l.starts_with("state[]="))
        .unwrap_or_else(|| panic!("no state[] in {answer:?}"))
}

#[test]
fn the_state_short_cut_is_taken_only_for_the_token_get_served() {
    let k = Kc::new("state");
    let h = "state.example";
    k.store(&cred(h, "u", "ghp_served_token"));
    let answer = k.get(&format!("capability[]=state\nprotocol=https\nhost={h}\n"));
    assert!(
        answer.starts_with(
            "username=u\npassword=ghp_served_token\ncapability[]=state\nstate[]=pat:v1:"
        ),
        "{answer}"
    );
    let state = state_line(&answer).to_owned();
    assert!(!state.contains("ghp_"), "{state}");
    let items = k.ss.items_on(h);
    let before = k.ss.modified(&items[0]);
    // The Secret Service keeps modification times in seconds.
    std::thread::sleep(Duration::from_millis(1100));
    let through_state =
        |token: &str| format!("capability[]=state\n{}{state}\n", cred(h, "u", token));
    // The served token through its state: done without the keychain (out of reach here).
    let out = common::run(
        k.command("store").env("DBUS_SESSION_BUS_ADDRESS", NO_BUS),
        through_state("ghp_served_token").as_bytes(),
    );
    assert_eq!(
        (out.status.code(), text(&out.stderr).as_str()),
        (Some(0), "")
    );
    k.store(&through_state("ghp_served_token"));
    assert_eq!(k.ss.modified(&items[0]), before, "not rewritten");
    // Another token through the same state goes to the keychain.
    let out = common::run(
        k.command("store").env("DBUS_SESSION_BUS_ADDRESS", NO_BUS),
        through_state("ghp_rotated_token").as_bytes(),
    );
    assert_eq!(out.status.code(), Some(1), "it asked the keychain");
    k.store(&through_state("ghp_rotated_token"));
    assert_eq!(k.ss.items_on(h), items);
    assert_ne!(k.ss.modified(&items[0]), before, "the new token is written");
    assert_eq!(
        k.get(&format!("protocol=https\nhost={h}\n")),
        "username=u\npassword=ghp_rotated_token\n",
        "no capability, no state"
    );
}

#[test]
fn git_fill_then_approve_leaves_the_keychain_untouched() {
    common::require_git(2, 46);
    let ss = SecretService::shared();
    let world = World::new("kc-git-state");
    world.use_pat("--backend=keychain");
    let h = "git-state.example";
    let out = common::run(
        ss.helper(&world).args(["--backend=keychain", "store"]),
        cred(h, "u", "ghp_git_state").as_bytes(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let items = ss.items_on(h);
    assert_eq!(items.len(), 1);
    let before = ss.modified(&items[0]);
    let git = |args: &[&str], input: &str, bus: &str| {
        let out = common::run(
            world.git().env("DBUS_SESSION_BUS_ADDRESS", bus).args(args),
            input.as_bytes(),
        );
        (out.status.code(), text(&out.stdout), text(&out.stderr))
    };
    let (code, filled, err) = git(
        &["credential", "fill"],
        &format!("capability[]=state\nprotocol=https\nhost={h}\n"),
        &ss.address,
    );
    assert_eq!((code, err.as_str()), (Some(0), ""));
    assert!(
        filled.starts_with(&format!(
            "capability[]=state\nprotocol=https\nhost={h}\nusername=u\npassword=ghp_git_state\nstate[]=pat:v1:"
        )),
        "{filled}"
    );
    std::thread::sleep(Duration::from_millis(1100));
    // git hands the state back to the store; with the keychain out of reach it succeeds
    // silently only because the store never asks it.
    let (code, _, err) = git(&["credential", "approve"], &filled, NO_BUS);
    assert_eq!((code, err.as_str()), (Some(0), ""));
    let (code, _, err) = git(&["credential", "approve"], &filled, &ss.address);
    assert_eq!((code, err.as_str()), (Some(0), ""));
    assert_eq!(ss.items_on(h), items);
    assert_eq!(
        ss.modified(&items[0]),
        before,
        "the keychain was not written"
    );
    // Without the capability (git before 2.46) there is no state, and the store asks.
    let (_, plain, _) = git(
        &["credential", "fill"],
        &format!("protocol=https\nhost={h}\n"),
        &ss.address,
    );
    assert!(!plain.contains("state[]"), "{plain}");
    let (_, _, err) = git(&["credential", "approve"], &plain, NO_BUS);
    assert!(
        err.contains(
            "git-credential-pat: DBUS_SESSION_BUS_ADDRESS names a session bus that is gone"
        ),
        "{err}"
    );
}

#[test]
fn a_miss_and_an_erase_that_matches_nothing_open_no_session() {
    let ss = SecretService::start("sessions");
    let k = Kc::on("sessions", &ss);
    let h = "sessions.example";
    k.store(&cred(h, "u", "ghp_session"));
    let monitor = ss.monitor();
    assert_eq!(k.get("protocol=https\nhost=absent.example\n"), "");
    k.erase("protocol=https\nhost=absent.example\nusername=u\npassword=x\n");
    assert_eq!(
        monitor.take(2),
        ["SearchItems", "SearchItems"],
        "one search each, no session"
    );
    assert_eq!(
        k.get(&format!("protocol=https\nhost={h}\n")),
        "username=u\npassword=ghp_session\n"
    );
    assert_eq!(
        monitor.take(3),
        ["SearchItems", "OpenSession", "GetSecrets"],
        "a hit: one search, one session, one read of every secret"
    );
}

#[test]
fn auto_remembers_a_bus_without_a_secret_service_for_a_minute() {
    let world = World::new("auto-memo");
    let runtime = world.root.join("run");
    std::fs::create_dir_all(&runtime).unwrap();
    common::set_mode(&runtime, 0o700);
    let out = common::run(
        world.helper().args(["--backend=file", "store"]),
        cred("memo.example", "u", "ghp_in_file").as_bytes(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let bus = BareBus::start(&world.root);
    let address = bus.address.clone();
    let get = |args: &[&str]| {
        let start = Instant::now();
        let out = common::run(
            world
                .helper()
                .env("DBUS_SESSION_BUS_ADDRESS", &address)
                .env("XDG_RUNTIME_DIR", &runtime)
                .args(args),
            b"protocol=https\nhost=memo.example\n",
        );
        (
            out.status.code(),
            text(&out.stdout),
            text(&out.stderr),
            start.elapsed(),
        )
    };
    let answer = (
        Some(0),
        "username=u\npassword=ghp_in_file\n".to_owned(),
        String::new(),
    );
    let (code, out, err, _) = get(&["get"]);
    assert_eq!((code, out, err), answer.clone());
    let memos: Vec<_> = std::fs::read_dir(runtime.join("git-credential-pat"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(memos.len(), 1, "{memos:?}");
    let memo = &memos[0];
    assert_eq!(
        std::fs::read_to_string(memo).unwrap(),
        format!("{address}\n")
    );
    assert_eq!(common::mode(memo), 0o600);
    assert_eq!(common::mode(&runtime.join("git-credential-pat")), 0o700);
    // The bus now hangs: only a helper that asks it waits.
    bus.stop();
    let _hung = HungBus::start(&world.root);
    let (code, out, err, took) = get(&["get"]);
    assert_eq!((code, out, err), answer.clone());
    assert!(took < Duration::from_secs(1), "the bus was asked: {took:?}");
    // A command that asks for the keychain itself always asks the bus.
    let (code, _, err, took) = get(&["--backend=keychain", "get"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("did not answer within 2 s"), "{err}");
    assert!(took >= Duration::from_secs(2), "{took:?}");
    // A minute later the memo has expired: auto asks the bus again (and waits for it).
    let past = std::time::SystemTime::now() - Duration::from_secs(61);
    std::fs::File::options()
        .write(true)
        .open(memo)
        .unwrap()
        .set_modified(past)
        .unwrap();
    let (code, out, err, took) = get(&["get"]);
    assert_eq!((code, out, err), answer);
    assert!(
        took >= Duration::from_secs(2),
        "the memo was still used: {took:?}"
    );
}

/// A stand-in for gnome-keyring's race with a new client (the first call of a connection is
/// dispatched before the daemon has registered its sender, and is answered `UnknownMethod`):
/// it owns `org.freedesktop.secrets` on a bus of its own and answers the first `SearchItems`
/// so, every later one with no items. The real daemon shows the race only under load, so a
/// stand-in is what makes it happen on every run.
struct RacyService {
    searches: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    _conn: zbus::Connection,
}

impl RacyService {
    fn start(address: &str, declined: usize) -> RacyService {
        use std::sync::atomic::Ordering;
        let conn = async_io::block_on(async {
            zbus::connection::Builder::address(address)?
                .name("org.freedesktop.secrets")?
                .build()
                .await
        })
        .expect("the stand-in service connects to the bus");
        let searches = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (count, serve) = (searches.clone(), conn.clone());
        std::thread::spawn(move || {
            let mut stream = zbus::MessageStream::from(&serve);
            async_io::block_on(async {
                loop {
                    let next = std::future::poll_fn(|cx| {
                        zbus::export::futures_core::Stream::poll_next(
                            std::pin::Pin::new(&mut stream),
                            cx,
                        )
                    });
                    let Some(Ok(msg)) = next.await else { return };
                    let header = msg.header();
                    if header.message_type() != zbus::message::Type::MethodCall {
                        continue;
                    }
                    let member = header.member().map(|m| m.to_string()).unwrap_or_default();
                    let n = count.fetch_add(usize::from(member == "SearchItems"), Ordering::SeqCst);
                    if member == "SearchItems" && n >= declined {
                        let none: Vec<zbus::zvariant::OwnedObjectPath> = Vec::new();
                        let _ = serve.reply(&header, &(none.clone(), none)).await;
                    } else {
                        let _ = serve
                            .reply_error(
                                &header,
                                "org.freedesktop.DBus.Error.UnknownMethod",
                                &"Method is not implemented",
                            )
                            .await;
                    }
                }
            });
        });
        RacyService {
            searches,
            _conn: conn,
        }
    }

    fn searches(&self) -> usize {
        self.searches.load(std::sync::atomic::Ordering::SeqCst)
    }
}

#[test]
fn a_first_call_the_service_declines_is_sent_again_within_a_bound() {
    let world = World::new("racy");
    // A get on `bus`, served by `service`: exit code, stdout, stderr, and how many searches
    // the service answered meanwhile.
    let get = |bus: &BareBus, service: &RacyService| {
        let before = service.searches();
        let out = common::run(
            world
                .helper()
                .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
                .args(["--backend=keychain", "get"]),
            b"protocol=https\nhost=racy.example\n",
        );
        (
            out.status.code(),
            text(&out.stdout),
            text(&out.stderr),
            service.searches() - before,
        )
    };
    // Declined once: answered on the second try, nothing said.
    let bus = BareBus::start(&world.root);
    let once = RacyService::start(&bus.address, 1);
    let (code, out, err, searches) = get(&bus, &once);
    assert_eq!((code, out.as_str(), err.as_str()), (Some(0), "", ""));
    assert_eq!(searches, 2);
    drop(once);
    // Declined every time (on a bus of its own: the first service keeps its name): the
    // retries stop after four, and the error says what happened.
    let bus = BareBus::start(&world.root.join("again"));
    let always = RacyService::start(&bus.address, usize::MAX);
    let (code, out, err, searches) = get(&bus, &always);
    assert_eq!((code, out.as_str()), (Some(1), ""), "{err}");
    assert_eq!(searches, 5);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("refused the operation (searching: org.freedesktop.DBus.Error.UnknownMethod)"),
        "{err}"
    );
}
