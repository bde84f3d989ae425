//! install.sh (DESIGN.md §7): installing, configuring git so that pat comes first, running
//! twice, `--no-configure` and `--uninstall`, each in an isolated world with `--prefix` inside it.
//!
//! The script installs the test-built binary (`GIT_CREDENTIAL_PAT_BIN`), so no release build
//! runs; the build-or-reuse decision is tested on a copy of the script with a stand-in cargo.

// These tests drive Unix permissions, mounts and shells; the code they test compiles
// everywhere (cargo clippy --target ...), and runs on Unix.
#![cfg(unix)]

mod common;

use common::{BIN, World, run, shell_quote, text};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, SystemTime};

/// The script under test, in the source tree.
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/install.sh");

/// A world with an install prefix inside it.
struct Setup {
    w: World,
    prefix: PathBuf,
}

impl Setup {
    fn new(name: &str) -> Setup {
        Setup::with_prefix(name, "prefix")
    }

    fn with_prefix(name: &str, dir: &str) -> Setup {
        let w = World::new(name);
        let prefix = w.root.join(dir);
        Setup { w, prefix }
    }

    fn bin_dir(&self) -> PathBuf {
        self.prefix.join("bin")
    }

    fn installed(&self) -> PathBuf {
        self.bin_dir().join("git-credential-pat")
    }

    fn absolute_helper(&self) -> String {
        absolute_helper(&self.prefix)
    }

    /// PATH with the prefix's bin directory first.
    fn path_with_bin(&self) -> String {
        format!("{}:{}", self.bin_dir().display(), base_path())
    }

    fn gitconfig(&self) -> PathBuf {
        self.w.home.join(".gitconfig")
    }

    fn state(&self) -> PathBuf {
        self.w
            .home
            .join(".local/share/git-credential-pat/install-state")
    }

    /// A command in the world, outside any git repository, with PATH set to `path`.
    fn command(&self, program: impl AsRef<std::ffi::OsStr>, path: &str) -> Command {
        let mut cmd = self.w.command(program);
        // The world lives under target/, inside this repository: keep its .git/config out.
        cmd.env("GIT_CEILING_DIRECTORIES", &self.w.root)
            .env("PATH", path)
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("GIT_CREDENTIAL_PAT_BIN");
        cmd
    }

    /// Runs `script` with `args` and `PATH=path`, installing the test-built binary.
    fn run_script(&self, script: &Path, args: &[&str], path: &str) -> Output {
        let mut cmd = self.command(script, path);
        cmd.env("GIT_CREDENTIAL_PAT_BIN", BIN).args(args);
        run(&mut cmd, b"")
    }

    /// Runs install.sh with `--prefix` and `args`, the prefix's bin not on PATH.
    fn install(&self, args: &[&str]) -> Output {
        self.install_with_path(args, &base_path())
    }

    fn install_with_path(&self, args: &[&str], path: &str) -> Output {
        let prefix = format!("--prefix={}", self.prefix.display());
        let mut all = vec![prefix.as_str()];
        all.extend_from_slice(args);
        self.run_script(Path::new(SCRIPT), &all, path)
    }

    fn uninstall(&self) -> Output {
        self.run_script(Path::new(SCRIPT), &["--uninstall"], &base_path())
    }

    /// Runs git in the world with the test's PATH.
    fn git(&self, args: &[&str], stdin: &str) -> Output {
        self.git_with_path(args, stdin, &base_path())
    }

    fn git_with_path(&self, args: &[&str], stdin: &str, path: &str) -> Output {
        run(self.command("git", path).args(args), stdin.as_bytes())
    }

    /// `git config --global --get-all credential.helper`, one value per line.
    fn global_helpers(&self) -> String {
        text(
            &self
                .git(
                    &["config", "--global", "--get-all", "credential.helper"],
                    "",
                )
                .stdout,
        )
    }

    fn add_global(&self, key: &str, value: &str) {
        let out = self.git(&["config", "--global", "--add", key, value], "");
        assert!(
            out.status.success(),
            "git config failed: {}",
            text(&out.stderr)
        );
    }
}

/// The `credential.helper` value of the binary installed under `prefix` when its directory is
/// not on PATH: the absolute path, single-quoted after its leading `/` when it needs quoting
/// (git takes a value for a path only when it starts with `/`).
fn absolute_helper(prefix: &Path) -> String {
    let path = prefix
        .join("bin/git-credential-pat")
        .to_str()
        .unwrap()
        .to_owned();
    if path
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"_./:@%+,=-".contains(&b))
    {
        path
    } else {
        format!("/'{}'", path[1..].replace('\'', r"'\''"))
    }
}

