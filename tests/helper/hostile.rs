//! A hostile file system and a hostile process environment (DESIGN §3 file backend, §4, §6):
//! FIFOs and symlinks planted at every path the helper opens, a restrictive umask for an
//! unprivileged user, core dumps and /proc, a huge corrupt line under a memory bound, and
//! files out of order or with CRLF endings.
//!
//! Every command here that could hang runs under a deadline: a FIFO opened the blocking way
//! would wait forever for a writer, so a hang is a failure ("hung"), never a stuck test run.

use std::io::{Read, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::{BIN, World, mode, set_mode, text, v1_file, write_private};
use crate::protocol::Pat;

/// How long a command that should answer at once may take before it counts as hung.
const DEADLINE: Duration = Duration::from_secs(5);

/// The unprivileged user (and group) the permission tests run as.
const NOBODY: u32 = 65534;

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn cred(host: &str, user: &str, token: &str) -> String {
    format!("protocol=https\nhost={host}\nusername={user}\npassword={token}\n")
}

/// Kills and reaps a child when dropped, so a failed assertion never leaves it running.
struct Reap(Child);

impl Reap {
    fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Reap {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs `cmd` with `stdin` written and closed; fails with "hung" unless it ends within
/// `limit` (it is killed then). Output is drained by threads, so a full pipe cannot stall it.
fn run_within(cmd: &mut Command, stdin: &[u8], limit: Duration) -> Output {
    let child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {:?}: {e} (is it installed?)", cmd));
    let mut child = Reap(child);
    {
        // Small inputs fit in the pipe; a helper that refused early may have closed its end.
        let mut input = child.0.stdin.take().unwrap();
        let _ = input.write_all(stdin);
    }
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = r.read_to_end(&mut v);
            v
        })
    };
    let out = drain(Box::new(child.0.stdout.take().unwrap()));
    let err = drain(Box::new(child.0.stderr.take().unwrap()));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > limit {
            drop(child);
            panic!("hung: {cmd:?} did not end within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

/// (exit code, stdout, stderr) of a finished command.
fn parts(out: &Output) -> (i32, String, String) {
    (
        out.status.code().unwrap_or(-1),
        text(&out.stdout),
        text(&out.stderr),
    )
}

/// Runs the helper's `action` on `p`'s file under [`DEADLINE`].
fn pat_within(p: &Pat, action: &str, input: &str) -> (i32, String, String) {
    let out = run_within(
        p.world.helper().args(p.args(action)),
        input.as_bytes(),
        DEADLINE,
    );
    parts(&out)
}

fn mkfifo(path: &Path) {
    let out = Command::new("mkfifo")
        .args(["-m", "600"])
        .arg(path)
        .output()
        .expect("mkfifo (coreutils) is needed for this test");
    assert!(out.status.success(), "mkfifo: {}", text(&out.stderr));
}

fn is_fifo(path: &Path) -> bool {
    std::fs::symlink_metadata(path)
        .map(|m| m.file_type().is_fifo())
        .unwrap_or(false)
}

/// `FILE.lock`, the writers' lock beside the credentials file.
fn lock_of(file: &Path) -> PathBuf {
    let mut s = file.as_os_str().to_owned();
    s.push(".lock");
    PathBuf::from(s)
}

/// The helper's data dir in `world` (where the warning state `warned` lives, whatever
/// `--file` says: see `Config::data_dir`).
fn data_dir(world: &World) -> PathBuf {
    world.default_file().parent().unwrap().to_path_buf()
}

/// Creates the data dir (and its parents) private, as the helper would.
fn make_data_dir(world: &World) -> PathBuf {
    let dir = data_dir(world);
    std::fs::create_dir_all(&dir).unwrap();
    for d in [dir.as_path(), dir.parent().unwrap()] {
        set_mode(d, 0o700);
    }
    dir
}

// ---------------------------------------------------------------------------------------
// 1. FIFOs at every path the helper opens.
// ---------------------------------------------------------------------------------------

#[test]
fn a_fifo_at_the_credentials_path_is_refused_at_once() {
    let p = Pat::new("fifo-file");
    let dir = p.file.parent().unwrap();
    std::fs::create_dir_all(dir).unwrap();
    set_mode(dir, 0o700);
    mkfifo(&p.file);
    let path = p.file.display().to_string();
    for (action, input) in [
        ("get", "protocol=https\nhost=h\n".to_string()),
        ("store", cred("h", "u", "ghp_fifo")),
        ("erase", "protocol=https\nhost=h\nusername=u\n".to_string()),
        ("list", String::new()),
    ] {
        let (code, out, err) = pat_within(&p, action, &input);
        assert_eq!(code, 1, "{action}: {err}");
        assert_eq!(out, "", "{action}");
        assert_eq!(err.lines().count(), 1, "{action}: one line: {err}");
        assert!(
            err.contains("is a FIFO (named pipe), not a regular file") && err.contains(&path),
            "{action}: {err}"
        );
        assert!(!err.contains("ghp_fifo"), "{action}: {err}");
        assert!(is_fifo(&p.file), "{action} left the FIFO in place");
    }
}

#[test]
fn a_fifo_at_the_lock_path_fails_a_store_and_reads_go_on() {
    let p = Pat::new("fifo-lock");
    p.store(&cred("h", "u", "ghp_before"));
    let lock = lock_of(&p.file);
    let _ = std::fs::remove_file(&lock);
    mkfifo(&lock);
    let before = std::fs::read(&p.file).unwrap();

    let (code, out, err) = pat_within(&p, "store", &cred("h", "u", "ghp_after"));
    assert_eq!(code, 1, "{err}");
    assert_eq!(out, "");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(&lock.display().to_string()) && err.contains("FIFO"),
        "{err}"
    );
    assert!(!err.contains("ghp_after"), "{err}");
    assert_eq!(std::fs::read(&p.file).unwrap(), before, "nothing written");
    assert!(is_fifo(&lock), "the FIFO is left as it was");

    let (code, out, err) = pat_within(&p, "get", "protocol=https\nhost=h\n");
    assert_eq!(
        (code, out.as_str(), err.as_str()),
        (0, "username=u\npassword=ghp_before\n", ""),
        "readers take no lock"
    );
}

#[test]
fn a_fifo_at_the_warning_state_costs_only_its_record() {
    let p = Pat::new("fifo-warned");
    let expiry = now() + 3 * 86_400;
    p.store(&format!(
        "protocol=https\nhost=h\nusername=u\npassword=ghp_soon\npassword_expiry_utc={expiry}\n"
    ));
    let warned = make_data_dir(&p.world).join("warned");
    mkfifo(&warned);
    let answer = format!("username=u\npassword=ghp_soon\npassword_expiry_utc={expiry}\n");

    let (code, out, err) = pat_within(&p, "get", "protocol=https\nhost=h\n");
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, answer);
    assert!(
        err.starts_with("git-credential-pat: warning: the token for https://u@h expires on "),
        "the warning is still shown: {err:?}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!err.contains("ghp_soon"), "{err}");

    // Whatever became of the state file, a second get answers at once as well.
    let (code, out, err) = pat_within(&p, "get", "protocol=https\nhost=h\n");
    assert_eq!((code, out.as_str()), (0, answer.as_str()), "{err}");
}

// ---------------------------------------------------------------------------------------
// 2. Symlinks: replaced, never followed.
// ---------------------------------------------------------------------------------------

#[test]
fn a_symlinked_warning_state_is_replaced_not_followed() {
    let p = Pat::new("symlink-warned");
    let expiry = now() + 2 * 86_400;
    p.store(&format!(
        "protocol=https\nhost=h\nusername=u\npassword=ghp_soon\npassword_expiry_utc={expiry}\n"
    ));
    let elsewhere = p.world.root.join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    set_mode(&elsewhere, 0o700);
    let target = elsewhere.join("precious");
    let original = b"someone else's file: not to be overwritten\n".to_vec();
    std::fs::write(&target, &original).unwrap();
    set_mode(&target, 0o600);
    let warned = make_data_dir(&p.world).join("warned");
    std::os::unix::fs::symlink(&target, &warned).unwrap();

    let (code, out, err) = pat_within(&p, "get", "protocol=https\nhost=h\n");
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        format!("username=u\npassword=ghp_soon\npassword_expiry_utc={expiry}\n")
    );
    assert!(err.contains("warning: the token for https://u@h"), "{err}");

    assert_eq!(
        std::fs::read(&target).unwrap(),
        original,
        "the symlink's target is unchanged"
    );
    let meta = std::fs::symlink_metadata(&warned).unwrap();
    assert!(
        meta.file_type().is_file(),
        "warned is now a regular file, not a symlink: {:?}",
        meta.file_type()
    );
    assert_eq!(mode(&warned), 0o600);
}

#[test]
fn symlinks_at_the_credentials_and_lock_paths_are_refused() {
    let p = Pat::new("symlink-file");
    // A real, valid, private credentials file elsewhere: following the link would answer.
    let real = p.world.root.join("real/credentials");
    write_private(
        &real,
        v1_file(&["https://h / @u stored=1700000000.000000000 password=ghp_behind_link"])
            .as_bytes(),
    );
    let dir = p.file.parent().unwrap();
    std::fs::create_dir_all(dir).unwrap();
    set_mode(dir, 0o700);
    std::os::unix::fs::symlink(&real, &p.file).unwrap();
    let before = std::fs::read(&real).unwrap();
    for (action, input) in [
        ("get", "protocol=https\nhost=h\n".to_string()),
        ("store", cred("h", "u", "ghp_new")),
        ("erase", "protocol=https\nhost=h\n".to_string()),
        ("list", String::new()),
    ] {
        let (code, out, err) = pat_within(&p, action, &input);
        assert_eq!(code, 1, "{action}: {err}");
        assert_eq!(out, "", "{action}: nothing read through the link");
        assert_eq!(err.lines().count(), 1, "{action}: {err}");
        assert!(
            err.contains(&format!("{} is a symbolic link", p.file.display())),
            "{action}: {err}"
        );
        assert_eq!(std::fs::read(&real).unwrap(), before, "{action}");
        assert!(
            std::fs::symlink_metadata(&p.file)
                .unwrap()
                .file_type()
                .is_symlink(),
            "{action}: link kept"
        );
    }

    // A symlink at the lock: a store refuses it and never writes through it.
    let q = Pat::new("symlink-lock");
    q.store(&cred("h", "u", "ghp_kept"));
    let lock = lock_of(&q.file);
    let _ = std::fs::remove_file(&lock);
    let target = q.world.root.join("lock-target");
    std::fs::write(&target, b"keep me\n").unwrap();
    std::os::unix::fs::symlink(&target, &lock).unwrap();
    let (code, _, err) = pat_within(&q, "store", &cred("h", "u", "ghp_other"));
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(&format!("{} is a symbolic link", lock.display())),
        "{err}"
    );
    assert_eq!(std::fs::read(&target).unwrap(), b"keep me\n");
    assert!(q.contents().contains("password=ghp_kept"));
}

