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

// --- git version, PATH, completions and man page (DESIGN.md §7) ------------------------------

/// The git the tests run (first on the test's PATH; 2.46 or newer).
fn real_git() -> String {
    let out = run(
        Command::new("sh")
            .args(["-c", "command -v git"])
            .env("PATH", base_path()),
        b"",
    );
    let git = text(&out.stdout).trim().to_owned();
    assert!(git.starts_with('/'), "no git on PATH: {git:?}");
    git
}

/// A path, the contents of a file (None for a directory or symlink), its modification time.
type Entry = (PathBuf, Option<Vec<u8>>, Option<SystemTime>);

/// Every path under `dir` with the contents of files, and, when `with_mtimes`, their
/// modification times.
fn snapshot(dir: &Path, with_mtimes: bool) -> Vec<Entry> {
    let mut all = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            let meta = fs::symlink_metadata(&path).unwrap();
            let time = with_mtimes.then(|| meta.modified().unwrap());
            if meta.is_dir() {
                todo.push(path.clone());
                all.push((path, None, time));
            } else if meta.is_file() {
                all.push((path.clone(), Some(read(&path)), time));
            } else {
                all.push((path, None, time));
            }
        }
    }
    all.sort();
    all
}

fn paths(snap: &[Entry]) -> Vec<String> {
    snap.iter()
        .map(|(p, _, _)| p.display().to_string())
        .collect()
}

impl Setup {
    /// install.sh without `--prefix` (so into `~/.local`), stdout and stderr merged in one
    /// stream in the order they were written, with `PATH=path`, SHELL and MANPATH unset,
    /// and `env` (a `None` value unsets).
    fn install_default(&self, args: &[&str], path: &str, env: &[(&str, Option<&str>)]) -> Output {
        self.merged(SCRIPT, args, path, env)
    }