/// The PATH of the test process (the prefix of a world is never on it).
fn base_path() -> String {
    std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into())
}

/// Asserts that install.sh succeeded and returns its stdout and stderr.
fn ok(out: &Output) -> (String, String) {
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(
        out.status.success(),
        "install.sh failed ({:?})\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status.code()
    );
    (stdout, stderr)
}

fn read(path: &Path) -> Vec<u8> {
    fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn mtime(path: &Path) -> SystemTime {
    fs::metadata(path).unwrap().modified().unwrap()
}

fn set_mtime(path: &Path, time: SystemTime) {
    // futimens(2) on a read-only descriptor: works for directories too, as the owner.
    fs::File::open(path).unwrap().set_modified(time).unwrap();
}

#[test]
fn fresh_config_gets_a_reset_then_pat_by_absolute_path() {
    let s = Setup::new("fresh");
    let (stdout, stderr) = ok(&s.install(&[]));

    assert_eq!(s.global_helpers(), format!("\n{}\n", s.absolute_helper()));
    assert_eq!(
        text(&read(&s.gitconfig())),
        format!(
            "[credential]\n\thelper = \n\thelper = {}\n",
            s.absolute_helper()
        )
    );
    assert_eq!(
        read(&s.installed()),
        read(Path::new(BIN)),
        "installed binary differs"
    );
    assert_eq!(common::mode(&s.installed()), 0o755);
    assert!(
        stdout.contains("GIT_CREDENTIAL_PAT_BIN"),
        "source of the binary not said: {stdout}"
    );
    assert!(
        stderr.contains("is not on PATH"),
        "no PATH warning: {stderr}"
    );
    assert!(
        stderr.contains(&s.bin_dir().display().to_string()),
        "{stderr}"
    );

    let state = s.state();
    assert_eq!(common::mode(&state), 0o600);
    assert_eq!(common::mode(state.parent().unwrap()), 0o700);
    let recorded = text(&read(&state));
    assert!(
        recorded.contains(&format!("file={}\n", s.installed().display())),
        "{recorded}"
    );
    assert!(recorded.contains("configured=yes\n"), "{recorded}");
    assert!(recorded.contains("had_helper=no\n"), "{recorded}");
    assert!(recorded.contains("had_section=no\n"), "{recorded}");
    assert!(
        !recorded.contains("before="),
        "nothing was there before: {recorded}"
    );
}

#[test]
fn prefix_on_path_is_configured_as_bare_pat() {
    let s = Setup::new("onpath");
    let (stdout, stderr) = ok(&s.install_with_path(&[], &s.path_with_bin()));

    assert_eq!(s.global_helpers(), "\npat\n");
    assert!(
        !stderr.contains("not on PATH"),
        "spurious PATH warning: {stderr}"
    );
    assert!(stdout.contains("git credential-pat doctor"), "{stdout}");
}

#[test]
fn prefix_with_space_and_quote_is_quoted_after_the_leading_slash() {
    let s = Setup::with_prefix("quoted", "pre fix'q");
    ok(&s.install(&[]));
    let expected = s.absolute_helper();
    assert!(expected.starts_with("/'"), "{expected}");
    assert_eq!(s.global_helpers(), format!("\n{expected}\n"));
    assert!(s.installed().is_file());
}

#[test]
fn helpers_that_applied_before_follow_pat_in_order_with_a_store_warning() {
    let s = Setup::new("existing");
    let system = s.w.root.join("system-gitconfig");
    fs::write(&system, "[credential]\n\thelper = cache --timeout=300\n").unwrap();
    s.add_global("user.name", "Someone");
    s.add_global("credential.helper", "store");
    s.add_global("credential.helper", "!f() { echo \"username=a b\"; }; f");
    s.add_global("credential.https://example.com.helper", "manager");
    s.add_global("credential.https://reset.example.com.helper", "");
    let before = read(&s.gitconfig());

    let with_system = |mut cmd: Command| {
        cmd.env_remove("GIT_CONFIG_NOSYSTEM")
            .env("GIT_CONFIG_SYSTEM", &system);
        cmd
    };
    let prefix = format!("--prefix={}", s.prefix.display());
    let mut cmd = with_system(s.command(SCRIPT, &s.path_with_bin()));
    cmd.env("GIT_CREDENTIAL_PAT_BIN", BIN).arg(&prefix);
    let (stdout, stderr) = ok(&run(&mut cmd, b""));

    let mut get_all = with_system(s.command("git", &base_path()));
    get_all.args(["config", "--get-all", "credential.helper"]);
    let helpers = text(&run(&mut get_all, b"").stdout);
    assert_eq!(
        helpers,
        "cache --timeout=300\n\npat\ncache --timeout=300\nstore\n!f() { echo \"username=a b\"; }; f\n"
    );
    let all = format!("{stdout}{stderr}");
    for expected in [
        "cache --timeout=300",
        "store",
        "plain-text",
        "~/.git-credentials",
        "git credential-pat import",
        "https://example.com",
        "resets the helper list for those URLs",
    ] {
        assert!(all.contains(expected), "report lacks {expected:?}:\n{all}");
    }
    let url_helper = s.git(
        &[
            "config",
            "--global",
            "credential.https://example.com.helper",
        ],
        "",
    );
    assert_eq!(
        text(&url_helper.stdout),
        "manager\n",
        "URL-specific helper touched"
    );

    let mut cmd = with_system(s.command(SCRIPT, &s.path_with_bin()));
    cmd.arg("--uninstall");
    let (stdout, _) = ok(&run(&mut cmd, b""));
    assert_eq!(text(&read(&s.gitconfig())), text(&before), "{stdout}");
    assert_eq!(
        text(&read(&system)),
        "[credential]\n\thelper = cache --timeout=300\n",
        "system config touched"
    );
}

#[test]
fn an_existing_pat_entry_is_moved_first_with_its_options_not_duplicated() {
    let s = Setup::new("patdup");
    s.add_global("credential.helper", "store");
    s.add_global("credential.helper", "pat --backend=file");
    s.add_global("credential.helper", "pat");
    ok(&s.install_with_path(&[], &s.path_with_bin()));
    assert_eq!(s.global_helpers(), "\npat --backend=file\nstore\n");
}

#[test]
fn second_run_changes_nothing() {
    let s = Setup::new("twice");
    s.add_global("credential.helper", "store");
    ok(&s.install(&[]));
    let config = read(&s.gitconfig());
    let binary = read(&s.installed());
    let binary_mtime = mtime(&s.installed());
    let state = read(&s.state());

    let (stdout, _) = ok(&s.install(&[]));
    assert!(stdout.contains("already configured"), "{stdout}");
    assert_eq!(text(&read(&s.gitconfig())), text(&config));
    assert_eq!(read(&s.installed()), binary);
    assert_eq!(mtime(&s.installed()), binary_mtime, "binary rewritten");
    assert_eq!(text(&read(&s.state())), text(&state));
    assert_eq!(
        s.global_helpers(),
        format!("\n{}\nstore\n", s.absolute_helper())
    );
}

#[test]
fn no_configure_installs_the_files_only() {
    let s = Setup::new("noconf");
    s.add_global("credential.helper", "store");
    let before = read(&s.gitconfig());

    let (stdout, _) = ok(&s.install(&["--no-configure"]));
    assert!(s.installed().is_file());
    assert_eq!(read(&s.gitconfig()), before);
    assert!(stdout.contains("--no-configure"), "{stdout}");
    assert!(text(&read(&s.state())).contains("configured=no\n"));

    ok(&s.uninstall());
    assert!(!s.installed().exists());
    assert_eq!(read(&s.gitconfig()), before);
}

/// Installs, checks pat is configured, uninstalls, and checks `~/.gitconfig` is back byte for byte.
fn round_trip(s: &Setup) {
    let before = fs::read(s.gitconfig()).ok();
    ok(&s.install(&[]));
    assert!(
        s.global_helpers()
            .starts_with(&format!("\n{}\n", s.absolute_helper()))
    );
    let (stdout, _) = ok(&s.uninstall());
    assert_eq!(
        fs::read(s.gitconfig()).ok().map(|b| text(&b)),
        before.map(|b| text(&b)),
        "{stdout}"
    );
    assert!(!s.installed().exists(), "binary left behind");
    assert!(!s.state().exists(), "state file left behind");
}

#[test]
fn uninstall_restores_an_absent_gitconfig() {
    let s = Setup::new("absent");
    fs::remove_file(s.gitconfig()).unwrap();
    round_trip(&s);
    assert!(!s.gitconfig().exists());
}

#[test]
fn uninstall_restores_an_empty_gitconfig() {
    let s = Setup::new("empty");
    round_trip(&s);
    assert_eq!(read(&s.gitconfig()), b"");
}

#[test]
fn uninstall_restores_a_gitconfig_with_other_sections_and_a_helper() {
    let s = Setup::new("sections");
    fs::write(
        s.gitconfig(),
        "# my settings\n[user]\n\tname = Someone\n\temail = someone@example.com\n\
         [credential]\n\thelper = store --file ~/.my-credentials\n\
         [credential \"https://example.com\"]\n\tusername = me\n\
         [core]\n\teditor = vi\n",
    )
    .unwrap();
    round_trip(&s);
}

#[test]
fn uninstall_keeps_a_credential_section_holding_other_keys() {
    let s = Setup::new("otherkeys");
    fs::write(
        s.gitconfig(),
        "[credential]\n\tuseHttpPath = true\n\tusername = me\n[alias]\n\tco = checkout\n",
    )
    .unwrap();
    round_trip(&s);
}

#[test]
fn hand_formatted_helper_lines_come_back_in_gits_layout_and_install_says_so() {
    let s = Setup::new("handmade");
    fs::write(
        s.gitconfig(),
        "[credential]\n    helper=store # mine\n[core]\n\teditor = vi\n",
    )
    .unwrap();
    let (stdout, _) = ok(&s.install(&[]));
    assert!(stdout.contains("not in git's own layout"), "{stdout}");
    ok(&s.uninstall());
    assert_eq!(
        text(&read(&s.gitconfig())),
        "[credential]\n\thelper = store\n[core]\n\teditor = vi\n"
    );
}

#[test]
fn without_gitconfig_git_global_config_means_the_xdg_file() {
    let s = Setup::new("xdg");
    fs::remove_file(s.gitconfig()).unwrap();
    let xdg = s.w.home.join(".config/git/config");
    fs::create_dir_all(xdg.parent().unwrap()).unwrap();
    fs::write(&xdg, "[user]\n\tname = Someone\n").unwrap();
    let script = |args: &[&str]| {
        let mut cmd = s.command(SCRIPT, &base_path());
        cmd.env_remove("GIT_CONFIG_GLOBAL")
            .env("GIT_CREDENTIAL_PAT_BIN", BIN)
            .args(args);
        run(&mut cmd, b"")
    };

    let (stdout, _) = ok(&script(&[&format!("--prefix={}", s.prefix.display())]));
    assert!(stdout.contains(&xdg.display().to_string()), "{stdout}");
    assert_eq!(
        text(&read(&xdg)),
        format!(
            "[user]\n\tname = Someone\n[credential]\n\thelper = \n\thelper = {}\n",
            s.absolute_helper()
        )
    );
    assert!(!s.gitconfig().exists(), "~/.gitconfig created");

    ok(&script(&["--uninstall"]));
    assert_eq!(text(&read(&xdg)), "[user]\n\tname = Someone\n");
    assert!(!s.gitconfig().exists(), "~/.gitconfig created");
}

#[test]
fn uninstall_after_the_user_changed_helpers_keeps_their_change_and_says_so() {
    let s = Setup::new("changed");
    s.add_global("credential.helper", "store");
    ok(&s.install(&[]));
    s.add_global("credential.helper", "osxkeychain");

    let (_, stderr) = ok(&s.uninstall());
    assert_eq!(s.global_helpers(), "store\nosxkeychain\n");
    assert!(stderr.contains("changed after install"), "{stderr}");
    assert!(!s.installed().exists());
}

#[test]
fn reinstalling_under_another_prefix_moves_pat_and_uninstall_removes_both() {
    let old = Setup::with_prefix("move", "old");
    let new_prefix = old.w.root.join("new");
    old.add_global("credential.helper", "store");
    let before = read(&old.gitconfig());
    ok(&old.install(&[]));
    let (stdout, _) = ok(&old.install_with_path(
        &[&format!("--prefix={}", new_prefix.display())],
        &base_path(),
    ));
    assert!(stdout.contains("earlier install"), "{stdout}");
    // The later --prefix wins; the entry of the first install is not kept as a duplicate.
    assert_eq!(
        old.global_helpers(),
        format!("\n{}\nstore\n", absolute_helper(&new_prefix))
    );

    ok(&old.uninstall());
    assert!(!old.installed().exists());
    assert!(!new_prefix.join("bin/git-credential-pat").exists());
    assert_eq!(text(&read(&old.gitconfig())), text(&before));
}

#[test]
fn uninstall_without_state_removes_the_files_and_pat_only() {
    let s = Setup::new("nostate");
    s.add_global("credential.helper", "store");
    ok(&s.install(&[]));
    fs::remove_file(s.state()).unwrap();

    let prefix = format!("--prefix={}", s.prefix.display());
    let (stdout, _) = ok(&s.run_script(Path::new(SCRIPT), &["--uninstall", &prefix], &base_path()));
    assert!(stdout.contains("No install state"), "{stdout}");
    assert!(!s.installed().exists());
    assert_eq!(s.global_helpers(), "\nstore\n");
}

#[test]
fn uninstall_says_where_stored_tokens_are() {
    let s = Setup::new("tokens");
    ok(&s.install(&[]));
    let (stdout, _) = ok(&s.uninstall());
    assert!(
        stdout.contains(&s.w.default_file().display().to_string()),
        "{stdout}"
    );
    assert!(stdout.contains("not deleted"), "{stdout}");
}

/// A copy of install.sh in a source tree of its own (Cargo files, src/, target/).
fn fake_tree(s: &Setup) -> PathBuf {
    let tree = s.w.root.join("tree");
    fs::create_dir_all(tree.join("src")).unwrap();
    fs::copy(SCRIPT, tree.join("install.sh")).unwrap();
    fs::write(tree.join("Cargo.toml"), "[package]\nname = \"fake\"\n").unwrap();
    fs::write(tree.join("Cargo.lock"), "version = 4\n").unwrap();
    fs::write(tree.join("src/main.rs"), "fn main() {}\n").unwrap();
    tree
}

#[test]
fn man_page_and_completions_are_installed_when_shipped_and_removed_on_uninstall() {
    let s = Setup::new("extras");
    let tree = fake_tree(&s);
    let shipped = [
        (
            "doc/git-credential-pat.1",
            "share/man/man1/git-credential-pat.1",
        ),
        (
            "contrib/completions/git-credential-pat.bash",
            "share/bash-completion/completions/git-credential-pat",
        ),
        (
            "contrib/completions/_git-credential-pat",
            "share/zsh/site-functions/_git-credential-pat",
        ),
        (
            "contrib/completions/git-credential-pat.fish",
            "share/fish/vendor_completions.d/git-credential-pat.fish",
        ),
    ];
    for (from, _) in shipped {
        fs::create_dir_all(tree.join(from).parent().unwrap()).unwrap();
        fs::write(tree.join(from), format!("contents of {from}\n")).unwrap();
    }
    let prefix = format!("--prefix={}", s.prefix.display());
    ok(&s.run_script(&tree.join("install.sh"), &[&prefix], &base_path()));
    for (from, to) in shipped {
        assert_eq!(
            text(&read(&s.prefix.join(to))),
            format!("contents of {from}\n")
        );
        assert_eq!(common::mode(&s.prefix.join(to)), 0o644);
    }

    let (stdout, _) = ok(&s.run_script(&tree.join("install.sh"), &["--uninstall"], &base_path()));
    for (_, to) in shipped {
        assert!(!s.prefix.join(to).exists(), "{to} left behind:\n{stdout}");
    }
    assert!(
        !s.prefix.exists(),
        "directories install.sh created were left behind"
    );
}

#[test]
fn the_release_binary_is_reused_when_fresh_and_rebuilt_with_cargo_when_stale() {
    let s = Setup::new("build");
    let tree = fake_tree(&s);
    let tools = s.w.root.join("tools");
    fs::create_dir_all(&tools).unwrap();
    let log = s.w.root.join("cargo.log");
    // A stand-in cargo: records how it was called and "builds" by copying the test binary.
    fs::write(
        tools.join("cargo"),
        format!(
            "#!/bin/sh\nprintf '%s in %s\\n' \"$*\" \"$PWD\" >> {log}\n\
             [ -z \"${{FAIL:-}}\" ] || exit 101\n\
             mkdir -p target/release && cp {bin} target/release/git-credential-pat\n",
            log = shell_quote(log.to_str().unwrap()),
            bin = shell_quote(BIN),
        ),
    )
    .unwrap();
    common::set_mode(&tools.join("cargo"), 0o755);
    let path = format!("{}:{}", tools.display(), base_path());
    let built = tree.join("target/release/git-credential-pat");
    fs::create_dir_all(built.parent().unwrap()).unwrap();
    fs::copy(BIN, &built).unwrap();
    let now = SystemTime::now();
    for f in ["src/main.rs", "src", "Cargo.toml", "Cargo.lock"] {
        set_mtime(&tree.join(f), now - Duration::from_secs(100));
    }
    set_mtime(&built, now - Duration::from_secs(50));
    let script = tree.join("install.sh");
    let prefix = format!("--prefix={}", s.prefix.display());
    let run_tree = |fail: bool| {
        let mut cmd = s.command(&script, &path);
        cmd.args([prefix.as_str(), "--no-configure"]);
        if fail {
            cmd.env("FAIL", "1");
        }
        run(&mut cmd, b"")
    };

    let (stdout, _) = ok(&run_tree(false));
    assert!(
        !log.exists(),
        "cargo ran although the binary was fresh: {}",
        text(&read(&log))
    );
    assert!(stdout.contains("already built"), "{stdout}");
    assert!(stdout.contains(&built.display().to_string()), "{stdout}");
    assert_eq!(read(&s.installed()), read(Path::new(BIN)));

    set_mtime(&tree.join("src/main.rs"), now);
    let (stdout, _) = ok(&run_tree(false));
    assert_eq!(
        text(&read(&log)),
        format!("build --release --locked in {}\n", tree.display())
    );
    assert!(
        stdout.contains("src/main.rs"),
        "the stale source is not named: {stdout}"
    );
    assert!(
        stdout.contains("cargo build --release --locked"),
        "{stdout}"
    );

    set_mtime(&tree.join("Cargo.lock"), now + Duration::from_secs(60));
    let out = run_tree(true);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("cargo build --release --locked failed"),
        "{stderr}"
    );
}