// ---------------------------------------------------------------------------------------
// 3 and 4: an unprivileged user (umask, /proc).
// ---------------------------------------------------------------------------------------

/// Whether others (not owner, not group) may search every directory above `path`, and
/// `path` itself (search a directory, or execute a file).
fn reachable_by_others(path: &Path) -> bool {
    path.ancestors()
        .filter(|a| !a.as_os_str().is_empty())
        .all(|a| {
            std::fs::metadata(a)
                .map(|m| m.permissions().mode() & 0o001 != 0)
                .unwrap_or(false)
        })
}

/// A world whose HOME belongs to uid 65534, with a helper binary that user can run.
struct Nobody {
    world: World,
    /// Used instead of the world's directory when that one cannot be reached by others.
    _tmp: Option<tempfile::TempDir>,
    home: PathBuf,
    bin: PathBuf,
}

impl Nobody {
    fn new(name: &str) -> Nobody {
        let world = World::new(name);
        let mut tmp = None;
        // Others may pass through (0711), not list, the world's root.
        set_mode(&world.root, 0o711);
        let base = if reachable_by_others(&world.root) {
            world.root.clone()
        } else {
            let t = tempfile::Builder::new()
                .prefix("gcp-nobody-")
                .tempdir()
                .unwrap();
            set_mode(t.path(), 0o711);
            let b = t.path().to_path_buf();
            tmp = Some(t);
            assert!(
                reachable_by_others(&b),
                "neither {} nor {} can be reached by uid {NOBODY}",
                world.root.display(),
                b.display()
            );
            b
        };
        let home = base.join("nobody-home");
        std::fs::create_dir(&home).unwrap();
        set_mode(&home, 0o700);
        std::os::unix::fs::chown(&home, Some(NOBODY), Some(NOBODY))
            .expect("this test changes a directory's owner and must run as root (CI does)");
        let bin = if reachable_by_others(Path::new(BIN)) {
            PathBuf::from(BIN)
        } else {
            let d = base.join("bin");
            std::fs::create_dir(&d).unwrap();
            set_mode(&d, 0o755);
            let b = d.join("git-credential-pat");
            std::fs::copy(BIN, &b).unwrap();
            set_mode(&b, 0o755);
            b
        };
        Nobody {
            world,
            _tmp: tmp,
            home,
            bin,
        }
    }