    /// Runs `script` with stdout and stderr merged (see `install_default`).
    fn merged(
        &self,
        script: impl AsRef<std::ffi::OsStr>,
        args: &[&str],
        path: &str,
        env: &[(&str, Option<&str>)],
    ) -> Output {
        let mut cmd = self.command("sh", path);
        cmd.args(["-c", "exec \"$0\" \"$@\" 2>&1"])
            .arg(script)
            .args(args)
            .env("GIT_CREDENTIAL_PAT_BIN", BIN)
            .env_remove("SHELL")
            .env_remove("MANPATH")
            .env_remove("ZDOTDIR")
            .env_remove("XDG_DATA_DIRS")
            .env_remove("BASH_COMPLETION_USER_DIR")
            .env_remove("GIT_CREDENTIAL_PAT_BASH_COMPLETION");
        for (k, v) in env {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        run(&mut cmd, b"")
    }

    fn local(&self, rel: &str) -> PathBuf {
        self.w.home.join(rel)
    }

    /// A shell command run in the world with `PATH=path`; returns its stdout, asserting
    /// success.
    fn shell(&self, shell: &str, args: &[&str], path: &str) -> String {
        let out = run(self.command(shell, path).args(args), b"");
        assert!(
            out.status.success(),
            "{shell} {args:?} failed:\nstdout:\n{}\nstderr:\n{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        text(&out.stdout)
    }
}

/// A directory holding only an executable `git`: a symlink to `target`, or, when `version`
/// is given, a stand-in that reports that `git --version` and runs the real git otherwise.
fn git_dir(s: &Setup, name: &str, target: &str, version: Option<&str>) -> PathBuf {
    let dir = s.w.root.join(name);
    fs::create_dir_all(&dir).unwrap();
    let git = dir.join("git");
    match version {
        None => std::os::unix::fs::symlink(target, &git).unwrap(),
        Some(v) => {
            fs::write(
                &git,
                format!(
                    "#!/bin/sh\n[ \"$1\" != --version ] || {{ echo 'git version {v}'; exit 0; }}\nexec {} \"$@\"\n",
                    shell_quote(target)
                ),
            )
            .unwrap();
            common::set_mode(&git, 0o755);
        }
    }
    dir
}

/// A git older than 2.46: Debian 12's /usr/bin/git when that is what it is, else a stand-in
/// reporting 2.39.5.
fn old_git(s: &Setup) -> PathBuf {
    let debian = Path::new("/usr/bin/git");
    if debian.is_file() {
        let out = run(Command::new(debian).arg("--version"), b"");
        let v = text(&out.stdout);
        let minor = v
            .trim()
            .strip_prefix("git version 2.")
            .and_then(|r| r.split('.').next())
            .and_then(|m| m.parse::<u32>().ok());
        if matches!(minor, Some(m) if m < 46) {
            return git_dir(s, "oldgit", "/usr/bin/git", None);
        }
    }
    // No older git here: a stand-in that says it is 2.39.5.
    git_dir(s, "oldgit", &real_git(), Some("2.39.5"))
}

#[test]
fn an_old_git_first_on_path_is_refused_before_anything_changes() {
    let s = Setup::new("oldgit");
    fs::write(
        s.gitconfig(),
        "[user]\n\tname = Someone\n[credential]\n\thelper = store\n",
    )
    .unwrap();
    let before = read(&s.gitconfig());
    let home_before = snapshot(&s.w.home, true);
    let dir = old_git(&s);
    let path = format!("{}:{}", dir.display(), base_path());
    let git = dir.join("git");
    let version = text(&run(Command::new(&git).arg("--version"), b"").stdout);
    let version = version.trim();

    for args in [
        &[][..],
        &["--no-configure"],
        &[&*format!("--prefix={}", s.prefix.display())],
    ] {
        let out = s.install_default(args, &path, &[("SHELL", Some("/bin/bash"))]);
        let all = text(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {all}");
        assert!(
            all.starts_with(&format!(
                "install.sh: the first git on PATH, {}, is {version}; git-credential-pat needs git 2.46 or newer. Nothing was changed.\n",
                git.display()
            )),
            "{args:?}: {all}"
        );
        assert!(
            all.contains(&format!("A newer git is already installed: {}", real_git())),
            "{all}"
        );
        for expected in [
            "bookworm-backports has no git",
            "Debian 13 (trixie, git 2.47)",
            "sudo add-apt-repository ppa:git-core/ppa && sudo apt update && sudo apt install git",
            "brew install git",
            "https://git-scm.com/downloads",
            "make prefix=$HOME/.local install",
            "--force-old-git",
        ] {
            assert!(all.contains(expected), "no {expected:?} in:\n{all}");
        }
        assert!(!all.contains("not on PATH"), "refusal not first: {all}");
        assert_eq!(read(&s.gitconfig()), before, "~/.gitconfig changed");
        assert_eq!(snapshot(&s.w.home, true), home_before, "HOME changed");
        assert!(!s.prefix.exists(), "prefix created");
        assert!(!s.local(".local/bin/git-credential-pat").exists());
    }
}

#[test]
fn git_versions_are_compared_by_major_and_minor() {
    let s = Setup::new("gitversions");
    let git = real_git();
    for (i, (version, accepted)) in [
        ("2.45.2", false),
        ("2.45.1.windows.1", false),
        ("1.99.0", false),
        ("2.46.0", true),
        ("2.50.1 (Apple Git-155)", true),
        ("3.0.0", true),
    ]
    .into_iter()
    .enumerate()
    {
        let dir = git_dir(&s, &format!("git{i}"), &git, Some(version));
        let path = format!("{}:{}", dir.display(), base_path());
        let prefix = format!("--prefix={}", s.prefix.display());
        let out = s.install_default(&[&prefix, "--no-configure"], &path, &[]);
        let all = text(&out.stdout);
        assert_eq!(out.status.success(), accepted, "{version}: {all}");
        if !accepted {
            assert!(all.contains(&format!("is git version {version};")), "{all}");
        }
        assert_eq!(s.installed().exists(), accepted, "{version}");
        if accepted {
            let out = s.install_default(&["--uninstall", "--no-configure"], &path, &[]);
            assert!(out.status.success(), "{}", text(&out.stdout));
        }
    }
}

#[test]
fn force_old_git_installs_with_a_loud_warning_and_uninstalls_cleanly() {
    let s = Setup::new("forceold");
    s.add_global("credential.helper", "store");
    let before = read(&s.gitconfig());
    let dir = old_git(&s);
    let path = format!("{}:{}", dir.display(), base_path());
    let prefix = format!("--prefix={}", s.prefix.display());

    let out = s.install_default(&[&prefix, "--force-old-git"], &path, &[]);
    let all = text(&out.stdout);
    assert!(out.status.success(), "{all}");
    assert!(
        all.starts_with(&format!(
            "install.sh: warning: !!! the first git on PATH, {}, is git version ",
            dir.join("git").display()
        )),
        "{all}"
    );
    assert!(all.contains("installing anyway (--force-old-git)"), "{all}");
    let last = all.lines().last().unwrap();
    assert!(
        last.starts_with("install.sh: warning: !!! Installed with git version ")
            && last.contains("upgrade git to 2.46 or newer"),
        "{all}"
    );
    assert!(s.installed().is_file());
    assert_eq!(
        s.global_helpers(),
        format!("\n{}\nstore\n", s.absolute_helper())
    );

    let out = s.install_default(&["--uninstall"], &path, &[]);
    assert!(out.status.success(), "{}", text(&out.stdout));
    assert_eq!(text(&read(&s.gitconfig())), text(&before));
    assert!(!s.prefix.exists());
}

#[test]
fn a_missing_git_is_refused_before_anything_changes_unless_no_configure() {
    let s = Setup::new("nogit");
    // A PATH with every tool of /usr/bin and /bin but git.
    let tools = s.w.root.join("tools");
    fs::create_dir_all(&tools).unwrap();
    for dir in ["/usr/bin", "/bin"] {
        for entry in fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name();
            if name.to_string_lossy().starts_with("git") || tools.join(&name).exists() {
                continue;
            }
            std::os::unix::fs::symlink(entry.path(), tools.join(&name)).unwrap();
        }
    }
    let path = tools.display().to_string();
    let before = snapshot(&s.w.home, true);
    let prefix = format!("--prefix={}", s.prefix.display());

    let out = s.install_default(&[&prefix], &path, &[]);
    let all = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        all.starts_with("install.sh: git not found on PATH: install git 2.46 or newer"),
        "{all}"
    );
    assert!(all.contains("Nothing was changed."), "{all}");
    assert_eq!(snapshot(&s.w.home, true), before);
    assert!(!s.prefix.exists());

    let out = s.install_default(&[&prefix, "--no-configure"], &path, &[]);
    assert!(out.status.success(), "{}", text(&out.stdout));
    assert!(s.installed().is_file());
}

#[test]
fn a_bin_dir_off_path_is_said_first_with_the_line_for_the_users_shell() {
    for (i, (shell, zdotdir, profile)) in [
        (Some("/bin/bash"), None, "~/.bashrc"),
        (Some("/usr/bin/zsh"), None, "~/.zshrc"),
        (Some("/usr/bin/zsh"), Some("zdot"), "ZDOTDIR/.zshrc"),
        (Some("/usr/bin/fish"), None, ""),
        (Some("/bin/dash"), None, "~/.profile"),
        (None, None, "~/.profile"),
    ]
    .into_iter()
    .enumerate()
    {
        let s = Setup::new(&format!("offpath{i}"));
        let bin = s.local(".local/bin");
        let zdot = zdotdir.map(|z| s.w.root.join(z).display().to_string());
        let out = s.install_default(
            &[],
            &base_path(),
            &[("SHELL", shell), ("ZDOTDIR", zdot.as_deref())],
        );
        let all = text(&out.stdout);
        assert!(out.status.success(), "{all}");
        let lines: Vec<&str> = all.lines().collect();
        assert_eq!(
            lines[0],
            format!(
                "install.sh: warning: {} is not on PATH: `git credential-pat` and `git-credential-pat` are not found by name, so git is configured with the absolute path.",
                bin.display()
            ),
            "{shell:?}: {all}"
        );
        let check = if shell == Some("/usr/bin/fish") {
            assert_eq!(
                lines[1],
                "  To put it on PATH, run this once in fish (it is remembered), then open a new shell:"
            );
            assert_eq!(lines[2], format!("    fish_add_path {}", bin.display()));
            s.shell(
                "fish",
                &[
                    "-c",
                    &format!("{}; command -v git-credential-pat", lines[2].trim()),
                ],
                &base_path(),
            )
        } else {
            let profile = match &zdot {
                Some(z) => profile.replace("ZDOTDIR", z),
                None => profile.to_owned(),
            };
            let name = shell.map_or("sh", |s| s.rsplit('/').next().unwrap());
            assert_eq!(
                lines[1],
                format!(
                    "  To put it on PATH, add this line to {profile} (your shell: {name}), then open a new shell:"
                ),
                "{all}"
            );
            assert_eq!(
                lines[2],
                format!("    export PATH=\"{}:$PATH\"", bin.display())
            );
            s.shell(
                "sh",
                &[
                    "-c",
                    &format!("{}; command -v git-credential-pat", lines[2].trim()),
                ],
                &base_path(),
            )
        };
        // The printed line puts the installed binary first on PATH.
        assert_eq!(
            check.trim(),
            bin.join("git-credential-pat").display().to_string()
        );
        assert!(lines[3].starts_with("Using the prebuilt binary"), "{all}");
        assert_eq!(
            s.global_helpers(),
            format!("\n{}\n", absolute_helper(&s.local(".local")))
        );
    }
}

#[test]
fn a_bin_dir_on_path_that_does_not_exist_yet_counts_as_on_path() {
    let s = Setup::new("onpathlater");
    let bin = s.local(".local/bin");
    assert!(!bin.exists());
    let path = format!("{}/:{}", bin.display(), base_path());
    let out = s.install_default(&[], &path, &[]);
    let all = text(&out.stdout);
    assert!(out.status.success(), "{all}");
    assert!(!all.contains("not on PATH"), "{all}");
    assert_eq!(s.global_helpers(), "\npat\n");
}

/// The line of `all` starting with `head`, with the lines after it that are indented more.
fn section<'a>(all: &'a str, head: &str) -> Vec<&'a str> {
    let indent = |l: &str| l.len() - l.trim_start_matches(' ').len();
    let mut lines = all.lines().skip_while(|l| !l.starts_with(head));
    let first = lines
        .next()
        .unwrap_or_else(|| panic!("no {head:?} in:\n{all}"));
    std::iter::once(first)
        .chain(lines.take_while(|l| indent(l) > indent(first)))
        .collect()
}

