use crate::common::{BIN, World, require_git, shell_quote, text};

/// A world whose global git config uses the helper on a file in the world.
fn world(name: &str, extra_args: &str) -> (World, std::path::PathBuf) {
    require_git(2, 46);
    let w = World::new(name);
    let file = w.root.join("creds/credentials");
    w.use_pat(&format!(
        "--backend=file --file={} {extra_args}",
        shell_quote(file.to_str().unwrap())
    ));
    (w, file)
}

fn git_ok(w: &World, args: &[&str], input: &str) -> String {
    let out = w.run_git(args, input);
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// `git credential fill` with prompts disabled: Some(answer) or None when git found nothing.
fn fill(w: &World, input: &str) -> Option<String> {
    let out = w.run_git(&["credential", "fill"], input);
    if out.status.success() {
        Some(text(&out.stdout))
    } else {
        let err = text(&out.stderr);
        assert!(
            err.contains("terminal prompts disabled"),
            "unexpected failure: {err}"
        );
        None
    }
}

#[test]
fn approve_fill_reject_round_trip() {
    let (w, file) = world("roundtrip", "");
    git_ok(
        &w,
        &["credential", "approve"],
        "protocol=https\nhost=example.com\nusername=bob\npassword=tok-1\n",
    );
    assert!(
        std::fs::read_to_string(&file)
            .unwrap()
            .contains("https://example.com / @bob")
    );
    assert_eq!(
        fill(&w, "protocol=https\nhost=example.com\n").unwrap(),
        "protocol=https\nhost=example.com\nusername=bob\npassword=tok-1\n"
    );
    git_ok(
        &w,
        &["credential", "reject"],
        "protocol=https\nhost=example.com\nusername=bob\npassword=tok-1\n",
    );
    assert_eq!(fill(&w, "protocol=https\nhost=example.com\n"), None);
}

#[test]
fn a_url_with_a_user_and_path_reaches_the_right_token() {
    let (w, _) = world("urls", "");
    git_ok(
        &w,
        &["config", "--global", "credential.useHttpPath", "true"],
        "",
    );
    git_ok(
        &w,
        &["credential", "approve"],
        "url=https://octo@github.com/acme\npassword=acme-tok\n",
    );
    git_ok(
        &w,
        &["credential", "approve"],
        "url=https://octo@github.com\npassword=wide-tok\n",
    );
    let got = fill(&w, "url=https://github.com/acme/tool.git\n").unwrap();
    assert!(got.ends_with("username=octo\npassword=acme-tok\n"), "{got}");
    let got = fill(&w, "url=https://github.com/other/x.git\n").unwrap();
    assert!(got.ends_with("username=octo\npassword=wide-tok\n"), "{got}");
    assert_eq!(
        fill(&w, "url=https://someone@github.com/acme/tool.git\n"),
        None,
        "username must match"
    );
}

#[test]
fn a_stale_reject_does_not_erase_a_newer_token() {
    let (w, _) = world("stale", "");
    git_ok(
        &w,
        &["credential", "approve"],
        "protocol=https\nhost=h\nusername=u\npassword=old\n",
    );
    git_ok(
        &w,
        &["credential", "approve"],
        "protocol=https\nhost=h\nusername=u\npassword=new\n",
    );
    git_ok(
        &w,
        &["credential", "reject"],
        "protocol=https\nhost=h\nusername=u\npassword=old\n",
    );
    assert!(
        fill(&w, "protocol=https\nhost=h\n")
            .unwrap()
            .ends_with("password=new\n")
    );
}

#[test]
fn git_carries_expiry_and_refresh_token_through() {
    let (w, _) = world("expiry", "");
    git_ok(
        &w,
        &["credential", "approve"],
        "protocol=https\nhost=h\nusername=u\npassword=t\npassword_expiry_utc=4000000000\noauth_refresh_token=rt\n",
    );
    let got = fill(&w, "protocol=https\nhost=h\n").unwrap();
    assert!(
        got.contains("password_expiry_utc=4000000000\n")
            && got.contains("oauth_refresh_token=rt\n"),
        "{got}"
    );
}

#[test]
fn an_expired_token_makes_git_ask_again() {
    let (w, _) = world("expired", "");
    let soon = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 2;
    git_ok(
        &w,
        &["credential", "approve"],
        &format!("protocol=https\nhost=h\nusername=u\npassword=t\npassword_expiry_utc={soon}\n"),
    );
    assert!(fill(&w, "protocol=https\nhost=h\n").is_some());
    std::thread::sleep(std::time::Duration::from_millis(3100));
    let out = w.run_git(&["credential", "fill"], "protocol=https\nhost=h\n");
    let err = text(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("git-credential-pat: the token for https://u@h expired on"),
        "{err}"
    );
}

#[test]
fn authtype_credentials_round_trip_through_git() {
    let (w, _) = world("authtype", "");
    git_ok(
        &w,
        &["credential", "approve"],
        "capability[]=authtype\nauthtype=Bearer\ncredential=bearer-secret\nprotocol=https\nhost=h\n",
    );
    let got = fill(&w, "capability[]=authtype\nprotocol=https\nhost=h\n").unwrap();
    assert!(
        got.contains("authtype=Bearer\n") && got.contains("credential=bearer-secret\n"),
        "{got}"
    );
    assert_eq!(
        fill(&w, "protocol=https\nhost=h\n"),
        None,
        "never without the capability"
    );
    git_ok(
        &w,
        &["credential", "reject"],
        "capability[]=authtype\nauthtype=Bearer\ncredential=bearer-secret\nprotocol=https\nhost=h\n",
    );
    assert_eq!(
        fill(&w, "capability[]=authtype\nprotocol=https\nhost=h\n"),
        None
    );
}

#[test]
fn git_finds_the_helper_as_pat_on_path() {
    require_git(2, 46);
    let w = World::new("onpath");
    let bin_dir = std::path::Path::new(BIN).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let file = w.root.join("c/credentials");
    w.add_helper(&format!(
        "pat --backend=file --file={}",
        shell_quote(file.to_str().unwrap())
    ));
    let run = |args: &[&str], input: &str| {
        let out = crate::common::run(w.git().env("PATH", &path).args(args), input.as_bytes());
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    run(
        &["credential", "approve"],
        "protocol=https\nhost=h\nusername=u\npassword=via-path\n",
    );
    assert!(
        run(&["credential", "fill"], "protocol=https\nhost=h\n").ends_with("password=via-path\n")
    );
    // `git credential-pat` works for people too.
    let out = crate::common::run(
        w.git()
            .env("PATH", &path)
            .args(["credential-pat", "--version"]),
        b"",
    );
    assert!(
        text(&out.stdout).starts_with("git-credential-pat "),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_helper_error_reaches_the_user_and_git_goes_on() {
    let (w, file) = world("loose", "");
    git_ok(
        &w,
        &["credential", "approve"],
        "protocol=https\nhost=h\nusername=u\npassword=t\n",
    );
    crate::common::set_mode(&file, 0o644);
    let out = w.run_git(&["credential", "fill"], "protocol=https\nhost=h\n");
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!(
            "git-credential-pat: {} is accessible by group or others (mode 0644)",
            file.display()
        )),
        "{err}"
    );
    assert!(!err.contains("password=t") && !text(&out.stdout).contains("password=t"));
}
