//! The memory backend against the real kernel keyring, through the built helper with
//! `--backend=memory`. Nothing is mocked: keys land in the user keyring of the uid running
//! the tests (root in CI), which every test shares, so each test uses hosts under a tag of
//! its own, looks only at keys whose description holds that tag, and unlinks them when it
//! ends (also when it fails). Its guard then fails the test if any key with its tag is left
//! for any uid it used, so no test leaves keys behind, whatever order the tests run in. The
//! quota test runs the helper as an otherwise unused uid, so filling its quota never touches
//! the uid running the tests. `keyctl` (keyutils) inspects the keyring from outside;
//! `setpriv` and `runuser` (util-linux) change uid or open a login session.
#![cfg(target_os = "linux")]

#[path = "common/mod.rs"]
mod common;

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{BIN, World, text};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A tag unique to one test of one run, carried by every host the test stores.
fn unique_tag(name: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    format!("{name}-{}-{n}.memtest", std::process::id())
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Runs `keyctl` with `args`; fails the test if keyutils is missing.
fn keyctl(args: &[&str]) -> Output {
    Command::new("keyctl")
        .args(args)
        .output()
        .expect("keyctl is needed to inspect the kernel keyring: install keyutils")
}

/// Runs `keyctl` with `args`, which must succeed; its trimmed stdout.
fn keyctl_ok(args: &[&str]) -> String {
    let out = keyctl(args);
    assert!(
        out.status.success(),
        "keyctl {args:?}: {}",
        text(&out.stderr)
    );
    text(&out.stdout).trim().to_string()
}

/// Fails the test unless it runs as root (to change uid, or read another uid's keys).
fn require_root() {
    assert_eq!(
        euid(),
        0,
        "this test needs root (to run the helper as another uid with setpriv): run it as root, as CI does"
    );
}

/// The uid running the tests, which owns the keys the helper makes.
fn euid() -> u32 {
    // SAFETY: geteuid(2) takes no arguments, cannot fail and touches no memory of ours.
    #[expect(unsafe_code)]
    unsafe {
        libc::geteuid()
    }
}

/// The gid running the tests, which owns the keys too.
fn egid() -> u32 {
    // SAFETY: getegid(2) takes no arguments, cannot fail and touches no memory of ours.
    #[expect(unsafe_code)]
    unsafe {
        libc::getegid()
    }
}

/// One of our keys as `/proc/keys` and `keyctl rdescribe` show it.
#[derive(Debug, Clone)]
struct KeyInfo {
    id: i32,
    /// The remaining time column of `/proc/keys`: `perm`, `14m`, `expd`, ...
    timeout: String,
    /// Permissions, hex as in `/proc/keys`.
    perm: String,
    uid: u32,
    ktype: String,
    description: String,
}

/// Every key in `/proc/keys` (as this process sees it) whose description holds `tag`.
/// Keys removed a moment ago (invalidated, revoked or dead, waiting for the kernel's
/// garbage collector) are left out; expired ones are kept.
fn keys_tagged(tag: &str) -> Vec<KeyInfo> {
    let all = std::fs::read_to_string("/proc/keys").expect("/proc/keys");
    all.lines()
        .filter(|l| l.contains(tag))
        .filter(|l| {
            let flags = l.split_whitespace().nth(1).unwrap_or("");
            !flags.contains(['i', 'R', 'D'])
        })
        .filter_map(parse_proc_key)
        .collect()
}

/// One line of `/proc/keys`: `ID FLAGS USAGE TIMEOUT PERM UID GID TYPE DESCRIPTION[: LEN]`.
fn parse_proc_key(line: &str) -> Option<KeyInfo> {
    let mut rest = line;
    let mut fields = Vec::new();
    for _ in 0..8 {
        rest = rest.trim_start();
        let end = rest.find(char::is_whitespace)?;
        fields.push(&rest[..end]);
        rest = &rest[end..];
    }
    let description = rest.trim_start();
    let description = description
        .rsplit_once(": ")
        .map_or(description, |(d, _)| d);
    Some(KeyInfo {
        id: i32::from_str_radix(fields[0], 16).ok()?,
        timeout: fields[3].to_string(),
        perm: fields[4].to_string(),
        uid: fields[5].parse().ok()?,
        ktype: fields[7].to_string(),
        description: description.to_string(),
    })
}

/// Unlinks from the user keyring of `uid` (`None`: the test's own) every key whose
/// description holds `tag`: only keys a test made.
fn unlink_tagged(tag: &str, uid: Option<u32>) {
    let script = r#"grep -F -- "$1" /proc/keys | while read -r id rest; do keyctl unlink "$((0x$id))" @u >/dev/null 2>&1; done; true"#;
    let mut cmd = match uid {
        Some(uid) => {
            let mut c = Command::new("setpriv");
            c.args(as_uid(uid)).arg("sh");
            c
        }
        None => Command::new("sh"),
    };
    let _ = cmd.args(["-c", script, "sh", tag]).output();
}

/// setpriv's arguments to run as `uid` (its own group, no supplementary groups).
fn as_uid(uid: u32) -> Vec<String> {
    vec![
        format!("--reuid={uid}"),
        format!("--regid={uid}"),
        "--clear-groups".into(),
        "--".into(),
    ]
}

/// `/proc/keys` as `uid` sees it: a process sees only the keys it may view, and root is no
/// exception, so another uid's keys (owner-only permissions) show only to that uid.
fn proc_keys_as(uid: u32) -> Result<String, String> {
    if uid == euid() {
        return std::fs::read_to_string("/proc/keys").map_err(|e| format!("/proc/keys: {e}"));
    }
    let out = Command::new("setpriv")
        .args(as_uid(uid))
        .args(["cat", "/proc/keys"])
        .output()
        .map_err(|e| format!("setpriv (util-linux) is needed to read uid {uid}'s keys: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "reading /proc/keys as uid {uid}: {}",
            text(&out.stderr)
        ));
    }
    Ok(text(&out.stdout))
}

/// The keys a test made, found by their tag in the user keyring of every uid the test used
/// (the uid running the tests, and any it added). When the guard drops, at the end of the
/// test or while a failing test unwinds, it unlinks them all, then checks `/proc/keys` as each
/// of those uids: a key with the tag still there (in any keyring, in any state, once the
/// kernel has had a moment to collect unlinked keys) fails a test that passed otherwise, and
/// is reported by one that is failing anyway.
struct KeyGuard {
    tag: String,
    uids: RefCell<Vec<u32>>,
}

impl KeyGuard {
    fn new(tag: &str, uids: &[u32]) -> KeyGuard {
        KeyGuard {
            tag: tag.to_string(),
            uids: RefCell::new(uids.to_vec()),
        }
    }

    /// Also cleans and checks `uid`'s user keyring.
    fn add_uid(&self, uid: u32) {
        let mut uids = self.uids.borrow_mut();
        if !uids.contains(&uid) {
            uids.push(uid);
        }
    }

    /// The lines of `/proc/keys`, as `uid` sees it, that hold the tag.
    fn left(&self, uid: u32) -> Result<Vec<String>, String> {
        Ok(proc_keys_as(uid)?
            .lines()
            .filter(|l| l.contains(&self.tag))
            .map(str::to_string)
            .collect())
    }
}