/// `complete -p git-credential-pat` after running `setup` in a bash without startup files.
fn bash_completion_after(s: &Setup, setup: &str) -> String {
    s.shell(
        "bash",
        &[
            "--norc",
            "--noprofile",
            "-c",
            &format!("{setup}\ncomplete -p git-credential-pat"),
        ],
        &base_path(),
    )
}

/// The completion function zsh's compinit registers for git-credential-pat after `setup`.
fn zsh_completion_after(s: &Setup, setup: &str) -> String {
    s.shell(
        "zsh",
        &[
            "-fc",
            &format!(
                "{setup}\nautoload -Uz compinit && compinit -u -D && print -r -- \"${{_comps[git-credential-pat]}}\""
            ),
        ],
        &base_path(),
    )
}

/// What fish completes after `git-credential-pat ` once `setup` ran (the world has no
/// config.fish), with `bin` on PATH: fish loads a completion only for a command it finds.
fn fish_completions_after(s: &Setup, setup: &str, bin: &Path) -> String {
    s.shell(
        "fish",
        &["-c", &format!("{setup}; complete -C 'git-credential-pat '")],
        &format!("{}:{}", bin.display(), base_path()),
    )
}

#[test]
fn completions_go_where_each_shell_looks_and_each_shell_loads_them() {
    let s = Setup::new("completions");
    let bash = s.local(".local/share/bash-completion/completions/git-credential-pat");
    let zsh_dir = s.local(".local/share/zsh/site-functions");
    let fish_dir = s.local(".config/fish/completions");

    // bash-completion missing: the line that sources the file directly.
    let missing = s.w.root.join("no-bash-completion");
    let out = s.install_default(
        &[],
        &base_path(),
        &[(
            "GIT_CREDENTIAL_PAT_BASH_COMPLETION",
            Some(missing.to_str().unwrap()),
        )],
    );
    let all = text(&out.stdout);
    assert!(out.status.success(), "{all}");
    assert_eq!(
        read(&bash),
        read(
            &Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("contrib/completions/git-credential-pat.bash")
        )
    );
    assert!(zsh_dir.join("_git-credential-pat").is_file());
    assert!(fish_dir.join("git-credential-pat.fish").is_file());
    let source_line = format!("    [ -f {0} ] && . {0}", bash.display());
    assert_eq!(
        section(&all, "  bash: "),
        [
            "  bash: bash-completion is not installed, so bash does not load completions on demand.",
            "    Install it (Debian/Ubuntu: apt install bash-completion), or add this line to ~/.bashrc:",
            &source_line,
        ],
        "{all}"
    );
    assert_eq!(
        bash_completion_after(&s, source_line.trim()).trim(),
        "complete -F _git_credential_pat_main git-credential-pat"
    );

    // zsh: the fpath line, before compinit; without it compinit does not find the function.
    let fpath_line = format!("    fpath=({} $fpath)", zsh_dir.display());
    assert_eq!(
        section(&all, "  zsh: "),
        [
            &*format!(
                "  zsh: {} is not in zsh's default fpath; add this line to ~/.zshrc, before compinit:",
                zsh_dir.display()
            ),
            &fpath_line,
        ],
        "{all}"
    );
    assert_eq!(zsh_completion_after(&s, "").trim(), "");
    assert_eq!(
        zsh_completion_after(&s, fpath_line.trim()).trim(),
        "_git-credential-pat"
    );

    // fish: its own default directory, nothing to add.
    assert_eq!(
        section(&all, "  fish: "),
        [&*format!(
            "  fish: {} is in fish's default $fish_complete_path: fish loads it on demand.",
            fish_dir.display()
        )],
        "{all}"
    );
    let fish_path = s.shell(
        "fish",
        &["-c", "printf '%s\\n' $fish_complete_path"],
        &base_path(),
    );
    assert!(
        fish_path.lines().any(|l| Path::new(l) == fish_dir),
        "{fish_path}"
    );
    let offered = fish_completions_after(&s, "true", &s.local(".local/bin"));
    for sub in ["add", "list", "remove", "prune", "import", "doctor"] {
        assert!(
            offered.lines().any(|l| l.split('\t').next() == Some(sub)),
            "fish does not offer {sub}: {offered}"
        );
    }

    // bash-completion installed: it loads the file on demand from its user directory.
    let present = s.w.root.join("bash_completion");
    fs::write(&present, "").unwrap();
    let out = s.install_default(
        &[],
        &base_path(),
        &[(
            "GIT_CREDENTIAL_PAT_BASH_COMPLETION",
            Some(present.to_str().unwrap()),
        )],
    );
    let all = text(&out.stdout);
    assert_eq!(
        section(&all, "  bash: "),
        [&*format!(
            "  bash: bash-completion ({}) loads {} on demand.",
            present.display(),
            bash.display()
        )],
        "{all}"
    );
    let system = Path::new("/usr/share/bash-completion/bash_completion");
    assert!(
        system.is_file(),
        "bash-completion is needed to check that it loads the completion: install bash-completion"
    );
    let loaded = bash_completion_after(
        &s,
        &format!(
            ". {}\nif type _comp_load >/dev/null 2>&1; then _comp_load git-credential-pat; else __load_completion git-credential-pat; fi",
            system.display()
        ),
    );
    assert_eq!(
        loaded.trim(),
        "complete -F _git_credential_pat_main git-credential-pat"
    );

    ok(&s.uninstall());
    for f in [
        bash,
        zsh_dir.join("_git-credential-pat"),
        fish_dir.join("git-credential-pat.fish"),
    ] {
        assert!(!f.exists(), "{} left behind", f.display());
    }
}