    /// `program args...` run as uid/gid 65534 with no supplementary groups, in this world's
    /// environment with HOME and the XDG dirs in the user's home.
    fn command(&self, program: &Path, args: &[&str]) -> Command {
        let mut cmd = self.world.command("setpriv");
        cmd.args([
            &format!("--reuid={NOBODY}"),
            &format!("--regid={NOBODY}"),
            "--clear-groups",
        ])
        .arg(program)
        .args(args)
        .env("HOME", &self.home)
        .env("XDG_DATA_HOME", self.home.join(".local/share"))
        .env("XDG_CONFIG_HOME", self.home.join(".config"))
        .env("XDG_STATE_HOME", self.home.join(".local/state"))
        .env("XDG_CACHE_HOME", self.home.join(".cache"))
        .current_dir(&self.home);
        cmd
    }

    /// `program args...` as uid 65534 under `umask 0277`.
    fn with_umask_0277(&self, program: &Path, args: &[&str]) -> Command {
        let mut all = vec![
            "-c",
            "umask 0277; exec \"$0\" \"$@\"",
            program.to_str().unwrap(),
        ];
        all.extend_from_slice(args);
        self.command(Path::new("/bin/sh"), &all)
    }
}

#[test]
fn umask_0277_as_an_unprivileged_user_still_gives_0600_files_and_0700_dirs() {
    let n = Nobody::new("umask0277");
    // The umask is really in force for that user: a file it creates itself is 0400.
    let probe = n.home.join("umask-probe");
    let out = run_within(
        &mut n.with_umask_0277(
            Path::new("/bin/sh"),
            &["-c", "echo > \"$0\"", probe.to_str().unwrap()],
        ),
        b"",
        DEADLINE,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let meta = std::fs::metadata(&probe).unwrap();
    assert_eq!(
        (meta.uid(), meta.permissions().mode() & 0o777),
        (NOBODY, 0o400),
        "the wrapper runs as uid {NOBODY} with umask 0277"
    );

    // --file in a directory that does not exist yet: the helper creates a, a/b, a/b/c.
    let file = n.home.join("a/b/c/credentials");
    let file_arg = file.to_str().unwrap().to_owned();
    let helper = |action: &str, input: &str| {
        parts(&run_within(
            &mut n.with_umask_0277(&n.bin, &["--backend=file", "--file", &file_arg, action]),
            input.as_bytes(),
            DEADLINE,
        ))
    };
    let (code, out, err) = helper("store", &cred("h", "u", "ghp_first"));
    assert_eq!(
        (code, out.as_str(), err.as_str()),
        (0, "", ""),
        "first store"
    );
    // The second token expires within --warn, so the get below writes `warned` too.
    let expiry = now() + 3 * 86_400;
    let (code, out, err) = helper(
        "store",
        &format!(
            "protocol=https\nhost=h\nusername=u\npassword=ghp_second\npassword_expiry_utc={expiry}\n"
        ),
    );
    assert_eq!(
        (code, out.as_str(), err.as_str()),
        (0, "", ""),
        "second store"
    );
    let (code, out, err) = helper("get", "protocol=https\nhost=h\n");
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        format!("username=u\npassword=ghp_second\npassword_expiry_utc={expiry}\n")
    );
    assert!(err.contains("warning: the token for https://u@h"), "{err}");

    let data = n.home.join(".local/share/git-credential-pat");
    let warned = data.join("warned");
    assert!(warned.exists(), "the warning was recorded");
    for f in [file.clone(), lock_of(&file), warned] {
        let m = std::fs::symlink_metadata(&f).unwrap();
        assert!(m.file_type().is_file(), "{}", f.display());
        assert_eq!(
            (m.uid(), m.permissions().mode() & 0o7777),
            (NOBODY, 0o600),
            "{}",
            f.display()
        );
    }
    for d in [
        n.home.join("a"),
        n.home.join("a/b"),
        n.home.join("a/b/c"),
        n.home.join(".local"),
        n.home.join(".local/share"),
        data.clone(),
    ] {
        let m = std::fs::symlink_metadata(&d).unwrap();
        assert_eq!(
            (m.uid(), m.permissions().mode() & 0o7777),
            (NOBODY, 0o700),
            "{}",
            d.display()
        );
    }
    for d in [file.parent().unwrap(), data.as_path()] {
        let stray: Vec<_> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp") || n.starts_with(".gcp-"))
            .collect();
        assert!(stray.is_empty(), "temporary files left: {stray:?}");
    }
}

