use std::path::Path;

use crate::common::{BIN, World, run, text};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_man_page_renders_without_warnings_and_git_help_finds_it_once_installed() {
    let page = repo().join("doc/git-credential-pat.1");
    let out = std::process::Command::new("groff")
        .args(["-ww", "-man", "-Tutf8", "-z"])
        .arg(&page)
        .output()
        .expect("groff is needed to check the man page: install groff-base");
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}",
        text(&out.stderr)
    );
    let w = World::new("manpage");
    let prefix = w.root.join("prefix");
    let out = run(
        w.command(repo().join("install.sh"))
            .arg(format!("--prefix={}", prefix.display()))
            .arg("--no-configure")
            .env("GIT_CREDENTIAL_PAT_BIN", BIN),
        b"",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    // git help treats credential-pat as a command (git-credential-pat(1)) once it is on PATH.
    let path = format!(
        "{}:{}",
        prefix.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = run(
        w.git()
            .args(["help", "-m", "credential-pat"])
            .env("PATH", path)
            .env("MANPATH", prefix.join("share/man"))
            .env("MANPAGER", "cat")
            .env("PAGER", "cat")
            .env("MANWIDTH", "250"),
        b"",
    );
    let shown = text(&out.stdout);
    assert!(
        out.status.success(),
        "man is needed (install man-db): {}",
        text(&out.stderr)
    );
    assert!(
        shown.contains("git-credential-pat - a git credential helper for personal access tokens"),
        "{shown}"
    );
    assert!(shown.contains("--expires-in"), "{shown}");
}

#[test]
fn bash_completion_offers_commands_and_flags() {
    let script = repo().join("contrib/completions/git-credential-pat.bash");
    let check = format!(
        "source '{}'; c() {{ COMP_WORDS=(\"$@\"); COMP_CWORD=$(($# - 1)); _git_credential_pat_main; echo \"${{COMPREPLY[*]}}\"; }}; \
         c git-credential-pat ''; c git-credential-pat pr; c git-credential-pat add --exp; c git-credential-pat list --j; \
         c git-credential-pat --backend ''; c git-credential-pat verify --r; c git-credential-pat rotate --e",
        script.display()
    );
    let out = run(std::process::Command::new("bash").args(["-c", &check]), b"");
    let lines: Vec<String> = text(&out.stdout).lines().map(String::from).collect();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        lines[0].starts_with("add list remove prune import doctor verify rotate --backend="),
        "{lines:?}"
    );
    assert_eq!(
        lines[1..],
        [
            "prune",
            "--expires= --expires-in=",
            "--json",
            "auto keychain file memory",
            "--remove-rejected",
            "--expires="
        ]
    );
}

#[test]
fn zsh_and_fish_completions_parse() {
    let dir = repo().join("contrib/completions");
    let zsh = std::process::Command::new("zsh")
        .arg("-n")
        .arg(dir.join("_git-credential-pat"))
        .output();
    let zsh = zsh.expect("zsh is needed to check the zsh completion: install zsh");
    assert!(zsh.status.success(), "{}", text(&zsh.stderr));
    let fish = std::process::Command::new("fish")
        .arg("--no-execute")
        .arg(dir.join("git-credential-pat.fish"))
        .output();
    let fish = fish.expect("fish is needed to check the fish completion: install fish");
    assert!(fish.status.success(), "{}", text(&fish.stderr));
}