#[test]
fn prefix_completions_stay_under_the_prefix_with_the_line_each_shell_needs() {
    let s = Setup::new("prefixcompletions");
    let present = s.w.root.join("bash_completion");
    fs::write(&present, "").unwrap();
    let prefix = format!("--prefix={}", s.prefix.display());
    let out = s.install_default(
        &[&prefix],
        &base_path(),
        &[(
            "GIT_CREDENTIAL_PAT_BASH_COMPLETION",
            Some(present.to_str().unwrap()),
        )],
    );
    let all = text(&out.stdout);
    assert!(out.status.success(), "{all}");
    let bash = s
        .prefix
        .join("share/bash-completion/completions/git-credential-pat");
    let zsh_dir = s.prefix.join("share/zsh/site-functions");
    let fish_dir = s.prefix.join("share/fish/vendor_completions.d");
    assert!(bash.is_file() && zsh_dir.join("_git-credential-pat").is_file());
    assert!(fish_dir.join("git-credential-pat.fish").is_file());
    assert!(!s.local(".config/fish").exists());
    assert!(!s.local(".local/share/bash-completion").exists());

    let source_line = format!("    [ -f {0} ] && . {0}", bash.display());
    assert_eq!(
        section(&all, "  bash: "),
        [
            &*format!(
                "  bash: bash-completion does not look in {}; add this line to ~/.bashrc:",
                bash.parent().unwrap().display()
            ),
            &source_line,
        ],
        "{all}"
    );
    assert_eq!(
        bash_completion_after(&s, source_line.trim()).trim(),
        "complete -F _git_credential_pat_main git-credential-pat"
    );
    let fpath_line = format!("    fpath=({} $fpath)", zsh_dir.display());
    assert_eq!(section(&all, "  zsh: ")[1], fpath_line, "{all}");
    assert_eq!(
        zsh_completion_after(&s, fpath_line.trim()).trim(),
        "_git-credential-pat"
    );
    let fish_line = format!("    set -p fish_complete_path {}", fish_dir.display());
    assert_eq!(
        section(&all, "  fish: "),
        [
            &*format!(
                "  fish: {} is not in fish's default $fish_complete_path; add this line to ~/.config/fish/config.fish:",
                fish_dir.display()
            ),
            &fish_line,
        ],
        "{all}"
    );
    assert!(
        fish_completions_after(&s, fish_line.trim(), &s.bin_dir())
            .lines()
            .any(|l| l.starts_with("doctor\t")),
        "fish does not load it with the printed line"
    );
    // A prefix bash-completion searches (XDG_DATA_DIRS) needs no line.
    let xdg = s.prefix.join("share");
    let out = s.install_default(
        &[&prefix],
        &base_path(),
        &[
            (
                "GIT_CREDENTIAL_PAT_BASH_COMPLETION",
                Some(present.to_str().unwrap()),
            ),
            (
                "XDG_DATA_DIRS",
                Some(&format!("{}:/usr/share", xdg.display())),
            ),
        ],
    );
    let all = text(&out.stdout);
    assert!(
        section(&all, "  bash: ")[0].ends_with("on demand."),
        "{all}"
    );
}

