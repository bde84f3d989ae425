//! Shared harness for the integration tests: an isolated world per test.
//!
//! Every test gets its own directory under `CARGO_TARGET_TMPDIR` with a private HOME, XDG
//! directories and global git config, so nothing on the machine (a developer's
//! `~/.gitconfig`, `GIT_SSL_CAINFO`, a running keychain) leaks into what is tested, and
//! nothing a test stores leaks out.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Path of the helper binary cargo built for these tests.
pub const BIN: &str = env!("CARGO_BIN_EXE_git-credential-pat");

/// Environment variables of the machine that would change what git or the helper does.
const SCRUBBED: &[&str] = &[
    "GIT_SSL_CAINFO",
    "GIT_SSL_CAPATH",
    "GIT_SSL_NO_VERIFY",
    "GIT_ASKPASS",
    "SSH_ASKPASS",
    "GIT_CONFIG",
    "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_COUNT",
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_TRACE",
    "GIT_CURL_VERBOSE",
    "GIT_TERMINAL_PROMPT",
    "GIT_CREDENTIAL_PAT_BACKEND",
    "GIT_CREDENTIAL_PAT_FILE",
    "GIT_CREDENTIAL_PAT_TTL",
    "GIT_CREDENTIAL_PAT_WARN",
    "DBUS_SESSION_BUS_ADDRESS",
    "XDG_RUNTIME_DIR",
    "NO_COLOR",
];

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// One isolated world: a fresh directory with HOME, XDG dirs and a global git config inside.
pub struct World {
    /// Root of this test's directory.
    pub root: PathBuf,
    /// HOME for every process the test starts.
    pub home: PathBuf,
}

impl World {
    /// Creates a new world named after the test (for readable leftovers on failure).
    pub fn new(name: &str) -> World {
        let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let root = base.join(format!("w-{}-{}-{}", name, std::process::id(), n));
        if root.exists() {
            std::fs::remove_dir_all(&root).unwrap();
        }
        let home = root.join("home");
        std::fs::create_dir_all(&home).unwrap();
        // The default data dir and anything else the helper creates must start out private;
        // CARGO_TARGET_TMPDIR itself may be group-writable on some machines.
        set_mode(&root, 0o700);
        set_mode(&home, 0o700);
        std::fs::write(home.join(".gitconfig"), "").unwrap();
        World { root, home }
    }

    /// The default credentials file of the helper in this world (XDG data dir).
    pub fn default_file(&self) -> PathBuf {
        self.home
            .join(".local/share/git-credential-pat/credentials")
    }

    /// A command with this world's isolated environment applied.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut cmd = Command::new(program);
        for var in SCRUBBED {
            cmd.env_remove(var);
        }
        cmd.env("HOME", &self.home)
            .env("XDG_DATA_HOME", self.home.join(".local/share"))
            .env("XDG_CONFIG_HOME", self.home.join(".config"))
            .env("XDG_STATE_HOME", self.home.join(".local/state"))
            .env("XDG_CACHE_HOME", self.home.join(".cache"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", self.home.join(".gitconfig"))
            .env("GIT_TERMINAL_PROMPT", "0")
            // Hermetic: no test asks a real forge (github.com, gitlab.com, ...) about a test
            // token. Command-scope config, so ~/.gitconfig stays as each test writes it; a
            // `credential.<url>.provider` of a test's own server still wins (more specific).
            .env("GIT_CONFIG_COUNT", "1")
            .env("GIT_CONFIG_KEY_0", "credential.provider")
            .env("GIT_CONFIG_VALUE_0", "generic")
            .env("LC_ALL", "C")
            .current_dir(&self.root);
        cmd
    }

    /// The helper binary with the isolated environment.
    pub fn helper(&self) -> Command {
        self.command(BIN)
    }

    /// `git` with the isolated environment.
    pub fn git(&self) -> Command {
        self.command("git")
    }

    /// Runs the helper with `args`, feeding `stdin`.
    pub fn run_helper(&self, args: &[&str], stdin: &str) -> Output {
        run(self.helper().args(args), stdin.as_bytes())
    }

    /// Runs git with `args`, feeding `stdin`.
    pub fn run_git(&self, args: &[&str], stdin: &str) -> Output {
        run(self.git().args(args), stdin.as_bytes())
    }

    /// Appends a `credential.helper` entry to the world's global git config.
    pub fn add_helper(&self, value: &str) {
        let out = self.run_git(
            &["config", "--global", "--add", "credential.helper", value],
            "",
        );
        assert!(
            out.status.success(),
            "git config failed: {}",
            text(&out.stderr)
        );
    }

    /// Configures the built helper, with `args`, as the only credential helper.
    pub fn use_pat(&self, args: &str) {
        self.add_helper(&format!("{} {}", shell_quote(BIN), args));
    }
}

/// Runs `cmd` to completion with `stdin` written and closed.
pub fn run(cmd: &mut Command, stdin: &[u8]) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot start {:?}: {e} (is it installed?)",
                cmd.get_program()
            )
        });
    {
        let mut input = child.stdin.take().unwrap();
        // A helper may refuse a request early and close its end; that is not a test failure.
        let _ = input.write_all(stdin);
    }
    child.wait_with_output().unwrap()
}

/// Lossy text of process output, for assertions and messages.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Escapes `path` for git's shell-parsed `credential.helper` value. Backslashes, not quotes:
/// git recognises an absolute helper path only when the value starts with `/`.
pub fn shell_quote(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        if !(c.is_ascii_alphanumeric() || "/._-+=:,@".contains(c)) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Writes a credentials file the way the helper would leave it: mode 0600 in a 0700 directory.
pub fn write_private(file: &Path, contents: &[u8]) {
    let dir = file.parent().unwrap();
    std::fs::create_dir_all(dir).unwrap();
    set_mode(dir, 0o700);
    std::fs::write(file, contents).unwrap();
    set_mode(file, 0o600);
}

/// A v1 credentials file holding `lines` (which must be sorted).
pub fn v1_file(lines: &[&str]) -> String {
    let mut body = String::from("# git-credential-pat credentials v1\n");
    for l in lines {
        body.push_str(l);
        body.push('\n');
    }
    body
}

/// Sets the permission bits of `path`.
pub fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Permission bits of `path`.
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

/// The git on PATH as (major, minor); fails the test if git is missing.
pub fn git_version() -> (u32, u32) {
    let out = Command::new("git")
        .arg("--version")
        .output()
        .expect("git is not installed: install git (>= 2.46) to run these tests");
    let s = text(&out.stdout);
    let v = s.trim().trim_start_matches("git version ");
    let mut parts = v.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

/// Fails the test unless the git on PATH is at least `major.minor`.
pub fn require_git(major: u32, minor: u32) {
    let v = git_version();
    assert!(
        v >= (major, minor),
        "this test needs git >= {major}.{minor} first on PATH, found {}.{}",
        v.0,
        v.1
    );
}