#[test]
fn bad_usage_is_one_line_and_exit_2() {
    let s = Setup::new("usage");
    for args in [&["--bogus"][..], &["--prefix"], &["--prefix="]] {
        let out = s.run_script(Path::new(SCRIPT), args, &base_path());
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = text(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("install.sh: "), "{stderr}");
    }
    let out = s.run_script(Path::new(SCRIPT), &["--help"], &base_path());
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("--uninstall"));
    assert!(!s.installed().exists());
}

#[test]
fn a_helper_value_with_a_newline_is_refused_and_nothing_is_configured() {
    let s = Setup::new("newline");
    s.add_global("credential.helper", "store\n--file=x");
    let before = read(&s.gitconfig());
    let out = s.install(&[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("newline"), "{stderr}");
    assert_eq!(read(&s.gitconfig()), before);
}

#[test]
fn git_reaches_the_installed_helper_by_name_and_by_quoted_path() {
    for (name, dir, on_path) in [
        ("fill-name", "prefix", true),
        ("fill-path", "pre fix'q", false),
    ] {
        let s = Setup::with_prefix(name, dir);
        let path = if on_path {
            s.path_with_bin()
        } else {
            base_path()
        };
        ok(&s.install_with_path(&[], &path));
        let expected = if on_path {
            "pat".to_owned()
        } else {
            s.absolute_helper()
        };
        assert_eq!(s.global_helpers(), format!("\n{expected}\n"));

        let cred = "protocol=https\nhost=example.com\nusername=alice\npassword=tok-install-1\n";
        let out = s.git_with_path(&["credential", "approve"], cred, &path);
        assert!(
            out.status.success(),
            "{name}: approve: {}",
            text(&out.stderr)
        );
        assert!(
            s.w.default_file().is_file(),
            "{name}: the helper stored nothing"
        );
        let out = s.git_with_path(
            &["credential", "fill"],
            "protocol=https\nhost=example.com\n",
            &path,
        );
        assert!(out.status.success(), "{name}: fill: {}", text(&out.stderr));
        assert_eq!(
            text(&out.stdout),
            "protocol=https\nhost=example.com\nusername=alice\npassword=tok-install-1\n",
            "{name}"
        );

        ok(&s.uninstall());
        let out = s.git_with_path(
            &["credential", "fill"],
            "protocol=https\nhost=example.com\n",
            &path,
        );
        assert!(
            !out.status.success(),
            "{name}: still answered after uninstall"
        );
        assert!(
            s.w.default_file().is_file(),
            "{name}: uninstall deleted stored tokens"
        );
    }
}