#[test]
fn a_completion_of_the_users_own_is_left_alone() {
    let s = Setup::new("owncompletion");
    let own = s.local(".config/fish/completions/git-credential-pat.fish");
    fs::create_dir_all(own.parent().unwrap()).unwrap();
    fs::write(&own, "# mine\n").unwrap();
    let before = snapshot(&s.w.home, false);
    let out = s.install_default(&[], &base_path(), &[]);
    let all = text(&out.stdout);
    assert!(out.status.success(), "{all}");
    assert!(
        all.contains(&format!(
            "  kept       {} (not installed by install.sh: left alone)",
            own.display()
        )),
        "{all}"
    );
    assert!(!all.contains("  fish: "), "{all}");
    assert_eq!(read(&own), b"# mine\n");
    ok(&s.install_default(&[], &base_path(), &[]));
    assert_eq!(read(&own), b"# mine\n");

    let out = s.install_default(&["--uninstall"], &base_path(), &[]);
    assert!(out.status.success(), "{}", text(&out.stdout));
    assert_eq!(snapshot(&s.w.home, false), before);
}

#[test]
fn the_default_install_twice_changes_nothing_and_uninstall_restores_home_byte_for_byte() {
    let s = Setup::new("defaulttwice");
    fs::write(s.gitconfig(), "[user]\n\tname = Someone\n").unwrap();
    let before = snapshot(&s.w.home, false);
    for shell in ["/bin/bash", "/usr/bin/zsh", "/usr/bin/fish"] {
        let env = [("SHELL", Some(shell))];
        ok(&s.install_default(&[], &base_path(), &env));
        let first = snapshot(&s.w.home, true);
        let out = s.install_default(&[], &base_path(), &env);
        assert!(out.status.success(), "{}", text(&out.stdout));
        assert!(text(&out.stdout).contains("already configured"));
        assert_eq!(
            snapshot(&s.w.home, true),
            first,
            "{shell}: second run changed HOME"
        );

        let out = s.install_default(&["--uninstall"], &base_path(), &env);
        assert!(out.status.success(), "{}", text(&out.stdout));
        let after = snapshot(&s.w.home, false);
        assert_eq!(paths(&after), paths(&before), "{shell}");
        assert_eq!(after, before, "{shell}: HOME not restored byte for byte");
    }
}