/// The soft and hard "Max core file size" of process `pid`.
fn core_limit(pid: u32) -> Option<(String, String)> {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).ok()?;
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))?;
    let mut f = line["Max core file size".len()..].split_whitespace();
    Some((f.next()?.to_owned(), f.next()?.to_owned()))
}

/// Polls `check` every 10 ms until it gives `Some`, or `DEADLINE` passes.
fn poll<T>(mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let start = Instant::now();
    loop {
        if let Some(v) = check() {
            return Some(v);
        }
        if start.elapsed() > DEADLINE {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Starts `cmd` with a stdin pipe this test keeps open, so a `get` waits on it.
fn spawn_held(cmd: &mut Command) -> Reap {
    Reap(
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}")),
    )
}

#[test]
fn a_running_helper_has_a_zero_core_limit() {
    let p = Pat::new("corelimit");
    // Both start with core dumps allowed (soft and hard unlimited), so a 0 is the helper's.
    let prlimit = |program: &str, args: &[&str]| {
        let mut cmd = p.world.command("prlimit");
        cmd.args(["--core=unlimited", "--", program]).args(args);
        cmd
    };
    let control = spawn_held(&mut prlimit("sleep", &["10"]));
    let unlimited = ("unlimited".to_owned(), "unlimited".to_owned());
    assert_eq!(
        poll(|| core_limit(control.pid()).filter(|l| *l == unlimited)),
        Some(unlimited.clone()),
        "the control process runs with core dumps allowed (prlimit is needed for this test)"
    );

    let helper = spawn_held(&mut prlimit(BIN, &p.args("get")));
    let zero = ("0".to_owned(), "0".to_owned());
    let got = poll(|| core_limit(helper.pid()).filter(|l| *l == zero));
    assert_eq!(
        got,
        Some(zero),
        "Max core file size of the running helper, now {:?}",
        core_limit(helper.pid())
    );
    assert_eq!(
        std::fs::read_link(format!("/proc/{}/exe", helper.pid())).unwrap(),
        std::fs::canonicalize(BIN).unwrap(),
        "the process inspected is the helper, still running (waiting on stdin)"
    );
}

#[test]
fn a_running_helper_is_not_dumpable_so_the_same_user_cannot_read_its_environ() {
    let n = Nobody::new("dumpable");
    let file = n.home.join("credentials");
    let file_arg = file.to_str().unwrap().to_owned();
    let read_environ = |pid: u32| {
        parts(&run_within(
            &mut n.command(Path::new("cat"), &[&format!("/proc/{pid}/environ")]),
            b"",
            DEADLINE,
        ))
    };

    // Control: a plain process of the same user exposes its environment to that user.
    let control = spawn_held(
        n.command(Path::new("sleep"), &["10"])
            .env("GCP_HOSTILE_MARKER", "control"),
    );
    let seen = poll(|| {
        let (code, out, _) = read_environ(control.pid());
        (code == 0 && out.contains("GCP_HOSTILE_MARKER=control")).then_some(())
    });
    assert!(
        seen.is_some(),
        "uid {NOBODY} can read the environ of its own plain process: {:?}",
        read_environ(control.pid())
    );

    let helper = spawn_held(
        n.command(&n.bin, &["--backend=file", "--file", &file_arg, "get"])
            .env("GCP_HOSTILE_MARKER", "helper"),
    );
    // setpriv runs as root until it execs the helper, and root's environ is closed to uid
    // 65534 anyway: wait for the exec before asking.
    let bin = std::fs::canonicalize(&n.bin).unwrap();
    assert!(
        poll(|| {
            std::fs::read_link(format!("/proc/{}/exe", helper.pid()))
                .ok()
                .filter(|exe| *exe == bin)
        })
        .is_some(),
        "the helper was not started within {DEADLINE:?}"
    );
    let denied = poll(|| {
        let (code, out, err) = read_environ(helper.pid());
        (code != 0 && out.is_empty() && err.contains("Permission denied")).then_some(err)
    });
    assert!(
        denied.is_some(),
        "uid {NOBODY} must not read the helper's environ: {:?}",
        read_environ(helper.pid())
    );
    assert_eq!(
        std::fs::read_link(format!("/proc/{}/exe", helper.pid())).unwrap(),
        std::fs::canonicalize(&n.bin).unwrap(),
        "the process refused is the helper, still running (waiting on stdin)"
    );
    assert!(
        std::fs::read(format!("/proc/{}/environ", helper.pid()))
            .unwrap()
            .windows(b"GCP_HOSTILE_MARKER=helper".len())
            .any(|w| w == b"GCP_HOSTILE_MARKER=helper"),
        "(root can still read it: the refusal is the helper's doing, not a missing process)"
    );
}

// ---------------------------------------------------------------------------------------
// 5. Corrupt files: a huge line under a memory bound, lines out of order, CRLF.
// ---------------------------------------------------------------------------------------

/// 200 MiB: the address-space limit, and the length of the corrupt line.
const BIG: u64 = 200 * 1024 * 1024;

/// Long enough for a debug build to count 200 MiB of newlines on a busy machine; a hang is
/// still told apart from an answer.
const BIG_DEADLINE: Duration = Duration::from_secs(30);

/// (size, mtime) of `path`.
fn stamp(path: &Path) -> (u64, i64, i64) {
    let m = std::fs::metadata(path).unwrap();
    (m.len(), m.mtime(), m.mtime_nsec())
}

#[test]
fn a_200_mib_line_is_reported_by_number_under_a_200_mib_memory_limit() {
    let p = Pat::new("bigline");
    let dir = p.file.parent().unwrap();
    std::fs::create_dir_all(dir).unwrap();
    set_mode(dir, 0o700);
    {
        // Header, then a second line of 200 MiB with no newline: the start of a record and a
        // sparse tail (set_len), so neither the test nor the disk holds 200 MiB.
        let mut f = std::fs::File::create(&p.file).unwrap();
        let header = v1_file(&[]);
        f.write_all(header.as_bytes()).unwrap();
        f.write_all(b"https://h / @u stored=1700000000.000000000 password=")
            .unwrap();
        f.set_len(header.len() as u64 + BIG).unwrap();
    }
    set_mode(&p.file, 0o600);
    let before = stamp(&p.file);

    let bounded = |args: Vec<&str>| {
        let mut cmd = p.world.command("prlimit");
        cmd.arg(format!("--as={BIG}")).arg("--").args(args);
        cmd
    };
    // Control: under this limit, holding the line in memory fails.
    let out = run_within(
        &mut bounded(vec![
            "dd",
            "if=/dev/zero",
            "of=/dev/null",
            "bs=200M",
            "count=1",
        ]),
        b"",
        BIG_DEADLINE,
    );
    assert!(
        !out.status.success(),
        "a 200 MiB buffer must not fit under the limit: {}",
        text(&out.stderr)
    );

    for (action, input) in [
        ("get", "protocol=https\nhost=h\n".to_string()),
        ("store", cred("other.example", "u", "ghp_other")),
        ("list", String::new()),
    ] {
        let mut args = vec![BIN];
        args.extend(p.args(action));
        let (code, out, err) = parts(&run_within(
            &mut bounded(args),
            input.as_bytes(),
            BIG_DEADLINE,
        ));
        assert_eq!(code, 1, "{action}: {err}");
        assert_eq!(out, "", "{action}");
        assert_eq!(err.lines().count(), 1, "{action}: {err}");
        assert!(
            err.contains("longer than 1 MiB") && err.contains("line 2"),
            "{action}: {err}"
        );
        assert!(
            err.contains(&p.file.display().to_string()),
            "{action}: {err}"
        );
        assert_eq!(stamp(&p.file), before, "{action} changed the file");
    }
}

#[test]
fn a_file_out_of_order_is_refused_by_writers_and_list() {
    let p = Pat::new("unsorted");
    write_private(
        &p.file,
        v1_file(&[
            "https://b.example / @u stored=1700000000.000000000 password=ghp_b",
            "https://a.example / @u stored=1700000000.000000000 password=ghp_a",
            "https://c.example / @u stored=1700000000.000000000 password=ghp_c",
        ])
        .as_bytes(),
    );
    let bytes = std::fs::read(&p.file).unwrap();
    let before = stamp(&p.file);
    for (action, input) in [
        ("store", cred("d.example", "u", "ghp_d")),
        // A credential the search finds (c.example), so the erase has work to do.
        ("erase", "protocol=https\nhost=c.example\n".to_string()),
        // The misplaced one, which a binary search cannot see: the erase must not report
        // success while the revoked token stays.
        (
            "erase",
            "protocol=https\nhost=a.example\nusername=u\npassword=ghp_a\n".to_string(),
        ),
        ("list", String::new()),
    ] {
        let (code, out, err) = pat_within(&p, action, &input);
        assert_eq!(code, 1, "{action}: {err}");
        assert_eq!(out, "", "{action}");
        assert_eq!(err.lines().count(), 1, "{action}: {err}");
        assert!(
            err.contains("is not sorted (line 3 is out of order)"),
            "{action}: {err}"
        );
        assert!(!err.contains("ghp_"), "{action}: {err}");
        assert_eq!(std::fs::read(&p.file).unwrap(), bytes, "{action}");
        assert_eq!(stamp(&p.file), before, "{action}");
    }
}

#[test]
fn crlf_endings_are_named_with_the_fix() {
    let p = Pat::new("crlf");
    write_private(
        &p.file,
        b"# git-credential-pat credentials v1\r\nhttps://h / @u stored=1700000000.000000000 password=ghp_crlf\r\n",
    );
    let bytes = std::fs::read(&p.file).unwrap();
    for (action, input) in [
        ("get", "protocol=https\nhost=h\n".to_string()),
        ("store", cred("other.example", "u", "ghp_other")),
        ("list", String::new()),
    ] {
        let (code, out, err) = pat_within(&p, action, &input);
        assert_eq!(code, 1, "{action}: {err}");
        assert_eq!(out, "", "{action}");
        assert_eq!(err.lines().count(), 1, "{action}: {err}");
        assert!(
            err.contains("CRLF") && err.contains("sed -i"),
            "{action}: {err}"
        );
        assert!(!err.contains("newer than"), "{action}: {err}");
        assert!(!err.contains("ghp_"), "{action}: {err}");
        assert_eq!(std::fs::read(&p.file).unwrap(), bytes, "{action}");
    }
}

// ---------------------------------------------------------------------------------------
// 6. Refused input that may be a token.
// ---------------------------------------------------------------------------------------

#[test]
fn a_token_given_as_an_extra_argument_is_a_usage_error() {
    let p = Pat::new("extra-arg");
    let mut args = vec!["--backend=file", "--file", p.file.to_str().unwrap()];
    args.extend(["add", "https://u@h", "ghp_SECRET_TOKEN_123"]);
    let out = run_within(p.world.helper().args(&args), b"", DEADLINE);
    let (code, out_text, err) = parts(&out);
    assert_eq!(code, 2, "{err}");
    assert_eq!(out_text, "");
    assert!(!p.file.exists(), "nothing stored");
}

/// A file not written whole by the helper itself is checked whole before it is trusted: a
/// get never silently misses a misplaced line, a store never copies a corrupt line through.
#[test]
fn a_hand_edited_file_is_checked_whole_before_any_use() {
    let p = Pat::new("handedit");
    // The misplaced line is for a host a binary search would not look at.
    write_private(
        &p.file,
        v1_file(&[
            "https://b.example / @u stored=1700000000.000000000 password=ghp_b",
            "https://c.example / @u stored=1700000000.000000000 password=ghp_c",
            "https://a.example / @u stored=1700000000.000000000 password=ghp_a",
        ])
        .as_bytes(),
    );
    let (code, out, err) = pat_within(&p, "get", "protocol=https\nhost=a.example\n");
    assert_eq!((code, out.as_str()), (1, ""), "{err}");
    assert!(
        err.contains("is not sorted (line 4 is out of order)"),
        "{err}"
    );

    // A corrupt line under another host: the store of a new host must not copy it through.
    write_private(
        &p.file,
        v1_file(&["https://b.example / @u stored=1700000000.000000000 password=ghp_b secret=x"])
            .as_bytes(),
    );
    let before = std::fs::read(&p.file).unwrap();
    let (code, _, err) = pat_within(&p, "store", &cred("z.example", "u", "ghp_z"));
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("is corrupt at line 2 (unknown attribute)"),
        "{err}"
    );
    assert!(!err.contains("ghp_"), "{err}");
    assert_eq!(
        std::fs::read(&p.file).unwrap(),
        before,
        "nothing written over it"
    );

    // Once the helper has written the file itself, it trusts it again; a later hand edit is
    // noticed (its identity changes) and checked whole once more.
    std::fs::remove_file(&p.file).unwrap();
    p.store(&cred("a.example", "u", "ghp_a"));
    p.store(&cred("b.example", "u", "ghp_b"));
    assert!(
        p.get("protocol=https\nhost=a.example\n")
            .contains("password=ghp_a")
    );
    let mut body = std::fs::read_to_string(&p.file).unwrap();
    body.push_str("https://0.example / @u stored=1700000000.000000000 password=ghp_0\n");
    write_private(&p.file, body.as_bytes());
    let (code, _, err) = pat_within(&p, "get", "protocol=https\nhost=a.example\n");
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("is not sorted"), "{err}");
}