impl Drop for KeyGuard {
    fn drop(&mut self) {
        let mut left = Vec::new();
        for &uid in self.uids.borrow().iter() {
            let own = uid == euid();
            // An unlinked key leaves /proc/keys when the kernel's garbage collector has run,
            // usually within milliseconds.
            let deadline = Instant::now() + Duration::from_secs(15);
            loop {
                unlink_tagged(&self.tag, (!own).then_some(uid));
                let lines = match self.left(uid) {
                    Ok(lines) if lines.is_empty() => break,
                    Ok(lines) => lines,
                    Err(e) => {
                        left.push(e);
                        break;
                    }
                };
                if Instant::now() > deadline {
                    left.push(format!("uid {uid}:\n{}", lines.join("\n")));
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        if left.is_empty() {
            return;
        }
        let msg = format!(
            "keys tagged {} are left in the kernel keyring:\n{}",
            self.tag,
            left.join("\n")
        );
        if std::thread::panicking() {
            // A second panic while unwinding would abort the whole test binary.
            #[expect(clippy::print_stderr, reason = "a failing test reports its leftovers")]
            {
                eprintln!("{msg}");
            }
        } else {
            panic!("{msg}");
        }
    }
}

/// A test's world: isolated HOME and config, hosts under a tag of its own, its keys unlinked
/// (and checked gone) when it ends.
struct Mem {
    world: World,
    tag: String,
    keys_guard: KeyGuard,
}

impl Mem {
    fn new(name: &str) -> Mem {
        let tag = unique_tag(name);
        Mem {
            world: World::new(name),
            keys_guard: KeyGuard::new(&tag, &[euid()]),
            tag,
        }
    }

    /// Makes the guard clean and check `uid`'s user keyring too.
    fn uses_uid(&self, uid: u32) {
        self.keys_guard.add_uid(uid);
    }

    /// A host of this test: `label.tag`.
    fn host(&self, label: &str) -> String {
        format!("{label}.{}", self.tag)
    }

    /// Runs the helper with `--backend=memory` and `args`: (exit code, stdout, stderr).
    fn run(&self, args: &[&str], input: &str) -> (i32, String, String) {
        let out = common::run(
            self.world.helper().arg("--backend=memory").args(args),
            input.as_bytes(),
        );
        (
            out.status.code().unwrap_or(-1),
            text(&out.stdout),
            text(&out.stderr),
        )
    }

    /// Runs an action that must succeed silently; returns stdout.
    fn ok(&self, args: &[&str], input: &str) -> String {
        let (code, out, err) = self.run(args, input);
        assert_eq!(
            (code, err.as_str()),
            (0, ""),
            "{args:?} failed for:\n{input}"
        );
        out
    }

    fn store(&self, args: &[&str], input: &str) {
        let mut all = args.to_vec();
        all.push("store");
        assert_eq!(self.ok(&all, input), "", "store prints nothing");
    }

    fn get(&self, host: &str) -> String {
        self.ok(&["get"], &format!("protocol=https\nhost={host}\n"))
    }

    /// Our keys (those of this test).
    fn keys(&self) -> Vec<KeyInfo> {
        keys_tagged(&self.tag)
    }

    /// The key that holds `description` (without our prefix), which must exist once.
    fn key(&self, description: &str) -> KeyInfo {
        let full = format!("git-credential-pat:{description}");
        let found: Vec<KeyInfo> = self
            .keys()
            .into_iter()
            .filter(|k| k.description == full)
            .collect();
        assert_eq!(
            found.len(),
            1,
            "one key '{full}' expected: {:?}",
            self.keys()
        );
        found[0].clone()
    }

    /// Plants a key by hand, as the helper would make it: `description` (without our
    /// prefix), `payload`, owner-only permissions. Returns its ID.
    fn plant(&self, description: &str, payload: &str) -> String {
        let id = keyctl_ok(&[
            "add",
            "user",
            &format!("git-credential-pat:{description}"),
            payload,
            "@u",
        ]);
        keyctl_ok(&["setperm", &id, "0x3f0000"]);
        id
    }

    /// A command line for sh that runs the helper with `--backend=memory` and `args` in this
    /// world (as [`World::command`] sets it up), for a shell in another session.
    fn helper_line(&self, args: &[&str]) -> String {
        let home = |sub: &str| self.world.home.join(sub).to_string_lossy().into_owned();
        let path = std::env::var("PATH").unwrap_or_default();
        let env = [
            ("PATH", path),
            ("HOME", home("")),
            ("XDG_DATA_HOME", home(".local/share")),
            ("XDG_CONFIG_HOME", home(".config")),
            ("XDG_STATE_HOME", home(".local/state")),
            ("XDG_CACHE_HOME", home(".cache")),
            ("GIT_CONFIG_NOSYSTEM", "1".into()),
            ("GIT_CONFIG_GLOBAL", home(".gitconfig")),
            ("GIT_TERMINAL_PROMPT", "0".into()),
            ("LC_ALL", "C".into()),
        ];
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        helper_line(&self.world.root, &env, Path::new(BIN), args)
    }
}

fn cred(host: &str, user: &str, token: &str) -> String {
    format!("protocol=https\nhost={host}\nusername={user}\npassword={token}\n")
}

#[test]
fn store_get_erase_round_trip_through_the_user_keyring() {
    let m = Mem::new("roundtrip");
    let host = m.host("a");
    m.store(&[], &cred(&host.to_uppercase(), "octocat", "ghp_one"));
    assert_eq!(m.get(&host), "username=octocat\npassword=ghp_one\n");
    assert_eq!(
        m.get(&format!("{host}:443")),
        "",
        "the port is part of the key"
    );
    assert_eq!(m.ok(&["get"], &format!("protocol=http\nhost={host}\n")), "");
    // One `user` key, owner-only permissions, found by its description with keyctl search.
    let key = m.key(&format!("https://{host} / @octocat"));
    assert_eq!(
        (key.ktype.as_str(), key.perm.as_str(), key.uid),
        ("user", "003f0000", euid())
    );
    let desc = format!("git-credential-pat:https://{host} / @octocat");
    assert_eq!(
        keyctl_ok(&["search", "@u", "user", &desc]),
        key.id.to_string()
    );
    assert_eq!(
        keyctl_ok(&["rdescribe", &key.id.to_string()]),
        format!("user;{};{};003f0000;{desc}", euid(), egid())
    );
    // The payload is the credential's line of the file format, without its LF.
    let payload = keyctl_ok(&["print", &key.id.to_string()]);
    assert!(
        payload.starts_with(&format!("https://{host} / @octocat stored="))
            && payload.ends_with(" password=ghp_one")
            && payload.contains(" ttl_expires="),
        "{payload}"
    );
    // erase removes the key from the keyring.
    m.store(&[], &cred(&host, "hubot", "ghp_two"));
    assert_eq!(m.keys().len(), 2);
    m.ok(
        &["erase"],
        &format!("protocol=https\nhost={host}\nusername=octocat\n"),
    );
    assert_eq!(m.get(&host), "username=hubot\npassword=ghp_two\n");
    assert_eq!(m.keys().len(), 1);
    m.ok(&["erase"], &format!("protocol=https\nhost={host}\n"));
    assert_eq!(m.get(&host), "");
    assert!(m.keys().is_empty(), "{:?}", m.keys());
    assert!(
        !m.world.default_file().exists(),
        "the memory backend never creates the credentials file"
    );
}

#[test]
fn keys_live_in_the_user_keyring_for_every_session_of_the_uid_and_no_other_uid() {
    require_root();
    let m = Mem::new("sessions");
    let host = m.host("s");
    // Stored from a fresh session keyring, which then holds no link to the key.
    let script = format!(
        r#"printf 'protocol=https\nhost={host}\nusername=u\npassword=ghp_sess\n' | "$0" --backend=memory store && keyctl rlist @s; echo; keyctl rlist @u"#
    );
    let out = common::run(
        m.world
            .command("keyctl")
            .args(["session", "-", "sh", "-c", &script, BIN]),
        b"",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let key = m.key(&format!("https://{host} / @u"));
    let listed = text(&out.stdout);
    let (session, user) = listed.split_once('\n').unwrap();
    let id = key.id.to_string();
    assert!(
        !session.split_whitespace().any(|k| k == id),
        "the key is linked into the session keyring: {session}"
    );
    assert!(
        user.split_whitespace().any(|k| k == id),
        "the key is not in @u: {user}"
    );
    // Another fresh session of the same uid reads it: permissions for the owner, not only
    // for a possessor.
    let out = common::run(
        m.world
            .command("keyctl")
            .args(["session", "-", BIN, "--backend=memory", "get"]),
        format!("protocol=https\nhost={host}\n").as_bytes(),
    );
    // keyctl itself says which session it joined; the helper says nothing.
    let err = text(&out.stderr);
    let helper_err: Vec<&str> = err
        .lines()
        .filter(|l| !l.starts_with("Joined session keyring"))
        .collect();
    assert_eq!(
        (text(&out.stdout).as_str(), helper_err),
        ("username=u\npassword=ghp_sess\n", vec![])
    );
    // A process that changed uid but kept this session keyring cannot read it.
    let mut args = as_uid(64_999);
    args.extend(["keyctl".into(), "print".into(), id.clone()]);
    let out = Command::new("setpriv").args(&args).output().unwrap();
    assert!(!out.status.success(), "another uid read the key");
    assert!(
        text(&out.stderr).contains("Permission denied"),
        "{}",
        text(&out.stderr)
    );
    assert!(!text(&out.stdout).contains("ghp_sess"));
}

#[test]
fn the_kernel_forgets_a_key_when_its_ttl_runs_out_and_each_store_restarts_it() {
    let m = Mem::new("ttl");
    let (short, long) = (m.host("short"), m.host("long"));
    let start = Instant::now();
    // The kernel counts whole seconds: a key with a TTL of N s lives between N-1 and N s.
    m.store(&["--ttl=2"], &cred(&short, "u", "ghp_short"));
    m.store(&["--ttl=4"], &cred(&long, "u", "ghp_long"));
    let timed = m.key(&format!("https://{short} / @u"));
    assert_ne!(timed.timeout, "perm", "a kernel timeout is set");
    std::thread::sleep(Duration::from_millis(2500).saturating_sub(start.elapsed()));
    // git's store after a successful fetch: the same token again re-arms the timeout.
    let before = m.key(&format!("https://{long} / @u"));
    m.store(&["--ttl=4"], &cred(&long, "u", "ghp_long"));
    let after = m.key(&format!("https://{long} / @u"));
    assert_eq!(after.id, before.id, "the key is updated in place");
    // 4.6 s after the start: the short key is gone, the long one would be without the
    // restart (stored 4 s after the start at the latest), and lives on.
    std::thread::sleep(Duration::from_millis(4600).saturating_sub(start.elapsed()));
    let (code, out, err) = m.run(&["get"], &format!("protocol=https\nhost={short}\n"));
    assert_eq!(
        (code, out.as_str(), err.as_str()),
        (0, "", ""),
        "a TTL lapse is silent, as git-credential-cache's"
    );
    let gone = keyctl(&["print", &timed.id.to_string()]);
    assert!(!gone.status.success(), "the kernel still holds the key");
    assert_eq!(m.get(&long), "username=u\npassword=ghp_long\n");
    assert!(
        start.elapsed() < Duration::from_millis(5400),
        "too slow to tell"
    );
}

#[test]
fn the_ttl_is_900_s_by_default_and_0_keeps_a_key_until_reboot() {
    let m = Mem::new("ttldefault");
    let (a, b) = (m.host("default"), m.host("forever"));
    m.store(&[], &cred(&a, "u", "ghp_a"));
    m.store(&["--ttl=0"], &cred(&b, "u", "ghp_b"));
    let shown = m.key(&format!("https://{a} / @u")).timeout;
    assert!(shown == "15m" || shown == "14m", "{shown}");
    assert_eq!(m.key(&format!("https://{b} / @u")).timeout, "perm");
    // list shows the TTL deadline as the expiry; a key without one never expires.
    let json = m.ok(&["list", "--json"], "");
    let row = |host: &str| {
        json.lines()
            .find(|l| l.contains(&format!("\"host\": \"{host}\"")))
            .unwrap_or_else(|| panic!("{host} not listed: {json}"))
            .to_string()
    };
    let field = |row: &str, name: &str| -> String {
        let at = row.find(&format!("\"{name}\": ")).unwrap() + name.len() + 4;
        row[at..].split([',', '}']).next().unwrap().to_string()
    };
    let (ra, rb) = (row(&a), row(&b));
    assert!(ra.contains("\"backend\": \"memory\""), "{ra}");
    let stored: u64 = field(&ra, "stored_utc").parse().unwrap();
    assert_eq!(
        field(&ra, "expires_utc"),
        (stored + 900).to_string(),
        "{ra}"
    );
    assert_eq!(field(&rb, "expires_utc"), "null", "{rb}");
}

#[test]
fn a_token_past_its_own_expiry_is_evicted_and_a_refresh_token_kept() {
    let m = Mem::new("expiry");
    let (gone, renew) = (m.host("gone"), m.host("renew"));
    // A token that expires in the past is never stored.
    m.store(
        &[],
        &format!(
            "{}password_expiry_utc={}\n",
            cred(&gone, "u", "ghp_late"),
            now() - 10
        ),
    );
    assert!(m.keys().is_empty());
    // Keys as the helper writes them, whose token expired since (no kernel timeout).
    let past = now() - 60;
    m.plant(
        &format!("https://{gone} / @u"),
        &format!("https://{gone} / @u stored=1.000000000 expires={past} password=ghp_expired"),
    );
    m.plant(
        &format!("https://{renew} / @u"),
        &format!(
            "https://{renew} / @u stored=1.000000000 expires={past} password=ghp_old oauth_refresh_token=rt_keep"
        ),
    );
    let (code, out, err) = m.run(&["get"], &format!("protocol=https\nhost={gone}\n"));
    assert_eq!((code, out.as_str()), (0, ""), "never handed out: {err}");
    assert!(
        err.starts_with(&format!(
            "git-credential-pat: the token for https://u@{gone} expired on "
        )) && err
            .trim_end()
            .ends_with("was removed from the memory store; git will ask for a new one")
            && err.lines().count() == 1,
        "{err}"
    );
    assert!(m.keys().iter().all(|k| !k.description.contains(&gone)));
    assert_eq!(m.get(&renew), "username=u\noauth_refresh_token=rt_keep\n");
    assert_eq!(m.keys().len(), 1, "the refreshable one stays");
}

#[test]
fn people_commands_work_on_the_memory_backend() {
    common::require_git(2, 46);
    let m = Mem::new("people");
    m.world.use_pat("--backend=memory");
    let (a, old) = (m.host("a"), m.host("old"));
    // No --backend: it comes from the credential.helper entry, as git's calls see it.
    let pat = |args: &[&str], input: &str| {
        let out = common::run(m.world.helper().args(args), input.as_bytes());
        (
            out.status.code().unwrap_or(-1),
            text(&out.stdout),
            text(&out.stderr),
        )
    };
    let (code, out, err) = pat(&["add", &format!("https://octo@{a}")], "ghp_people_mem\n");
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with(&format!(
            "Stored the token for https://octo@{a} in the memory store (expires "
        )),
        "{out}"
    );
    let fill = common::run(
        m.world.git().args(["credential", "fill"]),
        format!("protocol=https\nhost={a}\n").as_bytes(),
    );
    assert!(
        text(&fill.stdout).ends_with("username=octo\npassword=ghp_people_mem\n"),
        "{}",
        text(&fill.stderr)
    );
    let (_, table, _) = pat(&["list"], "");
    let line = table
        .lines()
        .find(|l| l.contains(&a))
        .unwrap_or_else(|| panic!("{table}"));
    assert!(
        line.contains(" octo ") && line.contains(" memory "),
        "{line}"
    );
    assert!(!table.contains("ghp_"));
    // prune: an expired key, planted directly, is evicted and listed.
    m.plant(
        &format!("https://{old} / @u"),
        &format!("https://{old} / @u stored=1.000000000 expires=1000 password=ghp_pruned"),
    );
    let (code, out, _) = pat(&["doctor"], "");
    assert_eq!(code, 1, "an expired token is a problem: {out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("ok      the memory store is readable and private (")),
        "{out}"
    );
    let quota = format!("the kernel's key quota for uid {} has ", euid());
    assert!(
        out.lines()
            .any(|l| (l.starts_with("ok") || l.starts_with("note")) && l.contains(&quota)),
        "{out}"
    );
    assert!(out.contains(&format!("https://u@{old}")), "{out}");
    let (code, out, err) = pat(&["prune"], "");
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(&format!(
            "removed https://u@{old} (memory, expired 1970-01-01"
        )) && out.ends_with("1 expired credential removed\n"),
        "{out}"
    );
    assert_eq!(m.keys().len(), 1);
    // remove: exactly that URL.
    let (code, out, err) = pat(&["remove", &format!("https://{a}")], "");
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        format!("removed https://octo@{a} (memory)\n1 credential removed\n")
    );
    assert!(m.keys().is_empty());
    let (code, _, err) = pat(&["remove", &format!("https://{a}")], "");
    assert_eq!(code, 1, "{err}");
}

#[test]
fn git_fill_approve_reject_go_through_the_memory_backend() {
    common::require_git(2, 46);
    let m = Mem::new("git");
    m.world.use_pat("--backend=memory");
    let host = m.host("g");
    let input = format!("protocol=https\nhost={host}\nusername=u\npassword=ghp_git\n");
    let out = m.world.run_git(&["credential", "approve"], &input);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let fill = m.world.run_git(
        &["credential", "fill"],
        &format!("protocol=https\nhost={host}\n"),
    );
    assert!(
        text(&fill.stdout).ends_with("username=u\npassword=ghp_git\n"),
        "{}",
        text(&fill.stderr)
    );
    let out = m.world.run_git(&["credential", "reject"], &input);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(m.keys().is_empty(), "{:?}", m.keys());
}

#[test]
fn a_credential_too_large_for_one_key_is_refused_in_one_line() {
    let m = Mem::new("large");
    let host = m.host("big");
    let token = format!("ghp_{}", "x".repeat(40_000));
    let (code, out, err) = m.run(&["store"], &cred(&host, "u", &token));
    assert_eq!((code, out.as_str()), (1, ""), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("at most 32,767 bytes") && err.contains("--backend=file"),
        "{err}"
    );
    assert!(!err.contains("ghp_xxx"), "no token in the message");
    assert!(m.keys().is_empty());
    assert_eq!(m.get(&host), "");
}

#[test]
fn concurrent_stores_lose_nothing() {
    let m = Mem::new("concurrent");
    let host = m.host("c");
    let children: Vec<_> = (0..16)
        .map(|i| {
            let mut child = m
                .world
                .helper()
                .args(["--backend=memory", "store"])
                .stdin(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            use std::io::Write;
            let input = format!(
                "protocol=https\nhost={host}\npath=org/repo{i}\nusername=u\npassword=ghp_{i}\n"
            );
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
            child
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    assert_eq!(m.keys().len(), 16);
    for i in 0..16 {
        let got = m.ok(
            &["get"],
            &format!("protocol=https\nhost={host}\npath=org/repo{i}\n"),
        );
        assert_eq!(got, format!("username=u\npassword=ghp_{i}\n"));
    }
}

#[test]
fn a_corrupt_key_is_named_never_shown_and_nothing_changes() {
    let m = Mem::new("corrupt");
    let host = m.host("bad");
    m.store(&[], &cred(&host, "v", "ghp_fine"));
    let id = m.plant(
        &format!("https://{host} / @u"),
        "https://h / @u password=ghp_secret_in_bad_key",
    );
    for (action, input) in [
        ("get", format!("protocol=https\nhost={host}\n")),
        ("store", cred(&host, "w", "ghp_new")),
        ("erase", format!("protocol=https\nhost={host}\n")),
    ] {
        let (code, out, err) = m.run(&[action], &input);
        assert_eq!((code, out.as_str()), (1, ""), "{action}: {err}");
        assert_eq!(
            err,
            format!(
                "git-credential-pat: kernel key {id} 'https://{host} / @u' in your user keyring is corrupt (no stored= attribute); nothing was changed: remove it with 'keyctl unlink {id} @u', then store the token again\n"
            ),
            "{action}"
        );
    }
    assert_eq!(m.keys().len(), 2, "nothing was changed");
}

#[test]
fn keys_that_are_not_ours_are_never_read_or_touched() {
    let m = Mem::new("foreign");
    let host = m.host("f");
    // A key of another program whose description merely mentions the host, and one of a
    // different type: neither is read, listed, pruned or erased.
    let other = keyctl_ok(&[
        "add",
        "user",
        &format!("another-program:https://{host} / @u"),
        "their secret",
        "@u",
    ]);
    m.store(&[], &cred(&host, "u", "ghp_ours"));
    m.ok(&["prune"], "");
    m.ok(&["erase"], &format!("protocol=https\nhost={host}\n"));
    let list = m.run(&["list", "--json"], "").1;
    assert!(!list.contains("another-program"), "{list}");
    assert_eq!(keyctl_ok(&["print", &other]), "their secret");
    assert_eq!(m.keys().len(), 1, "{:?}", m.keys());
}

#[test]
fn auto_never_uses_the_kernel_keyring() {
    let m = Mem::new("auto");
    let host = m.host("auto");
    let out = common::run(
        m.world.helper().arg("store"),
        cred(&host, "u", "ghp_auto").as_bytes(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        m.world.default_file().exists(),
        "auto without a keychain uses the file"
    );
    assert!(m.keys().is_empty(), "{:?}", m.keys());
}

/// Installs, in the child before it runs the helper, a seccomp filter that makes `keyctl`
/// and `add_key` fail with `errno`, as container runtimes' default profiles do.
fn refusing_keyctl(cmd: &mut Command, errno: i32) {
    use std::os::unix::process::CommandExt;
    let stmt = |code: u32, k: u32| libc::sock_filter {
        code: code as u16,
        jt: 0,
        jf: 0,
        k,
    };
    let jeq = |k: i64, jt: u8| libc::sock_filter {
        code: (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16,
        jt,
        jf: 0,
        k: k as u32,
    };
    let filter = [
        // The system call number (offset 0 of struct seccomp_data).
        stmt(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, 0),
        jeq(libc::SYS_keyctl, 2),
        jeq(libc::SYS_add_key, 1),
        stmt(libc::BPF_RET | libc::BPF_K, libc::SECCOMP_RET_ALLOW),
        stmt(
            libc::BPF_RET | libc::BPF_K,
            libc::SECCOMP_RET_ERRNO | errno as u32,
        ),
    ];
    let hook = move || {
        let prog = libc::sock_fprog {
            len: filter.len() as u16,
            filter: filter.as_ptr().cast_mut(),
        };
        // SAFETY: prctl(2) with integer arguments, and PR_SET_SECCOMP reading `prog` and the
        // filter it points to, both alive for the call; only system calls, which are
        // async-signal-safe, run between fork and exec.
        #[expect(unsafe_code)]
        let ok = unsafe {
            libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0
                && libc::prctl(
                    libc::PR_SET_SECCOMP,
                    libc::SECCOMP_MODE_FILTER,
                    &prog as *const libc::sock_fprog,
                ) == 0
        };
        if ok {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error())
        }
    };
    // SAFETY: the hook only makes system calls (see above) and touches no lock or allocator.
    #[expect(unsafe_code)]
    unsafe {
        cmd.pre_exec(hook);
    }
}

#[test]
fn a_kernel_that_refuses_keyctl_fails_in_one_line_naming_the_file_backend() {
    let m = Mem::new("seccomp");
    let host = m.host("s");
    for errno in [libc::EPERM, libc::ENOSYS] {
        for (action, input) in [
            ("get", format!("protocol=https\nhost={host}\n")),
            ("store", cred(&host, "u", "ghp_refused")),
        ] {
            let mut cmd = m.world.helper();
            cmd.args(["--backend=memory", action]);
            refusing_keyctl(&mut cmd, errno);
            let out = common::run(&mut cmd, input.as_bytes());
            let err = text(&out.stderr);
            assert_eq!(
                out.status.code(),
                Some(1),
                "{action} with errno {errno}: {err}"
            );
            assert_eq!(err.lines().count(), 1, "{err}");
            assert!(
                err.starts_with(
                    "git-credential-pat: the kernel refuses its key retention service here"
                ) && err.trim_end().ends_with("use --backend=file"),
                "{err}"
            );
            assert!(!err.contains("ghp_refused"));
        }
    }
    assert!(m.keys().is_empty());
}

/// A directory that `uid` can use: the helper binary copied in (the build directory may be
/// closed to other users), and a HOME of its own. Removed on drop.
struct Sandbox {
    dir: PathBuf,
    bin: PathBuf,
    home: PathBuf,
}

impl Sandbox {
    fn new(name: &str, uid: u32) -> Sandbox {
        use std::os::unix::fs::{PermissionsExt, chown};
        let dir = std::env::temp_dir().join(format!("gcp-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let bin = dir.join("git-credential-pat");
        std::fs::copy(BIN, &bin).unwrap();
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
        let home = dir.join("home");
        std::fs::create_dir(&home).unwrap();
        std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700)).unwrap();
        chown(&home, Some(uid), Some(uid)).unwrap();
        Sandbox { dir, bin, home }
    }

    /// The helper as `uid`, with `--backend=memory` and `args`: (exit code, stdout, stderr).
    fn run(&self, uid: u32, args: &[&str], input: &str) -> (i32, String, String) {
        let mut cmd = Command::new("setpriv");
        cmd.args(as_uid(uid))
            .arg(&self.bin)
            .arg("--backend=memory")
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("XDG_DATA_HOME", self.home.join("data"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("LC_ALL", "C")
            .current_dir(&self.home);
        let out = common::run(&mut cmd, input.as_bytes());
        (
            out.status.code().unwrap_or(-1),
            text(&out.stdout),
            text(&out.stderr),
        )
    }

    /// A command line for sh that runs the helper as [`Sandbox::run`] does, as whatever uid
    /// runs it.
    fn helper_line(&self, args: &[&str]) -> String {
        let env = [
            ("PATH", std::env::var("PATH").unwrap_or_default()),
            ("HOME", self.home.to_string_lossy().into_owned()),
            (
                "XDG_DATA_HOME",
                self.home.join("data").to_string_lossy().into_owned(),
            ),
            ("GIT_CONFIG_NOSYSTEM", "1".into()),
            ("LC_ALL", "C".into()),
        ];
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        helper_line(&self.home, &env, &self.bin, args)
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The use of `uid`'s key quota in bytes (0 when it has no keys at all).
fn quota_bytes(uid: u32) -> u64 {
    let users = std::fs::read_to_string("/proc/key-users").unwrap();
    users
        .lines()
        .find_map(|l| {
            let (who, rest) = l.split_once(':')?;
            (who.trim().parse::<u32>().ok()? == uid).then(|| {
                let f: Vec<&str> = rest.split_whitespace().collect();
                f[3].split_once('/').unwrap().0.parse().unwrap()
            })
        })
        .unwrap_or(0)
}

fn read_limit(path: &Path) -> u64 {
    std::fs::read_to_string(path)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// Restores `/proc/sys/kernel/keys/maxbytes` when dropped, if the test lowered it.
struct Limit {
    path: PathBuf,
    saved: Option<u64>,
}

impl Drop for Limit {
    fn drop(&mut self) {
        if let Some(v) = self.saved {
            let _ = std::fs::write(&self.path, v.to_string());
        }
    }
}

#[test]
fn a_full_quota_refuses_a_store_in_one_line_and_keeps_every_earlier_key() {
    require_root();
    // An unused uid: its quota is its own (the default 20,000 bytes for users), whatever
    // the uid running the tests holds, and nothing else of it is touched. The same one in
    // every run: the kernel registers each uid's keyrings, for 8 bytes of root's quota, until
    // reboot.
    let uid = (61_000..61_050)
        .find(|&u| quota_bytes(u) < 1_000)
        .expect("no unused uid between 61000 and 61050");
    let maxbytes = PathBuf::from("/proc/sys/kernel/keys/maxbytes");
    // A machine with a raised limit gets the default back for the length of this test.
    let mut limit = Limit {
        path: maxbytes.clone(),
        saved: None,
    };
    if read_limit(&maxbytes) > 200_000 {
        limit.saved = Some(read_limit(&maxbytes));
        std::fs::write(&maxbytes, "20000").unwrap();
    }
    let tag = unique_tag("quota");
    let _keys = KeyGuard::new(&tag, &[euid(), uid]);
    let sandbox = Sandbox::new("quota", uid);
    let token = |i: usize, len: usize| format!("ghp_{i}_{}", "q".repeat(len));
    let host = |i: usize| format!("q{i}.{tag}");
    let mut stored = Vec::new();
    let mut refusal = None;
    for i in 0..60 {
        let (code, out, err) = sandbox.run(uid, &["store"], &cred(&host(i), "u", &token(i, 3_000)));
        if code == 0 {
            assert_eq!((out.as_str(), err.as_str()), ("", ""));
            stored.push(i);
        } else {
            refusal = Some((code, err));
            break;
        }
    }
    let (code, err) = refusal.expect("60 stores of 3 kB never met the quota");
    assert!(
        stored.len() >= 3,
        "only {} stored before: {err}",
        stored.len()
    );
    assert_eq!(code, 1, "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!(
            "git-credential-pat: the kernel's key quota for uid {uid} is used up ("
        )) && err.contains("nothing stored earlier was lost")
            && err.contains("/proc/sys/kernel/keys/maxbytes"),
        "{err}"
    );
    assert!(!err.contains("qqqq"), "no token in the message");
    // A bigger token for a key already stored does not fit either, and the old one stays.
    let first = stored[0];
    let (code, _, err) = sandbox.run(
        uid,
        &["store"],
        &cred(&host(first), "u", &token(first, 12_000)),
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("quota"), "{err}");
    for &i in &stored {
        let (code, out, err) = sandbox.run(
            uid,
            &["get"],
            &format!("protocol=https\nhost={}\n", host(i)),
        );
        assert_eq!(
            (code, out, err),
            (
                0,
                format!("username=u\npassword={}\n", token(i, 3_000)),
                String::new()
            )
        );
    }
    drop(limit);
}

/// `s` as one word for sh.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// A command line for sh that runs `bin --backend=memory args` in `dir` with exactly `env`.
fn helper_line(dir: &Path, env: &[(&str, &str)], bin: &Path, args: &[&str]) -> String {
    let mut line = format!("cd {} && env -i", sh_quote(&dir.to_string_lossy()));
    for (name, value) in env {
        line.push_str(&format!(" {name}={}", sh_quote(value)));
    }
    line.push_str(&format!(
        " {} --backend=memory",
        sh_quote(&bin.to_string_lossy())
    ));
    for arg in args {
        line.push(' ');
        line.push_str(&sh_quote(arg));
    }
    line
}

/// A session keyring a process of the uid may run in. The user keyring `@u` is the same in
/// all of them; what differs is whether and how a process reaches it through `@s`.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Session {
    /// `keyctl session -`: a brand-new anonymous session keyring with nothing linked into it,
    /// as a process that starts a session of its own has (a service, a sandbox). Our keys are
    /// reachable only as the uid's own, through their owner permissions.
    Fresh,
    /// A session as a login sets it up, here through `runuser -l`, whose PAM stack runs
    /// `pam_keyinit.so force revoke` as those of login, `su -l` and sshd do on most
    /// distributions: the module joins a new session keyring `_ses`, links the uid's user
    /// keyring into it (so the process also possesses `@u`, and our keys through it), and
    /// revokes it when the session closes. The shell is a real login shell of the uid.
    Login,
    /// `keyctl session -`, then `keyctl revoke @s`: the session keyring of a process left
    /// running after its login closed (pam_keyinit's `revoke`). Every lookup through it fails
    /// with EKEYREVOKED.
    Revoked,
}

/// What a run of the helper inside a session saw and did.
#[derive(Debug)]
struct InSession {
    /// `keyctl rdescribe @s` (or its error) in the process that runs the helper.
    session: String,
    /// `keyctl id @s` (or its error).
    session_id: String,
    /// `keyctl rlist @s` (or its error) before and after the helper ran.
    links_before: String,
    links_after: String,
    /// `keyctl id @u`.
    user: String,
    code: i32,
    out: String,
    err: String,
}

impl Session {
    /// Opens a new session of this kind as the uid running the tests and runs `helper` (a
    /// command line for sh) in it, as `uid` when given (setpriv, which keeps the session
    /// keyring as su and sudo do), feeding it `input`. The probes are `keyctl` runs by the
    /// same uid in the same session, just before and after.
    fn run(self, uid: Option<u32>, helper: &str, input: &str) -> InSession {
        let body = r#"probe() { printf '@@%s %s\n' "$1" "$(keyctl "$2" "$3" 2>&1)"; }
probe session rdescribe @s
probe session-id id @s
probe links-before rlist @s
probe user id @u
echo @@helper; echo @@helper >&2
HELPER
rc=$?
echo @@end; echo @@end >&2
printf '@@rc %s\n' "$rc"
probe links-after rlist @s
"#
        .replace("HELPER", helper);
        let body = match uid {
            Some(uid) => format!(
                "exec setpriv {} sh -c {}",
                as_uid(uid).join(" "),
                sh_quote(&body)
            ),
            None => body,
        };
        let mut cmd = match self {
            Session::Fresh => {
                let mut c = Command::new("keyctl");
                c.args(["session", "-", "sh", "-c", &body]);
                c
            }
            Session::Revoked => {
                let mut c = Command::new("keyctl");
                let script = format!("keyctl revoke @s >/dev/null || exit 97\n{body}");
                c.args(["session", "-", "sh", "-c", &script]);
                c
            }
            Session::Login => {
                let mut c = Command::new("runuser");
                c.args(["-l", "root", "-c", &body]);
                c
            }
        };
        let out = common::run(&mut cmd, input.as_bytes());
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        let fail = || -> ! {
            panic!(
                "{self:?} session: the script did not run through ({:?})\nstdout: {stdout}\nstderr: {stderr}",
                out.status
            )
        };
        let helper_part = |all: &str| -> (String, String) {
            let Some((_, rest)) = all.split_once("@@helper\n") else {
                fail()
            };
            let Some(end) = rest.rfind("@@end\n") else {
                fail()
            };
            (
                rest[..end].to_string(),
                rest[end + "@@end\n".len()..].to_string(),
            )
        };
        let (out_part, after) = helper_part(&stdout);
        let (err_part, _) = helper_part(&stderr);
        let probe = |name: &str| -> String {
            let prefix = format!("@@{name} ");
            stdout
                .lines()
                .find_map(|l| l.strip_prefix(&prefix))
                .unwrap_or_else(|| fail())
                .trim()
                .to_string()
        };
        InSession {
            session: probe("session"),
            session_id: probe("session-id"),
            links_before: probe("links-before"),
            links_after: probe("links-after"),
            user: probe("user"),
            code: after
                .lines()
                .find_map(|l| l.strip_prefix("@@rc "))
                .and_then(|c| c.parse().ok())
                .unwrap_or_else(|| fail()),
            out: out_part,
            err: err_part,
        }
    }

    /// Fails unless `run` happened in a session of this kind, opened by the uid running the
    /// tests, whose user keyring is `user` and whose own session keyring is `own_session`.
    fn check(self, run: &InSession, user: &str, own_session: &str) {
        assert_eq!(run.user, user, "{self:?}: another user keyring: {run:?}");
        let holds_user = run.links_before.split_whitespace().any(|k| k == user);
        let new_ses = run.session.starts_with(&format!("keyring;{};", euid()))
            && run.session.ends_with(";_ses")
            && run.session_id != own_session;
        match self {
            Session::Fresh => assert!(
                new_ses && run.links_before.is_empty(),
                "not a brand-new empty session keyring: {run:?}"
            ),
            Session::Login => assert!(
                new_ses && holds_user,
                "runuser -l did not open a session keyring as pam_keyinit does (a new _ses with @u linked in): install pam_keyinit (libpam-modules) and keep 'session optional pam_keyinit.so force revoke' in /etc/pam.d/runuser-l: {run:?}"
            ),
            Session::Revoked => assert!(
                run.session.contains("revoked")
                    && run.session_id.contains("revoked")
                    && run.links_before.contains("revoked"),
                "the session keyring is not revoked: {run:?}"
            ),
        }
    }
}

/// Stored by this process, read by a helper in a new session of kind `session`; stored
/// there, read here (after that session has closed); listed and erased from yet other
/// sessions of that kind. Every helper run is a process of its own.
fn round_trip_across(session: Session, name: &str) {
    if session == Session::Login {
        require_root();
    }
    let m = Mem::new(name);
    let user = keyctl_ok(&["id", "@u"]);
    let own_session = keyctl_ok(&["id", "@s"]);
    let (here, there) = (m.host("here"), m.host("there"));
    let ask = |host: &str| format!("protocol=https\nhost={host}\n");
    let run = |args: &[&str], input: &str| {
        let run = session.run(None, &m.helper_line(args), input);
        session.check(&run, &user, &own_session);
        run
    };
    m.store(&[], &cred(&here, "u", "ghp_stored_here"));
    let got = run(&["get"], &ask(&here));
    assert_eq!(
        (got.code, got.out.as_str(), got.err.as_str()),
        (0, "username=u\npassword=ghp_stored_here\n", ""),
        "{session:?}: {got:?}"
    );
    let stored = run(&["store"], &cred(&there, "u", "ghp_stored_there"));
    assert_eq!(
        (stored.code, stored.out.as_str(), stored.err.as_str()),
        (0, "", ""),
        "{session:?}: {stored:?}"
    );
    // In @u with owner-only permissions, and never linked into the session keyring it was
    // stored from.
    let key = m.key(&format!("https://{there} / @u"));
    let id = key.id.to_string();
    assert_eq!((key.perm.as_str(), key.uid), ("003f0000", euid()));
    assert!(
        keyctl_ok(&["rlist", "@u"])
            .split_whitespace()
            .any(|k| k == id),
        "not in @u"
    );
    assert!(
        !stored.links_after.split_whitespace().any(|k| k == id),
        "{session:?}: linked into the session keyring: {}",
        stored.links_after
    );
    // Read here after the session it was stored from has ended (a login's is revoked as
    // it closes).
    assert_eq!(m.get(&there), "username=u\npassword=ghp_stored_there\n");
    let listed = run(&["list", "--json"], "");
    assert_eq!((listed.code, listed.err.as_str()), (0, ""), "{listed:?}");
    for host in [&here, &there] {
        assert!(
            listed.out.contains(&format!("\"host\": \"{host}\"")),
            "{session:?}: {host} not listed: {}",
            listed.out
        );
    }
    let erased = run(&["erase"], &ask(&here));
    assert_eq!(
        (erased.code, erased.out.as_str(), erased.err.as_str()),
        (0, "", ""),
        "{erased:?}"
    );
    assert_eq!(m.get(&here), "");
    assert_eq!(m.keys().len(), 1, "{:?}", m.keys());
}

#[test]
fn stored_in_one_process_read_in_another_from_a_brand_new_session_keyring() {
    round_trip_across(Session::Fresh, "freshses");
}

#[test]
fn stored_in_one_process_read_in_another_from_a_login_session() {
    round_trip_across(Session::Login, "loginses");
}

#[test]
fn a_revoked_session_keyring_still_reaches_the_user_keyring() {
    // DESIGN §3: keys are reachable from any session of the uid. The helper names @u
    // directly and never searches through @s, so a revoked @s changes nothing: get, store,
    // list and erase all work as usual, silently.
    round_trip_across(Session::Revoked, "revokedses");
}

#[test]
fn another_uid_gets_nothing_through_the_helper_even_holding_the_session_keyring() {
    require_root();
    let uid = 64_999;
    let m = Mem::new("otheruid");
    m.uses_uid(uid);
    let sandbox = Sandbox::new("otheruid", uid);
    let host = m.host("o");
    let token = "ghp_only_for_root_Zq7";
    m.store(&[], &cred(&host, "rootuser", token));
    let user = keyctl_ok(&["id", "@u"]);
    let ask = format!("protocol=https\nhost={host}\n");
    let nothing_of_roots = |what: &str, out: &str, err: &str| {
        for shown in [out, err] {
            assert!(
                !shown.contains(token) && !shown.contains(&m.tag) && !shown.contains("rootuser"),
                "{what}: uid {uid} saw root's credential: {shown}"
            );
        }
    };
    // Straight from the test process.
    let (code, out, err) = sandbox.run(uid, &["get"], &ask);
    assert_eq!((code, out.as_str(), err.as_str()), (0, "", ""), "get");
    // From root's login session, as `su`/`sudo -u` there would start it: the process keeps
    // root's session keyring, and with it root's user keyring, linked into it.
    let run = |args: &[&str], input: &str| {
        let run = Session::Login.run(Some(uid), &sandbox.helper_line(args), input);
        assert!(
            run.session.starts_with("keyring;0;") && run.session.ends_with(";_ses"),
            "uid {uid} does not hold root's login session keyring: {run:?}"
        );
        assert!(
            run.links_before.split_whitespace().any(|k| k == user),
            "root's @u is not reachable through that session keyring: {run:?}"
        );
        assert_ne!(run.user, user, "uid {uid} has a user keyring of its own");
        run
    };
    let got = run(&["get"], &ask);
    assert_eq!(
        (got.code, got.out.as_str(), got.err.as_str()),
        (0, "", ""),
        "get as uid {uid}: {got:?}"
    );
    let listed = run(&["list"], "");
    assert_eq!(listed.code, 0, "{listed:?}");
    nothing_of_roots("list", &listed.out, &listed.err);
    let listed = run(&["list", "--json"], "");
    assert_eq!(
        (listed.code, listed.out.trim(), listed.err.as_str()),
        (0, "[]", ""),
        "{listed:?}"
    );
    // Nor can it take root's credential away.
    let erased = run(&["erase"], &ask);
    assert_eq!(erased.code, 0, "{erased:?}");
    nothing_of_roots("erase", &erased.out, &erased.err);
    assert_eq!(
        m.get(&host),
        format!("username=rootuser\npassword={token}\n")
    );
    // What it stores for the same host is its own: in its own user keyring, answered to it
    // only, and root's stays root's.
    let (code, out, err) = sandbox.run(uid, &["store"], &cred(&host, "theirs", "ghp_theirs"));
    assert_eq!((code, out.as_str(), err.as_str()), (0, "", ""), "store");
    let got = run(&["get"], &ask);
    assert_eq!(
        (got.code, got.out.as_str(), got.err.as_str()),
        (0, "username=theirs\npassword=ghp_theirs\n", ""),
        "{got:?}"
    );
    assert_eq!(
        m.get(&host),
        format!("username=rootuser\npassword={token}\n")
    );
    let theirs: Vec<KeyInfo> = proc_keys_as(uid)
        .unwrap()
        .lines()
        .filter(|l| l.contains(&m.tag))
        .filter_map(parse_proc_key)
        .collect();
    assert!(
        theirs.len() == 1 && theirs[0].uid == uid && theirs[0].perm == "003f0000",
        "{theirs:?}"
    );
    assert_eq!(m.keys().len(), 1, "{:?}", m.keys());
}

/// Whether the file at `path` holds `needle`: read in chunks, never following a symlink or
/// blocking on a FIFO put in its place.
fn file_holds(path: &Path, needle: &[u8]) -> std::io::Result<bool> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)?;
    let mut chunk = vec![0u8; 1 << 20];
    let mut window: Vec<u8> = Vec::new();
    loop {
        let n = file.read(&mut chunk)?;
        if n == 0 {
            return Ok(false);
        }
        window.extend_from_slice(&chunk[..n]);
        if window.windows(needle.len()).any(|w| w == needle) {
            return Ok(true);
        }
        // Keep what could be the start of a match across the chunk boundary.
        let keep_from = window.len().saturating_sub(needle.len() - 1);
        window.drain(..keep_from);
    }
}

/// Every regular file under `dir` (symlinks not followed), or only those modified at or after
/// `since`, into `checked`; those holding `needle` (or that cannot be read) into `found`.
fn search_files(
    dir: &Path,
    needle: &[u8],
    since: Option<SystemTime>,
    checked: &mut Vec<PathBuf>,
    found: &mut Vec<String>,
) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            search_files(&path, needle, since, checked, found);
            continue;
        }
        if !meta.is_file() || since.is_some_and(|t| meta.modified().is_ok_and(|m| m < t)) {
            continue;
        }
        match file_holds(&path, needle) {
            Ok(false) => {}
            Ok(true) => found.push(format!("{} holds the token", path.display())),
            // Gone, or replaced by a symlink, since it was listed: someone's temporary file.
            Err(e)
                if e.kind() == std::io::ErrorKind::NotFound
                    || e.raw_os_error() == Some(libc::ELOOP) => {}
            Err(e) => found.push(format!("{} cannot be searched: {e}", path.display())),
        }
        checked.push(path);
    }
}

#[test]
fn the_token_never_reaches_a_file() {
    let m = Mem::new("nodisk");
    // Whole-second timestamps on some file systems: anything modified from a moment before.
    let start = SystemTime::now() - Duration::from_secs(2);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    // Made at run time, so no file held it before this test.
    let token = format!("ghp_NoDisk{nanos:x}Q{:x}", std::process::id());
    let (tmp, cwd) = (m.world.root.join("tmp"), m.world.root.join("cwd"));
    for dir in [&tmp, &cwd] {
        std::fs::create_dir(dir).unwrap();
        common::set_mode(dir, 0o700);
    }
    let run = |args: &[&str], input: &str| -> (i32, String, String) {
        let out = common::run(
            m.world
                .helper()
                .arg("--backend=memory")
                .args(args)
                .env("TMPDIR", &tmp)
                .current_dir(&cwd),
            input.as_bytes(),
        );
        (
            out.status.code().unwrap_or(-1),
            text(&out.stdout),
            text(&out.stderr),
        )
    };
    let (a, b, old) = (m.host("a"), m.host("b"), m.host("old"));
    let quiet = |what: &str, (code, out, err): (i32, String, String)| {
        assert_eq!(code, 0, "{what}: {err}");
        assert!(
            !out.contains(&token) && !err.contains(&token),
            "{what}: {out}{err}"
        );
    };
    let (code, out, err) = run(&["store"], &cred(&a, "u", &token));
    assert_eq!((code, out.as_str(), err.as_str()), (0, "", ""));
    let (code, out, _) = run(&["get"], &format!("protocol=https\nhost={a}\n"));
    assert_eq!((code, out), (0, format!("username=u\npassword={token}\n")));
    quiet(
        "add",
        run(
            &["add", &format!("https://octo@{b}")],
            &format!("{token}\n"),
        ),
    );
    quiet("list", run(&["list"], ""));
    quiet("list --json", run(&["list", "--json"], ""));
    m.plant(
        &format!("https://{old} / @u"),
        &format!("https://{old} / @u stored=1.000000000 expires=1000 password={token}"),
    );
    let pruned = run(&["prune"], "");
    assert!(
        pruned.1.contains(&format!("removed https://u@{old}")),
        "{pruned:?}"
    );
    quiet("prune", pruned);
    let (_, out, err) = run(&["doctor"], "");
    assert!(
        !out.contains(&token) && !err.contains(&token),
        "doctor: {out}{err}"
    );
    quiet("remove", run(&["remove", &format!("https://{a}")], ""));
    quiet(
        "erase",
        run(&["erase"], &format!("protocol=https\nhost={b}\n")),
    );
    assert!(m.keys().is_empty(), "{:?}", m.keys());

    // The world (HOME, the XDG dirs, the data dir, TMPDIR and the helper's current dir) in
    // full; elsewhere every file modified during the test: the temporary directories and the
    // current dir of the tests.
    let search = || {
        let (mut checked, mut found) = (Vec::new(), Vec::new());
        search_files(
            &m.world.root,
            token.as_bytes(),
            None,
            &mut checked,
            &mut found,
        );
        let elsewhere = [
            std::env::temp_dir(),
            PathBuf::from("/tmp"),
            PathBuf::from("/var/tmp"),
            PathBuf::from("/dev/shm"),
            std::env::current_dir().unwrap(),
        ];
        for dir in elsewhere {
            search_files(
                &dir,
                token.as_bytes(),
                Some(start),
                &mut checked,
                &mut found,
            );
        }
        // The world lies inside the tests' current dir: once each.
        found.sort();
        found.dedup();
        (checked, found)
    };
    let (checked, found) = search();
    assert!(found.is_empty(), "{}", found.join("\n"));
    // The search did look where the helper writes: its lock in the data dir.
    let lock = m
        .world
        .home
        .join(".local/share/git-credential-pat/memory.lock");
    assert!(checked.contains(&lock), "{} not searched", lock.display());
    // And it finds the token where it is: a file of the test's own, removed at once.
    let canary = tmp.join("canary");
    let mut bytes = vec![b'x'; (1 << 20) - 5];
    bytes.extend_from_slice(token.as_bytes());
    std::fs::write(&canary, &bytes).unwrap();
    let (_, found) = search();
    std::fs::remove_file(&canary).unwrap();
    assert_eq!(found, [format!("{} holds the token", canary.display())]);
}

#[test]
fn a_test_that_fails_part_way_leaves_no_key_behind() {
    require_root();
    let uid = 64_998;
    let (tx, rx) = std::sync::mpsc::channel();
    let failed = std::thread::spawn(move || {
        let m = Mem::new("failing");
        m.uses_uid(uid);
        let sandbox = Sandbox::new("failing", uid);
        let host = m.host("f");
        m.store(&[], &cred(&host, "u", "ghp_left"));
        let (code, _, err) = sandbox.run(uid, &["store"], &cred(&host, "u", "ghp_left_too"));
        assert_eq!(code, 0, "{err}");
        tx.send((m.tag.clone(), m.keys().len(), keys_as(uid, &m.tag)))
            .unwrap();
        panic!("a test failing part-way, its keys still in the keyrings");
    })
    .join();
    assert!(failed.is_err(), "the failing test did not fail");
    let (tag, ours, theirs) = rx.recv().unwrap();
    assert_eq!(
        (ours, theirs),
        (1, 1),
        "both keys existed before the failure"
    );
    // A removed key stays visible in /proc/keys until the kernel's garbage collector runs
    // (a few hundred milliseconds, longer on a busy machine): wait for it, bounded.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let left = || proc_keys_as(euid()).unwrap().matches(&tag).count() + keys_as(uid, &tag);
    while left() > 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(proc_keys_as(euid()).unwrap().matches(&tag).count(), 0);
    assert_eq!(keys_as(uid, &tag), 0);
}

/// How many lines of `/proc/keys`, as `uid` sees it, hold `tag`.
fn keys_as(uid: u32, tag: &str) -> usize {
    proc_keys_as(uid).unwrap().matches(tag).count()
}