#[test]
fn man_and_git_help_find_the_page_with_the_default_prefix() {
    let s = Setup::new("manpath");
    let bin = s.local(".local/bin");
    let page = s.local(".local/share/man/man1/git-credential-pat.1");
    let path = format!("{}:{}", bin.display(), base_path());
    let out = s.install_default(&[], &path, &[]);
    let all = text(&out.stdout);
    assert!(out.status.success(), "{all}");
    assert!(page.is_file());
    assert!(
        all.contains(&format!(
            "Man page: `man git-credential-pat` and `git help credential-pat` find it ({} is in man's search path when {} is on PATH).",
            s.local(".local/share/man").display(),
            bin.display()
        )),
        "{all}"
    );
    // With MANPATH unset, man derives ~/.local/share/man from ~/.local/bin on PATH.
    let found = run(
        s.command("man", &path)
            .env_remove("MANPATH")
            .args(["-w", "git-credential-pat"]),
        b"",
    );
    assert!(
        found.status.success(),
        "man is needed (install man-db): {}",
        text(&found.stderr)
    );
    assert_eq!(text(&found.stdout).trim(), page.display().to_string());
    let shown = run(
        s.command("git", &path)
            .env_remove("MANPATH")
            .env("MANPAGER", "cat")
            .env("PAGER", "cat")
            .env("MANWIDTH", "200")
            .args(["help", "-m", "credential-pat"]),
        b"",
    );
    assert!(
        text(&shown.stdout)
            .contains("git-credential-pat - a git credential helper for personal access tokens"),
        "git help: {}{}",
        text(&shown.stdout),
        text(&shown.stderr)
    );

    // A MANPATH that leaves the directory out: the line that adds it, which then works.
    let out = s.install_default(
        &[],
        &path,
        &[
            ("MANPATH", Some("/usr/share/man")),
            ("SHELL", Some("/bin/bash")),
        ],
    );
    let all = text(&out.stdout);
    let lines = section(&all, "Man page: ");
    let man_dir = s.local(".local/share/man");
    assert_eq!(
        lines,
        [
            &*format!(
                "Man page: man does not find {} (MANPATH is set, and {} is not in its search path).",
                page.display(),
                man_dir.display()
            ),
            "  Add this line to ~/.bashrc (your shell: bash):",
            &format!("    export MANPATH=\"{}:$MANPATH\"", man_dir.display()),
        ],
        "{all}"
    );
    let fix = lines[2];
    let found = run(
        s.command("sh", &path)
            .env("MANPATH", "/usr/share/man")
            .args(["-c", &format!("{}; man -w git-credential-pat", fix.trim())]),
        b"",
    );
    assert_eq!(text(&found.stdout).trim(), page.display().to_string());
}