/// A credentials file left by `sudo git ...` (root's, mode 0600, in the user's own data
/// directory): the user cannot open it, and every action says whose it is and how to take
/// it back, in one line, changing nothing.
#[test]
fn a_0600_file_of_root_in_the_users_directory_is_named_with_the_fix() {
    let n = Nobody::new("sudo-left");
    let dir = n.home.join("data");
    std::fs::create_dir(&dir).unwrap();
    set_mode(&dir, 0o700);
    std::os::unix::fs::chown(&dir, Some(NOBODY), Some(NOBODY)).unwrap();
    let file = dir.join("credentials");
    let file_arg = file.to_str().unwrap().to_owned();
    // Stored as root (the sudo), so root owns the file and its lock.
    let out = crate::common::run(
        n.world
            .helper()
            .args(["--backend=file", "--file", &file_arg, "store"]),
        cred("h", "u", "ghp_roots").as_bytes(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let before = std::fs::read(&file).unwrap();
    assert_eq!(
        std::fs::symlink_metadata(&file).unwrap().uid(),
        0,
        "this test runs as root (CI does)"
    );
    for (action, input) in [
        ("get", "protocol=https\nhost=h\n".to_owned()),
        ("store", cred("h", "u", "ghp_users")),
        ("erase", "protocol=https\nhost=h\n".to_owned()),
    ] {
        let (code, out, err) = parts(&run_within(
            &mut n.command(&n.bin, &["--backend=file", "--file", &file_arg, action]),
            input.as_bytes(),
            DEADLINE,
        ));
        assert_eq!((code, out.as_str()), (1, ""), "{action}: {err}");
        assert_eq!(
            err,
            format!(
                "git-credential-pat: {file_arg} is owned by uid 0, not by you (uid {NOBODY}); refusing to use it: remove it, or if it is yours (a file created under sudo), run: sudo chown {NOBODY} {file_arg}\n"
            ),
            "{action}"
        );
        assert_eq!(std::fs::read(&file).unwrap(), before, "{action} changed it");
    }
}
